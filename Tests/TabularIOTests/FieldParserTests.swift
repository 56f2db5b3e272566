import Foundation
import Testing

@testable import TabularIO

private func parse<T>(_ text: String, _ f: (UnsafeBufferPointer<UInt8>) -> ParsedField<T>) -> ParsedField<T> {
  Array(text.utf8).withUnsafeBufferPointer { f($0) }
}

private func doubleValue(_ text: String) -> Double? {
  if case .value(let v) = parse(text, FieldParser.parseDouble) { return v }
  return nil
}

private func timestampValue(_ text: String) -> Double? {
  if case .value(let v) = parse(text, FieldParser.parseTimestamp) { return v }
  return nil
}

@Suite struct FieldParserTests {
  @Test(arguments: [
    "0", "-0", "1", "12.5", "-3.25e2", ".5", "5.", "+7", "1e-3", "0.1", "0.2", "0.3", "123456789012345678",
    "1234567890123456789012345", "9007199254740993", "2.2250738585072014e-308", "1.7976931348623157e308",
    "4.9e-324", "0.000000000000000000000000001", "3.141592653589793238462643383279", "1E10", "29.85",
    "1889.5", "  42.25  ", "-0.0", "007.50", "123456789012345", "1234567890123456", "0.1234567890123456",
    "99999999999999.9", "-.5", "1.", "0.000001",
  ])
  func doublesAreCorrectlyRounded(text: String) {
    let expected = Double(text.trimmingCharacters(in: .whitespaces))!
    #expect(doubleValue(text) == expected, "\(text)")
  }

  /// Plain decimals of every length the short path takes and just beyond it (16 to 18 bytes, 15 to 17 digits),
  /// leading zeros, a point first or last, a sign: the same value as Swift's own correctly rounded parse.
  @Test func plainDecimalsAgreeWithTheStandardLibrary() {
    var g = SystemRandomNumberGenerator()
    for _ in 0..<20_000 {
      let whole = Int.random(in: 0...12, using: &g)
      let fraction = Int.random(in: 0...9, using: &g)
      var text = Bool.random(using: &g) ? "-" : ""
      text += String((0..<whole).map { _ in Character(String(Int.random(in: 0...9, using: &g))) })
      if fraction > 0 || Bool.random(using: &g) {
        text += "." + String((0..<fraction).map { _ in Character(String(Int.random(in: 0...9, using: &g))) })
      }
      guard let expected = Double(text) else {
        #expect(doubleValue(text) == nil, "\(text)")
        continue
      }
      #expect(doubleValue(text)?.bitPattern == expected.bitPattern, "\(text)")
    }
  }

  @Test(arguments: ["abc", "1.2.3", "1e", "e5", "-", ".", "1,5", "12abc", "nan", "inf", "-infinity", "1e400", "0x10"])
  func badDoublesAreInvalid(text: String) {
    if case .invalid = parse(text, FieldParser.parseDouble) {} else { Issue.record("\(text) parsed") }
  }

  @Test func blanksAreMissing() {
    if case .missing = parse("", FieldParser.parseDouble) {} else { Issue.record("empty") }
    if case .missing = parse(" \t ", FieldParser.parseDouble) {} else { Issue.record("blank") }
    if case .missing = parse(" ", FieldParser.parseInt) {} else { Issue.record("blank int") }
  }

  @Test func integers() {
    if case .value(let v) = parse("-9223372036854775808", FieldParser.parseInt) {
      #expect(v == Int.min)
    } else {
      Issue.record("min")
    }
    if case .value(let v) = parse("9223372036854775807", FieldParser.parseInt) {
      #expect(v == Int.max)
    } else {
      Issue.record("max")
    }
    for bad in ["9223372036854775808", "1.0", "x", "-", "1 2"] {
      if case .invalid = parse(bad, FieldParser.parseInt) {} else { Issue.record("\(bad) parsed") }
    }
  }

  @Test func isoTimestamps() {
    // 2018-04-01T00:00:50Z is 1522540850.
    #expect(timestampValue("2018-04-01 00:00:50") == 1_522_540_850)
    #expect(timestampValue("2018-04-01T00:00:50") == 1_522_540_850)
    #expect(timestampValue("2018-04-01T00:00:50Z") == 1_522_540_850)
    #expect(timestampValue("2018-04-01T00:00:50.250Z") == 1_522_540_850.25)
    #expect(timestampValue("2018-04-01T02:00:50+02:00") == 1_522_540_850)
    #expect(timestampValue("2018-03-31T19:00:50-0500") == 1_522_540_850)
    #expect(timestampValue("2018-04-01T05:30:50+05:30") == 1_522_540_850)
    #expect(timestampValue("2018-04-01T01:00:50+01") == 1_522_540_850)
    #expect(timestampValue("2018-04-01") == 1_522_540_800)
    #expect(timestampValue("2018-04-01 00:00") == 1_522_540_800)
    #expect(timestampValue("1970-01-01 00:00:00") == 0)
    #expect(timestampValue("1969-12-31 23:59:59") == -1)
    #expect(timestampValue("2000-02-29 12:00:00") == 951_825_600)
    #expect(timestampValue("1522540850") == 1_522_540_850)
    #expect(timestampValue("1522540850.75") == 1_522_540_850.75)
  }

