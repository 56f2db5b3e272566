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
  /// Calls `body` with the raw bytes of field `index` (quotes removed, escapes resolved), or `nil` when
  /// the field is absent (NDJSON key missing or `null`, or past the end of a short CSV record).
  func withField<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws -> R) rethrows -> R
  /// The 1-based line and byte column at which field `index` starts, for messages.
  func place(ofField index: Int) -> (line: Int, column: Int)
  /// Fingerprint (size and XXH64) of every byte read so far.
  var fingerprint: DataFingerprint { get }
}

extension RecordReader {
  /// An error placed at field `index` of the current record: `file:line:column: column 'name': message`.
  public func error(atField index: Int, _ message: String, kind: TabularError.Kind = .badValue) -> TabularError {
    let name = index < header.names.count ? "column '\(header.names[index])': " : ""
    let (line, column) = place(ofField: index)
    return TabularError(kind, file: fileName, line: line, column: column, name + message)
  }

  /// True when field `index` is absent, empty, or only spaces.
  public func isMissing(_ index: Int) -> Bool {
    withField(index) { bytes in
      guard let bytes else { return true }
      let (lo, hi) = FieldParser.trimmed(bytes)
      return lo == hi
    }
  }

  /// Field `index` as text, or `nil` when absent.
  /// - Throws: `.malformedRecord` when the bytes are not valid UTF-8.
  public func string(_ index: Int) throws(TabularError) -> String? {
    let result: String?? = withField(index) { bytes in
      guard let bytes else { return .some(nil) }
      guard let s = String(validating: bytes, as: UTF8.self) else { return nil }
      return .some(s)
    }
    guard let result else {
      throw error(atField: index, "invalid UTF-8 bytes, expected UTF-8 text", kind: .malformedRecord)
    }
    return result
  }

  /// Field `index` as an integer, or `nil` when missing.
  /// - Throws: `.badValue` naming the column, the value found and what was expected.
  public func int(_ index: Int) throws(TabularError) -> Int? {
    try typed(index, FieldParser.parseInt)
  }

  /// Field `index` as a finite number, or `nil` when missing.
  /// - Throws: `.badValue` naming the column, the value found and what was expected.
  public func double(_ index: Int) throws(TabularError) -> Double? {
    try typed(index, FieldParser.parseDouble)
  }

  /// Field `index` as seconds since the Unix epoch (see `FieldParser.parseTimestamp`), or `nil` when missing.
  public func timestamp(_ index: Int) throws(TabularError) -> Double? {
    try typed(index, FieldParser.parseTimestamp)
  }

  @inline(__always)
  func typed<T>(_ index: Int, _ parse: (UnsafeBufferPointer<UInt8>) -> ParsedField<T>) throws(TabularError) -> T? {
    let outcome: Result<T?, TabularError> = withField(index) { bytes in
      guard let bytes else { return .success(nil) }
      switch parse(bytes) {
      case .value(let v): return .success(v)
      case .missing: return .success(nil)
      case .invalid(let expected):
        return .failure(error(atField: index, "expected \(expected), found \(quotedForMessage(bytes))"))
      }
    }
    return try outcome.get()
  }

  /// True when field `index` holds exactly `bytes`.
  public func field(_ index: Int, equals bytes: [UInt8]) -> Bool {
    withField(index) { field in
      guard let field, field.count == bytes.count else { return false }
      return bytes.withUnsafeBufferPointer { b in memcmp(field.baseAddress!, b.baseAddress!, b.count) == 0 }
    }
  }
}
