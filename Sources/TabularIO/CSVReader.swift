import CPlatform

/// A streaming RFC 4180 CSV reader that parses bytes in place.
///
/// Handles quoted fields with commas, doubled quotes and newlines, CRLF and LF (and lone CR) line ends,
/// a UTF-8 byte-order mark, a missing final newline and empty fields. Memory stays bounded by the
/// longest record, whatever the file's size. Blank lines are skipped unless asked otherwise.
///
/// ```swift
/// let reader = try CSVReader(path: "interactions.csv")
/// let user = try reader.header.require("user_id", file: reader.fileName)
/// while try reader.next() {
///   let value = try reader.double(user)
/// }
/// ```
public final class CSVReader: RecordReader {
  /// How the reader treats its input.
  public struct Options: Sendable {
    /// The field separator (default `,`).
    public var delimiter: UInt8 = UInt8(ascii: ",")
    /// Bytes read per system call (default 1 MiB).
    public var chunkBytes = 1 << 20
    /// The longest record accepted (default 64 MiB); a longer one is a `.malformedRecord` error.
    public var maximumRecordBytes = 64 << 20
    /// Whether every record must have as many fields as the header (default `true`).
    public var requireHeaderFieldCount = true
    /// Whether blank lines are skipped (default `true`); otherwise they are records of one empty field.
    public var skipBlankLines = true
    /// Whether a quoted field may span lines (default `true`, as RFC 4180 allows). A stream whose records are
    /// lines sets it to `false`: a quote not closed on its line then makes that one line malformed, and the
    /// next line is read normally, instead of the rest of the input being taken into one field.
    public var multilineFields = true
    /// Asked before each read of more input: once it returns `true`, the reader parses the records
    /// already buffered and then reports the end of input (a stream stopping on a signal; the process
    /// layer owns the signal and passes its flag here).
    public var stopRequested: (@Sendable () -> Bool)? = nil
    /// Whether the bytes read are hashed for `fingerprint`; a reader whose fingerprint is never asked for (a
    /// stream) can skip the work.
    public var fingerprint = true

    /// The default options.
    public init() {}

    /// The default options without hashing (`fingerprint` false), for a reader whose fingerprint is never asked.
    public static var unhashed: Options {
      var options = Options()
      options.fingerprint = false
      return options
    }
  }

  public private(set) var header: Header
  /// The header's field count, read per record without touching the header's array.
  @exclusivity(unchecked) private var headerFieldCount = 0
  public let fileName: String
  @usableFromInline let input: ByteInput
  private let options: Options

  // Hot state: exclusivity is checked by construction (one reader, no overlapping access).
  @usableFromInline @exclusivity(unchecked) private(set) var starts: UnsafeMutablePointer<Int>
  @usableFromInline @exclusivity(unchecked) private(set) var ends: UnsafeMutablePointer<Int>
  @exclusivity(unchecked) private var flags: UnsafeMutablePointer<UInt8>
  /// Whether the delimiter differs from the bytes that end an unquoted field's line or open a quoted field (so the
  /// sixteen-byte scan applies).
  private let plainDelimiter: Bool
  @exclusivity(unchecked) private var fieldCapacity: Int
  @exclusivity(unchecked) public private(set) var fieldCount = 0
  @exclusivity(unchecked) public private(set) var line = 0
  /// Buffer offset of the current record's first byte.
  @exclusivity(unchecked) private var recordStart = 0
  /// Buffer offset just past the current record's line end; −1 when its bytes are gone (an over-long record).
  @exclusivity(unchecked) private var recordEnd = -1
  /// Set by `scan` when a quoted field has doubled quotes (resolved in place, so the raw bytes are copied first).
  @exclusivity(unchecked) private var recordHasEscapes = false
  /// The raw bytes of the current record when its buffer bytes were rewritten by unescaping.
  @exclusivity(unchecked) private var rawCopy: [UInt8] = []
  @exclusivity(unchecked) private var rawCopied = false
  /// The header line's raw bytes, line end included (empty when the header was given).
  public private(set) var rawHeader: [UInt8] = []
  /// Receives, piece by piece, the bytes of a record too long to hold (from its first byte to its line end), as
  /// the reader skips it — so that a dead-letter file can still hold it exactly.
  public var skippedBytesSink: ((UnsafeBufferPointer<UInt8>) -> Void)? = nil
  /// Offsets of line breaks inside the current record's quoted fields (rare).
  @exclusivity(unchecked) private var innerNewlines: [Int] = []
  @exclusivity(unchecked) private var nextLine = 1

