import Foundation
import LinearAlgebra
import Modeling
import Storage
import TabularIO

/// One recommended item (JSON: `rank`, `item_id`, `score`, `metadata`).
public struct Recommendation: Sendable, Codable, Equatable {
  public var rank: Int
  public var itemID: String
  /// The model's score (a predicted rating for explicit models; the number of users for the popularity fallback;
  /// the average user's score for the average-user fallback; the cosine similarity for similar items).
  public var score: Float
  /// The item's descriptive values by catalogue column (`RecommendationList.metadataColumns` gives their order).
  public var metadata: [String: String]

  enum CodingKeys: String, CodingKey {
    case rank
    case itemID = "item_id"
    case score
    case metadata
  }
}

/// Where a list of recommendations came from.
public enum RecommendationSource: String, Sendable, Codable {
  /// The user's learned factors.
  case model
  /// Factors folded in from `--history` for a user the model does not know.
  case foldedIn = "folded-in"
  /// The most popular items, for a user the model does not know.
  case popularity
  /// The items the model's average user scores highest (the mean user factors' scores), for a user the model
  /// does not know, when the version knows no interactions to count popularity from (`recommend import` without
  /// `--interactions`).
  case averageUser = "average-user"
}

/// A user's recommendations (or an item's most similar items): what `recommend USER --format json` prints and
/// the HTTP routes answer.
public struct RecommendationList: Sendable, Codable, Equatable {
  /// The version that answered.
  public var model: ModelReference
  public var source: RecommendationSource
  /// The catalogue's columns, in its order (the keys of every item's `metadata`).
  public var metadataColumns: [String]
  public var items: [Recommendation]

  enum CodingKeys: String, CodingKey {
    case model
    case source
    case metadataColumns = "metadata_columns"
    case items
  }
}

extension RecommendationList: JSONWritable {
  /// Keys in sorted order, as the contract writes them.
  public func writeJSON(to w: inout JSONWriter) {
    w.raw("{\"items\":[")
    for (i, item) in items.enumerated() {
      if i > 0 { w.byte(UInt8(ascii: ",")) }
      w.raw("{\"item_id\":")
      w.string(item.itemID)
      w.raw(",\"metadata\":")
      w.stringObject(item.metadata)
      w.raw(",\"rank\":")
      w.int(item.rank)
      w.raw(",\"score\":")
      w.float(item.score)
      w.byte(UInt8(ascii: "}"))
    }
    w.raw("],\"metadata_columns\":")
    w.strings(metadataColumns)
    w.raw(",\"model\":")
    model.writeJSON(to: &w)
    w.raw(",\"source\":")
    w.string(source.rawValue)
    w.byte(UInt8(ascii: "}"))
  }
}

/// The active (or a chosen) recommender version in the store, served by reading only what a request needs.
public struct StoredRecommender: Sendable {
  /// Recommenders, for `ModelRegistry.resolve`.
  public static let family = ModelFamily(noun: "recommender", train: .trainRecommender) {
    $0.hasPrefix("recommender.")
  }
  public let store: any ModelRegistry
  public let version: ModelVersion

  /// Opens the active version of `name` (or `version` when given).
  /// - Throws: `CommerceError(.noModel)` with the command to train one when the store has none.
  public init(store: any ModelRegistry, name: String, version: Int? = nil) throws {
    self.store = store
    self.version = try store.resolve(name, version: version, as: Self.family)
  }

  /// Runs `body` with this version's parts open in one read transaction. A part missing, or read out of its
  /// bounds through a damaged offset, is a damaged model.
  func withModel<T>(_ body: (ServingModel) throws -> T) throws -> T {
    try Self.describingDamage(version) {
      try store.withArtifactReader(version.name, version: version.version) { reader in
        try body(try ServingModel(reader: reader, version: version))
      }
    }
  }

