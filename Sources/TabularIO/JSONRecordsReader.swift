/// The records of one JSON document — a flat object, or an array of flat objects — as a `RecordReader`, so that the
/// readers' typed access (and every validation built on it) serves a request body exactly as it serves a file.
///
/// Values are laid out as in `NDJSONReader`: in the order of the columns asked for; a key missing or `null` is an
/// absent field; keys not asked for are ignored whatever they hold; strings are unescaped (`\uXXXX` and surrogate
/// pairs included); numbers, `true` and `false` are kept as their text. A nested object or array as the value of a key
/// that is read, a key given twice, or anything that is not JSON makes the document malformed: the whole document is
/// parsed when the reader is made, so that nothing of a malformed one is acted on. A record's `line` is its 1-based
/// position in the array (1 for a single object); `place(ofField:)` gives that and column 1.
public final class JSONRecordsReader: RecordReader {
  public let header: Header
  public let fileName: String
  /// Whether the document was an array (else a single object, served as one record).
  public let isArray: Bool
  /// The number of records.
  public var count: Int { parsed.records }
  public private(set) var line = 0
  public var skippedBytesSink: ((UnsafeBufferPointer<UInt8>) -> Void)? = nil
  /// Not kept for a body (always that of no bytes).
  public var fingerprint: DataFingerprint { DataFingerprint(XXHash64()) }
  public var fieldCount: Int { header.names.count }
  public var hasBufferedLine: Bool { true }

  private let parsed: Parsed
  private let columns: Int

  /// Every record's fields: `starts`/`ends` per record and column into `storage`; -1 for an absent field.
  private struct Parsed {
    var starts: [Int] = []
    var ends: [Int] = []
    var storage: [UInt8] = []
    var records = 0
    var isArray = false
  }

  /// The keys a reader reads, prepared once: a server makes one per route and parses every body with it.
  public struct Keys: Sendable {
    /// The keys as the reader's header (one column per key, in their order).
    public let header: Header
    /// Each key's UTF-8 bytes, and the column it fills (a key given twice in `columns` fills its first column).
    let bytes: [[UInt8]]
    let column: [Int]

    public init(_ columns: [String]) {
      header = Header(columns)
      var bytes: [[UInt8]] = []
      var column: [Int] = []
      for (i, c) in columns.enumerated() where !bytes.contains(Array(c.utf8)) {
        bytes.append(Array(c.utf8))
        column.append(i)
      }
      self.bytes = bytes
      self.column = column
    }

    /// The column of the key `key` (a linear scan: a few short keys compare faster than they hash).
    @inline(__always)
    func column(of key: [UInt8]) -> Int? {
      for k in bytes.indices where bytes[k].count == key.count && bytes[k] == key { return column[k] }
      return nil
    }
  }

  /// Parses `bytes`, reading the keys `columns`, at most `maximumRecords` records.
  /// - Throws: `TabularError(.malformedRecord)` naming the place (the byte offset, and the record) of the first
  ///   problem; `.empty` for an empty document.
  public convenience init(
    bytes: UnsafeRawBufferPointer, name: String = "body", columns: [String], maximumRecords: Int = .max
  ) throws(TabularError) {
    try self.init(bytes: bytes, name: name, keys: Keys(columns), maximumRecords: maximumRecords)
  }

  /// Parses `bytes`, reading `keys`, at most `maximumRecords` records (see `init(bytes:name:columns:maximumRecords:)`).
  public init(bytes: UnsafeRawBufferPointer, name: String = "body", keys: Keys, maximumRecords: Int = .max)
    throws(TabularError)
  {
    fileName = name
    header = keys.header
    columns = keys.header.names.count
    parsed = try Self.parse(bytes, name: name, keys: keys, maximumRecords: maximumRecords)
    isArray = parsed.isArray
  }

  /// Goes back before the first record.
  public func rewind() { line = 0 }

  public func next() throws(TabularError) -> Bool {
    guard line < parsed.records else { return false }
    line += 1
    return true
  }

  public func fieldBytes(_ index: Int) -> UnsafeBufferPointer<UInt8>? {
    guard line >= 1, index >= 0, index < columns else { return nil }
    let k = (line - 1) * columns + index
    let s = parsed.starts[k]
    guard s >= 0 else { return nil }
    return parsed.storage.withUnsafeBufferPointer { UnsafeBufferPointer(rebasing: $0[s..<parsed.ends[k]]) }
  }

