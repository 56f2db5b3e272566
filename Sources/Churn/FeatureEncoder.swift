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
  /// Per column: the feature index of its value / true indicator, its missing indicator and its `other`
  /// indicator (-1 when none), and per categorical level the feature index.
  private let valueFeature: [Int]
  private let missingFeature: [Int]
  private let otherFeature: [Int]
  private let levelFeature: [[Int]]
  private let levelBytes: [[[UInt8]]]
  private let pooledBytes: [[[UInt8]]]
  private let trueBytes: [[UInt8]]
  private let falseBytes: [[UInt8]]
  private let referenceBytes: [[UInt8]]
  private let kinds: [ColumnKind]
  private let medians: [Double]
  private let modeIsTrue: [Bool]

  init(columns: [ColumnSpec], features: [Feature]) {
    kinds = columns.map(\.kind)
    medians = columns.map(\.median)
    modeIsTrue = columns.map(\.modeIsTrue)
    self.columns = columns
    self.features = features
    var value = [Int](repeating: -1, count: columns.count)
    var missing = [Int](repeating: -1, count: columns.count)
    var other = [Int](repeating: -1, count: columns.count)
    var level = columns.map { [Int](repeating: -1, count: $0.levels.count) }
    for (k, f) in features.enumerated() {
      switch f.role {
      case .value, .isTrue: value[f.column] = k
      case .missing: missing[f.column] = k
      case .other: other[f.column] = k
      case .level(let l): level[f.column][l] = k
      }
    }
    valueFeature = value
    missingFeature = missing
    otherFeature = other
    levelFeature = level
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
    var trimmed = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    if let field {
      let (lo, hi) = FieldParser.trimmed(field)
      trimmed = UnsafeBufferPointer(rebasing: field[lo..<hi])
    }
    let missing = trimmed.count == 0
    let missingIndex = missingFeature[c]
    if missingIndex >= 0 { out[missingIndex] = missing ? 1 : 0 }
    switch kinds[c] {
    case .numeric:
      var value = medians[c]
      if !missing {
        switch FieldParser.parseDouble(trimmed) {
        case .value(let v): value = v
        case .missing: break
        case .invalid(let expected): return .bad(expected)
        }
      }
      // A feature dropped as aliased has no slot (-1).
      if valueFeature[c] >= 0 { out[valueFeature[c]] = value }
      return .ok
    case .boolean:
      var isTrue = modeIsTrue[c]
      if !missing {
        if FeatureEncoder.equal(trimmed, trueBytes[c]) {
          isTrue = true
        } else if FeatureEncoder.equal(trimmed, falseBytes[c]) {
          isTrue = false
        } else {
          return .bad("\(columns[c].trueValue) or \(columns[c].falseValue)")
        }
      }
      if valueFeature[c] >= 0 { out[valueFeature[c]] = isTrue ? 1 : 0 }
      return .ok
    case .categorical:
      let levels = levelFeature[c]
      for k in levels where k >= 0 { out[k] = 0 }
      let otherIndex = otherFeature[c]
      if otherIndex >= 0 { out[otherIndex] = 0 }
      // Missing: imputed with the reference (most frequent) level, every indicator 0 but the missing one.
      if missing { return .ok }
      let known = levelBytes[c]
      for l in 0..<known.count where FeatureEncoder.equal(trimmed, known[l]) {
        if levels[l] >= 0 { out[levels[l]] = 1 }
        return .ok
      }
      if FeatureEncoder.equal(trimmed, referenceBytes[c]) { return .ok }
      if pooledBytes[c].contains(where: { FeatureEncoder.equal(trimmed, $0) }) {
        if otherIndex >= 0 { out[otherIndex] = 1 }
        return .ok
      }
      return .unseenLevel
    }
  }
}
