import Foundation
import Modeling
import Storage
import StorageSQLite
import TabularIO
import Testing

@testable import Recommender

/// Issue 13: the EASE family against numpy, and served by every command path.
@Suite struct EASETests {
  /// `Scripts/reference/ease_reference.py`: numpy's B for this matrix with λ = 2.
  static let reference: [[Double]] = [
    [0.0, 0.2619047619047619, 0.2619047619047619, 0.039999999999999994, 0.04],
    [0.2340425531914893, 0.0, 0.21428571428571427, -0.05999999999999998, 0.27999999999999997],
    [0.23404255319148934, 0.21428571428571422, 0.0, 0.28, -0.060000000000000005],
    [0.042553191489361694, -0.07142857142857142, 0.3333333333333333, 0.0, 0.36],
    [0.04255319148936169, 0.33333333333333326, -0.07142857142857141, 0.35999999999999993, 0.0],
  ]
  static let userZeroScores = [
    0.276595744680851, 0.5952380952380951, 0.40476190476190477, 0.33999999999999997, 0.31999999999999995,
  ]
  static let rows: [[Int]] = [[0, 1, 4], [1, 2], [0, 2, 3], [2, 3, 4], [0, 1, 2], [1, 3, 4]]

  func matrix() throws -> SparseMatrix {
    var users: [Int32] = []
    var items: [Int32] = []
    var values: [Float] = []
    for (u, row) in Self.rows.enumerated() {
      for i in row {
        users.append(Int32(u))
        items.append(Int32(i))
        values.append(Float(1 + (u + i) % 3))  // any positive value counts as 1
      }
    }
    return try SparseMatrix(rowCount: 6, columnCount: 5, rows: users, columns: items, values: values)
  }

  @Test func weightsAgreeWithNumpy() throws {
    var c = EASE.Configuration()
    c.lambda = 2
    let b = try EASE.fit(try matrix(), configuration: c)
    for i in 0..<5 {
      for j in 0..<5 { #expect(abs(Double(b[i * 5 + j]) - Self.reference[i][j]) < 1e-6, "B[\(i),\(j)]") }
    }
    let model = EASERecommender(weights: b, history: try matrix(), lambda: 2)
    var scores = [Float](repeating: 0, count: 5)
    try scores.withUnsafeMutableBufferPointer { try model.rankingScores(users: [0][...], into: $0) }
    for j in 0..<5 { #expect(abs(Double(scores[j]) - Self.userZeroScores[j]) < 1e-6) }
  }

  @Test func aCatalogueAboveTheLimitIsRefusedNamingALS() throws {
    var c = EASE.Configuration()
    c.maxItems = 4
    #expect(throws: CommerceError.self) { _ = try EASE.fit(try matrix(), configuration: c) }
    do {
      _ = try EASE.fit(try matrix(), configuration: c)
    } catch let error as CommerceError {
      #expect(error.description.contains("5 items need about"))
      #expect(error.description.contains("use the ALS family"))
    }
  }

  /// Trained and stored, EASE serves a known user, an unknown user with a history, similar items and a batch, the
  /// same way the factor families do.
  @Test func everyServingPathWorks() throws {
    let path = temporaryFile(tasteCSV())
    var columns = InteractionColumns()
    columns.value = "count"
    let data = try InteractionData.load(path: path, columns: columns, feedback: .implicit)
    var c = EASE.Configuration()
    c.lambda = 1
    let trained = try TrainedRecommender.train(data, configuration: .ease(c))
    #expect(trained.kind == "recommender.ease")
    let storePath = (path as NSString).deletingLastPathComponent + "/ease.sqlite"
    let store = try ModelStore(path: storePath, create: true)
    _ = try trained.register(in: store, name: "recommender", fingerprint: data.fingerprint)
    let r = try StoredRecommender(store: store, name: "recommender")
    // A-1 skipped a1: it comes first among the unseen.
    let list = try r.recommend(user: "A-1", count: 3)
    #expect(list.source == .model && list.items.first?.itemID == "a1")
    #expect(!list.items.contains { ["a2", "a3", "a4", "a5"].contains($0.itemID) })
    // An unknown user's history: the sum of its items' rows, no solve.
    let folded = try r.recommend(user: "nobody", count: 2, history: ["b1", "b2", "b3"])
    #expect(folded.source == .foldedIn)
    #expect(Set(folded.items.map(\.itemID)) == ["b4", "b5"])
    // Similar items: the item's weights toward the others, its own group first.
    let similar = try r.similar(item: "a1", count: 4)
    #expect(Set(similar.items.map(\.itemID)) == ["a2", "a3", "a4", "a5"])
    // Batch: the same top items as one by one.
    let out = (path as NSString).deletingLastPathComponent + "/batch.csv"
    _ = try r.batch(users: ["A-1", "B-2"], count: 3, output: out, threads: 1)
    let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 7)
    #expect(lines[1].hasPrefix("A-1,1,\(list.items[0].itemID),"))
    let one = try r.recommend(user: "B-2", count: 3)
    #expect(lines[4].hasPrefix("B-2,1,\(one.items[0].itemID),"))
  }

  /// A truncated weights part is damage, named, not a trap.
  @Test func truncatedWeightsAreDamage() throws {
    let path = temporaryFile(tasteCSV())
    let data = try InteractionData.load(path: path, columns: InteractionColumns(), feedback: .implicit)
    let trained = try TrainedRecommender.train(data, configuration: .ease(EASE.Configuration()))
    let store = try ModelStore(path: (path as NSString).deletingLastPathComponent + "/ease.sqlite", create: true)
    _ = try trained.register(in: store, name: "recommender", fingerprint: data.fingerprint)
    try damage(store, part: "ease_weights") { [UInt8](repeating: 0, count: $0 / 2) }
    #expect {
      _ = try StoredRecommender(store: store, name: "recommender").recommend(user: "A-1", count: 3)
    } throws: { ($0 as? CommerceError)?.kind == .damaged && "\($0)".contains("'ease_weights'") }
  }
}
