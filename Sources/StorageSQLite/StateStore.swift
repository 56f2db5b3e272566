import Foundation
import GRDB
import GRDBSQLite
import Storage

/// Checkpoints of streaming state in the store file, each written atomically: a reader sees either the
/// previous checkpoint or the new one, never a mix, whatever happens to the writer.
public final class StateStore: CheckpointStore {
  /// The store file's path.
  public let path: String
  /// The open file (shared with the `ModelStore` of the same file).
  let connection: StoreConnection
  var pool: DatabasePool { connection.pool }
  /// A checkpoint is stored in pieces of at most this many bytes (SQLite holds at most 1 GB in one value).
  public let chunkBytes: Int

  /// Opens the store at `path` (created when `create` is true and it is missing).
  public init(path: String, create: Bool, chunkBytes: Int = 256 << 20) throws(StoreError) {
    self.path = path
    connection = try StoreConnection(path: path, create: create)
    self.chunkBytes = max(chunkBytes, 1)
  }

  /// Opens the state store in the same file as `models`.
  init(sharing models: ModelStore, chunkBytes: Int = 256 << 20) {
    self.path = models.path
    self.connection = models.connection
    self.chunkBytes = max(chunkBytes, 1)
  }

  /// Replaces checkpoint `name` with `state` at `sequence`, in one transaction.
  ///
  /// The bytes are bound without a copy (a snapshot can be tens of megabytes), in pieces of `chunkBytes`.
  /// - Parameter beforeCommit: called inside the transaction before the commit; for crash tests.
  public func save(
    _ name: String, sequence: Int, state: [UInt8], beforeCommit: (() -> Void)? = nil
  ) throws(StoreError) {
    try StoreDatabase.wrap(path) {
      try pool.write { db in
        let raw = RawStatement(db: db)
        try state.withUnsafeBytes { bytes in
          /// Piece `k` of the state, bound without a copy.
          func bindPiece(_ statement: OpaquePointer?, _ index: Int32, _ k: Int) throws {
            let start = k * chunkBytes
            try raw.bindBlob(statement, index, bytes, start..<min(bytes.count, start + chunkBytes))
          }
          try raw.run(
            """
            INSERT INTO checkpoint (name, sequence, created_at, state) VALUES (?1, ?2, ?3, ?4)
            ON CONFLICT (name) DO UPDATE SET sequence = excluded.sequence, created_at = excluded.created_at,
              state = excluded.state
            """
          ) { statement in
            try raw.bindText(statement, 1, name)
            try raw.check(sqlite3_bind_int64(statement, 2, Int64(sequence)))
            try raw.check(sqlite3_bind_double(statement, 3, Date().timeIntervalSince1970))
            try bindPiece(statement, 4, 0)
          }
          try raw.run("DELETE FROM checkpoint_chunk WHERE name = ?1") { statement in
            try raw.bindText(statement, 1, name)
          }
          var k = 1
          while k * chunkBytes < bytes.count {
            try raw.run("INSERT INTO checkpoint_chunk (name, chunk, data) VALUES (?1, ?2, ?3)") { statement in
              try raw.bindText(statement, 1, name)
              try raw.check(sqlite3_bind_int64(statement, 2, Int64(k)))
              try bindPiece(statement, 3, k)
            }
            k += 1
          }
        }
        beforeCommit?()
      }
    }
  }

  /// The latest checkpoint `name`, or `nil` when none was saved.
  public func load(_ name: String) throws(StoreError) -> Checkpoint? {
    try StoreDatabase.wrap(path) {
      try connection.read { db in
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM checkpoint WHERE name = ?", arguments: [name])
        else { return nil }
        let first: Data = row["state"]
        var state = [UInt8](first)
        let rest = try Data.fetchCursor(
          db, sql: "SELECT data FROM checkpoint_chunk WHERE name = ? ORDER BY chunk", arguments: [name])
        while let piece = try rest.next() { state.append(contentsOf: piece) }
        return Checkpoint(
          name: row["name"], sequence: row["sequence"], createdAt: Date(timeIntervalSince1970: row["created_at"]),
          state: state)
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
