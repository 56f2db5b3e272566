import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Modeling
import NIOCore
import ServiceLifecycle
import Storage
import Synchronization
import TabularIO

/// How a server runs: where it listens, who may call it, and its limits.
public struct ServerOptions: Sendable {
  /// The address to bind (loopback unless told otherwise).
  public var host = "127.0.0.1"
  /// The port; 0 picks a free one (printed once listening).
  public var port = 8080
  /// When set, every `/v1` and `/v2` route except health needs `Authorization: Bearer TOKEN`.
  public var token: String? = nil
  /// Bodies above this many bytes get 413.
  public var maxBodyBytes = 1 << 20
  /// Seconds requests in flight may take to finish after SIGTERM or SIGINT.
  public var grace: Double = 10
  /// Seconds between looks at the store's activation stamp.
  public var pollInterval: Double = 0.25
  /// Seconds a connection may stay idle (a slow client included) before it is closed.
  public var idleTimeout: Double = 30
  /// One line per request on the logger (method, path, status, milliseconds, request id).
  public var accessLog = true

  public init() {}
}

/// A request's context: Hummingbird's core storage and the request id (kept from `X-Request-Id` or made).
public struct ServiceContext: RequestContext {
  public var coreContext: CoreRequestContextStorage
  public var requestID = ""

  public init(source: ApplicationRequestContextSource) {
    coreContext = .init(source: source)
  }
}

/// An error answered as `{"error": "..."}` with its status: the message never holds a file path or a trace.
public struct ServiceError: Error, Sendable {
  public var status: HTTPResponse.Status
  public var message: String
  public var headers: HTTPFields = [:]

  public init(_ status: HTTPResponse.Status, _ message: String) {
    self.status = status
    self.message = message
  }

  /// A domain error as the HTTP client is told it: usage and data errors are the caller's (400), an unknown id is
  /// 404, a damaged model is the server's (500, without the store's location).
  static func from(_ error: any Error) -> ServiceError {
    switch error {
    case let e as ServiceError: return e
    case let e as CommerceError:
      switch e.kind {
      case .usage, .data: return ServiceError(.badRequest, e.description)
      case .notFound: return ServiceError(.notFound, e.description)
      case .noModel: return ServiceError(.serviceUnavailable, "no model is loaded")
      case .damaged: return ServiceError(.internalServerError, e.description)
      case .unavailable: return ServiceError(.serviceUnavailable, e.description)
      }
    case let e as HTTPError:
      return ServiceError(e.status, e.body ?? e.status.reasonPhrase)
    case is NIOTooManyBytesError:
      return ServiceError(.contentTooLarge, "the body is larger than the server's limit")
    case let e as StoreError:
      if case .noSuchVersion(let name, let version) = e {
        return ServiceError(.notFound, "model '\(name)' has no version \(version)")
      }
      return ServiceError(.internalServerError, "the model store could not be read")
    case let e as DecodingError:
      return ServiceError(.badRequest, JSONBody.describe(e))
    default:
      return ServiceError(.internalServerError, "the request failed")
    }
  }

  struct Body: Encodable { var error: String }

  func response(requestID: String) -> Response {
    var headers = self.headers
    headers[.contentType] = "application/json"
    headers[AccessMiddleware.requestIDField] = requestID
    let text = (try? JSONContract.text(Body(error: message), pretty: false)) ?? "{\"error\":\"the request failed\"}"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
  }
}

/// JSON in and out through the one contract.
public enum JSONBody {
  /// `value` as a JSON response, written by the value itself (the contract's bytes, without an encoder).
  static func response<T: JSONWritable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
    var writer = JSONWriter(capacity: 1024)
    value.writeJSON(to: &writer)
    return Response(
      status: status, headers: [.contentType: "application/json"],
      body: .init(byteBuffer: ByteBuffer(bytes: writer.finish())))
  }

  /// `value` as a JSON response.
  @_disfavoredOverload
  static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
    let data = try JSONContract.encoder(pretty: false).encode(value)
    return Response(
      status: status, headers: [.contentType: "application/json"],
      body: .init(byteBuffer: ByteBuffer(bytes: data)))
  }

  /// The request's body, at most `limit` bytes (413 above it).
  static func bytes(_ request: Request, limit: Int) async throws -> ByteBuffer {
    if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
      throw ServiceError(.contentTooLarge, "the body has \(length) bytes, above the server's limit of \(limit)")
    }
    var request = request
    return try await request.collectBody(upTo: limit)
  }

  /// The body decoded as `T`; a malformed body or a wrong type is 400 naming the field.
  static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
    try decode(type, from: try await bytes(request, limit: limit))
  }

  /// A body's bytes decoded as `T`, as `decode(_:from:limit:)` does.
  static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
    guard buffer.readableBytes > 0 else {
      throw ServiceError(.badRequest, "the body is empty; a JSON object was expected")
    }
    do {
      return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
    } catch let error as DecodingError {
      throw ServiceError(.badRequest, describe(error))
    }
  }

  /// A decoding error in the client's terms: the field and what was wrong.
  static func describe(_ error: DecodingError) -> String {
    func path(_ codingPath: [any CodingKey]) -> String {
      let p = codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
      return p.isEmpty ? "the body" : "'\(p.hasPrefix(".") ? String(p.dropFirst()) : p)'"
    }
    switch error {
    case .typeMismatch(let type, let c): return "\(path(c.codingPath)): expected \(typeName(type))"
    case .valueNotFound(let type, let c): return "\(path(c.codingPath)): expected \(typeName(type)), found null"
    case .keyNotFound(let key, let c): return "\(path(c.codingPath + [key])) is required"
    case .dataCorrupted(let c):
      return c.codingPath.isEmpty ? "the body is not valid JSON" : "\(path(c.codingPath)): \(c.debugDescription)"
    @unknown default: return "the body could not be read"
    }
  }

  static func typeName(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: "a string"
    case is Int.Type: "an integer"
    case is Double.Type, is Float.Type: "a number"
    case is Bool.Type: "true or false"
    default: "\(type)".hasPrefix("Array") ? "an array" : "an object"
    }
  }
}

