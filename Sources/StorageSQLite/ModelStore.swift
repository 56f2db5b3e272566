import Foundation
import GRDB
import GRDBSQLite
import Storage

/// The SQLite backend of the model registry (`ModelRegistry`): every trained model of every app, in one file.
///
/// Each registration adds a new version of a named model, with its parameters, metrics, training-data
/// fingerprint, code version, time, and artifact (in named parts). One version per name is *active*;
/// `promote` makes another active and `rollback` returns to the one active before. Registering is a
/// single transaction: a crash mid-write leaves the previous active version loadable. The file is in
/// WAL mode, so readers never block the writer nor wait for it.
public final class ModelStore: ModelRegistry {
  /// The store file's path.
  public let path: String
  /// The store file's path.
  public var location: String { path }
  /// The store file and the companions SQLite keeps beside it.
  public var files: [String] { Self.files(at: path) }

  /// The store file at `path` and the companions SQLite keeps beside it (write-ahead log, shared memory,
  /// rollback journal).
  public static func files(at path: String) -> [String] {
    [path, path + "-wal", path + "-shm", path + "-journal"]
  }
  /// The open file (opened again after another process changed a file read as immutable).
  let connection: StoreConnection
  /// The pool reading and writing the file now.
  var pool: DatabasePool { connection.pool }
  /// The largest piece of an artifact part kept in one row (SQLite holds at most 1 GB in one value); a larger
  /// part is written as several rows and read back as one.
  let chunkBytes: Int

  /// Continuation rows of a part larger than `chunkBytes` are named `part`, this separator and their index;
  /// part names may not contain it.
  static let chunkSeparator = NewModelVersion.partNameSeparator

  /// Opens the store at `path`.
  /// - Parameters:
  ///   - create: create the file when missing (for training); read-only commands pass `false`
  ///     so that a mistyped path is an error, not a new empty store.
  ///   - chunkBytes: the largest piece of an artifact part stored in one row (default 256 MiB).
  /// - Throws: `.storeNotFound`, `.notAStore`, `.newerSchema`, `.database`.
  public init(path: String, create: Bool, chunkBytes: Int = 256 << 20) throws(StoreError) {
    self.path = path
    self.chunkBytes = min(max(chunkBytes, 1), 900_000_000)
    connection = try StoreConnection(path: path, create: create)
  }

  /// Opens the store at `path` as immutable, as a reading command does when it may not write the store (tests).
  init(immutable path: String) throws(StoreError) {
    self.path = path
    self.chunkBytes = 256 << 20
    connection = try StoreConnection(immutable: path)
  }

  private func wrap<T>(_ body: () throws -> T) throws(StoreError) -> T { try StoreDatabase.wrap(path, body) }

  /// One read transaction; on a store read as immutable, checked afterwards against the file it was opened on (and
  /// done again on the file opened again when another process changed it: `body` must only read).
  private func read<T>(_ body: (Database) throws -> T) throws -> T { try connection.read(body) }

  // MARK: - Writing

