import Charts
import Foundation
import Modeling
import Storage
import StorageSQLite
import TabularIO
import Testing

@testable import Recommender

@Suite struct HeldOutEvaluationTests {
  @Test func giniOfKnownExposures() {
    #expect(RecommenderEvaluation.gini([1, 1, 1]) == 0)
    #expect(abs(RecommenderEvaluation.gini([0, 0, 1]) - 2.0 / 3) < 1e-12)
    #expect(abs(RecommenderEvaluation.gini([4, 1, 3, 2]) - 0.25) < 1e-12)
    #expect(RecommenderEvaluation.gini([]) == 0 && RecommenderEvaluation.gini([0, 0]) == 0)
  }

  /// Each user then buys the item of their group they had skipped; plus a row of an unknown user, one of an unknown
  /// item and one the user had already.
  func laterCSV() -> String {
    var text = "user_id,item_id\n"
    for group in ["A", "B"] {
      for u in 1...6 { text += "\(group)-\(u),\(group.lowercased())\((u - 1) % 5 + 1)\n" }
    }
    return text + "Z-1,a1\nA-1,zz\nA-1,a2\n"
  }

  @Test func measuresTheStoredVersionOnLaterInteractions() throws {
    let (store, _) = try trainedStore()
    let stored = try StoredRecommender(store: store, name: "recommender")
    let later = temporaryFile(laterCSV(), name: "later.csv")
    let e = try RecommenderEvaluation.heldOut(stored, path: later, columns: InteractionColumns(), k: 1, threads: 1)
    #expect(e.users == 12 && e.heldOutInteractions == 12)
    #expect(e.unknownUsers == 1 && e.unknownItems == 1 && e.alreadySeen == 1)
    let model = e.quality[0]
    // The skipped item of the user's group comes first for every user.
    #expect(model.name == "model" && model.precision == 1 && model.hitRate == 1 && model.ndcg == 1)
    #expect(abs(model.coverage - 1) < 1e-12)  // every one of the 10 items is someone's missing one
    // Popularity recommends the same most popular unseen item to many users: more unequal exposure.
    let popular = e.quality[1]
    #expect(popular.exposureGini > model.exposureGini)
    #expect(e.catalogueItems == 10 && e.longTail.count == 10)
    #expect(abs(e.longTail.map(\.interactionShare).reduce(0, +) - 1) < 1e-9)
    #expect(abs(e.longTail.map(\.modelShare).reduce(0, +) - 1) < 1e-9)
    #expect(e.buckets.map(\.users).reduce(0, +) == 12)
    #expect(e.examples.count == 3 && e.examples.allSatisfy { $0.recommendations.count == 1 })
    #expect(e.trials == nil)
    // The page draws these numbers.
    let page = RecommenderReport.page(e, version: stored.version, file: "later.csv")
    let quality = try #require(page.charts.first { $0.title.hasPrefix("Top-1 quality") })
    #expect(quality.series[0].points.map(\.y) == [model.precision, model.recall, model.ndcg, model.map, model.hitRate])
    let gini = try #require(page.charts.first { $0.title.hasPrefix("Exposure inequality") })
    #expect(gini.series[0].points.map(\.y) == e.quality.map(\.exposureGini))
    let html = page.render()
    #expect(!html.contains("<script") && !html.contains("src="))
  }

  /// Issue 26: the model card gives the training interactions' time span (rows' earliest and latest time, blank
  /// times aside), or says it is not recorded.
  @Test func theCardGivesTheTrainingTimeSpan() throws {
    let path = temporaryFile(
      "user_id,item_id,time\nu1,a,1700000300\nu1,b,\nu2,a,1700000000\nu2,b,1700086400\nu1,a,1700000100\n")
    var columns = InteractionColumns()
    columns.timestamp = "time"
    let data = try InteractionData.load(path: path, columns: columns, feedback: .implicit)
    // The earliest row (u2,a) and the latest; the duplicate u1,a keeps only its latest time for the split.
    #expect(data.timeSpan == 1_700_000_000...1_700_086_400)
    #expect(try InteractionData.load(path: path, columns: InteractionColumns(), feedback: .implicit).timeSpan == nil)
    let blank = temporaryFile("user_id,item_id,time\nu1,a,\n", name: "blank.csv")
    #expect(try InteractionData.load(path: blank, columns: columns, feedback: .implicit).timeSpan == nil)
    var configuration = ImplicitALS.Configuration()
    configuration.factors = 2
    configuration.iterations = 1
    configuration.threads = 1
    let model = try TrainedRecommender.train(data, configuration: .implicitALS(configuration))
    let store = try ModelStore(path: (path as NSString).deletingLastPathComponent + "/span.sqlite", create: true)
    let spanned = try model.register(in: store, name: "spanned", fingerprint: data.fingerprint, timeSpan: data.timeSpan)
    #expect(spanned.metrics[TrainedRecommender.firstTimeMetric] == 1_700_000_000)
    #expect(spanned.metrics[TrainedRecommender.lastTimeMetric] == 1_700_086_400)
    #expect(RecommenderReport.timeSpan(spanned) == "2023-11-14 22:13:20 to 2023-11-15 22:13:20")
    let plain = try model.register(in: store, name: "plain", fingerprint: data.fingerprint)
    #expect(plain.metrics[TrainedRecommender.firstTimeMetric] == nil)
    #expect(RecommenderReport.timeSpan(plain).hasPrefix("not recorded"))
  }

  @Test func aFileWithNothingToJudgeIsRefused() throws {
    let (store, _) = try trainedStore()
    let stored = try StoredRecommender(store: store, name: "recommender")
    let later = temporaryFile("user_id,item_id\nZ-1,a1\nA-1,a2\n", name: "later.csv")
    #expect(throws: CommerceError.self) {
      _ = try RecommenderEvaluation.heldOut(stored, path: later, columns: InteractionColumns(), k: 10, threads: 1)
    }
    let malformed = temporaryFile("user,item\nA-1,a1\n", name: "bad.csv")
    #expect(throws: (any Error).self) {
      _ = try RecommenderEvaluation.heldOut(stored, path: malformed, columns: InteractionColumns(), k: 10, threads: 1)
    }
  }
}
