import Foundation
import Modeling
import TabularIO

/// How a model turns a customer's encoded features into log-odds and per-column contributions: one case per
/// model family, switched on here and nowhere else in scoring.
enum ChurnEstimator {
  /// Logistic regression on standardized features: `b₀ + Σ slope_k (raw_k − mean_k)` with `slope = b_k / sd_k`.
  case linear(intercept: Double)

  init(_ model: ChurnModel) {
    self = .linear(intercept: model.coefficients[0])
  }
}

/// One customer's score.
public struct ChurnPrediction: Sendable, Codable, Equatable {
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
}

/// One input column's contribution to a customer's log-odds (its effect minus its mean effect).
public struct ChurnReason: Sendable, Codable, Equatable {
  public var column: String
  /// The customer's value (empty when missing).
  public var value: String
  public var contribution: Double
}

/// Scores one record at a time with buffers prepared once: the CSV loop and per-customer calls share it.
final class ChurnRecordScorer {
  let model: ChurnModel
  let encoder: FeatureEncoder
  let estimator: ChurnEstimator
  let featureCount: Int
  let columnCount: Int
  /// The record's raw feature values (before standardization).
  let raw: UnsafeMutablePointer<Double>
  /// Per input column: its contribution to the log-odds (filled by `contributions()`).
  let perColumn: UnsafeMutablePointer<Double>
  /// Per feature: its input column, log-odds per raw unit and centering mean.
  let featureColumn: UnsafeMutablePointer<Int>
  let slope: UnsafeMutablePointer<Double>
  let featureMean: UnsafeMutablePointer<Double>
  /// Per input column: values never seen in training so far.
  var unseen: [Int]

  /// The outcome of encoding a record.
  enum Encoded {
    case ok
    /// Model column `column` holds a value not of its kind; `expected` says what would be.
    case bad(column: Int, expected: String)
  }

  init(model: ChurnModel) {
    self.model = model
    encoder = FeatureEncoder(columns: model.columns, features: model.features)
    estimator = ChurnEstimator(model)
    featureCount = model.features.count
    columnCount = model.columns.count
    raw = .allocate(capacity: max(featureCount, 1))
    perColumn = .allocate(capacity: max(columnCount, 1))
    featureColumn = .allocate(capacity: max(featureCount, 1))
    slope = .allocate(capacity: max(featureCount, 1))
    featureMean = .allocate(capacity: max(featureCount, 1))
    unseen = [Int](repeating: 0, count: columnCount)
    switch estimator {
    case .linear:
      for (k, feature) in model.features.enumerated() {
        featureColumn[k] = feature.column
        slope[k] = model.coefficients[k + 1] / feature.sd
        featureMean[k] = feature.mean
      }
    }
  }

  deinit {
    raw.deallocate()
    perColumn.deallocate()
    featureColumn.deallocate()
    slope.deallocate()
    featureMean.deallocate()
  }

  /// Encodes a record whose model column `k` holds `field(k)` (nil or blank: missing), stopping at the first bad
  /// value.
  @inline(__always)
  func encode(_ field: (Int) -> UnsafeBufferPointer<UInt8>?) -> Encoded {
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
    switch estimator {
    case .linear(let intercept):
      var eta = intercept
      for k in 0..<featureCount { eta += slope[k] * (raw[k] - featureMean[k]) }
      return eta
    }
  }

  /// Fills `perColumn` with each input column's contribution to the encoded record's log-odds.
  @inline(__always)
  func contributions() {
    for k in 0..<columnCount { perColumn[k] = 0 }
    switch estimator {
    case .linear:
      for k in 0..<featureCount { perColumn[featureColumn[k]] += slope[k] * (raw[k] - featureMean[k]) }
    }
  }

  /// Calls `body` with the `limit` largest positive contributions (column, value), largest first.
  @inline(__always)
  func reasons(limit: Int, _ body: (Int, Double) throws -> Void) rethrows {
    contributions()
    try LargestContributions.select(perColumn, count: columnCount, limit: limit, above: 0.005, body)
  }
}

extension ChurnModel {
  /// Scores one customer given as column name → value (a blank value is missing, as in a CSV).
  ///
  /// - Parameters:
  ///   - reasons: how many reasons to give (the largest positive contributions to the log-odds).
  ///   - threshold: overrides the model's decision threshold.
  /// - Throws: `CommerceError(.data)` when a column the model needs is absent or holds a value not of its kind.
  public func score(fields: [String: String], reasons: Int = 3, threshold: Double? = nil) throws -> ChurnPrediction {
    let absent = columns.map(\.name).filter { fields[$0] == nil }
    guard absent.isEmpty else {
      throw CommerceError(
        .data,
        "the customer has no value for \(absent.map { "'\($0)'" }.joined(separator: ", ")); the model needs: \(columns.map { "'\($0.name)'" }.joined(separator: ", "))"
      )
    }
    let values = columns.map { Array(fields[$0.name]!.utf8) }
    let scorer = ChurnRecordScorer(model: self)
    let encoded = values.withUnsafeBufferPointers { buffers in scorer.encode { buffers[$0] } }
    if case .bad(let k, let expected) = encoded {
      throw CommerceError(
        .data, "'\(columns[k].name)': expected \(expected), found '\(fields[columns[k].name]!)'")
    }
    let p = LogisticRegression.sigmoid(scorer.logOdds())
    var found: [ChurnReason] = []
    if reasons > 0 {
      scorer.reasons(limit: reasons) { k, value in
        let text = fields[columns[k].name]!.trimmingCharacters(in: .whitespaces)
        found.append(ChurnReason(column: columns[k].name, value: text, contribution: value))
      }
    }
    return ChurnPrediction(
      probability: p, churn: p >= (threshold ?? self.threshold), decile: decile(p), reasons: found,
      unseenLevels: columns.indices.filter { scorer.unseen[$0] > 0 }.map { columns[$0].name })
  }
}

extension Array where Element == [UInt8] {
  /// Calls `body` with a buffer over each element's bytes.
  fileprivate func withUnsafeBufferPointers<R>(_ body: ([UnsafeBufferPointer<UInt8>]) throws -> R) rethrows -> R {
    var pointers: [UnsafeMutablePointer<UInt8>] = []
    defer { for p in pointers { p.deallocate() } }
    var buffers: [UnsafeBufferPointer<UInt8>] = []
    for bytes in self {
      let p = UnsafeMutablePointer<UInt8>.allocate(capacity: Swift.max(bytes.count, 1))
      p.initialize(from: bytes, count: bytes.count)
      pointers.append(p)
      buffers.append(UnsafeBufferPointer(start: p, count: bytes.count))
    }
    return try body(buffers)
  }
}
