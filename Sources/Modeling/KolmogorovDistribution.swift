import Foundation

/// The distribution of the two-sided one-sample Kolmogorov–Smirnov statistic `D_n` for a finite `n`, as
/// `scipy.stats.kstwo` computes it (Simard and L'Ecuyer 2011): exact where an exact method is affordable — the
/// Ruben–Gambino closed forms near the ends, the Durbin matrix in the Marsaglia–Tsang–Wang form, and
/// `2·P(D⁺_n > x)` (Birnbaum–Tingey) for `x ≥ ½` — and beyond, the same approximations scipy picks (the Miller
/// approximation `2·P(D⁺_n > x)`, or Pelz–Good's expansion). Where scipy uses Pomeranz's recursion the Durbin
/// matrix is used instead: both are exact, so they agree to rounding.
///
/// `ks_2samp` uses it with `n = round(n₁·n₂/(n₁+n₂))` for samples too large for its exact lattice count.
public enum KolmogorovDistribution {
  /// `P(D_n > x)`, clipped to [0, 1].
  public static func survival(n: Int, x: Double) -> Double {
    precondition(n > 0, "the Kolmogorov distribution needs n ≥ 1")
    if x.isNaN { return .nan }
    if x >= 1 { return 0 }
    if x <= 0 { return 1 }
    let nd = Double(n)
    let t = nd * x
    if t <= 1 {
      // Ruben–Gambino: P(D_n ≤ x) = n!/nⁿ · (2t − 1)ⁿ for 1/(2n) ≤ x ≤ 1/n.
      if t <= 0.5 { return 1 }
      let cdf = exp(logFactorialOverPower(n) + nd * log(2 * t - 1))
      return clip(1 - cdf)
    }
    if t >= nd - 1 { return clip(2 * pow(1 - x, nd)) }  // Ruben–Gambino at the top end
    if x >= 0.5 { return clip(2 * smirnovSurvival(n: n, x: x)) }  // exact there
    let nxSquared = t * x
    if n <= 140 {
      if nxSquared <= 4 { return clip(1 - durbinMatrixCDF(n: n, x: x)) }
      return clip(2 * smirnovSurvival(n: n, x: x))  // Miller
    }
    if nxSquared >= 370 { return 0 }
    if nxSquared >= 2.2 { return clip(2 * smirnovSurvival(n: n, x: x)) }
    let cdf: Double
    if nxSquared >= 18 {
      cdf = 1
    } else if n <= 100_000 && nd * pow(x, 1.5) <= 1.4 {
      cdf = durbinMatrixCDF(n: n, x: x)
    } else {
      cdf = pelzGoodCDF(n: n, x: x)
    }
    return clip(1 - cdf)
  }

  static func clip(_ p: Double) -> Double { min(max(p, 0), 1) }

  /// `log Γ(x)` for x > 0 (the re-entrant form: no shared sign variable).
  static func logGamma(_ x: Double) -> Double {
    var sign: Int32 = 0
    return lgamma_r(x, &sign)
  }

  /// `log(n!/nⁿ)`: exactly summed for small `n`, Stirling's series (with `n·log n` taken out, so nothing cancels)
  /// beyond.
  static func logFactorialOverPower(_ n: Int) -> Double {
    let nd = Double(n)
    if n <= 140 {
      var s = 0.0
      for i in 1...n { s += log(Double(i) / nd) }
      return s
    }
    // log(n)/2 − n + log(2π)/2 + Σ B₂ⱼ / (2j(2j−1) n^(2j−1))
    let r = 1 / nd
    let r2 = r * r
    let series =
      r
      * (1.0 / 12 + r2 * (-1.0 / 360 + r2 * (1.0 / 1260 + r2 * (-1.0 / 1680 + r2 * (1.0 / 1188)))))
    return log(nd) / 2 - nd + log(2 * Double.pi) / 2 + series
  }

