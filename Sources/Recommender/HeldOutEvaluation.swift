import Foundation
import Modeling
import Storage
import TabularIO

/// A registered recommender version measured on interactions it did not train on (later ones, as a shop sees them
/// after deploying it): top-k quality beside popularity, by user activity, and what it exposes of the catalogue's
/// long tail. `recommend evaluate --version` prints it; `recommend report` draws it.
public struct HeldOutEvaluation: Sendable, Codable {
  public struct Quality: Sendable, Codable, Equatable {
    public var name: String
    public var precision: Double
    public var recall: Double
    public var ndcg: Double
    public var map: Double
    /// Share of users with at least one held-out item in their top k.
    public var hitRate: Double
    /// Share of the catalogue in at least one user's top k.
    public var coverage: Double
    /// Mean training popularity (users who had the item) of the recommended items.
    public var averagePopularity: Double
    /// Gini index of how often each catalogue item is recommended (0: all equally, 1: one item only).
    public var exposureGini: Double
    /// Share of the recommendations that are long-tail items (all but the most popular fifth of the catalogue).
    public var longTailShare: Double
  }

  /// NDCG@k of users grouped by how many training interactions they have.
  public struct ActivityBucket: Sendable, Codable, Equatable {
    public var label: String
    public var users: Int
    public var modelNDCG: Double
    public var popularityNDCG: Double
  }

  /// One twentieth of the catalogue by popularity rank (most popular first): its share of the training
  /// interactions and of each recommender's recommendations.
  public struct TailBin: Sendable, Codable, Equatable {
    public var fromRank: Int
    public var toRank: Int
    public var interactionShare: Double
    public var modelShare: Double
    public var popularityShare: Double
  }

  public struct Item: Sendable, Codable, Equatable {
    public var itemID: String
    /// The catalogue's title (or first descriptive column), empty without one.
    public var title: String
    public var hit: Bool
  }

  public struct ExampleUser: Sendable, Codable, Equatable {
    public var userID: String
    public var trainingInteractions: Int
    /// Up to 10 of the items the model trained on for the user.
    public var history: [Item]
    public var recommendations: [Item]
  }

  public var k: Int
  public var users: Int
  public var heldOutInteractions: Int
  /// Rows of the file the model cannot judge: users it never saw, items not in its catalogue, items the user
  /// already had in training.
  public var unknownUsers: Int
  public var unknownItems: Int
  public var alreadySeen: Int
  public var quality: [Quality]
  public var buckets: [ActivityBucket]
  public var longTail: [TailBin]
  /// Mean training popularity of the items in the training interactions (Σ count² / Σ count): what a recommender
  /// without popularity bias would match.
  public var trainingAveragePopularity: Double
  public var catalogueItems: Int
  public var examples: [ExampleUser]
  /// The trials of `recommend tune`, when this version came from it.
  public var trials: [TuningTrial]?
}

