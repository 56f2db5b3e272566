import Foundation

/// The elementary functions of the stream's features, without calls into the C library for the common arguments:
/// sine and cosine from a table of 256 angles and short polynomials, the arcsine of small values by its series, the
/// floor by truncation. Their results agree with the C library's to a few units in the last place (the tests check
/// them against it); the features they feed are binned, so that difference never matters.
enum FastMath {
  /// sin(jπ/128) and cos(jπ/128) for j = 0..<256, interleaved (computed once per process). The angle in a double
  /// misses jπ/128 by up to 2.4e-16 (the rounding of the product and the part of π below `Double.pi`), which is
  /// corrected to first order: sin(a + δ) = sin a + δ cos a.
  nonisolated(unsafe) static let sinCosTable: UnsafeMutablePointer<Double> = {
    let p = UnsafeMutablePointer<Double>.allocate(capacity: 512)
    for j in 0..<256 {
      let a = Double(j) * (Double.pi / 128)
      let delta = fma(Double(j), Double.pi / 128, -a) + Double(j) * (piBelowDouble / 128)
      p[2 * j] = sin(a) + delta * cos(a)
      p[2 * j + 1] = cos(a) - delta * sin(a)
    }
    return p
  }()

  /// π − `Double.pi`.
  static let piBelowDouble = 1.224_646_799_147_353_2e-16

  /// π/128 in two parts: `step1` with its low 21 significand bits cleared (so that `k × step1` is exact for
  /// |k| < 2²⁰), `step2` the rest, including the part of π below `Double.pi`.
  static let step1 = Double(bitPattern: (Double.pi / 128).bitPattern & ~0x1F_FFFF)
  static let step2 = (Double.pi / 128 - step1) + piBelowDouble / 128

  /// 1.5 × 2⁵²: adding and subtracting it rounds a value of magnitude below 2⁵¹ to the nearest integer (ties to
  /// even) without a call or an instruction set beyond the baseline.
  static let roundingShift = 6_755_399_441_055_744.0

  /// Sine and cosine of `x`; `table` is `sinCosTable`. Arguments beyond ±8 (never those of the features: angles of
  /// a day, latitudes, half differences of longitudes) and not-a-number go to the C library.
  @inline(__always)
  static func sinCos(_ x: Double, table: UnsafePointer<Double>) -> (sin: Double, cos: Double) {
    guard abs(x) < 8 else { return (sin(x), cos(x)) }
    let kd = (x * (128 / Double.pi) + roundingShift) - roundingShift
    // |r| ≤ π/256 (a hair more from rounding): seven terms of the sine's series and four of the cosine's are exact
    // to well below a unit in the last place there.
    let r = (x - kd * step1) - kd * step2
    let r2 = r * r
    // sin r, and cos r − 1 (kept apart from the 1 so that the table's value is added last, to one rounding).
    let s = r + r * r2 * (-1.0 / 6 + r2 * (1.0 / 120 + r2 * (-1.0 / 5040)))
    let cm1 = r2 * (-0.5 + r2 * (1.0 / 24 + r2 * (-1.0 / 720 + r2 * (1.0 / 40_320))))
    let j = Int(kd) & 255
    let sj = table[2 &* j]
    let cj = table[2 &* j &+ 1]
    return (sj + (sj * cm1 + cj * s), cj + (cj * cm1 - sj * s))
  }

  /// The arcsine of `x` in [0, 0.1) by its series (eight terms, exact to below a unit in the last place there).
  @inline(__always)
  static func asinSmall(_ x: Double) -> Double {
    let x2 = x * x
    let series =
      1.0 / 6
      + x2
      * (3.0 / 40
        + x2
        * (5.0 / 112
          + x2 * (35.0 / 1152 + x2 * (63.0 / 2816 + x2 * (231.0 / 13_312 + x2 * (143.0 / 10_240))))))
    return x + x * x2 * series
  }

  /// The greatest integer at or below `x`, for |x| < 2⁶³ (the truncation, one less for a negative non-integer).
  @inline(__always)
  static func floor(_ x: Double) -> Int {
    let i = Int(x)
    return Double(i) > x ? i &- 1 : i
  }
}
