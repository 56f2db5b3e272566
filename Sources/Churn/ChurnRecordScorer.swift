import Foundation
import Modeling
import Storage
import TabularIO

/// How a model turns a customer's encoded features into log-odds and per-column contributions: one case per
/// model family, switched on once, when a scorer lays out its tables, and nowhere else in scoring.
enum ChurnEstimator {
  /// Logistic regression on standardized features: `b₀ + Σ slope_k (raw_k − mean_k)` with `slope = b_k / sd_k`.
  case linear(intercept: Double)
  /// The additive model: its design row (parametric columns, then each smooth's basis) times its coefficients.
  case additive(AdditiveChurnModel)

  init(_ model: ChurnModel) {
    if let additive = model.additive {
      self = .additive(additive)
    } else {
      self = .linear(intercept: model.coefficients[0])
    }
  }
}

/// One customer's score (JSON: `id`, `probability`, `decision` — `"churn"` or `"stay"` —, `decile`, `reasons`,
/// `unseen_levels`).
public struct ChurnPrediction: Sendable, Codable, Equatable {
  /// The customer's id, when the caller gave one.
  public var id: String?
  /// The probability of churn.
  public var probability: Double
  /// Whether the probability reaches the decision threshold.
  public var churn: Bool
  /// 1 for the highest-risk tenth of the training customers, 10 for the lowest.
  public var decile: Int
  /// The largest positive contributions to the log-odds, largest first.
  public var reasons: [ChurnReason]
  /// Columns whose value was never seen in training (scored as the reference level).
  public var unseenLevels: [String]

  public init(
    id: String? = nil, probability: Double, churn: Bool, decile: Int, reasons: [ChurnReason], unseenLevels: [String]
  ) {
    self.id = id
    self.probability = probability
    self.churn = churn
    self.decile = decile
    self.reasons = reasons
    self.unseenLevels = unseenLevels
  }

  /// The decision as the JSON contract spells it.
  public var decision: String { churn ? "churn" : "stay" }

  enum CodingKeys: String, CodingKey {
    case id, probability, decision, decile, reasons
    case unseenLevels = "unseen_levels"
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encodeIfPresent(id, forKey: .id)
    try c.encode(probability, forKey: .probability)
    try c.encode(decision, forKey: .decision)
    try c.encode(decile, forKey: .decile)
    try c.encode(reasons, forKey: .reasons)
    try c.encode(unseenLevels, forKey: .unseenLevels)
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    id = try c.decodeIfPresent(String.self, forKey: .id)
    probability = try c.decode(Double.self, forKey: .probability)
    let decision = try c.decode(String.self, forKey: .decision)
    guard decision == "churn" || decision == "stay" else {
      throw DecodingError.dataCorruptedError(
        forKey: .decision, in: c, debugDescription: "a decision is \"churn\" or \"stay\", not \"\(decision)\"")
    }
    churn = decision == "churn"
    decile = try c.decode(Int.self, forKey: .decile)
    reasons = try c.decode([ChurnReason].self, forKey: .reasons)
    unseenLevels = try c.decode([String].self, forKey: .unseenLevels)
  }
}

/// One input column's contribution to a customer's log-odds (its effect minus its mean effect).
public struct ChurnReason: Sendable, Codable, Equatable {
  public var column: String
  /// The customer's value (empty when missing).
  public var value: String
  public var contribution: Double
}

