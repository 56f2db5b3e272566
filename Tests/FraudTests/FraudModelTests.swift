import Foundation
import Testing

@testable import Fraud

@Suite struct FraudModelTests {
  let f = FraudFeature.count

  func logistic() -> FraudModel {
    FraudModel(
      estimator: .logistic(
        LogisticFraudEstimator(
          coefficients: (0...f).map { Double($0) / 10 }, means: (0..<f).map { Double($0) },
          sds: [Double](repeating: 2, count: f))), reviewThreshold: 0.5, declineThreshold: 0.9, rules: .standard,
      labelDelay: 86_400, thresholdRule: "test")
  }

  @Test func storedFormKeepsTheLogisticFieldsAtTheTop() throws {
    let data = try JSONEncoder().encode(logistic())
    let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    #expect(
      Set(object.keys) == [
        "coefficients", "means", "sds", "reviewThreshold", "declineThreshold", "rules", "labelDelay",
        "thresholdRule",
      ])
    let back = try JSONDecoder().decode(FraudModel.self, from: data)
    #expect(back.estimator == logistic().estimator && back.reviewThreshold == 0.5 && back.thresholdRule == "test")
  }

  @Test func emptyCoefficientsAreRulesOnlyAndWrongSizesAreRefused() throws {
    var rules = FraudModel.rulesOnly(.standard, labelDelay: 60)
    rules.reviewThreshold = 1
    rules.declineThreshold = 1
    let back = try JSONDecoder().decode(FraudModel.self, from: try JSONEncoder().encode(rules))
    #expect(back.estimator == .rulesOnly && !back.hasModel && back.labelDelay == 60)
    var text = String(decoding: try JSONEncoder().encode(logistic()), as: UTF8.self)
    text = text.replacingOccurrences(of: "\"sds\":[", with: "\"sds\":[1,")
    #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode(FraudModel.self, from: Data(text.utf8)) }
  }

  @Test func scorerUsesTheRawScaleOfTheStandardizedModel() {
    let model = logistic()
    guard case .logistic(let l) = model.estimator else { return }
    let x = (0..<f).map { Double($0) * 1.5 + 1 }
    var eta = l.coefficients[0]
    for k in 0..<f { eta += l.coefficients[k + 1] * (x[k] - l.means[k]) / l.sds[k] }
    let scorer = Scorer(model: model)
    var reasons: [UInt8] = []
    let (p, _) = x.withUnsafeBufferPointer { scorer.score($0.baseAddress!, RuleInputs(), reasons: &reasons) }
    #expect(abs(p - 1 / (1 + exp(-eta))) < 1e-12)
    let rulesOnly = Scorer(model: .rulesOnly(RuleSet(rules: []), labelDelay: 0))
    let (zero, decision) = x.withUnsafeBufferPointer {
      rulesOnly.score($0.baseAddress!, RuleInputs(), reasons: &reasons)
    }
    #expect(zero == 0 && decision == .approve)
  }
}
