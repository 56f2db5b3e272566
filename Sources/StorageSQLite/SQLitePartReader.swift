import Foundation
import GRDB
import GRDBSQLite
import Storage

/// Reads byte ranges of a model version's artifact parts inside one read transaction, keeping each
/// part's blob handle open between reads (SQLite incremental blob I/O: only the pages asked for are read).
final class SQLitePartReader: ArtifactReader {
  private let db: Database
  private let modelID: Int64
  private let name: String
  private let version: Int
  private let path: String
  /// Each part opened so far: its rows' blob handles and sizes, in order (one row unless the part was larger
  /// than the store's chunk size).
  private var blobs: [String: [(handle: OpaquePointer, size: Int)]] = [:]
  /// Whether the store records part checksums (a store written before them has none to check).
  private let hasChecksums: Bool
  /// Each part's recorded block checksums (`nil`: none recorded for it), and the blocks checked so far.
  private var checksums: [String: (blockBytes: Int, hashes: [UInt8])?] = [:]
  private var verified: [String: Set<Int>] = [:]

  init(db: Database, modelID: Int64, name: String, version: Int, path: String) throws {
    self.db = db
    self.modelID = modelID
    self.name = name
    self.version = version
    self.path = path
    hasChecksums = try StoreDatabase.wrap(path) { try db.tableExists("model_part_checksum") }
  }

  func close() {
    for chunks in blobs.values { for chunk in chunks { sqlite3_blob_close(chunk.handle) } }
    blobs = [:]
  }

  private func rowid(_ row: String) throws -> Int64? {
    try StoreDatabase.wrap(path) {
      try Int64.fetchOne(
        db, sql: "SELECT rowid FROM model_artifact WHERE model_id = ? AND part = ?", arguments: [modelID, row])
    }
  }

  private func chunks(_ part: String) throws -> [(handle: OpaquePointer, size: Int)] {
    if let open = blobs[part] { return open }
    guard !part.contains(ModelStore.chunkSeparator), var next = try rowid(part) else {
      throw StoreError.noSuchPart(name: name, version: version, part: part)
    }
    var opened: [(handle: OpaquePointer, size: Int)] = []
    while true {
      var handle: OpaquePointer? = nil
      let rc = sqlite3_blob_open(db.sqliteConnection, "main", "model_artifact", "data", next, 0, &handle)
      guard rc == SQLITE_OK, let handle else {
        for chunk in opened { sqlite3_blob_close(chunk.handle) }
        throw StoreError.database(path: path, message: "cannot open artifact part '\(part)' (SQLite code \(rc))")
      }
      opened.append((handle, Int(sqlite3_blob_bytes(handle))))
      guard let following = try rowid(part + ModelStore.chunkSeparator + String(opened.count)) else { break }
      next = following
    }
    blobs[part] = opened
    return opened
  }

  /// Whether the version has a part of this name.
  public func has(_ part: String) throws -> Bool {
    if blobs[part] != nil { return true }
    return try !part.contains(ModelStore.chunkSeparator) && rowid(part) != nil
  }

  /// The size of `part` in bytes.
  public func size(_ part: String) throws -> Int { try chunks(part).reduce(0) { $0 + $1.size } }

  /// The names of the version's parts (a large part's further chunks are not parts of their own).
  public func partNames() throws -> [String] {
    try StoreDatabase.wrap(path) {
      try String.fetchAll(
        db, sql: "SELECT part FROM model_artifact WHERE model_id = ? ORDER BY part", arguments: [modelID])
    }.filter { !$0.contains(ModelStore.chunkSeparator) }
  }

  /// The checksums recorded for `part`, if any.
  private func recordedChecksums(_ part: String) throws -> (blockBytes: Int, hashes: [UInt8])? {
    if let known = checksums[part] { return known }
    var found: (blockBytes: Int, hashes: [UInt8])? = nil
    if hasChecksums {
      let row = try StoreDatabase.wrap(path) {
        try Row.fetchOne(
          db, sql: "SELECT block_bytes, hashes FROM model_part_checksum WHERE model_id = ? AND part = ?",
          arguments: [modelID, part])
      }
      if let row {
        let blockBytes: Int = row["block_bytes"]
        let hashes: Data = row["hashes"]
        found = (blockBytes, Array(hashes))
      }
    }
    checksums[part] = found
    return found
  }

