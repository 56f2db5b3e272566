import TabularIO

/// Checksums of a model part's bytes: the XXH64 of each block of `blockBytes` (the last one shorter), written at
/// registration and checked whenever the part's bytes are read, so that a changed byte anywhere in a part — a
/// damaged disk, a hand edit — is found before it is served. A ranged read checks only the blocks it touches.
public enum PartChecksums {
  /// The block size: 64 KiB, one page of a new store.
  public static let blockBytes = 65_536

  /// The little-endian XXH64 of every block of `bytes` (none for an empty part).
  public static func hashes(of bytes: [UInt8]) -> [UInt8] {
    bytes.withUnsafeBytes { hashes(of: $0) }
  }

  /// The checksum of every block of `all`, 8 little-endian bytes each.
  public static func hashes(of all: UnsafeRawBufferPointer) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity((all.count + blockBytes - 1) / blockBytes * 8)
    var start = 0
    while start < all.count {
      let end = min(all.count, start + blockBytes)
      let h = hash(UnsafeRawBufferPointer(rebasing: all[start..<end]))
      for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: h >> (8 * UInt64(k)))) }
      start = end
    }
    return out
  }

  /// The XXH64 of one block.
  public static func hash(_ block: UnsafeRawBufferPointer) -> UInt64 {
    var hasher = XXHash64()
    hasher.update(block)
    return hasher.finalize()
  }
}
