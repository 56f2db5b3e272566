import Foundation
import NIOCore
import PostgresNIO
import Storage

/// The PostgreSQL backend of the model registry (`ModelRegistry`): the SQLite store's semantics in a database many
/// servers share.
///
/// - Registration is one transaction: the artifact rows are written first, then the version number is taken from a
///   per-name counter row (`INSERT … ON CONFLICT DO UPDATE … RETURNING`, whose row lock serializes concurrent
///   registrations of one name until their commits) and the version row is inserted, backed by `UNIQUE (name,
///   version)`. A failure or a killed client leaves nothing, and the previous active version stays active.
/// - Readers see committed versions only; a version's parts are read in one repeatable-read snapshot.
/// - Artifact parts are stored in chunks of `chunkBytes` (a `bytea` value holds at most 1 GB).
/// - Promote and rollback take a transaction-scoped advisory lock on the name, so two operators' rollbacks queue
///   rather than undo the same activation twice.
public final class PostgresRegistry: ModelRegistry, @unchecked Sendable {
  /// The database and schema.
  public let address: PostgresAddress
  public var location: String { address.description }
  /// A database holds no file of ours.
  public var files: [String] { [] }
  let session: PostgresSession
  /// The largest piece of a part in one row.
  let chunkBytes: Int

  /// The schema version this build writes; a registry with a newer one is refused.
  static let schemaVersion = 1

  /// Connects to the registry at `address`.
  /// - Parameters:
  ///   - create: create the schema's tables when missing (training); otherwise a database without them is
  ///     `.storeNotFound`.
  ///   - chunkBytes: the largest piece of an artifact part stored in one row (default 4 MiB: registering 256 MiB
  ///     took twice as long in 64 MiB rows; a reader streams a part's rows in one query whatever their size).
  /// - Throws: `.storeNotFound`, `.newerSchema`, `.database` (the server's message), `.unreadable` (authentication).
  public init(address: PostgresAddress, create: Bool, chunkBytes: Int = 4 << 20) throws(StoreError) {
    self.address = address
    self.chunkBytes = min(max(chunkBytes, 1), 512 << 20)
    session = try PostgresSession(address: address)
    try prepareSchema(create: create)
  }

