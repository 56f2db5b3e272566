import Foundation
import Modeling
import Storage
import TabularIO

/// Registering and loading churn models in the model store.
public enum ChurnStore {
  /// The kind recorded for churn models.
  public static let kind = "churn.logistic-regression"

  /// Registers `report.model` as a new, active version of `name`.
  public static func register(
    _ report: ChurnTrainingReport, options: ChurnTrainingOptions, in store: ModelStore, name: String
  ) throws -> ModelVersion {
    if let existing = try store.list(name: name).first, existing.kind != kind {
      throw CommerceError(
        .usage,
        "model '\(name)' holds \(existing.kind) versions; train the churn model under another \(.modelName) name",
        parameter: .modelName)
    }
    var parameters = [
      "target": report.model.target, "positive": report.model.positive, "l2": "\(options.regression.l2)",
      "l1": "\(options.regression.l1)", "cv_folds": "\(options.folds)", "threshold_rule": report.model.thresholdRule,
      "seed": "\(options.seed)", "features": "\(report.model.features.count)",
    ]
    if let costs = options.costs { parameters["costs"] = "fp \(costs.fp), fn \(costs.fn)" }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return try store.register(
      NewModelVersion(
        name: name, kind: kind, parameters: parameters, metrics: report.model.metrics,
        dataBytes: Int(report.fingerprint.bytes), dataHash: report.fingerprint.xxh64,
        parts: ["model": Array(try encoder.encode(report.model))]))
  }

  /// The active (or given) version of `name`.
  public static func load(from store: ModelStore, name: String, version: Int? = nil) throws -> (
    ChurnModel, ModelVersion
  ) {
    let v: ModelVersion
    do {
      v = try version.map { n throws(StoreError) in try store.version(name, n) } ?? store.active(name)
    } catch StoreError.noModel {
      throw CommerceError(
        .noModel, "no churn model '\(name)' in \(store.path); train first: \(.trainChurn)")
    }
    guard v.kind == kind else {
      throw CommerceError(
        .noModel, "model '\(name)' is a \(v.kind) model, not a churn model; choose another \(.modelName)",
        parameter: .modelName)
    }
    let bytes = try store.loadPart(name, version: v.version, part: "model")
    do {
      return (try JSONDecoder().decode(ChurnModel.self, from: Data(bytes)), v)
    } catch {
      throw CommerceError(.noModel, "model '\(name)' version \(v.version) is damaged (\(error))")
    }
  }
}

/// One row of a calibration table: customers whose predicted probability fell in `[lower, upper)`.
public struct CalibrationRow: Sendable {
  public var lower: Double
  public var upper: Double
  public var customers: Int
  public var meanPredicted: Double
  public var observedRate: Double
}

/// `churn evaluate`: the model's quality on a labeled file.
public struct ChurnEvaluation: Sendable {
  public var report: ValidationReport
  public var calibration: [CalibrationRow]
  public var unlabeledRows: Int
  public var summary: ScoreSummary

  /// Scores a labeled file with `model` and measures it.
  public static func run(model: ChurnModel, path: String, skipBadRows: Bool) throws -> ChurnEvaluation {
    let reader = try CSVReader(path: path)
    guard reader.header.index(of: model.target) != nil else {
      throw TabularError(
        .schema, file: path, line: 1,
        "no target column '\(model.target)' in the header; evaluation needs the true outcome")
    }
    var probabilities: [Double] = []
    var labels: [Bool] = []
    var unlabeled = 0
    let summary = try ChurnScorer.score(
      model: model, input: reader, writer: nil, reasons: 0, skipBadRows: skipBadRows
    ) { p, label in
      guard let label else {
        unlabeled += 1
        return
      }
      probabilities.append(p)
      labels.append(label)
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

/// Population stability of one quantity: its share per bin now against training.
public struct DriftRow: Sendable {
  public var name: String
  public var psi: Double
  /// `stable` below 0.1, `moderate` below 0.25, `major` from 0.25.
  public var flag: String
}

/// `churn drift`: population stability index of the score and every input column.
public enum ChurnDrift {
  /// `Σ (a − e)·ln(a / e)` over bins, shares floored at 1e-4.
  public static func psi(expected: [Double], actual: [Double]) -> Double {
    var total = 0.0
    for (e, a) in zip(expected, actual) {
      let ee = max(e, 1e-4)
      let aa = max(a, 1e-4)
      total += (aa - ee) * log(aa / ee)
    }
    return total
  }

  static func flag(_ psi: Double) -> String { psi >= 0.25 ? "major" : (psi >= 0.1 ? "moderate" : "stable") }

  /// Reads `path` once and compares its distributions with the model's training distributions.
  public static func run(model: ChurnModel, path: String, skipBadRows: Bool) throws -> [DriftRow] {
    let reader = try CSVReader(path: path)
    var positions: [Int?] = model.columns.map { reader.header.index(of: $0.name) }
    var counts = model.columns.map { [Double](repeating: 0, count: $0.driftShares.count) }
    var scoreCounts = [Double](repeating: 0, count: 10)
    var rows = 0.0
    // Column distributions from the raw fields; the score through the scorer (one pass each, same file).
    while try reader.next() {
      rows += 1
      for (k, spec) in model.columns.enumerated() {
        guard let c = positions[k] else { continue }
        let field = reader.fieldBytes(c)
        var bin = counts[k].count - 1
        if let field {
          let (lo, hi) = FieldParser.trimmed(field)
          if lo < hi {
            let t = UnsafeBufferPointer(rebasing: field[lo..<hi])
            switch spec.kind {
            case .numeric:
              if case .value(let v) = FieldParser.parseDouble(t) { bin = driftBin(v, spec.driftEdges) }
            case .boolean, .categorical:
              let text = String(decoding: t, as: UTF8.self)
              bin = spec.driftLevels.firstIndex(of: text) ?? (counts[k].count - 2)
            }
          }
        }
        counts[k][bin] += 1
      }
    }
    _ = try ChurnScorer.score(
      model: model, input: try CSVReader(path: path), writer: nil, reasons: 0, skipBadRows: skipBadRows
    ) {
      p, _ in scoreCounts[min(9, Int(p * 10))] += 1
    }
    let scored = scoreCounts.reduce(0, +)
    var result = [DriftRow]()
    let scorePSI = psi(expected: model.scoreShares, actual: scoreCounts.map { $0 / max(scored, 1) })
    result.append(DriftRow(name: "churn_probability", psi: scorePSI, flag: flag(scorePSI)))
    for (k, spec) in model.columns.enumerated() where positions[k] != nil {
      let value = psi(expected: spec.driftShares, actual: counts[k].map { $0 / max(rows, 1) })
      result.append(DriftRow(name: spec.name, psi: value, flag: flag(value)))
    }
    positions.removeAll()
    return result
  }
}