  @Test func timestampsAgreeWithFoundation() {
    let f = ISO8601DateFormatter()
    for text in ["1999-12-31T23:59:59Z", "2024-02-29T08:15:00Z", "2038-01-19T03:14:08Z", "1901-06-15T10:00:00Z"] {
      #expect(timestampValue(text) == f.date(from: text)!.timeIntervalSince1970, "\(text)")
    }
  }

  @Test(arguments: [
    "2018-13-01", "2018-02-30", "2019-02-29", "2018-04-01X00:00:00", "2018-04-01 24:00:00", "2018-04-01 00:60",
    "2018-04-01 00:00:50+25:00", "2018-04-01 00:00:50Zjunk", "yesterday", "2018-04-01 00:00:50.", "12:00:00",
  ])
  func badTimestampsAreInvalid(text: String) {
    if case .invalid = parse(text, FieldParser.parseTimestamp) {} else { Issue.record("\(text) parsed") }
  }
}

/// Timestamps read through the date cache are exactly those of the full parse: the same value (bit for bit), the
/// same missing and the same message, for runs of records sharing a date, changing dates, and every shape the cache
/// must leave to the full parse.
@Suite struct TimestampCacheTests {
  private static func outcome(_ p: ParsedField<Double>) -> String {
    switch p {
    case .value(let v): return "value \(v.bitPattern)"
    case .missing: return "missing"
    case .invalid(let expected): return "invalid \(expected)"
    }
  }

  @Test func cachedDatesGiveTheFullParse() {
    var g = SystemRandomNumberGenerator()
    var texts: [String] = []
    // Runs of one date, then another (and back), with each separator.
    for date in ["2026-01-31", "2026-02-01", "2026-01-31", "1969-12-31", "0001-01-01", "9999-12-31", "2024-02-29"] {
      for _ in 0..<50 {
        let separator = ["T", " ", "t"].randomElement(using: &g)!
        let time = String(
          format: "%02d:%02d:%02d", Int.random(in: 0...23, using: &g), Int.random(in: 0...59, using: &g),
          Int.random(in: 0...60, using: &g))
        texts.append(date + separator + time)
      }
    }
    // Shapes the cache passes on, and bad values in its own shape (after a good date is cached).
    texts += [
      "2026-01-31 24:00:00", "2026-01-31 23:60:00", "2026-01-31 23:59:61", "2026-01-31 2x:00:00",
      "2026-01-31 23-59-59", "2026-01-31_23:59:59", "2026-02-30 10:00:00", "2023-02-29 10:00:00",
      "2026-13-01 10:00:00", "2026/01/31 10:00:00", "20260131 10:00:00Z", " 2026-01-31 10:00:00",
      "2026-01-31 10:00:00 ", "2026-01-31 10:00:00Z", "2026-01-31T10:00:00.5", "2026-01-31T10:00:00+01:00",
      "2026-01-31", "2026-01-31 10:00", "1767225600", "1767225600.25", "", "   ", "abc", "2026-01-31 10:00:00",
      "2026-01-31x10:00:00", "2026-01-3a 10:00:00", "2026-01-31 10:00:00",
    ]
    var cache = FieldParser.TimestampCache()
    for text in texts {
      let cached = Array(text.utf8).withUnsafeBufferPointer { FieldParser.parseTimestamp($0, cache: &cache) }
      let full = Array(text.utf8).withUnsafeBufferPointer { FieldParser.parseTimestamp($0) }
      #expect(Self.outcome(cached) == Self.outcome(full), "\(text)")
    }
  }
}

@Suite struct XXHash64Tests {
  // Digests from Python's xxhash package: Scripts/reference/xxhash_reference.py.
  @Test func knownDigests() {
    let cases: [([UInt8], UInt64)] = [
      ([], 0xEF46_DB37_51D8_E999),
      (Array("a".utf8), 0xD24E_C4F1_A98C_6E5B),
      (Array("abc".utf8), 0x44BC_2CF5_AD77_0999),
      (Array("The quick brown fox jumps over the lazy dog".utf8), 0x0B24_2D36_1FDA_71BC),
      (Array((0..<768).map { UInt8($0 % 256) }), 0x8E03_C838_C596_036F),
    ]
    for (bytes, digest) in cases {
      var h = XXHash64()
      h.update(bytes)
      #expect(h.finalize() == digest)
      // Fed in uneven pieces, the digest is the same.
      var pieces = XXHash64()
      var i = 0
      var step = 1
      while i < bytes.count {
        let j = min(bytes.count, i + step)
        pieces.update(Array(bytes[i..<j]))
        i = j
        step = step % 37 + 5
      }
      #expect(pieces.finalize() == digest)
    }
  }

  @Test func fingerprintText() {
    var h = XXHash64()
    h.update(Array("abc".utf8))
    #expect(DataFingerprint(h).description == "3 bytes, xxh64 44bc2cf5ad770999")
    #expect(DataFingerprint(XXHash64()).xxh64 == "ef46db3751d8e999")
  }
}
