import Foundation
import TabularIO

/// One model feature (a design-matrix column other than the intercept).
public struct Feature: Codable, Sendable, Equatable {
  /// Display name, e.g. `tenure`, `Contract=One year`, `TotalCharges (missing)`.
  public var name: String
  /// Index of the input column in `ChurnModel.columns`.
  public var column: Int
  /// What the feature measures.
  public var role: Role
  /// Standardization: `(raw − mean) / sd`.
  public var mean: Double
  public var sd: Double

  public enum Role: Codable, Sendable, Equatable {
    /// The (imputed) number.
    case value
    /// 1 when the value was missing.
    case missing
    /// Boolean: 1 for the true value.
    case isTrue
    /// Categorical: 1 for this level (index into the column's `levels`).
    case level(Int)
    /// Categorical: 1 for a pooled rare level.
    case other
  }
}

/// Turns a record's fields into raw feature values (before standardization), the same way in training and
/// scoring. Fields are matched as bytes: no strings are made per row.
struct FeatureEncoder {
  let columns: [ColumnSpec]
  let features: [Feature]
  /// Per column: the feature indices fed by it.
  let byColumn: [[Int]]
  private let levelBytes: [[[UInt8]]]
  private let pooledBytes: [[[UInt8]]]
  private let trueBytes: [[UInt8]]
  private let falseBytes: [[UInt8]]
  private let referenceBytes: [[UInt8]]

  init(columns: [ColumnSpec], features: [Feature]) {
    self.columns = columns
    self.features = features
    var by = [[Int]](repeating: [], count: columns.count)
    for (k, f) in features.enumerated() { by[f.column].append(k) }
    byColumn = by
    levelBytes = columns.map { $0.levels.map { Array($0.utf8) } }
    pooledBytes = columns.map { $0.pooled.map { Array($0.utf8) } }
    trueBytes = columns.map { Array($0.trueValue.utf8) }
    falseBytes = columns.map { Array($0.falseValue.utf8) }
    referenceBytes = columns.map { Array($0.reference.utf8) }
  }

  enum Outcome {
    case ok
    /// A level never seen in training (encoded as the reference level).
    case unseenLevel
    /// A value that is not of the column's kind; the text says what was expected.
    case bad(String)
  }

  @inline(__always)
  static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    if a.count == 0 { return true }
    return b.withUnsafeBufferPointer { memcmp(a.baseAddress!, $0.baseAddress!, a.count) == 0 }
  }

  /// Writes column `c`'s raw feature values for `field` (nil or blank = missing) into `out` at the
  /// positions of its features.
  func encode(column c: Int, field: UnsafeBufferPointer<UInt8>?, into out: UnsafeMutablePointer<Double>) -> Outcome {
    let spec = columns[c]
    var missing = true
    if let field {
      let (lo, hi) = FieldParser.trimmed(field)
      missing = lo == hi
    }
    var outcome = Outcome.ok
    switch spec.kind {
    case .numeric:
      var value = spec.median
      if !missing, let field {
        switch FieldParser.parseDouble(field) {
        case .value(let v): value = v
        case .missing: missing = true
        case .invalid(let expected): return .bad(expected)
        }
      }
      for k in byColumn[c] {
        switch features[k].role {
        case .value: out[k] = value
        case .missing: out[k] = missing ? 1 : 0
        default: break
        }
      }
    case .boolean:
      var isTrue = spec.modeIsTrue
      if !missing, let field {
        let t = UnsafeBufferPointer(rebasing: field[FieldParser.trimmed(field).0..<FieldParser.trimmed(field).1])
        if FeatureEncoder.equal(t, trueBytes[c]) {
          isTrue = true
        } else if FeatureEncoder.equal(t, falseBytes[c]) {
          isTrue = false
        } else {
          return .bad("\(spec.trueValue) or \(spec.falseValue)")
        }
      }
      for k in byColumn[c] {
        switch features[k].role {
        case .isTrue: out[k] = isTrue ? 1 : 0
        case .missing: out[k] = missing ? 1 : 0
        default: break
        }
      }
    case .categorical:
      for k in byColumn[c] { out[k] = 0 }
      if missing {
        // Imputed with the reference (most frequent) level: every indicator 0 but the missing one.
        for k in byColumn[c] where features[k].role == .missing { out[k] = 1 }
      } else if let field {
        let t = UnsafeBufferPointer(rebasing: field[FieldParser.trimmed(field).0..<FieldParser.trimmed(field).1])
        var matched = false
        if let level = levelBytes[c].firstIndex(where: { FeatureEncoder.equal(t, $0) }) {
          for k in byColumn[c] where features[k].role == .level(level) { out[k] = 1 }
          matched = true
        } else if pooledBytes[c].contains(where: { FeatureEncoder.equal(t, $0) }) {
          for k in byColumn[c] where features[k].role == .other { out[k] = 1 }
          matched = true
        } else if FeatureEncoder.equal(t, referenceBytes[c]) {
          matched = true
        }
        if !matched { outcome = .unseenLevel }
      }
    }
    return outcome
  }
}
