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
///
/// Its tables are flat memory of its own, read without reference counting or copy-on-write checks, so that
/// threads scoring at once share no counter; it is not changed after `init`.
final class FeatureEncoder: @unchecked Sendable {
  let columns: [ColumnSpec]
  let features: [Feature]
  /// Per column: its kind (0 number, 1 boolean, 2 category), median, mode, the feature index of its value / true
  /// indicator, of its missing indicator and of its `other` indicator (-1 when none).
  private let kind: UnsafeMutablePointer<UInt8>
  private let median: UnsafeMutablePointer<Double>
  private let modeIsTrue: UnsafeMutablePointer<Bool>
  private let valueFeature: UnsafeMutablePointer<Int>
  private let missingFeature: UnsafeMutablePointer<Int>
  private let otherFeature: UnsafeMutablePointer<Int>
  /// Per column, the spellings it recognizes, `spellingStart[c]..<spellingStart[c + 1]`: a boolean's true value
  /// then its false value; a category's levels, its reference level, then its pooled levels (in that order, so
  /// the first match wins as it always has).
  private let spellingStart: UnsafeMutablePointer<Int>
  /// Per spelling: its length, its first eight bytes (zero-padded, little-endian), where its bytes start in
  /// `bytes`, and the feature it sets to 1 (-1: none; for a pooled level, `other`'s).
  private let length: UnsafeMutablePointer<Int>
  private let prefix: UnsafeMutablePointer<UInt64>
  /// Per spelling: its next eight bytes (zero-padded), so that spellings up to 16 bytes compare without a call.
  private let secondPrefix: UnsafeMutablePointer<UInt64>
  private let offset: UnsafeMutablePointer<Int>
  private let target: UnsafeMutablePointer<Int>
  private let bytes: UnsafeMutablePointer<UInt8>
  /// Per category column, the indicators cleared before its value sets one:
  /// `clearFeature[clearStart[c]..<clearStart[c + 1]]`.
  private let clearStart: UnsafeMutablePointer<Int>
  private let clearFeature: UnsafeMutablePointer<Int>

  init(columns: [ColumnSpec], features: [Feature]) {
    self.columns = columns
    self.features = features
    let n = columns.count
    var value = [Int](repeating: -1, count: n)
    var missing = [Int](repeating: -1, count: n)
    var other = [Int](repeating: -1, count: n)
    var level = columns.map { [Int](repeating: -1, count: $0.levels.count) }
    for (k, f) in features.enumerated() {
      switch f.role {
      case .value, .isTrue: value[f.column] = k
      case .missing: missing[f.column] = k
      case .other: other[f.column] = k
      case .level(let l): level[f.column][l] = k
      }
    }
    // The spellings, column by column, with the feature each sets.
    var spellings: [(text: [UInt8], target: Int)] = []
    var starts: [Int] = []
    var clears: [Int] = []
    var clearStarts: [Int] = []
    for (c, spec) in columns.enumerated() {
      starts.append(spellings.count)
      clearStarts.append(clears.count)
      switch spec.kind {
      case .numeric: break
      case .boolean:
        spellings.append((Array(spec.trueValue.utf8), 1))
        spellings.append((Array(spec.falseValue.utf8), 0))
      case .categorical:
        for (l, text) in spec.levels.enumerated() { spellings.append((Array(text.utf8), level[c][l])) }
        spellings.append((Array(spec.reference.utf8), -1))
        for text in spec.pooled { spellings.append((Array(text.utf8), other[c])) }
        clears.append(contentsOf: level[c].filter { $0 >= 0 })
        if other[c] >= 0 { clears.append(other[c]) }
      }
    }
    starts.append(spellings.count)
    clearStarts.append(clears.count)
    kind = flatCopy(columns.map { $0.kind == .numeric ? 0 : $0.kind == .boolean ? 1 : 2 })
    median = flatCopy(columns.map(\.median))
    modeIsTrue = flatCopy(columns.map(\.modeIsTrue))
    valueFeature = flatCopy(value)
    missingFeature = flatCopy(missing)
    otherFeature = flatCopy(other)
    spellingStart = flatCopy(starts)
    length = flatCopy(spellings.map(\.text.count))
    prefix = flatCopy(
      spellings.map { s in s.text.withUnsafeBufferPointer { FeatureEncoder.prefix(of: $0) } })
    secondPrefix = flatCopy(
      spellings.map { s in
        s.text.withUnsafeBufferPointer {
          $0.count > 8 ? FeatureEncoder.prefix(of: UnsafeBufferPointer(rebasing: $0[8...])) : 0
        }
      })
    var offsets: [Int] = []
    var all: [UInt8] = []
    for s in spellings {
      offsets.append(all.count)
      all.append(contentsOf: s.text)
    }
    offset = flatCopy(offsets)
    target = flatCopy(spellings.map(\.target))
    bytes = flatCopy(all)
    clearStart = flatCopy(clearStarts)
    clearFeature = flatCopy(clears)
  }