/// What scoring needs of a model version, prepared once and read-only afterwards: the encoder's byte tables, each
/// feature's slope and centering mean, the additive model's terms on their unconstrained bases, the decile edges.
/// Any number of `ChurnRecordScorer`s — one per thread or per request — share it.
final class ChurnScoringTables: @unchecked Sendable {
  // Immutable after init (flat memory of its own, freed in deinit): safe to read from many threads.
  let model: ChurnModel
  let encoder: FeatureEncoder
  let featureCount: Int
  let columnCount: Int
  /// The model's input columns' names, in order.
  let columnNames: [String]
  /// Per feature: its input column, log-odds per raw unit and centering mean.
  let featureColumn: UnsafeMutablePointer<Int>
  let slope: UnsafeMutablePointer<Double>
  let featureMean: UnsafeMutablePointer<Double>
  let isAdditive: Bool
  let intercept: Double
  let decileEdges: UnsafeMutablePointer<Double>
  let decileEdgeCount: Int
  let terms: UnsafeMutablePointer<ScoringTerm>
  let termCount: Int
  let full: UnsafeMutablePointer<Double>
  let reasonCount: Int

  /// - Throws: when the model's parts disagree (`ChurnModel.checkConsistency`), before anything is allocated.
  init(model: ChurnModel) throws(ModelingError) {
    try model.checkConsistency()
    columnNames = model.columns.map(\.name)
    let smoothCoefficients = try (model.additive?.smooths ?? []).map { (t) throws(ModelingError) in
      try t.unconstrainedCoefficients()
    }
    self.model = model
    encoder = FeatureEncoder(columns: model.columns, features: model.features)
    featureCount = model.features.count
    columnCount = model.columns.count
    reasonCount = columnCount + model.interactionTerms.count
    decileEdgeCount = model.scoreDeciles.count
    decileEdges = .allocate(capacity: max(decileEdgeCount, 1))
    decileEdges.initialize(from: model.scoreDeciles, count: decileEdgeCount)
    featureColumn = .allocate(capacity: max(featureCount, 1))
    slope = .allocate(capacity: max(featureCount, 1))
    featureMean = .allocate(capacity: max(featureCount, 1))
    for (k, feature) in model.features.enumerated() {
      featureColumn[k] = feature.column
      featureMean[k] = feature.mean
      slope[k] = 0
    }
    switch ChurnEstimator(model) {
    case .linear(let b0):
      isAdditive = false
      intercept = b0
      for (k, feature) in model.features.enumerated() { slope[k] = model.coefficients[k + 1] / feature.sd }
      terms = .allocate(capacity: 1)
      termCount = 0
      full = .allocate(capacity: 1)
    case .additive(let a):
      isAdditive = true
      intercept = a.parametricCoefficients[0]
      // The parametric features' slopes per raw unit, as the linear model's.
      for (j, k) in a.parametric.enumerated() { slope[k] = a.parametricCoefficients[j + 1] / model.features[k].sd }
      let coefficients = smoothCoefficients
      full = .allocate(capacity: max(coefficients.reduce(0) { $0 + $1.count }, 1))
      termCount = a.smooths.count
      terms = .allocate(capacity: max(termCount, 1))
      var offset = 0
      for (t, term) in a.smooths.enumerated() {
        (full + offset).initialize(from: coefficients[t], count: coefficients[t].count)
        terms[t] = ScoringTerm(term, coefficients: offset)
        offset += coefficients[t].count
      }
    }
  }

  deinit {
    decileEdges.deallocate()
    featureColumn.deallocate()
    slope.deallocate()
    featureMean.deallocate()
    full.deallocate()
    for t in 0..<termCount { terms[t].release() }
    terms.deallocate()
  }
}

