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
    var calibration: [CalibrationRow] = []
    for b in 0..<10 {
      let lower = Double(b) / 10
      let upper = Double(b + 1) / 10
      let members = probabilities.indices.filter { min(9, Int(probabilities[$0] * 10)) == b }
      let mean = members.isEmpty ? 0 : members.reduce(0.0) { $0 + probabilities[$1] } / Double(members.count)
      let rate = members.isEmpty ? 0 : Double(members.lazy.filter { labels[$0] }.count) / Double(members.count)
      calibration.append(
        CalibrationRow(lower: lower, upper: upper, customers: members.count, meanPredicted: mean, observedRate: rate))
    }
    return ChurnEvaluation(
      report: try Evaluation.report(labels: labels, probabilities: probabilities, threshold: model.threshold, folds: 0),
      calibration: calibration, unlabeledRows: unlabeled, summary: summary)
  }
}
