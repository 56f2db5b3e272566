#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What the CSV and NDJSON readers have in common: a current record whose fields are byte spans,
/// and typed access to them that allocates nothing for numbers and timestamps.
///
/// Use it as a generic constraint (`some RecordReader`), not as an existential, in hot loops.
public protocol RecordReader: AnyObject {
  /// The column names, in field order.
  var header: Header { get }
  /// Moves to the next record. Returns `false` at end of input.
  /// - Throws: `TabularError` for a malformed record; the reader has moved past it, so a caller that
  ///   skips bad records may call `next()` again.
  func next() throws(TabularError) -> Bool
  /// Number of fields in the current record.
  var fieldCount: Int { get }
  /// 1-based line on which the current record starts.
  var line: Int { get }
  /// The file's name as given (or `<stdin>`).
  var fileName: String { get }
  /// The raw bytes of field `index` (quotes removed, escapes resolved), or `nil` when the field is absent
  /// (an NDJSON key missing or `null`, or past the end of a short CSV record).
  ///
  /// The buffer is valid until the next call of `next()`; copy what must outlive it.
  func fieldBytes(_ index: Int) -> UnsafeBufferPointer<UInt8>?
  /// The 1-based line and byte column at which field `index` starts, for messages.
  func place(ofField index: Int) -> (line: Int, column: Int)
  /// Fingerprint (size and XXH64) of every byte read so far.
  var fingerprint: DataFingerprint { get }
  /// Calls `body` with the raw bytes of the current record — or of the record whose error `next()` just threw —
  /// exactly as read, line end included; `nil` when they are gone (a record too long to hold, whose bytes went to
  /// `skippedBytesSink`).
  func withRawRecord<R>(_ body: (UnsafeBufferPointer<UInt8>?) throws -> R) rethrows -> R
  /// Receives the bytes of a record too long to hold as the reader skips it.
  var skippedBytesSink: ((UnsafeBufferPointer<UInt8>) -> Void)? { get set }
  /// Whether the next line is already buffered (or the input has ended), so `next()` will not wait for
  /// input, unless a quoted field spans lines. A stream reading ahead checks it before it holds back output.
  var hasBufferedLine: Bool { get }
}

extension RecordReader {
  /// An error placed at field `index` of the current record: `file:line:column: column 'name': message`.
  public func error(atField index: Int, _ message: String, kind: TabularError.Kind = .badValue) -> TabularError {
    let name = index < header.names.count ? "column '\(Header.shown(header.names[index]))': " : ""
    let (line, column) = place(ofField: index)
    return TabularError(kind, file: fileName, line: line, column: column, name + message)
  }

  /// Calls `body` with the bytes of field `index` (see `fieldBytes(_:)`).
  @inlinable
  public func withField<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws -> R) rethrows -> R {
    try body(fieldBytes(index))
  }

  /// True when field `index` is absent, empty, or only spaces.
  public func isMissing(_ index: Int) -> Bool {
    guard let bytes = fieldBytes(index) else { return true }
    let (lo, hi) = FieldParser.trimmed(bytes)
    return lo == hi
  }

  /// Field `index` as text, or `nil` when absent.
  /// - Throws: `.malformedRecord` when the bytes are not valid UTF-8.
  public func string(_ index: Int) throws(TabularError) -> String? {
    guard let bytes = fieldBytes(index) else { return nil }
    if FieldParser.isASCII(bytes) { return String(decoding: bytes, as: UTF8.self) }
    guard let s = String(validating: bytes, as: UTF8.self) else {
      throw error(atField: index, "invalid UTF-8 bytes, expected UTF-8 text", kind: .malformedRecord)
    }
    return s
  }

  /// Field `index` as an integer, or `nil` when missing.
  /// - Throws: `.badValue` naming the column, the value found and what was expected.
  public func int(_ index: Int) throws(TabularError) -> Int? {
    guard let bytes = fieldBytes(index) else { return nil }
    switch FieldParser.parseInt(bytes) {
    case .value(let v): return v
    case .missing: return nil
    case .invalid(let expected): throw badValue(index, bytes, expected)
    }
  }

  /// Field `index` as a finite number, or `nil` when missing.
  /// - Throws: `.badValue` naming the column, the value found and what was expected.
  @inlinable
  public func double(_ index: Int) throws(TabularError) -> Double? {
    guard let bytes = fieldBytes(index) else { return nil }
    switch FieldParser.parseDouble(bytes) {
    case .value(let v): return v
    case .missing: return nil
    case .invalid(let expected): throw badValue(index, bytes, expected)
    }
  }

  /// Field `index` as seconds since the Unix epoch (see `FieldParser.parseTimestamp`), or `nil` when missing.
  public func timestamp(_ index: Int) throws(TabularError) -> Double? {
    guard let bytes = fieldBytes(index) else { return nil }
    switch FieldParser.parseTimestamp(bytes) {
    case .value(let v): return v
    case .missing: return nil
    case .invalid(let expected): throw badValue(index, bytes, expected)
    }
  }

  /// `timestamp(_:)` through a cache of the last date read (`FieldParser.parseTimestamp(_:cache:)`).
  @inlinable
  public func timestamp(_ index: Int, cache: inout FieldParser.TimestampCache) throws(TabularError) -> Double? {
    guard let bytes = fieldBytes(index) else { return nil }
    switch FieldParser.parseTimestamp(bytes, cache: &cache) {
    case .value(let v): return v
    case .missing: return nil
    case .invalid(let expected): throw badValue(index, bytes, expected)
    }
  }

  @usableFromInline
  func badValue(_ index: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ expected: String) -> TabularError {
    error(atField: index, "expected \(expected), found \(quotedForMessage(bytes))")
  }

  /// True when field `index` holds exactly `bytes`.
  public func field(_ index: Int, equals bytes: [UInt8]) -> Bool {
    guard let field = fieldBytes(index), field.count == bytes.count else { return false }
    if field.count == 0 { return true }
    return bytes.withUnsafeBufferPointer { b in memcmp(field.baseAddress!, b.baseAddress!, b.count) == 0 }
  }
}
