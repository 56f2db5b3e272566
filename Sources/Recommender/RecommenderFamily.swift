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
    guard !users.isEmpty, itemCount > 0 else { return out }
    // Users scored 256 at a time (fewer users per product would make BLAS pack the item factors more often). Each
    // worker reuses one block buffer; BLAS writes every score, so it is not cleared.
    let chunk = 256
    let blockUsers = min(chunk, users.count)
    let workers = max(1, min(ThreadBudget.usable(threads), (users.count + chunk - 1) / chunk))
    let buffers = (0..<workers).map { _ in
      UnsafeSendable(UnsafeMutableBufferPointer<Float>.allocate(capacity: blockUsers * itemCount))
    }
    defer { for b in buffers { b.value.deallocate() } }
    try out.withUnsafeMutableBufferPointer { results in
      let resultPointer = UnsafeSendable(results.baseAddress!)
      try Parallel.forEachChunk(count: users.count, threads: threads, chunk: chunk) { range, worker in
        let s = UnsafeMutableBufferPointer(rebasing: buffers[worker].value[0..<(range.count * itemCount)])
        try model.rankingScores(users: users[range], into: s)
        for (r, idx) in range.enumerated() {
          let row = s.baseAddress! + r * itemCount
          // A score that is not a finite number comes from a damaged weight: the whole batch fails, naming it.
          if !RankedScoring.allFinite(UnsafeBufferPointer(start: row, count: itemCount)),
            let bad = (0..<itemCount).first(where: { !row[$0].isFinite })
          {
            throw CommerceError(
              .damaged,
              "the \(model.kind) model is damaged: the score of user row \(users[idx]) for item \(bad) is \(row[bad]) (its stored weights are not finite numbers)"
            )
          }
          for c in seen.columns(ofRow: users[idx]) { row[Int(c)] = -.infinity }
          resultPointer.value[idx] = TopK.selectSkippingNegativeInfinity(
            UnsafeBufferPointer(start: row, count: itemCount), k: k)
        }
      }
    }
    return out
  }
}

extension RankedScoring {
  /// Whether every score is a finite number: `x·0` is 0 for a finite `x` and NaN otherwise, summed sixteen at a
  /// time.
  static func allFinite(_ scores: UnsafeBufferPointer<Float>) -> Bool {
    guard let base = scores.baseAddress else { return true }
    let raw = UnsafeRawPointer(base)
    var acc = SIMD16<Float>(repeating: 0)
    var i = 0
    while i + 16 <= scores.count {
      acc += raw.loadUnaligned(fromByteOffset: i * MemoryLayout<Float>.stride, as: SIMD16<Float>.self) * 0
      i += 16
    }
    var tail: Float = 0
    while i < scores.count {
      tail += base[i] * 0
      i += 1
    }
    return acc.sum() == 0 && tail == 0
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
