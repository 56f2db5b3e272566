import Foundation
import NIOCore
import PostgresNIO
import Storage

/// Reads one version's parts inside the caller's read-only transaction: the part list and sizes at once, each part's
/// bytes whole (chunk by chunk) the first time it is asked for, checked against the checksums recorded at
/// registration before any of it is returned.
final class PostgresPartReader: ArtifactReader {
  private let statements: Statements
  private let modelID: Int64
  private let name: String
  private let version: Int
  /// Each part's size, chunk count and checksums.
  private let catalogue: [String: (bytes: Int, chunks: Int, blockBytes: Int, hashes: [UInt8])]
  /// The parts read so far.
  private var loaded: [String: [UInt8]] = [:]

  init(statements: Statements, modelID: Int64, name: String, version: Int) throws {
    self.statements = statements
    self.modelID = modelID
    self.name = name
    self.version = version
    var catalogue: [String: (bytes: Int, chunks: Int, blockBytes: Int, hashes: [UInt8])] = [:]
    for row in try statements.rows(
      """
      SELECT c.part, c.bytes, c.block_bytes, c.hashes,
        (SELECT count(*) FROM model_artifact a WHERE a.model_id = c.model_id AND a.part = c.part) AS chunks
      FROM model_part_checksum c WHERE c.model_id = \(modelID)
      """)
    {
      var hashes = try row.get("hashes", as: ByteBuffer.self)
      catalogue[try row.get("part")] = (
        Int(try row.get("bytes", as: Int64.self)), Int(try row.get("chunks", as: Int64.self)),
        try row.get("block_bytes", as: Int.self), hashes.readBytes(length: hashes.readableBytes) ?? []
      )
    }
    self.catalogue = catalogue
  }

  private func entry(_ part: String) throws(StoreError) -> (bytes: Int, chunks: Int, blockBytes: Int, hashes: [UInt8]) {
    guard let entry = catalogue[part] else { throw .noSuchPart(name: name, version: version, part: part) }
    return entry
  }

  func has(_ part: String) throws -> Bool { catalogue[part] != nil }

  func size(_ part: String) throws -> Int { try entry(part).bytes }

  func partNames() throws -> [String] { catalogue.keys.sorted() }

  /// The whole part, read once and checked.
  private func bytes(_ part: String) throws -> [UInt8] {
    if let bytes = loaded[part] { return bytes }
    let bytes = try [UInt8](unsafeUninitializedCapacity: try entry(part).bytes) { buffer, count in
      try fetch(part, into: UnsafeMutableRawBufferPointer(buffer))
      count = buffer.count
    }
    loaded[part] = bytes
    return bytes
  }

  /// Copies the part into `destination` as its chunks arrive, then checks it (it is not kept: the caller holds it).
  func copyWhole(_ part: String, into destination: UnsafeMutableRawBufferPointer) throws {
    let size = try entry(part).bytes
    guard destination.count == size else {
      throw StoreError.rangeOutOfBounds(part: part, offset: 0, length: destination.count, size: size)
    }
    if let bytes = loaded[part] {
      bytes.withUnsafeBytes { destination.copyMemory(from: $0) }
      return
    }
    try fetch(part, into: destination)
  }

  /// Streams the part's chunks, in order, into `destination` (exactly the part's size) with one query, and checks
  /// the bytes against the part's checksums.
  private func fetch(_ part: String, into destination: UnsafeMutableRawBufferPointer) throws {
    let entry = try entry(part)
    let read = try statements.readChunks(
      "SELECT chunk, data FROM model_artifact WHERE model_id = \(modelID) AND part = \(part) ORDER BY chunk",
      into: destination)
    // Checksums that do not fit the part (a damaged checksum row, another block size) are damage of the whole part,
    // as on SQLite; only then are blocks compared one by one.
    let bb = entry.blockBytes
    guard read.intact, read.filled == entry.bytes, read.chunks == max(entry.chunks, 1),
      bb == PartChecksums.blockBytes, entry.hashes.count == (entry.bytes + bb - 1) / bb * 8
    else {
      throw StoreError.damagedPart(name: name, version: version, part: part, offset: 0, length: entry.bytes)
    }
    let expected = PartChecksums.hashes(of: UnsafeRawBufferPointer(destination))
    if expected != entry.hashes {
      // The first block whose hash differs.
      var block = 0
      while block * 8 + 8 <= min(expected.count, entry.hashes.count),
        expected[(block * 8)..<(block * 8 + 8)] == entry.hashes[(block * 8)..<(block * 8 + 8)]
      {
        block += 1
      }
      let offset = min(block * bb, destination.count)
      throw StoreError.damagedPart(
        name: name, version: version, part: part, offset: offset,
        length: min(entry.blockBytes, destination.count - offset))
    }
  }

  /// `part`'s whole bytes after checking that `offset..<offset + length` lies in them.
  private func bytes(_ part: String, offset: Int, length: Int) throws -> [UInt8] {
    let size = try entry(part).bytes
    guard offset >= 0, length >= 0, offset <= size, length <= size - offset else {
      throw StoreError.rangeOutOfBounds(part: part, offset: offset, length: length, size: size)
    }
    return try bytes(part)
  }

  func read(_ part: String, offset: Int, length: Int) throws -> [UInt8] {
    Array(try bytes(part, offset: offset, length: length)[offset..<(offset + length)])
  }

  func readFloats(_ part: String, offset: Int, count: Int) throws -> [Float] {
    guard offset >= 0, count >= 0, offset <= Int.max / 4, count <= Int.max / 4 else {
      throw StoreError.rangeOutOfBounds(part: part, offset: offset, length: count, size: try entry(part).bytes)
    }
    return try bytes(part, offset: offset * 4, length: count * 4).withUnsafeBytes { raw in
      (0..<count).map {
        Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: (offset + $0) * 4, as: UInt32.self)))
      }
    }
  }

  func withBytes<R>(
    _ part: String, offset: Int, length: Int, _ body: (UnsafeRawBufferPointer) throws -> R
  ) throws -> R {
    try bytes(part, offset: offset, length: length).withUnsafeBytes {
      try body(UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + length)]))
    }
  }
}
