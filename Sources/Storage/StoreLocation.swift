import Foundation

/// Where the model registry is, parsed once from `--store` (or the environment). The backends open it (module
/// StoreBackends, `openRegistry(create:)`); this type only says which one and where.
public enum StoreLocation: Sendable, Equatable {
  /// A SQLite file (the embedded default).
  case sqlite(path: String)
  /// A PostgreSQL database.
  case postgresql(PostgresAddress)

  /// The location `text` names: a `postgresql://` (or `postgres://`) URL, else a file path.
  /// - Throws: `.invalidArgument` for an empty text or a URL that does not parse.
  public init(parsing text: String, environment: [String: String] = [:]) throws(StoreError) {
    guard !text.isEmpty else {
      throw .invalidArgument("the store location is empty; expected a file path or postgresql://user@host:port/db")
    }
    if text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") {
      self = .postgresql(try PostgresAddress(parsing: text, environment: environment))
    } else {
      self = .sqlite(path: text)
    }
  }

  /// The location for messages (never a password).
  public var description: String {
    switch self {
    case .sqlite(let path): return path
    case .postgresql(let address): return address.description
    }
  }
}

/// A PostgreSQL database and schema to keep the registry in, from
/// `postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?host=SOCKET-DIR&schema=NAME&sslmode=disable]`.
///
/// The password may instead come from `PGPASSWORD`; `host=` (a directory holding the server's Unix socket) replaces
/// the network host, as in libpq. `schema` (default `public`) lets several registries share one database.
public struct PostgresAddress: Sendable, Equatable, CustomStringConvertible {
  public var user: String
  public var password: String?
  /// The network host, or `nil` when `socketDirectory` is set.
  public var host: String?
  public var port: Int
  /// The directory holding the server's socket file `.s.PGSQL.PORT`.
  public var socketDirectory: String?
  public var database: String
  public var schema: String

  public init(
    user: String, password: String? = nil, host: String? = "127.0.0.1", port: Int = 5432,
    socketDirectory: String? = nil, database: String, schema: String = "public"
  ) {
    self.user = user
    self.password = password
    self.host = host
    self.port = port
    self.socketDirectory = socketDirectory
    self.database = database
    self.schema = schema
  }

  /// Parses the URL form above.
  /// - Throws: `.invalidArgument` naming what is wrong (never echoing a password).
  public init(parsing text: String, environment: [String: String] = [:]) throws(StoreError) {
    let usage = "expected postgresql://USER@HOST:PORT/DATABASE"
    guard let components = URLComponents(string: text),
      components.scheme == "postgresql" || components.scheme == "postgres"
    else { throw .invalidArgument("the store URL does not parse; \(usage)") }
    guard let user = components.user.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
      throw .invalidArgument("the store URL names no user; \(usage)")
    }
    let database = String(components.path.drop(while: { $0 == "/" })).removingPercentEncoding ?? ""
    guard !database.isEmpty, !database.contains("/") else {
      throw .invalidArgument("the store URL names no database; \(usage)")
    }
    var socketDirectory: String? = nil
    var schema = "public"
    for item in components.queryItems ?? [] {
      switch item.name {
      case "host":
        guard let value = item.value, value.hasPrefix("/") else {
          throw .invalidArgument(
            "the store URL's host= must be the directory of the server's socket (an absolute path)")
        }
        socketDirectory = value
      case "schema":
        guard let value = item.value, Self.isPlainName(value) else {
          throw .invalidArgument("the store URL's schema= must be letters, digits and _, starting with a letter or _")
        }
        schema = value
      case "sslmode":
        guard item.value == "disable" || item.value == "prefer" || item.value == "allow" else {
          throw .invalidArgument(
            "sslmode=\(item.value ?? "") is not supported; this build connects without TLS (sslmode=disable)")
        }
      default:
        throw .invalidArgument("the store URL has an unknown option '\(item.name)' (known: host, schema, sslmode)")
      }
    }
    if let port = components.port, !(1...65535).contains(port) {
      throw .invalidArgument("the store URL's port \(port) is out of range")
    }
    let host = components.host.flatMap { $0.isEmpty ? nil : $0 }
    guard host != nil || socketDirectory != nil else {
      throw .invalidArgument("the store URL names no host (give HOST or ?host=SOCKET-DIRECTORY); \(usage)")
    }
    self.init(
      user: user,
      password: components.password.flatMap { $0.removingPercentEncoding } ?? environment["PGPASSWORD"],
      host: socketDirectory == nil ? host : nil, port: components.port ?? 5432, socketDirectory: socketDirectory,
      database: database, schema: schema)
  }

  /// A schema name that needs no quoting.
  static func isPlainName(_ text: String) -> Bool {
    guard let first = text.unicodeScalars.first, text.unicodeScalars.count <= 63 else { return false }
    let letters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz_")
    let rest = letters.union(CharacterSet(charactersIn: "0123456789"))
    return letters.contains(first) && text.unicodeScalars.allSatisfy { rest.contains($0) }
  }

  /// The URL without its password, for messages and `models` listings.
  public var description: String {
    let server = host.map { "\($0):\(port)" } ?? (port == 5432 ? "" : ":\(port)")
    var text = "postgresql://\(user)@\(server)/\(database)"
    var options: [String] = []
    if let socketDirectory { options.append("host=\(socketDirectory)") }
    if schema != "public" { options.append("schema=\(schema)") }
    if !options.isEmpty { text += "?" + options.joined(separator: "&") }
    return text
  }

  /// The path of the server's Unix socket when connecting through one.
  public var socketPath: String? { socketDirectory.map { "\($0)/.s.PGSQL.\(port)" } }
}
