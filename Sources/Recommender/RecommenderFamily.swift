import Foundation
import LinearAlgebra
import Modeling
import Storage

/// A trained model of one family, in memory: what evaluation, tuning and batch scoring ask of it.
///
/// The shared shell (`TrainedRecommender`, `StoredRecommender`) keeps the id maps, each user's seen items,
/// popularity, the item catalogue and top-k selection; a family brings only its scores and its stored parts.
protocol RecommenderModel: Sendable {
  /// The kind recorded in the store; `RecommenderFamilies.serving` maps it back to the family.
  var kind: String { get }
  /// The number of items scored.
  var itemCount: Int { get }
  /// What the last training iteration measured, if the family iterates.
  var trainingMeasure: TrainingProgress.Measure? { get }
  /// The family's fields of the stored `meta` part (a flat JSON object shared with the shell's fields).
  var metaFields: any Encodable { get }

  /// Writes, row after row, every item's ranking score for each user row in `users` into `scores`
  /// (`users.count × itemCount`). Terms that are the same for every item of a user may be left out.
  func rankingScores(users: ArraySlice<Int>, into scores: UnsafeMutableBufferPointer<Float>) throws

  /// The predicted value of user row `u` for item `i` (families that predict ratings), or `nil`.
  func predict(user u: Int, item i: Int) -> Float?

  /// The family's own stored parts, by name.
  func parts() throws -> [String: [UInt8]]
}

/// A stored model of one family, read on demand within one read transaction (`ServingModel`).
protocol RecommenderServing {
  /// Whether `--history` entries must carry a value (`ITEM:RATING`).
  var historyNeedsValues: Bool { get }
  /// Every item's score for the known user row `u`.
  func scores(user u: Int) throws -> [Float]
  /// Every item's score for a user the model does not know, from the item rows they interacted with.
  func scores(history rows: [Int], values: [Float]) throws -> [Float]
  /// Every item's similarity to item row `i`.
  func similarities(to i: Int) throws -> [Float]
  /// The whole model in memory, for batch scoring.
  func load() throws -> any RecommenderModel
}

/// The one place that maps a stored kind to its family's serving.
enum RecommenderFamilies {
  static func serving(_ model: ServingModel) throws -> any RecommenderServing {
    switch model.version.kind {
    case FactorRecommender.implicitKind, FactorRecommender.explicitKind: try FactorServing(model)
    case EASERecommender.kind: try EASEServing(model)
    default:
      throw CommerceError(
        .noModel,
        "model '\(model.version.name)' version \(model.version.version) is a \(model.version.kind) model, which this version of recommend cannot serve"
      )
    }
  }
}

/// Top-k selection over any family's scores, blocks of users scored at once, in parallel.
enum RankedScoring {
  /// The top `k` items of each of `users` by `model`'s ranking scores, without the items of the user's row in
  /// `seen`.
  static func top(
    _ model: any RecommenderModel, users: [Int], seen: SparseMatrix, k: Int, threads: Int
  ) throws -> [[(index: Int, score: Float)]] {
    var out = [[(index: Int, score: Float)]](repeating: [], count: users.count)
    let itemCount = model.itemCount
    try out.withUnsafeMutableBufferPointer { results in
      let resultPointer = UnsafeSendable(results.baseAddress!)
      try Parallel.forEachChunk(count: users.count, threads: threads, chunk: 256) { range, _ in
        var scores = [Float](repeating: 0, count: range.count * itemCount)
        try scores.withUnsafeMutableBufferPointer { s in
          try model.rankingScores(users: users[range], into: s)
          // A score that is not a finite number comes from a damaged weight: the whole batch fails, naming it.
          if let bad = s.firstIndex(where: { !$0.isFinite }) {
            throw CommerceError(
              .damaged,
              "the \(model.kind) model is damaged: the score of user row \(users[range.lowerBound + bad / itemCount]) for item \(bad % itemCount) is \(s[bad]) (its stored weights are not finite numbers)"
            )
          }
          for (r, idx) in range.enumerated() {
            let row = s.baseAddress! + r * itemCount
            for c in seen.columns(ofRow: users[idx]) { row[Int(c)] = -.infinity }
            resultPointer.value[idx] = TopK.select(
              UnsafeBufferPointer(start: row, count: itemCount), k: k, excluded: { row[$0] == -.infinity })
          }
        }
      }
    }
    return out
  }
}

/// Writes the shell's and a family's fields as one flat JSON object (the `meta` part).
struct MetaDocument: Encodable {
  var shell: RecommenderMeta
  var family: any Encodable

  func encode(to encoder: any Encoder) throws {
    try shell.encode(to: encoder)
    try family.encode(to: encoder)
  }
}
