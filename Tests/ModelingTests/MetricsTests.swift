import Testing

@testable import Modeling

func approx(_ a: Double, _ b: Double, _ tol: Double = 1e-12) -> Bool { abs(a - b) <= tol * max(1, abs(b)) }

/// Reference values from scikit-learn: Scripts/reference/metrics_reference.py.
@Suite struct ClassificationMetricsTests {
  let y = [true, false, true, true, false, false, true, false, false, true, false, true]
  let s = [0.9, 0.8, 0.8, 0.7, 0.6, 0.6, 0.6, 0.3, 0.2, 0.2, 0.1, 0.05]

  @Test func rocAUCWithTies() throws {
    #expect(approx(try ClassificationMetrics.rocAUC(labels: y, scores: s), 0.6111111111111112))
  }

  @Test func averagePrecisionAndPRAUC() throws {
    #expect(approx(try ClassificationMetrics.averagePrecision(labels: y, scores: s), 0.6646825396825398))
    #expect(approx(try ClassificationMetrics.precisionRecallAUC(labels: y, scores: s), 0.6966089466089465))
  }

  @Test func logLossAndBrier() throws {
    #expect(approx(try ClassificationMetrics.logLoss(labels: y, probabilities: s), 0.8273644339798358))
    #expect(approx(try ClassificationMetrics.brierScore(labels: y, probabilities: s), 0.27854166666666663))
    // Certain and wrong is clipped at machine epsilon, as scikit-learn does.
    #expect(
      approx(
        try ClassificationMetrics.logLoss(labels: [true, false, true], probabilities: [1, 0, 0]),
        12.014551129705717, 1e-9))
  }

  @Test func confusionMatrixAtThreshold() throws {
    let m = try ConfusionMatrix(labels: y, scores: s, threshold: 0.5)
    #expect(m == ConfusionMatrix(truePositives: 4, falsePositives: 3, trueNegatives: 3, falseNegatives: 2))
    #expect(approx(m.accuracy, 0.5833333333333334))
    #expect(approx(m.precision, 0.5714285714285714))
    #expect(approx(m.recall, 0.6666666666666666))
    #expect(approx(m.f1, 0.6153846153846154))
    let none = try ConfusionMatrix(labels: y, scores: s, threshold: 2)
    #expect(none.precision == 0 && none.recall == 0 && none.f1 == 0)
  }

  @Test func perfectAndReversedRankings() throws {
    #expect(try ClassificationMetrics.rocAUC(labels: [false, true], scores: [0.1, 0.9]) == 1)
    #expect(try ClassificationMetrics.rocAUC(labels: [false, true], scores: [0.9, 0.1]) == 0)
    #expect(try ClassificationMetrics.rocAUC(labels: [false, true], scores: [0.5, 0.5]) == 0.5)
    #expect(try ClassificationMetrics.averagePrecision(labels: [false, true], scores: [0.1, 0.9]) == 1)
  }

  @Test func errorPaths() {
    #expect(throws: ModelingError.singleClass(what: "ROC AUC")) {
      _ = try ClassificationMetrics.rocAUC(labels: [true, true], scores: [0.1, 0.2])
    }
    #expect(throws: ModelingError.singleClass(what: "precision-recall")) {
      _ = try ClassificationMetrics.averagePrecision(labels: [false, false], scores: [0.1, 0.2])
    }
    #expect(throws: ModelingError.empty(what: "ROC AUC")) {
      _ = try ClassificationMetrics.rocAUC(labels: [], scores: [])
    }
    #expect(throws: ModelingError.lengthMismatch(what: "log loss scores", expected: 2, found: 1)) {
      _ = try ClassificationMetrics.logLoss(labels: [true, false], probabilities: [0.5])
    }
    #expect(throws: ModelingError.nonFinite(what: "Brier score scores", index: 1)) {
      _ = try ClassificationMetrics.brierScore(labels: [true, false], probabilities: [0.5, .nan])
    }
    #expect(throws: ModelingError.self) { _ = try ClassificationMetrics.logLoss(labels: [true], probabilities: [1.5]) }
    #expect(throws: ModelingError.self) { _ = try ConfusionMatrix(labels: [true], scores: [], threshold: 0.5) }
  }
}