  /// `P(D⁺_n > x)` of the one-sided statistic, the Birnbaum–Tingey sum
  /// `x · Σ_{v=0}^{⌊n(1−x)⌋} C(n,v) (x + v/n)^(v−1) (1 − x − v/n)^(n−v)` — every term positive, each formed in logs.
  static func smirnovSurvival(n: Int, x: Double) -> Double {
    if x <= 0 { return 1 }
    if x >= 1 { return 0 }
    let nd = Double(n)
    let last = Int((nd * (1 - x)).rounded(.down))
    let logNFactorial = logGamma(nd + 1)
    var sum = 0.0
    for v in 0...max(last, 0) {
      let vd = Double(v)
      let e = x + vd / nd
      let rest = 1 - e
      var logTerm = logNFactorial - logGamma(vd + 1) - logGamma(nd - vd + 1) + (vd - 1) * log(e)
      if v < n {
        if rest <= 0 { continue }
        logTerm += (nd - vd) * log(rest)
      }
      if logTerm > -745 { sum += exp(logTerm) }
    }
    return sum * x
  }

  /// `P(D_n ≤ x)` by the Durbin matrix: with `x = (k − h)/n`, `0 ≤ h < 1`, it is `n!/nⁿ` times the central entry of
  /// `Hⁿ` for the `(2k−1)`-square matrix `H` of Durbin (1968), powered by squaring with the scale kept apart in a
  /// power of two (Marsaglia, Tsang and Wang 2003).
  static func durbinMatrixCDF(n: Int, x: Double) -> Double {
    if x >= 1 { return 1 }
    let nx = Double(n) * x
    if nx <= 0.5 { return 0 }
    let k = Int(nx.rounded(.up))
    let h = Double(k) - nx
    let m = 2 * k - 1
    // 1/j! for j = 0…m.
    var inverseFactorial = [Double](repeating: 1, count: m + 1)
    for j in 1...m { inverseFactorial[j] = inverseFactorial[j - 1] / Double(j) }
    var hMatrix = [Double](repeating: 0, count: m * m)
    for i in 0..<m {
      for j in 0..<m where i - j + 1 >= 0 { hMatrix[i * m + j] = inverseFactorial[i - j + 1] }
    }
    for i in 0..<m {
      let edge = (1 - pow(h, Double(i + 1))) * inverseFactorial[i + 1]
      hMatrix[i * m] = edge  // first column
      hMatrix[(m - 1) * m + (m - 1 - i)] = edge  // last row, reversed
    }
    hMatrix[(m - 1) * m] = (1 - 2 * pow(h, Double(m)) + pow(max(2 * h - 1, 0), Double(m))) * inverseFactorial[m]

    let scaleExponent = 128
    let scale = Double(sign: .plus, exponent: scaleExponent, significand: 1)
    var power = [Double](repeating: 0, count: m * m)
    for i in 0..<m { power[i * m + i] = 1 }
    var powerExponent = 0
    var base = hMatrix
    var baseExponent = 0
    var scratch = [Double](repeating: 0, count: m * m)
    var e = n
    let centre = (k - 1) * m + (k - 1)
    while e > 0 {
      if e & 1 == 1 {
        multiply(power, base, into: &scratch, m)
        swap(&power, &scratch)
        powerExponent += baseExponent
      }
      e >>= 1
      if e == 0 { break }
      multiply(base, base, into: &scratch, m)
      swap(&base, &scratch)
      baseExponent *= 2
      if abs(base[centre]) > scale {
        for i in base.indices { base[i] /= scale }
        baseExponent += scaleExponent
      }
    }
    // n!/nⁿ applied one factor at a time, rescaled as it shrinks.
    var p = power[centre]
    let nd = Double(n)
    for i in 1...n {
      p = Double(i) * p / nd
      if abs(p) < 1 / scale {
        p *= scale
        powerExponent -= scaleExponent
      }
    }
    return powerExponent == 0 ? p : scalbn(p, powerExponent)
  }