  private static let quoted: UInt8 = 1
  private static let escaped: UInt8 = 2
  private static let maximumFields = 1 << 20

  /// Opens the CSV file at `path` and reads its header line.
  /// - Throws: `.io` when it cannot be opened, `.empty` when it has no header line, `.malformedRecord`
  ///   for a malformed header.
  public convenience init(path: String, options: Options = Options()) throws(TabularError) {
    try self.init(
      input: ByteInput(path: path, chunkBytes: options.chunkBytes, maximumRecordBytes: options.maximumRecordBytes),
      options: options)
  }

  /// Reads the records in bytes `range` of the file at `path`, under a header read elsewhere (the range
  /// starts at a record boundary after the header). Line numbers count from the range's start.
  public convenience init(path: String, range: Range<Int>, header: Header, options: Options = Options())
    throws(TabularError)
  {
    try self.init(
      input: ByteInput(
        path: path, chunkBytes: options.chunkBytes, maximumRecordBytes: options.maximumRecordBytes, range: range),
      options: options, header: header)
  }

  /// Reads CSV from an open descriptor such as standard input (`0`), which it does not close.
  public convenience init(fileDescriptor: Int32, name: String = "<stdin>", options: Options = Options())
    throws(TabularError)
  {
    try self.init(
      input: ByteInput(
        fileDescriptor: fileDescriptor, name: name, chunkBytes: options.chunkBytes,
        maximumRecordBytes: options.maximumRecordBytes),
      options: options)
  }

  /// Reads header-less CSV from the file at `path` (`-`: standard input) under `header`: every line is a record.
  public convenience init(path: String, header: Header, options: Options = Options()) throws(TabularError) {
    let input: ByteInput
    if path == "-" {
      input = ByteInput(
        fileDescriptor: 0, name: "<stdin>", chunkBytes: options.chunkBytes,
        maximumRecordBytes: options.maximumRecordBytes)
    } else {
      input = try ByteInput(path: path, chunkBytes: options.chunkBytes, maximumRecordBytes: options.maximumRecordBytes)
    }
    try self.init(input: input, options: options, header: header)
  }

  /// Reads CSV held in memory; `options.chunkBytes` still sets the read size, so tests can force
  /// records to straddle reads.
  public convenience init(bytes: [UInt8], name: String = "<memory>", options: Options = Options())
    throws(TabularError)
  {
    try self.init(
      input: ByteInput(
        bytes: bytes, name: name, chunkBytes: options.chunkBytes, maximumRecordBytes: options.maximumRecordBytes),
      options: options)
  }

  private init(input: ByteInput, options: Options, header given: Header? = nil) throws(TabularError) {
    self.input = input
    input.fingerprinting = options.fingerprint
    input.stopRequested = options.stopRequested
    self.options = options
    self.fileName = input.name
    plainDelimiter = ![0x0A, 0x0D, 0x22].contains(options.delimiter)
    fieldCapacity = 64
    starts = .allocate(capacity: fieldCapacity)
    ends = .allocate(capacity: fieldCapacity)
    flags = .allocate(capacity: fieldCapacity)
    header = Header([])
    if let given {
      header = given
      headerFieldCount = given.names.count
      return
    }
    // Skip a UTF-8 byte-order mark.
    while input.end - input.start < 3, try input.refill(keepFrom: input.start) != nil {}
    if input.end - input.start >= 3, input.buffer[0] == 0xEF, input.buffer[1] == 0xBB, input.buffer[2] == 0xBF {
      input.start = 3
    }
    guard try readRecord(requireCount: nil, skipBlank: true) else {
      throw TabularError(.empty, file: fileName, line: 1, "the file is empty; expected a header line")
    }
    withRawRecord { raw in rawHeader = raw.map { Array($0) } ?? [] }
    var names: [String] = []
    for i in 0..<fieldCount {
      guard let name = try string(i) else { break }
      names.append(name)
    }
    header = Header(names)
    headerFieldCount = names.count
  }

  deinit {
    starts.deallocate()
    ends.deallocate()
    flags.deallocate()
  }

  public var fingerprint: DataFingerprint {
    precondition(options.fingerprint, "the fingerprint of a reader opened without fingerprinting")
    return input.fingerprint
  }

  /// Lines consumed so far (header and blank lines included).
  public var linesRead: Int { nextLine - 1 }

  /// The file offset of the first byte not yet parsed.
  public var byteOffset: Int { input.dropped + input.start }