/// Scores one record at a time with buffers of its own (one scorer per thread or request) over tables prepared
/// once (`ChurnScoringTables`): the CSV loop and per-customer calls share it.
final class ChurnRecordScorer {
  let tables: ChurnScoringTables
  let model: ChurnModel
  let encoder: FeatureEncoder
  let featureCount: Int
  let columnCount: Int
  /// The record's raw feature values (before standardization).
  let raw: UnsafeMutablePointer<Double>
  /// Per input column: its contribution to the log-odds (filled by `contributions()`).
  let perColumn: UnsafeMutablePointer<Double>
  /// Per feature: its input column, log-odds per raw unit and centering mean (the tables').
  let featureColumn: UnsafeMutablePointer<Int>
  let slope: UnsafeMutablePointer<Double>
  let featureMean: UnsafeMutablePointer<Double>
  /// Per input column: values never seen in training so far.
  @exclusivity(unchecked) var unseen: [Int]
  /// Whether the model is additive (its `ChurnEstimator` case), and its intercept (on standardized features for the
  /// linear model): plain values, so that scoring a record copies no array out of the model.
  let isAdditive: Bool
  let intercept: Double
  /// The model's nine score-decile edges.
  let decileEdges: UnsafeMutablePointer<Double>
  let decileEdgeCount: Int
  /// The reasons `chooseReasons(limit:)` picked: their slots and contributions, largest first.
  let chosenSlot: UnsafeMutablePointer<Int>
  let chosenValue: UnsafeMutablePointer<Double>
  /// The additive model's smooth terms with their coefficients on the unconstrained bases (`full`, from
  /// `fullStart[t]`), and the features giving each term's values.
  let terms: UnsafeMutablePointer<ScoringTerm>
  let termCount: Int
  /// Each term's effect for the encoded record, once `logOdds()` has computed them (`effectsKnown`), so that
  /// `contributions()` does not evaluate the terms again.
  let effects: UnsafeMutablePointer<Double>
  @exclusivity(unchecked) var effectsKnown = false
  let full: UnsafeMutablePointer<Double>
  /// Reason slots: the input columns, then the additive model's interaction terms.
  let reasonCount: Int

  /// The outcome of encoding a record.
  enum Encoded {
    case ok
    /// Model column `column` holds a value not of its kind; `expected` says what would be.
    case bad(column: Int, expected: String)
  }

  /// A scorer with buffers of its own over `tables` (the tables' memory is read in place).
  init(tables: ChurnScoringTables) {
    self.tables = tables
    model = tables.model
    encoder = tables.encoder
    featureCount = tables.featureCount
    columnCount = tables.columnCount
    featureColumn = tables.featureColumn
    slope = tables.slope
    featureMean = tables.featureMean
    isAdditive = tables.isAdditive
    intercept = tables.intercept
    decileEdges = tables.decileEdges
    decileEdgeCount = tables.decileEdgeCount
    terms = tables.terms
    termCount = tables.termCount
    full = tables.full
    reasonCount = tables.reasonCount
    raw = .allocate(capacity: max(featureCount, 1))
    perColumn = .allocate(capacity: max(reasonCount, 1))
    chosenSlot = .allocate(capacity: max(reasonCount, 1))
    chosenValue = .allocate(capacity: max(reasonCount, 1))
    effects = .allocate(capacity: max(termCount, 1))
    unseen = [Int](repeating: 0, count: columnCount)
  }

  /// A scorer over tables prepared for `model` alone.
  /// - Throws: when the model's parts disagree (`ChurnModel.checkConsistency`).
  convenience init(model: ChurnModel) throws(ModelingError) {
    self.init(tables: try ChurnScoringTables(model: model))
  }

  deinit {
    raw.deallocate()
    perColumn.deallocate()
    chosenSlot.deallocate()
    chosenValue.deallocate()
    effects.deallocate()
  }

  /// Encodes a record whose model column `k` holds `field(k)` (nil or blank: missing), stopping at the first bad
  /// value.
  @inline(__always)
  func encode(_ field: (Int) -> UnsafeBufferPointer<UInt8>?) -> Encoded {
    effectsKnown = false
    for k in 0..<columnCount {
      switch encoder.encode(column: k, field: field(k), into: raw) {
      case .ok: continue
      case .unseenLevel: unseen[k] += 1
      case .bad(let expected): return .bad(column: k, expected: expected)
      }
    }
    return .ok
  }