extension RecommenderEvaluation {
  /// Measures the registered `stored` version on the interactions of `path` (see `HeldOutEvaluation`).
  public static func heldOut(
    _ stored: StoredRecommender, path: String, columns: InteractionColumns, k: Int, threads: Int
  ) throws -> HeldOutEvaluation {
    guard k >= 1 else { throw CommerceError(.usage, "\(.cutoff) must be at least 1, got \(k)", parameter: .cutoff) }
    let feedback: Feedback = stored.version.kind == FactorRecommender.explicitKind ? .explicit : .implicit
    let data = try InteractionData.load(path: path, columns: columns, feedback: feedback)
    return try stored.withModel { serving -> HeldOutEvaluation in
      guard serving.fallback == .popularity else {
        throw CommerceError(
          .usage,
          "model '\(stored.version.name)' version \(stored.version.version) was imported without interactions: it knows neither the items its users had in training (to leave out) nor how popular each item was (the baseline and the popularity figures); import the factors again with --interactions to measure them"
        )
      }
      let model = try BatchModel(serving)
      var userRow: [String: Int] = [:]
      for (r, id) in model.userIDs.enumerated() { userRow[id] = r }
      var itemColumn: [String: Int] = [:]
      for (c, id) in model.itemIDs.enumerated() { itemColumn[id] = c }
      // The held-out items of each known user, without what the user had in training.
      var relevant: [Int: Set<Int>] = [:]
      var unknownUsers = Set<Int32>()
      var unknownItems = 0
      var alreadySeen = 0
      let fileUsers = data.userIDs.map { userRow[$0] }
      let fileItems = data.itemIDs.map { itemColumn[$0] }
      for (u, i) in zip(data.users, data.items) {
        guard let row = fileUsers[Int(u)] else {
          unknownUsers.insert(u)
          continue
        }
        guard let column = fileItems[Int(i)] else {
          unknownItems += 1
          continue
        }
        if model.seen.columns(ofRow: row).contains(Int32(column)) {
          alreadySeen += 1
          continue
        }
        relevant[row, default: []].insert(column)
      }
      let users = relevant.keys.sorted()
      guard !users.isEmpty else {
        throw CommerceError(
          .data,
          "\(path): no interaction of a user the model knows with an item it knows and the user had not already (\(unknownUsers.count) unknown users, \(unknownItems) rows of unknown items, \(alreadySeen) already seen); the file should hold later interactions of the model's users"
        )
      }
      let recommended = try model.top(users: users, n: k, threads: threads).map { $0.map(\.index) }
      // Training popularity (the users who had each item, as the model keeps it) and the catalogue in its order:
      // higher first, then lower index (TopK's ties). The popularity baseline walks that order per user.
      let count = model.popularity.map(Double.init)
      let order = count.indices.sorted { count[$0] > count[$1] || (count[$0] == count[$1] && $0 < $1) }
      var rank = [Int](repeating: 0, count: count.count)
      for (r, i) in order.enumerated() { rank[i] = r }
      let popular = users.map { u -> [Int] in
        let seen = Set(model.seen.columns(ofRow: u).map { Int($0) })
        var list: [Int] = []
        list.reserveCapacity(k)
        for i in order where !seen.contains(i) {
          list.append(i)
          if list.count == k { break }
        }
        return list
      }
      let headSize = max(1, count.count / 5)
      let modelQuality = try quality(
        "model", recommended, users, relevant, k: k, count: count, rank: rank, headSize: headSize)
      let popularityQuality = try quality(
        "popularity", popular, users, relevant, k: k, count: count, rank: rank, headSize: headSize)
      // NDCG by activity.
      let edges = [(1, 4), (5, 9), (10, 19), (20, 49), (50, 99), (100, Int.max)]
      var buckets: [HeldOutEvaluation.ActivityBucket] = []
      for (lo, hi) in edges {
        var n = 0
        var m = 0.0
        var p = 0.0
        for (idx, u) in users.enumerated() {
          let a = model.seen.rowStart[u + 1] - model.seen.rowStart[u]
          guard a >= lo && a <= hi else { continue }
          n += 1
          m += try RankingMetrics.ndcg(at: k, recommended: recommended[idx], relevant: relevant[u]!)
          p += try RankingMetrics.ndcg(at: k, recommended: popular[idx], relevant: relevant[u]!)
        }
        guard n > 0 else { continue }
        buckets.append(
          .init(
            label: hi == Int.max ? "\(lo)+" : "\(lo)–\(hi)", users: n, modelNDCG: m / Double(n),
            popularityNDCG: p / Double(n)))
      }
      // The long tail in twenty rank bins.
      let total = max(count.reduce(0, +), 1)
      // Bin b holds the ranks b·n/20 ..< (b+1)·n/20 (empty bins, of a catalogue under 20 items, are left out).
      var binOfRank = [Int](repeating: 0, count: count.count)
      for b in 0..<20 {
        for r in (b * count.count / 20)..<((b + 1) * count.count / 20) { binOfRank[r] = b }
      }
      func shares(_ lists: [[Int]]) -> [Double] {
        var bins = [Double](repeating: 0, count: 20)
        var n = 0.0
        for list in lists {
          for i in list {
            bins[binOfRank[rank[i]]] += 1
            n += 1
          }
        }
        return bins.map { $0 / max(n, 1) }
      }
      let modelShares = shares(recommended)
      let popularShares = shares(popular)
      var tail: [HeldOutEvaluation.TailBin] = []
      for b in 0..<20 {
        let from = b * count.count / 20
        let to = (b + 1) * count.count / 20
        guard to > from else { continue }
        let interactions = order[from..<to].reduce(0.0) { $0 + count[$1] } / total
        tail.append(
          .init(
            fromRank: from + 1, toRank: to, interactionShare: interactions, modelShare: modelShares[b],
            popularityShare: popularShares[b]))
      }
      let trainingAverage = count.reduce(0) { $0 + $1 * $1 } / total
      // Example users: the most active, the median and the least active of those evaluated.
      let byActivity = users.indices.sorted {
        let a = model.seen.rowStart[users[$0] + 1] - model.seen.rowStart[users[$0]]
        let b = model.seen.rowStart[users[$1] + 1] - model.seen.rowStart[users[$1]]
        return a > b || (a == b && users[$0] < users[$1])
      }
      var picks: [Int] = []
      for idx in [byActivity.first!, byActivity[byActivity.count / 2], byActivity.last!] where !picks.contains(idx) {
        picks.append(idx)
      }
      let titleColumn = serving.meta.metadataColumns.firstIndex(of: "title") ?? 0
      func item(_ i: Int, hit: Bool) throws -> HeldOutEvaluation.Item {
        let values = serving.meta.metadataColumns.isEmpty ? [] : try serving.catalogValues(i)
        return .init(itemID: model.itemIDs[i], title: titleColumn < values.count ? values[titleColumn] : "", hit: hit)
      }
      var examples: [HeldOutEvaluation.ExampleUser] = []
      for idx in picks {
        let u = users[idx]
        let history = model.seen.columns(ofRow: u).prefix(10).map { Int($0) }
        examples.append(
          .init(
            userID: model.userIDs[u], trainingInteractions: model.seen.rowStart[u + 1] - model.seen.rowStart[u],
            history: try history.map { try item($0, hit: false) },
            recommendations: try recommended[idx].map { try item($0, hit: relevant[u]!.contains($0)) }))
      }
      let trials = try tuningTrials(serving.reader, stored.version)
      return HeldOutEvaluation(
        k: k, users: users.count, heldOutInteractions: relevant.values.reduce(0) { $0 + $1.count },
        unknownUsers: unknownUsers.count, unknownItems: unknownItems, alreadySeen: alreadySeen,
        quality: [modelQuality, popularityQuality], buckets: buckets, longTail: tail,
        trainingAveragePopularity: trainingAverage, catalogueItems: count.count, examples: examples, trials: trials)
    }
  }