  deinit {
    kind.deallocate()
    median.deallocate()
    modeIsTrue.deallocate()
    for p in [
      valueFeature, missingFeature, otherFeature, spellingStart, length, offset, target, clearStart, clearFeature,
    ] {
      p.deallocate()
    }
    prefix.deallocate()
    secondPrefix.deallocate()
    bytes.deallocate()
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

  /// The first eight bytes of `text` as a little-endian word, zero-padded.
  @inline(__always)
  static func prefix(of text: UnsafeBufferPointer<UInt8>) -> UInt64 {
    guard let base = text.baseAddress else { return 0 }
    if text.count >= 8 { return UInt64(littleEndian: UnsafeRawPointer(base).loadUnaligned(as: UInt64.self)) }
    var word: UInt64 = 0
    var i = text.count
    while i > 0 {
      i -= 1
      word = word << 8 | UInt64(base[i])
    }
    return word
  }

  /// The first of column `c`'s spellings that `text` is, or -1.
  @inline(__always)
  private func spelling(_ c: Int, _ text: UnsafeBufferPointer<UInt8>) -> Int {
    let word = FeatureEncoder.prefix(of: text)
    let count = text.count
    for s in spellingStart[c]..<spellingStart[c + 1] where length[s] == count && prefix[s] == word {
      if count <= 8 { return s }
      let rest = UnsafeBufferPointer(start: text.baseAddress! + 8, count: count - 8)
      if count <= 16 {
        if FeatureEncoder.prefix(of: rest) == secondPrefix[s] { return s }
      } else if memcmp(rest.baseAddress!, bytes + offset[s] + 8, count - 8) == 0 {
        return s
      }
    }
    return -1
  }

  /// Writes column `c`'s raw feature values for `field` (nil or blank = missing) into `out` at the
  /// positions of its features.
  @inline(__always)
  func encode(column c: Int, field: UnsafeBufferPointer<UInt8>?, into out: UnsafeMutablePointer<Double>) -> Outcome {
    var trimmed = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    if let field {
      let (lo, hi) = FieldParser.trimmed(field)
      trimmed = UnsafeBufferPointer(rebasing: field[lo..<hi])
    }
    let missing = trimmed.count == 0
    let missingIndex = missingFeature[c]
    if missingIndex >= 0 { out[missingIndex] = missing ? 1 : 0 }
    switch kind[c] {
    case 0:
      var value = median[c]
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
    case 1:
      var isTrue = modeIsTrue[c]
      if !missing {
        let s = spelling(c, trimmed)
        if s < 0 { return .bad("\(columns[c].trueValue) or \(columns[c].falseValue)") }
        isTrue = target[s] == 1
      }
      if valueFeature[c] >= 0 { out[valueFeature[c]] = isTrue ? 1 : 0 }
      return .ok
    default:
      for k in clearStart[c]..<clearStart[c + 1] { out[clearFeature[k]] = 0 }
      // Missing: imputed with the reference (most frequent) level, every indicator 0 but the missing one.
      if missing { return .ok }
      let s = spelling(c, trimmed)
      if s < 0 { return .unseenLevel }
      if target[s] >= 0 { out[target[s]] = 1 }
      return .ok
    }
  }
}

/// `values` in memory of their own (at least one element's room), for tables read without reference counting;
/// the owner deallocates it.
func flatCopy<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
  let p = UnsafeMutablePointer<T>.allocate(capacity: max(values.count, 1))
  p.initialize(from: values, count: values.count)
  return p
}