  /// The encoded record's log-odds of churn.
  @inline(__always)
  func logOdds() -> Double {
    var eta = intercept
    if !isAdditive {
      for k in 0..<featureCount { eta += slope[k] * (raw[k] - featureMean[k]) }
      return eta
    }
    for k in 0..<featureCount where slope[k] != 0 { eta += slope[k] * (raw[k] - featureMean[k]) }
    for t in 0..<termCount {
      effects[t] = termEffect(t)
      eta += effects[t]
    }
    effectsKnown = true
    return eta
  }

  /// The decile of probability `p` among the training customers' scores (1 highest risk), as `ChurnModel.decile`.
  @inline(__always)
  func decile(_ p: Double) -> Int {
    var above = 0
    for k in 0..<decileEdgeCount where p > decileEdges[k] { above += 1 }
    return 10 - above
  }

  /// Smooth term `t`'s effect for the encoded record.
  @inline(__always)
  func termEffect(_ t: Int) -> Double { terms[t].effect(raw, full) }

  /// Fills `perColumn` with each reason slot's contribution to the encoded record's log-odds: each input column's
  /// (its features' slopes times their distance from the training mean, plus its smooth's effect minus the smooth's
  /// mean effect), then each interaction term's (its effect minus its mean effect). With `intercept`, they sum
  /// to the log-odds.
  @inline(__always)
  func contributions() {
    for k in 0..<reasonCount { perColumn[k] = 0 }
    for k in 0..<featureCount where slope[k] != 0 {
      perColumn[featureColumn[k]] += slope[k] * (raw[k] - featureMean[k])
    }
    if isAdditive {
      var interaction = columnCount
      for t in 0..<termCount {
        let term = terms[t]
        let e = (effectsKnown ? effects[t] : term.effect(raw, full)) - term.meanEffect
        if term.kind == 0 {
          perColumn[term.column] += e
        } else {
          perColumn[interaction] = e
          interaction += 1
        }
      }
    }
  }

  /// The log-odds of the average customer, from which `contributions()` are measured: the log-odds minus the sum
  /// of every contribution.
  var baseline: Double {
    var b = intercept
    for t in 0..<termCount { b += terms[t].meanEffect }
    return b
  }

  /// Calls `body` with the `limit` largest positive contributions (reason slot, value), largest first.
  func reasons(limit: Int, _ body: (Int, Double) throws -> Void) rethrows {
    for k in 0..<chooseReasons(limit: limit) { try body(chosenSlot[k], chosenValue[k]) }
  }

  /// Puts the `limit` largest positive contributions in `chosenSlot` and `chosenValue`, largest first, and returns
  /// how many there are.
  @inline(__always)
  func chooseReasons(limit: Int) -> Int {
    contributions()
    var chosen = 0
    let slots = chosenSlot
    let values = chosenValue
    LargestContributions.select(perColumn, count: reasonCount, limit: limit, above: 0.005) { slot, value in
      slots[chosen] = slot
      values[chosen] = value
      chosen += 1
    }
    return chosen
  }
}

extension ChurnModel {
  /// Scores one customer given as column name → value (see `PreparedChurnModel.score(fields:id:reasons:threshold:)`;
  /// a caller scoring many customers prepares the model once instead).
  public func score(fields: [String: String], reasons: Int = 3, threshold: Double? = nil) throws -> ChurnPrediction {
    try PreparedChurnModel(self).score(fields: fields, reasons: reasons, threshold: threshold)
  }
}

/// A churn model version prepared for scoring once — its encoder's tables, slopes, terms and decile edges — and
/// shared by any number of threads or requests: each call scores with a small scratch of its own. The CSV loop
/// (`ChurnScorer`) and per-customer calls (`score(fields:)`, the HTTP routes) all score through it.
public final class PreparedChurnModel: Sendable {
  public let model: ChurnModel
  /// The registered version, when the model came from a store.
  public let version: ModelVersion?
  let tables: ChurnScoringTables

