import Foundation
import Modeling
import Storage
import StorageSQLite
import TabularIO
import Testing

@testable import Recommender

/// Interactions with two taste groups: users A-1…A-6 buy items a1…a5, users B-1…B-6 buy b1…b5;
/// each user skips one item of their group.
func tasteCSV() -> String {
  var text = "user_id,item_id,count\n"
  for group in ["A", "B"] {
    let items = (1...5).map { "\(group.lowercased())\($0)" }
    for u in 1...6 {
      for (k, item) in items.enumerated() where k != (u - 1) % 5 {
        text += "\(group)-\(u),\(item),\(1 + (u + k) % 3)\n"
      }
    }
  }
  return text
}

func trainedStore(feedback: Feedback = .implicit, catalog: ItemCatalog? = nil) throws -> (ModelStore, String) {
  let path = temporaryFile(tasteCSV())
  var columns = InteractionColumns()
  columns.value = "count"
  let data = try InteractionData.load(path: path, columns: columns, feedback: feedback)
  var implicit = ImplicitALS.Configuration()
  implicit.factors = 2
  implicit.regularization = 0.1
  implicit.threads = 1
  var explicit = BiasedALS.Configuration()
  explicit.factors = 2
  explicit.threads = 1
  let c: RecommenderConfiguration = feedback == .implicit ? .implicitALS(implicit) : .biasedMF(explicit)
  let model = try TrainedRecommender.train(data, configuration: c, catalog: catalog)
  let storePath = (path as NSString).deletingLastPathComponent + "/store.sqlite"
  let store = try ModelStore(path: storePath, create: true)
  _ = try model.register(in: store, name: "recommender", fingerprint: data.fingerprint)
  return (store, storePath)
}

@Suite struct ServingTests {
  @Test func recommendsTheMissingItemOfTheUsersGroupAndNotSeenItems() throws {
    let (store, _) = try trainedStore()
    let r = try StoredRecommender(store: store, name: "recommender")
    // A-1 skipped a1; of the items A-1 has not seen, a1 comes first.
    let list = try r.recommend(user: "A-1", count: 3)
    #expect(list.source == .model)
    #expect(list.items.first?.itemID == "a1")
    #expect(list.items.map(\.rank) == [1, 2, 3])
    #expect(!list.items.contains { ["a2", "a3", "a4", "a5"].contains($0.itemID) })
    let withSeen = try r.recommend(user: "A-1", count: 5, includeSeen: true)
    #expect(Set(withSeen.items.map(\.itemID)) == ["a1", "a2", "a3", "a4", "a5"])
  }

