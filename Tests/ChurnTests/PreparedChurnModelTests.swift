import Foundation
import Modeling
import Synchronization
import Testing

@testable import Churn

/// Issue 24: a churn model prepared once scores customers from many threads as one thread does, and its
/// predictions print the JSON contract.
@Suite struct PreparedChurnModelTests {
  func model(family: ChurnFamily) throws -> ChurnModel {
    var o = ChurnTrainingOptions(target: "churned")
    o.folds = 0
    o.family = family
    return try ChurnTrainer.train(path: temporaryFile(smallCustomers(rows: 400)), options: o).model
  }

  func customers() -> [[String: String]] {
    let rows = smallCustomers(rows: 60).split(separator: "\n").map {
      $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }
    let header = rows[0]
    return rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
  }

  @Test(arguments: [ChurnFamily.linear, .additive])
  func manyThreadsScoreAsOneDoes(family: ChurnFamily) throws {
    let model = try model(family: family)
    let prepared = try PreparedChurnModel(model)
    let customers = customers()
    let expected = try customers.map { try model.score(fields: $0, reasons: 3) }
    let mismatches = Mutex(0)
    DispatchQueue.concurrentPerform(iterations: 8) { worker in
      for round in 0..<50 {
        let k = (worker * 7 + round) % customers.count
        let got = try? prepared.score(fields: customers[k], reasons: 3)
        if got != expected[k] { mismatches.withLock { $0 += 1 } }
      }
    }
    #expect(mismatches.withLock { $0 } == 0)
  }

  @Test func predictionsPrintTheContract() throws {
    let prepared = try PreparedChurnModel(try model(family: .linear))
    let customer = customers()[0]
    var prediction = try prepared.score(fields: customer, id: "Z1", reasons: 2)
    let json = try JSONContract.text(prediction, pretty: false)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    #expect(Set(object.keys) == ["id", "probability", "decision", "decile", "reasons", "unseen_levels"])
    #expect(object["id"] as? String == "Z1")
    #expect(object["decision"] as? String == (prediction.churn ? "churn" : "stay"))
    #expect(abs((object["probability"] as? Double ?? -1) - prediction.probability) < 1e-15)
    let reasons = try #require(object["reasons"] as? [[String: Any]])
    #expect(reasons.allSatisfy { Set($0.keys) == ["column", "value", "contribution"] })
    #expect(try JSONDecoder().decode(ChurnPrediction.self, from: Data(json.utf8)) == prediction)
    // Both decisions survive the round trip; any other spelling is refused.
    prediction.churn.toggle()
    let flipped = try JSONContract.text(prediction, pretty: false)
    #expect(try JSONDecoder().decode(ChurnPrediction.self, from: Data(flipped.utf8)) == prediction)
    let wrong = flipped.replacingOccurrences(of: "\"\(prediction.decision)\"", with: "\"maybe\"")
    #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode(ChurnPrediction.self, from: Data(wrong.utf8)) }
    // Without an id the key is absent.
    let anonymous = try JSONContract.text(try prepared.score(fields: customer), pretty: false)
    #expect(!anonymous.contains("\"id\""))
  }

  /// A model whose parts disagree is refused as damage when it is prepared, naming the version when known.
  @Test func anInconsistentModelIsRefusedWhenPrepared() throws {
    var model = try model(family: .linear)
    model.coefficients.removeLast()
    #expect {
      _ = try PreparedChurnModel(model)
    } throws: { ($0 as? CommerceError)?.kind == .damaged && "\($0)".contains("the churn model is damaged") }
  }

  /// A reason's value is its field without the spaces around it, as Foundation trims them, on the fast path too.
  @Test func reasonValuesAreTrimmedAsFoundationTrims() {
    for text in [
      "", " ", "\t", "a", " a", "a ", "\t a b \t", "  Month-to-month  ", "\u{A0}x\u{A0}", " \u{2003}x ", "é ", " 日本",
      "x\n", "\u{3000}", "a\u{A0} ",
    ] {
      #expect(PreparedChurnModel.trimmed(text) == text.trimmingCharacters(in: .whitespaces), "\(text.debugDescription)")
    }
  }
}
