import Foundation
import GRDB
import Modeling
import Testing

@testable import Recommender
@testable import Storage
@testable import StorageSQLite

/// Overwrites artifact `part` of every version of `store` with `bytes`; with `rechecksum` (the default) its
/// checksums are recorded anew, as a writer with a bug would, so that the structural checks behind the checksums
/// are what must find the damage.
func damage(_ store: ModelStore, part: String, rechecksum: Bool = true, with bytes: (Int) -> [UInt8]) throws {
  try store.pool.write { db in
    let size = try Int.fetchOne(db, sql: "SELECT length(data) FROM model_artifact WHERE part = ?", arguments: [part])!
    let damaged = bytes(size)
    try db.execute(sql: "UPDATE model_artifact SET data = ? WHERE part = ?", arguments: [Data(damaged), part])
    if rechecksum {
      try db.execute(
        sql: "UPDATE model_part_checksum SET hashes = ? WHERE part = ?",
        arguments: [Data(PartChecksums.hashes(of: damaged)), part])
    }
  }
}

/// Issue 10, class 6: damage in any stored part is reported (exit 69 on the command line) naming the model,
/// version and part — never a trap, never a wrong answer.
@Suite struct DamagedModelTests {
  @Test(arguments: [
    "seen_offsets", "user_id_offsets", "item_id_offsets", "user_index", "item_index", "seen_items",
  ])
  func damagedOffsetsAreReportedNotTrapped(part: String) throws {
    let (store, _) = try trainedStore()
    try damage(store, part: part) { [UInt8](repeating: 0xFF, count: $0) }
    let r = try StoredRecommender(store: store, name: "recommender")
    var failures: [CommerceError] = []
    for attempt in [
      { _ = try r.recommend(user: "A-1", count: 3) }, { _ = try r.recommend(user: "B-2", count: 3) },
      { _ = try r.similar(item: "a1", count: 2) },
      { _ = try r.batch(users: nil, count: 2, output: NSTemporaryDirectory() + "/b-\(UUID()).csv", threads: 1) },
    ] {
      do {
        try attempt()
      } catch let error as CommerceError {
        failures.append(error)
      }
    }
    // An id index that no longer finds the user falls back to popularity; whatever fails says what is damaged.
    #expect(!failures.isEmpty)
    for failure in failures {
      #expect(failure.kind == .damaged || failure.kind == .notFound, "\(failure)")
      if failure.kind == .damaged { #expect("\(failure)".contains("model 'recommender' version 1")) }
    }
  }

  @Test func truncatedFactorsAndAGramOfNaNsAreDamage() throws {
    let (store, _) = try trainedStore()
    try damage(store, part: "item_factors") { [UInt8](repeating: 0, count: $0 / 2) }
    #expect {
      _ = try StoredRecommender(store: store, name: "recommender").recommend(user: "A-1", count: 3)
    } throws: { ($0 as? CommerceError)?.kind == .damaged && "\($0)".contains("'item_factors'") }
    let (fresh, _) = try trainedStore()
    try damage(fresh, part: "item_gram") { [UInt8](repeating: 0xFF, count: $0) }
    #expect {
      _ = try StoredRecommender(store: fresh, name: "recommender").recommend(
        user: "new", count: 3, history: ["a1", "a2"])
    } throws: {
      ($0 as? CommerceError)?.kind == .damaged && "\($0)".contains("the 'item_gram' part is damaged")
    }
  }

  /// Class 8: values no single-precision factor model can fit are refused with a message, not a NaN loss.
  @Test func absurdValuesAndAlphaAreRefused() throws {
    let path = temporaryFile("user_id,item_id,count\nu,a,1e30\nu,b,1\nv,a,2\n")
    var columns = InteractionColumns()
    columns.value = "count"
    let data = try InteractionData.load(path: path, columns: columns, feedback: .implicit)
    #expect {
      _ = try TrainedRecommender.train(data, configuration: .implicitALS(ImplicitALS.Configuration()))
    } throws: { ($0 as? CommerceError)?.parameter == .alpha && "\($0)".contains("rescale") }
    let small = try InteractionData.load(
      path: temporaryFile("user_id,item_id,count\nu,a,3\nu,b,1\nv,a,2\n"), columns: columns, feedback: .implicit)
    var c = ImplicitALS.Configuration()
    c.alpha = 1e30
    #expect { _ = try TrainedRecommender.train(small, configuration: .implicitALS(c)) } throws: {
      ($0 as? CommerceError)?.parameter == .alpha
    }
    let ratings = try InteractionData.load(path: path, columns: columns, feedback: .explicit)
    #expect {
      _ = try TrainedRecommender.train(ratings, configuration: .biasedMF(BiasedALS.Configuration()))
    } throws: { ($0 as? CommerceError)?.parameter == .valueColumn }
  }
}
