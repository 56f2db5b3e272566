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
  /// The training scores' deciles (9 edges), the reference the stream's score distribution is compared with
  /// (empty for rules only and for versions stored before there was one).
  public var scoreDeciles: [Double] = []

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
    case .logistic, .additive: return true
    }
  }

  // The stored form (the `model` part) is the one the logistic model always had: its fields at the top
  // level, with empty coefficients for rules only. A new family adds a `family` key.
  private enum CodingKeys: String, CodingKey {
    case coefficients, means, sds, reviewThreshold, declineThreshold, rules, labelDelay, thresholdRule
    case family, additive, scoreDeciles
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let coefficients = try c.decodeIfPresent([Double].self, forKey: .coefficients) ?? []
    if try c.decodeIfPresent(String.self, forKey: .family) == "additive" {
      let additive = try c.decode(AdditiveFraudEstimator.self, forKey: .additive)
      guard additive.isWellFormed else {
        throw DecodingError.dataCorruptedError(
          forKey: .additive, in: c, debugDescription: "the bins and weights do not fit the features")
      }
      estimator = .additive(additive)
    } else if coefficients.isEmpty {
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
    scoreDeciles = try c.decodeIfPresent([Double].self, forKey: .scoreDeciles) ?? []
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
    case .additive(let a):
      try c.encode("additive", forKey: .family)
      try c.encode(a, forKey: .additive)
    }
    try c.encode(reviewThreshold, forKey: .reviewThreshold)
    try c.encode(declineThreshold, forKey: .declineThreshold)
    try c.encode(rules, forKey: .rules)
    try c.encode(labelDelay, forKey: .labelDelay)
    try c.encode(thresholdRule, forKey: .thresholdRule)
    if !scoreDeciles.isEmpty { try c.encode(scoreDeciles, forKey: .scoreDeciles) }
  }
}

/// The families of fraud estimator. Adding one adds a case here, its own file, and a case in the two
/// places that switch on it: `FraudModel`'s coding and `Scorer.init` (how it scores).
public enum FraudEstimator: Sendable, Equatable {
  /// No learned part: the rules decide alone, and the score is 0.
  case rulesOnly
  /// Logistic regression on standardized stream features.
  case logistic(LogisticFraudEstimator)
  /// A binned additive model: one learned shape per feature.
  case additive(AdditiveFraudEstimator)
}

/// Scores one transaction's features: probability, decision, reasons.
struct Scorer {
  let model: FraudModel
  let rules: RuleSet.Compiled
  /// The linear predictor on raw features (empty for rules only) and the means reasons are measured from.
  let slope: [Double]
  let intercept: Double
  let means: [Double]
  /// The additive family, flattened for scoring: per feature, a uniform grid of `gridCells` cells over its edges'
  /// span giving the first candidate bin, then the edges and weights from each feature's offsets.
  let table: AdditiveTable?
  /// Whether a learned estimator scores (else the rules alone decide and the score is 0).
  let learned: Bool
  static let gridCells = 4096
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
    learned = model.hasModel
    switch model.estimator {
    case .rulesOnly:
      slope = []
      intercept = 0
      means = []
    case .logistic(let l):
      (slope, intercept) = l.rawScale()
      means = l.means
    case .additive(let a):
      slope = []
      intercept = a.intercept
      means = []
    }
    table = {
      if case .additive(let a) = model.estimator { return AdditiveTable(a, cells: Scorer.gridCells) }
      return nil
    }()
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

  /// Feature `k`'s term of the additive model at `value`.
  @inline(__always)
  func additiveTerm(_ k: Int, _ value: Double) -> Double { table.unsafelyUnwrapped.term(k, value) }

