import Foundation
import GRDB

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
  /// - Parameter beforeCommit: called inside the transaction before the commit; for crash tests.
  public func save(
    _ name: String, sequence: Int, state: [UInt8], beforeCommit: (() -> Void)? = nil
  ) throws(StoreError) {
    try StoreDatabase.wrap(path) {
      try pool.write { db in
        try db.execute(
          sql: """
            INSERT INTO checkpoint (name, sequence, created_at, state) VALUES (?, ?, ?, ?)
            ON CONFLICT (name) DO UPDATE SET sequence = excluded.sequence, created_at = excluded.created_at,
              state = excluded.state
            """, arguments: [name, sequence, Date().timeIntervalSince1970, Data(state)])
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