  @Test func unknownUsers() throws {
    let (store, _) = try trainedStore()
    let r = try StoredRecommender(store: store, name: "recommender")
    let popular = try r.recommend(user: "nobody", count: 2)
    #expect(popular.source == .popularity)
    #expect(popular.items.allSatisfy { $0.score == 5 })
    #expect(
      throws: CommerceError(
        .notFound, "user 'nobody' is not in the model (trained on 12 users); give \(.history) or drop \(.strict)")
    ) { _ = try r.recommend(user: "nobody", count: 2, strict: true) }
    let folded = try r.recommend(user: "nobody", count: 2, history: ["b1", "b2", "b3"])
    #expect(folded.source == .foldedIn)
    #expect(Set(folded.items.map(\.itemID)).isSubset(of: ["b4", "b5"]))
    do {
      _ = try r.recommend(user: "nobody", count: 2, history: ["b1", "zz"])
      Issue.record("expected an error")
    } catch let error as CommerceError {
      #expect(
        error
          == CommerceError(
            .notFound, "\(.history): item 'zz' is not in the model (trained on 10 items)", parameter: .history))
      #expect(error.description == "history: item 'zz' is not in the model (trained on 10 items)")
    }
  }

  @Test func similarItems() throws {
    let (store, _) = try trainedStore()
    let r = try StoredRecommender(store: store, name: "recommender")
    let list = try r.similar(item: "a1", count: 4)
    #expect(Set(list.items.map(\.itemID)) == ["a2", "a3", "a4", "a5"])
    #expect(list.items.allSatisfy { $0.score > 0.9 })
    #expect(throws: CommerceError(.notFound, "item 'zz' is not in the model (trained on 10 items)")) {
      _ = try r.similar(item: "zz", count: 3)
    }
    #expect(throws: CommerceError(.usage, "\(.count) must be at least 1, got 0", parameter: .count)) {
      _ = try r.similar(item: "a1", count: 0)
    }
  }

  @Test func userWhoHasSeenEverything() throws {
    let path = temporaryFile("user_id,item_id\nu,x\nu,y\nv,x\n")
    let data = try InteractionData.load(path: path, columns: InteractionColumns(), feedback: .implicit)
    var c = ImplicitALS.Configuration()
    c.factors = 2
    let model = try TrainedRecommender.train(data, configuration: .implicitALS(c))
    let store = try ModelStore(path: (path as NSString).deletingLastPathComponent + "/s.sqlite", create: true)
    _ = try model.register(in: store, name: "recommender", fingerprint: data.fingerprint)
    let r = try StoredRecommender(store: store, name: "recommender")
    #expect(
      throws: CommerceError(
        .notFound, "user 'u' has interacted with all 2 items; nothing is left to recommend (use \(.includeSeen))")
    ) { _ = try r.recommend(user: "u", count: 1) }
    #expect(try r.recommend(user: "v", count: 5).items.map(\.itemID) == ["y"])
  }

  @Test func metadataIsShown() throws {
    var catalog = ItemCatalog()
    catalog.columns = ["title"]
    catalog.rows = ["a1": ["Lamp"], "b1": ["Kite"]]
    let (store, _) = try trainedStore(catalog: catalog)
    let list = try StoredRecommender(store: store, name: "recommender").recommend(user: "A-1", count: 1)
    #expect(list.metadataColumns == ["title"])
    #expect(list.items[0].metadata == ["title": "Lamp"])
  }

  @Test func explicitModelsPredictRatingsAndNeedRatedHistory() throws {
    let (store, _) = try trainedStore(feedback: .explicit)
    let r = try StoredRecommender(store: store, name: "recommender")
    #expect(r.version.kind == "recommender.biased-mf-explicit")
    let list = try r.recommend(user: "A-2", count: 2)
    #expect(list.items.allSatisfy { $0.score > 0 && $0.score < 5 })
    #expect(
      throws: CommerceError(
        .usage, "\(.history): this model was trained on explicit ratings; give each item's rating as ITEM:RATING",
        parameter: .history)
    ) { _ = try r.recommend(user: "new", count: 2, history: ["a1"]) }
    let folded = try r.recommend(user: "new", count: 2, history: ["a1:3", "a2:2"])
    #expect(folded.source == .foldedIn)
  }

  @Test func storeProblems() throws {
    let (store, _) = try trainedStore()
    #expect(
      throws: CommerceError(
        .noModel, "no recommender model 'other' in \(store.path); train first: \(.trainRecommender)")
    ) { _ = try StoredRecommender(store: store, name: "other") }
    _ = try store.register(
      NewModelVersion(name: "churn", kind: "churn.logistic-regression", dataBytes: 0, dataHash: "", parts: [:]))
    #expect(
      throws: CommerceError(
        .noModel, "model 'churn' is a churn.logistic-regression model, not a recommender; choose another \(.modelName)",
        parameter: .modelName)
    ) {
      _ = try StoredRecommender(store: store, name: "churn")
    }
    // Versions of one name keep one kind.
    let path = temporaryFile(tasteCSV())
    var columns = InteractionColumns()
    columns.value = "count"
    let data = try InteractionData.load(path: path, columns: columns, feedback: .explicit)
    var c = BiasedALS.Configuration()
    c.factors = 2
    let explicitModel = try TrainedRecommender.train(data, configuration: .biasedMF(c))
    #expect(throws: CommerceError.self) {
      _ = try explicitModel.register(in: store, name: "recommender", fingerprint: data.fingerprint)
    }
  }

  @Test func batchWritesEveryUsersTopItems() throws {
    let (store, storePath) = try trainedStore()
    let out = (storePath as NSString).deletingLastPathComponent + "/batch.csv"
    let r = try StoredRecommender(store: store, name: "recommender")
    let summary = try r.batch(users: nil, count: 2, output: out, threads: 2)
    #expect(summary.users == 12 && summary.rows == 24 && summary.unknownUsers == 0)
    let reader = try CSVReader(path: out)
    #expect(reader.header.names == ["user_id", "rank", "item_id", "score", "source"])
    var firstOfA1: String? = nil
    var rows = 0
    while try reader.next() {
      rows += 1
      if try reader.string(0) == "A-1" && reader.int(1) == 1 { firstOfA1 = try reader.string(2) }
    }
    #expect(rows == 24)
    #expect(firstOfA1 == "a1")
    // The batch agrees with serving one user.
    #expect(try r.recommend(user: "A-1", count: 1).items[0].itemID == firstOfA1)
    let some = try r.batch(users: ["B-2", "ghost"], count: 1, output: out, threads: 1)
    #expect(some.users == 2 && some.rows == 2 && some.unknownUsers == 1)
    // A users file: its column, in file order; a missing column or a blank id is an error naming its place.
    let usersFile = temporaryFile("name,uid\nx,ghost\ny,A-1\n")
    let fromFile = try r.batch(.file(path: usersFile, column: "uid"), count: 1, output: out, threads: 1)
    #expect(fromFile.users == 2 && fromFile.unknownUsers == 1)
    #expect(
      try String(contentsOfFile: out, encoding: .utf8).hasSuffix(
        "A-1,1,\(firstOfA1!),\(String(format: "%.6f", try r.recommend(user: "A-1", count: 1).items[0].score)),model\n"))
    // The unknown user's rows are marked as the popularity fallback.
    #expect(try String(contentsOfFile: out, encoding: .utf8).contains("\nghost,1,"))
    #expect(
      try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").first { $0.hasPrefix("ghost,") }?
        .hasSuffix(",popularity") == true)
    #expect(throws: TabularError.self) {
      _ = try r.batch(.file(path: usersFile, column: "user_id"), count: 1, output: out, threads: 1)
    }
    let blank = temporaryFile("user_id\nA-1\n \n")
    #expect {
      _ = try r.batch(.file(path: blank, column: "user_id"), count: 1, output: out, threads: 1)
    } throws: { "\($0)".hasSuffix(":3:1: column 'user_id': the user id is blank; expected an id") }
    #expect(try r.batch(.all, count: 1, output: out, threads: 1).users == 12)
    #expect(try r.batch(.ids(["A-1"]), count: 1, output: out, threads: 1).rows == 1)
  }

  @Test func evaluationBeatsPopularityOnTasteData() throws {
    var text = "user_id,item_id\n"
    for group in 0..<4 {
      for u in 0..<20 {
        for i in 0..<12 where (u + i) % 4 != 0 { text += "g\(group)u\(u),g\(group)i\(i)\n" }
      }
    }
    let data = try InteractionData.load(path: temporaryFile(text), columns: InteractionColumns(), feedback: .implicit)
    var c = ImplicitALS.Configuration()
    c.factors = 8
    c.regularization = 1
    let report = try RecommenderEvaluation.evaluate(
      data, configuration: .implicitALS(c), testFraction: 0.2, seed: 42, k: 5)
    #expect(report.ranking.map(\.name) == ["recommender.als-implicit", "popularity"])
    #expect(report.ranking[0].ndcg > report.ranking[1].ndcg + 0.3)
    #expect(report.testInteractions == 80 * 2)
    #expect(throws: CommerceError(.usage, "\(.cutoff) must be at least 1, got 0", parameter: .cutoff)) {
      _ = try RecommenderEvaluation.evaluate(data, configuration: .implicitALS(c), testFraction: 0.2, seed: 42, k: 0)
    }
  }
}
