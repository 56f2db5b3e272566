import Foundation
import Modeling
import Storage

/// Registering and loading fraud models.
public enum FraudStore {
  /// The kind of the first family's versions (and of every version stored before there were others).
  public static let kind = "fraud.logistic-regression"
  /// The kinds this version of fraud can load, one per estimator family.
  public static let kinds: Set<String> = [kind, "fraud.additive"]

  /// The kind recorded for `model`.
  static func kind(of model: FraudModel) -> String {
    switch model.estimator {
    case .additive: "fraud.additive"
    case .logistic, .rulesOnly: kind
    }
  }

  /// Registers the model and the end-of-history state as a new active version of `name`.
  public static func register(_ report: FraudTrainingReport, in store: any ModelRegistry, name: String) throws
    -> ModelVersion
  {
    if let existing = try store.list(name: name).first, !kinds.contains(existing.kind) {
      throw CommerceError(
        .usage,
        "model '\(name)' holds \(existing.kind) versions; train the fraud model under another \(.modelName) name",
        parameter: .modelName)
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return try store.register(
      NewModelVersion(
        name: name, kind: kind(of: report.model),
        parameters: [
          "label_delay_seconds": "\(report.model.labelDelay)", "threshold_rule": report.model.thresholdRule,
          "rules": report.model.rules.rules.map(\.code).joined(separator: ","), "features": "\(FraudFeature.count)",
        ],
        metrics: [
          "training_roc_auc": report.trainingAUC, "training_average_precision": report.trainingAveragePrecision,
          "review_threshold": report.model.reviewThreshold, "decline_threshold": report.model.declineThreshold,
          "alert_rate": report.alertRate, "transactions": Double(report.transactions), "frauds": Double(report.frauds),
        ], dataBytes: Int(report.fingerprint.byteCount), dataHash: report.fingerprint.xxh64,
        parts: ["model": Array(try encoder.encode(report.model)), "state": report.state.encoded()]))
  }

  /// Registers a model learned online by a stream (from version `base`, `labels` labels) with the stream's state
  /// at that point as a new active version of `name`.
  public static func registerLearned(
    _ model: FraudModel, state: FeatureState, in store: any ModelRegistry, name: String, from base: Int, labels: Int
  ) throws -> ModelVersion {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    var stateBytes: [UInt8] = []
    state.encode(into: &stateBytes, includeLearning: false)
    return try store.register(
      NewModelVersion(
        name: name, kind: kind(of: model),
        parameters: [
          "label_delay_seconds": "\(model.labelDelay)", "threshold_rule": model.thresholdRule,
          "rules": model.rules.rules.map(\.code).joined(separator: ","), "features": "\(FraudFeature.count)",
          "learned_online_from_version": "\(base)",
        ],
        metrics: [
          "review_threshold": model.reviewThreshold, "decline_threshold": model.declineThreshold,
          "labels_learned_online": Double(labels), "transactions": Double(state.processed),
        ], dataBytes: 0, dataHash: "",
        parts: ["model": Array(try encoder.encode(model)), "state": stateBytes]))
  }

  /// The active version's model and end-of-history state, or `nil` when the store has no model of that name.
  public static func load(from store: any ModelRegistry, name: String) throws -> StoredFraudModel? {
    let version: ModelVersion
    do {
      version = try store.active(name)
    } catch StoreError.noModel {
      return nil
    }
    guard kinds.contains(version.kind) else {
      throw CommerceError(
        .noModel, "model '\(name)' is a \(version.kind) model, not a fraud model; choose another \(.modelName)",
        parameter: .modelName)
    }
    // Each part read straight into its bytes (the state is tens of megabytes).
    let damaged = CommerceError(.damaged, "model '\(name)' version \(version.version) is damaged")
    let (modelBytes, stateBytes) = try store.withArtifactReader(name, version: version.version) { parts in
      guard try parts.has("model"), try parts.has("state") else { throw damaged }
      var state = try parts.readAll("state")
      // Versions registered before the store chunked large parts itself split the state as "state.1", ….
      var k = 1
      while try parts.has("state.\(k)") {
        state += try parts.readAll("state.\(k)")
        k += 1
      }
      return (try parts.readAll("model"), state)
    }
    guard let model = try? JSONDecoder().decode(FraudModel.self, from: Data(modelBytes)) else { throw damaged }
    return StoredFraudModel(model: model, state: try FeatureState(decoding: stateBytes), version: version)
  }
}

/// A registered fraud model with its end-of-history state.
public struct StoredFraudModel {
  public var model: FraudModel
  public var state: FeatureState
  public var version: ModelVersion
}
