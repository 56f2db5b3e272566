import Foundation

/// The population stability index (PSI) of a distribution over bins against a reference, and the verdict it
/// supports — for `churn drift` and `fraud stream --stats-every` alike.
///
/// ```
/// PSI = Σ (a − e) · ln(a / e)      shares a (now) and e (reference) per bin, each floored at 1e-4
/// ```
/// Below 0.1 the distribution is stable, from 0.1 a moderate shift, from 0.25 a major one. On a small sample the
/// shares are noisy (ten equal bins give a PSI near 9 / n with no shift at all, and an empty bin adds 0.7), so
/// no shift is claimed on fewer than `minimumSample` observations: the verdict says how many there were.
public enum PopulationStability {
  /// The fewest observations on which a shift is judged.
  public static let minimumSample = 100

  /// The verdict on a distribution.
  public enum Verdict: String, Sendable, Codable, Equatable {
    case stable, moderate, major
    /// Fewer observations than `minimumSample`: no verdict.
    case tooFew = "too_few"
  }

  /// `Σ (a − e)·ln(a / e)` over bins, shares floored at 1e-4.
  public static func index(expected: [Double], actual: [Double]) -> Double {
    var total = 0.0
    for (e, a) in zip(expected, actual) {
      let ee = max(e, 1e-4)
      let aa = max(a, 1e-4)
      total += (aa - ee) * log(aa / ee)
    }
    return total
  }

  /// The verdict on `psi` computed from `sample` observations.
  public static func verdict(_ psi: Double, sample: Int) -> Verdict {
    if sample < minimumSample { return .tooFew }
    return psi >= 0.25 ? .major : (psi >= 0.1 ? .moderate : .stable)
  }
}
