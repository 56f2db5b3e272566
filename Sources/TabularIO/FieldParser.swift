#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The outcome of parsing one field: a value, a missing value (an empty or all-blank field), or a failure.
public enum ParsedField<Value> {
  /// The field held a valid value.
  case value(Value)
  /// The field was empty or only spaces and tabs.
  case missing
  /// The field held something else; the text says what was expected.
  case invalid(expected: String)
}

/// Byte-level parsers for numbers and timestamps, with no allocation on the common path.
///
/// Leading and trailing spaces and tabs are ignored; an empty or all-blank field is `missing`.
public enum FieldParser {
  @usableFromInline static let powersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
    1e19, 1e20, 1e21, 1e22,
  ]

  /// The bounds of `bytes` without leading and trailing spaces and tabs.
  @inlinable @inline(__always)
  public static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>) -> (Int, Int) {
    var lo = 0
    var hi = bytes.count
    while lo < hi, bytes[lo] == 0x20 || bytes[lo] == 0x09 { lo += 1 }
    while hi > lo, bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0x09 { hi -= 1 }
    return (lo, hi)
  }

  /// True when every byte is below 0x80 (so the bytes are valid UTF-8), checked eight bytes at a time.
  public static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = bytes.baseAddress else { return true }
    let n = bytes.count
    var i = 0
    var acc: UInt64 = 0
    while i + 8 <= n {
      acc |= UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
      i += 8
    }
    while i < n {
      acc |= UInt64(base[i])
      i += 1
    }
    return acc & 0x8080_8080_8080_8080 == 0
  }

  /// Parses a base-10 integer with an optional sign.
  public static func parseInt(_ bytes: UnsafeBufferPointer<UInt8>) -> ParsedField<Int> {
    let (lo, hi) = trimmed(bytes)
    if lo == hi { return .missing }
    var i = lo
    var negative = false
    if bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
      negative = bytes[i] == UInt8(ascii: "-")
      i += 1
    }
    if i == hi { return .invalid(expected: "an integer") }
    var value = 0
    while i < hi {
      let d = Int(bytes[i]) &- 48
      guard d >= 0 && d <= 9 else { return .invalid(expected: "an integer") }
      let (m, o1) = value.multipliedReportingOverflow(by: 10)
      let (s, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
      if o1 || o2 { return .invalid(expected: "an integer within ±9223372036854775807") }
      value = s
      i += 1
    }
    return .value(value)
  }

  /// Parses a decimal number (`12`, `-3.5`, `.5`, `1e-3`), correctly rounded.
  ///
  /// Short numbers (up to 19 significant digits and a power of ten within ±22) take an exact fast path;
  /// others go to the C library's `strtod`. `nan`, `inf` and numbers that overflow are invalid: every
  /// reader wants finite values.
  public static func parseDouble(_ bytes: UnsafeBufferPointer<UInt8>) -> ParsedField<Double> {
    if let v = parsePlainDecimal(bytes) { return .value(v) }
    let (lo, hi) = trimmed(bytes)
    if lo == hi { return .missing }
    var i = lo
    var negative = false
    if bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
      negative = bytes[i] == UInt8(ascii: "-")
      i += 1
    }
    var mantissa: UInt64 = 0
    var digits = 0
    var droppedDigits = 0
    var sawDigit = false
    while i < hi {
      let d = UInt64(bytes[i]) &- 48
      if d > 9 { break }
      sawDigit = true
      if digits < 19 {
        mantissa = mantissa &* 10 &+ d
        if mantissa != 0 { digits += 1 }
      } else {
        droppedDigits += 1
      }
      i += 1
    }
    var exponent = droppedDigits
    if i < hi && bytes[i] == UInt8(ascii: ".") {
      i += 1
      while i < hi {
        let d = UInt64(bytes[i]) &- 48
        if d > 9 { break }
        sawDigit = true
        if digits < 19 {
          mantissa = mantissa &* 10 &+ d
          if mantissa != 0 { digits += 1 }
          exponent -= 1
        }
        i += 1
      }
    }
    guard sawDigit else { return .invalid(expected: "a number") }
    if i < hi && (bytes[i] | 0x20) == UInt8(ascii: "e") {
      i += 1
      var expNegative = false
      if i < hi && (bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+")) {
        expNegative = bytes[i] == UInt8(ascii: "-")
        i += 1
      }
      var e = 0
      var sawExpDigit = false
      while i < hi {
        let d = Int(bytes[i]) &- 48
        if d < 0 || d > 9 { break }
        sawExpDigit = true
        if e < 100_000 { e = e * 10 + d }
        i += 1
      }
      guard sawExpDigit else { return .invalid(expected: "a number") }
      exponent += expNegative ? -e : e
    }
    guard i == hi else { return .invalid(expected: "a number") }
    if mantissa == 0 { return .value(negative ? -0.0 : 0.0) }
    if mantissa <= (1 << 53) && exponent >= -22 && exponent <= 22 {
      var v = Double(mantissa)
      v = exponent < 0 ? v / powersOfTen[-exponent] : v * powersOfTen[exponent]
      return .value(negative ? -v : v)
    }
    return slowParseDouble(UnsafeBufferPointer(rebasing: bytes[lo..<hi]))
  }

  /// The most common shape first, in one pass without checks for the rest: `[-]digits[.digits]`, at most 17
  /// bytes and 15 digits (so the digits fit a double exactly, and one correctly rounded division by a power of
  /// ten gives the same value as the general path). Anything else (blanks, a sign `+`, an exponent, more digits)
  /// is `nil`, for the general path.
  @inline(__always)
  static func parsePlainDecimal(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
    let n = bytes.count
    guard n > 0, n <= 17, let p = bytes.baseAddress else { return nil }
    let negative = p[0] == UInt8(ascii: "-")
    var i = negative ? 1 : 0
    var mantissa: UInt64 = 0
    var digits = 0
    var point = -1
    while i < n {
      let c = p[i]
      let d = c &- 48
      if d <= 9 {
        mantissa = mantissa &* 10 &+ UInt64(d)
        digits += 1
      } else if c == UInt8(ascii: ".") && point < 0 {
        point = i
      } else {
        return nil
      }
      i += 1
    }
    guard digits > 0, digits <= 15 else { return nil }
    let decimals = point < 0 ? 0 : n - 1 - point
    let v = Double(mantissa) / powersOfTen[decimals]
    return negative ? -v : v
  }

  static func slowParseDouble(_ bytes: UnsafeBufferPointer<UInt8>) -> ParsedField<Double> {
    guard bytes.count < 4096 else { return .invalid(expected: "a number of at most 4096 characters") }
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: bytes.count + 1) { tmp in
      for k in 0..<bytes.count { tmp[k] = CChar(bitPattern: bytes[k]) }
      tmp[bytes.count] = 0
      var endPointer: UnsafeMutablePointer<CChar>? = nil
      let v = strtod(tmp.baseAddress!, &endPointer)
      guard endPointer == tmp.baseAddress! + bytes.count else { return .invalid(expected: "a number") }
      guard v.isFinite else { return .invalid(expected: "a finite number") }
      return .value(v)
    }
  }

  /// Parses a timestamp to seconds since 1970-01-01T00:00:00Z.
  ///
  /// Accepted forms:
  /// ```
  /// 2018-04-01                     (midnight)
  /// 2018-04-01 00:00:50            (space or T between date and time; UTC when no offset is given)
  /// 2018-04-01T00:00:50.250Z       (fractional seconds)
  /// 2018-04-01T02:00:50+02:00      (offsets ±HH:MM, ±HHMM or ±HH)
  /// 1522540850  or  1522540850.25  (epoch seconds)
  /// ```
  public static func parseTimestamp(_ bytes: UnsafeBufferPointer<UInt8>) -> ParsedField<Double> {
    let (lo, hi) = trimmed(bytes)
    if lo == hi { return .missing }
    let n = hi - lo
    // ISO 8601 when it starts with YYYY-.
    if n >= 10 && bytes[lo + 4] == UInt8(ascii: "-") {
      if let t = parseISO8601(bytes, lo, hi) { return .value(t) }
      return .invalid(expected: "a timestamp like 2018-04-01 00:00:50, 2018-04-01T00:00:50.250Z or epoch seconds")
    }
    switch parseDouble(UnsafeBufferPointer(rebasing: bytes[lo..<hi])) {
    case .value(let v): return .value(v)
    default:
      return .invalid(expected: "a timestamp like 2018-04-01 00:00:50, 2018-04-01T00:00:50.250Z or epoch seconds")
    }
  }

  /// The date of the last `YYYY-MM-DD hh:mm:ss` timestamp `parseTimestamp(_:cache:)` read: a stream's timestamps
  /// share their date for hours at a time, so the date is parsed once per day of data.
  public struct TimestampCache: Sendable {
    /// The date's ten bytes (the first eight as a word, then two), and its first second since 1970.
    var date: UInt64 = 0
    var dateTail: UInt16 = 0
    var dayStart = 0
    var known = false

    public init() {}

    init(date: UInt64, dateTail: UInt16, dayStart: Int) {
      (self.date, self.dateTail, self.dayStart, known) = (date, dateTail, dayStart, true)
    }
  }

  /// `parseTimestamp(_:)`, the same value for the same bytes, with the date of a `YYYY-MM-DD hh:mm:ss` (or
  /// `…Thh:mm:ss`) timestamp read from `cache` when it is the date read last.
  @inline(__always)
  public static func parseTimestamp(_ bytes: UnsafeBufferPointer<UInt8>, cache: inout TimestampCache)
    -> ParsedField<Double>
  {
    if bytes.count == 19, let base = bytes.baseAddress {
      let separator = base[10]
      if separator == UInt8(ascii: " ") || separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t"),
        base[4] == UInt8(ascii: "-"), base[13] == UInt8(ascii: ":"), base[16] == UInt8(ascii: ":"),
        let hour = digits(bytes, 11, 2), let minute = digits(bytes, 14, 2), let second = digits(bytes, 17, 2),
        hour <= 23, minute <= 59, second <= 60
      {
        let raw = UnsafeRawPointer(base)
        let date = raw.loadUnaligned(as: UInt64.self)
        let dateTail = raw.loadUnaligned(fromByteOffset: 8, as: UInt16.self)
        if !cache.known || cache.date != date || cache.dateTail != dateTail {
          // A bad date: the full parse says why.
          guard let start = parseISO8601(bytes, 0, 10) else { return parseTimestamp(bytes) }
          cache = TimestampCache(date: date, dateTail: dateTail, dayStart: Int(start))
        }
        // Whole seconds below 2^53: the same double as the full parse's sum of the day's and the time's seconds.
        return .value(Double(cache.dayStart + hour * 3600 + minute * 60 + second))
      }
    }
    return parseTimestamp(bytes)
  }

  @inline(__always)
  static func digits(_ b: UnsafeBufferPointer<UInt8>, _ at: Int, _ count: Int) -> Int? {
    var v = 0
    for k in 0..<count {
      let d = Int(b[at + k]) &- 48
      if d < 0 || d > 9 { return nil }
      v = v * 10 + d
    }
    return v
  }

  /// Days from 1970-01-01 to the given civil date (proleptic Gregorian), after Howard Hinnant.
  public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  static func daysInMonth(_ year: Int, _ month: Int) -> Int {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }

  static func parseISO8601(_ b: UnsafeBufferPointer<UInt8>, _ lo: Int, _ hi: Int) -> Double? {
    guard let year = digits(b, lo, 4), b[lo + 7] == UInt8(ascii: "-"),
      let month = digits(b, lo + 5, 2), let day = digits(b, lo + 8, 2),
      month >= 1, month <= 12, day >= 1, day <= daysInMonth(year, month)
    else { return nil }
    var seconds = Double(daysFromCivil(year: year, month: month, day: day) * 86_400)
    var i = lo + 10
    if i == hi { return seconds }
    guard b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: "t") || b[i] == UInt8(ascii: " ") else { return nil }
    i += 1
    guard hi - i >= 5, let hour = digits(b, i, 2), b[i + 2] == UInt8(ascii: ":"), let minute = digits(b, i + 3, 2),
      hour <= 23, minute <= 59
    else { return nil }
    i += 5
    var second = 0
    var fraction = 0.0
    if i < hi && b[i] == UInt8(ascii: ":") {
      guard hi - i >= 3, let s = digits(b, i + 1, 2), s <= 60 else { return nil }
      second = s
      i += 3
      if i < hi && (b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: ",")) {
        i += 1
        var scale = 0.1
        var any = false
        while i < hi, b[i] >= 48, b[i] <= 57 {
          fraction += Double(b[i] - 48) * scale
          scale *= 0.1
          any = true
          i += 1
        }
        guard any else { return nil }
      }
    }
    seconds += Double(hour * 3600 + minute * 60 + second) + fraction
    if i == hi { return seconds }
    if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
      return i + 1 == hi ? seconds : nil
    }
    guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") else { return nil }
    let sign = b[i] == UInt8(ascii: "+") ? 1.0 : -1.0
    i += 1
    guard hi - i >= 2, let oh = digits(b, i, 2), oh <= 23 else { return nil }
    i += 2
    var om = 0
    if i < hi {
      if b[i] == UInt8(ascii: ":") { i += 1 }
      guard hi - i == 2, let m = digits(b, i, 2), m <= 59 else { return nil }
      om = m
      i += 2
    }
    guard i == hi else { return nil }
    return seconds - sign * Double(oh * 3600 + om * 60)
  }
}