  /// Selects the schema and, when `create`, creates the tables (serialized between clients by an advisory lock).
  private func prepareSchema(create: Bool) throws(StoreError) {
    let schema = address.schema
    let location = location
    try session.withConnection { sql in
      let exists =
        try sql.rows("SELECT to_regclass(\(schema + ".commerceml_schema"))::text AS t").first?.get(
          "t", as: String?.self)
        != nil
      if !exists {
        guard create else { throw StoreError.storeNotFound(path: location) }
        try sql.run("BEGIN")
        do {
          try sql.run("SELECT pg_advisory_xact_lock(hashtext('commerceml.schema'))")
          // Another client may have created the tables while this one waited for the lock: then no DDL at all,
          // whose table locks would only queue behind registrations already running.
          if try sql.rows("SELECT to_regclass(\(schema + ".commerceml_schema"))::text AS t").first?.get(
            "t", as: String?.self) == nil
          {
            try sql.run(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"))
            try sql.run(PostgresQuery(unsafeSQL: "SET LOCAL search_path TO \(schema)"))
            for statement in Self.tables { try sql.run(PostgresQuery(unsafeSQL: statement)) }
            try sql.run(
              PostgresQuery(unsafeSQL: "INSERT INTO commerceml_schema (version) VALUES (\(Self.schemaVersion))"))
          }
          try sql.run("COMMIT")
        } catch {
          _ = try? sql.run("ROLLBACK")
          throw error
        }
      }
      try sql.run(PostgresQuery(unsafeSQL: "SET search_path TO \(schema)"))
      let version = try sql.rows("SELECT max(version) AS v FROM commerceml_schema").first?.get("v", as: Int?.self)
      if let version, version > Self.schemaVersion { throw StoreError.newerSchema(path: location) }
    }
  }

  /// The tables, created together in one transaction.
  static let tables = [
    "CREATE TABLE IF NOT EXISTS commerceml_schema (version INTEGER NOT NULL)",
    """
    CREATE TABLE IF NOT EXISTS model_version (
      id BIGSERIAL PRIMARY KEY,
      name TEXT NOT NULL,
      version INTEGER NOT NULL,
      kind TEXT NOT NULL,
      parameters TEXT NOT NULL,
      metrics TEXT NOT NULL,
      data_bytes BIGINT NOT NULL,
      data_hash TEXT NOT NULL,
      code_version TEXT NOT NULL,
      created_at DOUBLE PRECISION NOT NULL,
      artifact_bytes BIGINT NOT NULL,
      UNIQUE (name, version)
    )
    """,
    "CREATE TABLE IF NOT EXISTS model_counter (name TEXT PRIMARY KEY, last_version INTEGER NOT NULL)",
    """
    CREATE TABLE IF NOT EXISTS model_artifact (
      model_id BIGINT NOT NULL REFERENCES model_version(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
      part TEXT NOT NULL,
      chunk INTEGER NOT NULL,
      data BYTEA NOT NULL,
      PRIMARY KEY (model_id, part, chunk)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS model_part_checksum (
      model_id BIGINT NOT NULL REFERENCES model_version(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
      part TEXT NOT NULL,
      block_bytes INTEGER NOT NULL,
      bytes BIGINT NOT NULL,
      hashes BYTEA NOT NULL,
      PRIMARY KEY (model_id, part)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS model_activation (
      id BIGSERIAL PRIMARY KEY,
      name TEXT NOT NULL,
      version INTEGER NOT NULL,
      activated_at DOUBLE PRECISION NOT NULL,
      reason TEXT NOT NULL,
      rolled_back BOOLEAN NOT NULL DEFAULT FALSE
    )
    """,
    "CREATE INDEX IF NOT EXISTS model_activation_by_name ON model_activation (name, id)",
    """
    CREATE TABLE IF NOT EXISTS checkpoint (
      name TEXT PRIMARY KEY,
      sequence BIGINT NOT NULL,
      created_at DOUBLE PRECISION NOT NULL,
      bytes BIGINT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS checkpoint_chunk (
      name TEXT NOT NULL REFERENCES checkpoint(name) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
      chunk INTEGER NOT NULL,
      data BYTEA NOT NULL,
      PRIMARY KEY (name, chunk)
    )
    """,
  ]

  // MARK: - Writing

  public func register(
    _ model: NewModelVersion, activate: Bool = true, beforeCommit: (() -> Void)? = nil
  ) throws(StoreError) -> ModelVersion {
    try model.checkRegistrable()
    let (parameters, metrics) = try model.encodedDescription()
    let now = Date().timeIntervalSince1970
    let createdAt = model.createdAt?.timeIntervalSince1970 ?? now
    let codeVersion = model.codeVersion ?? CommerceMLVersion.current
    let artifactBytes = model.parts.values.reduce(0) { $0 + $1.count }
    let chunkBytes = chunkBytes
    let name = model.name
    let version: Int = try session.transaction { sql in
      guard let id = try sql.rows("SELECT nextval('model_version_id_seq') AS id").first?.get("id", as: Int64.self)
      else { throw StoreError.database(path: location, message: "no id from the version sequence") }
      // The bytes first, outside any lock: a large upload does not hold up another registration.
      for (part, bytes) in model.parts.sorted(by: { $0.key < $1.key }) {
        var start = 0
        var k = 0
        repeat {
          let end = min(bytes.count, start + chunkBytes)
          let piece = ByteBuffer(bytes: bytes[start..<end])
          try sql.run(
            "INSERT INTO model_artifact (model_id, part, chunk, data) VALUES (\(id), \(part), \(k), \(piece))")
          start = end
          k += 1
        } while start < bytes.count
        let hashes = ByteBuffer(bytes: PartChecksums.hashes(of: bytes))
        try sql.run(
          """
          INSERT INTO model_part_checksum (model_id, part, block_bytes, bytes, hashes)
          VALUES (\(id), \(part), \(PartChecksums.blockBytes), \(bytes.count), \(hashes))
          """)
      }
      // The number last: the counter row stays locked from here to the commit.
      let version: Int
      if let requested = model.requestedVersion {
        try sql.run(
          """
          INSERT INTO model_counter (name, last_version) VALUES (\(name), \(requested))
          ON CONFLICT (name) DO UPDATE SET last_version = GREATEST(model_counter.last_version, \(requested))
          """)
        version = requested
      } else {
        guard
          let next = try sql.rows(
            """
            INSERT INTO model_counter (name, last_version)
            VALUES (\(name), 1 + COALESCE((SELECT max(version) FROM model_version WHERE name = \(name)), 0))
            ON CONFLICT (name) DO UPDATE SET last_version = model_counter.last_version + 1
            RETURNING last_version
            """
          ).first?.get("last_version", as: Int.self)
        else { throw StoreError.database(path: location, message: "no version number from the counter") }
        version = next
      }
      do {
        try sql.run(
          """
          INSERT INTO model_version (id, name, version, kind, parameters, metrics, data_bytes, data_hash, code_version,
            created_at, artifact_bytes)
          VALUES (\(id), \(name), \(version), \(model.kind), \(parameters), \(metrics), \(Int64(model.dataBytes)),
            \(model.dataHash), \(codeVersion), \(createdAt), \(Int64(artifactBytes)))
          """)
      } catch  where PostgresSession.sqlState(error) == "23505" {
        throw StoreError.invalidArgument("model '\(name)' already has a version \(version)")
      }
      if activate {
        try sql.run(
          """
          INSERT INTO model_activation (name, version, activated_at, reason)
          VALUES (\(name), \(version), \(now), 'register')
          """)
      }
      beforeCommit?()
      return version
    }
    return try self.version(name, version)
  }

  @discardableResult
  public func promote(_ name: String, version: Int) throws(StoreError) -> ModelVersion {
    try session.transaction { sql in
      try Self.lockName(sql, name)
      try Self.requireVersion(sql, name, version)
      // Promoting the active version changes nothing (no activation a rollback would undo to itself).
      if try Self.activeRow(sql, name)?.version == version { return }
      try sql.run(
        """
        INSERT INTO model_activation (name, version, activated_at, reason)
        VALUES (\(name), \(version), \(Date().timeIntervalSince1970), 'promote')
        """)
    }
    return try self.version(name, version)
  }

  @discardableResult
  public func rollback(_ name: String) throws(StoreError) -> Rollback {
    let (from, to): (Int, Int) = try session.transaction { sql in
      try Self.lockName(sql, name)
      let rows = try sql.rows(
        "SELECT id, version FROM model_activation WHERE name = \(name) AND NOT rolled_back ORDER BY id DESC")
      let activations = try rows.map { (try $0.get("id", as: Int64.self), try $0.get("version", as: Int.self)) }
      guard let current = activations.first else {
        if try Self.hasModel(sql, name) { throw StoreError.noActiveVersion(name: name) }
        throw StoreError.noModel(name: name)
      }
      // Every activation on top naming the current version is undone: a rollback always changes the version.
      guard let earlier = activations.firstIndex(where: { $0.1 != current.1 }) else {
        throw StoreError.nothingToRollBack(name: name, version: current.1)
      }
      for (id, _) in activations[..<earlier] {
        try sql.run("UPDATE model_activation SET rolled_back = TRUE WHERE id = \(id)")
      }
      return (current.1, activations[earlier].1)
    }
    return Rollback(from: try version(name, from), to: try version(name, to))
  }

  /// Serializes promotions and rollbacks of `name` until the transaction ends.
  private static func lockName(_ sql: Statements, _ name: String) throws {
    try sql.run("SELECT pg_advisory_xact_lock(hashtext(\("commerceml.model." + name)))")
  }

  // MARK: - Reading

  private static let selectVersion = """
    SELECT v.name, v.version, v.kind, v.parameters, v.metrics, v.data_bytes, v.data_hash, v.code_version,
      v.created_at, v.artifact_bytes,
      (SELECT a.version FROM model_activation a WHERE a.name = v.name AND NOT a.rolled_back
       ORDER BY a.id DESC LIMIT 1) AS active_version
    FROM model_version v
    """

  private static func decode(_ row: PostgresRow) throws -> ModelVersion {
    let version = try row.get("version", as: Int.self)
    let description = try ModelVersion.decodeDescription(
      parameters: try row.get("parameters"), metrics: try row.get("metrics"))
    return ModelVersion(
      name: try row.get("name"), version: version, kind: try row.get("kind"), parameters: description.0,
      metrics: description.1, dataBytes: Int(try row.get("data_bytes", as: Int64.self)),
      dataHash: try row.get("data_hash"), codeVersion: try row.get("code_version"),
      createdAt: Date(timeIntervalSince1970: try row.get("created_at")),
      artifactBytes: Int(try row.get("artifact_bytes", as: Int64.self)),
      isActive: try row.get("active_version", as: Int?.self) == version)
  }

  private static func hasModel(_ sql: Statements, _ name: String) throws -> Bool {
    try sql.rows("SELECT EXISTS (SELECT 1 FROM model_version WHERE name = \(name)) AS e").first?.get("e") ?? false
  }

  private static func requireVersion(_ sql: Statements, _ name: String, _ version: Int) throws {
    let exists =
      try sql.rows("SELECT EXISTS (SELECT 1 FROM model_version WHERE name = \(name) AND version = \(version)) AS e")
      .first?.get("e", as: Bool.self) ?? false
    if !exists {
      if try hasModel(sql, name) { throw StoreError.noSuchVersion(name: name, version: version) }
      throw StoreError.noModel(name: name)
    }
  }

  private static func activeRow(_ sql: Statements, _ name: String) throws -> Activation? {
    try sql.rows(
      "SELECT id, version FROM model_activation WHERE name = \(name) AND NOT rolled_back ORDER BY id DESC LIMIT 1"
    ).first.map { Activation(version: try $0.get("version"), id: try $0.get("id")) }
  }

  public func list(name: String? = nil, kindPrefix: String? = nil) throws(StoreError) -> [ModelVersion] {
    try session.withConnection { sql in
      // A filter left out is bound as NULL and matches every row.
      let query: PostgresQuery = """
        \(unescaped: Self.selectVersion)
        WHERE (\(name)::text IS NULL OR v.name = \(name))
          AND (\(kindPrefix)::text IS NULL OR starts_with(v.kind, \(kindPrefix)))
        ORDER BY v.name, v.version DESC
        """
      return try sql.rows(query).map(Self.decode)
    }
  }

  public func version(_ name: String, _ version: Int) throws(StoreError) -> ModelVersion {
    try session.withConnection { sql in
      guard
        let row = try sql.rows("\(unescaped: Self.selectVersion) WHERE v.name = \(name) AND v.version = \(version)")
          .first
      else {
        if try Self.hasModel(sql, name) { throw StoreError.noSuchVersion(name: name, version: version) }
        throw StoreError.noModel(name: name)
      }
      return try Self.decode(row)
    }
  }

  public func active(_ name: String) throws(StoreError) -> ModelVersion {
    try session.transaction(readOnly: true) { sql in
      guard let active = try Self.activeRow(sql, name) else {
        if try Self.hasModel(sql, name) { throw StoreError.noActiveVersion(name: name) }
        throw StoreError.noModel(name: name)
      }
      guard
        let row = try sql.rows(
          "\(unescaped: Self.selectVersion) WHERE v.name = \(name) AND v.version = \(active.version)"
        ).first
      else { throw StoreError.noSuchVersion(name: name, version: active.version) }
      return try Self.decode(row)
    }
  }

  public func activation(_ name: String) throws(StoreError) -> Activation? {
    try session.withConnection { sql in try Self.activeRow(sql, name) }
  }

  /// Calls `body` with a reader of the version's parts, all from one repeatable-read snapshot; each part is read
  /// whole when first asked for and its checksums checked.
  public func withArtifactReader<T>(
    _ name: String, version: Int, _ body: (any ArtifactReader) throws -> T
  ) throws -> T {
    var bodyError: (any Error)? = nil
    let result: T? = try session.transaction(readOnly: true) { sql in
      guard
        let id = try sql.rows("SELECT id FROM model_version WHERE name = \(name) AND version = \(version)").first?
          .get("id", as: Int64.self)
      else {
        if try Self.hasModel(sql, name) { throw StoreError.noSuchVersion(name: name, version: version) }
        throw StoreError.noModel(name: name)
      }
      let reader = try PostgresPartReader(statements: sql, modelID: id, name: name, version: version)
      do {
        return try body(reader)
      } catch {
        bodyError = error
        return nil
      }
    }
    if let bodyError { throw bodyError }
    return result!
  }

  public func checkpoints() -> any CheckpointStore { PostgresCheckpoints(session: session, chunkBytes: chunkBytes) }
}
