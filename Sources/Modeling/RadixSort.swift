/// Sorting of doubles in linear time: a least-significant-digit radix sort on the bits of each value mapped to an
/// unsigned key that orders as the values do (six passes of 11 bits, a pass skipped when every key shares its
/// digit), for the million-row columns and score vectors training sorts for medians, quantiles, deciles and ranks.
///
/// The order is that of `<` on the values, with `-0.0` and `0.0` equal (both read back as `0.0`) and equal values
/// in their input order (every pass is stable). Not-a-number values, which `<` cannot order, go first when their
/// sign bit is set and last otherwise. Below a few hundred values the standard library's sort is used.
public enum RadixSort {
  /// Below this many values a comparison sort is faster than six histogram passes.
  static let smallCount = 256

  /// The key of `x`: unsigned, ordered as the doubles are (negatives with every bit flipped, others with the sign
  /// bit set), `-0.0` read as `0.0`.
  @inline(__always)
  static func key(_ x: Double) -> UInt64 {
    let bits = (x == 0 ? 0.0 : x).bitPattern
    return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
  }

  /// The double of key `k` (the inverse of `key`).
  @inline(__always)
  static func value(_ k: UInt64) -> Double {
    Double(bitPattern: k & (1 << 63) != 0 ? k & ~(1 << 63) : ~k)
  }

  /// `values` in ascending order.
  public static func sorted(_ values: [Double]) -> [Double] {
    guard values.count >= smallCount else { return values.map { $0 == 0 ? 0 : $0 }.sorted() }
    var keys = values.map(key)
    var spare = [UInt64](repeating: 0, count: keys.count)
    keys.withUnsafeMutableBufferPointer { k in
      spare.withUnsafeMutableBufferPointer { s in
        sortKeys(k.baseAddress!, s.baseAddress!, count: k.count, indices: nil, spareIndices: nil)
      }
    }
    return keys.map(value)
  }

  /// The indices of `values` ordered by value, highest first (`descending`) or lowest first; equal values in
  /// index order.
  public static func order(_ values: [Double], descending: Bool) -> [Int] {
    guard values.count >= smallCount else {
      var pairs = values.enumerated().map { ((descending ? -$0.element : $0.element), $0.offset) }
      pairs.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
      return pairs.map(\.1)
    }
    // Descending: the complement of a key orders the values from the highest, and stays stable.
    var keys = values.map { descending ? ~key($0) : key($0) }
    var spare = [UInt64](repeating: 0, count: keys.count)
    var indices = Array(0..<values.count)
    var spareIndices = [Int](repeating: 0, count: values.count)
    keys.withUnsafeMutableBufferPointer { k in
      spare.withUnsafeMutableBufferPointer { s in
        indices.withUnsafeMutableBufferPointer { i in
          spareIndices.withUnsafeMutableBufferPointer { si in
            sortKeys(
              k.baseAddress!, s.baseAddress!, count: k.count, indices: i.baseAddress!, spareIndices: si.baseAddress!)
          }
        }
      }
    }
    return indices
  }

  /// Sorts `keys[0..<count]` (with `indices` alongside when given) through the scratch `spare` buffers; the result
  /// ends in `keys` and `indices`.
  static func sortKeys(
    _ keys: UnsafeMutablePointer<UInt64>, _ spare: UnsafeMutablePointer<UInt64>, count: Int,
    indices: UnsafeMutablePointer<Int>?, spareIndices: UnsafeMutablePointer<Int>?
  ) {
    let bits = 11
    let radix = 1 << bits
    let passes = (64 + bits - 1) / bits
    let mask = UInt64(radix - 1)
    // Every pass's histogram in one read of the keys.
    let counts = UnsafeMutablePointer<Int>.allocate(capacity: passes * radix)
    defer { counts.deallocate() }
    counts.initialize(repeating: 0, count: passes * radix)
    for i in 0..<count {
      let k = keys[i]
      for p in 0..<passes { counts[p * radix + Int((k >> UInt64(p * bits)) & mask)] += 1 }
    }
    var from = (keys, indices)
    var to = (spare, spareIndices)
    for p in 0..<passes {
      let histogram = counts + p * radix
      // A digit every key shares leaves the order as it is.
      let shared = Int((from.0[0] >> UInt64(p * bits)) & mask)
      if histogram[shared] == count { continue }
      var offset = 0
      for d in 0..<radix {
        let c = histogram[d]
        histogram[d] = offset
        offset += c
      }
      let shift = UInt64(p * bits)
      /// Moves every key to its place for this digit; `carry(i, at)` moves what goes with key `i`.
      @inline(__always) func scatter(_ carry: (_ from: Int, _ to: Int) -> Void) {
        for i in 0..<count {
          let k = from.0[i]
          let d = Int((k >> shift) & mask)
          let at = histogram[d]
          histogram[d] = at + 1
          to.0[at] = k
          carry(i, at)
        }
      }
      if let source = from.1, let target = to.1 {
        scatter { target[$1] = source[$0] }
      } else {
        scatter { _, _ in }
      }
      swap(&from, &to)
    }
    if from.0 != keys {
      keys.update(from: from.0, count: count)
      if let indices, let source = from.1 { indices.update(from: source, count: count) }
    }
  }
}
