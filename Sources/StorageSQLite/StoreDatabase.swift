import Foundation
import GRDB
import Storage

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
    migrator.registerMigration("v3: part checksums") { db in
      // XXH64 of each block of a part's bytes, computed at registration and checked as the part is read.
      try db.execute(
        sql: """
          CREATE TABLE model_part_checksum (
            model_id INTEGER NOT NULL REFERENCES model_version(id) ON DELETE CASCADE,
            part TEXT NOT NULL,
            block_bytes INTEGER NOT NULL,
            hashes BLOB NOT NULL,
            UNIQUE (model_id, part)
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
  ///
  /// A command that only reads can read any store it can read: one it may not write (a read-only file, a
  /// directory it cannot write, a read-only mount) or one on a full disk — where SQLite cannot create the shared
  /// memory file it reads a WAL database through — is opened read-only as *immutable* when no write-ahead log
  /// is pending (nothing of another writer is waiting to be merged into the file).
  /// - Parameter create: create the file when missing (training); otherwise a missing file is `.storeNotFound`.
  ///   An existing file that is not a SQLite database (empty, one byte, text) is `.notAStore` either way, never
  ///   made a store.
  /// - Returns: the pool, and for a store opened as immutable the stamp of the file it was opened on: every read
  ///   of it is checked against the stamp (`StoreConnection.read`).
  static func open(path: String, create: Bool) throws(StoreError) -> (pool: DatabasePool, immutable: FileStamp?) {
    var isDirectory: ObjCBool = false
    let existed = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
    if isDirectory.boolValue { throw .notAStore(path: path, reason: "it is a directory") }
    if !existed && !create { throw .storeNotFound(path: path) }
    let lockDirectory = directory(of: path)
    if !existed { try checkCreatable(path: path, directory: lockDirectory) }
    // Serialize opening with other processes (and threads) by an exclusive flock on the store's directory. Not
    // on the store file itself: closing any descriptor of that file would drop the POSIX locks SQLite holds on
    // it in this process.
    let lockFD = Glibc.open(lockDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if lockFD >= 0 {
      while flock(lockFD, LOCK_EX) != 0 && errno == EINTR {}
    }
    defer {
      if lockFD >= 0 {
        flock(lockFD, LOCK_UN)
        close(lockFD)
      }
    }
    // Another process may have created the file while this one waited for the lock: look again.
    if FileManager.default.fileExists(atPath: path) { try checkHeader(path: path) }
    if !create && !canWrite(path) && !hasPendingLog(path) {
      return try openImmutable(path: path)
    }
    let shmPath = path + "-shm"
    let walPath = path + "-wal"
    let shmExisted = FileManager.default.fileExists(atPath: shmPath)
    let walExisted = FileManager.default.fileExists(atPath: walPath)
    do {
      return (try openPool(path: path, create: create), nil)
    } catch {
      // A failed open may leave a shared-memory file of a few bytes and an empty log (a full disk): remove those
      // this process created, which no other process can be using (a working shared-memory file is at least
      // 32 KiB).
      if !shmExisted, let size = fileSize(shmPath), size < 32768 {
        unlink(shmPath)
        if !walExisted && fileSize(walPath) == 0 { unlink(walPath) }
      }
      if !create && isWriteFailure(error) && !hasPendingLog(path) {
        if let opened = try? openImmutable(path: path) { return opened }
      }
      throw error
    }
  }

  /// Opens the pool in the usual way: read-write (creating the file when asked), or read-only for a reading
  /// command that may not write the file.
  private static func openPool(path: String, create: Bool) throws(StoreError) -> DatabasePool {
    var config = Configuration()
    config.busyMode = .timeout(30)
    config.foreignKeysEnabled = true
    let readOnly = !create && access(path, W_OK) != 0
    config.readonly = readOnly
    // 64 KiB pages for a new store (a no-op for an existing one): model artifacts and stream checkpoints are
    // blobs of megabytes, which SQLite reads and writes page by page.
    if !readOnly { config.prepareDatabase { db in try db.execute(sql: "PRAGMA page_size = 65536") } }
    let migrator = migrator()
    return try wrap(path) {
      let pool = try DatabasePool(path: path, configuration: config)
      try checkSchema(pool, path: path, migrator: migrator, canMigrate: !readOnly)
      return pool
    }
  }

  /// Opens the file read-only as immutable (SQLite's `immutable=1`): no lock, no shared memory, no write-ahead
  /// log, nothing written next to it. Only for a store with no pending log, by a command that only reads.
  ///
  /// SQLite then assumes that nothing changes the file; another process that may write it still can (its writes go
  /// to its log first and reach the file at a checkpoint). The file's stamp is taken before the first read, and
  /// each read is checked against it afterwards: a change is `.changedWhileRead`, never a mix of two states.
  static func openImmutable(path: String) throws(StoreError) -> (pool: DatabasePool, immutable: FileStamp?) {
    guard let stamp = FileStamp(path: path) else {
      throw .unreadable(path: path, reason: String(cString: strerror(errno)))
    }
    var config = Configuration()
    config.readonly = true
    config.foreignKeysEnabled = true
    let migrator = migrator()
    var allowed = CharacterSet.urlPathAllowed
    allowed.remove(charactersIn: "?#%")
    let escaped = path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
    return try wrap(path) {
      let pool = try DatabasePool(path: "file:\(escaped)?immutable=1", configuration: config)
      try checkSchema(pool, path: path, migrator: migrator, canMigrate: false)
      try checkUnchanged(path, since: stamp)
      return (pool, stamp)
    }
  }

  /// Throws `.changedWhileRead` when the file at `path` is no longer the one of `stamp` (nothing for `nil`, a store
  /// SQLite reads with its locks).
  static func checkUnchanged(_ path: String, since stamp: FileStamp?) throws(StoreError) {
    guard let stamp else { return }
    if FileStamp(path: path) != stamp { throw .changedWhileRead(path: path) }
  }

  /// Refuses a store written by a newer schema or holding other tables; migrates an older one when it can.
  private static func checkSchema(
    _ pool: DatabasePool, path: String, migrator: DatabaseMigrator, canMigrate: Bool
  ) throws {
    let superseded = try pool.read { db in try migrator.hasBeenSuperseded(db) }
    if superseded { throw StoreError.newerSchema(path: path) }
    let current = try pool.read { db in try migrator.hasCompletedMigrations(db) }
    if current { return }
    let foreign = try pool.read { db -> Bool in
      let tables = try String.fetchAll(
        db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      return !tables.isEmpty && !tables.contains("grdb_migrations")
    }
    if foreign { throw StoreError.notAStore(path: path, reason: "it holds other tables") }
    // A store a reader cannot write may still be read when all it lacks is the part checksums (v3): its parts are
    // then read unchecked, as they were written.
    let applied = try pool.read { db in try migrator.appliedIdentifiers(db) }
    let readable: Set<String> = ["v1: models, artifacts, activations, checkpoints", "v2: checkpoint chunks"]
    if !canMigrate && readable.isSubset(of: applied) { return }
    if !canMigrate {
      throw StoreError.cannotWrite(
        path: path, reason: "the store needs upgrading to this version's schema, and this user cannot write it")
    }
    try migrator.migrate(pool)
  }

  /// Refuses an existing file that is not a SQLite database before SQLite sees it: SQLite takes a file shorter
  /// than its 100-byte header for an empty database and would make it a store.
  private static func checkHeader(path: String) throws(StoreError) {
    var st = stat()
    guard stat(path, &st) == 0 else { return }
    if (st.st_mode & S_IFMT) != S_IFREG { throw .notAStore(path: path, reason: "it is not a regular file") }
    if st.st_size == 0 { throw .notAStore(path: path, reason: "the file is empty") }
    let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      let reason = String(cString: strerror(errno))
      throw .unreadable(path: path, reason: reason.lowercased())
    }
    defer { close(fd) }
    var header = [UInt8](repeating: 0, count: 16)
    let got = header.withUnsafeMutableBytes { read(fd, $0.baseAddress, 16) }
    if got != 16 || header != Array("SQLite format 3\0".utf8) {
      throw .notAStore(path: path, reason: "the file is not a SQLite database")
    }
    if st.st_size < 100 {
      throw .notAStore(path: path, reason: "a file of \(st.st_size) bytes, too short for a database")
    }
  }

  /// Refuses to create a store where none can be created, saying why (the directory is missing, not a
  /// directory, or not writable).
  private static func checkCreatable(path: String, directory: String) throws(StoreError) {
    var isDirectory: ObjCBool = false
    if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
      throw .cannotWrite(path: path, reason: "cannot create the store: no such directory \(directory)")
    }
    if !isDirectory.boolValue {
      throw .cannotWrite(path: path, reason: "cannot create the store: \(directory) is not a directory")
    }
    if access(directory, W_OK | X_OK) != 0 {
      let reason = errno == EROFS ? "read-only file system" : "permission denied"
      throw .cannotWrite(path: path, reason: "cannot create the store in \(directory): \(reason)")
    }
  }

  /// The directory holding `path` (`.` for a bare file name): where the store's companions and lock live.
  static func directory(of path: String) -> String {
    let directory = (path as NSString).deletingLastPathComponent
    return directory.isEmpty ? "." : directory
  }

  /// Whether this process may write the store file (when it exists) and create its companions beside it.
  static func canWrite(_ path: String) -> Bool {
    (access(path, F_OK) != 0 || access(path, W_OK) == 0) && access(directory(of: path), W_OK | X_OK) == 0
  }

  /// Whether a write-ahead log with content sits beside the store (another writer's work not yet merged into
  /// the file: reading without it would miss it).
  private static func hasPendingLog(_ path: String) -> Bool { (fileSize(path + "-wal") ?? 0) > 0 }

  private static func fileSize(_ path: String) -> Int? {
    var st = stat()
    return stat(path, &st) == 0 ? Int(st.st_size) : nil
  }

  /// Whether `error` is a failure to write (read-only, no space, an I/O error on the shared-memory file), after
  /// which a reading command may still read the file as immutable.
  private static func isWriteFailure(_ error: StoreError) -> Bool {
    switch error {
    case .cannotWrite: return true
    case .database(_, let message): return message.contains("I/O error") || message.contains("cannot open")
    default: return false
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
      case .SQLITE_READONLY: throw .cannotWrite(path: path, reason: readOnlyReason(path))
      case .SQLITE_CANTOPEN where !canWrite(path): throw .cannotWrite(path: path, reason: readOnlyReason(path))
      case .SQLITE_CANTOPEN: throw .database(path: path, message: "cannot open the store file")
      case .SQLITE_BUSY: throw .database(path: path, message: "the store is busy (locked by another process)")
      case .SQLITE_FULL: throw .cannotWrite(path: path, reason: "no space left on device")
      case .SQLITE_NOMEM: throw .outOfMemory(path: path)
      case .SQLITE_IOERR where noSpaceLeft(path):
        throw .cannotWrite(path: path, reason: "no space left on device")
      default: throw .database(path: path, message: error.message ?? "\(error)")
      }
    } catch {
      throw .database(path: path, message: "\(error)")
    }
  }

  /// Why a write to the store was refused as read-only: the mount, the file's or the directory's permissions.
  static func readOnlyReason(_ path: String) -> String {
    var fs = statvfs()
    if statvfs(directory(of: path), &fs) == 0 && (fs.f_flag & UInt(ST_RDONLY)) != 0 {
      return "the store is on a read-only file system"
    }
    if access(path, F_OK) == 0 && access(path, W_OK) != 0 {
      return "the store is read-only (this user may not write the file)"
    }
    if access(directory(of: path), W_OK) != 0 {
      return "the store is read-only (this user may not write its directory)"
    }
    return "the store is read-only"
  }

  /// Whether the file system holding the store has no space left (SQLite reports some writes that fail for
  /// want of space as plain I/O errors).
  static func noSpaceLeft(_ path: String) -> Bool {
    var fs = statvfs()
    guard statvfs(directory(of: path), &fs) == 0 else { return false }
    return UInt64(fs.f_bavail) * UInt64(fs.f_frsize) < 1 << 20
  }
}

/// What tells whether a file changed: its device, inode, size, and modification and status-change times (to the
/// nanosecond), as `stat` gives them.
struct FileStamp: Equatable {
  var device: UInt64
  var inode: UInt64
  var size: Int64
  var modifiedSeconds: Int
  var modifiedNanoseconds: Int
  var changedSeconds: Int
  var changedNanoseconds: Int

  /// The stamp of the file at `path` now, or `nil` (with `errno` set) when it cannot be stat'ed.
  init?(path: String) {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    device = UInt64(info.st_dev)
    inode = UInt64(info.st_ino)
    size = Int64(info.st_size)
    (modifiedSeconds, modifiedNanoseconds) = (info.st_mtim.tv_sec, info.st_mtim.tv_nsec)
    (changedSeconds, changedNanoseconds) = (info.st_ctim.tv_sec, info.st_ctim.tv_nsec)
  }
}

/// The open store file that a `ModelStore` and the `StateStore`s sharing it read and write through.
///
/// A store opened as immutable follows the file: after each read the file's stamp is compared with the one it was
/// opened on, and when another process changed the file meanwhile (its checkpoint reached the file) the read's
/// result — or its error, which a torn read may cause — is dropped, the file opened again as a new command would
/// open it, and the read done again on the new state. A long-running reader (a server polling for promotions) so
/// sees another process's promotion as a reader with locks does. Only a file that changes again during each of
/// `reopenings` reads in a row is `.changedWhileRead`.
final class StoreConnection: @unchecked Sendable {
  /// How the file is opened again after a change: as `StoreDatabase.open` chooses, or always as immutable (tests).
  enum Mode { case chosen, immutable }
  let path: String
  let mode: Mode
  /// Reads in a row that may find the file changed before the read is given up.
  static let reopenings = 4
  /// Guards `current` and `stamp`.
  private let lock = NSLock()
  private var current: DatabasePool
  private var stamp: FileStamp?

  init(path: String, create: Bool) throws(StoreError) {
    self.path = path
    mode = .chosen
    (current, stamp) = try StoreDatabase.open(path: path, create: create)
  }

  /// Opens the file as immutable, as a reading command does when it may not write the store (tests).
  init(immutable path: String) throws(StoreError) {
    self.path = path
    mode = .immutable
    (current, stamp) = try StoreDatabase.openImmutable(path: path)
  }

  /// The pool reading and writing the file now.
  var pool: DatabasePool { snapshot().0 }

  /// Whether the file is read as immutable now.
  var isImmutable: Bool { snapshot().1 != nil }

  /// One read transaction. On a file read as immutable that changed meanwhile, done again on the file opened
  /// again, so `body` may be called more than once: it must only read.
  func read<T>(_ body: (Database) throws -> T) throws -> T {
    for attempt in 1...Self.reopenings {
      let (pool, stamp) = snapshot()
      guard let stamp else { return try pool.read(body) }
      let result = Result { try pool.read(body) }
      // A read the file did not change under is the answer (or its error); any other is dropped.
      if FileStamp(path: path) == stamp { return try result.get() }
      if attempt < Self.reopenings { try reopen(openedOn: stamp) }
    }
    throw StoreError.changedWhileRead(path: path)
  }

  private func snapshot() -> (DatabasePool, FileStamp?) {
    lock.lock()
    defer { lock.unlock() }
    return (current, stamp)
  }

  /// Opens the file again, unless another thread already did since `old`.
  /// A file that changes again while it is opened is left as it was: the next read finds it changed and opens it
  /// again.
  private func reopen(openedOn old: FileStamp) throws(StoreError) {
    let fresh: (pool: DatabasePool, immutable: FileStamp?)
    do {
      switch mode {
      case .chosen: fresh = try StoreDatabase.open(path: path, create: false)
      case .immutable: fresh = try StoreDatabase.openImmutable(path: path)
      }
    } catch {
      if case .changedWhileRead = error { return }
      throw error
    }
    lock.lock()
    defer { lock.unlock() }
    if stamp == old { (current, stamp) = fresh }
  }
}
