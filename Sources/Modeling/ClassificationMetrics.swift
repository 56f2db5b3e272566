#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Metrics of a binary classifier's scores against true labels, defined as scikit-learn defines them.
public enum ClassificationMetrics {
  static func check(_ labels: [Bool], _ scores: [Double], _ what: String) throws(ModelingError) {
    guard !labels.isEmpty else { throw .empty(what: what) }
    guard labels.count == scores.count else {
      throw .lengthMismatch(what: "\(what) scores", expected: labels.count, found: scores.count)
    }
    for (i, s) in scores.enumerated() where !s.isFinite { throw .nonFinite(what: "\(what) scores", index: i) }
  }

  /// Indices ordered by score, highest first (ties in index order, so results are deterministic).
  ///
  /// A radix sort (`RadixSort`): linear time, which matters for millions of scores.
  public static func descendingOrder(_ scores: [Double]) -> [Int] {
    RadixSort.order(scores, descending: true)
  }

  /// The area under the ROC curve: the probability that a random positive outscores a random negative,
  /// ties counting one half (scikit-learn's `roc_auc_score`).
  ///
  /// ```
  /// AUC = (Σ ranks of positives − P(P+1)/2) / (P·N)      with average ranks for ties
  /// ```
  /// - Throws: `.singleClass` when the labels hold one class only.
  /// - Complexity: O(n) (a radix sort of the scores).
  public static func rocAUC(labels: [Bool], scores: [Double]) throws(ModelingError) -> Double {
    try check(labels, scores, "ROC AUC")
    let order = RadixSort.order(scores, descending: false)
    var rankSum = 0.0
    var positives = 0
    var i = 0
    while i < order.count {
      var j = i
      while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
      let averageRank = Double(i + j + 2) / 2
      for k in i...j where labels[order[k]] {
        rankSum += averageRank
        positives += 1
      }
      i = j + 1
    }
    let negatives = labels.count - positives
    guard positives > 0, negatives > 0 else { throw .singleClass(what: "ROC AUC") }
    let p = Double(positives)
    return (rankSum - p * (p + 1) / 2) / (p * Double(negatives))
  }

  /// The points of the precision–recall curve at each distinct score, highest threshold first:
  /// `(recall, precision)`.
  static func precisionRecallSteps(labels: [Bool], scores: [Double]) throws(ModelingError) -> [(Double, Double)] {
    try check(labels, scores, "precision-recall")
    let totalPositives = labels.lazy.filter { $0 }.count
    guard totalPositives > 0 else { throw .singleClass(what: "precision-recall") }
    let order = descendingOrder(scores)
    var tp = 0
    var fp = 0
    var points: [(Double, Double)] = []
    var i = 0
    while i < order.count {
      let s = scores[order[i]]
      while i < order.count && scores[order[i]] == s {
        if labels[order[i]] { tp += 1 } else { fp += 1 }
        i += 1
      }
      points.append((Double(tp) / Double(totalPositives), Double(tp) / Double(tp + fp)))
    }
    return points
  }

  /// Average precision: `Σₙ (Rₙ − Rₙ₋₁) · Pₙ` over the distinct thresholds (scikit-learn's
  /// `average_precision_score`; a step-wise area under the precision–recall curve).
  /// - Throws: `.singleClass` when there is no positive label.
  public static func averagePrecision(labels: [Bool], scores: [Double]) throws(ModelingError) -> Double {
    var previousRecall = 0.0
    var ap = 0.0
    for (recall, precision) in try precisionRecallSteps(labels: labels, scores: scores) {
      ap += (recall - previousRecall) * precision
      previousRecall = recall
    }
    return ap
  }

  /// The trapezoidal area under the precision–recall curve, starting from (recall 0, precision 1), as
  /// scikit-learn's `auc(recall, precision)` over `precision_recall_curve`.
  public static func precisionRecallAUC(labels: [Bool], scores: [Double]) throws(ModelingError) -> Double {
    var previous = (0.0, 1.0)
    var area = 0.0
    for point in try precisionRecallSteps(labels: labels, scores: scores) {
      area += (point.0 - previous.0) * (point.1 + previous.1) / 2
      previous = point
    }
    return area
  }

