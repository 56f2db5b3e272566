import Foundation
import Modeling
import TabularIO
import Testing

@testable import Fraud

/// Issue 11: the handbook profile, its protocol's metrics, and the additive family.
@Suite struct HandbookTests {
  /// ROC AUC, average precision and card precision@100 with detected cards removed agree with the handbook's
  /// definitions as computed by `Scripts/reference/handbook_metrics_fixture.py` (pandas, scikit-learn).
  @Test func handbookMetricsAgreeWithTheReference() throws {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
      "Fixtures/handbook-scores.csv"
    ).path
    let reader = try CSVReader(path: path)
    var scores: [Double] = []
    var labels: [Bool] = []
    var days: [Int32] = []
    var cards: [UInt64] = []
    while try reader.next() {
      days.append(Int32(try reader.int(1)!))
      cards.append(UInt64(try reader.int(2)!))
      labels.append(try reader.int(3)! == 1)
      scores.append(try reader.double(4)!)
    }
    #expect(abs(try ClassificationMetrics.rocAUC(labels: labels, scores: scores) - 0.8115160797) < 1e-9)
    #expect(abs(try ClassificationMetrics.averagePrecision(labels: labels, scores: scores) - 0.1769095391) < 1e-9)
    let handbook = FraudEvaluation.cardPrecision(scores, labels, days, cards, k: 100, removeDetectedCards: true)
    #expect(abs(handbook - 0.0914285714) < 1e-9)
    // Without removing detected cards the same cards count again on later days.
    #expect(FraudEvaluation.cardPrecision(scores, labels, days, cards, k: 100) > handbook)
  }

  func simulate(_ c: HandbookConfiguration) throws -> [[String]] {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hb-\(UUID())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("hb.csv").path
    let writer = try CSVWriter(path: path)
    _ = try HandbookSimulator.generate(c, to: writer)
    try writer.finish()
    return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
      $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }
  }

  @Test func theSimulatorFollowsTheHandbooksRules() throws {
    var c = HandbookConfiguration()
    c.customers = 300
    c.terminals = 600
    c.days = 40
    c.seed = 3
    let rows = try simulate(c)
    #expect(
      rows[0] == [
        "TRANSACTION_ID", "TX_DATETIME", "CUSTOMER_ID", "TERMINAL_ID", "TX_AMOUNT", "TX_TIME_SECONDS", "TX_TIME_DAYS",
        "TX_FRAUD", "TX_FRAUD_SCENARIO",
      ])
    let body = rows.dropFirst()
    #expect(try simulate(c) == rows)  // deterministic for a seed
    #expect(body.first?[1].hasPrefix("2018-04-01 ") == true)
    var previous = -1
    var terminalFraudDays: [String: Set<Int>] = [:]
    for r in body {
      let seconds = Int(r[5])!
      #expect(seconds >= previous)  // time order
      previous = seconds
      #expect(Int(r[6])! == seconds / 86_400)
      let amount = Double(r[4])!
      let scenario = Int(r[8])!
      #expect((r[7] == "1") == (scenario > 0))
      // Scenario 1: every amount above the threshold is fraud (unless a later scenario took the transaction).
      if amount > 220 && scenario == 0 { Issue.record("amount \(amount) above 220 is not fraud: \(r)") }
      if scenario == 1 { #expect(amount > 220) }
      if scenario == 2 { terminalFraudDays[r[3], default: []].insert(Int(r[6])!) }
    }
    // Scenario 2: a compromised terminal's frauds span at most its 28 days from the first.
    for days in terminalFraudDays.values where !days.isEmpty {
      #expect(days.max()! - days.min()! < 28 + 40)
    }
    let share = Double(body.filter { $0[7] == "1" }.count) / Double(body.count)
    #expect(share > 0.003 && share < 0.3)
    // The constants are options: no scenario-1 fraud above a threshold beyond every amount.
    var higher = c
    higher.amountThreshold = 1e6
    higher.compromisedTerminalsPerDay = 0
    higher.compromisedCustomersPerDay = 0
    #expect(try simulate(higher).dropFirst().allSatisfy { $0[7] == "0" })
    // A pattern change: from day 20 on, scenario 1's threshold is 150.
    var changed = c
    changed.changeDay = 20
    changed.changedThreshold = 150
    let after = try simulate(changed).dropFirst()
    var newlyFraud = 0
    for r in after {
      let amount = Double(r[4])!
      let day = Int(r[6])!
      if day >= 20 && amount > 150 && r[7] != "1" { Issue.record("amount \(amount) on day \(day) is not fraud") }
      if Int(r[8])! == 1 { #expect(amount > (day >= 20 ? 150 : 220)) }
      if day >= 20 && amount > 150 && amount <= 220 { newlyFraud += 1 }
    }
    #expect(newlyFraud > 10)
  }

  /// The additive family learns a step where the data has one, scores exactly its bins through the flat table,
  /// and survives its stored form.
  @Test func theAdditiveModelLearnsShapesAndRoundTrips() throws {
    let f = FraudFeature.count
    var g = SeededGenerator(seed: 5)
    var rows: [Double] = []
    var labels: [Bool] = []
    for _ in 0..<40_000 {
      var x = [Double](repeating: 0, count: f)
      for j in 0..<f { x[j] = g.nextDouble() }
      x[FraudFeature.logAmount.rawValue] = g.nextDouble() * 8
      x[FraudFeature.night.rawValue] = g.nextDouble() < 0.3 ? 1 : 0  // a binary feature: one edge
      x[FraudFeature.newCard.rawValue] = 0  // a constant one: no edge
      x[FraudFeature.merchantFraudRate1d.rawValue] = g.nextDouble() < 0.95 ? 0 : g.nextDouble()
      let p =
        x[FraudFeature.logAmount.rawValue] > 6 ? 0.9 : (x[FraudFeature.merchantFraudRate1d.rawValue] > 0.5 ? 0.5 : 0.01)
      rows.append(contentsOf: x)
      labels.append(g.nextDouble() < p)
    }
    var every = AdditiveFraudEstimator.Configuration()
    every.negativeStride = 1
    let (model, rounds) = AdditiveFraudEstimator.fit(rows: rows, labels: labels, configuration: every)
    // Fitting one legitimate row in four, weighted four, keeps the mean probability at the fraud rate.
    let (sampled, _) = AdditiveFraudEstimator.fit(
      rows: rows, labels: labels, configuration: AdditiveFraudEstimator.Configuration())
    var sampledMean = 0.0
    for i in 0..<labels.count {
      var eta = sampled.intercept
      for j in 0..<f { eta += sampled.weights[j][AdditiveFraudEstimator.bin(rows[i * f + j], sampled.edges[j])] }
      sampledMean += LogisticRegression.sigmoid(eta)
    }
    sampledMean /= Double(labels.count)
    let fraudRate = Double(labels.filter { $0 }.count) / Double(labels.count)
    #expect(abs(sampledMean - fraudRate) / fraudRate < 0.1)
    #expect(rounds >= 1)
    #expect(model.isWellFormed)
    let amount = FraudFeature.logAmount.rawValue
    func term(_ j: Int, _ v: Double) -> Double { model.weights[j][AdditiveFraudEstimator.bin(v, model.edges[j])] }
    #expect(term(amount, 7) - term(amount, 5) > 3)  // the step at 6
    #expect(abs(term(amount, 5) - term(amount, 2)) < 0.5)  // flat below it
    let rate = FraudFeature.merchantFraudRate1d.rawValue
    #expect(term(rate, 0.8) - term(rate, 0) > 1)
    // Calibrated: the mean predicted probability is the fraud rate.
    let scorer = Scorer(
      model: FraudModel(
        estimator: .additive(model), reviewThreshold: 1, declineThreshold: 1, rules: RuleSet(rules: []),
        labelDelay: 0, thresholdRule: ""))
    var reasons: [UInt8] = []
    var meanP = 0.0
    rows.withUnsafeBufferPointer { r in
      for i in 0..<labels.count { meanP += scorer.score(r.baseAddress! + i * f, RuleInputs(), reasons: &reasons).0 }
    }
    meanP /= Double(labels.count)
    let rateObserved = Double(labels.filter { $0 }.count) / Double(labels.count)
    #expect(abs(meanP - rateObserved) / rateObserved < 0.05)
    // The flat table gives exactly the bins' weights, below the first edge, on edges, beyond the last, for NaN.
    for j in 0..<f {
      let e = model.edges[j]
      var probes = [-1e9, 1e9, .nan]
      for v in e { probes += [v, v.nextDown, v.nextUp] }
      for _ in 0..<50 { probes.append(g.nextDouble() * 10 - 1) }
      for v in probes {
        let expected = v.isNaN ? model.weights[j][0] : term(j, v)
        #expect(scorer.additiveTerm(j, v) == expected, "feature \(j) at \(v)")
      }
    }
    // The stored form.
    let stored = FraudModel(
      estimator: .additive(model), reviewThreshold: 0.3, declineThreshold: 0.9, rules: .standard, labelDelay: 86_400,
      thresholdRule: "test")
    let decoded = try JSONDecoder().decode(FraudModel.self, from: try JSONEncoder().encode(stored))
    #expect(decoded.estimator == stored.estimator)
    var broken = model
    broken.weights[0].removeLast()
    let bad = FraudModel(
      estimator: .additive(broken), reviewThreshold: 0.3, declineThreshold: 0.9, rules: .standard, labelDelay: 0,
      thresholdRule: "")
    #expect(throws: DecodingError.self) {
      _ = try JSONDecoder().decode(FraudModel.self, from: try JSONEncoder().encode(bad))
    }
  }

  /// The reliability table: bands of predicted probability with their counts, mean scores and fraud rates.
  @Test func reliabilityBands() {
    let scores = [0.0005, 0.0008, 0.005, 0.02, 0.03, 0.9, 0.95, 1.0]
    let labels = [false, false, false, false, true, true, true, false]
    let rows = FraudEvaluation.reliability(scores, labels)
    #expect(rows.map(\.transactions) == [2, 1, 2, 3])
    #expect(rows.map(\.lower) == [0, 0.001, 0.01, 0.8])
    #expect(rows.last!.upper == 1)
    #expect(abs(rows[2].meanScore - 0.025) < 1e-12 && rows[2].observedRate == 0.5)
    #expect(abs(rows[3].meanScore - 0.95) < 1e-12 && abs(rows[3].observedRate - 2.0 / 3.0) < 1e-12)
  }
}