  /// - Throws: `CommerceError(.damaged)` when the model's parts disagree (`ChurnModel.checkConsistency`).
  public init(_ model: ChurnModel, version: ModelVersion? = nil) throws {
    self.model = model
    self.version = version
    do {
      tables = try ChurnScoringTables(model: model)
    } catch {
      let which = version.map { "model '\($0.name)' version \($0.version)" } ?? "the churn model"
      throw CommerceError(.damaged, "\(which) is damaged (\(error))")
    }
  }

  /// A scorer with buffers of its own (one per thread).
  func scorer() -> ChurnRecordScorer { ChurnRecordScorer(tables: tables) }

  /// Scores one customer given as column name → value (a blank value is missing, as in a CSV).
  ///
  /// - Parameters:
  ///   - id: the customer's id, carried into the prediction.
  ///   - reasons: how many reasons to give (the largest positive contributions to the log-odds).
  ///   - threshold: overrides the model's decision threshold.
  /// - Throws: `CommerceError(.data)` when a column the model needs is absent or holds a value not of its kind.
  public func score(fields: [String: String], id: String? = nil, reasons: Int = 3, threshold: Double? = nil) throws
    -> ChurnPrediction
  {
    switch scoreRecord(fields: fields, id: id, reasons: reasons, threshold: threshold) {
    case .success(let prediction): return prediction
    case .failure(let error): throw CommerceError(.data, "\(error.message)")
    }
  }

  /// `score(fields:…)` with the failure as a value naming the column at fault: what a caller scoring many
  /// customers reports per customer while it scores the others.
  public func scoreRecord(fields: [String: String], id: String? = nil, reasons: Int = 3, threshold: Double? = nil)
    -> Result<ChurnPrediction, ChurnRecordError>
  {
    let names = columnNames
    var values: [String] = []
    values.reserveCapacity(names.count)
    var absent: [String] = []
    for name in names {
      if let v = fields[name] { values.append(v) } else { absent.append(name) }
    }
    guard absent.isEmpty else {
      return .failure(
        ChurnRecordError(
          column: absent[0],
          message:
            "the customer has no value for \(absent.map { "'\($0)'" }.joined(separator: ", ")); the model needs: \(names.map { "'\($0)'" }.joined(separator: ", "))"
        ))
    }
    return scoreRecord(values: values, id: id, reasons: reasons, threshold: threshold)
  }

  /// The model's columns by name, in its order: what `scoreRecord(values:…)` takes a value of each.
  public var columnNames: [String] { tables.columnNames }

  /// Scores one customer given as one value per model column, in `columnNames` order (a blank value is missing):
  /// what a caller holding the values by column (the V2 route's tensors) scores without a name → value map.
  /// - Precondition: `values.count == columnNames.count` (otherwise the failure says so).
  public func scoreRecord(values: [String], id: String? = nil, reasons: Int = 3, threshold: Double? = nil)
    -> Result<ChurnPrediction, ChurnRecordError>
  {
    let scorer: ChurnRecordScorer
    switch encoded(values: values) {
    case .success(let s): scorer = s
    case .failure(let error): return .failure(error)
    }
    let names = tables.columnNames
    let p = LogisticRegression.sigmoid(scorer.logOdds())
    var found: [ChurnReason] = []
    if reasons > 0 {
      scorer.reasons(limit: reasons) { k, value in
        let (column, text) = slot(k, values)
        found.append(ChurnReason(column: column, value: text, contribution: value))
      }
    }
    var unseen: [String] = []
    for k in 0..<names.count where scorer.unseen[k] > 0 { unseen.append(names[k]) }
    return .success(
      ChurnPrediction(
        id: id, probability: p, churn: p >= (threshold ?? model.threshold), decile: model.decile(p), reasons: found,
        unseenLevels: unseen))
  }
}

