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

  @Test func kolmogorovSmirnovLargeSamplesUseTheFiniteNDistribution() {
    // Beyond 10,000 values scipy's asymptotic method: kstwo.sf(D, round(n·m/(n+m))).
    let e = (0..<20011).map { Double($0 * 7919 % 20011) / 20011 }.sorted()
    let f = (0..<157).map { Double($0 * 31 % 157) / 157 * 1.08 + 0.01 }.sorted()
    let g = (0..<12007).map { Double($0 * 101 % 12007) / 12007 * 0.97 + 0.02 }.sorted()
    let ef = DriftStatistics.kolmogorovSmirnov(e, f)
    #expect(close(ef.statistic, 0.08287543761759053))
    #expect(abs(ef.pValue - 0.22165288343127054) <= 1e-9)
    let eg = DriftStatistics.kolmogorovSmirnov(e, g)
    #expect(close(eg.statistic, 0.020038986885687927))
    #expect(abs(eg.pValue - 0.0047614622490393665) <= 1e-9)
    #expect(close(DriftStatistics.kolmogorovSmirnov(g, e).pValue, eg.pValue, 1e-15))
    let x = (0..<20000).map { Double($0) / 20000 }
    let same = DriftStatistics.kolmogorovSmirnov(x, x.map { $0 + 1e-9 })
    #expect(same.pValue > 0.99)
  }

  @Test func kolmogorovDistributionMatchesScipyKstwo() {
    for (n, x, sf) in Self.kstwoGrid {
      let ours = KolmogorovDistribution.survival(n: n, x: x)
      // To 1e-9 absolutely, and to 1e-9 relatively where the value is small but not negligible.
      #expect(abs(ours - sf) <= 1e-9, "n \(n) x \(x): \(ours) against \(sf)")
      if sf > 1e-200 { #expect(abs(ours - sf) <= 1e-9 * sf + 1e-15, "n \(n) x \(x): \(ours) against \(sf)") }
    }
    #expect(KolmogorovDistribution.survival(n: 10, x: 0) == 1)
    #expect(KolmogorovDistribution.survival(n: 10, x: 1) == 0)
    #expect(KolmogorovDistribution.survival(n: 10, x: -0.5) == 1)
    #expect(KolmogorovDistribution.survival(n: 10, x: .nan).isNaN)
  }

  /// scipy.stats.kstwo.sf(x, n) on a grid reaching each of its methods (Scripts/reference/drift_reference.py).
  static let kstwoGrid: [(Int, Double, Double)] = [
    (1, 0.3, 1.0),
    (1, 0.75, 0.5),
    (1, 0.5, 1.0),
    (1, 0.8, 0.3999999999999999),
    (1, 0.55, 0.8999999999999999),
    (1, 0.5, 1.0),
    (2, 0.15, 1.0),
    (2, 0.375, 0.875),
    (2, 0.75, 0.125),
    (2, 0.35355339059327373, 0.9142135623730951),
    (2, 0.565685424949238, 0.37725830020304796),
    (2, 0.7778174593052023, 0.09873016277919087),
    (2, 0.9899494936611664, 0.00020202535533387045),
    (2, 0.55, 0.4049999999999999),
    (2, 0.75, 0.125),
    (5, 0.06, 1.0),
    (5, 0.15, 0.9988),
    (5, 0.3, 0.664),
    (5, 0.22360679774997896, 0.9162082822963654),
    (5, 0.35777087639996635, 0.4415172023820515),
    (5, 0.49193495504995377, 0.12308798429633927),
    (5, 0.626099033699941, 0.020341470622224973),
    (5, 0.84970583144992, 0.00015337008087284936),
    (5, 0.55, 0.059696249999999965),
    (5, 0.9, 1.9999999999999978e-05),
    (10, 0.03, 1.0),
    (10, 0.075, 0.999999645625),
    (10, 0.15, 0.95396527),
    (10, 0.15811388300841897, 0.9316945195670987),
    (10, 0.25298221281347033, 0.46922582172431215),
    (10, 0.3478505426185217, 0.1384087869643037),
    (10, 0.44271887242357305, 0.02648543633300804),
    (10, 0.600832755431992, 0.0005543276897603593),
    (10, 0.8221921916437787, 6.48927338578794e-08),
    (10, 0.55, 0.0022805103214843725),
    (10, 0.95, 1.9531250000000172e-13),
    (37, 0.008108108108108109, 1.0),
    (37, 0.02027027027027027, 1.0),
    (37, 0.04054054054054054, 0.999999691230628),
    (37, 0.08219949365267865, 0.9463795287305802),
    (37, 0.13151918984428584, 0.5026871857905336),
    (37, 0.18083888603589304, 0.1569598334598571),
    (37, 0.2301585822275002, 0.03318627525732776),
    (37, 0.31235807588017883, 0.0010486441005486125),
    (37, 0.427437366993929, 1.1832641855324597e-06),
    (37, 0.8219949365267865, 5.548462939680712e-28),
    (37, 0.55, 4.86700325649928e-11),
    (37, 0.9864864864864865, 1.3786574297091475e-69),
    (140, 0.002142857142857143, 1.0),
    (140, 0.005357142857142857, 1.0),
    (140, 0.010714285714285714, 1.0),
    (140, 0.042257712736425826, 0.9548772475800795),
    (140, 0.06761234037828133, 0.522084041434605),
    (140, 0.09296696802013683, 0.16690852766612044),
    (140, 0.11832159566199231, 0.03644183421402464),
    (140, 0.16057930839841814, 0.0012747445780697598),
    (140, 0.2197401062294143, 2.040479885812392e-06),
    (140, 0.4225771273642583, 3.4655579885233975e-23),
    (140, 0.55, 2.6809421873061284e-40),
    (140, 0.9964285714285714, 0.0),
    (141, 0.002127659574468085, 1.0),
    (141, 0.005319148936170213, 1.0),
    (141, 0.010638297872340425, 1.0),
    (141, 0.04210759605332595, 0.9549094893418928),
    (141, 0.06737215368532153, 0.5221577963245764),
    (141, 0.0926367113173171, 0.16694579873784998),
    (141, 0.11790126894931265, 0.036454276766098026),
    (141, 0.1600088650026386, 0.001275518040145407),
    (141, 0.21895949947729496, 2.0434741230603357e-06),
    (141, 0.42107596053325946, 3.5279048855551754e-23),
    (141, 0.55, 1.3938684369330333e-40),
    (141, 0.9964539007092199, 0.0),
    (500, 0.0006, 1.0),
    (500, 0.0015, 1.0),
    (500, 0.003, 1.0),
    (500, 0.022360679774997897, 0.959154992904892),
    (500, 0.03577708763999664, 0.5322609545817769),
    (500, 0.049193495504995376, 0.17195543128938717),
    (500, 0.0626099033699941, 0.037994419578795235),
    (500, 0.084970583144992, 0.0013712625981535517),
    (500, 0.11627553482998906, 2.401193849464937e-06),
    (500, 0.22360679774997896, 1.9166940156188108e-22),
    (500, 0.55, 1.4616283508892008e-142),
    (500, 0.999, 0.0),
    (1000, 0.0003, 1.0),
    (1000, 0.00075, 1.0),
    (1000, 0.0015, 1.0),
    (1000, 0.015811388300841896, 0.9605616144751687),
    (1000, 0.025298221281347035, 0.5356909657557909),
    (1000, 0.034785054261852175, 0.17363268999253179),
    (1000, 0.04427188724235731, 0.03849503290830236),
    (1000, 0.060083275543199206, 0.0014001930060320185),
    (1000, 0.08221921916437787, 2.500187458471668e-06),
    (1000, 0.15811388300841897, 2.647229538840343e-22),
    (1000, 0.55, 1.356299236791213e-284),
    (1000, 0.9995, 0.0),
    (4999, 6.001200240048009e-05, 1.0),
    (4999, 0.00015003000600120024, 1.0),
    (4999, 0.0003000600120024005, 1.0),
    (4999, 0.007071775024730361, 0.9624347169650428),
    (4999, 0.011314840039568577, 0.5403320830565652),
    (4999, 0.015557905054406794, 0.17588433487695554),
    (4999, 0.019800970069245007, 0.03915490482706674),
    (4999, 0.02687274509397537, 0.0014364080300134285),
    (4999, 0.03677323012859787, 2.613441410664415e-06),
    (4999, 0.0707177502473036, 3.4879470869725786e-22),
    (4999, 0.55, 0.0),
    (4999, 0.9998999799959992, 0.0),
    (20000, 1.4999999999999999e-05, 1.0),
    (20000, 3.75e-05, 1.0),
    (20000, 7.5e-05, 1.0),
    (20000, 0.0035355339059327377, 0.9631907398702761),
    (20000, 0.00565685424949238, 0.5422312148794965),
    (20000, 0.007778174593052023, 0.17679998366535388),
    (20000, 0.009899494936611665, 0.03941920623730588),
    (20000, 0.013435028842544402, 0.0014502499313107482),
    (20000, 0.018384776310850236, 2.6525847015219003e-06),
    (20000, 0.035355339059327376, 3.7176711414639685e-22),
    (20000, 0.55, 0.0),
    (20000, 0.999975, 0.0),
    (100000, 3e-06, 1.0),
    (100000, 7.5e-06, 1.0),
    (100000, 1.5e-05, 1.0),
    (100000, 0.0015811388300841895, 0.963608000716019),
    (100000, 0.0025298221281347035, 0.5432861510901741),
    (100000, 0.003478505426185217, 0.177307213591698),
    (100000, 0.004427188724235731, 0.03956460408944951),
    (100000, 0.00600832755431992, 0.0014576929129957808),
    (100000, 0.008221921916437785, 2.672470383325434e-06),
    (100000, 0.015811388300841896, 3.8068818361729104e-22),
    (100000, 0.55, 0.0),
    (100000, 0.999995, 0.0),
    (100001, 2.9999700002999967e-06, 1.0),
    (100001, 7.499925000749993e-06, 1.0),
    (100001, 1.4999850001499985e-05, 1.0),
    (100001, 0.0015811309244493314, 0.9636080024029726),
    (100001, 0.0025298094791189303, 0.543286155365172),
    (100001, 0.0034784880337885293, 0.1773072156451817),
    (100001, 0.0044271665884581275, 0.039564604676615045),
    (100001, 0.006008297512907459, 0.0014576929428012353),
    (100001, 0.008221880807136523, 2.6724704611973766e-06),
    (100001, 0.015811309244493314, 3.8068821384025157e-22),
    (100001, 0.55, 0.0),
    (100001, 0.9999950000499995, 0.0),
    (250000, 1.2e-06, 1.0),
    (250000, 3e-06, 1.0),
    (250000, 6e-06, 1.0),
    (250000, 0.001, 0.9637319876831367),
    (250000, 0.0016, 0.5436005730980911),
    (250000, 0.0022, 0.17745820167204784),
    (250000, 0.0028, 0.03960774490150942),
    (250000, 0.0038, 0.0014598772620820156),
    (250000, 0.0052, 2.6781381148100415e-06),
    (250000, 0.01, 3.827782382946494e-22),
    (250000, 0.55, 0.0),
    (250000, 0.999998, 0.0),
  ]

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
