#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Distribution functions for inference (p-values, intervals).
public enum Distributions {
  /// The standard normal cumulative distribution `Φ(x)`.
  public static func normalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

  /// Two-sided p-value of a z statistic: `2·(1 − Φ(|z|))`, accurate in the far tail.
  public static func twoSidedNormalPValue(_ z: Double) -> Double { erfc(abs(z) / 2.0.squareRoot()) }

  /// The 97.5% quantile of the standard normal (for 95% intervals).
  public static let z975 = 1.959963984540054

  /// The chi-squared survival function `P(X > x)` with `k` degrees of freedom: the regularized upper
  /// incomplete gamma function `Q(k/2, x/2)` (series below `a + 1`, continued fraction above).
  public static func chiSquaredSurvival(_ x: Double, degreesOfFreedom k: Double) -> Double {
    guard x > 0 else { return 1 }
    return upperRegularizedGamma(k / 2, x / 2)
  }

  static func upperRegularizedGamma(_ a: Double, _ x: Double) -> Double {
    let lga: Double = Glibc.lgamma(a)
    if x < a + 1 {
      var sum = 1 / a
      var term = sum
      var n = a
      for _ in 0..<1000 {
        n += 1
        term *= x / n
        sum += term
        if abs(term) < abs(sum) * 1e-16 { break }
      }
      return max(0, 1 - sum * exp(-x + a * log(x) - lga))
    }
    // Lentz's continued fraction.
    let tiny = 1e-300
    var b = x + 1 - a
    var c = 1 / tiny
    var d = 1 / b
    var h = d
    for i in 1...1000 {
      let an = -Double(i) * (Double(i) - a)
      b += 2
      d = an * d + b
      if abs(d) < tiny { d = tiny }
      c = b + an / c
      if abs(c) < tiny { c = tiny }
      d = 1 / d
      let delta = d * c
      h *= delta
      if abs(delta - 1) < 1e-16 { break }
    }
    return exp(-x + a * log(x) - lga) * h
  }
}