  /// Copies `length` bytes of `part` from `offset` to `destination` and checks every block of the part they touch
  /// against the checksums recorded at registration (each block once per reader).
  /// - Throws: `StoreError.damagedPart` for a block whose bytes changed (or checksums that do not fit the part).
  private func copy(_ part: String, offset: Int, length: Int, to destination: UnsafeMutableRawPointer) throws {
    try copyBytes(part, offset: offset, length: length, to: destination)
    guard length > 0, let sums = try recordedChecksums(part) else { return }
    let size = try self.size(part)
    let bb = sums.blockBytes
    guard bb > 0, sums.hashes.count == (size + bb - 1) / bb * 8 else {
      throw StoreError.damagedPart(name: name, version: version, part: part, offset: 0, length: size)
    }
    var done = verified[part] ?? []
    var scratch: [UInt8] = []
    for block in (offset / bb)...((offset + length - 1) / bb) where !done.contains(block) {
      let start = block * bb
      let count = min(bb, size - start)
      let h: UInt64
      if start >= offset && start + count <= offset + length {
        h = PartChecksums.hash(UnsafeRawBufferPointer(start: destination + (start - offset), count: count))
      } else {
        if scratch.count < count { scratch = [UInt8](repeating: 0, count: bb) }
        try scratch.withUnsafeMutableBytes { try copyBytes(part, offset: start, length: count, to: $0.baseAddress!) }
        h = scratch.withUnsafeBytes { PartChecksums.hash(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
      }
      var recorded: UInt64 = 0
      for k in 0..<8 { recorded |= UInt64(sums.hashes[block * 8 + k]) << (8 * UInt64(k)) }
      guard h == recorded else {
        throw StoreError.damagedPart(name: name, version: version, part: part, offset: start, length: count)
      }
      done.insert(block)
    }
    verified[part] = done
  }

  /// Copies `length` bytes of `part` from `offset` to `destination`, across its rows.
  private func copyBytes(_ part: String, offset: Int, length: Int, to destination: UnsafeMutableRawPointer) throws {
    let chunks = try chunks(part)
    let size = chunks.reduce(0) { $0 + $1.size }
    guard offset >= 0, length >= 0, offset <= size, length <= size - offset else {
      throw StoreError.rangeOutOfBounds(part: part, offset: offset, length: length, size: size)
    }
    var chunkStart = 0
    var done = 0
    for chunk in chunks where done < length {
      let from = offset + done - chunkStart
      if from < chunk.size && from >= 0 {
        let count = min(chunk.size - from, length - done)
        let rc = sqlite3_blob_read(chunk.handle, destination + done, Int32(count), Int32(from))
        guard rc == SQLITE_OK else {
          throw StoreError.database(path: path, message: "cannot read artifact part '\(part)' (SQLite code \(rc))")
        }
        done += count
      }
      chunkStart += chunk.size
    }
  }

  /// `length` bytes of `part` from `offset`.
  /// - Throws: `StoreError.noSuchPart`, `.rangeOutOfBounds`.
  public func read(_ part: String, offset: Int, length: Int) throws -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: max(length, 0))
    if length == 0 {
      _ = try copy(part, offset: offset, length: 0, to: UnsafeMutableRawPointer(bitPattern: 1)!)
      return bytes
    }
    try bytes.withUnsafeMutableBytes { p in try copy(part, offset: offset, length: length, to: p.baseAddress!) }
    return bytes
  }

  /// `count` little-endian `Float`s of `part` starting at float index `offset`, read straight into the result.
  public func readFloats(_ part: String, offset: Int, count: Int) throws -> [Float] {
    guard offset >= 0, count >= 0 else {
      throw StoreError.rangeOutOfBounds(part: part, offset: offset * 4, length: count * 4, size: try size(part))
    }
    if count == 0 {
      _ = try copy(part, offset: offset * 4, length: 0, to: UnsafeMutableRawPointer(bitPattern: 1)!)
      return []
    }
    var failure: Error? = nil
    var values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      do {
        try copy(part, offset: offset * 4, length: count * 4, to: UnsafeMutableRawPointer(buffer.baseAddress!))
        initialized = count
      } catch {
        failure = error
        initialized = 0
      }
    }
    if let failure { throw failure }
    #if _endian(big)
      values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
    #endif
    return values
  }
}
