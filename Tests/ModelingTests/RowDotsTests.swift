import CPlatform
import Testing

@testable import Modeling

/// Every item's score against one user's factors (`FactorKernels.rowDots`): both versions (AVX2 with FMA where the
/// processor has it, and the SSE2 baseline) agree with a double-precision reference at every shape — row counts on
/// both sides of the four-row blocks, factor counts on both sides of the vector widths — and give the same scores
/// for the same inputs every time.
@Suite struct RowDotsTests {
  static func reference(_ a: [Float], _ x: [Float], rows: Int, n: Int) -> [Double] {
    (0..<rows).map { i in (0..<n).reduce(0.0) { $0 + Double(a[i * n + $1]) * Double(x[$1]) } }
  }

  static func run(
    _ kernel: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int) -> Void,
    _ a: [Float], _ x: [Float], rows: Int, n: Int
  ) -> [Float] {
    var y = [Float](repeating: .nan, count: rows)
    a.withUnsafeBufferPointer { pa in
      x.withUnsafeBufferPointer { px in
        y.withUnsafeMutableBufferPointer { py in
          if rows > 0 { kernel(pa.baseAddress!, px.baseAddress!, py.baseAddress!, rows, n) }
        }
      }
    }
    return y
  }

  @Test(arguments: [1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 64, 65, 100])
  func bothVersionsAgreeWithTheReference(n: Int) {
    var g = SeededGenerator(seed: UInt64(n))
    for rows in [1, 2, 3, 4, 5, 7, 8, 9, 13, 1682] {
      let a = (0..<(rows * n)).map { _ in Float.random(in: -1...1, using: &g) }
      let x = (0..<n).map { _ in Float.random(in: -2...2, using: &g) }
      let expected = Self.reference(a, x, rows: rows, n: n)
      let magnitude = (0..<rows).map { i in (0..<n).reduce(0.0) { $0 + abs(Double(a[i * n + $1]) * Double(x[$1])) } }
      let fast = Self.run({ FactorKernels.rowDots($0, $1, into: $2, rows: $3, n: $4) }, a, x, rows: rows, n: n)
      let baseline = Self.run({ cml_row_dots_baseline($0, $1, $2, $3, $4) }, a, x, rows: rows, n: n)
      for i in 0..<rows {
        // Float sums of n products: within n ulps of the sum of magnitudes.
        let tolerance = Double(n) * Double(Float.ulpOfOne) * max(magnitude[i], 1e-30)
        #expect(abs(Double(fast[i]) - expected[i]) <= tolerance, "rows \(rows) n \(n) row \(i): \(fast[i])")
        #expect(abs(Double(baseline[i]) - expected[i]) <= tolerance, "rows \(rows) n \(n) row \(i): \(baseline[i])")
      }
      #expect(Self.run({ FactorKernels.rowDots($0, $1, into: $2, rows: $3, n: $4) }, a, x, rows: rows, n: n) == fast)
    }
  }

  /// Exact values on a small known case: integers, so every version's sum is exact.
  @Test func exactOnSmallIntegers() {
    let n = 10
    let a = (0..<(6 * n)).map { Float($0 % 7) - 3 }
    let x = (0..<n).map { Float($0) - 4 }
    let expected = (0..<6).map { i in (0..<n).reduce(Float(0)) { $0 + a[i * n + $1] * x[$1] } }
    #expect(Self.run({ FactorKernels.rowDots($0, $1, into: $2, rows: $3, n: $4) }, a, x, rows: 6, n: n) == expected)
    #expect(Self.run({ cml_row_dots_baseline($0, $1, $2, $3, $4) }, a, x, rows: 6, n: n) == expected)
  }

  /// The version chosen is the one the processor supports: AVX2 exactly when /proc/cpuinfo lists avx2 and fma.
  @Test func theChoiceFollowsTheProcessor() throws {
    #if arch(x86_64) && os(Linux)
      let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
      let flags = Set(info.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ") ?? [])
      #expect((cml_row_dots_uses_avx2() == 1) == (flags.contains("avx2") && flags.contains("fma")))
    #endif
  }
}
