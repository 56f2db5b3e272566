import Foundation
import Testing

@testable import Modeling

/// Reference values: scipy 1.17.1, `python3 Scripts/reference/drift_reference.py` (same formulas as here).
@Suite struct DriftStatisticsTests {
  let a = (0..<150).map { Double($0 * 37 % 101) / 10 }.sorted()
  let b = (0..<120).map { Double($0 * 53 % 97) / 9 + 0.5 }.sorted()
  let c = (0..<150).map { Double($0 * 29 % 89) / 8.9 + 1.2 }.sorted()
  let d = (0..<1300).map { Double($0 * 13 % 211) / 21.1 + 0.3 }.sorted()

  func close(_ x: Double, _ y: Double, _ tolerance: Double = 1e-9) -> Bool { abs(x - y) <= tolerance }

  @Test func kolmogorovSmirnovMatchesScipyExactly() {
    let cases: [([Double], [Double], Double, Double)] = [
      (a, b, 0.10833333333333334, 0.38772740023281366),
      (a, c, 0.14666666666666667, 0.07930977331891072),  // equal sizes: the square formula
      (a, d, 0.04256410256410256, 0.9592944584344734),
      (b, d, 0.09166666666666666, 0.29544438634764),
    ]
    for (x, y, statistic, p) in cases {
      let r = DriftStatistics.kolmogorovSmirnov(x, y)
      #expect(close(r.statistic, statistic), "D \(r.statistic) vs \(statistic)")
      #expect(close(r.pValue, p), "p \(r.pValue) vs \(p)")
      // Symmetric in its samples.
      #expect(close(DriftStatistics.kolmogorovSmirnov(y, x).pValue, p))
    }
    // Identical samples: D = 0, p = 1.
    #expect(DriftStatistics.kolmogorovSmirnov(a, a) == (0, 1))
  }

  @Test func kolmogorovSmirnovLargeSamplesUseTheLimit() {
    // Beyond 10,000 values the limiting distribution: a shift of 0.05 standard units over 20,000 values is drift.
    let x = (0..<20000).map { Double($0) / 20000 }
    let y = (0..<20000).map { Double($0) / 20000 + 0.05 }
    let r = DriftStatistics.kolmogorovSmirnov(x, y)
    #expect(close(r.statistic, 0.05, 1e-3))
    #expect(r.pValue < 1e-10)
    let same = DriftStatistics.kolmogorovSmirnov(x, x.map { $0 + 1e-9 })
    #expect(same.pValue > 0.99)
    // The limit at a known point: P(K > 1) = 0.26999967167735456 (scipy.special.kolmogorov(1)).
    #expect(close(DriftStatistics.kolmogorovSurvival(1), 0.26999967167735456, 1e-12))
    #expect(close(DriftStatistics.kolmogorovSurvival(0.5), 0.9639452436648751, 1e-12))
  }

  @Test func wassersteinMatchesScipy() {
    #expect(close(DriftStatistics.wasserstein(a, b), 0.7605555555555557))
    #expect(close(DriftStatistics.wasserstein(a, d), 0.3035690849434922))
    #expect(close(DriftStatistics.populationDeviation(a), 2.916384748279966))
    #expect(DriftStatistics.wasserstein(a, a) == 0)
  }

  @Test func chiSquareJensenShannonAndZMatchScipy() {
    let observed = [30.0, 45, 25, 20]
    let reference = [100.0, 120, 90, 40]
    let scale = observed.reduce(0, +) / reference.reduce(0, +)
    let chi = DriftStatistics.chiSquare(observed: observed, expected: reference.map { $0 * scale })
    #expect(close(chi.statistic, 4.890046296296296))
    #expect(close(chi.pValue, 0.18002783524143334))
    #expect(close(DriftStatistics.jensenShannon(reference, observed), 0.06850785988323267))
    #expect(close(DriftStatistics.jensenShannon([5, 0, 3], [1, 2, 0]), 0.619323943413279))
    let z = DriftStatistics.zTest(reference: 40, referenceRows: 300, current: 70, currentRows: 400)
    #expect(close(z.statistic, -1.4990152562839916))
    #expect(close(z.pValue, 0.1338696742598675))
    // A level the reference never had: infinite statistic, p = 0.
    let novel = DriftStatistics.chiSquare(observed: [5, 5, 2], expected: [6, 6, 0])
    #expect(novel.statistic.isInfinite && novel.pValue == 0)
  }

  @Test func evidentlysChoiceOfTest() {
    // Small reference, many values: KS.
    let ks = DriftStatistics.numeric(
      reference: a, referenceRows: a.count, referenceDeviation: DriftStatistics.populationDeviation(a), current: c)
    #expect(ks?.test == .kolmogorovSmirnov)
    #expect(ks.map { close($0.pValue!, 0.07930977331891072) } == true)
    #expect(ks?.drifted == false)
    // Large reference: the normed Wasserstein distance, drift from 0.1.
    let w = DriftStatistics.numeric(
      reference: d, referenceRows: d.count, referenceDeviation: DriftStatistics.populationDeviation(d), current: b)
    #expect(w?.test == .wasserstein)
    #expect(
      w.map { close($0.statistic, DriftStatistics.wasserstein(d, b) / DriftStatistics.populationDeviation(d)) }
        == true)
    // Few distinct numbers: categories (chi-squared for 3, Z for 2).
    let three = DriftStatistics.numeric(
      reference: [1, 1, 2, 2, 3, 3], referenceRows: 6, referenceDeviation: 0.8, current: [1, 2, 3, 3, 3, 3])
    #expect(three?.test == .chiSquared)
    let two = DriftStatistics.categorical(reference: [260, 40], current: [330, 70])
    #expect(two?.test == .zTest)
    #expect(two.map { close($0.pValue!, 0.1338696742598675) } == true)
    // Large categorical reference: Jensen–Shannon.
    let js = DriftStatistics.categorical(reference: [1000, 1200, 900, 400], current: [30, 45, 25, 20])
    #expect(js?.test == .jensenShannon)
    #expect(js.map { close($0.statistic, 0.06850785988323267) && !$0.drifted } == true)
    // Empty samples: no test.
    #expect(DriftStatistics.numeric(reference: [], referenceRows: 0, referenceDeviation: 0, current: a) == nil)
    #expect(DriftStatistics.categorical(reference: [0, 0], current: [1, 2]) == nil)
  }

  @Test func sketchKeepsSmallSamplesWhole() {
    #expect(DriftStatistics.sketch(sorted: a, limit: 200) == a)
    let s = DriftStatistics.sketch(sorted: d, limit: 100)
    #expect(s.count == 100)
    #expect(s == s.sorted())
    // The sketch's Wasserstein distance to the full sample is small against its spread.
    #expect(DriftStatistics.wasserstein(s, d) < 0.02 * DriftStatistics.populationDeviation(d))
  }
}
