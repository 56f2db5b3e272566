import Foundation
import LinearAlgebra

/// A cubic B-spline basis on equally spaced knots over `[lower, upper]` (Eilers & Marx's P-splines), with a
/// second-order difference penalty on its coefficients and a sum-to-zero constraint over the training values.
///
/// `count` basis functions cover `count − 3` equal intervals. A value outside the range is clamped to it (the
/// curve is flat beyond the training data). The constraint makes a smooth term identifiable beside the
/// intercept: its coefficients `β` (length `count`) are `Z·γ` for free `γ` (length `count − 1`), with `Z` the null
/// space of `centerᵀ` built around the basis function of largest mean (`pivot`), so `Σ_i f(x_i) = 0` over the
/// values the center was computed from.
///
/// With a `warp`, the knots are equally spaced on the values' quantile scale instead: a value is first mapped to
/// `lower + (upper − lower)·F(x)`, with `F` the training values' empirical distribution (linear between stored
/// quantiles, a run of tied values at the middle of its share), so that where the values are dense the curve
/// can bend more finely.
public struct PSpline: Codable, Sendable, Equatable {
  public var lower: Double
  public var upper: Double
  public var count: Int
  /// The mean of each basis function over the training values.
  public var center: [Double]
  public var pivot: Int
  /// The quantiles of the training values at 0, 1/m, …, 1 (nondecreasing) for a basis on the quantile scale;
  /// `nil` for equally spaced knots on the values.
  public var warp: [Double]? = nil

  /// The quantiles a warped basis stores (`m + 1` of them, at 0, 1/m, …, 1).
  public static let warpQuantiles = 200

  /// The quantiles of `values` at 0, 1/m, …, 1 (`m = warpQuantiles`), for a warped basis.
  public static func quantiles(_ values: [Double]) -> [Double] {
    let sorted = RadixSort.sorted(values.filter(\.isFinite))
    guard let first = sorted.first else { return [0, 1] }
    let m = warpQuantiles
    return (0...m).map { k in
      let position = Double(k) / Double(m) * Double(sorted.count - 1)
      let i = Int(position.rounded(.down))
      let t = position - Double(i)
      return i + 1 < sorted.count ? sorted[i] + (sorted[i + 1] - sorted[i]) * t : sorted.last ?? first
    }
  }

  /// `x` on the quantile scale of `points` (the stored quantiles), stretched over `[lower, upper]`.
  @inline(__always)
  public static func warped(_ x: Double, points: [Double], lower: Double, upper: Double) -> Double {
    guard points.count > 1 else { return x }
    return points.withUnsafeBufferPointer {
      warped(x, points: $0.baseAddress!, count: $0.count, lower: lower, upper: upper)
    }
  }

  /// `warped(_:points:lower:upper:)` with the quantiles in memory (`count` of them).
  @inlinable @inline(__always)
  public static func warped(
    _ x: Double, points q: UnsafePointer<Double>, count: Int, lower: Double, upper: Double
  ) -> Double {
    let m = count - 1
    guard m > 0, !x.isNaN else { return x }
    if x < q[0] { return lower }
    if x > q[m] { return upper }
    // The first quantile above x (m + 1 when none is).
    var lo = 0
    var hi = m + 1
    while lo < hi {
      let mid = (lo + hi) / 2
      if q[mid] > x { hi = mid } else { lo = mid + 1 }
    }
    let above = lo
    let f: Double
    if above > 0 && q[above - 1] == x {
      // x is a stored quantile, or a run of them (a value many rows share): the middle of their share.
      var a = 0
      var b = above - 1
      while a < b {
        let mid = (a + b) / 2
        if q[mid] >= x { b = mid } else { a = mid + 1 }
      }
      f = (Double(a) + Double(above - 1)) / 2 / Double(m)
    } else {
      let k = above - 1
      f = (Double(k) + (x - q[k]) / (q[above] - q[k])) / Double(m)
    }
    return lower + (upper - lower) * f
  }

  /// A basis of `count` functions over the range of `values`, centered on them; with `warped`, its knots equally
  /// spaced on their quantile scale.
  /// - Precondition: `count ≥ 4` and `values` not empty.
  public init(values: [Double], count: Int, warped: Bool = false) {
    precondition(count >= 4 && !values.isEmpty)
    var lo = Double.infinity
    var hi = -Double.infinity
    for v in values where v.isFinite {
      lo = Swift.min(lo, v)
      hi = Swift.max(hi, v)
    }
    if !(hi > lo) {
      lo = lo.isFinite ? lo - 0.5 : 0
      hi = lo + 1
    }
    self.init(
      lower: lo, upper: hi, count: count, centeredOn: values, warp: warped ? PSpline.quantiles(values) : nil)
  }

