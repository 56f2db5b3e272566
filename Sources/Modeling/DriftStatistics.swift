import Foundation

/// Two-sample drift tests of one column, as Evidently chooses them by default, computed as scipy computes them.
///
/// | reference rows | numbers (more than 5 distinct values) | numbers (≤ 5 distinct) or categories |
/// |---|---|---|
/// | ≤ 1,000 | Kolmogorov–Smirnov, drift when p < 0.05 | chi-squared (more than 2 values) or Z-test for two proportions (2), p < 0.05 |
/// | > 1,000 | Wasserstein distance over the reference's standard deviation, drift from 0.1 | Jensen–Shannon distance, drift from 0.1 |
///
/// Distinct values are counted over both samples together; missing values are left out of every test.
public enum DriftStatistics {
  /// Reference rows up to which the tests are the small-sample ones.
  public static let smallReference = 1000
  /// Distinct values up to which a numeric column is tested as categories.
  public static let fewDistinct = 5

  /// The test behind a verdict.
  public enum Test: String, Sendable, Codable, Equatable {
    case kolmogorovSmirnov = "ks"
    case chiSquared = "chi_squared"
    case zTest = "z_test"
    case wasserstein = "wasserstein_normed"
    case jensenShannon = "jensen_shannon"

    /// p-value tests drift below 0.05; distances from 0.1.
    public var threshold: Double { isPValue ? 0.05 : 0.1 }
    public var isPValue: Bool { self == .kolmogorovSmirnov || self == .chiSquared || self == .zTest }
  }

  /// One column's test: the statistic, the p-value (tests) or the distance itself (distances), and the verdict.
  public struct Result: Sendable, Codable, Equatable {
    public var test: Test
    public var statistic: Double
    /// The p-value of a test; nil for a distance.
    public var pValue: Double?
    /// What the verdict compares with `threshold`: the p-value or the distance.
    public var score: Double { pValue ?? statistic }
    public var threshold: Double
    public var drifted: Bool
    public var referenceCount: Int
    public var currentCount: Int
  }

  // MARK: Choosing and running the test

  /// Tests numbers: `reference` sorted with `referenceWeights` (nil: each value once; a quantile sketch of a large
  /// reference gives each of its values the same weight), `referenceRows` how many values the reference stands for,
  /// `referenceDeviation` the reference's population standard deviation; `current` sorted.
  public static func numeric(
    reference: [Double], referenceRows: Int, referenceDeviation: Double, current: [Double]
  ) -> Result? {
    guard !reference.isEmpty, !current.isEmpty else { return nil }
    let distinct = distinctCount(reference, current, limit: fewDistinct + 1)
    if distinct <= fewDistinct {
      // Few values: test them as categories, keyed by value.
      var keys = [Double]()
      for v in reference where !keys.contains(v) { keys.append(v) }
      for v in current where !keys.contains(v) { keys.append(v) }
      keys.sort()
      let scale = Double(referenceRows) / Double(reference.count)
      let r = keys.map { k in Double(reference.lazy.filter { $0 == k }.count) * scale }
      let c = keys.map { k in Double(current.lazy.filter { $0 == k }.count) }
      return categorical(reference: r, current: c)
    }
    let n = current.count
    if referenceRows <= smallReference {
      let (d, p) = kolmogorovSmirnov(reference, current)
      return Result(
        test: .kolmogorovSmirnov, statistic: d, pValue: p, threshold: 0.05, drifted: p < 0.05,
        referenceCount: referenceRows, currentCount: n)
    }
    let w = wasserstein(reference, current) / max(referenceDeviation, 0.001)
    return Result(
      test: .wasserstein, statistic: w, pValue: nil, threshold: 0.1, drifted: w >= 0.1, referenceCount: referenceRows,
      currentCount: n)
  }

  /// Tests categories given as counts per level, the same levels in the same order for both samples (levels absent
  /// from both are dropped).
  public static func categorical(reference: [Double], current: [Double]) -> Result? {
    precondition(reference.count == current.count, "one count per level in both samples")
    var r = [Double]()
    var c = [Double]()
    for (a, b) in zip(reference, current) where a > 0 || b > 0 {
      r.append(a)
      c.append(b)
    }
    let nr = r.reduce(0, +)
    let nc = c.reduce(0, +)
    guard nr > 0, nc > 0 else { return nil }
    let (refRows, curRows) = (Int(nr.rounded()), Int(nc.rounded()))
    if refRows <= smallReference {
      if r.count > 2 {
        let scale = nc / nr
        let (x2, p) = chiSquare(observed: c, expected: r.map { $0 * scale })
        return Result(
          test: .chiSquared, statistic: x2, pValue: p, threshold: 0.05, drifted: p < 0.05, referenceCount: refRows,
          currentCount: curRows)
      }
      // Two values, or one: the share of the second value in each sample.
      let (z, p) =
        r.count == 2 ? zTest(reference: r[1], referenceRows: nr, current: c[1], currentRows: nc) : (0.0, 1.0)
      return Result(
        test: .zTest, statistic: z, pValue: p, threshold: 0.05, drifted: p < 0.05, referenceCount: refRows,
        currentCount: curRows)
    }
    let js = jensenShannon(r, c)
    return Result(
      test: .jensenShannon, statistic: js, pValue: nil, threshold: 0.1, drifted: js >= 0.1, referenceCount: refRows,
      currentCount: curRows)
  }

