import LinearAlgebra
import Modeling
import Testing

@testable import Recommender

/// Issue 23: batch ranking scores users against tiles of items; the result is what ranking whole rows gives.
@Suite struct TiledRankingTests {
  static func randomFactors(rows: Int, f: Int, seed: UInt64) throws -> Matrix<Float> {
    var g = SeededGenerator(seed: seed)
    // Scores on a coarse grid, so that many tie.
    return try Matrix(rows: rows, columns: f, elements: (0..<(rows * f)).map { _ in Float(g.nextInt(below: 5)) / 4 })
  }

  static func seen(users: Int, items: Int, seed: UInt64) throws -> SparseMatrix {
    var g = SeededGenerator(seed: seed)
    var rows: [Int32] = []
    var columns: [Int32] = []
    for u in 0..<users {
      for _ in 0..<g.nextInt(below: 40) {
        rows.append(Int32(u))
        columns.append(Int32(g.nextInt(below: items)))
      }
    }
    return try SparseMatrix(
      rowCount: users, columnCount: items, rows: rows, columns: columns,
      values: [Float](repeating: 1, count: rows.count))
  }

  /// The plain way: each user's whole row of scores, seen items excluded, by the heap selection.
  static func plainTop(
    _ model: any RecommenderModel, users: [Int], seen: SparseMatrix, k: Int
  ) throws -> [[(index: Int, score: Float)]] {
    try users.map { u in
      var row = [Float](repeating: 0, count: model.itemCount)
      try row.withUnsafeMutableBufferPointer { try model.rankingScores(users: [u][...], into: $0) }
      let own = Set(seen.columns(ofRow: u).map(Int.init))
      return TopK.select(row, k: k, excluded: { own.contains($0) })
    }
  }

  /// 1,300 items are two whole tiles and a partial one; 600 users are two whole chunks and a partial one; users
  /// asked out of order and twice.
  @Test(arguments: [1, 2])
  func factorModelAgreesWithWholeRows(threads: Int) throws {
    let items = RankedScoring.tileItems * 2 + 276
    let model = FactorRecommender(
      feedback: .implicit,
      factors: FactorModel(
        userFactors: try Self.randomFactors(rows: 600, f: 6, seed: 1),
        itemFactors: try Self.randomFactors(rows: items, f: 6, seed: 2)),
      userBias: nil, itemBias: nil, globalMean: 0, regularization: 0.1, alpha: 1, trainingMeasure: nil)
    let seen = try Self.seen(users: 600, items: items, seed: 3)
    let users = Array((0..<600).reversed()) + [17, 17]
    for k in [1, 10, 700] {
      let tiled = try RankedScoring.top(model, users: users, seen: seen, k: k, threads: threads)
      let plain = try Self.plainTop(model, users: users, seen: seen, k: k)
      #expect(tiled.count == plain.count)
      for (a, b) in zip(tiled, plain) {
        #expect(a.map(\.index) == b.map(\.index), "k \(k)")
        #expect(a.map(\.score) == b.map(\.score), "k \(k)")
      }
    }
  }

  /// The explicit family adds each item's bias to every tile at the right offset.
  @Test func itemBiasesFollowTheirTile() throws {
    let items = RankedScoring.tileItems + 9
    var g = SeededGenerator(seed: 5)
    let model = FactorRecommender(
      feedback: .explicit,
      factors: FactorModel(
        userFactors: try Self.randomFactors(rows: 40, f: 3, seed: 6),
        itemFactors: try Self.randomFactors(rows: items, f: 3, seed: 7)),
      userBias: [Float](repeating: 0, count: 40), itemBias: (0..<items).map { _ in Float(g.nextDouble()) },
      globalMean: 3, regularization: 0.1, alpha: 1, trainingMeasure: nil)
    let seen = try Self.seen(users: 40, items: items, seed: 8)
    let tiled = try RankedScoring.top(model, users: Array(0..<40), seen: seen, k: 5, threads: 1)
    let plain = try Self.plainTop(model, users: Array(0..<40), seen: seen, k: 5)
    for (a, b) in zip(tiled, plain) { #expect(a.map(\.index) == b.map(\.index)) }
  }

  /// EASE scores tiles of `B`'s columns.
  @Test func easeAgreesWithWholeRows() throws {
    let items = RankedScoring.tileItems + 100
    let history = try Self.seen(users: 30, items: items, seed: 9)
    var g = SeededGenerator(seed: 10)
    let weights = (0..<(items * items)).map { _ in Float(g.nextInt(below: 7)) - 3 }
    let model = EASERecommender(weights: weights, history: history, lambda: 1)
    let tiled = try RankedScoring.top(model, users: Array(0..<30), seen: history, k: 10, threads: 2)
    let plain = try Self.plainTop(model, users: Array(0..<30), seen: history, k: 10)
    for (a, b) in zip(tiled, plain) {
      #expect(a.map(\.index) == b.map(\.index))
      #expect(a.map(\.score) == b.map(\.score))
    }
  }

  /// A NaN weight of an item in a later tile fails the batch naming that item, not an item of the first tile.
  @Test func aNonFiniteScoreInALaterTileNamesItsItem() throws {
    let items = RankedScoring.tileItems * 2 + 3
    var itemFactors = try Self.randomFactors(rows: items, f: 2, seed: 11)
    let bad = RankedScoring.tileItems + 40
    itemFactors[bad, 1] = .nan
    let model = FactorRecommender(
      feedback: .implicit,
      factors: FactorModel(userFactors: try Self.randomFactors(rows: 3, f: 2, seed: 12), itemFactors: itemFactors),
      userBias: nil, itemBias: nil, globalMean: 0, regularization: 0.1, alpha: 1, trainingMeasure: nil)
    let seen = try Self.seen(users: 3, items: items, seed: 13)
    #expect {
      _ = try RankedScoring.top(model, users: [2, 0, 1], seen: seen, k: 10, threads: 1)
    } throws: {
      "\($0)".contains("the score of user row 2 for item \(bad) is nan")
    }
  }
}
