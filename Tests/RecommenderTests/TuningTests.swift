import Foundation
import Modeling
import Testing

@testable import Recommender

/// Issue 13: `tune` scores trials by per-user k-fold cross-validation, searches EASE's λ without the seed (choosing
/// by the smoothed curve), and keeps ALS's defaults unless its best trial's edge is clear.
@Suite struct TuningTests {
  @Test func holdoutOfGivenEntries() throws {
    // Users 0 (items 0, 2, 3) and 1 (items 1, 3); entries in row order: (0,0) (0,2) (0,3) (1,1) (1,3).
    let matrix = try SparseMatrix(
      rowCount: 2, columnCount: 4, rows: [0, 0, 0, 1, 1], columns: [0, 2, 3, 1, 3], values: [1, 2, 3, 4, 5])
    let holdout = try Holdout(matrix: matrix, testEntries: [1, 4])
    #expect(holdout.testCount == 2)
    #expect(holdout.test[0] == [HeldOutInteraction(item: 2, value: 2)])
    #expect(holdout.test[1] == [HeldOutInteraction(item: 3, value: 5)])
    #expect(holdout.train.nonZeroCount == 3)
    #expect(holdout.train.columns(ofRow: 0).map { Int($0) } == [0, 3])
    #expect(holdout.train.columns(ofRow: 1).map { Int($0) } == [1])
  }