  /// Runs `body`, a part missing or read out of its bounds (through a damaged offset) reported as a damaged model.
  static func describingDamage<T>(_ version: ModelVersion, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as StoreError { throw describe(error, version) }
  }

  /// A store error while reading `version`'s parts, as the user is told it.
  static func describe(_ error: StoreError, _ version: ModelVersion) -> any Error {
    switch error {
    case .noSuchPart(_, _, let part), .rangeOutOfBounds(let part, _, _, _):
      return CommerceError(
        .damaged, "model '\(version.name)' version \(version.version): the '\(part)' part is damaged (\(error))")
    default: return error
    }
  }

  /// The top `n` items for `userID` (see `ServingModel.recommend`), reading only what the request needs from the
  /// store.
  public func recommend(
    user userID: String, count n: Int, includeSeen: Bool = false, history: [String] = [], strict: Bool = false
  ) throws -> RecommendationList {
    try withModel { model in
      try model.recommend(
        family: try RecommenderFamilies.serving(model), user: userID, count: n, includeSeen: includeSeen,
        history: history, strict: strict)
    }
  }

  /// The `n` items most similar to `itemID` (see `ServingModel.similar`).
  public func similar(item itemID: String, count n: Int) throws -> RecommendationList {
    try withModel { model in try model.similar(family: try RecommenderFamilies.serving(model), item: itemID, count: n) }
  }

  /// This version read whole into memory, for serving many requests without the store.
  public func loaded() throws -> LoadedRecommender {
    try LoadedRecommender(store: store, version: version)
  }
}

/// A recommender version held in memory: every part read once (checksums checked), its description and family
/// prepared once, then shared by any number of requests at once with no store read. `recommend` and `similar`
/// are the same calls `StoredRecommender` makes.
public final class LoadedRecommender: @unchecked Sendable {
  // Immutable after init: the in-memory reader is read-only, and the serving model and family only read it.
  public let version: ModelVersion
  /// The bytes of the model held in memory.
  public let byteCount: Int
  private let model: ServingModel
  private let family: any RecommenderServing

  /// Reads `version` from `store` whole.
  public init(store: any ModelRegistry, version: ModelVersion) throws {
    self.version = version
    do {
      let reader = try InMemoryArtifactReader.load(from: store, name: version.name, version: version.version)
      byteCount = reader.byteCount
      var model = try ServingModel(reader: reader, version: version)
      model.catalog = try ResidentCatalog(model)
      self.model = model
      family = try RecommenderFamilies.serving(model)
    } catch let error as StoreError {
      throw StoredRecommender.describe(error, version)
    }
  }

  /// The top `n` items for `userID` (see `ServingModel.recommend`).
  public func recommend(
    user userID: String, count n: Int, includeSeen: Bool = false, history: [String] = [], strict: Bool = false
  ) throws -> RecommendationList {
    try StoredRecommender.describingDamage(version) {
      try model.recommend(
        family: family, user: userID, count: n, includeSeen: includeSeen, history: history, strict: strict)
    }
  }

  /// The `n` items most similar to `itemID` (see `ServingModel.similar`).
  public func similar(item itemID: String, count n: Int) throws -> RecommendationList {
    try StoredRecommender.describingDamage(version) { try model.similar(family: family, item: itemID, count: n) }
  }
}

