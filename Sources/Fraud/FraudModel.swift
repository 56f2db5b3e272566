import CPlatform
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

  /// Whether the estimator is the additive family (whose weights online learning updates).
  public var isAdditive: Bool {
    if case .additive = estimator { return true }
    return false
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
  /// The rules, flattened.
  let ruleTable: RuleTable

  init(model: FraudModel) {
    self.model = model
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
    ruleTable = RuleTable(model.rules.compiled())
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
        // (Unwrapped without binding: a binding would retain the table for every transaction.)
        eta += withUnsafeTemporaryAllocation(of: Int.self, capacity: FraudFeature.count) { scratch in
          table.unsafelyUnwrapped.sum(f, scratch: scratch.baseAddress!)
        }
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
    withUnsafeBytes(of: inputs) { raw in
      let rules = ruleTable
      for r in 0..<rules.count where rules.matches(r, raw.baseAddress!) {
        if rules.decisions[r] > decision { decision = rules.decisions[r] }
        if !reasons.isEmpty { reasons.append(UInt8(ascii: ";")) }
        reasons.append(contentsOf: rules.codes[r])
      }
    }
    return (p, decision)
  }
}

/// The additive family flattened for scoring, in memory that is read without bounds checks or reference counting:
/// per feature, a uniform grid of cells over its edges' span, each holding the first bin a value in it can have;
/// then the edges (each feature's followed by spare infinite ones) and the weights.
///
/// A value's bin is its cell's first bin plus the count of the next edges at or below it. The grid is fine enough
/// that a cell holds at most three edges for most features; for a feature with more in some cell, a few halving
/// steps (as many as its fullest cell needs, the same for every value) narrow the count to three. Every lookup of a
/// feature takes the same path: no branch depends on the value.
final class AdditiveTable: @unchecked Sendable {
  // Immutable after init; shared read-only between copies of the scorer.
  let features: Int
  /// What a lookup of one feature reads, side by side.
  struct Feature {
    /// The first edge and the cells per unit of value: a value's cell is `(value − first) × scale + 1`, clamped
    /// to `0...lastCell`: cell 0 holds exactly the values below the first edge (bin 0; the sign of
    /// `value − first` is exact), the top cell those a cell or more above the last.
    var first: Double
    var scale: Double
    var lastCell: Double
    /// Where its grid, its edges and its weights start.
    var gridStart: Int
    var edgeStart: Int
    var weightStart: Int
    /// The counting window, a power of two above the most edges in any of its cells (at least 4).
    var window: Int
  }
  /// Per feature (its grid: the fewest cells, by powers of two from 16 up to `init`'s `cells`, that leave at most
  /// three edges in any cell; a feature of few values gets a grid of a cache line or two, which stays in cache).
  let feature: UnsafeMutablePointer<Feature>
  /// Per feature and cell (from `gridStart`): the bin of the cell's lowest value.
  let grid: UnsafeMutablePointer<UInt8>
  let edges: UnsafeMutablePointer<Double>
  /// Mutable: online learning updates them in place.
  let weights: UnsafeMutablePointer<Double>
  let intercept: Double

  init(_ a: AdditiveFraudEstimator, cells: Int) {
    precondition(cells >= 4)
    features = a.edges.count
    intercept = a.intercept
    feature = .allocate(capacity: max(features, 1))
    var gridBytes: [UInt8] = []
    weights = .allocate(capacity: a.weights.reduce(0) { $0 + $1.count })
    var flat: [Double] = []
    var w = 0
    for j in 0..<features {
      let edgesJ = a.edges[j]
      let lo = edgesJ.first ?? 0
      let hi = edgesJ.last ?? 0
      func bin(_ x: Double) -> Int { edgesJ.isEmpty ? 0 : AdditiveFraudEstimator.bin(x, edgesJ) }
      // Cells 1 ..< n − 1 span [first, first + (n − 2) × width), the last edge inside the next-to-last. A cell's
      // bins are those of its bounds widened by a millionth of a cell (far more than the rounding of the cell
      // computation), so that a value computed into it is counted right whatever the rounding.
      func layout(_ n: Int) -> (width: Double, below: [UInt8], most: Int) {
        let width = (hi > lo ? hi - lo : 1) / Double(n - 3)
        let slack = width * 1e-6
        var below = [UInt8](repeating: 0, count: n)
        var most = 0
        for cell in 1..<n {
          let b = bin(lo + width * Double(cell - 1) - slack)
          let a = cell == n - 1 ? edgesJ.count : bin(lo + width * Double(cell) + slack)
          below[cell] = UInt8(b)
          most = max(most, a - b)
        }
        return (width, below, most)
      }
      var n = min(16, cells)
      var grid = layout(n)
      while grid.most > 3 && n < cells {
        n = min(n * 2, cells)
        grid = layout(n)
      }
      let (width, below, most) = grid
      var span = 4
      while span <= most { span *= 2 }
      (feature + j).initialize(
        to: Feature(
          first: lo, scale: 1 / width, lastCell: Double(n - 1), gridStart: gridBytes.count, edgeStart: flat.count,
          weightStart: w, window: span))
      gridBytes.append(contentsOf: below)
      flat.append(contentsOf: edgesJ)
      // Edges past a feature's own compare above any value: the count may read up to a window past its first.
      flat.append(contentsOf: repeatElement(.infinity, count: span))
      for v in a.weights[j] {
        weights[w] = v
        w += 1
      }
    }
    edges = .allocate(capacity: flat.count)
    edges.initialize(from: flat, count: flat.count)
    self.grid = .allocate(capacity: gridBytes.count)
    self.grid.initialize(from: gridBytes, count: gridBytes.count)
  }

