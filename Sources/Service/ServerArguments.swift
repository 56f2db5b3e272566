import ArgumentParser

/// The options every `serve` command shares, parsed and checked in one place: `@OptionGroup var server:
/// ServerArguments`, then `try server.options(maxBodyDefault:)`.
public struct ServerArguments: ParsableArguments {
  @Option(name: .long, help: "The address to listen on.") public var host = "127.0.0.1"
  @Option(name: .long, help: "The port (0: any free port, printed once listening).") public var port = 8080
  @Option(name: .customLong("token-file"), help: "Require 'Authorization: Bearer TOKEN' (the file's first line).")
  public var tokenFile: String?
  @Option(
    name: .customLong("max-body"),
    help: "The largest request body, in bytes (default: 8 MiB; recommend serve: 1 MiB).")
  public var maxBody: Int?
  @Option(name: .long, help: "Seconds requests in flight may take to finish on SIGTERM.") public var grace = 10.0
  @Flag(
    name: .customLong("access-log"), inversion: .prefixedNo,
    help: "Log one line per request on standard error (method, path, status, milliseconds, request id).")
  public var accessLog = true

  public init() {}

  public func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535, got \(port)") }
    if let maxBody, maxBody < 1024 {
      throw ValidationError("--max-body must be at least 1024 bytes, got \(maxBody)")
    }
    guard grace >= 0, grace <= 3600 else { throw ValidationError("--grace must be 0 to 3600 seconds, got \(grace)") }
  }

  /// The server's options; the token file is read here.
  /// - Throws: `CommerceError(.usage)` when the token file cannot be read or holds no token.
  public func options(maxBodyDefault: Int = 8 << 20) throws -> ServerOptions {
    var options = ServerOptions()
    options.host = host
    options.port = port
    options.token = try tokenFile.map { try Serve.token(fromFile: $0) }
    options.maxBodyBytes = maxBody ?? maxBodyDefault
    options.grace = grace
    options.accessLog = accessLog
    return options
  }
}