extension PreparedChurnModel {
  /// A scorer of its own holding `values` (one per model column, `columnNames` order) encoded, or the failure
  /// naming the column at fault.
  func encoded(values: [String]) -> Result<ChurnRecordScorer, ChurnRecordError> {
    let names = tables.columnNames
    guard values.count == names.count else {
      return .failure(
        ChurnRecordError(column: nil, message: "\(values.count) values for the model's \(names.count) columns"))
    }
    let scorer = self.scorer()
    let encoded = values.withByteBuffers { buffers in scorer.encode { buffers[$0] } }
    if case .bad(let k, let expected) = encoded {
      return .failure(
        ChurnRecordError(column: names[k], message: "'\(names[k])': expected \(expected), found '\(values[k])'"))
    }
    return .success(scorer)
  }

  /// Reason slot `k`'s name and the customer's value there: an input column, or an interaction term (its columns'
  /// values joined by ×).
  func slot(_ k: Int, _ values: [String]) -> (name: String, value: String) {
    let names = tables.columnNames
    if k < names.count { return (names[k], Self.trimmed(values[k])) }
    let term = model.interactionTerms[k - names.count]
    return (term.name, term.columns.map { Self.trimmed(values[$0]) }.joined(separator: "×"))
  }
}

extension Array where Element == String {
  /// Calls `body` with a buffer over each string's UTF-8 bytes (all copied once into one block).
  fileprivate func withByteBuffers<R>(_ body: ([UnsafeBufferPointer<UInt8>]) throws -> R) rethrows -> R {
    var total = 0
    for s in self { total += s.utf8.count }
    let block = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: Swift.max(total, 1))
    defer { block.deallocate() }
    var buffers: [UnsafeBufferPointer<UInt8>] = []
    buffers.reserveCapacity(count)
    var offset = 0
    for s in self {
      let n = s.utf8.count
      _ = UnsafeMutableBufferPointer(rebasing: block[offset..<(offset + n)]).initialize(from: s.utf8)
      buffers.append(UnsafeBufferPointer(rebasing: block[offset..<(offset + n)]))
      offset += n
    }
    return try body(buffers)
  }
}

extension PreparedChurnModel {
  /// `text` without the spaces around it, as `trimmingCharacters(in: .whitespaces)` would cut them, without
  /// Foundation for the usual value (ASCII at both ends).
  static func trimmed(_ text: String) -> String {
    let utf8 = text.utf8
    guard let first = utf8.first, let last = utf8.last else { return text }
    guard first < 0x80, last < 0x80 else { return text.trimmingCharacters(in: .whitespaces) }
    func blank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }
    guard blank(first) || blank(last) else { return text }
    guard let start = utf8.firstIndex(where: { !blank($0) }), let end = utf8.lastIndex(where: { !blank($0) }) else {
      return ""
    }
    let inner = String(text[start...end])
    // A non-ASCII space just inside the ASCII ones: Foundation decides.
    if let a = inner.utf8.first, let b = inner.utf8.last, a >= 0x80 || b >= 0x80 {
      return inner.trimmingCharacters(in: .whitespaces)
    }
    return inner
  }
}

/// Why one customer could not be scored: the column at fault and what was wrong with it.
public struct ChurnRecordError: Error, Sendable, Equatable {
  public var column: String?
  public var message: String

  public init(column: String?, message: String) {
    self.column = column
    self.message = message
  }
}

/// A smooth term as scoring reads it: plain values only (no arrays, so no reference counting per record), its
/// coefficients on the unconstrained bases from `coefficients` in the scorer's buffer.
struct ScoringTerm {
  /// 0 main, 1 by-level, 2 tensor product.
  var kind: UInt8
  /// The first input column (a main term's reasons go to it).
  var column: Int
  var feature0: Int
  var feature1: Int
  var lower0: Double
  var upper0: Double
  var count0: Int
  var lower1: Double
  var upper1: Double
  var count1: Int
  var coefficients: Int
  var meanEffect: Double
  /// Each basis's quantiles when its knots are on the quantile scale (`PSpline.warp`), in memory of its own (a
  /// copy of the term is then a plain copy, without reference counting), freed by `release()`.
  var warp0: UnsafeMutablePointer<Double>?
  var warp0Count = 0
  var warp1: UnsafeMutablePointer<Double>?
  var warp1Count = 0

