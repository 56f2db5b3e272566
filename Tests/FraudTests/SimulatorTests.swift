import Foundation
import Modeling
import TabularIO
import Testing

@testable import Fraud

func simulate(_ c: SimulationConfiguration) throws -> (String, SimulationSummary) {
  let path = FileManager.default.temporaryDirectory.appendingPathComponent("sim-\(UUID()).csv").path
  let writer = try CSVWriter(path: path)
  let summary = try FraudSimulator.generate(c, to: writer)
  try writer.finish()
  defer { try? FileManager.default.removeItem(atPath: path) }
  return (try String(contentsOfFile: path, encoding: .utf8), summary)
}

@Suite struct SimulatorTests {
  @Test func deterministicOrderedAndLabeled() throws {
    var c = SimulationConfiguration()
    c.days = 20
    c.cards = 300
    c.merchants = 60
    c.fraudCardShare = 0.2
    let (a, summary) = try simulate(c)
    let (b, _) = try simulate(c)
    #expect(a == b)
    c.seed = 7
    #expect(try simulate(c).0 != a)
    let reader = try CSVReader(bytes: Array(a.utf8))
    #expect(
      reader.header.names == [
        "transaction_id", "timestamp", "card", "merchant", "merchant_category", "country", "amount", "lat", "lon",
        "label",
      ])
    var last = -Double.infinity
    var rows = 0
    var frauds = 0
    while try reader.next() {
      let t = try reader.timestamp(1)!
      #expect(t >= last)
      last = t
      #expect(try reader.double(6)! > 0)
      frauds += try reader.int(9)!
      rows += 1
    }
    #expect(rows == summary.transactions && frauds == summary.frauds)
    #expect(frauds > 20 && frauds < rows / 5)
  }

  @Test func timestampsAreISO() {
    #expect(FieldParser.formatTimestamp(1_522_540_850) == "2018-04-01 00:00:50")
    #expect(FieldParser.formatTimestamp(0) == "1970-01-01 00:00:00")
    #expect(FieldParser.formatTimestamp(951_825_600) == "2000-02-29 12:00:00")
  }

  @Test func badSettings() throws {
    var c = SimulationConfiguration()
    c.merchants = 1
    #expect(throws: CommerceError.self) { _ = try simulate(c) }
  }
}

@Suite struct CardPrecisionTests {
  @Test func perDayTopCardsWithTiesTakenByCardID() {
    // Day 0: cards 1..4 all score 0.5 (a tie); with k = 2 cards 1 and 2 are taken, card 2 is a fraud → 1/2.
    // Day 1: card 9 scores highest over two transactions (max 0.9) and is a fraud → 1/2 with k = 2.
    let scores = [0.5, 0.5, 0.5, 0.5, 0.1, 0.9, 0.2]
    let labels = [false, true, false, true, false, true, false]
    let days: [Int32] = [0, 0, 0, 0, 1, 1, 1]
    let cards: [UInt64] = [3, 2, 1, 4, 9, 9, 8]
    let expected = (0.5 + 0.5) / 2
    for _ in 0..<20 {
      #expect(FraudEvaluation.cardPrecision(scores, labels, days, cards, k: 2) == expected)
    }
    // Card 4's fraud on a tied score falls outside the top 2 by card id.
    #expect(FraudEvaluation.cardPrecision([0.5, 0.5, 0.5], [false, false, true], [0, 0, 0], [1, 2, 4], k: 2) == 0)
    #expect(FraudEvaluation.cardPrecision([], [], [], [], k: 100) == 0)
  }
}