extension ServingModel {
  /// The top `n` items for `userID`: the one implementation behind the command line and the server.
  ///
  /// - Parameters:
  ///   - includeSeen: keep items the user already interacted with.
  ///   - history: for a user the model does not know, items they interacted with (`ITEM` or, for
  ///     explicit models, `ITEM:RATING`), scored by the model's family (factor models fold them in by one
  ///     least-squares solve).
  ///   - strict: make an unknown user without history an error instead of the popularity fallback.
  func recommend(
    family: any RecommenderServing, user userID: String, count n: Int, includeSeen: Bool, history: [String],
    strict: Bool
  ) throws -> RecommendationList {
    guard n >= 1 else { throw CommerceError(.usage, "\(.count) must be at least 1, got \(n)", parameter: .count) }
    // No user has an empty id (training refuses one): an empty id with no history is a mistake upstream (an unset
    // variable, an empty field), not a visitor to answer with the most popular items.
    guard !(userID.isEmpty && history.isEmpty) else {
      throw CommerceError(.usage, "the user id is empty; give a user's id, or a history for a visitor")
    }
    if let u = try userRow(userID) {
      let seen = includeSeen ? [] : try seenItems(user: u)
      guard seen.count < meta.items else {
        throw CommerceError(
          .notFound,
          "user '\(userID)' has interacted with all \(meta.items) items; nothing is left to recommend (use \(.includeSeen))"
        )
      }
      return try list(try family.scores(user: u), n: n, excluding: seen, source: .model)
    }
    if !history.isEmpty {
      let (rows, values) = try historyRows(history, valuesRequired: family.historyNeedsValues)
      let scores = try family.scores(history: rows, values: values)
      return try list(scores, n: n, excluding: includeSeen ? [] : rows, source: .foldedIn)
    }
    if strict {
      throw CommerceError(
        .notFound,
        "user '\(userID)' is not in the model (trained on \(meta.users) users); give \(.history) or drop \(.strict)"
      )
    }
    return try list(try popularity(), n: n, excluding: [], source: fallback)
  }

  /// The `n` items most similar to `itemID` by the family's item similarity (cosine of item factors for
  /// factor models).
  func similar(family: any RecommenderServing, item itemID: String, count n: Int) throws -> RecommendationList {
    guard n >= 1 else { throw CommerceError(.usage, "\(.count) must be at least 1, got \(n)", parameter: .count) }
    guard let i = try itemRow(itemID) else {
      throw CommerceError(.notFound, "item '\(itemID)' is not in the model (trained on \(meta.items) items)")
    }
    return try list(try family.similarities(to: i), n: n, excluding: [i], source: .model)
  }
}

/// A version's shared parts (id maps, seen items, popularity, catalogue), read on demand within one transaction;
/// the family reads its own parts through `reader`.
struct ServingModel {
  let reader: any ArtifactReader
  let version: ModelVersion
  let meta: RecommenderMeta
  private let metaBytes: Data
  /// The item ids and catalogue values decoded once, for a model held in memory (`nil`: read per request).
  var catalog: ResidentCatalog? = nil

  init(reader: any ArtifactReader, version: ModelVersion) throws {
    self.reader = reader
    self.version = version
    do {
      metaBytes = Data(try reader.readAll(RecommenderPart.meta))
      meta = try JSONDecoder().decode(RecommenderMeta.self, from: metaBytes)
    } catch let error as StoreError {
      throw error
    } catch {
      throw Self.unreadableDescription(version)
    }
  }

  private static func unreadableDescription(_ version: ModelVersion) -> CommerceError {
    CommerceError(
      .damaged,
      "model '\(version.name)' version \(version.version): the 'meta' part is damaged (an unreadable description)")
  }

  /// The family's fields of the `meta` part.
  func familyMeta<M: Decodable>(_ type: M.Type) throws -> M {
    do { return try JSONDecoder().decode(M.self, from: metaBytes) } catch { throw Self.unreadableDescription(version) }
  }

  func corrupt(_ part: String) -> CommerceError {
    CommerceError(.damaged, "model '\(version.name)' version \(version.version): the '\(part)' part is damaged")
  }