  /// Distinct values of two sorted arrays together, counting no further than `limit`.
  static func distinctCount(_ a: [Double], _ b: [Double], limit: Int) -> Int {
    var seen = [Double]()
    for v in a where !seen.contains(v) {
      seen.append(v)
      if seen.count >= limit { return limit }
    }
    for v in b where !seen.contains(v) {
      seen.append(v)
      if seen.count >= limit { return limit }
    }
    return seen.count
  }

  // MARK: The statistics

  /// Two-sided two-sample Kolmogorov–Smirnov test of sorted samples, as `scipy.stats.ks_2samp(a, b)`: the statistic
  /// `D = sup |F_a − F_b|` and its p-value — exact (the lattice-path counts of Hodges, in the 1 − p recursion of
  /// Viehmann) when neither sample exceeds 10,000 values; beyond, as scipy's asymptotic method, the one-sample
  /// distribution of `D_N` at `N = round(n·m/(n+m))` (``KolmogorovDistribution``).
  public static func kolmogorovSmirnov(_ a: [Double], _ b: [Double]) -> (statistic: Double, pValue: Double) {
    let n1 = a.count
    let n2 = b.count
    precondition(n1 > 0 && n2 > 0, "ks needs two non-empty samples")
    // The largest gap between the two empirical CDFs, at every value of either sample (right-continuous CDFs).
    var i = 0
    var j = 0
    var d = 0.0
    while i < n1 || j < n2 {
      let x = i < n1 && (j >= n2 || a[i] <= b[j]) ? a[i] : b[j]
      while i < n1 && a[i] <= x { i += 1 }
      while j < n2 && b[j] <= x { j += 1 }
      d = max(d, abs(Double(i) / Double(n1) - Double(j) / Double(n2)))
    }
    if max(n1, n2) <= 10000 {
      let g = gcd(n1, n2)
      let lcm = Double(n1 / g) * Double(n2)
      let h = Int((d * lcm).rounded(.toNearestOrEven))
      let exactD = Double(h) / lcm
      if h == 0 { return (exactD, 1) }
      let p = n1 == n2 ? outsideSquare(n1, h) : outsideInside(n1, n2, g, h)
      if p.isFinite && p >= 0 && p <= 1 { return (exactD, p) }
    }
    let (m, n) = (Double(max(n1, n2)), Double(min(n1, n2)))
    let en = max(Int((m * n / (m + n)).rounded(.toNearestOrEven)), 1)
    return (d, KolmogorovDistribution.survival(n: en, x: d))
  }

  static func gcd(_ a: Int, _ b: Int) -> Int {
    var (x, y) = (a, b)
    while y != 0 { (x, y) = (y, x % y) }
    return x
  }

  /// `P(D_{n,n} ≥ h/n)`: twice the alternating sum of the paths beyond the lines `x − y = ±k·h`, in Horner form.
  static func outsideSquare(_ n: Int, _ h: Int) -> Double {
    var p = 0.0
    var k = n / h
    while k >= 0 {
      var p1 = 1.0
      for j in 0..<h { p1 = Double(n - k * h - j) * p1 / Double(n + k * h + j + 1) }
      p = p1 * (1 - p)
      k -= 1
    }
    return 2 * p
  }

  /// The share of lattice paths from (0,0) to (m,n) that leave the band `|x/m − y/n| < h/lcm(m,n)`, computed
  /// directly as 1 − the share inside, column by column over a sliding window.
  static func outsideInside(_ m0: Int, _ n0: Int, _ g: Int, _ h: Int) -> Double {
    let (m, n) = m0 >= n0 ? (m0, n0) : (n0, m0)
    let mg = m / g
    let ng = n / g
    var minj = 0
    var maxj = min(Int((Double(h) / Double(mg)).rounded(.up)), n + 1)
    var curlen = maxj - minj
    let lenA = min(2 * maxj + 2, n + 1)
    var a = [Double](repeating: 1, count: max(lenA, 1))
    for k in minj..<maxj { a[k] = 0 }
    for i in 1...m {
      let lastminj = minj
      let lastlen = curlen
      minj = max(Int((Double(ng * i - h) / Double(mg)).rounded(.down)) + 1, 0)
      minj = min(minj, n)
      maxj = min(Int((Double(ng * i + h) / Double(mg)).rounded(.up)), n + 1)
      if maxj <= minj { return 1 }
      var val = minj == 0 ? 0.0 : 1.0
      for jj in 0..<(maxj - minj) {
        let j = jj + minj
        val = (a[jj + minj - lastminj] * Double(i) + val * Double(j)) / Double(i + j)
        a[jj] = val
      }
      curlen = maxj - minj
      if lastlen > curlen {
        for k in (maxj - minj)..<(maxj - minj + lastlen - curlen) where k < a.count { a[k] = 1 }
      }
    }
    return a[maxj - minj - 1]
  }