  /// True when little input is buffered and none is waiting (a pipe or terminal): the moment to flush output
  /// before asking for more. Checked cheaply: the descriptor is polled only when under 4 KiB is buffered.
  public var wouldBlock: Bool { input.end - input.start < 4096 && input.wouldBlock }

  public var hasBufferedLine: Bool { input.hasBufferedLine }

  public func next() throws(TabularError) -> Bool {
    try readRecord(
      requireCount: options.requireHeaderFieldCount ? headerFieldCount : nil, skipBlank: options.skipBlankLines)
  }

  public func withRawRecord<R>(_ body: (UnsafeBufferPointer<UInt8>?) throws -> R) rethrows -> R {
    if rawCopied { return try rawCopy.withUnsafeBufferPointer { try body($0) } }
    guard recordEnd >= recordStart, recordStart >= 0, recordEnd <= input.end else { return try body(nil) }
    return try body(UnsafeBufferPointer(start: input.buffer + recordStart, count: recordEnd - recordStart))
  }

  @inlinable
  public func fieldBytes(_ index: Int) -> UnsafeBufferPointer<UInt8>? {
    guard index >= 0, index < fieldCount else { return nil }
    return UnsafeBufferPointer(start: input.buffer + starts[index], count: ends[index] - starts[index])
  }

  public func place(ofField index: Int) -> (line: Int, column: Int) {
    guard index >= 0, index < fieldCount else { return place(ofOffset: recordEndOffset) }
    let raw = flags[index] & CSVReader.quoted != 0 ? starts[index] - 1 : starts[index]
    return place(ofOffset: raw)
  }

  private var recordEndOffset: Int { fieldCount > 0 ? ends[fieldCount - 1] : recordStart }

  private func place(ofOffset offset: Int) -> (line: Int, column: Int) {
    var lineStart = recordStart
    var l = line
    for nl in innerNewlines where nl < offset {
      l += 1
      lineStart = nl + 1
    }
    return (l, offset - lineStart + 1)
  }

  // MARK: - Parsing

  private enum Scan {
    case record(end: Int, lines: Int)
    case needMore
    case endOfInput
    case unterminatedQuote(opening: Int)
    /// A quoted field not closed on its line (when fields may not span lines); the line ends before `next`.
    case unclosedOnLine(opening: Int, next: Int)
  }

  private func readRecord(requireCount: Int?, skipBlank: Bool) throws(TabularError) -> Bool {
    while true {
      let from = input.start
      switch scan(from) {
      case .record(let end, let lines):
        input.start = end
        line = nextLine
        nextLine += lines
        recordStart = from
        recordEnd = end
        rawCopied = false
        if skipBlank && fieldCount == 1 && ends[0] == starts[0] && flags[0] == 0 { continue }
        if recordHasEscapes {
          rawCopy.removeAll(keepingCapacity: true)
          rawCopy.append(contentsOf: UnsafeBufferPointer(start: input.buffer + from, count: end - from))
          rawCopied = true
          unescapeQuotedFields()
        }
        if let expected = requireCount, fieldCount != expected {
          let at = fieldCount > expected ? place(ofField: expected) : place(ofOffset: recordEndOffset)
          throw TabularError(
            .malformedRecord, file: fileName, line: at.line, column: at.column,
            "expected \(expected) fields as in the header, found \(fieldCount)")
        }
        return true
      case .endOfInput:
        fieldCount = 0
        recordEnd = -1
        rawCopied = false
        return false
      case .needMore:
        do {
          _ = try input.refill(keepFrom: from)
        } catch let error where error.kind == .malformedRecord {
          let failedLine = nextLine
          line = failedLine
          fieldCount = 0
          recordEnd = -1
          rawCopied = false
          try skipOverlongRecord()
          throw TabularError(.malformedRecord, file: fileName, line: failedLine, error.message)
        }
      case .unclosedOnLine(let opening, let next):
        recordStart = from
        recordEnd = next
        rawCopied = false
        line = nextLine
        nextLine += 1
        innerNewlines.removeAll(keepingCapacity: true)
        let at = place(ofOffset: opening)
        input.start = next
        fieldCount = 0
        throw TabularError(
          .malformedRecord, file: fileName, line: at.line, column: at.column,
          "a quoted field is not closed on its line; expected a closing '\"'", cause: .unterminatedQuote)
      case .unterminatedQuote(let opening):
        recordStart = from
        recordEnd = input.end
        rawCopied = false
        line = nextLine
        let at = place(ofOffset: opening)
        input.start = input.end
        fieldCount = 0
        throw TabularError(
          .malformedRecord, file: fileName, line: at.line, column: at.column,
          "a quoted field is not closed before the end of the input; expected a closing '\"'",
          cause: .unterminatedQuote)
      }
    }
  }

