import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Modeling
import NIOCore
import ServiceLifecycle
import Storage

/// The routes every CommerceML server answers, and running one: `/healthz`, `/readyz`, `/metrics`, `/v1/model`, the
/// app's own `/v1` routes behind the bearer token when one is set, hot reload of the active version, and graceful
/// shutdown on SIGTERM or SIGINT.
public struct CommerceServer<Loaded: Sendable>: Sendable {
  public let options: ServerOptions
  public let model: HotModel<Loaded>
  public let metrics: ServiceMetrics
  let readiness = Readiness()
  let logger: Logger
  /// Adds the app's routes to the authenticated `/v1` group.
  let v1: @Sendable (RouterGroup<ServiceContext>) -> Void
  /// The model's Open Inference Protocol v2 face, if it has one.
  let v2: V2Model<Loaded>?
  /// The OpenAPI document served at `/openapi.json`.
  let openAPI: String?

  public init(
    options: ServerOptions, model: HotModel<Loaded>, metrics: ServiceMetrics, logger: Logger,
    v2: V2Model<Loaded>? = nil, openAPI: String? = nil, v1: @escaping @Sendable (RouterGroup<ServiceContext>) -> Void
  ) {
    self.options = options
    self.model = model
    self.metrics = metrics
    self.logger = logger
    self.v2 = v2
    self.openAPI = openAPI
    self.v1 = v1
  }

  /// The router: the same one the tests drive (`app.test(.router)`) and the server runs.
  public func router() -> Router<ServiceContext> {
    let router = Router(context: ServiceContext.self)
    router.add(middleware: AccessMiddleware(metrics: metrics, logger: logger, accessLog: options.accessLog))
    let model = self.model
    let readiness = self.readiness
    let metrics = self.metrics
    route(router, "/healthz", [.get: { _, _ in try JSONBody.response(Health(status: "live")) }])
    route(
      router, "/readyz",
      [
        .get: { _, _ in
          if readiness.isDraining { throw ServiceError(.serviceUnavailable, "the server is shutting down") }
          guard let now = model.current else { throw ServiceError(.serviceUnavailable, "no model is loaded yet") }
          return try JSONBody.response(Health(status: "ready", model: now.version.reference))
        }
      ])
    route(
      router, "/metrics",
      [
        .get: { _, _ in
          Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: ByteBuffer(string: metrics.text())))
        }
      ])
    if let document = openAPI {
      route(
        router, "/openapi.json",
        [
          .get: { _, _ in
            Response(
              status: .ok, headers: [.contentType: "application/json"],
              body: .init(byteBuffer: ByteBuffer(string: document)))
          }
        ])
    }
    let v1 = router.group("v1")
    if let token = options.token { v1.add(middleware: BearerMiddleware(token: Array(token.utf8))) }
    route(
      v1, "model",
      [
        .get: { _, _ in
          guard let now = model.current else { throw ServiceError(.serviceUnavailable, "no model is loaded yet") }
          return try JSONBody.response(ModelDescription(now.version))
        }
      ])
    self.v1(v1)
    if let v2 {
      let guarded = router.group()
      if let token = options.token { guarded.add(middleware: BearerMiddleware(token: Array(token.utf8))) }
      V2.add(
        open: router, guarded: guarded, model: model, v2: v2, readiness: readiness, limit: options.maxBodyBytes)
    }
    return router
  }

  struct Health: Encodable {
    var status: String
    var model: ModelReference? = nil
  }

  /// Loads the active version (failing when none loads), then serves until SIGTERM or SIGINT: readiness turns
  /// false, new connections are refused, requests in flight finish within `grace` seconds. `onListening` gets the
  /// bound port (the one picked for port 0).
  public func run(onListening: @escaping @Sendable (Int) -> Void) async throws {
    let model = self.model
    _ = try await offloaded { model.refresh() }
    guard model.current != nil else {
      throw CommerceError(
        .noModel, "model '\(model.name)' has no active version that loads; train or promote one first")
    }
    let app = Application(
      router: router(),
      server: .http1(configuration: .init(idleTimeout: .seconds(Int64(max(1, options.idleTimeout))))),
      configuration: .init(address: .hostname(options.host, port: options.port), serverName: "CommerceML"),
      onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
      logger: logger)
    let reload = ReloadService(refresh: { model.refresh() }, interval: options.pollInterval, readiness: readiness)
    var configuration = ServiceGroupConfiguration(
      services: [.init(service: reload), .init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint],
      logger: logger)
    configuration.maximumGracefulShutdownDuration = .milliseconds(Int64(options.grace * 1000))
    do {
      try await ServiceGroup(configuration: configuration).run()
    } catch {
      throw Self.listenFailure(error, host: options.host, port: options.port) ?? error
    }
  }

  /// A failure to listen on `host`:`port` said for what it is, with the remedy (`nil` for any other error).
  static func listenFailure(_ error: any Error, host: String, port: Int) -> CommerceError? {
    let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    if error is SocketAddressError.UnknownHost {
      return CommerceError(
        .usage, "cannot listen on \(address): '\(host)' is not an address or a name this machine resolves (--host)")
    }
    guard let e = error as? IOError else { return nil }
    switch e.errnoCode {
    case EADDRINUSE:
      return CommerceError(
        .unavailable,
        "cannot listen on \(address): the address is in use (another server on that port?); stop it, or choose another --port (0 picks a free one)"
      )
    case EADDRNOTAVAIL:
      return CommerceError(
        .unavailable, "cannot listen on \(address): the address is not one of this machine's (--host)")
    case EACCES:
      return CommerceError(
        .unavailable,
        "cannot listen on \(address): permission denied (ports below 1024 need privileges); choose a --port of 1024 or more"
      )
    default:
      return nil
    }
  }
}