  /// The mean negative log-likelihood of the labels under the predicted probabilities, with
  /// probabilities clipped to `[ε, 1 − ε]`, `ε` the machine epsilon (scikit-learn's `log_loss`).
  /// - Throws: `.invalidArgument` for a probability outside `[0, 1]`.
  public static func logLoss(labels: [Bool], probabilities: [Double]) throws(ModelingError) -> Double {
    try check(labels, probabilities, "log loss")
    let eps = Double.ulpOfOne
    var total = 0.0
    for (y, p) in zip(labels, probabilities) {
      guard p >= 0 && p <= 1 else { throw .invalidArgument("log loss: probability \(p) is outside [0, 1]") }
      let q = min(max(p, eps), 1 - eps)
      total -= y ? log(q) : log(1 - q)
    }
    return total / Double(labels.count)
  }

  /// The mean squared difference between probability and outcome (scikit-learn's `brier_score_loss`).
  public static func brierScore(labels: [Bool], probabilities: [Double]) throws(ModelingError) -> Double {
    try check(labels, probabilities, "Brier score")
    var total = 0.0
    for (y, p) in zip(labels, probabilities) {
      let d = p - (y ? 1 : 0)
      total += d * d
    }
    return total / Double(labels.count)
  }
}

/// Counts of a binary classifier's decisions at a threshold, and the rates made of them.
///
/// An example is predicted positive when its score is at or above the threshold. A rate whose
/// denominator is zero is 0, as scikit-learn's default `zero_division` gives.
public struct ConfusionMatrix: Equatable, Sendable, Codable {
  public var truePositives = 0
  public var falsePositives = 0
  public var trueNegatives = 0
  public var falseNegatives = 0

  /// Counts the decisions `score >= threshold` against `labels`.
  public init(labels: [Bool], scores: [Double], threshold: Double) throws(ModelingError) {
    guard labels.count == scores.count else {
      throw .lengthMismatch(what: "confusion matrix scores", expected: labels.count, found: scores.count)
    }
    for (y, s) in zip(labels, scores) {
      switch (y, s >= threshold) {
      case (true, true): truePositives += 1
      case (false, true): falsePositives += 1
      case (false, false): trueNegatives += 1
      case (true, false): falseNegatives += 1
      }
    }
  }

  /// All four counts given.
  public init(truePositives: Int, falsePositives: Int, trueNegatives: Int, falseNegatives: Int) {
    self.truePositives = truePositives
    self.falsePositives = falsePositives
    self.trueNegatives = trueNegatives
    self.falseNegatives = falseNegatives
  }

  public var total: Int { truePositives + falsePositives + trueNegatives + falseNegatives }
  public var accuracy: Double { ratio(truePositives + trueNegatives, total) }
  public var precision: Double { ratio(truePositives, truePositives + falsePositives) }
  public var recall: Double { ratio(truePositives, truePositives + falseNegatives) }
  public var f1: Double { ratio(2 * truePositives, 2 * truePositives + falsePositives + falseNegatives) }

  private func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
}

/// Errors of numeric predictions.
public enum RegressionMetrics {
  /// Root mean squared error.
  public static func rmse(actual: [Double], predicted: [Double]) throws(ModelingError) -> Double {
    try check(actual, predicted)
    var s = 0.0
    for (a, p) in zip(actual, predicted) { s += (a - p) * (a - p) }
    return (s / Double(actual.count)).squareRoot()
  }

  /// Mean absolute error.
  public static func mae(actual: [Double], predicted: [Double]) throws(ModelingError) -> Double {
    try check(actual, predicted)
    var s = 0.0
    for (a, p) in zip(actual, predicted) { s += abs(a - p) }
    return s / Double(actual.count)
  }

  static func check(_ actual: [Double], _ predicted: [Double]) throws(ModelingError) {
    guard !actual.isEmpty else { throw .empty(what: "regression metric") }
    guard actual.count == predicted.count else {
      throw .lengthMismatch(what: "predictions", expected: actual.count, found: predicted.count)
    }
  }
}