  func u64(_ part: String, at index: Int) throws -> UInt64 {
    guard index >= 0, index <= Int.max / 8 - 1 else { throw corrupt(part) }
    return try reader.withBytes(part, offset: index * 8, length: 8) {
      UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))
    }
  }

  /// Entry `index` of the 64-bit table `part`, checked to be at most `limit`.
  func offset(_ part: String, at index: Int, limit: Int) throws -> Int {
    let v = try u64(part, at: index)
    guard v <= UInt64(max(limit, 0)) else { throw corrupt(part) }
    return Int(v)
  }

  /// The byte range of entry `row` of a packed string table (`offsets` into `bytes`), checked.
  func span(_ offsets: String, _ bytes: String, row: Int) throws -> Range<Int> {
    let size = try reader.size(bytes)
    let start = try offset(offsets, at: row, limit: size)
    let end = try offset(offsets, at: row + 1, limit: size)
    guard start <= end else { throw corrupt(offsets) }
    return start..<end
  }

  /// The row of `id` in an id index over `count` rows, or `nil`.
  func lookup(_ id: String, index: String, ids: String, offsets: String, count: Int) throws -> Int? {
    let h = IDIndex.hash(id)
    let size = try reader.size(index)
    let n = size / 16
    guard n == count, size % 16 == 0 else { throw corrupt(index) }
    var lo = 0
    var hi = n
    while lo < hi {
      let mid = (lo + hi) / 2
      if try u64(index, at: 2 * mid) < h { lo = mid + 1 } else { hi = mid }
    }
    // The entry the search ended at must name a row, found or not: damage shows here, not as every id unknown.
    if n > 0 { _ = try offset(index, at: 2 * min(lo, n - 1) + 1, limit: count - 1) }
    var k = lo
    var id = id
    while k < n, try u64(index, at: 2 * k) == h {
      let row = try offset(index, at: 2 * k + 1, limit: count - 1)
      let range = try span(offsets, ids, row: row)
      let same = try id.withUTF8 { given in
        guard range.count == given.count else { return false }
        return try reader.withBytes(ids, offset: range.lowerBound, length: range.count) { $0.elementsEqual(given) }
      }
      if same { return row }
      k += 1
    }
    return nil
  }

  func userRow(_ id: String) throws -> Int? {
    try lookup(
      id, index: RecommenderPart.userIndex, ids: RecommenderPart.userIDs, offsets: RecommenderPart.userIDOffsets,
      count: meta.users)
  }

  func itemRow(_ id: String) throws -> Int? {
    try lookup(
      id, index: RecommenderPart.itemIndex, ids: RecommenderPart.itemIDs, offsets: RecommenderPart.itemIDOffsets,
      count: meta.items)
  }

  func itemID(_ row: Int) throws -> String {
    if let catalog, row >= 0, row < catalog.itemIDs.count { return catalog.itemIDs[row] }
    let range = try span(RecommenderPart.itemIDOffsets, RecommenderPart.itemIDs, row: row)
    return String(
      decoding: try reader.read(RecommenderPart.itemIDs, offset: range.lowerBound, length: range.count), as: UTF8.self)
  }

  func seenItems(user u: Int) throws -> [Int] {
    let limit = try reader.size(RecommenderPart.seenItems) / 4
    let start = try offset(RecommenderPart.seenOffsets, at: u, limit: limit)
    let end = try offset(RecommenderPart.seenOffsets, at: u + 1, limit: limit)
    guard start <= end else { throw corrupt(RecommenderPart.seenItems) }
    let items = meta.items
    let rows = try reader.withBytes(RecommenderPart.seenItems, offset: start * 4, length: (end - start) * 4) { raw in
      (0..<(end - start)).map { Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
    guard rows.allSatisfy({ $0 < items }) else { throw corrupt(RecommenderPart.seenItems) }
    return rows
  }

  /// What a user the model does not know gets: popularity, or the average user's scores for a version that knows
  /// no interactions.
  var fallback: RecommendationSource { meta.fallback ?? .popularity }

  /// The fallback's scores per item: the number of users who had it, or the average user's score.
  func popularity() throws -> [Float] {
    guard let p = ArtifactCoding.floats(try reader.readAll(RecommenderPart.itemPopularity)), p.count == meta.items
    else {
      throw corrupt(RecommenderPart.itemPopularity)
    }
    return p
  }

  /// Rows and values of `--history` entries (`ITEM` or `ITEM:VALUE`).
  func historyRows(_ history: [String], valuesRequired: Bool) throws -> ([Int], [Float]) {
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
      if valuesRequired && value == nil {
        throw CommerceError(
          .usage, "\(.history): this model was trained on explicit ratings; give each item's rating as ITEM:RATING",
          parameter: .history)
      }
      rows.append(row)
      values.append(value ?? 1)
    }
    return (rows, values)
  }

  /// Item `row`'s catalogue values in `metadataColumns` order (empty when its entry is unreadable): decoded once
  /// for a model held in memory, read from its part otherwise.
  func catalogValues(_ row: Int) throws -> [String] {
    if let catalog { return row >= 0 && row < catalog.values.count ? catalog.values[row] : [] }
    let range = try span(RecommenderPart.itemMetadataOffsets, RecommenderPart.itemMetadata, row: row)
    let json = try reader.read(RecommenderPart.itemMetadata, offset: range.lowerBound, length: range.count)
    return (try? JSONDecoder().decode([String].self, from: Data(json))) ?? []
  }

  /// The top `n` of `scores`, without `excluding`, with ids and metadata.
  func list(_ scores: [Float], n: Int, excluding: [Int], source: RecommendationSource) throws -> RecommendationList {
    // One pass: the block-skipping selection leaves out the excluded items (ascending, repeats harmless) and checks
    // every score.
    var excluded = excluding.compactMap { $0 >= 0 && $0 < Int(Int32.max) ? Int32($0) : nil }
    if !zip(excluded, excluded.dropFirst()).allSatisfy({ $0 <= $1 }) { excluded.sort() }
    var top: [(index: Int, score: Float)] = []
    top.reserveCapacity(min(n, scores.count))
    var cursor = 0
    let finite = scores.withUnsafeBufferPointer { s in
      excluded.withUnsafeBufferPointer {
        TopK.accumulateFinite(s, firstIndex: 0, k: n, excluding: $0, cursor: &cursor, into: &top)
      }
    }
    // A score that is not a finite number comes from a damaged weight: never ranked around, never dropped.
    if !finite, let bad = scores.firstIndex(where: { !$0.isFinite }) {
      throw CommerceError(
        .damaged,
        "model '\(version.name)' version \(version.version) is damaged: item \(bad)'s score is \(scores[bad]) (its stored weights are not finite numbers)"
      )
    }
    TopK.sortBestFirst(&top)
    var items: [Recommendation] = []
    let hasMetadata = !meta.metadataColumns.isEmpty
    for (rank, entry) in top.enumerated() {
      var metadata: [String: String] = [:]
      if hasMetadata {
        let values = try catalogValues(entry.index)
        for (k, column) in meta.metadataColumns.enumerated() { metadata[column] = k < values.count ? values[k] : "" }
      }
      items.append(
        Recommendation(rank: rank + 1, itemID: try itemID(entry.index), score: entry.score, metadata: metadata))
    }
    return RecommendationList(
      model: version.reference, source: source, metadataColumns: meta.metadataColumns, items: items)
  }
}

/// A model's item ids and catalogue values decoded once (a server's model held in memory): what `ServingModel` would
/// otherwise read and decode for each item of each answer.
struct ResidentCatalog: Sendable {
  let itemIDs: [String]
  /// Each item's catalogue values, in `metadataColumns` order (empty without a catalogue; an unreadable entry is
  /// empty, as `list` reads it from the store).
  let values: [[String]]

  init(_ model: ServingModel) throws {
    itemIDs = try (0..<model.meta.items).map { try model.itemID($0) }
    // `model` has no resident catalogue yet: both read from its parts.
    values = model.meta.metadataColumns.isEmpty ? [] : try (0..<model.meta.items).map { try model.catalogValues($0) }
  }
}
