import Modeling
import TabularIO

/// One row of a calibration table: customers whose predicted probability fell in `[lower, upper)`.
public struct CalibrationRow: Sendable, Codable {
  public var lower: Double
  public var upper: Double
  public var customers: Int
  public var meanPredicted: Double
  public var observedRate: Double
}

/// `churn evaluate`: the model's quality on a labeled file.
public struct ChurnEvaluation: Sendable, Codable {
  public var report: ValidationReport
  public var calibration: [CalibrationRow]
  public var unlabeledRows: Int
  public var summary: ScoreSummary

  /// Scores a labeled file with `model` and measures it.
  public static func run(model: ChurnModel, path: String, skipBadRows: Bool) throws -> ChurnEvaluation {
    let reader = try CSVReader(path: path, options: .unhashed)
    guard reader.header.index(of: model.target) != nil else {
      throw TabularError(
        .schema, file: path, line: 1,
        "no target column '\(model.target)' in the header; evaluation needs the true outcome")
    }
    var probabilities: [Double] = []
    var labels: [Bool] = []
    var unlabeled = 0
    var unknown: [String: Int] = [:]
    let summary = try ChurnScorer.score(
      model: model, input: reader, writer: nil, reasons: 0, skipBadRows: skipBadRows
    ) { p, outcome in
      switch outcome {
      case .missing: unlabeled += 1
      case .unknown(let text): unknown[text, default: 0] += 1
      case .churned, .stayed:
        probabilities.append(p)
        labels.append(outcome == .churned)
      }
    }
    if !unknown.isEmpty {
      let rows = unknown.values.reduce(0, +)
      let shown = unknown.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.prefix(5)
        .map { "'\($0.key)' (\($0.value))" }.joined(separator: ", ")
      throw CommerceError(
        .data,
        "\(path): \(rows) rows have a '\(model.target)' value that is neither '\(model.positive)' nor '\(model.negative)': \(shown); fix or remove them"
      )
    }
    let positives = labels.lazy.filter { $0 }.count
    guard positives > 0, positives < labels.count else {
      throw CommerceError(.data, "\(path): the labeled rows hold a single class; evaluation needs both")
    }
    let report = try Evaluation.report(
      labels: labels, probabilities: probabilities, threshold: model.threshold, folds: 0)
    // The calibration table is the curves' reliability bins (one computation for the command and the report).
    let calibration = (report.curves?.reliability ?? []).map {
      CalibrationRow(
        lower: $0.lower, upper: $0.upper, customers: $0.count, meanPredicted: $0.meanPredicted,
        observedRate: $0.observedRate)
    }
    return ChurnEvaluation(report: report, calibration: calibration, unlabeledRows: unlabeled, summary: summary)
  }
}
