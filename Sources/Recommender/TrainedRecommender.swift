import Foundation
import LinearAlgebra
import Modeling
import Storage
import TabularIO

/// The parts every recommender version stores, whatever its family (a family adds its own).
enum RecommenderPart {
  /// The shell's and the family's fixed description (JSON).
  static let meta = "meta"
  static let userIDs = "user_ids"
  static let userIDOffsets = "user_id_offsets"
  static let userIndex = "user_index"
  static let itemIDs = "item_ids"
  static let itemIDOffsets = "item_id_offsets"
  static let itemIndex = "item_index"
  static let seenOffsets = "seen_offsets"
  static let seenItems = "seen_items"
  static let itemPopularity = "item_popularity"
  static let itemMetadata = "item_metadata"
  static let itemMetadataOffsets = "item_metadata_offsets"
  /// The trials of `recommend tune` (JSON), for versions it registered.
  static let tuning = "tuning"
}

/// The shell's fields of the `meta` part (the family adds its own to the same JSON object).
struct RecommenderMeta: Codable, Equatable {
  var feedback: Feedback
  var users: Int
  var items: Int
  var metadataColumns: [String]
  /// `average-user` for a version registered without interactions (no seen items, no counts): `item_popularity`
  /// then holds the average user's scores. Absent (popularity) otherwise.
  var fallback: RecommendationSource? = nil
}

/// A trained recommender with everything serving needs: the family's model, id maps, each user's seen items,
/// item popularity and item descriptions.
public struct TrainedRecommender: Sendable {
  public var configuration: RecommenderConfiguration
  public var userIDs: [String]
  public var itemIDs: [String]
  /// The family's model.
  var model: any RecommenderModel
  /// Users × items: what each user interacted with in training.
  public var seen: SparseMatrix
  /// Number of users who interacted with each item (for the average-user fallback: the average user's scores).
  public var popularity: [Float]
  /// What users the model does not know get.
  public var fallback: RecommendationSource = .popularity
  public var catalog: ItemCatalog?
  /// The parameters recorded for a model trained elsewhere (imported factors), instead of the configuration's.
  public var parametersOverride: [String: String]? = nil

  /// The model kind recorded in the store.
  public var kind: String { model.kind }

  /// What the last training iteration measured (loss per cell for implicit ALS, RMSE for explicit).
  public var trainingMeasure: TrainingProgress.Measure? { model.trainingMeasure }

  /// Trains on `data`.
  /// - Parameter progress: receives each iteration's measure and time.
  public static func train(
    _ data: InteractionData, configuration: RecommenderConfiguration, catalog: ItemCatalog? = nil,
    progress: ((TrainingProgress) -> Void)? = nil
  ) throws -> TrainedRecommender {
    let matrix = try data.matrix()
    return try train(
      matrix: matrix, userIDs: data.userIDs, itemIDs: data.itemIDs, configuration: configuration, catalog: catalog,
      progress: progress)
  }

  /// Trains on a user × item matrix whose rows and columns are named by `userIDs` and `itemIDs`.
  public static func train(
    matrix: SparseMatrix, userIDs: [String], itemIDs: [String], configuration: RecommenderConfiguration,
    catalog: ItemCatalog? = nil, progress: ((TrainingProgress) -> Void)? = nil
  ) throws -> TrainedRecommender {
    let model = try configuration.fit(matrix, progress: progress)
    return TrainedRecommender(
      configuration: configuration, userIDs: userIDs, itemIDs: itemIDs, model: model, seen: matrix,
      popularity: popularity(of: matrix, items: itemIDs.count), catalog: catalog)
  }

  /// The number of users who interacted with each item of `matrix` (users × items).
  static func popularity(of matrix: SparseMatrix, items: Int) -> [Float] {
    var popularity = [Float](repeating: 0, count: items)
    for c in matrix.columns { popularity[Int(c)] += 1 }
    return popularity
  }

