import GRDB
import GRDBSQLite

/// Reads byte ranges of a model version's artifact parts inside one read transaction, keeping each
/// part's blob handle open between reads (SQLite incremental blob I/O: only the pages asked for are read).
final class SQLitePartReader: ArtifactReader {
  private let db: Database
  private let modelID: Int64
  private let name: String
  private let version: Int
  private let path: String
  private var blobs: [String: (OpaquePointer, Int)] = [:]

  init(db: Database, modelID: Int64, name: String, version: Int, path: String) {
    self.db = db
    self.modelID = modelID
    self.name = name
    self.version = version
    self.path = path
  }

  func close() {
    for (blob, _) in blobs.values { sqlite3_blob_close(blob) }
    blobs = [:]
  }

  private func blob(_ part: String) throws -> (OpaquePointer, Int) {
    if let open = blobs[part] { return open }
    let found = try StoreDatabase.wrap(path) {
      try Int64.fetchOne(
        db, sql: "SELECT rowid FROM model_artifact WHERE model_id = ? AND part = ?", arguments: [modelID, part])
    }
    guard let rowid = found else { throw StoreError.noSuchPart(name: name, version: version, part: part) }
    var handle: OpaquePointer? = nil
    let rc = sqlite3_blob_open(db.sqliteConnection, "main", "model_artifact", "data", rowid, 0, &handle)
    guard rc == SQLITE_OK, let handle else {
      throw StoreError.database(path: path, message: "cannot open artifact part '\(part)' (SQLite code \(rc))")
    }
    let opened = (handle, Int(sqlite3_blob_bytes(handle)))
    blobs[part] = opened
    return opened
  }

  /// Whether the version has a part of this name.
  public func has(_ part: String) throws -> Bool {
    if blobs[part] != nil { return true }
    return try StoreDatabase.wrap(path) {
      try Bool.fetchOne(
        db, sql: "SELECT EXISTS (SELECT 1 FROM model_artifact WHERE model_id = ? AND part = ?)",
        arguments: [modelID, part]) ?? false
    }
  }

  /// The size of `part` in bytes.
  public func size(_ part: String) throws -> Int { try blob(part).1 }

  /// `length` bytes of `part` from `offset`.
  /// - Throws: `StoreError.noSuchPart`, `.rangeOutOfBounds`.
  public func read(_ part: String, offset: Int, length: Int) throws -> [UInt8] {
    let (handle, size) = try blob(part)
    guard offset >= 0, length >= 0, offset <= size, length <= size - offset, size <= Int(Int32.max) else {
      throw StoreError.rangeOutOfBounds(part: part, offset: offset, length: length, size: size)
    }
    var bytes = [UInt8](repeating: 0, count: length)
    if length == 0 { return bytes }
    let rc = bytes.withUnsafeMutableBytes { p in sqlite3_blob_read(handle, p.baseAddress, Int32(length), Int32(offset))
    }
    guard rc == SQLITE_OK else {
      throw StoreError.database(path: path, message: "cannot read artifact part '\(part)' (SQLite code \(rc))")
    }
    return bytes
  }

  /// `count` little-endian `Float`s of `part` starting at float index `offset`, read straight into the result.
  public func readFloats(_ part: String, offset: Int, count: Int) throws -> [Float] {
    let (handle, size) = try blob(part)
    let byteOffset = offset * 4
    let byteCount = count * 4
    guard offset >= 0, count >= 0, byteOffset <= size, byteCount <= size - byteOffset, size <= Int(Int32.max) else {
      throw StoreError.rangeOutOfBounds(part: part, offset: byteOffset, length: byteCount, size: size)
    }
    if count == 0 { return [] }
    var rc: Int32 = SQLITE_OK
    var values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      rc = sqlite3_blob_read(handle, buffer.baseAddress, Int32(byteCount), Int32(byteOffset))
      initialized = count
    }
    guard rc == SQLITE_OK else {
      throw StoreError.database(path: path, message: "cannot read artifact part '\(part)' (SQLite code \(rc))")
    }
    #if _endian(big)
      values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
    #endif
    return values
  }
}
