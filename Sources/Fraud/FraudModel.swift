import Foundation
import Modeling

/// A trained fraud model: a learned estimator (or none), two thresholds on its probability, and rules.
public struct FraudModel: Codable, Sendable {
  /// What turns a transaction's features into a probability of fraud.
  public var estimator: FraudEstimator
  /// Scores at or above are reviewed / declined.
  public var reviewThreshold: Double
  public var declineThreshold: Double
  public var rules: RuleSet
  /// The label delay the history was replayed with (seconds).
  public var labelDelay: Double
  /// How the thresholds were chosen.
  public var thresholdRule: String

  /// A model of `estimator`, thresholds and rules.
  public init(
    estimator: FraudEstimator, reviewThreshold: Double, declineThreshold: Double, rules: RuleSet,
    labelDelay: Double, thresholdRule: String
  ) {
    self.estimator = estimator
    self.reviewThreshold = reviewThreshold
    self.declineThreshold = declineThreshold
    self.rules = rules
    self.labelDelay = labelDelay
    self.thresholdRule = thresholdRule
  }

  /// A model with no learned part: rules only.
  public static func rulesOnly(_ rules: RuleSet, labelDelay: Double) -> FraudModel {
    FraudModel(
      estimator: .rulesOnly, reviewThreshold: .infinity, declineThreshold: .infinity, rules: rules,
      labelDelay: labelDelay, thresholdRule: "rules only")
  }

  /// Whether a learned estimator scores (not the rules alone).
  public var hasModel: Bool {
    switch estimator {
    case .rulesOnly: return false
    case .logistic: return true
    }
  }

  // The stored form (the `model` part) is the one the logistic model always had: its fields at the top
  // level, with empty coefficients for rules only. A new family adds a `family` key.
  private enum CodingKeys: String, CodingKey {
    case coefficients, means, sds, reviewThreshold, declineThreshold, rules, labelDelay, thresholdRule
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let coefficients = try c.decode([Double].self, forKey: .coefficients)
    if coefficients.isEmpty {
      estimator = .rulesOnly
    } else {
      let logistic = LogisticFraudEstimator(
        coefficients: coefficients, means: try c.decode([Double].self, forKey: .means),
        sds: try c.decode([Double].self, forKey: .sds))
      guard logistic.isWellFormed else {
        throw DecodingError.dataCorruptedError(
          forKey: .coefficients, in: c, debugDescription: "coefficients, means and sds do not fit the features")
      }
      estimator = .logistic(logistic)
    }
    reviewThreshold = try c.decode(Double.self, forKey: .reviewThreshold)
    declineThreshold = try c.decode(Double.self, forKey: .declineThreshold)
    rules = try c.decode(RuleSet.self, forKey: .rules)
    labelDelay = try c.decode(Double.self, forKey: .labelDelay)
    thresholdRule = try c.decode(String.self, forKey: .thresholdRule)
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    switch estimator {
    case .rulesOnly:
      try c.encode([Double](), forKey: .coefficients)
      try c.encode([Double](), forKey: .means)
      try c.encode([Double](), forKey: .sds)
    case .logistic(let l):
      try c.encode(l.coefficients, forKey: .coefficients)
      try c.encode(l.means, forKey: .means)
      try c.encode(l.sds, forKey: .sds)
    }
    try c.encode(reviewThreshold, forKey: .reviewThreshold)
    try c.encode(declineThreshold, forKey: .declineThreshold)
    try c.encode(rules, forKey: .rules)
    try c.encode(labelDelay, forKey: .labelDelay)
    try c.encode(thresholdRule, forKey: .thresholdRule)
  }
}

/// The families of fraud estimator. Adding one adds a case here, its own file, and a case in the two
/// places that switch on it: `FraudModel`'s coding and `Scorer.init` (how it scores).
public enum FraudEstimator: Sendable, Equatable {
  /// No learned part: the rules decide alone, and the score is 0.
  case rulesOnly
  /// Logistic regression on standardized stream features.
  case logistic(LogisticFraudEstimator)
}

/// Scores one transaction's features: probability, decision, reasons.
struct Scorer {
  let model: FraudModel
  let rules: RuleSet.Compiled
  /// The linear predictor on raw features (empty for rules only) and the means reasons are measured from.
  let slope: [Double]
  let intercept: Double
  let means: [Double]
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
    switch model.estimator {
    case .rulesOnly:
      slope = []
      intercept = 0
      means = []
    case .logistic(let l):
      (slope, intercept) = l.rawScale()
      means = l.means
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
          for k in 0..<FraudFeature.count { c[k] = slope[k] * (f[k] - means[k]) }
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
