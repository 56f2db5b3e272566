import Foundation
import LinearAlgebra
import Modeling
import Storage

/// One recommended item.
public struct Recommendation: Sendable, Equatable {
  public var rank: Int
  public var itemID: String
  /// The model's score (a predicted rating for explicit models; the number of users for the popularity fallback).
  public var score: Float
  /// The item's descriptive values, one per `RecommendationList.metadataColumns`.
  public var metadata: [String]
}

/// Where a list of recommendations came from.
public enum RecommendationSource: String, Sendable {
  /// The user's learned factors.
  case model
  /// Factors folded in from `--history` for a user the model does not know.
  case foldedIn = "folded-in"
  /// The most popular items, for a user the model does not know.
  case popularity
}

/// A user's recommendations.
public struct RecommendationList: Sendable {
  public var source: RecommendationSource
  public var metadataColumns: [String]
  public var items: [Recommendation]
}

/// The active (or a chosen) recommender version in the store, served by reading only what a request needs.
public struct StoredRecommender: Sendable {
  public let store: any ModelRegistry
  public let version: ModelVersion

  /// Opens the active version of `name` (or `version` when given).
  /// - Throws: `CommerceError(.noModel)` with the command to train one when the store has none.
  public init(store: any ModelRegistry, name: String, version: Int? = nil) throws {
    self.store = store
    do {
      self.version = try version.map { v throws(StoreError) in try store.version(name, v) } ?? store.active(name)
    } catch StoreError.noModel(let n) {
      throw CommerceError(
        .noModel, "no recommender model '\(n)' in \(store.location); train first: \(.trainRecommender)")
    }
    guard self.version.kind.hasPrefix("recommender.") else {
      throw CommerceError(
        .noModel, "model '\(name)' is a \(self.version.kind) model, not a recommender; choose another \(.modelName)",
        parameter: .modelName)
    }
  }

  /// Runs `body` with this version's parts open in one read transaction.
  func withModel<T>(_ body: (ServingModel) throws -> T) throws -> T {
    try store.withArtifactReader(version.name, version: version.version) { reader in
      try body(try ServingModel(reader: reader, version: version))
    }
  }

  /// The top `n` items for `userID`.
  ///
  /// - Parameters:
  ///   - includeSeen: keep items the user already interacted with.
  ///   - history: for a user the model does not know, items they interacted with (`ITEM` or, for
  ///     explicit models, `ITEM:RATING`), folded in by one least-squares solve.
  ///   - strict: make an unknown user without history an error instead of the popularity fallback.
  public func recommend(
    user userID: String, count n: Int, includeSeen: Bool = false, history: [String] = [], strict: Bool = false
  ) throws -> RecommendationList {
    guard n >= 1 else { throw CommerceError(.usage, "\(.count) must be at least 1, got \(n)", parameter: .count) }
    return try withModel { model in
      if let u = try model.userRow(userID) {
        let seen = includeSeen ? [] : try model.seenItems(user: u)
        guard seen.count < model.meta.items else {
          throw CommerceError(
            .notFound,
            "user '\(userID)' has interacted with all \(model.meta.items) items; nothing is left to recommend (use \(.includeSeen))"
          )
        }
        let x = try model.userFactors(u)
        var scores = try model.itemScores(x)
        if let bias = try model.itemBias() { for i in scores.indices { scores[i] += bias[i] } }
        if model.meta.feedback == .explicit, let ub = try model.userBias(u) {
          for i in scores.indices { scores[i] += model.meta.globalMean + ub }
        }
        return try model.list(scores, n: n, excluding: Set(seen), source: .model)
      }
      if !history.isEmpty {
        let (rows, values) = try model.historyRows(history)
        let x = try model.foldIn(rows: rows, values: values)
        var scores = try model.itemScores(x)
        if model.meta.feedback == .explicit, let bias = try model.itemBias() {
          for i in scores.indices { scores[i] += bias[i] + model.meta.globalMean }
        }
        return try model.list(scores, n: n, excluding: includeSeen ? [] : Set(rows), source: .foldedIn)
      }
      if strict {
        throw CommerceError(
          .notFound,
          "user '\(userID)' is not in the model (trained on \(model.meta.users) users); give \(.history) or drop \(.strict)"
        )
      }
      return try model.list(try model.popularity(), n: n, excluding: [], source: .popularity)
    }
  }

