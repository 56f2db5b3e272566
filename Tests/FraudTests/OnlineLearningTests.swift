import Foundation
import Modeling
import TabularIO
import Testing

@testable import Fraud

/// Issue 11 §3: online learning of the additive model's weights.
@Suite struct OnlineLearningTests {
  /// A small additive model fitted on synthetic rows: fraud above a log amount of 6.
  static let estimator: AdditiveFraudEstimator = {
    let f = FraudFeature.count
    var g = SeededGenerator(seed: 9)
    var rows: [Double] = []
    var labels: [Bool] = []
    for _ in 0..<20_000 {
      var x = [Double](repeating: 0, count: f)
      for j in 0..<f { x[j] = g.nextDouble() }
      x[FraudFeature.logAmount.rawValue] = g.nextDouble() * 8
      rows.append(contentsOf: x)
      labels.append(g.nextDouble() < (x[FraudFeature.logAmount.rawValue] > 6 ? 0.8 : 0.01))
    }
    return AdditiveFraudEstimator.fit(rows: rows, labels: labels, historyDays: 10, configuration: .init()).0
  }()

  func features(amount: Double) -> [Double] {
    var x = [Double](repeating: 0.5, count: FraudFeature.count)
    x[FraudFeature.logAmount.rawValue] = amount
    return x
  }

  func learner() throws -> (OnlineLearning, AdditiveTable) {
    let table = AdditiveTable(Self.estimator, cells: Scorer.gridCells)
    return (try OnlineLearning(estimator: Self.estimator, table: table, memory: 30 * 86_400, baseVersion: 1), table)
  }

  func logOdds(_ table: AdditiveTable, _ x: [Double]) -> Double {
    var eta = table.intercept
    for k in 0..<FraudFeature.count { eta += table.term(k, x[k]) }
    return eta
  }

