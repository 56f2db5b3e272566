import GRDB
import GRDBSQLite
import Storage

/// One SQL statement run through SQLite's own calls on a GRDB connection — for blobs of megabytes bound without a
/// copy (GRDB binds `Data` with SQLITE_TRANSIENT, which copies it), as checkpoints and artifact parts are.
struct RawStatement {
  let db: Database

  /// SQLite's "copy this value now" destructor, for small texts.
  static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

  /// Throws SQLite's error for `rc` unless it is `expected`.
  func check(_ rc: Int32, _ expected: Int32 = SQLITE_OK) throws {
    guard rc == expected else {
      throw DatabaseError(
        resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
    }
  }

  /// Runs `sql` once with `bind` binding its parameters.
  func run(_ sql: String, _ bind: (OpaquePointer?) throws -> Void) throws {
    var statement: OpaquePointer? = nil
    try check(sqlite3_prepare_v2(db.sqliteConnection, sql, -1, &statement, nil))
    defer { sqlite3_finalize(statement) }
    try bind(statement)
    try check(sqlite3_step(statement), SQLITE_DONE)
  }

  /// Binds `bytes[range]` to parameter `index` without a copy (SQLITE_STATIC: SQLite reads the caller's bytes
  /// during the step, which must happen while they are alive); an empty range binds an empty blob.
  func bindBlob(_ statement: OpaquePointer?, _ index: Int32, _ bytes: UnsafeRawBufferPointer, _ range: Range<Int>)
    throws
  {
    if let base = bytes.baseAddress, !range.isEmpty {
      try check(sqlite3_bind_blob64(statement, index, base + range.lowerBound, sqlite3_uint64(range.count), nil))
    } else {
      try check(sqlite3_bind_zeroblob(statement, index, 0))
    }
  }

  /// Binds `text` to parameter `index` (copied).
  func bindText(_ statement: OpaquePointer?, _ index: Int32, _ text: String) throws {
    try check(sqlite3_bind_text(statement, index, text, -1, Self.transient))
  }
}
