import Foundation
import LinearAlgebra
import Modeling
import Storage
import TabularIO

/// Hyperparameters of a recommender training run.
public struct RecommenderConfiguration: Sendable, Equatable {
  /// Implicit (ALS on confidences) or explicit (biased MF on ratings).
  public var feedback = Feedback.implicit
  /// Implicit-feedback settings.
  public var implicit = ImplicitALS.Configuration()
  /// Explicit-feedback settings.
  public var explicit = BiasedALS.Configuration()

  /// The defaults.
  public init() {}

  /// The settings as text, for the model registry.
  public var parameters: [String: String] {
    switch feedback {
    case .implicit:
      let solver: String
      switch implicit.solver {
      case .conjugateGradient(let steps): solver = "cg(\(steps))"
      case .cholesky: solver = "cholesky"
      }
      return [
        "feedback": "implicit", "factors": "\(implicit.factors)", "iterations": "\(implicit.iterations)",
        "regularization": "\(implicit.regularization)", "alpha": "\(implicit.alpha)", "solver": solver,
        "seed": "\(implicit.seed)",
      ]
    case .explicit:
      return [
        "feedback": "explicit", "factors": "\(explicit.factors)", "iterations": "\(explicit.iterations)",
        "regularization": "\(explicit.regularization)", "bias_regularization": "\(explicit.biasRegularization)",
        "seed": "\(explicit.seed)",
      ]
    }
  }
}

/// The fixed description stored with every recommender version (the `meta` part).
struct RecommenderMeta: Codable, Equatable {
  var feedback: Feedback
  var factors: Int
  var users: Int
  var items: Int
  var globalMean: Float
  var regularization: Float
  var alpha: Float
  var metadataColumns: [String]
}

/// A trained recommender with everything serving needs: factors, id maps, each user's seen items,
/// item popularity and item descriptions.
public struct TrainedRecommender: Sendable {
  public var configuration: RecommenderConfiguration
  public var userIDs: [String]
  public var itemIDs: [String]
  public var factors: FactorModel
  /// Per-user and per-item biases and the global mean (explicit feedback only).
  public var userBias: [Float]?
  public var itemBias: [Float]?
  public var globalMean: Float
  /// Users × items: what each user interacted with in training.
  public var seen: SparseMatrix
  /// Number of users who interacted with each item.
  public var popularity: [Float]
  public var catalog: ItemCatalog?
  /// The last iteration's training loss per cell (implicit) or training RMSE (explicit).
  public var trainingLoss: Double? = nil

  /// The model kind recorded in the store.
  public var kind: String {
    "recommender.\(configuration.feedback == .implicit ? "als-implicit" : "biased-mf-explicit")"
  }

  /// Trains on `data`.
  /// - Parameter log: receives one line per iteration (iteration, loss or RMSE, seconds).
  public static func train(
    _ data: InteractionData, configuration: RecommenderConfiguration, catalog: ItemCatalog? = nil,
    log: ((String) -> Void)? = nil
  ) throws -> TrainedRecommender {
    let matrix = try SparseMatrix(
      rowCount: data.userIDs.count, columnCount: data.itemIDs.count, rows: data.users, columns: data.items,
      values: data.values)
    return try train(
      matrix: matrix, userIDs: data.userIDs, itemIDs: data.itemIDs, configuration: configuration, catalog: catalog,
      log: log)
  }

  /// Trains on a user × item matrix whose rows and columns are named by `userIDs` and `itemIDs`.
  public static func train(
    matrix: SparseMatrix, userIDs: [String], itemIDs: [String], configuration: RecommenderConfiguration,
    catalog: ItemCatalog? = nil, log: ((String) -> Void)? = nil
  ) throws -> TrainedRecommender {
    var popularity = [Float](repeating: 0, count: itemIDs.count)
    for c in matrix.columns { popularity[Int(c)] += 1 }
    switch configuration.feedback {
    case .implicit:
      var lastLoss: Double? = nil
      let model = try ImplicitALS.fit(matrix, configuration: configuration.implicit) { report in
        lastLoss = report.loss
        let loss = report.loss.map { String(format: "loss %.6g", $0) } ?? ""
        log?(
          String(
            format: "iteration %2d/%d  %@  %.2fs", report.iteration, configuration.implicit.iterations, loss,
            report.seconds))
      }
      return TrainedRecommender(
        configuration: configuration, userIDs: userIDs, itemIDs: itemIDs, factors: model, userBias: nil,
        itemBias: nil, globalMean: 0, seen: matrix, popularity: popularity, catalog: catalog, trainingLoss: lastLoss)
    case .explicit:
      var lastRMSE: Double? = nil
      let fitted = try BiasedALS.fit(matrix, configuration: configuration.explicit) { iteration, rmse, seconds in
        lastRMSE = rmse
        log?(
          String(
            format: "iteration %2d/%d  training RMSE %.4f  %.2fs", iteration, configuration.explicit.iterations, rmse,
            seconds))
      }
      return TrainedRecommender(
        configuration: configuration, userIDs: userIDs, itemIDs: itemIDs, factors: fitted.factors,
        userBias: fitted.userBias, itemBias: fitted.itemBias, globalMean: fitted.globalMean, seen: matrix,
        popularity: popularity, catalog: catalog, trainingLoss: lastRMSE)
    }
  }