  static func quality(
    _ name: String, _ lists: [[Int]], _ users: [Int], _ relevant: [Int: Set<Int>], k: Int, count: [Double],
    rank: [Int], headSize: Int
  ) throws -> HeldOutEvaluation.Quality {
    let r = try ranking(
      name: name, recommended: lists, users: users, relevant: { relevant[$0]! }, k: k, itemCount: count.count)
    var hits = 0.0
    var exposure = [Double](repeating: 0, count: count.count)
    var popularity = 0.0
    var slots = 0.0
    var tail = 0.0
    for (idx, u) in users.enumerated() {
      let list = lists[idx]
      if list.prefix(k).contains(where: relevant[u]!.contains) { hits += 1 }
      for i in list {
        exposure[i] += 1
        popularity += count[i]
        slots += 1
        if rank[i] >= headSize { tail += 1 }
      }
    }
    return .init(
      name: name, precision: r.precision, recall: r.recall, ndcg: r.ndcg, map: r.map,
      hitRate: hits / Double(max(users.count, 1)), coverage: r.coverage, averagePopularity: popularity / max(slots, 1),
      exposureGini: gini(exposure), longTailShare: tail / max(slots, 1))
  }

  /// The Gini index of non-negative values: `Σ (2i − n − 1)·x₍ᵢ₎ / (n·Σx)` over the values sorted ascending.
  public static func gini(_ values: [Double]) -> Double {
    let x = values.sorted()
    let n = Double(x.count)
    let sum = x.reduce(0, +)
    guard n > 0, sum > 0 else { return 0 }
    var s = 0.0
    for (i, v) in x.enumerated() { s += (2 * Double(i + 1) - n - 1) * v }
    return s / (n * sum)
  }

  /// The trials `recommend tune` kept with the version, or nil.
  static func tuningTrials(_ reader: any ArtifactReader, _ version: ModelVersion) throws -> [TuningTrial]? {
    guard try reader.has(RecommenderPart.tuning) else { return nil }
    do {
      return try JSONDecoder().decode([TuningTrial].self, from: Data(try reader.readAll(RecommenderPart.tuning)))
    } catch let error as DecodingError {
      throw CommerceError(
        .damaged, "model '\(version.name)' version \(version.version): its tuning trials are damaged (\(error))")
    }
  }
}