  /// The probability of fraud (0 for rules only), the decision, and the reasons appended to `reasons`.
  @inline(__always)
  func score(
    _ f: UnsafePointer<Double>, _ inputs: RuleInputs, reasons: inout [UInt8], maxReasons: Int = 2
  ) -> (Double, Decision) {
    var p = 0.0
    var decision = Decision.approve
    if learned {
      var eta = intercept
      if table != nil {
        for k in 0..<FraudFeature.count { eta += additiveTerm(k, f[k]) }
      } else {
        for k in 0..<FraudFeature.count { eta += slope[k] * f[k] }
      }
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
          if table != nil {
            for k in 0..<FraudFeature.count { c[k] = additiveTerm(k, f[k]) }
          } else {
            for k in 0..<FraudFeature.count { c[k] = slope[k] * (f[k] - means[k]) }
          }
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

/// The additive family flattened for scoring, in memory that is read without bounds checks or reference counting:
/// per feature, a uniform grid of cells over its edges' span giving, for each cell, the bins of its two ends; then
/// the edges and the weights.
final class AdditiveTable: @unchecked Sendable {
  // Immutable after init; shared read-only between copies of the scorer.
  let features: Int
  let cells: Int
  let low: UnsafeMutablePointer<Double>
  let scale: UnsafeMutablePointer<Double>
  /// Bins are at most 256 (`UInt8` codes in training), so a cell's bin fits a byte: the grid stays small in cache.
  let grid: UnsafeMutablePointer<UInt8>
  let edgeStart: UnsafeMutablePointer<Int>
  let edges: UnsafeMutablePointer<Double>
  let weightStart: UnsafeMutablePointer<Int>
  /// Mutable: online learning updates them in place.
  let weights: UnsafeMutablePointer<Double>
  let intercept: Double

  init(_ a: AdditiveFraudEstimator, cells: Int) {
    features = a.edges.count
    intercept = a.intercept
    self.cells = cells
    low = .allocate(capacity: features)
    scale = .allocate(capacity: features)
    grid = .allocate(capacity: features * (cells + 1))
    edgeStart = .allocate(capacity: features + 1)
    weightStart = .allocate(capacity: features)
    let edgeTotal = a.edges.reduce(0) { $0 + $1.count }
    // Three spare slots at the end: the branchless lookup may read (and ignore) up to three edges past a feature's.
    edges = .allocate(capacity: edgeTotal + 3)
    (edges + edgeTotal).initialize(repeating: .infinity, count: 3)
    weights = .allocate(capacity: a.weights.reduce(0) { $0 + $1.count })
    var e = 0
    var w = 0
    for j in 0..<features {
      let edgesJ = a.edges[j]
      // The grid starts one cell below the first edge, so that every value below it — clamped into cell 0 —
      // finds bin 0 by the same comparisons as any other (no branch on which side of the first edge it is).
      let first = edgesJ.first ?? 0
      let last = edgesJ.last ?? 0
      let span = last > first ? last - first : 1
      let width = span / Double(cells - 1)
      low[j] = first - width
      scale[j] = 1 / width
      for cell in 0..<cells {
        let at = low[j] + width * Double(cell)
        grid[j * (cells + 1) + cell] = UInt8(edgesJ.isEmpty ? 0 : AdditiveFraudEstimator.bin(at, edgesJ))
      }
      grid[j * (cells + 1) + cells] = UInt8(edgesJ.count)
      edgeStart[j] = e
      for v in edgesJ {
        edges[e] = v
        e += 1
      }
      weightStart[j] = w
      for v in a.weights[j] {
        weights[w] = v
        w += 1
      }
    }
    edgeStart[features] = e
  }

  deinit {
    low.deallocate()
    scale.deallocate()
    grid.deallocate()
    edgeStart.deallocate()
    edges.deallocate()
    weightStart.deallocate()
    weights.deallocate()
  }

  /// Feature `k`'s weight at `value`.
  @inline(__always)
  func term(_ k: Int, _ value: Double) -> Double { weights[weightStart[k] + bin(k, value)] }

  /// Feature `k`'s bin at `value`: below the first edge (or not a number) the first bin; else a binary search
  /// between the bins of the value's grid cell's two ends (usually over one or two edges).
  @inline(__always)
  func bin(_ k: Int, _ value: Double) -> Int {
    // Clamped into the grid without branches (min and max of doubles); not-a-number, which no feature should
    // be, reads as the first cell.
    let position = (value - low[k]) * scale[k]
    let cell = position.isNaN ? 0 : Int(Swift.min(Swift.max(position, 0), Double(cells - 1)))
    let g = grid + k * (cells + 1) + cell
    var lo = Int(g[0])
    var hi = Int(g[1])
    let e = edges + edgeStart[k]
    if hi - lo <= 3 {
      // Count the cell's (at most three) edges at or below the value without branches: data-dependent branches
      // here would be mispredicted for every feature of every transaction.
      let n = hi - lo
      let base = lo
      lo += (0 < n ? 1 : 0) & (value >= e[base] ? 1 : 0)
      lo += (1 < n ? 1 : 0) & (value >= e[base + 1] ? 1 : 0)
      lo += (2 < n ? 1 : 0) & (value >= e[base + 2] ? 1 : 0)
      return lo
    }
    while lo < hi {
      let mid = (lo + hi) >> 1
      if value >= e[mid] { lo = mid + 1 } else { hi = mid }
    }
    return lo
  }
}
