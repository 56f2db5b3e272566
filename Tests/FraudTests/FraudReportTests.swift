import Foundation
import Modeling
import Storage
import StorageSQLite
import TabularIO
import Testing

@testable import Fraud

@Suite struct FraudDailyEvaluationTests {
  @Test func perDayFiguresOfKnownScores() throws {
    // Day 0: four transactions on cards 1–4, two frauds ranked first; day 1: two genuine ones only.
    let scores = [0.9, 0.8, 0.2, 0.1, 0.3, 0.05]
    let labels = [true, true, false, false, false, false]
    let days: [Int32] = [20480, 20480, 20480, 20480, 20481, 20481]
    let cards: [UInt64] = [1, 2, 3, 4, 1, 5]
    let alerted = [true, false, true, false, true, false]
    let deciles = (1...9).map { Double($0) / 10 }
    let d = try FraudEvaluation.daily(
      scores, labels, days, cards, alerted, k: 2, removeDetectedCards: false, deciles: deciles)
    #expect(d.map(\.day) == ["2026-01-27", "2026-01-28"])
    #expect(d[0].transactions == 4 && d[0].frauds == 2)
    #expect(d[0].rocAUC == 1 && d[0].averagePrecision == 1)
    #expect(d[0].cardPrecision == 1)  // both of the day's top 2 cards were frauded
    #expect(d[0].alerts == 2 && d[0].alertPrecision == 0.5)
    // A day of one class has no AUC; its card precision is 0 of k.
    #expect(d[1].rocAUC == nil && d[1].averagePrecision == nil && d[1].cardPrecision == 0)
    #expect(d[1].alerts == 1 && d[1].alertPrecision == 0)
    // PSI of day 0 over deciles 0.1…0.9: one score in each of bins 9, 8, 2, 1 (0.1 is not above 0.1: bin 0).
    let expected = PopulationStability.index(
      expected: [Double](repeating: 0.1, count: 10), actual: [0.25, 0, 0.25, 0, 0, 0, 0, 0, 0.25, 0.25])
    #expect(abs(d[0].scorePSI! - expected) < 1e-12)
    #expect(
      try FraudEvaluation.daily(scores, labels, days, cards, alerted, k: 2, removeDetectedCards: false, deciles: [])[0]
        .scorePSI == nil)
    // The window's card precision is the mean of the days'.
    #expect(FraudEvaluation.cardPrecision(scores, labels, days, cards, k: 2) == 0.5)
  }

  @Test func scoreBandsAreFinerNearZero() {
    #expect(ScoreBands.band(0) == 0)
    #expect(ScoreBands.band(5e-6) == 1)
    #expect(ScoreBands.band(0.003) == 4)
    #expect(ScoreBands.band(0.999) == ScoreBands.edges.count - 2)
    #expect(ScoreBands.band(1) == ScoreBands.edges.count - 2)
  }
}

/// Issue 26: a fraud model's card gives the span of the history it was trained on.
@Suite struct FraudModelCardTests {
  @Test func theCardGivesTheHistorysTimeSpan() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("SampleData/fraud")
    let report = try FraudTrainer.train(
      path: root.appendingPathComponent("history.csv").path, mapping: ColumnMapping(), labelDelay: 7 * 86_400,
      rules: .standard, target: .alertRate(0.01))
    // The file's first and last lines.
    let span = try #require(report.historySpan)
    #expect(FieldParser.formatTimestamp(span.lowerBound) == "2026-01-01 00:08:22")
    #expect(FieldParser.formatTimestamp(span.upperBound) == "2026-01-28 23:51:06")
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fraud-card-\(UUID())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let store = try ModelStore(path: dir.appendingPathComponent("store.sqlite").path, create: true)
    let version = try FraudStore.register(report, in: store, name: "fraud")
    #expect(version.metrics[FraudStore.historyStartMetric] == span.lowerBound)
    #expect(version.metrics[FraudStore.historyEndMetric] == span.upperBound)
    #expect(
      FraudReport.historySpan(version, historyEnd: nil)
        == "history from 2026-01-01 00:08:22 to 2026-01-28 23:51:06")
    // A version without the metrics (a stream's, or one registered before they were kept): up to the state's end.
    var older = version
    older.metrics[FraudStore.historyStartMetric] = nil
    older.metrics[FraudStore.historyEndMetric] = nil
    #expect(
      FraudReport.historySpan(older, historyEnd: span.upperBound)
        == "history up to 2026-01-28 23:51:06 (its start not recorded)")
    #expect(FraudReport.historySpan(older, historyEnd: nil) == nil)
  }
}
