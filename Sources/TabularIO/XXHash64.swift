/// The XXH64 hash (Yann Collet's xxHash, 64-bit), computed incrementally over chunks.
///
/// Used for training-data fingerprints: the readers feed every byte they read through it, so a model
/// records which file it was trained on at no extra pass over the data.
public struct XXHash64: Sendable {
  @usableFromInline static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
  @usableFromInline static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
  @usableFromInline static let p3: UInt64 = 0x1656_67B1_9E37_79F9
  @usableFromInline static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
  @usableFromInline static let p5: UInt64 = 0x27D4_EB2F_1656_67C5

  private let seed: UInt64
  private var v1: UInt64
  private var v2: UInt64
  private var v3: UInt64
  private var v4: UInt64
  private var pending: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
  private var pendingCount = 0
  /// Number of bytes hashed so far.
  public private(set) var byteCount: UInt64 = 0

  /// A new hasher with the given seed (default 0).
  public init(seed: UInt64 = 0) {
    self.seed = seed
    v1 = seed &+ XXHash64.p1 &+ XXHash64.p2
    v2 = seed &+ XXHash64.p2
    v3 = seed
    v4 = seed &- XXHash64.p1
  }

  @inline(__always)
  private static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
    var a = acc &+ input &* p2
    a = (a << 31) | (a >> 33)
    return a &* p1
  }

  @inline(__always)
  private static func merge(_ acc: UInt64, _ v: UInt64) -> UInt64 {
    (acc ^ round(0, v)) &* p1 &+ p4
  }

  /// Feeds `bytes` into the hash.
  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return }
    byteCount &+= UInt64(bytes.count)
    var offset = 0
    let n = bytes.count
    // Fill a partial stripe first.
    if pendingCount > 0 {
      withUnsafeMutableBytes(of: &pending) { p in
        let take = min(32 - pendingCount, n)
        p.baseAddress!.advanced(by: pendingCount).copyMemory(from: base, byteCount: take)
        pendingCount += take
        offset = take
      }
      if pendingCount < 32 { return }
      let s = pending
      v1 = XXHash64.round(v1, UInt64(littleEndian: s.0))
      v2 = XXHash64.round(v2, UInt64(littleEndian: s.1))
      v3 = XXHash64.round(v3, UInt64(littleEndian: s.2))
      v4 = XXHash64.round(v4, UInt64(littleEndian: s.3))
      pendingCount = 0
    }
    var a = v1
    var b = v2
    var c = v3
    var d = v4
    while offset + 32 <= n {
      let p = base + offset
      a = XXHash64.round(a, UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)))
      b = XXHash64.round(b, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
      c = XXHash64.round(c, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
      d = XXHash64.round(d, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
      offset += 32
    }
    v1 = a
    v2 = b
    v3 = c
    v4 = d
    if offset < n {
      let rest = n - offset
      withUnsafeMutableBytes(of: &pending) { p in
        p.baseAddress!.copyMemory(from: base + offset, byteCount: rest)
      }
      pendingCount = rest
    }
  }

  /// Feeds an array of bytes into the hash.
  public mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { update($0) }
  }

  /// The hash of everything fed so far (the hasher can go on being fed).
  public func finalize() -> UInt64 {
    var h: UInt64
    if byteCount >= 32 {
      h =
        ((v1 << 1) | (v1 >> 63)) &+ ((v2 << 7) | (v2 >> 57)) &+ ((v3 << 12) | (v3 >> 52))
        &+ ((v4 << 18) | (v4 >> 46))
      h = XXHash64.merge(h, v1)
      h = XXHash64.merge(h, v2)
      h = XXHash64.merge(h, v3)
      h = XXHash64.merge(h, v4)
    } else {
      h = seed &+ XXHash64.p5
    }
    h &+= byteCount
    var tail = pending
    let count = pendingCount
    withUnsafeBytes(of: &tail) { raw in
      var i = 0
      while i + 8 <= count {
        let k = XXHash64.round(0, UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
        h ^= k
        h = ((h << 27) | (h >> 37)) &* XXHash64.p1 &+ XXHash64.p4
        i += 8
      }
      if i + 4 <= count {
        h ^= UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt32.self))) &* XXHash64.p1
        h = ((h << 23) | (h >> 41)) &* XXHash64.p2 &+ XXHash64.p3
        i += 4
      }
      while i < count {
        h ^= UInt64(raw[i]) &* XXHash64.p5
        h = ((h << 11) | (h >> 53)) &* XXHash64.p1
        i += 1
      }
    }
    h ^= h >> 33
    h &*= XXHash64.p2
    h ^= h >> 29
    h &*= XXHash64.p3
    h ^= h >> 32
    return h
  }
}

/// What a model records about the data it was trained on: the number of bytes and their XXH64 hash.
public struct DataFingerprint: Codable, Equatable, Sendable, CustomStringConvertible {
  /// Size in bytes.
  public var byteCount: UInt64
  /// XXH64 (seed 0) of the bytes, as 16 hex digits.
  public var xxh64: String

  /// A fingerprint from a hasher's state.
  public init(_ hasher: XXHash64) {
    byteCount = hasher.byteCount
    let hex = String(hasher.finalize(), radix: 16)
    xxh64 = String(repeating: "0", count: 16 - hex.count) + hex
  }

  /// The fingerprint of the file at `path`, read in 1 MiB pieces.
  public init(file path: String) throws(TabularError) {
    let input = try ByteInput(path: path, chunkBytes: 1 << 20, maximumRecordBytes: 1 << 20)
    while try input.refill(keepFrom: input.end) != nil {}
    self.init(input.hasher)
  }

  /// `"<bytes> bytes, xxh64 <hex>"`.
  public var description: String { "\(byteCount) bytes, xxh64 \(xxh64)" }
}
