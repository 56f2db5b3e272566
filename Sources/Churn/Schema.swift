import Foundation
import Modeling
import TabularIO

/// How one input column enters the model.
public enum ColumnKind: String, Codable, Sendable {
  /// A number: standardized, missing values imputed with the median (plus a missing indicator).
  case numeric
  /// Two values (Yes/No, true/false, 0/1, Y/N): 1 for the true value.
  case boolean
  /// Text levels: one-hot against the most frequent level; rare levels pooled as `other`.
  case categorical
}

/// One input column of the model: its kind and everything needed to encode it the same way at scoring time.
public struct ColumnSpec: Codable, Sendable, Equatable {
  public var name: String
  public var kind: ColumnKind
  /// Numeric: the median (imputation value).
  public var median: Double = 0
  /// Boolean: the text of the true and false values.
  public var trueValue = ""
  public var falseValue = ""
  /// Categorical: the levels with their own indicator (every level but the reference and the pooled ones).
  public var levels: [String] = []
  /// Categorical: the most frequent level (all indicators 0); also the imputation value for booleans' mode.
  public var reference = ""
  /// Categorical: rare levels merged into `other`.
  public var pooled: [String] = []
  /// Whether training data had missing values here (and so a missing-indicator feature).
  public var hasMissing = false
  /// Boolean: the imputation value (the mode) is true.
  public var modeIsTrue = false
  /// Drift reference: numeric decile edges (9 values) and the share of training rows per bin
  /// (10 bins, then missing); categorical: share per level in `driftLevels`, then other (the pooled levels), then
  /// missing; boolean: share of each value, then missing (`ChurnDrift` adds a bin of no share for values never seen).
  public var driftEdges: [Double] = []
  public var driftLevels: [String] = []
  public var driftShares: [Double] = []
  /// Numeric drift tests' reference: the training values (sorted, missing left out), or when there were more than
  /// 2,000 of them 2,000 evenly spaced quantiles; with their count and population standard deviation. Absent in
  /// models trained before the tests.
  public var driftSample: [Double]? = nil
  public var driftCount: Int? = nil
  public var driftDeviation: Double? = nil

  /// Whether the column's levels include the pooled `other` indicator.
  public var hasOther: Bool { !pooled.isEmpty }
}

/// The column-by-column decisions of schema inference, for the report.
public struct InferenceNote: Sendable, Equatable, Codable {
  public var column: String
  public var decision: String
  /// Why, possibly naming the parameter that decided it.
  public var detail: CommerceError.Message
}

/// Statistics of one column gathered in the inference pass.
struct ColumnStats {
  var name: String
  var missing = 0
  var numericCount = 0
  var numericValues: [Double] = []
  var nonNumeric = 0
  var firstNonNumeric: TabularError? = nil
  var nonNumericRows: [Int] = []
  /// Distinct texts with counts (first `cap` distinct; then `overflow`).
  var levels: [[UInt8]] = []
  var counts: [Int] = []
  var index: [[UInt8]: Int] = [:]
  var overflow = false
  /// Distinct non-numeric texts (up to 6), to tell stray words from categories.
  var nonNumericTexts: [[UInt8]] = []
  /// Decided to be text early in the pass (many non-numbers): numbers are no longer tried.
  var textual = false
  /// Hashes of every text seen, for deciding exactly whether the column repeats a value (an id does not) beyond
  /// the `cap` distinct levels kept; dropped at the first repeat. A hash collision can only make a unique column
  /// look repeated, never the reverse.
  var seenHashes: Set<Int>? = []
  /// Whether some text occurs twice.
  var repeated = false
  static let cap = 1000

  mutating func add(_ bytes: UnsafeBufferPointer<UInt8>) {
    if !repeated {
      var hasher = Hasher()
      hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
      if seenHashes!.insert(hasher.finalize()).inserted == false {
        repeated = true
        seenHashes = nil
      }
    }
    if !overflow {
      // Few levels: a linear scan is faster than hashing.
      if levels.count <= 16 {
        for k in 0..<levels.count where levels[k].count == bytes.count {
          if bytes.count == 0
            || levels[k].withUnsafeBufferPointer({ memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 })
          {
            counts[k] += 1
            return
          }
        }
        append(Array(bytes))
        return
      }
      let key = Array(bytes)
      if let k = index[key] {
        counts[k] += 1
      } else {
        append(key)
      }
    }
  }

  private mutating func append(_ key: [UInt8]) {
    guard levels.count < ColumnStats.cap else {
      overflow = true
      return
    }
    if levels.count == 16 { for (k, l) in levels.enumerated() { index[l] = k } }
    if levels.count >= 16 { index[key] = levels.count }
    levels.append(key)
    counts.append(1)
  }

  var distinctTexts: [String] { levels.map { String(decoding: $0, as: UTF8.self) } }

  /// Whether every distinct text kept is an ISO 8601 date or time (`2025-07-31`, `2025-07-31 09:30:00`, …): a
  /// column of times, which a model of customers cannot use as a category (new customers bring new dates).
  var allTimestamps: Bool {
    !levels.isEmpty
      && levels.allSatisfy { level in
        level.count >= 10 && level[4] == UInt8(ascii: "-")
          && level.withUnsafeBufferPointer {
            if case .value(let t) = FieldParser.parseTimestamp($0) { return t.isFinite }
            return false
          }
      }
  }
}

let booleanPairs: [(String, String)] = [
  ("Yes", "No"), ("yes", "no"), ("YES", "NO"), ("true", "false"), ("True", "False"), ("TRUE", "FALSE"),
  ("Y", "N"), ("y", "n"), ("1", "0"), ("1.0", "0.0"), ("t", "f"),
]

/// The positive class's usual names, in order of preference.
let positiveNames = ["Yes", "yes", "YES", "1", "true", "True", "TRUE", "churned", "Churned", "Y", "y", "1.0"]