  init(_ t: SmoothTerm, coefficients: Int) {
    kind = t.kind == .main ? 0 : t.kind == .byLevel ? 1 : 2
    column = t.columns[0]
    feature0 = t.features[0]
    feature1 = t.features.count > 1 ? t.features[1] : t.features[0]
    (lower0, upper0, count0) = (t.bases[0].lower, t.bases[0].upper, t.bases[0].count)
    let second = t.bases.count > 1 ? t.bases[1] : t.bases[0]
    (lower1, upper1, count1) = (second.lower, second.upper, second.count)
    func copy(_ q: [Double]?) -> (UnsafeMutablePointer<Double>?, Int) {
      guard let q, !q.isEmpty else { return (nil, 0) }
      let p = UnsafeMutablePointer<Double>.allocate(capacity: q.count)
      p.initialize(from: q, count: q.count)
      return (p, q.count)
    }
    (warp0, warp0Count) = copy(t.bases[0].warp)
    (warp1, warp1Count) = t.bases.count > 1 ? copy(second.warp) : (nil, 0)
    self.coefficients = coefficients
    meanEffect = t.meanEffect
  }

  /// Frees the quantiles' memory.
  func release() {
    warp0?.deallocate()
    warp1?.deallocate()
  }

  /// The term's effect for a record's raw feature values, with the scorer's unconstrained coefficients `full`.
  @inline(__always)
  func effect(_ raw: UnsafePointer<Double>, _ full: UnsafePointer<Double>) -> Double {
    let c = full + coefficients
    var x = raw[feature0]
    if let warp0 { x = PSpline.warped(x, points: warp0, count: warp0Count, lower: lower0, upper: upper0) }
    let (s, v) = PSpline.segment(x, lower: lower0, upper: upper0, count: count0)
    switch kind {
    case 0:
      return v.0 * c[s] + v.1 * c[s + 1] + v.2 * c[s + 2] + v.3 * c[s + 3]
    case 1:
      return raw[feature1] == 0 ? 0 : v.0 * c[s] + v.1 * c[s + 1] + v.2 * c[s + 2] + v.3 * c[s + 3]
    default:
      var z = raw[feature1]
      if let warp1 { z = PSpline.warped(z, points: warp1, count: warp1Count, lower: lower1, upper: upper1) }
      let (t, u) = PSpline.segment(z, lower: lower1, upper: upper1, count: count1)
      @inline(__always) func row(_ a: Int) -> Double {
        let r = c + (s + a) * count1 + t
        return u.0 * r[0] + u.1 * r[1] + u.2 * r[2] + u.3 * r[3]
      }
      return v.0 * row(0) + v.1 * row(1) + v.2 * row(2) + v.3 * row(3)
    }
  }
}

extension ChurnReason {
  /// Reasons as `churn score` writes them: `column=value +0.54; …` (a blank value as `(missing)`, two decimals,
  /// the sign always shown).
  public static func text(_ reasons: [ChurnReason]) -> String {
    reasons.map { r in
      let value = r.value.isEmpty ? "(missing)" : r.value
      let sign = r.contribution < 0 ? "-" : "+"
      let size = abs(r.contribution)
      guard size < 1e15 else { return "\(r.column)=\(value) \(sign)\(size)" }
      let hundredths = Int((size * 100).rounded())
      let cents = hundredths % 100
      return "\(r.column)=\(value) \(sign)\(hundredths / 100).\(cents < 10 ? "0" : "")\(cents)"
    }.joined(separator: "; ")
  }
}
