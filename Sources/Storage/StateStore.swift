import Foundation
import GRDB
import GRDBSQLite

/// A named checkpoint of stream state: the state's bytes, how far the stream had got, and when.
public struct Checkpoint: Equatable, Sendable {
  /// The checkpoint's name (e.g. the fraud model's name).
  public var name: String
  /// A sequence number chosen by the writer, e.g. transactions processed so far.
  public var sequence: Int
  /// When it was written.
  public var createdAt: Date
  /// The serialized state.
  public var state: [UInt8]
}

/// Checkpoints of streaming state in the store file, each written atomically: a reader sees either the
/// previous checkpoint or the new one, never a mix, whatever happens to the writer.
public final class StateStore: Sendable {
  /// The store file's path.
  public let path: String
  let pool: DatabasePool

  /// Opens the store at `path` (created when `create` is true and it is missing).
  public init(path: String, create: Bool) throws(StoreError) {
    self.path = path
    self.pool = try StoreDatabase.open(path: path, create: create)
  }

  /// Opens the state store in the same file as `models`.
  public init(sharing models: ModelStore) {
    self.path = models.path
    self.pool = models.pool
  }

  /// Replaces checkpoint `name` with `state` at `sequence`, in one transaction.
  ///
  /// The bytes are bound without a copy (a snapshot can be tens of megabytes).
  /// - Parameter beforeCommit: called inside the transaction before the commit; for crash tests.
  public func save(
    _ name: String, sequence: Int, state: [UInt8], beforeCommit: (() -> Void)? = nil
  ) throws(StoreError) {
    try StoreDatabase.wrap(path) {
      try pool.write { db in
        let connection = db.sqliteConnection
        func check(_ rc: Int32, _ expected: Int32 = SQLITE_OK) throws {
          guard rc == expected else {
            throw DatabaseError(
              resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(connection)))
          }
        }
        var statement: OpaquePointer? = nil
        try check(
          sqlite3_prepare_v2(
            connection,
            """
            INSERT INTO checkpoint (name, sequence, created_at, state) VALUES (?1, ?2, ?3, ?4)
            ON CONFLICT (name) DO UPDATE SET sequence = excluded.sequence, created_at = excluded.created_at,
              state = excluded.state
            """, -1, &statement, nil))
        defer { sqlite3_finalize(statement) }
        try check(sqlite3_bind_text(statement, 1, name, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self)))
        try check(sqlite3_bind_int64(statement, 2, Int64(sequence)))
        try check(sqlite3_bind_double(statement, 3, Date().timeIntervalSince1970))
        try state.withUnsafeBytes { bytes in
          if let base = bytes.baseAddress, bytes.count > 0 {
            // SQLITE_STATIC (no destructor): SQLite reads the caller's bytes during the step, without a copy.
            try check(sqlite3_bind_blob64(statement, 4, base, sqlite3_uint64(bytes.count), nil))
          } else {
            try check(sqlite3_bind_zeroblob(statement, 4, 0))
          }
          try check(sqlite3_step(statement), SQLITE_DONE)
        }
        beforeCommit?()
      }
    }
  }

  /// The latest checkpoint `name`, or `nil` when none was saved.
  public func load(_ name: String) throws(StoreError) -> Checkpoint? {
    try StoreDatabase.wrap(path) {
      try pool.read { db in
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM checkpoint WHERE name = ?", arguments: [name])
        else { return nil }
        let data: Data = row["state"]
        return Checkpoint(
          name: row["name"], sequence: row["sequence"], createdAt: Date(timeIntervalSince1970: row["created_at"]),
          state: [UInt8](data))
      }
    }
  }

  /// Deletes checkpoint `name`; returns whether there was one.
  @discardableResult
  public func delete(_ name: String) throws(StoreError) -> Bool {
    try StoreDatabase.wrap(path) {
      try pool.write { db in
        try db.execute(sql: "DELETE FROM checkpoint WHERE name = ?", arguments: [name])
        return db.changesCount > 0
      }
    }
  }
}