/// Request ids, the access log line, metrics by route pattern, and every error as JSON.
struct AccessMiddleware: RouterMiddleware {
  typealias Context = ServiceContext
  let metrics: ServiceMetrics
  let logger: Logger
  var accessLog = true
  let ids = RequestIDs()
  static let requestIDField = HTTPField.Name("X-Request-Id")!

  func handle(
    _ request: Request, context: ServiceContext, next: (Request, ServiceContext) async throws -> Response
  ) async throws -> Response {
    let started = ContinuousClock.now
    var context = context
    let given = request.headers[Self.requestIDField]
    context.requestID =
      given.flatMap { $0.utf8.count <= 128 && $0.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F } ? $0 : nil } ?? ids.next()
    var response: Response
    do {
      response = try await next(request, context)
      response.headers[Self.requestIDField] = context.requestID
    } catch {
      response = ServiceError.from(error).response(requestID: context.requestID)
    }
    let duration = ContinuousClock.now - started
    // The route's pattern, never the raw path (a client cannot mint new series); Hummingbird names a path that
    // matched no route "NotFound".
    let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
    metrics.request(route: route, method: request.method.rawValue, status: response.status.code, duration: duration)
    if accessLog {
      logger.info(
        "\(request.method.rawValue) \(request.uri.path) \(response.status.code) \(millisecondsText(duration)) ms id=\(context.requestID)"
      )
    }
    return response
  }
}

/// `Authorization: Bearer TOKEN` on every route below it, compared in constant time; 401 otherwise. The token is
/// never logged or echoed.
struct BearerMiddleware: RouterMiddleware {
  typealias Context = ServiceContext
  let token: [UInt8]

  func handle(
    _ request: Request, context: ServiceContext, next: (Request, ServiceContext) async throws -> Response
  ) async throws -> Response {
    let header = request.headers[.authorization] ?? ""
    let given = header.hasPrefix("Bearer ") ? Array(header.utf8.dropFirst(7)) : []
    guard Self.same(given, token) else {
      var error = ServiceError(.unauthorized, "this route needs 'Authorization: Bearer TOKEN' with the server's token")
      error.headers[.wwwAuthenticate] = "Bearer"
      throw error
    }
    return try await next(request, context)
  }

  /// Whether `a` equals `b`, in time that depends on their lengths only.
  static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
    for i in 0..<max(a.count, b.count) {
      difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
    }
    return difference == 0 && a.count == b.count
  }
}

/// Whether the server is draining (readiness false once SIGTERM or SIGINT arrived).
final class Readiness: Sendable {
  private let draining = Atomic(false)
  func drain() { draining.store(true, ordering: .relaxed) }
  var isDraining: Bool { draining.load(ordering: .relaxed) }
}

/// Polls the activation stamp every `interval` seconds (the store read off the cooperative pool) until the
/// server shuts down; on graceful shutdown, readiness turns false first.
struct ReloadService: ServiceLifecycle.Service {
  let refresh: @Sendable () -> Void
  let interval: Double
  let readiness: Readiness

  func run() async throws {
    await withGracefulShutdownHandler {
      while !Task.isCancelled && !Task.isShuttingDownGracefully {
        try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
        if Task.isShuttingDownGracefully { break }
        _ = try? await offloaded(refresh)
      }
    } onGracefulShutdown: {
      readiness.drain()
    }
  }
}

/// Registers `handlers` (by method) on `path`, and 405 with `Allow` for the other methods.
func route(
  _ router: some RouterMethods<ServiceContext>, _ path: RouterPath,
  _ handlers: [HTTPRequest.Method: @Sendable (Request, ServiceContext) async throws -> Response]
) {
  let allowed = handlers.keys.map(\.rawValue).sorted().joined(separator: ", ")
  for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch, .head, .options] {
    if let handler = handlers[method] {
      router.on(path, method: method) { request, context in try await handler(request, context) }
    } else {
      router.on(path, method: method) { _, _ -> Response in
        var error = ServiceError(.methodNotAllowed, "this route answers \(allowed)")
        error.headers[.allow] = allowed
        throw error
      }
    }
  }
}