  /// The `n` items most similar to `itemID` by cosine similarity of item factors.
  public func similar(item itemID: String, count n: Int) throws -> RecommendationList {
    guard n >= 1 else { throw CommerceError(.usage, "\(.count) must be at least 1, got \(n)", parameter: .count) }
    return try withModel { model in
      guard let i = try model.itemRow(itemID) else {
        throw CommerceError(.notFound, "item '\(itemID)' is not in the model (trained on \(model.meta.items) items)")
      }
      let f = model.meta.factors
      let all = try model.allItemFactors()
      var norms = [Float](repeating: 0, count: model.meta.items)
      all.withUnsafeBufferPointer { y in
        for k in 0..<model.meta.items {
          norms[k] = FactorKernels.dot(y.baseAddress! + k * f, y.baseAddress! + k * f, f).squareRoot()
        }
      }
      let target = Array(all[(i * f)..<((i + 1) * f)])
      var scores = model.itemScores(target, factors: all)
      for k in scores.indices {
        let d = norms[k] * norms[i]
        scores[k] = d > 0 ? scores[k] / d : 0
      }
      return try model.list(scores, n: n, excluding: [i], source: .model)
    }
  }
}

/// A version's parts, read on demand within one transaction.
struct ServingModel {
  let reader: any ArtifactReader
  let meta: RecommenderMeta

  init(reader: any ArtifactReader, version: ModelVersion) throws {
    self.reader = reader
    do {
      meta = try JSONDecoder().decode(RecommenderMeta.self, from: Data(try reader.readAll("meta")))
    } catch let error as StoreError {
      throw error
    } catch {
      throw CommerceError(
        .noModel, "model '\(version.name)' version \(version.version) has an unreadable description")
    }
  }

  func corrupt(_ part: String) -> CommerceError {
    CommerceError(.noModel, "the model's '\(part)' part is damaged")
  }

  func u64(_ part: String, at index: Int) throws -> UInt64 {
    guard let v = ArtifactCoding.integers(try reader.read(part, offset: index * 8, length: 8), as: UInt64.self) else {
      throw corrupt(part)
    }
    return v[0]
  }

  /// The row of `id` in an id index, or `nil`.
  func lookup(_ id: String, index: String, ids: String, offsets: String) throws -> Int? {
    let h = IDIndex.hash(id)
    let n = try reader.size(index) / 16
    var lo = 0
    var hi = n
    while lo < hi {
      let mid = (lo + hi) / 2
      if try u64(index, at: 2 * mid) < h { lo = mid + 1 } else { hi = mid }
    }
    var k = lo
    let bytes = Array(id.utf8)
    while k < n, try u64(index, at: 2 * k) == h {
      let row = Int(try u64(index, at: 2 * k + 1))
      let start = Int(try u64(offsets, at: row))
      let end = Int(try u64(offsets, at: row + 1))
      if end - start == bytes.count, try reader.read(ids, offset: start, length: end - start) == bytes { return row }
      k += 1
    }
    return nil
  }

  func userRow(_ id: String) throws -> Int? {
    try lookup(id, index: "user_index", ids: "user_ids", offsets: "user_id_offsets")
  }

  func itemRow(_ id: String) throws -> Int? {
    try lookup(id, index: "item_index", ids: "item_ids", offsets: "item_id_offsets")
  }

  func itemID(_ row: Int) throws -> String {
    let start = Int(try u64("item_id_offsets", at: row))
    let end = Int(try u64("item_id_offsets", at: row + 1))
    return String(decoding: try reader.read("item_ids", offset: start, length: end - start), as: UTF8.self)
  }

  func seenItems(user u: Int) throws -> [Int] {
    let start = Int(try u64("seen_offsets", at: u))
    let end = Int(try u64("seen_offsets", at: u + 1))
    guard
      let rows = ArtifactCoding.integers(
        try reader.read("seen_items", offset: start * 4, length: (end - start) * 4), as: UInt32.self)
    else { throw corrupt("seen_items") }
    return rows.map { Int($0) }
  }

  func userFactors(_ u: Int) throws -> [Float] {
    try reader.readFloats("user_factors", offset: u * meta.factors, count: meta.factors)
  }

  func userBias(_ u: Int) throws -> Float? {
    guard try reader.has("user_bias") else { return nil }
    return ArtifactCoding.floats(try reader.read("user_bias", offset: u * 4, length: 4))?.first
  }

  func itemBias() throws -> [Float]? {
    guard try reader.has("item_bias") else { return nil }
    guard let b = ArtifactCoding.floats(try reader.readAll("item_bias")), b.count == meta.items else {
      throw corrupt("item_bias")
    }
    return b
  }

  func allItemFactors() throws -> [Float] {
    let y = try reader.readAllFloats("item_factors")
    guard y.count == meta.items * meta.factors else { throw corrupt("item_factors") }
    return y
  }

  func popularity() throws -> [Float] {
    guard let p = ArtifactCoding.floats(try reader.readAll("item_popularity")), p.count == meta.items else {
      throw corrupt("item_popularity")
    }
    return p
  }