  /// The artifact parts stored in the model registry.
  func parts() throws -> [String: [UInt8]] {
    let f = factors.userFactors.columns
    let meta = RecommenderMeta(
      feedback: configuration.feedback, factors: f, users: userIDs.count, items: itemIDs.count, globalMean: globalMean,
      regularization: configuration.feedback == .implicit
        ? configuration.implicit.regularization : configuration.explicit.regularization,
      alpha: configuration.implicit.alpha, metadataColumns: catalog?.columns ?? [])
    var parts: [String: [UInt8]] = [:]
    parts["meta"] = Array(try JSONEncoder().encode(meta))
    parts["user_factors"] = ArtifactCoding.bytes(factors.userFactors.elements)
    parts["item_factors"] = ArtifactCoding.bytes(factors.itemFactors.elements)
    parts["item_gram"] = ArtifactCoding.bytes(try factors.itemFactors.gram().elements)
    if let userBias, let itemBias {
      parts["user_bias"] = ArtifactCoding.bytes(userBias)
      parts["item_bias"] = ArtifactCoding.bytes(itemBias)
    }
    let users = ArtifactCoding.packStrings(userIDs)
    parts["user_ids"] = users.bytes
    parts["user_id_offsets"] = ArtifactCoding.bytes(users.offsets)
    parts["user_index"] = IDIndex.build(userIDs)
    let items = ArtifactCoding.packStrings(itemIDs)
    parts["item_ids"] = items.bytes
    parts["item_id_offsets"] = ArtifactCoding.bytes(items.offsets)
    parts["item_index"] = IDIndex.build(itemIDs)
    parts["seen_offsets"] = ArtifactCoding.bytes(seen.rowStart.map { UInt64($0) })
    parts["seen_items"] = ArtifactCoding.bytes(seen.columns.map { UInt32(bitPattern: $0) })
    parts["item_popularity"] = ArtifactCoding.bytes(popularity)
    if let catalog {
      let lines = itemIDs.map { id -> String in
        let values = catalog.rows[id] ?? Array(repeating: "", count: catalog.columns.count)
        return String(decoding: try! JSONEncoder().encode(values), as: UTF8.self)
      }
      let packed = ArtifactCoding.packStrings(lines)
      parts["item_metadata"] = packed.bytes
      parts["item_metadata_offsets"] = ArtifactCoding.bytes(packed.offsets)
    }
    return parts
  }

  /// Registers this model as a new version of `name` in `store` and activates it.
  /// - Throws: `CommerceError` when `name` already holds models of another kind.
  public func register(
    in store: any ModelRegistry, name: String, fingerprint: DataFingerprint, metrics: [String: Double] = [:]
  ) throws -> ModelVersion {
    if let existing = try store.list(name: name).first, existing.kind != kind {
      throw CommerceError(
        .usage,
        "model '\(name)' holds \(existing.kind) versions; this is a \(kind) model. Train it under another \(.modelName) name, or with the same \(.feedback)",
        parameter: .modelName
      )
    }
    var allMetrics = metrics
    allMetrics["users"] = Double(userIDs.count)
    allMetrics["items"] = Double(itemIDs.count)
    allMetrics["interactions"] = Double(seen.nonZeroCount)
    if let trainingLoss {
      allMetrics[configuration.feedback == .implicit ? "training_loss" : "training_rmse"] = trainingLoss
    }
    return try store.register(
      NewModelVersion(
        name: name, kind: kind, parameters: configuration.parameters, metrics: allMetrics,
        dataBytes: Int(fingerprint.byteCount), dataHash: fingerprint.xxh64, parts: try parts()))
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
