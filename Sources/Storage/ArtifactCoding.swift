/// Little-endian encodings of numeric arrays for artifact parts, and their checked decodings.
public enum ArtifactCoding {
  /// The bytes of `values` (native little-endian layout on every supported platform).
  public static func bytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    #if _endian(little)
      // One copy, no intermediate arrays: a part of hundreds of megabytes costs its own size once more.
      return values.withUnsafeBytes { Array($0) }
    #else
      return values.map { $0.littleEndian }.withUnsafeBytes { Array($0) }
    #endif
  }

  /// The bytes of `values`.
  public static func bytes(_ values: [Float]) -> [UInt8] { floatBytes(values, \.bitPattern) }

  /// The bytes of `values`.
  public static func bytes(_ values: [Double]) -> [UInt8] { floatBytes(values, \.bitPattern) }

  /// The little-endian bytes of floating-point `values`: one copy where the machine is little-endian.
  private static func floatBytes<F, Bits: FixedWidthInteger>(_ values: [F], _ bits: (F) -> Bits) -> [UInt8] {
    #if _endian(little)
      return values.withUnsafeBytes { Array($0) }
    #else
      return bytes(values.map(bits))
    #endif
  }

  /// Integers from bytes; `nil` when the byte count is not a multiple of the element size.
  public static func integers<T: FixedWidthInteger>(_ bytes: [UInt8], as: T.Type = T.self) -> [T]? {
    let size = MemoryLayout<T>.size
    guard bytes.count % size == 0 else { return nil }
    var out = [T](repeating: 0, count: bytes.count / size)
    out.withUnsafeMutableBytes { dst in bytes.withUnsafeBytes { src in dst.copyMemory(from: src) } }
    return out.map { T(littleEndian: $0) }
  }

  /// Floats from bytes; `nil` when the byte count is not a multiple of 4.
  public static func floats(_ bytes: [UInt8]) -> [Float]? {
    integers(bytes, as: UInt32.self)?.map(Float.init(bitPattern:))
  }

  /// Doubles from bytes; `nil` when the byte count is not a multiple of 8.
  public static func doubles(_ bytes: [UInt8]) -> [Double]? {
    integers(bytes, as: UInt64.self)?.map(Double.init(bitPattern:))
  }

  /// Strings packed as UTF-8 bytes plus `count + 1` offsets (for ids and item metadata).
  public static func packStrings(_ strings: [String]) -> (bytes: [UInt8], offsets: [UInt64]) {
    var bytes: [UInt8] = []
    var offsets: [UInt64] = [0]
    offsets.reserveCapacity(strings.count + 1)
    for s in strings {
      bytes.append(contentsOf: s.utf8)
      offsets.append(UInt64(bytes.count))
    }
    return (bytes, offsets)
  }

  /// Unpacks strings packed by `packStrings`; `nil` when the offsets do not fit the bytes.
  public static func unpackStrings(bytes: [UInt8], offsets: [UInt64]) -> [String]? {
    guard let last = offsets.last, Int(exactly: last) == bytes.count, offsets.first == 0 else { return nil }
    var out: [String] = []
    out.reserveCapacity(offsets.count - 1)
    for k in 0..<(offsets.count - 1) {
      guard let lo = Int(exactly: offsets[k]), let hi = Int(exactly: offsets[k + 1]), lo <= hi, hi <= bytes.count
      else { return nil }
      out.append(String(decoding: bytes[lo..<hi], as: UTF8.self))
    }
    return out
  }
}