  public func place(ofField index: Int) -> (line: Int, column: Int) { (line, 1) }

  public func withRawRecord<R>(_ body: (UnsafeBufferPointer<UInt8>?) throws -> R) rethrows -> R { try body(nil) }

  private static func parse(_ bytes: UnsafeRawBufferPointer, name: String, keys: Keys, maximumRecords: Int)
    throws(TabularError) -> Parsed
  {
    let columns = keys.header.names
    var out = Parsed()
    out.storage.reserveCapacity(min(bytes.count, 1 << 16))
    var parser = Parser(bytes: bytes, name: name)
    parser.skipBlanks()
    guard parser.i < bytes.count else { throw TabularError(.empty, file: name, "the body is empty; expected JSON") }
    if bytes[parser.i] == UInt8(ascii: "[") {
      out.isArray = true
      parser.i += 1
      parser.skipBlanks()
      if parser.peek == UInt8(ascii: "]") {
        parser.i += 1
      } else {
        while true {
          guard out.records < maximumRecords else {
            throw TabularError(.malformedRecord, file: name, "more than \(maximumRecords) records in one body")
          }
          try parseObject(&parser, into: &out, keys: keys, columns: columns.count)
          parser.skipBlanks()
          if parser.peek == UInt8(ascii: ",") {
            parser.i += 1
            parser.skipBlanks()
            continue
          }
          guard parser.peek == UInt8(ascii: "]") else { throw parser.error("expected ',' or ']' after a record") }
          parser.i += 1
          break
        }
      }
    } else {
      try parseObject(&parser, into: &out, keys: keys, columns: columns.count)
    }
    parser.skipBlanks()
    guard parser.i == bytes.count else { throw parser.error("unexpected bytes after the JSON value") }
    return out
  }

  private static func parseObject(
    _ parser: inout Parser, into out: inout Parsed, keys: Keys, columns: Int
  ) throws(TabularError) {
    let base = out.starts.count
    out.starts.append(contentsOf: repeatElement(-1, count: columns))
    out.ends.append(contentsOf: repeatElement(-1, count: columns))
    // The keys met in this object: a bit each (one word covers every route's keys), an array beyond 64.
    var givenBits: UInt64 = 0
    var givenMore = columns > 64 ? [Bool](repeating: false, count: columns) : []
    out.records += 1
    let record = out.records
    guard parser.peek == UInt8(ascii: "{") else {
      throw parser.error(
        out.isArray ? "record \(record): expected an object" : "expected an object or an array of objects")
    }
    parser.i += 1
    parser.skipBlanks()
    if parser.peek == UInt8(ascii: "}") {
      parser.i += 1
      return
    }
    var key: [UInt8] = []
    while true {
      guard parser.peek == UInt8(ascii: "\"") else { throw parser.error("record \(record): expected a key") }
      key.removeAll(keepingCapacity: true)
      try parser.string(into: &key)
      parser.skipBlanks()
      guard parser.peek == UInt8(ascii: ":") else { throw parser.error("record \(record): expected ':' after a key") }
      parser.i += 1
      parser.skipBlanks()
      if let column = keys.column(of: key) {
        var shown: String { String(decoding: key, as: UTF8.self) }
        let twice: Bool
        if column < 64 {
          twice = givenBits & (1 << UInt64(column)) != 0
          givenBits |= 1 << UInt64(column)
        } else {
          twice = givenMore[column]
          givenMore[column] = true
        }
        guard !twice else { throw parser.error("record \(record): the key '\(shown)' is given twice") }
        let c = parser.peek
        if c == UInt8(ascii: "\"") {
          let start = out.storage.count
          try parser.string(into: &out.storage)
          out.starts[base + column] = start
          out.ends[base + column] = out.storage.count
        } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
          throw parser.error(
            "record \(record): the value of '\(shown)' is an \(c == UInt8(ascii: "{") ? "object" : "array"); expected a string, a number, true, false or null"
          )
        } else {
          let (lo, hi, isNull) = try parser.scalar()
          if !isNull {
            let start = out.storage.count
            out.storage.append(contentsOf: parser.bytes[lo..<hi])
            out.starts[base + column] = start
            out.ends[base + column] = out.storage.count
          }
        }
      } else {
        try parser.skipValue(depth: 0)
      }
      parser.skipBlanks()
      if parser.peek == UInt8(ascii: ",") {
        parser.i += 1
        parser.skipBlanks()
        continue
      }
      guard parser.peek == UInt8(ascii: "}") else {
        throw parser.error("record \(record): expected ',' or '}' after a value")
      }
      parser.i += 1
      return
    }
  }