  @Test func easeLambdaSearchBracketsThenHalves() throws {
    // A validation curve peaked at log10 λ = 2.3 (λ ≈ 199.5).
    func score(_ lambda: Float) -> Double { -pow(log10(Double(lambda)) - 2.3, 2) }
    var tried: [(lambda: Float, score: Double)] = []
    var sequence: [Float] = []
    while let next = RecommenderTuning.nextLambda(after: tried, start: 500, better: { $0 > $1 }) {
      sequence.append(next)
      tried.append((next, score(next)))
      #expect(sequence.count < 40)
      if sequence.count >= 40 { break }
    }
    // 500; half a decade down while the smallest is best (158.1, 50); then the peak of the quadratic through the
    // three, exact for this curve (199.5), and converged.
    let expected: [Float] = [500, 158.11, 50.0, 199.53]
    #expect(sequence.count == expected.count, "\(sequence)")
    for (got, want) in zip(sequence, expected) { #expect(abs(got - want) / want < 1e-3, "\(sequence)") }
    #expect(RecommenderTuning.easeChoice(tried, better: { $0 > $1 }) == 3)
    // The fitted peak on a λ tried: converged.
    let symmetric: [(lambda: Float, score: Double)] = [(500, 0.1), (158.11, 0.2), (50, 0.1)]
    #expect(RecommenderTuning.nextLambda(after: symmetric, start: 500, better: { $0 > $1 }) == nil)
    // No peak between the best's neighbours (the fitted quadratic is convex): the midpoint of the wider gap beside
    // the best (158.1, between 50 and 281.2): 88.9.
    let convex: [(lambda: Float, score: Double)] = [(50, 0.199), (158.11, 0.2), (281.17, 0.0), (500, 0.15)]
    let bisected = try #require(RecommenderTuning.nextLambda(after: convex, start: 500, better: { $0 > $1 }))
    #expect(abs(bisected - 88.91) / 88.91 < 1e-3, "\(bisected)")
    // Noise around a peak: the fitted peak, not the luckiest point, stands for the family.
    let noisy: [(lambda: Float, score: Double)] = [
      (50, 0.2125), (158.11, 0.2202), (210.85, 0.2213), (243.48, 0.2209), (281.17, 0.2203), (500, 0.2180),
    ]
    let x = try #require(RecommenderTuning.smoothedPeak(RecommenderTuning.logPoints(noisy, better: { $0 > $1 })))
    #expect(abs(x - 2.348) < 0.001, "\(x)")
    #expect(RecommenderTuning.easeChoice(noisy, better: { $0 > $1 }) == 2)
    // Lower is better (a loss): the same search, mirrored.
    #expect(RecommenderTuning.nextLambda(after: [(500, 1.0)], start: 500, better: { $0 < $1 }) != nil)
    // The search stays within [1, 10⁵]: a curve rising without end stops at 10⁵ and converges.
    tried = []
    while let next = RecommenderTuning.nextLambda(after: tried, start: 500, better: { $0 > $1 }) {
      #expect(next >= 1 && next <= 100_000)
      tried.append((next, Double(next)))
      if tried.count >= 40 { break }
    }
    #expect(tried.count < 40 && tried.map(\.lambda).max()! == 100_000)
  }

  @Test func pairedEdgeMeanStandardErrorAndVerdict() {
    // Fold differences 0.1, 0.05, 0: mean 0.05, sd 0.05, standard error 0.05/√3 = 0.028868; bound t(2) = 4.303.
    let unclear = PairedEdge([0.5, 0.4, 0.3], [0.4, 0.35, 0.3])
    #expect(abs(unclear.mean - 0.05) < 1e-12)
    #expect(abs(unclear.standardError - 0.05 / 3.0.squareRoot()) < 1e-12)
    #expect(unclear.folds == 3 && !unclear.isClear)
    // Steadier: 0.1, 0.1, 0.1, 0.11 → mean 0.1025, standard error 0.0025 (41 of them): clear (bound t(3) = 3.182).
    let clear = PairedEdge([1, 1, 1, 1], [0.9, 0.9, 0.9, 0.89])
    #expect(abs(clear.mean - 0.1025) < 1e-12 && abs(clear.standardError - 0.0025) < 1e-12 && clear.isClear)
    // Five folds: 2.776 standard errors is the bound — 2.7 is not clear, 2.9 is.
    let d = [0.01, 0.02, 0.03, 0.04, 0.05]  // mean 0.03, standard error 0.0070711
    let se = (0.00025 / 5).squareRoot()
    #expect(abs(PairedEdge(d, [0, 0, 0, 0, 0]).standardError - se) < 1e-12)
    #expect(!PairedEdge(d.map { $0 - 0.03 + 2.7 * se }, [0, 0, 0, 0, 0]).isClear)
    #expect(PairedEdge(d.map { $0 - 0.03 + 2.9 * se }, [0, 0, 0, 0, 0]).isClear)
    #expect(PairedEdge.studentT975(degreesOfFreedom: 4) == 2.776)
    #expect(PairedEdge.studentT975(degreesOfFreedom: 40) == 1.960)
    // Below 2% of the reference's loss, however steady, an edge is not clear: NDCG 0.270 against 0.274 (1.5%) in
    // every fold is not; against 0.276 (2.2%) it is.
    let folds = [-0.270, -0.271, -0.269, -0.270, -0.272]
    #expect(!PairedEdge(folds, folds.map { $0 - 0.004 }).isClear)
    #expect(PairedEdge(folds, folds.map { $0 - 0.006 }).isClear)
    #expect(abs(PairedEdge(folds, folds.map { $0 - 0.006 }).reference + 0.2704) < 1e-12)
    // A challenger behind is never clear; one fold gives no edge.
    #expect(!PairedEdge([0.3, 0.3], [0.4, 0.5]).isClear)
    #expect(PairedEdge([1], [0]).mean == 0 && !PairedEdge([1], [0]).isClear)
  }

  @Test func searchScoresEveryFoldAndChoosesPerFamily() throws {
    // 30 users × 8 items with two taste groups; 5 folds: every interaction validated once.
    var rows: [Int32] = []
    var columns: [Int32] = []
    for u in 0..<30 {
      let group = u % 2
      for i in 0..<6 {
        rows.append(Int32(u))
        columns.append(Int32(group * 6 + (i + u) % 6))
      }
    }
    let csv =
      "user_id,item_id\n" + zip(rows, columns).map { "u\($0),i\($1)" }.joined(separator: "\n") + "\n"
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("tuning-\(UUID()).csv").path
    try csv.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let data = try InteractionData.load(path: path, columns: InteractionColumns(), feedback: .implicit)
    var als = ImplicitALS.Configuration()
    als.factors = 4
    als.iterations = 3
    als.threads = 1
    let result = try RecommenderTuning.search(
      data, base: .implicitALS(als), trials: 6, folds: 5, seed: 7, k: 3)
    #expect(result.trials.count == 6 && result.folds == 5)
    #expect(
      result.trials.map(\.configuration.kind) == [
        "recommender.als-implicit", "recommender.ease", "recommender.als-implicit", "recommender.ease",
        "recommender.als-implicit", "recommender.ease",
      ])
    // Each user has 6 interactions: 5 folds hold out 6/5 on average → 36 of 180 per fold.
    #expect(result.validation.testInteractions == 36 && result.validation.trainInteractions == 144)
    // One choice per family: ALS its defaults (trial 1) or a clearly better trial; EASE one of its trials. The
    // chosen is the better-scoring of the two.
    #expect(result.families.map(\.kind) == ["recommender.als-implicit", "recommender.ease"])
    let alsChoice = result.families[0].trial
    #expect(alsChoice.number == 1 || result.families[0].note.contains("clearly: at least 2% and beyond the 95% bound"))
    #expect(result.families[1].trial.configuration.kind == "recommender.ease")
    #expect(result.best.score == max(alsChoice.score, result.families[1].trial.score))
    #expect(result.validation.ranking[0].ndcg == result.best.ranking.ndcg)
    #expect(result.validation.ranking[1].name == "popularity")
    // Deterministic for a seed.
    let again = try RecommenderTuning.search(data, base: .implicitALS(als), trials: 6, folds: 5, seed: 7, k: 3)
    #expect(again.trials.map(\.score) == result.trials.map(\.score))
    #expect(throws: CommerceError.self) {
      _ = try RecommenderTuning.search(data, base: .implicitALS(als), trials: 2, folds: 1, seed: 7, k: 3)
    }
  }
}
