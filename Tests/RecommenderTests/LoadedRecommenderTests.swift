import Foundation
import Modeling
import Storage
import StorageSQLite
import Synchronization
import TabularIO
import Testing

@testable import Recommender

/// Issue 24: a version held in memory answers every request exactly as the store-backed path does, with no store
/// read after it is loaded, from many threads at once.
@Suite struct LoadedRecommenderTests {
  /// Every kind of request, as (description, request) pairs.
  static func requests() -> [(String, @Sendable (Requester) throws -> RecommendationList)] {
    var all: [(String, @Sendable (Requester) throws -> RecommendationList)] = []
    for user in ["A-1", "A-2", "A-6", "B-3", "B-5"] {
      all.append(("\(user) top 3", { try $0.recommend(user, 3, false, []) }))
      all.append(("\(user) with seen", { try $0.recommend(user, 10, true, []) }))
    }
    all.append(("unknown user", { try $0.recommend("nobody", 4, false, []) }))
    all.append(("folded in", { try $0.recommend("visitor", 3, false, ["b4", "b5"]) }))
    for item in ["a1", "b2"] { all.append(("similar \(item)", { try $0.similar(item, 3) })) }
    return all
  }

  /// The two ways of asking, behind one shape.
  struct Requester: Sendable {
    var recommend: @Sendable (String, Int, Bool, [String]) throws -> RecommendationList
    var similar: @Sendable (String, Int) throws -> RecommendationList
  }

  static func stored(_ r: StoredRecommender) -> Requester {
    Requester(
      recommend: { try r.recommend(user: $0, count: $1, includeSeen: $2, history: $3) },
      similar: { try r.similar(item: $0, count: $1) })
  }

  static func loaded(_ r: LoadedRecommender) -> Requester {
    Requester(
      recommend: { try r.recommend(user: $0, count: $1, includeSeen: $2, history: $3) },
      similar: { try r.similar(item: $0, count: $1) })
  }

  func catalog() throws -> ItemCatalog {
    var text = "item_id,title,shelf\n"
    for group in ["a", "b"] {
      for k in 1...5 { text += "\(group)\(k),Item \(group.uppercased())\(k),\(group)-shelf\n" }
    }
    return try ItemCatalog.load(path: temporaryFile(text, name: "items.csv"))
  }

  @Test(arguments: [Feedback.implicit, .explicit])
  func answersAsTheStoreBackedPathDoes(feedback: Feedback) throws {
    let (store, _) = try trainedStore(feedback: feedback, catalog: try catalog())
    let stored = try StoredRecommender(store: store, name: "recommender")
    let loaded = try stored.loaded()
    #expect(loaded.version == stored.version)
    #expect(loaded.byteCount == stored.version.artifactBytes)
    for (what, request) in Self.requests() where feedback == .implicit || what != "folded in" {
      let expected = try request(Self.stored(stored))
      #expect(try request(Self.loaded(loaded)) == expected, "\(what)")
      #expect(expected.items.allSatisfy { $0.metadata["shelf"]?.hasSuffix("-shelf") == true }, "\(what)")
    }
    #expect(throws: CommerceError.self) { _ = try loaded.similar(item: "zz", count: 3) }
    #expect(throws: CommerceError.self) { _ = try loaded.recommend(user: "A-1", count: 0) }
    #expect(throws: CommerceError.self) { _ = try loaded.recommend(user: "nobody", count: 3, strict: true) }
    // An empty id is a mistake upstream, in both paths, never a visitor served the most popular items; with a
    // history it is a visitor.
    for requester in [Self.stored(stored), Self.loaded(loaded)] {
      #expect(throws: CommerceError(.usage, "the user id is empty; give a user's id, or a history for a visitor")) {
        _ = try requester.recommend("", 3, false, [])
      }
      if feedback == .implicit { #expect(try requester.recommend("", 3, false, ["b4", "b5"]).source == .foldedIn) }
    }
  }

  @Test func easeAnswersAsTheStoreBackedPathDoes() throws {
    let path = temporaryFile(tasteCSV())
    var columns = InteractionColumns()
    columns.value = "count"
    let data = try InteractionData.load(path: path, columns: columns, feedback: .implicit)
    var c = EASE.Configuration()
    c.lambda = 1
    let store = try ModelStore(path: (path as NSString).deletingLastPathComponent + "/ease.sqlite", create: true)
    _ = try TrainedRecommender.train(data, configuration: .ease(c))
      .register(in: store, name: "recommender", fingerprint: data.fingerprint)
    let stored = try StoredRecommender(store: store, name: "recommender")
    let loaded = try stored.loaded()
    for (what, request) in Self.requests() {
      #expect(try request(Self.loaded(loaded)) == request(Self.stored(stored)), "\(what)")
    }
  }

  /// Once loaded, the store is not read again: its file may go away (a new version promoted and the old file
  /// replaced, a disk unmounted) and the version keeps answering; many threads ask at once and agree.
  @Test func servesWithoutTheStoreFromManyThreads() throws {
    let (store, storePath) = try trainedStore()
    let stored = try StoredRecommender(store: store, name: "recommender")
    let expected = try Self.requests().map { try $0.1(Self.stored(stored)) }
    let loaded = try stored.loaded()
    for file in ModelStore.files(at: storePath) { try? FileManager.default.removeItem(atPath: file) }
    #expect(!FileManager.default.fileExists(atPath: storePath))
    let requests = Self.requests()
    let mismatches = Mutex(0)
    DispatchQueue.concurrentPerform(iterations: 8) { worker in
      for round in 0..<20 {
        let k = (worker + round) % requests.count
        let got = try? requests[k].1(Self.loaded(loaded))
        if got != expected[k] { mismatches.withLock { $0 += 1 } }
      }
    }
    #expect(mismatches.withLock { $0 } == 0)
  }

  /// A part whose bytes no longer match their checksum is refused when the version is loaded, naming the part; one
  /// whose checksums were rewritten with it is found by the structural checks of the first request that reads it.
  @Test func aDamagedPartIsRefusedAtLoad() throws {
    let (store, _) = try trainedStore()
    let version = try store.active("recommender")
    try damage(store, part: "item_factors", rechecksum: false) { [UInt8](repeating: 0x41, count: $0) }
    #expect {
      _ = try LoadedRecommender(store: store, version: version)
    } throws: { error in
      "\(error)".contains("item_factors") && "\(error)".contains("damaged")
    }
    try damage(store, part: "item_factors", rechecksum: true) { [UInt8](repeating: 0xFF, count: $0) }
    let loaded = try LoadedRecommender(store: store, version: version)
    #expect {
      _ = try loaded.recommend(user: "A-1", count: 3)
    } throws: { error in
      (error as? CommerceError)?.kind == .damaged && "\(error)".contains("not finite")
    }
  }
}
