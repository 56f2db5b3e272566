import Foundation
import Modeling
import TabularIO

/// A trained churn model: schema, encoding, coefficients, decision threshold and reference distributions.
public struct ChurnModel: Codable, Sendable {
  /// The target column and its classes.
  public var target: String
  public var positive: String
  public var negative: String
  /// The id column copied to scoring output, when known.
  public var idColumn: String?
  public var columns: [ColumnSpec]
  public var features: [Feature]
  /// Intercept then one coefficient per feature, on the standardized scale.
  public var coefficients: [Double]
  /// A customer is predicted to churn when the probability is at least this.
  public var threshold: Double
  /// How the threshold was chosen.
  public var thresholdRule: String
  /// Probabilities at the 10th, 20th, …, 90th percentiles of the training scores (deciles for scoring).
  public var scoreDeciles: [Double]
  /// Share of training scores in each of 10 bins of width 0.1 (for score drift).
  public var scoreShares: [Double]
  /// Cross-validation metrics (empty with `--cv 0`).
  public var metrics: [String: Double]
  public var trainingRows: Int
  /// The additive model, when this is one (`coefficients` then holds its parametric part's intercept alone).
  public var additive: AdditiveChurnModel? = nil

  /// The terms beyond the input columns that reasons can name: the additive model's interactions.
  /// The columns of a header-less input in the model's own order: its id column (when it has one), then every
  /// input column it reads, in the order it keeps them (`churn score --columns model`).
  public var inputColumns: [String] { (idColumn.map { [$0] } ?? []) + columns.map(\.name) }
  public var interactionTerms: [SmoothTerm] { additive?.smooths.filter { $0.kind != .main } ?? [] }

  /// The decile of a probability: 1 for the highest-risk tenth of training customers, 10 for the lowest.
  public func decile(_ p: Double) -> Int {
    var above = 0
    for edge in scoreDeciles where p > edge { above += 1 }
    return 10 - above
  }
}

/// One row of the coefficient table.
public struct CoefficientRow: Sendable, Codable {
  public var name: String
  public var estimate: Double
  public var standardError: Double
  public var z: Double
  public var pValue: Double
  public var lower: Double
  public var upper: Double
  public var oddsRatio: Double
  public var standardizedEstimate: Double
  public var standardizedError: Double
}

/// Fit statistics in the manner of statsmodels' `Logit.summary()`.
public struct FitSummary: Sendable, Codable {
  public var observations: Int
  public var converged: Bool
  public var iterations: Int
  public var logLikelihood: Double
  public var nullLogLikelihood: Double
  public var pseudoR2: Double
  public var llrPValue: Double
  public var aic: Double
  public var penalized: Bool
  public var coefficients: [CoefficientRow]
}

/// Cross-validated quality and the decile table.
public struct ValidationReport: Sendable, Codable {
  public var folds: Int
  public var rocAUC: Double
  public var prAUC: Double
  public var logLoss: Double
  public var brier: Double
  public var threshold: Double
  public var confusion: ConfusionMatrix
  public var deciles: [DecileRow]
  /// ROC and precision–recall points, the threshold sweep, score histograms by class and reliability bins (models
  /// trained before reports have none).
  public var curves: ClassifierCurves? = nil
}

/// One tenth of customers ranked by score.
public struct DecileRow: Sendable, Codable {
  public var decile: Int
  public var customers: Int
  public var churners: Int
  public var rate: Double
  public var lift: Double
  public var cumulativeGain: Double
}

/// Everything `churn train` reports.
public struct ChurnTrainingReport: Sendable, Codable {
  public var model: ChurnModel
  public var notes: [InferenceNote]
  public var aliased: [String]
  /// Separation and convergence warnings.
  public var warnings: [CommerceError.Message]
  public var summary: FitSummary
  public var validation: ValidationReport?
  public var skippedRows: Int
  public var fingerprint: DataFingerprint
  /// The family registered, the families compared (`--model auto`, with cross-validation) and why it was chosen.
  public var family: ChurnFamily = .linear
  public var comparison: [FamilyValidation] = []
  public var choice: String? = nil
  /// The time column (`--time-column`) and the earliest and latest time read in it.
  public var timeColumn: String? = nil
  public var timeSpan: ClosedRange<Double>? = nil
}

enum Evaluation {
  /// ROC AUC, average precision, log loss, Brier, confusion at `threshold` and the decile table.
  static func report(labels: [Bool], probabilities: [Double], threshold: Double, folds: Int) throws -> ValidationReport
  {
    ValidationReport(
      folds: folds, rocAUC: try ClassificationMetrics.rocAUC(labels: labels, scores: probabilities),
      prAUC: try ClassificationMetrics.averagePrecision(labels: labels, scores: probabilities),
      logLoss: try ClassificationMetrics.logLoss(labels: labels, probabilities: probabilities),
      brier: try ClassificationMetrics.brierScore(labels: labels, probabilities: probabilities), threshold: threshold,
      confusion: try ConfusionMatrix(labels: labels, scores: probabilities, threshold: threshold),
      deciles: deciles(labels: labels, probabilities: probabilities),
      curves: ClassifierCurves(labels: labels, scores: probabilities))
  }

  static func deciles(labels: [Bool], probabilities: [Double]) -> [DecileRow] {
    let order = ClassificationMetrics.descendingOrder(probabilities)
    let total = labels.lazy.filter { $0 }.count
    let overall = Double(total) / Double(max(labels.count, 1))
    var rows: [DecileRow] = []
    var cumulative = 0
    for d in 0..<10 {
      let lo = d * order.count / 10
      let hi = (d + 1) * order.count / 10
      let churners = order[lo..<hi].lazy.filter { labels[$0] }.count
      cumulative += churners
      let rate = hi > lo ? Double(churners) / Double(hi - lo) : 0
      rows.append(
        DecileRow(
          decile: d + 1, customers: hi - lo, churners: churners, rate: rate, lift: overall > 0 ? rate / overall : 0,
          cumulativeGain: total > 0 ? Double(cumulative) / Double(total) : 0))
    }
    return rows
  }

  /// The threshold maximizing F1, or minimizing `costFP·FP + costFN·FN` when costs are given.
  static func chooseThreshold(labels: [Bool], probabilities: [Double], costs: MisclassificationCosts?) -> Double {
    let order = ClassificationMetrics.descendingOrder(probabilities)
    let positives = labels.lazy.filter { $0 }.count
    var tp = 0
    var fp = 0
    var best = costs == nil ? -1.0 : Double.infinity
    var threshold = 0.5
    if let costs {
      // Threshold above every score: everything negative.
      best = costs.falseNegative * Double(positives)
      threshold = (probabilities.max() ?? 1) + 1e-12
    }
    var i = 0
    while i < order.count {
      let p = probabilities[order[i]]
      while i < order.count && probabilities[order[i]] == p {
        if labels[order[i]] { tp += 1 } else { fp += 1 }
        i += 1
      }
      let fn = positives - tp
      if let costs {
        let cost = costs.falsePositive * Double(fp) + costs.falseNegative * Double(fn)
        if cost < best {
          best = cost
          threshold = p
        }
      } else {
        let f1 = 2 * Double(tp) / Double(2 * tp + fp + fn)
        if f1 > best {
          best = f1
          threshold = p
        }
      }
    }
    return min(max(threshold, 0), 1)
  }
}