  /// The artifact parts stored in the model registry.
  func parts() throws -> [String: [UInt8]] {
    let meta = RecommenderMeta(
      feedback: configuration.feedback, users: userIDs.count, items: itemIDs.count,
      metadataColumns: catalog?.columns ?? [], fallback: fallback == .popularity ? nil : fallback)
    var parts = try model.parts()
    parts[RecommenderPart.meta] = Array(try JSONEncoder().encode(MetaDocument(shell: meta, family: model.metaFields)))
    let users = ArtifactCoding.packStrings(userIDs)
    parts[RecommenderPart.userIDs] = users.bytes
    parts[RecommenderPart.userIDOffsets] = ArtifactCoding.bytes(users.offsets)
    parts[RecommenderPart.userIndex] = IDIndex.build(userIDs)
    let items = ArtifactCoding.packStrings(itemIDs)
    parts[RecommenderPart.itemIDs] = items.bytes
    parts[RecommenderPart.itemIDOffsets] = ArtifactCoding.bytes(items.offsets)
    parts[RecommenderPart.itemIndex] = IDIndex.build(itemIDs)
    parts[RecommenderPart.seenOffsets] = ArtifactCoding.bytes(seen.rowStart.map { UInt64($0) })
    parts[RecommenderPart.seenItems] = ArtifactCoding.bytes(seen.columns.map { UInt32(bitPattern: $0) })
    parts[RecommenderPart.itemPopularity] = ArtifactCoding.bytes(popularity)
    if let catalog {
      let encoder = JSONEncoder()
      let lines = try itemIDs.map { id -> String in
        let values = catalog.rows[id] ?? Array(repeating: "", count: catalog.columns.count)
        return String(decoding: try encoder.encode(values), as: UTF8.self)
      }
      let packed = ArtifactCoding.packStrings(lines)
      parts[RecommenderPart.itemMetadata] = packed.bytes
      parts[RecommenderPart.itemMetadataOffsets] = ArtifactCoding.bytes(packed.offsets)
    }
    return parts
  }

  /// Registers this model as a new version of `name` in `store` and activates it.
  /// - Throws: `CommerceError` when `name` already holds models of another kind.
  /// Refuses, before any work, to train `configuration` under `name` when the name holds versions that are not
  /// recommenders, or recommenders of the other feedback (ratings and implicit signals are served differently).
  /// One name may hold versions of several families of the same feedback — ALS and EASE — since serving reads
  /// each version's kind: a rollback from an EASE version to an ALS one serves ALS again.
  public static func checkName(
    _ name: String, in store: any ModelRegistry, for configuration: RecommenderConfiguration
  ) throws {
    let feedbackOf: [String: Feedback] = [
      FactorRecommender.implicitKind: .implicit, EASERecommender.kind: .implicit,
      FactorRecommender.explicitKind: .explicit,
    ]
    guard let existing = try store.list(name: name).first else { return }
    guard let feedback = feedbackOf[existing.kind] else {
      throw CommerceError(
        .usage,
        "model '\(name)' holds \(existing.kind) versions, not a recommender's; train the recommender under another \(.modelName) name",
        parameter: .modelName)
    }
    if feedback != configuration.feedback {
      throw CommerceError(
        .usage,
        "model '\(name)' holds \(existing.kind) versions, learned from \(feedback.rawValue) feedback; this is a \(configuration.kind) model of \(configuration.feedback.rawValue) feedback. Train it under another \(.modelName) name, or with \(.feedback) \(feedback.rawValue)",
        parameter: .modelName)
    }
  }

  /// The metrics holding the training interactions' earliest and latest time (seconds since the epoch), when they
  /// had a timestamp column.
  public static let firstTimeMetric = "first_interaction_time"
  public static let lastTimeMetric = "last_interaction_time"

  public func register(
    in store: any ModelRegistry, name: String, fingerprint: DataFingerprint, metrics: [String: Double] = [:],
    trials: [TuningTrial]? = nil, timeSpan: ClosedRange<Double>? = nil
  ) throws -> ModelVersion {
    try Self.checkName(name, in: store, for: configuration)
    var allMetrics = metrics
    allMetrics["users"] = Double(userIDs.count)
    allMetrics["items"] = Double(itemIDs.count)
    allMetrics["interactions"] = Double(seen.nonZeroCount)
    if let timeSpan {
      allMetrics[Self.firstTimeMetric] = timeSpan.lowerBound
      allMetrics[Self.lastTimeMetric] = timeSpan.upperBound
    }
    switch trainingMeasure {
    case .loss(let loss): allMetrics["training_loss"] = loss
    case .rmse(let rmse): allMetrics["training_rmse"] = rmse
    case nil: break
    }
    return try store.register(
      NewModelVersion(
        name: name, kind: kind, parameters: parametersOverride ?? configuration.parameters, metrics: allMetrics,
        dataBytes: Int(fingerprint.byteCount), dataHash: fingerprint.xxh64,
        parts: try parts().merging(
          trials.map { [RecommenderPart.tuning: Array(try JSONEncoder().encode($0))] } ?? [:]
        ) { a, _ in a }))
  }
}

/// A sorted table of `(XXH64 of id, row)` pairs, 16 bytes each, for finding one id's row by binary search
/// over ranged reads, without loading every id.
enum IDIndex {
  static func hash(_ id: String) -> UInt64 {
    var h = XXHash64()
    h.update(Array(id.utf8))
    return h.finalize()
  }

  static func build(_ ids: [String]) -> [UInt8] {
    let entries = ids.enumerated().map { (hash($0.element), UInt64($0.offset)) }.sorted { $0 < $1 }
    var flat: [UInt64] = []
    flat.reserveCapacity(entries.count * 2)
    for (h, r) in entries {
      flat.append(h)
      flat.append(r)
    }
    return ArtifactCoding.bytes(flat)
  }
}