  /// `Y·x`: every item's score for factor vector `x` (one pass over the item factors; at this size a
  /// BLAS call would cost more in thread start-up than it saves).
  func itemScores(_ x: [Float]) throws -> [Float] {
    itemScores(x, factors: try allItemFactors())
  }

  /// `Y·x` over item factors already read.
  func itemScores(_ x: [Float], factors y: [Float]) -> [Float] {
    let f = meta.factors
    var scores = [Float](repeating: 0, count: meta.items)
    y.withUnsafeBufferPointer { yb in
      x.withUnsafeBufferPointer { xb in
        for i in 0..<meta.items { scores[i] = FactorKernels.dot(yb.baseAddress! + i * f, xb.baseAddress!, f) }
      }
    }
    return scores
  }

  /// Rows and values of `--history` entries (`ITEM` or `ITEM:VALUE`).
  func historyRows(_ history: [String]) throws -> ([Int], [Float]) {
    var rows: [Int] = []
    var values: [Float] = []
    for entry in history {
      var id = entry
      var value: Float? = nil
      if let colon = entry.lastIndex(of: ":"), try itemRow(entry) == nil {
        id = String(entry[..<colon])
        guard let v = Float(entry[entry.index(after: colon)...]), v.isFinite, v >= 0 else {
          throw CommerceError(
            .usage, "\(.history) entry '\(entry)': expected ITEM or ITEM:VALUE with a value ≥ 0", parameter: .history)
        }
        value = v
      }
      guard let row = try itemRow(id) else {
        throw CommerceError(
          .notFound, "\(.history): item '\(id)' is not in the model (trained on \(meta.items) items)",
          parameter: .history)
      }
      if meta.feedback == .explicit && value == nil {
        throw CommerceError(
          .usage, "\(.history): this model was trained on explicit ratings; give each item's rating as ITEM:RATING",
          parameter: .history)
      }
      rows.append(row)
      values.append(value ?? 1)
    }
    return (rows, values)
  }

  /// Factors for a new user from their history: one regularized least-squares solve against the item factors.
  func foldIn(rows: [Int], values: [Float]) throws -> [Float] {
    let f = meta.factors
    let y = try allItemFactors()
    var a = [Double](repeating: 0, count: f * f)
    var b = [Double](repeating: 0, count: f)
    switch meta.feedback {
    case .implicit:
      // (YᵀY + λI + Σ α·v y yᵀ) x = Σ (1 + α·v) y
      guard let gram = ArtifactCoding.floats(try reader.readAll("item_gram")), gram.count == f * f else {
        throw corrupt("item_gram")
      }
      for k in 0..<(f * f) { a[k] = Double(gram[k]) }
      for d in 0..<f { a[d * f + d] += Double(meta.regularization) }
      for (row, v) in zip(rows, values) {
        let w = Double(meta.alpha * v)
        for r in 0..<f {
          let yr = Double(y[row * f + r])
          b[r] += (1 + w) * yr
          for s in 0..<f { a[r * f + s] += w * yr * Double(y[row * f + s]) }
        }
      }
    case .explicit:
      // Σ (r − μ − b_i − xᵀy)² + λ n ‖x‖²
      guard let bias = try itemBias() else { throw corrupt("item_bias") }
      for (row, v) in zip(rows, values) {
        let t = Double(v - meta.globalMean - bias[row])
        for r in 0..<f {
          let yr = Double(y[row * f + r])
          b[r] += t * yr
          for s in 0..<f { a[r * f + s] += yr * Double(y[row * f + s]) }
        }
      }
      for d in 0..<f { a[d * f + d] += Double(meta.regularization) * Double(rows.count) }
    }
    let x = try solveSymmetricPositiveDefinite(try Matrix<Double>(rows: f, columns: f, elements: a), Vector(b))
    return x.elements.map { Float($0) }
  }

  /// The top `n` of `scores`, without `excluding`, with ids and metadata.
  func list(_ scores: [Float], n: Int, excluding: Set<Int>, source: RecommendationSource) throws -> RecommendationList {
    let top = TopK.select(scores, k: n, excluded: { excluding.contains($0) })
    var items: [Recommendation] = []
    let hasMetadata = !meta.metadataColumns.isEmpty
    for (rank, entry) in top.enumerated() {
      var metadata: [String] = []
      if hasMetadata {
        let start = Int(try u64("item_metadata_offsets", at: entry.index))
        let end = Int(try u64("item_metadata_offsets", at: entry.index + 1))
        let json = try reader.read("item_metadata", offset: start, length: end - start)
        metadata = (try? JSONDecoder().decode([String].self, from: Data(json))) ?? []
      }
      items.append(
        Recommendation(rank: rank + 1, itemID: try itemID(entry.index), score: entry.score, metadata: metadata))
    }
    return RecommendationList(source: source, metadataColumns: meta.metadataColumns, items: items)
  }
}
