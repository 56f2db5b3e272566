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

  /// Scores the user rows `users` against the items in consecutive tiles of at most `tile` items, ascending:
  /// for each tile, writes the ranking scores into `buffer` (`users.count × range.count`, row after row, at least
  /// `users.count × tile` long) and calls `body(range, scores)`. Terms that are the same for every item of a user
  /// may be left out. Whatever a family prepares per user (a block of factors, a dense history) is prepared once
  /// for all tiles.
  func rankingScores(
    users: ArraySlice<Int>, tile: Int, buffer: UnsafeMutableBufferPointer<Float>,
    _ body: (Range<Int>, UnsafeMutableBufferPointer<Float>) throws -> Void
  ) throws

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
    guard !users.isEmpty, itemCount > 0, k > 0 else { return out }
    // Users are scored 256 at a time (fewer would make BLAS pack the item factors more often), against tiles of
    // items small enough that a tile's scores stay in the core's cache while they are checked, masked and ranked
    // (whole rows of 30,000 items went out to memory and were read back twice). Each worker reuses one tile
    // buffer; BLAS writes every score, so it is not cleared. Every user row keeps its own heap across the tiles.
    let chunk = 256
    let blockUsers = min(chunk, users.count)
    let tile = min(itemCount, Self.tileItems)
    // When the process gave BLAS several threads, one worker: each product is then parallel inside BLAS, and
    // workers would only queue for its threads.
    let threads = BLASThreads.current > 1 ? 1 : threads
    let workers = max(1, min(ThreadBudget.usable(threads), (users.count + chunk - 1) / chunk))
    let buffers = (0..<workers).map { _ in
      UnsafeSendable(UnsafeMutableBufferPointer<Float>.allocate(capacity: blockUsers * tile))
    }
    defer { for b in buffers { b.value.deallocate() } }
    try out.withUnsafeMutableBufferPointer { results in
      let resultPointer = UnsafeSendable(results.baseAddress!)
      try Parallel.forEachChunk(count: users.count, threads: threads, chunk: chunk) { range, worker in
        var heaps = [[(index: Int, score: Float)]](repeating: [], count: range.count)
        // Each user's seen items in ascending order, and how far the tiles have gone through them.
        let seenItems = range.map { idx -> [Int32] in
          let columns = seen.columns(ofRow: users[idx])
          return zip(columns, columns.dropFirst()).allSatisfy { $0 <= $1 } ? Array(columns) : columns.sorted()
        }
        var seenCursor = [Int](repeating: 0, count: range.count)
        try model.rankingScores(users: users[range], tile: tile, buffer: buffers[worker].value) { items, s in
          let width = items.count
          for r in 0..<range.count {
            let row = s.baseAddress! + r * width
            let finite = seenItems[r].withUnsafeBufferPointer { own in
              TopK.accumulateFinite(
                UnsafeBufferPointer(start: row, count: width), firstIndex: items.lowerBound, k: k, excluding: own,
                cursor: &seenCursor[r], into: &heaps[r])
            }
            // A score that is not a finite number comes from a damaged weight: the whole batch fails, naming it.
            if !finite, let bad = (0..<width).first(where: { !row[$0].isFinite }) {
              throw CommerceError(
                .damaged,
                "the \(model.kind) model is damaged: the score of user row \(users[range.lowerBound + r]) for item \(items.lowerBound + bad) is \(row[bad]) (its stored weights are not finite numbers)"
              )
            }
          }
        }
        for r in 0..<range.count {
          TopK.sortBestFirst(&heaps[r])
          resultPointer.value[range.lowerBound + r] = heaps[r]
        }
      }
    }
    return out
  }

  /// Items per tile of scores: 256 users × 256 items is 256 KiB of scores, which with the packed factors stays in
  /// a core's level-2 cache (on the AMD EPYC here, 256 items ran the 200k-user nightly batch in 11.3–12.0 s, 512 in
  /// 12.1–12.7, 1,024 in 12.4–12.6, 128 in 13.0–13.7; whole rows of 30,000 items took 16.2).
  static let tileItems = 256
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

extension RecommenderModel {
  /// Writes, row after row, every item's ranking score for each user row in `users` into `scores`
  /// (`users.count × itemCount`): one tile of every item.
  func rankingScores(users: ArraySlice<Int>, into scores: UnsafeMutableBufferPointer<Float>) throws {
    try rankingScores(users: users, tile: max(1, itemCount), buffer: scores) { _, _ in }
  }
}