  deinit {
    feature.deallocate()
    grid.deallocate()
    edges.deallocate()
    weights.deallocate()
  }

  /// Where feature `k`'s weights start in `weights`.
  @inline(__always)
  func weightStart(_ k: Int) -> Int { feature[k].weightStart }

  /// Feature `k`'s weight at `value`.
  @inline(__always)
  func term(_ k: Int, _ value: Double) -> Double { weights[feature[k].weightStart + bin(k, value)] }

  /// The first bin of `value`'s grid cell for feature `k`; not-a-number, which no feature should be, reads as
  /// cell 0.
  @inline(__always)
  func cellBin(_ k: Int, _ value: Double) -> Int {
    let p = feature + k
    let cell = cml_grid_cell((value - p.pointee.first) * p.pointee.scale + 1, p.pointee.lastCell)
    return Int(grid[p.pointee.gridStart &+ cell])
  }

  /// Feature `k`'s bin at `value`, from the first bin of its cell: the count of the edges from there at or below
  /// `value`, by halving the feature's window down to four, then three comparisons.
  @inline(__always)
  func bin(_ k: Int, _ value: Double, from lo: Int) -> Int {
    // Infinity would count the spare infinite edges: the largest finite value has the same bin.
    let value = Swift.min(value, .greatestFiniteMagnitude)
    let p = feature + k
    let e = edges + p.pointee.edgeStart
    var at = lo
    var w = p.pointee.window
    while w > 4 {
      w >>= 1
      at &+= value >= e[at &+ w &- 1] ? w : 0
    }
    // The edges are sorted, so the three comparisons are independent: the count of them that hold is the count of
    // edges from `at` at or below the value (and their loads need not wait on each other).
    let c0 = value >= e[at] ? 1 : 0
    let c1 = value >= e[at &+ 1] ? 1 : 0
    let c2 = value >= e[at &+ 2] ? 1 : 0
    return at &+ c0 &+ c1 &+ c2
  }

  /// Feature `k`'s bin at `value` (`AdditiveFraudEstimator.bin` among its edges).
  @inline(__always)
  func bin(_ k: Int, _ value: Double) -> Int { bin(k, value, from: cellBin(k, value)) }

  /// The sum of every feature's weight at `f` (`features` values), with `scratch` room for `features` integers:
  /// the same bins as `bin(_:_:)`, found in passes over the features — every grid cell, then every count, then
  /// every weight — so that the loads of a pass do not wait on each other (the table is larger than the
  /// first-level cache).
  @inline(__always)
  func sum(_ f: UnsafePointer<Double>, scratch: UnsafeMutablePointer<Int>) -> Double {
    for k in 0..<features { scratch[k] = cellBin(k, f[k]) }
    for k in 0..<features { scratch[k] = feature[k].weightStart &+ bin(k, f[k], from: scratch[k]) }
    var a = 0.0
    var b = 0.0
    var k = 0
    while k &+ 1 < features {
      a += weights[scratch[k]]
      b += weights[scratch[k &+ 1]]
      k &+= 2
    }
    if k < features { a += weights[scratch[k]] }
    return a + b
  }
}
