import Foundation
import Modeling

/// A trained fraud model: logistic regression on standardized features, two thresholds and rules.
public struct FraudModel: Codable, Sendable {
  /// Intercept, then one coefficient per `FraudFeature` (standardized scale).
  public var coefficients: [Double]
  public var means: [Double]
  public var sds: [Double]
  /// Scores at or above are reviewed / declined.
  public var reviewThreshold: Double
  public var declineThreshold: Double
  public var rules: RuleSet
  /// The label delay the history was replayed with (seconds).
  public var labelDelay: Double
  /// How the thresholds were chosen.
  public var thresholdRule: String

  /// A model with no learned part: rules only.
  public static func rulesOnly(_ rules: RuleSet, labelDelay: Double) -> FraudModel {
    FraudModel(
      coefficients: [], means: [], sds: [], reviewThreshold: .infinity, declineThreshold: .infinity, rules: rules,
      labelDelay: labelDelay, thresholdRule: "rules only")
  }

  public var hasModel: Bool { !coefficients.isEmpty }
}

/// Scores one transaction's features: probability, decision, reasons.
struct Scorer {
  let model: FraudModel
  let rules: RuleSet.Compiled
  let slope: [Double]
  let intercept: Double
  let names: [[UInt8]]
  let ruleCodes: [[UInt8]]
  // Rules flattened: conditions of rule r are conditionStart[r]..<conditionStart[r + 1].
  let ruleCount: Int
  let conditionStart: [Int]
  let conditionValue: [Int]
  let conditionOp: [UInt8]
  let conditionThan: [Double]
  let ruleDecisions: [Decision]

  @inline(__always)
  func ruleMatches(_ r: Int, _ inputs: RuleInputs) -> Bool {
    for c in conditionStart[r]..<conditionStart[r + 1] {
      let v = RuleSet.value(inputs, conditionValue[c])
      let than = conditionThan[c]
      let ok: Bool
      switch conditionOp[c] {
      case 0: ok = v > than
      case 1: ok = v >= than
      case 2: ok = v < than
      case 3: ok = v <= than
      case 4: ok = v == than
      default: ok = v != than
      }
      if !ok { return false }
    }
    return true
  }

  init(model: FraudModel) {
    self.model = model
    rules = model.rules.compiled()
    if model.hasModel {
      let s = (0..<FraudFeature.count).map { model.coefficients[$0 + 1] / model.sds[$0] }
      slope = s
      intercept = model.coefficients[0] - (0..<FraudFeature.count).reduce(0.0) { $0 + s[$1] * model.means[$1] }
    } else {
      slope = []
      intercept = 0
    }
    names = FraudFeature.allCases.map { Array($0.name.utf8) }
    ruleCodes = rules.codes.map { Array($0.utf8) }
    ruleCount = rules.conditions.count
    var start = [0]
    var value: [Int] = []
    var op: [UInt8] = []
    var than: [Double] = []
    for conditions in rules.conditions {
      for (v, o, t) in conditions {
        value.append(v)
        op.append(o)
        than.append(t)
      }
      start.append(value.count)
    }
    conditionStart = start
    conditionValue = value
    conditionOp = op
    conditionThan = than
    ruleDecisions = rules.decisions
  }

  /// The probability of fraud (0 for rules only), the decision, and the reasons appended to `reasons`.
  @inline(__always)
  func score(
    _ f: UnsafePointer<Double>, _ inputs: RuleInputs, reasons: inout [UInt8], maxReasons: Int = 2
  ) -> (Double, Decision) {
    var p = 0.0
    var decision = Decision.approve
    if !slope.isEmpty {
      var eta = intercept
      for k in 0..<FraudFeature.count { eta += slope[k] * f[k] }
      p = LogisticRegression.sigmoid(eta)
      if p >= model.declineThreshold {
        decision = .decline
      } else if p >= model.reviewThreshold {
        decision = .review
      }
      if decision != .approve {
        // The largest contributions to the log-odds, against the average transaction.
        withUnsafeTemporaryAllocation(of: Double.self, capacity: FraudFeature.count) { contributions in
          let c = contributions.baseAddress!
          for k in 0..<FraudFeature.count { c[k] = slope[k] * (f[k] - model.means[k]) }
          LargestContributions.select(c, count: FraudFeature.count, limit: maxReasons, above: 0.25) { best, _ in
            if !reasons.isEmpty { reasons.append(UInt8(ascii: ";")) }
            reasons.append(contentsOf: names[best])
          }
        }
      }
    }
    for r in 0..<ruleCount where ruleMatches(r, inputs) {
      if ruleDecisions[r] > decision { decision = ruleDecisions[r] }
      if !reasons.isEmpty { reasons.append(UInt8(ascii: ";")) }
      reasons.append(contentsOf: ruleCodes[r])
    }
    return (p, decision)
  }
}