  /// Pearson's chi-squared goodness of fit, as `scipy.stats.chisquare(observed, expected)`: the statistic
  /// `Σ (o − e)²/e` and its chi-squared survival on `k − 1` degrees of freedom (an expected 0 with an observed
  /// count makes the statistic infinite and the p-value 0).
  public static func chiSquare(observed: [Double], expected: [Double]) -> (statistic: Double, pValue: Double) {
    var x2 = 0.0
    for (o, e) in zip(observed, expected) {
      if e == 0 {
        if o != 0 { x2 = .infinity }
        continue
      }
      x2 += (o - e) * (o - e) / e
    }
    let df = Double(observed.count - 1)
    guard df > 0 else { return (x2, 1) }
    return (x2, x2.isInfinite ? 0 : Distributions.chiSquaredSurvival(x2, degreesOfFreedom: df))
  }

  /// The two-proportion Z-test Evidently runs for two values: `z = (p₁ − p₂)/√(P(1−P)(1/n₁ + 1/n₂))` with the
  /// pooled share P, and its two-sided normal p-value (1 when both samples hold one and the same value).
  public static func zTest(reference: Double, referenceRows n1: Double, current: Double, currentRows n2: Double)
    -> (statistic: Double, pValue: Double)
  {
    let p1 = reference / n1
    let p2 = current / n2
    let pooled = (reference + current) / (n1 + n2)
    let variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    guard variance > 0 else { return (0, 1) }
    let z = (p1 - p2) / variance.squareRoot()
    return (z, Distributions.twoSidedNormalPValue(z))
  }

  /// The first Wasserstein distance between two sorted samples, as `scipy.stats.wasserstein_distance(u, v)`:
  /// `∫ |F_u − F_v|` over the values of both.
  public static func wasserstein(_ u: [Double], _ v: [Double]) -> Double {
    let nu = Double(u.count)
    let nv = Double(v.count)
    var i = 0
    var j = 0
    var total = 0.0
    var previous: Double? = nil
    var fu = 0.0
    var fv = 0.0
    while i < u.count || j < v.count {
      let x = i < u.count && (j >= v.count || u[i] <= v[j]) ? u[i] : v[j]
      if let previous { total += abs(fu - fv) * (x - previous) }
      while i < u.count && u[i] <= x { i += 1 }
      while j < v.count && v[j] <= x { j += 1 }
      fu = Double(i) / nu
      fv = Double(j) / nv
      previous = x
    }
    return total
  }

  /// The Jensen–Shannon distance of two distributions given as counts or shares per bin, as
  /// `scipy.spatial.distance.jensenshannon(p, q)` (natural logarithm): `√((KL(p‖m) + KL(q‖m))/2)`, `m = (p+q)/2`.
  public static func jensenShannon(_ p0: [Double], _ q0: [Double]) -> Double {
    let sp = p0.reduce(0, +)
    let sq = q0.reduce(0, +)
    var total = 0.0
    for (a, b) in zip(p0, q0) {
      let p = a / sp
      let q = b / sq
      let m = (p + q) / 2
      if p > 0 { total += p * log(p / m) }
      if q > 0 { total += q * log(q / m) }
    }
    return max(total / 2, 0).squareRoot()
  }

  /// The population standard deviation (`numpy.std`).
  public static func populationDeviation(_ x: [Double]) -> Double {
    guard !x.isEmpty else { return 0 }
    let mean = x.reduce(0, +) / Double(x.count)
    var s = 0.0
    for v in x { s += (v - mean) * (v - mean) }
    return (s / Double(x.count)).squareRoot()
  }

  /// At most `limit` values standing for sorted `values`: all of them when there are no more, else the quantiles at
  /// `(k + ½)/limit` — the evenly weighted sketch `numeric(reference:…)` takes for a large reference.
  public static func sketch(sorted values: [Double], limit: Int = 2000) -> [Double] {
    guard values.count > limit else { return values }
    return (0..<limit).map { k in values[min(values.count - 1, (2 * k + 1) * values.count / (2 * limit))] }
  }
}