  /// A basis over `[lower, upper]` (on the quantile scale `warp` when given), centered on `values`.
  public init(lower: Double, upper: Double, count: Int, centeredOn values: [Double], warp: [Double]? = nil) {
    self.lower = lower
    self.upper = upper
    self.count = count
    self.warp = warp
    center = [Double](repeating: 0, count: count)
    pivot = 0
    var b = [Double](repeating: 0, count: count)
    for v in values {
      let s = full(v, into: &b)
      for j in s..<(s + 4) { center[j] += b[j] }
      for j in s..<(s + 4) { b[j] = 0 }
    }
    let n = Double(Swift.max(values.count, 1))
    center = center.map { $0 / n }
    pivot = center.indices.max { center[$0] < center[$1] } ?? 0
    if center[pivot] <= 0 {
      // No values (a level without rows): center on the middle of the range.
      center = [Double](repeating: 1 / Double(count), count: count)
      pivot = count / 2
    }
  }

  /// Columns of the constrained basis.
  public var width: Int { count - 1 }

  /// Writes the `count` basis values at `x` into `b` (which must be zero where it is not written: only the four
  /// functions at and after the returned index are nonzero) and returns that first index.
  @inline(__always)
  func full(_ x: Double, into b: inout [Double]) -> Int {
    let (s, v) = segment(x)
    b[s] = v.0
    b[s + 1] = v.1
    b[s + 2] = v.2
    b[s + 3] = v.3
    return s
  }

  /// The first nonzero basis function at `x` and the four values from it.
  @inline(__always)
  public func segment(_ x: Double) -> (Int, (Double, Double, Double, Double)) {
    if let warp {
      return PSpline.segment(
        PSpline.warped(x, points: warp, lower: lower, upper: upper), lower: lower, upper: upper, count: count)
    }
    return PSpline.segment(x, lower: lower, upper: upper, count: count)
  }

  /// `segment(_:)` of the basis of `count` functions over `[lower, upper]`, for callers that keep only those three.
  @inline(__always)
  public static func segment(_ x: Double, lower: Double, upper: Double, count: Int) -> (
    Int, (Double, Double, Double, Double)
  ) {
    let intervals = count - 3
    let h = (upper - lower) / Double(intervals)
    let clamped = x.isNaN ? lower : Swift.min(Swift.max(x, lower), upper)
    let u = (clamped - lower) / h
    let s = Swift.min(Swift.max(Int(u.rounded(.down)), 0), intervals - 1)
    let t = u - Double(s)
    let t2 = t * t
    let t3 = t2 * t
    let w = 1 - t
    return (s, (w * w * w / 6, (3 * t3 - 6 * t2 + 4) / 6, (-3 * t3 + 3 * t2 + 3 * t + 1) / 6, t3 / 6))
  }

  /// The constrained basis at `x`: `width` values written to `out`.
  @inline(__always)
  public func constrained(_ x: Double, into out: UnsafeMutablePointer<Double>) {
    let (s, v) = segment(x)
    @inline(__always) func value(_ j: Int) -> Double {
      switch j - s {
      case 0: return v.0
      case 1: return v.1
      case 2: return v.2
      case 3: return v.3
      default: return 0
      }
    }
    let ratio = value(pivot) / center[pivot]
    var k = 0
    for j in 0..<count where j != pivot {
      out[k] = value(j) - ratio * center[j]
      k += 1
    }
  }

  /// The constraint matrix `Z` (`count × width`, row-major).
  public var constraint: [Double] {
    var z = [Double](repeating: 0, count: count * width)
    var k = 0
    for j in 0..<count where j != pivot {
      z[j * width + k] = 1
      z[pivot * width + k] = -center[j] / center[pivot]
      k += 1
    }
    return z
  }

  /// The second-order difference penalty `DᵀD` on the unconstrained coefficients (`count × count`).
  public static func differencePenalty(count k: Int) -> [Double] {
    var s = [Double](repeating: 0, count: k * k)
    for r in 0..<(k - 2) {
      let d = [(r, 1.0), (r + 1, -2.0), (r + 2, 1.0)]
      for (i, a) in d { for (j, b) in d { s[i * k + j] += a * b } }
    }
    return s
  }

  /// The penalty on the constrained coefficients, `Zᵀ·DᵀD·Z` (`width × width`); rank `count − 2`.
  ///
  /// - Throws: when the basis is inconsistent (a stored one whose constraint does not hold `count × width` values).
  public func penalty() throws(ModelingError) -> [Double] {
    guard count >= 2 else { throw .invalidArgument("a P-spline basis needs at least 2 functions, got \(count)") }
    return try ModelingError.wrapping { () throws(LinearAlgebraError) in
      let s = try Matrix(rows: count, columns: count, elements: PSpline.differencePenalty(count: count))
      let z = try Matrix(rows: count, columns: width, elements: constraint)
      return try Matrix.product(try Matrix.product(z, s, transposeA: true), z).elements
    }
  }
}