  private static func multiply(_ a: [Double], _ b: [Double], into c: inout [Double], _ m: Int) {
    a.withUnsafeBufferPointer { a in
      b.withUnsafeBufferPointer { b in
        c.withUnsafeMutableBufferPointer { c in
          for i in 0..<m {
            for j in 0..<m { c[i * m + j] = 0 }
            for l in 0..<m {
              let ail = a[i * m + l]
              if ail == 0 { continue }
              for j in 0..<m { c[i * m + j] += ail * b[l * m + j] }
            }
          }
        }
      }
    }
  }

  /// Pelz and Good's (1976) approximation of `P(D_n ≤ x)`: Li-Chien and Korolyuk's expansion
  /// `K₀(z) + K₁(z)/√n + K₂(z)/n + K₃(z)/n^1.5` at `z = x√n`, each term in its theta-function form for small `z`.
  static func pelzGoodCDF(n: Int, x: Double) -> Double {
    if x <= 0 { return 0 }
    if x >= 1 { return 1 }
    let nd = Double(n)
    let z = nd.squareRoot() * x
    let z2 = z * z
    let z3 = z2 * z
    let z4 = z2 * z2
    let z6 = z4 * z2
    let pi2 = Double.pi * Double.pi
    let pi4 = pi2 * pi2
    let pi6 = pi4 * pi2
    let sqrt2pi = (2 * Double.pi).squareRoot()
    let qLog = -pi2 / 8 / z2
    if qLog < -708 { return 0 }
    var q = exp(qLog)
    let k1a = -z2
    let k1b = pi2 / 4
    let k2a = 6 * z6 + 2 * z4
    let k2b = (2 * z4 - 5 * z2) * pi2 / 4
    let k2c = pi4 * (1 - 2 * z2) / 16
    let k3d = pi6 * (5 - 30 * z2) / 64
    let k3c = pi4 * (-60 * z2 + 212 * z4) / 16
    let k3b = pi2 * (135 * z4 - 96 * z6) / 4
    let k3a = -30 * z6 - 90 * z4 * z4
    // Σ over odd m = 2k − 1 of c(m) q^(m²), in Horner form over q^(8k).
    var k0 = 0.0
    var k1 = 0.0
    var k2 = 0.0
    var k3 = 0.0
    let maxK = Int((16 * z / Double.pi).rounded(.up))
    if maxK >= 1 {
      for kk in stride(from: maxK, through: 1, by: -1) {
        let m = Double(2 * kk - 1)
        let m2 = m * m
        let m4 = m2 * m2
        let m6 = m4 * m2
        let qPower = pow(q, Double(8 * kk))
        k0 = k0 * qPower + 1
        k1 = k1 * qPower + (k1a + k1b * m2)
        k2 = k2 * qPower + (k2a + k2b * m2 + k2c * m4)
        k3 = k3 * qPower + (k3a + k3b * m2 + k3c * m4 + k3d * m6)
      }
    }
    k0 *= q * sqrt2pi / z
    k1 *= q * sqrt2pi / (6 * z4)
    k2 *= q * sqrt2pi / (72 * z4 * z3)
    k3 *= q * sqrt2pi / (6480 * z6 * z4)
    // The terms over all integers k: K₂ gains (π²k²) q^(k²), K₃ (3π²k²z² − π⁴k⁴) q^(k²).
    q = exp(-pi2 / 2 / z2)
    var k2Extra = 0.0
    var k3Extra = 0.0
    let sqrt3z = 3.0.squareRoot() * z
    if maxK >= 1 {
      for kk in stride(from: maxK, through: 1, by: -1) {
        let ks = Double(kk)
        let ks2 = ks * ks
        let qp = pow(q, ks2)
        k2Extra += ks2 * qp
        let kspi = Double.pi * ks
        k3Extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ks2 * qp
      }
    }
    k2 += k2Extra * pi2 * sqrt2pi / (-36 * z3)
    k3 += k3Extra * pi2 * sqrt2pi / (216 * z6)
    return k0 + k1 / nd.squareRoot() + k2 / nd + k3 / (nd * nd.squareRoot())
  }
}