  /// Drops bytes up to and including the next line feed after an over-long record (passing them to
  /// `skippedBytesSink`).
  private func skipOverlongRecord() throws(TabularError) {
    while true {
      let buf = input.buffer
      var p = input.start
      while p < input.end, buf[p] != 0x0A { p += 1 }
      if p < input.end {
        skippedBytesSink?(UnsafeBufferPointer(start: buf + input.start, count: p + 1 - input.start))
        input.start = p + 1
        nextLine += 1
        return
      }
      skippedBytesSink?(UnsafeBufferPointer(start: buf + input.start, count: input.end - input.start))
      input.start = input.end
      if try input.refill(keepFrom: input.start) == nil { return }
    }
  }

  private func growFields() {
    let newCapacity = fieldCapacity * 2
    let s = UnsafeMutablePointer<Int>.allocate(capacity: newCapacity)
    let e = UnsafeMutablePointer<Int>.allocate(capacity: newCapacity)
    let f = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
    s.update(from: starts, count: fieldCount)
    e.update(from: ends, count: fieldCount)
    f.update(from: flags, count: fieldCount)
    starts.deallocate()
    ends.deallocate()
    flags.deallocate()
    starts = s
    ends = e
    flags = f
    fieldCapacity = newCapacity
  }

  /// Finds the record starting at `from`; fills the field spans.
  private func scan(_ from: Int) -> Scan {
    let buf = input.buffer
    let end = input.end
    let eof = input.atEOF
    let delimiter = options.delimiter
    let delimiterWord = UInt64(delimiter) &* 0x0101_0101_0101_0101
    var p = from
    if p == end { return eof ? .endOfInput : .needMore }
    fieldCount = 0
    if !innerNewlines.isEmpty { innerNewlines.removeAll(keepingCapacity: true) }
    recordHasEscapes = false
    // Most records are one line of unquoted fields: found sixteen bytes at a time; anything else (a quote, a line
    // end too near the buffer's end, more fields than there is room for) is scanned again below, byte by byte.
    if plainDelimiter, let plain = scanPlainLine(from) { return plain }
    let multiline = options.multilineFields
    var lines = 1
    while true {
      if fieldCount == fieldCapacity {
        if fieldCapacity >= CSVReader.maximumFields { return .record(end: end, lines: lines) }
        growFields()
      }
      let fieldIndex = fieldCount
      if p < end && buf[p] == 0x22 {
        // Quoted field.
        let opening = p
        p += 1
        let contentStart = p
        var flag = CSVReader.quoted
        while true {
          while p < end {
            let c = buf[p]
            if c == 0x22 { break }
            if c == 0x0A {
              if !multiline { return .unclosedOnLine(opening: opening, next: p + 1) }
              innerNewlines.append(p)
              lines += 1
            } else if c == 0x0D && (p + 1 == end || buf[p + 1] != 0x0A) {
              if p + 1 == end && !eof { return .needMore }
              if !multiline { return .unclosedOnLine(opening: opening, next: p + 1) }
              innerNewlines.append(p)
              lines += 1
            }
            p += 1
          }
          if p == end { return eof ? .unterminatedQuote(opening: opening) : .needMore }
          // p is at a quote: doubled, or closing.
          if p + 1 < end && buf[p + 1] == 0x22 {
            flag |= CSVReader.escaped
            recordHasEscapes = true
            p += 2
            continue
          }
          if p + 1 == end && !eof { return .needMore }
          break
        }
        starts[fieldIndex] = contentStart
        ends[fieldIndex] = p
        flags[fieldIndex] = flag
        fieldCount += 1
        p += 1
        // Bytes after the closing quote up to the delimiter are kept literally (lenient, as Python's csv).
        if p < end, buf[p] != delimiter, buf[p] != 0x0A, buf[p] != 0x0D {
          while p < end, buf[p] != delimiter, buf[p] != 0x0A, buf[p] != 0x0D { p += 1 }
          if p == end && !eof { return .needMore }
          recordHasEscapes = true
          flags[fieldIndex] = CSVReader.quoted | CSVReader.escaped | 4
          ends[fieldIndex] = p
        }
      } else {
        let s = p
        // Eight bytes at a time up to the first delimiter or line end, then byte by byte.
        while p + 8 <= end {
          let w = UInt64(littleEndian: UnsafeRawPointer(buf + p).loadUnaligned(as: UInt64.self))
          let hit =
            CSVReader.zeroBytes(w ^ delimiterWord) | CSVReader.zeroBytes(w ^ 0x0A0A_0A0A_0A0A_0A0A)
            | CSVReader.zeroBytes(w ^ 0x0D0D_0D0D_0D0D_0D0D)
          if hit != 0 {
            p += hit.trailingZeroBitCount >> 3
            break
          }
          p += 8
        }
        while p < end {
          let c = buf[p]
          if c == delimiter || c == 0x0A || c == 0x0D { break }
          p += 1
        }
        if p == end && !eof { return .needMore }
        starts[fieldIndex] = s
        ends[fieldIndex] = p
        flags[fieldIndex] = 0
        fieldCount += 1
      }
      // p is at a delimiter, a line end, or the end of input.
      if p == end { return .record(end: end, lines: lines) }
      let c = buf[p]
      if c == delimiter {
        p += 1
        if p == end {
          if !eof { return .needMore }
          // A trailing delimiter at end of input: one more, empty field.
          if fieldCount == fieldCapacity { growFields() }
          starts[fieldCount] = p
          ends[fieldCount] = p
          flags[fieldCount] = 0
          fieldCount += 1
          return .record(end: end, lines: lines)
        }
        continue
      }
      if c == 0x0D {
        if p + 1 == end && !eof { return .needMore }
        if p + 1 < end && buf[p + 1] == 0x0A { return .record(end: p + 2, lines: lines) }
        return .record(end: p + 1, lines: lines)
      }
      return .record(end: p + 1, lines: lines)
    }
  }

