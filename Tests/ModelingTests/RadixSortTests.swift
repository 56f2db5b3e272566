import Testing

@testable import Modeling

/// The radix sort agrees with a comparison sort: values, and orders with ties in index order.
@Suite struct RadixSortTests {
  /// Random values of every kind the key transform must order: negatives, subnormals, ±0, ±infinity, huge and
  /// tiny magnitudes, many repeats — at sizes on both sides of the comparison-sort cutoff.
  static func values(count: Int, seed: UInt64) -> [Double] {
    var g = SeededGenerator(seed: seed)
    let specials: [Double] = [
      0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .greatestFiniteMagnitude,
      -.greatestFiniteMagnitude, 1, -1, 0.5,
    ]
    return (0..<count).map { _ in
      switch Int.random(in: 0..<5, using: &g) {
      case 0: return specials.randomElement(using: &g)!
      case 1: return Double(Int.random(in: -5...5, using: &g))  // ties
      case 2: return Double.random(in: 0..<1, using: &g)
      case 3: return Double.random(in: -1e300...1e300, using: &g)
      default: return Double.random(in: -1e-300...1e-300, using: &g)
      }
    }
  }

  @Test(arguments: [0, 1, 2, 255, 256, 257, 5_000, 100_000])
  func sortsAsTheStandardLibraryDoes(count: Int) {
    let v = RadixSortTests.values(count: count, seed: UInt64(count) + 7)
    let expected = v.map { $0 == 0 ? 0.0 : $0 }.sorted()
    let got = RadixSort.sorted(v)
    #expect(got.map(\.bitPattern) == expected.map(\.bitPattern))
  }

  @Test(arguments: [2, 255, 256, 5_000, 100_000])
  func ordersIndicesWithTiesInIndexOrder(count: Int) {
    let v = RadixSortTests.values(count: count, seed: UInt64(count) + 11)
    for descending in [false, true] {
      let expected = v.indices.sorted { a, b in
        let (x, y) = descending ? (v[b], v[a]) : (v[a], v[b])
        return x < y || (x == y && a < b)
      }
      #expect(RadixSort.order(v, descending: descending) == expected, "descending \(descending)")
    }
  }

  /// Probabilities in (0, 1) share their top bits: the passes whose digit every key shares are skipped, and the
  /// result is still sorted.
  @Test func keysSharingDigitsSkipPassesAndStaySorted() {
    var g = SeededGenerator(seed: 3)
    let v = (0..<50_000).map { _ in Double.random(in: 0.25..<0.5, using: &g) }
    #expect(RadixSort.sorted(v) == v.sorted())
    #expect(
      ClassificationMetrics.descendingOrder(v) == v.indices.sorted { v[$0] > v[$1] || (v[$0] == v[$1] && $0 < $1) })
  }
}