  /// Registers a new version of `model.name` in one transaction and, by default, activates it.
  ///
  /// - Parameters:
  ///   - activate: make the new version active (default `true`).
  ///   - beforeCommit: called inside the transaction after every row is written and before the commit;
  ///     for crash tests, which stop the process there.
  /// - Returns: the registered version.
  public func register(
    _ model: NewModelVersion, activate: Bool = true, beforeCommit: (() -> Void)? = nil
  ) throws(StoreError) -> ModelVersion {
    try model.checkRegistrable()
    let (parameters, metrics) = try model.encodedDescription()
    let now = Date().timeIntervalSince1970
    let createdAt = model.createdAt?.timeIntervalSince1970 ?? now
    let codeVersion = model.codeVersion ?? CommerceMLVersion.current
    let artifactBytes = model.parts.values.reduce(0) { $0 + $1.count }
    let version: Int = try wrap {
      try pool.write { db in
        // The write transaction holds SQLite's one writer lock from its first statement, so no other registration
        // runs between this read and the insert; UNIQUE (name, version) backs it.
        let version: Int
        if let requested = model.requestedVersion {
          if try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM model_version WHERE name = ? AND version = ?)",
            arguments: [model.name, requested]) ?? false
          {
            throw StoreError.invalidArgument("model '\(model.name)' already has a version \(requested)")
          }
          version = requested
        } else {
          version =
            (try Int.fetchOne(db, sql: "SELECT MAX(version) FROM model_version WHERE name = ?", arguments: [model.name])
              ?? 0) + 1
        }
        try db.execute(
          sql: """
            INSERT INTO model_version (name, version, kind, parameters, metrics, data_bytes, data_hash,
              code_version, created_at, artifact_bytes)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
          arguments: [
            model.name, version, model.kind, parameters, metrics, model.dataBytes, model.dataHash,
            codeVersion, createdAt, artifactBytes,
          ])
        let id = db.lastInsertedRowID
        for (part, bytes) in model.parts.sorted(by: { $0.key < $1.key }) {
          var start = 0
          var k = 0
          repeat {
            let end = min(bytes.count, start + chunkBytes)
            try Self.insertPiece(
              db, modelID: id, row: k == 0 ? part : part + Self.chunkSeparator + String(k), bytes: bytes,
              range: start..<end)
            start = end
            k += 1
          } while start < bytes.count
          try db.execute(
            sql: "INSERT INTO model_part_checksum (model_id, part, block_bytes, hashes) VALUES (?, ?, ?, ?)",
            arguments: [id, part, PartChecksums.blockBytes, Data(PartChecksums.hashes(of: bytes))])
        }
        if activate {
          try db.execute(
            sql: "INSERT INTO model_activation (name, version, activated_at, reason) VALUES (?, ?, ?, 'register')",
            arguments: [model.name, version, now])
        }
        beforeCommit?()
        return version
      }
    }
    return try self.version(model.name, version)
  }

  /// Inserts `bytes[range]` as artifact row `row` of `modelID`, bound without a copy (SQLITE_STATIC: SQLite reads
  /// the caller's bytes during the step), so that registering a part of hundreds of megabytes holds no second
  /// and third copy of it.
  private static func insertPiece(
    _ db: Database, modelID: Int64, row: String, bytes: [UInt8], range: Range<Int>
  ) throws {
    let raw = RawStatement(db: db)
    try bytes.withUnsafeBytes { all in
      try raw.run("INSERT INTO model_artifact (model_id, part, data) VALUES (?1, ?2, ?3)") { statement in
        try raw.check(sqlite3_bind_int64(statement, 1, modelID))
        try raw.bindText(statement, 2, row)
        try raw.bindBlob(statement, 3, all, range)
      }
    }
  }

  /// Makes `version` the active version of `name`.
  /// - Throws: `.noModel`, `.noSuchVersion`.
  @discardableResult
  public func promote(_ name: String, version: Int) throws(StoreError) -> ModelVersion {
    try wrap {
      try pool.write { db in
        try Self.requireVersion(db, name, version)
        // Promoting the active version changes nothing: no second activation row, which a rollback would
        // otherwise "undo" from the version to itself.
        let active = try Int.fetchOne(
          db, sql: "SELECT version FROM model_activation WHERE name = ? AND rolled_back = 0 ORDER BY id DESC LIMIT 1",
          arguments: [name])
        if active == version { return }
        try db.execute(
          sql: "INSERT INTO model_activation (name, version, activated_at, reason) VALUES (?, ?, ?, 'promote')",
          arguments: [name, version, Date().timeIntervalSince1970])
      }
    }
    return try self.version(name, version)
  }

  /// Undoes the latest activation of `name`: the version active before it becomes active again.
  /// - Returns: the version left and the version now active.
  /// - Throws: `.noModel`, `.noActiveVersion`, `.nothingToRollBack` when there is no earlier activation.
  @discardableResult
  public func rollback(_ name: String) throws(StoreError) -> Rollback {
    let (from, to): (Int, Int) = try wrap {
      try pool.write { db in
        let rows = try Row.fetchAll(
          db, sql: "SELECT id, version FROM model_activation WHERE name = ? AND rolled_back = 0 ORDER BY id DESC",
          arguments: [name])
        guard let current = rows.first else {
          if try Self.hasModel(db, name) { throw StoreError.noActiveVersion(name: name) }
          throw StoreError.noModel(name: name)
        }
        let currentVersion: Int = current["version"]
        // The activations on top that name the current version (a store written before promote was idempotent
        // may hold several in a row) are undone together: a rollback always changes the active version.
        guard let earlier = rows.firstIndex(where: { ($0["version"] as Int) != currentVersion }) else {
          throw StoreError.nothingToRollBack(name: name, version: currentVersion)
        }
        for row in rows[..<earlier] {
          let id: Int64 = row["id"]
          try db.execute(sql: "UPDATE model_activation SET rolled_back = 1 WHERE id = ?", arguments: [id])
        }
        return (currentVersion, rows[earlier]["version"])
      }
    }
    return Rollback(from: try version(name, from), to: try version(name, to))
  }

  // MARK: - Reading

  private static let selectVersion = """
    SELECT v.*, (SELECT a.version FROM model_activation a WHERE a.name = v.name AND a.rolled_back = 0
                 ORDER BY a.id DESC LIMIT 1) AS active_version
    FROM model_version v
    """

  private static func decode(_ row: Row) throws -> ModelVersion {
    let version: Int = row["version"]
    let active: Int? = row["active_version"]
    let description = try ModelVersion.decodeDescription(parameters: row["parameters"], metrics: row["metrics"])
    return ModelVersion(
      name: row["name"], version: version, kind: row["kind"],
      parameters: description.0, metrics: description.1,
      dataBytes: row["data_bytes"], dataHash: row["data_hash"], codeVersion: row["code_version"],
      createdAt: Date(timeIntervalSince1970: row["created_at"]), artifactBytes: row["artifact_bytes"],
      isActive: active == version)
  }

  private static func hasModel(_ db: Database, _ name: String) throws -> Bool {
    try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM model_version WHERE name = ?)", arguments: [name])
      ?? false
  }

  private static func requireVersion(_ db: Database, _ name: String, _ version: Int) throws {
    let exists =
      try Bool.fetchOne(
        db, sql: "SELECT EXISTS (SELECT 1 FROM model_version WHERE name = ? AND version = ?)",
        arguments: [name, version]) ?? false
    if !exists {
      if try hasModel(db, name) { throw StoreError.noSuchVersion(name: name, version: version) }
      throw StoreError.noModel(name: name)
    }
  }

  /// Every version, by name and newest first; only those of `name`, or whose kind starts with
  /// `kindPrefix` (e.g. `recommender.`), when given.
  public func list(name: String? = nil, kindPrefix: String? = nil) throws(StoreError) -> [ModelVersion] {
    try wrap {
      try read { db in
        var conditions: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let name {
          conditions.append("v.name = ?")
          arguments.append(name)
        }
        if let kindPrefix {
          conditions.append("substr(v.kind, 1, ?) = ?")
          arguments.append(kindPrefix.unicodeScalars.count)
          arguments.append(kindPrefix)
        }
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try Row.fetchAll(
          db, sql: Self.selectVersion + whereClause + " ORDER BY v.name, v.version DESC",
          arguments: StatementArguments(arguments)
        ).map(Self.decode)
      }
    }
  }

  /// Version `version` of `name`.
  /// - Throws: `.noModel`, `.noSuchVersion`.
  public func version(_ name: String, _ version: Int) throws(StoreError) -> ModelVersion {
    try wrap {
      try read { db in
        try Self.requireVersion(db, name, version)
        let row = try Row.fetchOne(
          db, sql: Self.selectVersion + " WHERE v.name = ? AND v.version = ?", arguments: [name, version])!
        return try Self.decode(row)
      }
    }
  }

  /// The active version of `name`.
  /// - Throws: `.noModel` when nothing of that name was registered, `.noActiveVersion`.
  public func active(_ name: String) throws(StoreError) -> ModelVersion {
    try wrap {
      try read { db in
        guard
          let version = try Int.fetchOne(
            db, sql: "SELECT version FROM model_activation WHERE name = ? AND rolled_back = 0 ORDER BY id DESC LIMIT 1",
            arguments: [name])
        else {
          if try Self.hasModel(db, name) { throw StoreError.noActiveVersion(name: name) }
          throw StoreError.noModel(name: name)
        }
        let row = try Row.fetchOne(
          db, sql: Self.selectVersion + " WHERE v.name = ? AND v.version = ?", arguments: [name, version])!
        return try Self.decode(row)
      }
    }
  }

  /// The current activation of `name`: one indexed read of `model_activation`.
  public func activation(_ name: String) throws(StoreError) -> Activation? {
    try wrap {
      try read { db in
        try Row.fetchOne(
          db,
          sql: "SELECT id, version FROM model_activation WHERE name = ? AND rolled_back = 0 ORDER BY id DESC LIMIT 1",
          arguments: [name]
        ).map { Activation(version: $0["version"], id: $0["id"]) }
      }
    }
  }

  /// Calls `body` with a reader of byte ranges of this version's parts, all read in one transaction
  /// (a consistent snapshot, even while another process registers or promotes).
  public func withArtifactReader<T>(
    _ name: String, version: Int, _ body: (any ArtifactReader) throws -> T
  ) throws -> T {
    var bodyError: Error? = nil
    let result: T? = try wrap {
      try read { db -> T? in
        bodyError = nil
        try Self.requireVersion(db, name, version)
        guard
          let id = try Int64.fetchOne(
            db, sql: "SELECT id FROM model_version WHERE name = ? AND version = ?", arguments: [name, version])
        else { throw StoreError.noSuchVersion(name: name, version: version) }
        let reader = try SQLitePartReader(db: db, modelID: id, name: name, version: version, path: path)
        defer { reader.close() }
        do {
          return try body(reader)
        } catch {
          // The caller's own errors pass through unchanged.
          bodyError = error
          return nil
        }
      }
    }
    if let bodyError { throw bodyError }
    return result!
  }

  /// The checkpoints of streams, in the same file.
  public func checkpoints() -> any CheckpointStore { StateStore(sharing: self, chunkBytes: chunkBytes) }
}