@Suite struct RegressionMetricsTests {
  @Test func rmseAndMAE() throws {
    let a = [3.0, 4.0, 5.0, 1.0, 2.5]
    let b = [2.5, 4.5, 4.0, 1.5, 3.0]
    #expect(approx(try RegressionMetrics.rmse(actual: a, predicted: b), 0.6324555320336759))
    #expect(approx(try RegressionMetrics.mae(actual: a, predicted: b), 0.6))
    #expect(throws: ModelingError.self) { _ = try RegressionMetrics.rmse(actual: [], predicted: []) }
    #expect(throws: ModelingError.self) { _ = try RegressionMetrics.mae(actual: [1], predicted: [1, 2]) }
  }
}

@Suite struct RankingMetricsTests {
  let ranked = [7, 2, 9, 4, 0, 1, 3, 5, 6, 8]
  let relevant: Set = [2, 4, 5, 8]

  @Test(arguments: [
    (3, 0.3333333333333333, 0.25, 0.2960819109658652, 0.16666666666666666),
    (5, 0.4, 0.5, 0.4144299250118474, 0.25),
    (10, 0.4, 1.0, 0.6504262607311476, 0.44375),
  ])
  func againstReference(k: Int, precision: Double, recall: Double, ndcg: Double, map: Double) throws {
    #expect(approx(try RankingMetrics.precision(at: k, recommended: ranked, relevant: relevant), precision))
    #expect(approx(try RankingMetrics.recall(at: k, recommended: ranked, relevant: relevant), recall))
    #expect(approx(try RankingMetrics.ndcg(at: k, recommended: ranked, relevant: relevant), ndcg))
    #expect(approx(try RankingMetrics.averagePrecision(at: k, recommended: ranked, relevant: relevant), map))
  }

  @Test func perfectRankingScoresOne() throws {
    #expect(try RankingMetrics.ndcg(at: 2, recommended: [5, 4, 1], relevant: [4, 5, 6]) == 1)
    #expect(try RankingMetrics.averagePrecision(at: 2, recommended: [5, 4, 1], relevant: [4, 5, 6]) == 1)
  }

  @Test func edgeCases() throws {
    #expect(try RankingMetrics.ndcg(at: 5, recommended: [1, 2], relevant: []) == 0)
    #expect(try RankingMetrics.recall(at: 5, recommended: [], relevant: [1]) == 0)
    #expect(throws: ModelingError.self) { _ = try RankingMetrics.precision(at: 0, recommended: [1], relevant: [1]) }
  }
}

@Suite struct TopKTests {
  @Test func highestFirstTiesToLowerIndex() {
    let scores: [Float] = [0.5, 0.9, 0.1, 0.9, .nan, 0.7, 0.5]
    let top = TopK.select(scores, k: 4)
    #expect(top.map(\.index) == [1, 3, 5, 0])
    #expect(top.map(\.score) == [0.9, 0.9, 0.7, 0.5])
  }

  @Test func exclusionAndShortLists() {
    let scores: [Double] = [3, 1, 2]
    #expect(TopK.select(scores, k: 2, excluded: { $0 == 0 }).map(\.index) == [2, 1])
    #expect(TopK.select(scores, k: 10).map(\.index) == [0, 2, 1])
    #expect(TopK.select(scores, k: 0).isEmpty)
    #expect(TopK.select(scores, k: 3, excluded: { _ in true }).isEmpty)
  }

  @Test func agreesWithFullSort() {
    var g = SeededGenerator(seed: 9)
    let scores = (0..<5000).map { _ in Float(g.nextInt(below: 300)) }
    let expected = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
    #expect(TopK.select(scores, k: 50).map(\.index) == Array(expected.prefix(50)))
  }
}