  /// The fit stores, per bin, the history's curvature per day: positive where the history had transactions.
  @Test func theFitStoresTheEvidencePerBin() throws {
    let e = Self.estimator
    let curvature = try #require(e.curvature)
    #expect(curvature.count == FraudFeature.count)
    for (c, w) in zip(curvature, e.weights) { #expect(c.count == w.count) }
    #expect(curvature.allSatisfy { $0.allSatisfy { $0 >= 0 } })
    // Every row falls in one bin per feature: the feature's curvature sums to the same total for each.
    let totals = curvature.map { $0.reduce(0, +) }
    for t in totals { #expect(abs(t - totals[0]) < 1e-6 * totals[0]) }
    // A model stored before online learning decodes without it, and cannot learn.
    var old = e
    old.curvature = nil
    let table = AdditiveTable(old, cells: Scorer.gridCells)
    #expect(throws: CommerceError.self) {
      _ = try OnlineLearning(estimator: old, table: table, memory: 86_400, baseVersion: 1)
    }
  }

  /// A transaction row's label is learned at its release time, not a second before; a fraud raises the score of
  /// transactions like it, and only the bins it fell in move.
  @Test func aLabelIsLearnedAtItsReleaseAndNotBefore() throws {
    let (learning, table) = try learner()
    let x = features(amount: 3)
    let before = logOdds(table, x)
    let weightsBefore = learning.weights
    x.withUnsafeBufferPointer { learning.record($0.baseAddress!, idHash: 11, label: true, release: 3_600) }
    #expect(learning.waiting == 1)
    learning.release(until: 3_599.999)
    #expect(learning.learned == 0)
    #expect(learning.weights == weightsBefore)
    #expect(logOdds(table, x) == before)
    learning.release(until: 3_600)
    #expect(learning.learned == 1)
    #expect(learning.waiting == 0)
    let after = logOdds(table, x)
    #expect(after > before)
    // The change in log-odds is the Laplace update's: g · Σ 1/H with g = (1 − p) / (1 + p(1 − p) Σ 1/H).
    let p = 1 / (1 + exp(-before))
    var spread = 0.0
    var changed = 0
    for c in learning.weights.indices where learning.weights[c] != weightsBefore[c] { changed += 1 }
    #expect(changed == FraudFeature.count)
    for k in 0..<FraudFeature.count {
      let c = table.weightStart(k) + table.bin(k, x[k])
      spread += 1 / (learning.evidence[c] - p * (1 - p) + OnlineLearning.prior)
    }
    let g = (1 - p) / (1 + p * (1 - p) * spread)
    #expect(abs((after - before) - g * spread) < 1e-9)
    // A genuine label lowers it again, by less (p is small).
    x.withUnsafeBufferPointer { learning.record($0.baseAddress!, idHash: 12, label: false, release: 7_200) }
    learning.release(until: 7_200)
    #expect(logOdds(table, x) < after)
    #expect(after - logOdds(table, x) < after - before)
  }

  /// A feedback row's label is learned at once for a remembered transaction, once; an unknown id is not.
  @Test func feedbackLabelsForRememberedTransactions() throws {
    let (learning, table) = try learner()
    let x = features(amount: 2)
    let before = logOdds(table, x)
    x.withUnsafeBufferPointer { learning.record($0.baseAddress!, idHash: 77, label: nil, release: 0) }
    #expect(learning.waiting == 0)
    #expect(!learning.feedback(78, fraud: true, at: 10))
    #expect(learning.feedback(77, fraud: true, at: 10))
    #expect(logOdds(table, x) > before)
    #expect(!learning.feedback(77, fraud: true, at: 11))
    #expect(learning.learned == 1)
  }

  /// The learning state round-trips through the state's checkpoint bytes; a damaged one is refused.
  @Test func theLearningStateRoundTripsThroughCheckpoints() throws {
    let (learning, _) = try learner()
    let x = features(amount: 7)
    x.withUnsafeBufferPointer { p in
      learning.record(p.baseAddress!, idHash: 1, label: true, release: 100)
      learning.record(p.baseAddress!, idHash: 2, label: false, release: 200)
      learning.record(p.baseAddress!, idHash: 3, label: nil, release: 0)
    }
    learning.release(until: 150)
    let state = FeatureState()
    state.learning = learning
    let bytes = state.encoded()
    let restored = try FeatureState(decoding: bytes)
    let saved = try #require(restored.savedLearning)
    #expect(saved.version == 1)
    let table = AdditiveTable(Self.estimator, cells: Scorer.gridCells)
    let resumed = try OnlineLearning(resuming: saved, estimator: Self.estimator, table: table, memory: 30 * 86_400)
    #expect(resumed.weights == learning.weights)
    #expect(resumed.evidence == learning.evidence)
    #expect(resumed.learned == 1)
    #expect(resumed.waiting == 1)
    for c in resumed.weights.indices { #expect(table.weights[c] == resumed.weights[c]) }
    // The remembered transaction is still there for its feedback row; the waiting label is learned in both.
    #expect(resumed.feedback(3, fraud: true, at: 150))
    #expect(learning.feedback(3, fraud: true, at: 150))
    resumed.release(until: 200)
    learning.release(until: 200)
    #expect(resumed.weights == learning.weights)
    // Without the learning section, the state's own bytes; truncated ones are damaged.
    var plain: [UInt8] = []
    state.encode(into: &plain, includeLearning: false)
    #expect(try FeatureState(decoding: plain).savedLearning == nil)
    #expect(throws: CommerceError.self) { _ = try FeatureState(decoding: Array(bytes.dropLast(9))) }
    #expect(throws: CommerceError.self) { _ = try FeatureState(decoding: plain + [1, 2, 3, 4]) }
    // Learned weights of another binning do not fit.
    var other = Self.estimator
    other.edges[0] = [0.5]
    other.weights[0] = [0, 0]
    other.curvature![0] = [1, 1]
    let otherTable = AdditiveTable(other, cells: Scorer.gridCells)
    #expect(throws: CommerceError.self) {
      _ = try OnlineLearning(resuming: saved, estimator: other, table: otherTable, memory: 86_400)
    }
  }

  /// The learned model keeps the base's bins and carries the evidence now as its curvature.
  @Test func theLearnedEstimatorCarriesItsWeightsAndEvidence() throws {
    let (learning, _) = try learner()
    let x = features(amount: 3)
    x.withUnsafeBufferPointer { learning.record($0.baseAddress!, idHash: 5, label: true, release: 0) }
    learning.release(until: 0)
    let learned = learning.estimator(from: Self.estimator, at: 0)
    #expect(learned.edges == Self.estimator.edges)
    #expect(learned.weights.flatMap { $0 } == learning.weights)
    #expect(learned.isWellFormed)
    let before = Self.estimator.curvature!.flatMap { $0 }
    let after = learned.curvature!.flatMap { $0 }
    #expect(zip(before, after).filter { abs($0 - $1) > 1e-12 }.count == FraudFeature.count)
  }
}
