import Foundation
import GRDB

#if canImport(Glibc)
  import Glibc
#endif

/// Opens (and when asked creates) the store's SQLite file: WAL mode, a busy timeout, migrations.
enum StoreDatabase {
  static func migrator() -> DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1: models, artifacts, activations, checkpoints") { db in
      try db.execute(
        sql: """
          CREATE TABLE model_version (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            version INTEGER NOT NULL,
            kind TEXT NOT NULL,
            parameters TEXT NOT NULL,
            metrics TEXT NOT NULL,
            data_bytes INTEGER NOT NULL,
            data_hash TEXT NOT NULL,
            code_version TEXT NOT NULL,
            created_at REAL NOT NULL,
            artifact_bytes INTEGER NOT NULL,
            UNIQUE (name, version)
          );
          CREATE TABLE model_artifact (
            model_id INTEGER NOT NULL REFERENCES model_version(id) ON DELETE CASCADE,
            part TEXT NOT NULL,
            data BLOB NOT NULL,
            UNIQUE (model_id, part)
          );
          CREATE TABLE model_activation (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            version INTEGER NOT NULL,
            activated_at REAL NOT NULL,
            reason TEXT NOT NULL,
            rolled_back INTEGER NOT NULL DEFAULT 0
          );
          CREATE INDEX model_activation_by_name ON model_activation (name, id);
          CREATE TABLE checkpoint (
            name TEXT PRIMARY KEY,
            sequence INTEGER NOT NULL,
            created_at REAL NOT NULL,
            state BLOB NOT NULL
          );
          """)
    }
    migrator.registerMigration("v2: checkpoint chunks") { db in
      // SQLite holds at most 1 GB in one value: a larger checkpoint continues in chunks, in order.
      try db.execute(
        sql: """
          CREATE TABLE checkpoint_chunk (
            name TEXT NOT NULL REFERENCES checkpoint(name) ON DELETE CASCADE,
            chunk INTEGER NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (name, chunk)
          );
          """)
    }
    return migrator
  }

  /// Opens the store at `path`.
  ///
  /// Opening is serialized between processes by an exclusive `flock` on the store's directory for the time it
  /// takes to create the file, set its page size and WAL mode and run its migrations: two trainings started
  /// together on a store that does not exist yet both succeed, one creating it and the other waiting for it.
  /// - Parameter create: create the file when missing (training); otherwise a missing file is `.storeNotFound`
  ///   and an empty (0-byte) file `.notAStore`, never silently made a store.
  static func open(path: String, create: Bool) throws(StoreError) -> DatabasePool {
    var isDirectory: ObjCBool = false
    let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
    if isDirectory.boolValue { throw .notAStore(path: path, reason: "it is a directory") }
    if !exists && !create { throw .storeNotFound(path: path) }
    // Serialize opening with other processes (and threads) by an exclusive flock on the store's directory. Not
    // on the store file itself: closing any descriptor of that file would drop the POSIX locks SQLite holds on
    // it in this process.
    let directory = (path as NSString).deletingLastPathComponent
    let lockFD = Glibc.open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if lockFD >= 0 {
      while flock(lockFD, LOCK_EX) != 0 && errno == EINTR {}
    }
    defer {
      if lockFD >= 0 {
        flock(lockFD, LOCK_UN)
        close(lockFD)
      }
    }
    if exists && !create {
      var st = stat()
      if stat(path, &st) == 0 && st.st_size == 0 { throw .notAStore(path: path, reason: "the file is empty") }
    }
    var config = Configuration()
    config.busyMode = .timeout(30)
    config.foreignKeysEnabled = true
    // 64 KiB pages for a new store (a no-op for an existing one): model artifacts and stream checkpoints are
    // blobs of megabytes, which SQLite reads and writes page by page.
    // A command that only reads opens a store it may not write read-only: serving needs no write access.
    let readOnly = !create && access(path, W_OK) != 0
    config.readonly = readOnly
    if !readOnly { config.prepareDatabase { db in try db.execute(sql: "PRAGMA page_size = 65536") } }
    let migrator = migrator()
    return try wrap(path) {
      let pool = try DatabasePool(path: path, configuration: config)
      let superseded = try pool.read { db in try migrator.hasBeenSuperseded(db) }
      if superseded { throw StoreError.newerSchema(path: path) }
      let current = try pool.read { db in try migrator.hasCompletedMigrations(db) }
      if !current {
        let foreign = try pool.read { db -> Bool in
          let tables = try String.fetchAll(
            db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
          return !tables.isEmpty && !tables.contains("grdb_migrations")
        }
        if foreign { throw StoreError.notAStore(path: path, reason: "it holds other tables") }
        if readOnly {
          throw StoreError.database(
            path: path, message: "the store needs upgrading to this version's schema, and this user cannot write it")
        }
        try migrator.migrate(pool)
      }
      return pool
    }
  }

  /// Runs `body`, turning GRDB's errors into `StoreError`s that name the file.
  static func wrap<T>(_ path: String, _ body: () throws -> T) throws(StoreError) -> T {
    do {
      return try body()
    } catch let error as StoreError {
      throw error
    } catch let error as DatabaseError {
      switch error.resultCode {
      case .SQLITE_NOTADB: throw .notAStore(path: path, reason: "the file is not a SQLite database")
      case .SQLITE_CORRUPT: throw .notAStore(path: path, reason: "the database is corrupt")
      case .SQLITE_READONLY: throw .database(path: path, message: "the store is read-only")
      case .SQLITE_CANTOPEN: throw .database(path: path, message: "cannot open the store file")
      case .SQLITE_BUSY: throw .database(path: path, message: "the store is busy (locked by another process)")
      case .SQLITE_FULL: throw .database(path: path, message: "the disk is full")
      default: throw .database(path: path, message: error.message ?? "\(error)")
      }
    } catch {
      throw .database(path: path, message: "\(error)")
    }
  }
}
