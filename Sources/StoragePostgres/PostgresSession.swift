import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Storage

/// One connection to the server, used by one thread at a time: every call takes the lock, sends its statements and
/// waits for their results. Callers are command-line commands and the servers' store work, which runs on Dispatch
/// threads (never on the cooperative pool nor on an event loop, where a wait would stall the loop).
final class PostgresSession: @unchecked Sendable {
  let address: PostgresAddress
  private let connection: PostgresConnection
  private let lock = NSLock()
  private let logger: Logger

  /// Connects and selects the registry's schema.
  init(address: PostgresAddress) throws(StoreError) {
    self.address = address
    var logger = Logger(label: "commerceml.store.postgresql")
    logger.logLevel = .critical
    self.logger = logger
    let configuration: PostgresConnection.Configuration
    if let socket = address.socketPath {
      configuration = .init(
        unixSocketPath: socket, username: address.user, password: address.password, database: address.database)
    } else {
      configuration = .init(
        host: address.host ?? "127.0.0.1", port: address.port, username: address.user, password: address.password,
        database: address.database, tls: .disable)
    }
    do {
      connection = try PostgresConnection.connect(
        on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 1, logger: logger
      ).wait()
    } catch {
      throw Self.storeError(error, address: address, connecting: true)
    }
  }

  deinit {
    _ = try? connection.close().wait()
  }

  /// Runs `body` holding the connection, every statement in it one after the other.
  func withConnection<T>(_ body: (Statements) throws -> T) throws(StoreError) -> T {
    lock.lock()
    defer { lock.unlock() }
    do {
      return try body(Statements(connection: connection, logger: logger))
    } catch let error as StoreError {
      throw error
    } catch {
      throw Self.storeError(error, address: address, connecting: false)
    }
  }

  /// Runs `body` in one transaction (`BEGIN` … `COMMIT`, rolled back when it throws). `readOnly` takes a repeatable
  /// read snapshot, so that every read in `body` sees the same committed state.
  func transaction<T>(readOnly: Bool = false, _ body: (Statements) throws -> T) throws(StoreError) -> T {
    try withConnection { statements in
      try statements.run(readOnly ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN")
      do {
        let result = try body(statements)
        try statements.run("COMMIT")
        return result
      } catch {
        _ = try? statements.run("ROLLBACK")
        throw error
      }
    }
  }

  /// The server's error as a store error: its SQLSTATE's meaning where the store has one, its message otherwise.
  static func storeError(_ error: any Error, address: PostgresAddress, connecting: Bool) -> StoreError {
    let location = address.description
    if let error = error as? StoreError { return error }
    if let psql = error as? PSQLError {
      if let info = psql.serverInfo {
        let message = info[.message] ?? "server error"
        let state = info[.sqlState] ?? ""
        if state == "3D000" { return .storeNotFound(path: location) }  // no such database
        if state.hasPrefix("28") { return .unreadable(path: location, reason: message) }  // authentication
        if state == "42501" { return .cannotWrite(path: location, reason: "permission denied: \(message)") }
        if state == "25006" { return .cannotWrite(path: location, reason: "the server is read-only: \(message)") }
        if state == "53100" { return .cannotWrite(path: location, reason: "the server's disk is full: \(message)") }
        return .database(path: location, message: "\(message) (SQLSTATE \(state))")
      }
      if let underlying = psql.underlying {
        return .database(
          path: location, message: connecting ? "cannot connect: \(underlying)" : "connection failed: \(underlying)")
      }
      return .database(path: location, message: connecting ? "cannot connect: \(psql.code)" : "\(psql.code)")
    }
    return .database(path: location, message: connecting ? "cannot connect: \(error)" : "\(error)")
  }

  /// The SQLSTATE of a server error, if it is one.
  static func sqlState(_ error: any Error) -> String? {
    (error as? PSQLError)?.serverInfo?[.sqlState]
  }
}

/// Statements on a held connection.
struct Statements {
  let connection: PostgresConnection
  let logger: Logger

  /// Runs `query` and returns its rows.
  @discardableResult
  func rows(_ query: PostgresQuery) throws -> [PostgresRow] {
    try connection.query(query, logger: logger).wait().rows
  }

  /// Runs `query`, ignoring any rows; returns the number of rows it changed.
  @discardableResult
  func run(_ query: PostgresQuery) throws -> Int {
    try connection.query(query, logger: logger).wait().metadata.rows ?? 0
  }

  /// What `readChunks` copied: bytes, chunks in sequence, and whether every row was the next chunk and fitted.
  struct ChunkedRead {
    var filled = 0
    var chunks = 0
    var intact = true
  }

  /// Streams the rows of `query` — `(chunk INTEGER, data BYTEA)` ordered by chunk, one stored value in pieces —
  /// into `destination` as they arrive, with one query. A row that is not the next chunk, or does not fit, makes the
  /// read not intact and is not copied.
  func readChunks(_ query: PostgresQuery, into destination: UnsafeMutableRawBufferPointer) throws -> ChunkedRead {
    let sink = ChunkSink(destination)
    _ = try connection.query(query, logger: logger) { row in
      let (chunk, data) = try row.decode((Int32, ByteBuffer).self)
      guard sink.read.intact, Int(chunk) == sink.read.chunks,
        data.readableBytes <= sink.destination.count - sink.read.filled
      else {
        sink.read.intact = false
        return
      }
      data.withUnsafeReadableBytes { piece in
        guard piece.count > 0 else { return }
        UnsafeMutableRawBufferPointer(rebasing: sink.destination[sink.read.filled..<(sink.read.filled + piece.count)])
          .copyMemory(from: piece)
      }
      sink.read.filled += data.readableBytes
      sink.read.chunks += 1
    }.wait()
    return sink.read
  }

  /// Where `readChunks` writes (on the connection's event loop; read after the query's future completes).
  private final class ChunkSink: @unchecked Sendable {
    let destination: UnsafeMutableRawBufferPointer
    var read = ChunkedRead()
    init(_ destination: UnsafeMutableRawBufferPointer) { self.destination = destination }
  }
}

extension PostgresRow {
  /// Column `name` as `T`.
  func get<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
    try makeRandomAccess()[name].decode(T.self)
  }
}