  /// The record starting at `from` when it is one line of unquoted fields ending (in LF, CRLF or a lone CR) at
  /// least sixteen bytes before the buffered input's end and there is room for its fields; else nil, with
  /// `fieldCount` untouched. The fields are those `scan` finds.
  @inline(__always)
  private func scanPlainLine(_ from: Int) -> Scan? {
    let buf = input.buffer
    let end = input.end
    let delimiter = options.delimiter
    let capacity = fieldCapacity
    let (starts, ends, flags) = (self.starts, self.ends, self.flags)
    var p = from
    var fieldStart = from
    var count = 0
    while p &+ 16 <= end {
      let masks = cml_csv_masks16(buf + p, delimiter)
      var delimiters = masks & 0xFFFF
      let stops = masks >> 16
      if stops != 0 {
        // Only the delimiters before the first line end or quote belong to this record's unquoted fields.
        delimiters &= (1 << UInt32(stops.trailingZeroBitCount)) &- 1
      }
      while delimiters != 0 {
        guard count < capacity else { return nil }
        let at = p &+ delimiters.trailingZeroBitCount
        starts[count] = fieldStart
        ends[count] = at
        flags[count] = 0
        count &+= 1
        fieldStart = at &+ 1
        delimiters &= delimiters &- 1
      }
      if stops != 0 {
        let at = p &+ stops.trailingZeroBitCount
        let recordEnd: Int
        switch buf[at] {
        case 0x0A: recordEnd = at &+ 1
        case 0x0D:
          guard at &+ 1 < end else { return nil }
          recordEnd = buf[at &+ 1] == 0x0A ? at &+ 2 : at &+ 1
        default: return nil  // a quote
        }
        guard count < capacity else { return nil }
        starts[count] = fieldStart
        ends[count] = at
        flags[count] = 0
        fieldCount = count &+ 1
        return .record(end: recordEnd, lines: 1)
      }
      p &+= 16
    }
    return nil
  }

  /// The high bit of each byte of `x` below its first zero byte is clear, and that byte's high bit is set
  /// (bytes above it may be set too): `trailingZeroBitCount / 8` is the index of the first zero byte.
  @inline(__always)
  static func zeroBytes(_ x: UInt64) -> UInt64 { (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080 }

  /// Resolves doubled quotes in place, and re-joins text that followed a closing quote.
  private func unescapeQuotedFields() {
    let buf = input.buffer
    for i in 0..<fieldCount where flags[i] & CSVReader.escaped != 0 {
      var read = starts[i]
      var write = starts[i]
      let end = ends[i]
      var inQuotes = true
      while read < end {
        let c = buf[read]
        if c == 0x22 {
          if inQuotes && read + 1 < end && buf[read + 1] == 0x22 {
            buf[write] = 0x22
            write += 1
            read += 2
            continue
          }
          inQuotes.toggle()
          read += 1
          continue
        }
        buf[write] = c
        write += 1
        read += 1
      }
      ends[i] = write
      flags[i] = CSVReader.quoted
    }
  }
}