  /// A cursor over the document's bytes.
  private struct Parser {
    let bytes: UnsafeRawBufferPointer
    let name: String
    var i = 0

    init(bytes: UnsafeRawBufferPointer, name: String) {
      self.bytes = bytes
      self.name = name
    }

    var peek: UInt8 { i < bytes.count ? bytes[i] : 0 }

    func error(_ message: String) -> TabularError {
      TabularError(.malformedRecord, file: name, "not valid JSON at byte \(i): \(message)")
    }

    mutating func skipBlanks() {
      while i < bytes.count {
        let c = bytes[i]
        guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
        i += 1
      }
    }

    /// A number, `true`, `false` or `null`: its byte range, and whether it is `null`.
    mutating func scalar() throws(TabularError) -> (Int, Int, Bool) {
      let start = i
      let word: StaticString? =
        switch peek {
        case UInt8(ascii: "t"): "true"
        case UInt8(ascii: "f"): "false"
        case UInt8(ascii: "n"): "null"
        default: nil
        }
      if let word {
        guard matches(word) else { throw error("expected a value") }
        i += word.utf8CodeUnitCount
        return (start, i, bytes[start] == UInt8(ascii: "n"))
      }
      // A number as JSON writes it: -? digits (. digits)? ([eE] [+-]? digits)?
      if peek == UInt8(ascii: "-") { i += 1 }
      let digits = i
      while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
      guard i > digits else { throw error("expected a value") }
      if peek == UInt8(ascii: ".") {
        i += 1
        let f = i
        while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
        guard i > f else { throw error("expected digits after '.'") }
      }
      if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
        i += 1
        if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
        let e = i
        while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
        guard i > e else { throw error("expected digits in the exponent") }
      }
      return (start, i, false)
    }

    func matches(_ word: StaticString) -> Bool {
      let n = word.utf8CodeUnitCount
      guard i + n <= bytes.count else { return false }
      let w = word.utf8Start
      for k in 0..<n where bytes[i + k] != w[k] { return false }
      return true
    }

    /// A string at `i` (its opening quote), unescaped onto `out`.
    mutating func string(into out: inout [UInt8]) throws(TabularError) {
      i += 1
      while true {
        guard i < bytes.count else { throw error("a string is not closed") }
        let c = bytes[i]
        if c == UInt8(ascii: "\"") {
          i += 1
          return
        }
        if c < 0x20 { throw error("a control character inside a string (escape it)") }
        if c != UInt8(ascii: "\\") {
          out.append(c)
          i += 1
          continue
        }
        do throws(JSONEscape.Failure) {
          try JSONEscape.decode(bytes, at: &i, into: &out)
        } catch {
          switch error {
          case .cutShort: throw self.error("a string is not closed")
          case .hexDigits: throw self.error("a \\u escape needs four hex digits")
          case .loneSurrogate: throw self.error("a lone surrogate in a \\u escape")
          case .unknown(let e, _): throw self.error("an unknown escape '\\\(Character(Unicode.Scalar(e)))'")
          }
        }
      }
    }

    /// Skips any JSON value (of a key that is not read), nesting at most 64 deep.
    mutating func skipValue(depth: Int) throws(TabularError) {
      guard depth < 64 else { throw error("values nested more than 64 deep") }
      var scratch: [UInt8] = []
      switch peek {
      case UInt8(ascii: "\""): try string(into: &scratch)
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        let close = peek == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
        let object = close == UInt8(ascii: "}")
        i += 1
        skipBlanks()
        if peek == close {
          i += 1
          return
        }
        while true {
          if object {
            guard peek == UInt8(ascii: "\"") else { throw error("expected a key") }
            try string(into: &scratch)
            skipBlanks()
            guard peek == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
            i += 1
            skipBlanks()
          }
          try skipValue(depth: depth + 1)
          skipBlanks()
          if peek == UInt8(ascii: ",") {
            i += 1
            skipBlanks()
            continue
          }
          guard peek == close else { throw error("expected ',' or '\(Character(Unicode.Scalar(close)))'") }
          i += 1
          return
        }
      default: _ = try scalar()
      }
    }
  }
}
