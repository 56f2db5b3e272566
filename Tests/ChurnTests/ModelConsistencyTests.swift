import Foundation
import Modeling
import Storage
import StorageSQLite
import Testing

@testable import Churn

/// Issue 24: a stored churn model whose parts disagree fails with a message — on load, and when a scorer is made —
/// instead of trapping on a customer's row.
@Suite struct ModelConsistencyTests {
  func linearModel() throws -> ChurnModel {
    var o = ChurnTrainingOptions(target: "churned")
    o.folds = 0
    return try ChurnTrainer.train(path: temporaryFile(smallCustomers()), options: o).model
  }

  func additiveModel() throws -> ChurnModel {
    var o = ChurnTrainingOptions(target: "churned")
    o.folds = 0
    o.family = .additive
    var text = "id,plan,calls,charges,churned\n"
    var g = SeededGenerator(seed: 3)
    for i in 0..<1500 {
      let calls = g.nextInt(below: 10)
      let charges = 20 + g.nextDouble() * 80
      let logOdds = -2 + 0.04 * (charges - 60) + (calls > 6 ? 1.2 : 0)
      let churned = g.nextDouble() < 1 / (1 + exp(-logOdds))
      text +=
        "C\(i),\(["gold", "silver", "basic"][i % 3]),\(calls),\(String(format: "%.2f", charges)),\(churned ? "Yes" : "No")\n"
    }
    let model = try ChurnTrainer.train(path: temporaryFile(text, name: "additive.csv"), options: o).model
    try #require(model.additive != nil && !(model.additive?.smooths.isEmpty ?? true))
    return model
  }

  /// Each damage is named, and `ChurnRecordScorer` refuses the model as `checkConsistency` does.
  func expectRefused(_ model: ChurnModel, mentioning text: String, _ comment: String) {
    #expect("\(comment)") {
      try model.checkConsistency()
    } throws: { "\($0)".contains(text) }
    #expect(throws: ModelingError.self, "\(comment)") { _ = try ChurnRecordScorer(model: model) }
  }

  @Test func trainedModelsAreConsistent() throws {
    try linearModel().checkConsistency()
    try additiveModel().checkConsistency()
    _ = try ChurnRecordScorer(model: try additiveModel())
  }

  @Test func damagedLinearModelsAreRefused() throws {
    let good = try linearModel()
    var m = good
    m.coefficients.removeLast()
    expectRefused(m, mentioning: "coefficients for", "a coefficient short")
    m = good
    m.coefficients[1] = .nan
    expectRefused(m, mentioning: "coefficients for", "a NaN coefficient")
    m = good
    m.features[0].column = good.columns.count
    expectRefused(m, mentioning: "reads column", "a feature past the columns")
    m = good
    m.features[0].sd = 0
    expectRefused(m, mentioning: "standard deviation", "a zero standard deviation")
    m = good
    m.threshold = .infinity
    expectRefused(m, mentioning: "threshold", "an infinite threshold")
    if let k = good.features.firstIndex(where: { if case .level = $0.role { true } else { false } }) {
      m = good
      m.features[k].role = .level(good.columns[good.features[k].column].levels.count)
      expectRefused(m, mentioning: "is level", "a level past the column's levels")
    } else {
      Issue.record("the small customers' model has no level feature")
    }
  }

  @Test func damagedAdditiveModelsAreRefused() throws {
    let good = try additiveModel()
    let a = try #require(good.additive)
    func with(_ change: (inout AdditiveChurnModel) -> Void) -> ChurnModel {
      var m = good
      var additive = a
      change(&additive)
      m.additive = additive
      return m
    }
    expectRefused(with { $0.parametricCoefficients.removeLast() }, mentioning: "parametric coefficients", "intercept")
    expectRefused(
      with { $0.parametric.append(good.features.count) }, mentioning: "parametric", "a parametric feature past the end")
    expectRefused(with { $0.smooths[0].coefficients.removeLast() }, mentioning: "coefficients for", "a term short")
    expectRefused(with { $0.smooths[0].bases = [] }, mentioning: "bases", "a term without a basis")
    expectRefused(with { $0.smooths[0].features = [good.features.count] }, mentioning: "features", "a term's feature")
    expectRefused(with { $0.smooths[0].bases[0].center.removeLast() }, mentioning: "basis", "a short centering")
    expectRefused(with { $0.smooths[0].bases[0].upper = $0.smooths[0].bases[0].lower }, mentioning: "basis", "range")
    expectRefused(with { $0.smooths[0].bases[0].count = 3 }, mentioning: "basis", "too few functions")
    expectRefused(with { $0.smooths[0].bases[0].warp = [3, 2, 1] }, mentioning: "basis", "a descending warp")
    // The unconstrained coefficients and the penalty say so too, without the model's check.
    var bad = a.smooths[0]
    bad.coefficients.removeLast()
    #expect(throws: ModelingError.self) { _ = try bad.unconstrainedCoefficients() }
    var basis = a.smooths[0].bases[0]
    basis.count = 1
    #expect(throws: ModelingError.self) { _ = try basis.penalty() }
  }

  /// A model part that decodes but disagrees is reported as damage by the store's loader, with the version.
  @Test func theLoaderReportsAnInconsistentModelAsDamage() throws {
    var model = try linearModel()
    model.coefficients.removeLast()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("consistency-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let store = try ModelStore(path: dir.appendingPathComponent("s.sqlite").path, create: true)
    _ = try store.register(
      NewModelVersion(
        name: "churn", kind: "churn.logistic-regression", dataBytes: 0, dataHash: "",
        parts: ["model": Array(try JSONEncoder().encode(model))]))
    #expect {
      _ = try ChurnStore.load(from: store, name: "churn")
    } throws: {
      ($0 as? CommerceError)?.kind == .damaged && "\($0)".contains("model 'churn' version 1 is damaged")
        && "\($0)".contains("coefficients for")
    }
  }
}
