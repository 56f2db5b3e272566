import Foundation
import Modeling
import Storage
import TabularIO

/// Registering and loading churn models in the model store.
public enum ChurnStore {
  /// The kind recorded for linear churn models (and every churn model stored before there were others).
  public static let kind = "churn.logistic-regression"
  /// The kind of additive churn models.
  public static let additiveKind = "churn.additive"
  /// The kinds this version of churn can load.
  public static let kinds: Set<String> = [kind, additiveKind]
  /// Churn models, for `ModelRegistry.resolve`.
  public static let family = ModelFamily(noun: "churn model", train: .trainChurn) { kinds.contains($0) }
  /// The training data's earliest and latest record time (metrics of versions trained with `--time-column`).
  public static let firstTimeMetric = "first_record_time"
  public static let lastTimeMetric = "last_record_time"

  /// Registers `report.model` as a new, active version of `name`.
  public static func register(
    _ report: ChurnTrainingReport, options: ChurnTrainingOptions, in store: any ModelRegistry, name: String
  ) throws -> ModelVersion {
    if let existing = try store.list(name: name).first, !kinds.contains(existing.kind) {
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
    if let costs = options.costs { parameters["costs"] = "fp \(costs.falsePositive), fn \(costs.falseNegative)" }
    parameters["family"] = report.family.rawValue
    if let a = report.model.additive {
      parameters["interactions"] = a.smooths.filter { $0.kind != .main }.map(\.name).joined(separator: ",")
    }
    var metrics = report.model.metrics
    if let column = report.timeColumn { parameters["time_column"] = column }
    if let span = report.timeSpan {
      metrics[firstTimeMetric] = span.lowerBound
      metrics[lastTimeMetric] = span.upperBound
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return try store.register(
      NewModelVersion(
        name: name, kind: report.model.additive == nil ? kind : additiveKind, parameters: parameters,
        metrics: metrics,
        dataBytes: Int(report.fingerprint.byteCount), dataHash: report.fingerprint.xxh64,
        parts: [
          "model": Array(try encoder.encode(report.model)),
          "training": Array(try encoder.encode(ChurnTrainingRecord(report))),
        ]))
  }

  /// What training measured of a version — the fit, the cross-validation with its curves — or nil for a version
  /// registered before this was kept.
  public static func training(from store: any ModelRegistry, _ version: ModelVersion) throws -> ChurnTrainingRecord? {
    let has = try store.withArtifactReader(version.name, version: version.version) { try $0.has("training") }
    guard has else { return nil }
    let bytes = try store.loadPart(version.name, version: version.version, part: "training")
    do {
      return try JSONDecoder().decode(ChurnTrainingRecord.self, from: Data(bytes))
    } catch {
      throw CommerceError(
        .damaged, "model '\(version.name)' version \(version.version): its training record is damaged (\(error))")
    }
  }

  /// The active (or given) version of `name`.
  public static func load(from store: any ModelRegistry, name: String, version: Int? = nil) throws
    -> StoredChurnModel
  {
    let v = try store.resolve(name, version: version, as: family)
    let bytes = try store.loadPart(name, version: v.version, part: "model")
    do {
      let model = try JSONDecoder().decode(ChurnModel.self, from: Data(bytes))
      try model.checkConsistency()
      return StoredChurnModel(model: model, version: v)
    } catch {
      throw CommerceError(.damaged, "model '\(name)' version \(v.version) is damaged (\(error))")
    }
  }
}

/// A registered churn model and its version.
public struct StoredChurnModel: Sendable, Codable {
  public var model: ChurnModel
  public var version: ModelVersion
}

/// What `churn train` measured, kept beside the model: the fit summary (coefficients with their intervals), the
/// cross-validation of the registered family with its curves, the families compared, the data's fingerprint.
public struct ChurnTrainingRecord: Sendable, Codable {
  public var summary: FitSummary
  public var validation: ValidationReport?
  public var comparison: [FamilyValidation]
  public var choice: String?
  public var fingerprint: DataFingerprint
  public var skippedRows: Int

  public init(_ report: ChurnTrainingReport) {
    summary = report.summary
    validation = report.validation
    comparison = report.comparison
    choice = report.choice
    fingerprint = report.fingerprint
    skippedRows = report.skippedRows
  }
}
