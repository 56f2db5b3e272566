import Foundation
import Modeling
import Storage

/// Registering and loading fraud models.
public enum FraudStore {
  /// The metrics of a `fraud train` version holding its history's first and last transaction time (epoch seconds).
  public static let historyStartMetric = "history_start_time"
  public static let historyEndMetric = "history_end_time"

  /// The kind of the first family's versions (and of every version stored before there were others).
  public static let kind = "fraud.logistic-regression"
  /// The kinds this version of fraud can load, one per estimator family.
  public static let kinds: Set<String> = [kind, "fraud.additive"]
  /// Fraud models, for `ModelRegistry.resolve`.
  public static let family = ModelFamily(noun: "fraud model", train: .trainFraud) { kinds.contains($0) }

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
    var metrics = [
      "training_roc_auc": report.trainingAUC, "training_average_precision": report.trainingAveragePrecision,
      "review_threshold": report.model.reviewThreshold, "decline_threshold": report.model.declineThreshold,
      "alert_rate": report.alertRate, "transactions": Double(report.transactions), "frauds": Double(report.frauds),
    ]
    if let span = report.historySpan {
      metrics[historyStartMetric] = span.lowerBound
      metrics[historyEndMetric] = span.upperBound
    }
    return try store.register(
      NewModelVersion(
        name: name, kind: kind(of: report.model),
        parameters: [
          "label_delay_seconds": "\(report.model.labelDelay)", "threshold_rule": report.model.thresholdRule,
          "rules": report.model.rules.rules.map(\.code).joined(separator: ","), "features": "\(FraudFeature.count)",
        ],
        metrics: metrics, dataBytes: Int(report.fingerprint.byteCount), dataHash: report.fingerprint.xxh64,
        parts: ["model": Array(try encoder.encode(report.model)), "state": report.state.encoded()]))
  }

  /// Registers a model learned online by a stream (from version `base`, `labels` labels) with the stream's state
  /// at that point as a new version of `name`, active unless `activate` is false.
  ///
  /// The version records the stream (its checkpoint name), the version it learned from and the registration
  /// period it closes: a stream restarted from an earlier checkpoint recognizes the versions it registered after
  /// that checkpoint (`registered(in:name:stream:from:period:)`) instead of registering the same period twice.
  public static func registerLearned(
    _ model: FraudModel, state: FeatureState, in store: any ModelRegistry, name: String, from base: Int, labels: Int,
    stream: String, period: Double, activate: Bool = true
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
          "learned_online_from_version": "\(base)", "learned_by_stream": stream,
          "registration_period_end": "\(period)",
        ],
        metrics: [
          "review_threshold": model.reviewThreshold, "decline_threshold": model.declineThreshold,
          "labels_learned_online": Double(labels), "transactions": Double(state.processed),
        ], dataBytes: 0, dataHash: "",
        parts: ["model": Array(try encoder.encode(model)), "state": stateBytes]),
      activate: activate, beforeCommit: nil)
  }

  /// The version `stream` registered for the registration period ending at `period` after learning from
  /// `base`, if it did.
  public static func registered(
    in store: any ModelRegistry, name: String, stream: String, from base: Int, period: Double
  ) throws -> ModelVersion? {
    try store.list(name: name).first { v in
      v.parameters["learned_by_stream"] == stream && v.parameters["learned_online_from_version"] == "\(base)"
        && v.parameters["registration_period_end"].flatMap(Double.init) == period
    }
  }

  /// The chain of versions `stream` registered from `base` up to `version` (oldest first), or `nil` when
  /// `version` is not one of them: after a restart, the versions a stream registered after its last checkpoint
  /// are its own, not an operator's activation.
  public static func lineage(
    of version: ModelVersion, from base: Int, stream: String, in store: any ModelRegistry, name: String
  ) throws -> [Int]? {
    var chain: [Int] = []
    var current = version
    for _ in 0..<10_000 {
      if current.version == base { return chain.reversed() }
      guard current.parameters["learned_by_stream"] == stream,
        let from = current.parameters["learned_online_from_version"].flatMap(Int.init), from < current.version
      else { return nil }
      chain.append(current.version)
      guard let earlier = try? store.version(name, from) else { return from == base ? chain.reversed() : nil }
      current = earlier
    }
    return nil
  }

  /// The bin edges of version `version`'s additive model, if it has one and it can be read (a version's waiting
  /// labels are kept as bins: another version reads them only through its own edges).
  public static func binEdges(version: Int, in store: any ModelRegistry, name: String) -> [[Double]]? {
    guard let bytes = try? store.loadPart(name, version: version, part: "model"),
      let other = try? JSONDecoder().decode(FraudModel.self, from: Data(bytes)),
      case .additive(let b) = other.estimator
    else { return nil }
    return b.edges
  }

  /// Version `version`'s model part alone (a server keeps its own state).
  /// - Throws: `CommerceError(.noModel)` for a version of another kind, `.damaged` for a part that does not read.
  public static func loadModel(from store: any ModelRegistry, name: String, version: Int) throws -> FraudModel {
    _ = try store.resolve(name, version: version, as: family)
    let bytes = try store.loadPart(name, version: version, part: "model")
    guard let model = try? JSONDecoder().decode(FraudModel.self, from: Data(bytes)) else {
      throw CommerceError(.damaged, "model '\(name)' version \(version) is damaged")
    }
    return model
  }

  /// The active version's model and end-of-history state.
  /// - Throws: `CommerceError(.noModel)` when the store has no fraud model of that name (see `ModelRegistry.resolve`).
  public static func load(from store: any ModelRegistry, name: String) throws -> StoredFraudModel {
    let version = try store.resolve(name, as: family)
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
