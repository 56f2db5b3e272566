/// A streaming reader of newline-delimited JSON: one flat JSON object per line.
///
/// Each line's values are laid out as fields in the order of `header` (the columns asked for, or the
/// keys of the first object), so the same typed access works as for CSV. A key that is missing or
/// `null` is an absent field; keys not in the header are ignored. Strings are unescaped (including
/// `\uXXXX` and surrogate pairs); numbers, `true` and `false` are kept as their text. A nested object or array
/// as the value of a key that is read, or a key given twice, makes the line malformed (a key that is not read may
/// hold anything). Blank lines are skipped.
public final class NDJSONReader: RecordReader {
  public private(set) var header: Header
  public let fileName: String
  private let input: ByteInput
  private var positions: [String: Int]
  /// Per field: start and end in `scratch`, or -1 for absent.
  private var starts: [Int]
  private var ends: [Int]
  /// The fields given on the current line (a `null` included): a key read twice is ambiguous, never
  /// last-one-wins. Reset per line, kept between lines (no allocation per line).
  private var given: [Bool]
  private var keyColumns: [Int]
  private var scratch: [UInt8] = []
  public private(set) var line = 0
  private var nextLine = 1
  private var lineStart = 0
  private var lineBytes: [UInt8] = []
  /// The raw bytes of the current line, line end included (empty when its bytes are gone: an over-long line).
  private var rawLine: [UInt8] = []
  /// Receives, piece by piece, the bytes of a line too long to hold, as the reader skips it.
  public var skippedBytesSink: ((UnsafeBufferPointer<UInt8>) -> Void)? = nil
  private var firstObjectPending: Bool

  /// Opens `path`. With `columns` `nil`, the keys of the first object become the header.
  public convenience init(
    path: String, columns: [String]? = nil, maximumLineBytes: Int = 64 << 20
  ) throws(TabularError) {
    try self.init(
      input: ByteInput(path: path, chunkBytes: 1 << 20, maximumRecordBytes: maximumLineBytes), columns: columns)
  }

  /// Reads an open descriptor such as standard input (`0`), which it does not close.
  public convenience init(
    fileDescriptor: Int32, name: String = "<stdin>", columns: [String]? = nil, maximumLineBytes: Int = 64 << 20
  ) throws(TabularError) {
    try self.init(
      input: ByteInput(
        fileDescriptor: fileDescriptor, name: name, chunkBytes: 1 << 20, maximumRecordBytes: maximumLineBytes),
      columns: columns)
  }

  /// Reads NDJSON held in memory.
  public convenience init(
    bytes: [UInt8], name: String = "<memory>", columns: [String]? = nil, chunkBytes: Int = 1 << 20,
    maximumLineBytes: Int = 64 << 20
  ) throws(TabularError) {
    try self.init(
      input: ByteInput(bytes: bytes, name: name, chunkBytes: chunkBytes, maximumRecordBytes: maximumLineBytes),
      columns: columns)
  }

  private init(input: ByteInput, columns: [String]?) throws(TabularError) {
    self.input = input
    self.fileName = input.name
    header = Header(columns ?? [])
    positions = [:]
    for (i, name) in (columns ?? []).enumerated() where positions[name] == nil { positions[name] = i }
    starts = Array(repeating: -1, count: columns?.count ?? 0)
    ends = starts
    given = Array(repeating: false, count: starts.count)
    keyColumns = []
    firstObjectPending = columns == nil
    if columns == nil {
      // Read the first object to learn the keys; it is then served by the first `next()`.
      guard try readLine() else {
        throw TabularError(.empty, file: fileName, line: 1, "the input is empty; expected a JSON object per line")
      }
      try parseLine(learnKeys: true)
    }
  }

  public var fingerprint: DataFingerprint { input.fingerprint }

  /// Asked before each read of more input: once it returns `true`, the lines already buffered are read and then
  /// the end of input is reported (a stream stopping on a signal).
  public var stopRequested: (@Sendable () -> Bool)? {
    get { input.stopRequested }
    set { input.stopRequested = newValue }
  }

  public func withRawRecord<R>(_ body: (UnsafeBufferPointer<UInt8>?) throws -> R) rethrows -> R {
    if rawLine.isEmpty { return try body(nil) }
    return try rawLine.withUnsafeBufferPointer { try body($0) }
  }

  public var fieldCount: Int { header.names.count }

  /// True when no more input is waiting and reading would block.
  public var wouldBlock: Bool { input.end - input.start < 4096 && input.wouldBlock }

  public var hasBufferedLine: Bool { input.hasBufferedLine }

  public func next() throws(TabularError) -> Bool {
    if firstObjectPending {
      firstObjectPending = false
      return true
    }
    guard try readLine() else { return false }
    try parseLine(learnKeys: false)
    return true
  }

  public func fieldBytes(_ index: Int) -> UnsafeBufferPointer<UInt8>? {
    guard index >= 0, index < starts.count, starts[index] >= 0 else { return nil }
    if starts[index] == ends[index] { return UnsafeBufferPointer(start: fieldStorage, count: 0) }
    return UnsafeBufferPointer(start: fieldStorage + starts[index], count: ends[index] - starts[index])
  }

  /// A stable copy of `scratch` made after each line is parsed, so that field buffers outlive the call.
  private var fieldStorage: UnsafeMutablePointer<UInt8> = .allocate(capacity: 256)
  private var fieldStorageCapacity = 256

  private func publishScratch() {
    if scratch.count > fieldStorageCapacity {
      fieldStorage.deallocate()
      fieldStorageCapacity = max(scratch.count, fieldStorageCapacity * 2)
      fieldStorage = .allocate(capacity: fieldStorageCapacity)
    }
    scratch.withUnsafeBufferPointer { s in
      if let base = s.baseAddress { fieldStorage.update(from: base, count: s.count) }
    }
  }

  deinit { fieldStorage.deallocate() }

  /// The line's start: NDJSON values are not tracked to a column, so every field reports column 1
  /// unless a parse error says otherwise.
  public func place(ofField index: Int) -> (line: Int, column: Int) { (line, 1) }

  /// Reads the next non-blank line into `lineBytes`.
  private func readLine() throws(TabularError) -> Bool {
    while true {
      let buf = input.buffer
      var p = input.start
      while p < input.end, buf[p] != 0x0A { p += 1 }
      if p < input.end || (input.atEOF && input.start < input.end) {
        var e = p
        if e > input.start && buf[e - 1] == 0x0D { e -= 1 }
        lineBytes.removeAll(keepingCapacity: true)
        lineBytes.append(contentsOf: UnsafeBufferPointer(start: buf + input.start, count: e - input.start))
        rawLine.removeAll(keepingCapacity: true)
        rawLine.append(
          contentsOf: UnsafeBufferPointer(start: buf + input.start, count: (p < input.end ? p + 1 : p) - input.start))
        input.start = p < input.end ? p + 1 : p
        line = nextLine
        nextLine += 1
        if lineBytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
        return true
      }
      if input.atEOF { return false }
      do {
        _ = try input.refill(keepFrom: input.start)
      } catch let error where error.kind == .malformedRecord {
        let failed = nextLine
        line = failed
        rawLine.removeAll(keepingCapacity: true)
        // Skip the rest of the over-long line.
        skippedBytesSink?(UnsafeBufferPointer(start: input.buffer + input.start, count: input.end - input.start))
        while true {
          input.start = input.end
          guard try input.refill(keepFrom: input.start) != nil else { break }
          let b = input.buffer
          var q = input.start
          while q < input.end, b[q] != 0x0A { q += 1 }
          skippedBytesSink?(
            UnsafeBufferPointer(start: b + input.start, count: (q < input.end ? q + 1 : q) - input.start))
          if q < input.end {
            input.start = q + 1
            break
          }
        }
        nextLine += 1
        throw TabularError(.malformedRecord, file: fileName, line: failed, error.message)
      }
    }
  }

  private func fail(_ column: Int, _ message: String) -> TabularError {
    TabularError(.malformedRecord, file: fileName, line: line, column: column + 1, message)
  }

  private func parseLine(learnKeys: Bool) throws(TabularError) {
    guard String(validating: lineBytes, as: UTF8.self) != nil else {
      throw TabularError(.malformedRecord, file: fileName, line: line, "invalid UTF-8 bytes, expected UTF-8 text")
    }
    scratch.removeAll(keepingCapacity: true)
    for i in starts.indices {
      starts[i] = -1
      ends[i] = -1
      given[i] = false
    }
    let b = lineBytes
    var p = 0
    let n = b.count
    func skipSpace() { while p < n, b[p] == 0x20 || b[p] == 0x09 || b[p] == 0x0D { p += 1 } }
    skipSpace()
    guard p < n, b[p] == UInt8(ascii: "{") else { throw fail(p, "expected a JSON object starting with '{'") }
    p += 1
    skipSpace()
    if p < n && b[p] == UInt8(ascii: "}") {
      p += 1
    } else {
      while true {
        skipSpace()
        guard p < n, b[p] == 0x22 else { throw fail(p, "expected a quoted key") }
        let keyStart = scratch.count
        p = try parseString(b, p)
        let key = String(decoding: scratch[keyStart...], as: UTF8.self)
        scratch.removeSubrange(keyStart...)
        skipSpace()
        guard p < n, b[p] == UInt8(ascii: ":") else { throw fail(p, "expected ':' after key \"\(key)\"") }
        p += 1
        skipSpace()
        guard p < n else { throw fail(p, "expected a value for key \"\(key)\"") }
        var slot = positions[key]
        if learnKeys && slot == nil {
          slot = header.names.count
          positions[key] = slot
          header = Header(header.names + [key])
          starts.append(-1)
          ends.append(-1)
          given.append(false)
        }
        if let slot {
          if given[slot] {
            throw fail(p, "the key \"\(key)\" appears twice in the object; expected each key once")
          }
          given[slot] = true
        }
        let valueStart = scratch.count
        let c = b[p]
        var isNull = false
        if c == 0x22 {
          p = try parseString(b, p)
        } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
          // One flat object per line: a field read must hold a string, number, boolean or null. (A key that is
          // not read may hold anything; it is skipped.)
          if slot != nil {
            throw fail(
              p,
              "the key \"\(key)\" holds a nested JSON \(c == UInt8(ascii: "{") ? "object" : "array"); expected a string, number, true, false or null (one flat object per line)"
            )
          }
          p = try skipNested(b, p)
        } else {
          let s = p
          while p < n, b[p] != UInt8(ascii: ","), b[p] != UInt8(ascii: "}"), b[p] != 0x20, b[p] != 0x09 { p += 1 }
          let token = b[s..<p]
          if token.elementsEqual("null".utf8) {
            isNull = true
          } else if token.elementsEqual("true".utf8) || token.elementsEqual("false".utf8) {
            scratch.append(contentsOf: token)
          } else {
            guard !token.isEmpty, token.allSatisfy({ ($0 >= 48 && $0 <= 57) || "+-.eE".utf8.contains($0) }) else {
              throw fail(s, "expected a JSON value for key \"\(key)\"")
            }
            scratch.append(contentsOf: token)
          }
        }
        if let slot, !isNull {
          starts[slot] = valueStart
          ends[slot] = scratch.count
        } else {
          scratch.removeSubrange(valueStart...)
        }
        skipSpace()
        guard p < n else { throw fail(p, "expected ',' or '}'") }
        if b[p] == UInt8(ascii: ",") {
          p += 1
          continue
        }
        guard b[p] == UInt8(ascii: "}") else { throw fail(p, "expected ',' or '}'") }
        p += 1
        break
      }
    }
    skipSpace()
    guard p == n else { throw fail(p, "unexpected text after the JSON object") }
    publishScratch()
  }

  /// Parses the string starting at the quote at `p` into `scratch`; returns the position after it.
  private func parseString(_ b: [UInt8], _ start: Int) throws(TabularError) -> Int {
    var p = start + 1
    let n = b.count
    while p < n {
      let c = b[p]
      if c == 0x22 { return p + 1 }
      if c < 0x20 { throw fail(p, "control character in a JSON string") }
      if c != UInt8(ascii: "\\") {
        scratch.append(c)
        p += 1
        continue
      }
      let failure = b.withUnsafeBytes { raw -> JSONEscape.Failure? in
        do throws(JSONEscape.Failure) {
          try JSONEscape.decode(raw, at: &p, into: &scratch)
          return nil
        } catch {
          return error
        }
      }
      if let failure {
        switch failure {
        case .cutShort: throw fail(start, "a JSON string is not closed; expected '\"'")
        case .hexDigits(let at): throw fail(at, "expected 4 hex digits after \\u")
        case .loneSurrogate(let at): throw fail(at, "unpaired UTF-16 surrogate in \\u escape")
        case .unknown(let e, let at):
          throw fail(at, "invalid escape '\\\(Character(Unicode.Scalar(e)))' in a JSON string")
        }
      }
    }
    throw fail(start, "a JSON string is not closed; expected '\"'")
  }

  private func skipNested(_ b: [UInt8], _ start: Int) throws(TabularError) -> Int {
    var depth = 0
    var p = start
    var inString = false
    while p < b.count {
      let c = b[p]
      if inString {
        if c == UInt8(ascii: "\\") {
          p += 2
          continue
        }
        if c == 0x22 { inString = false }
      } else if c == 0x22 {
        inString = true
      } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
        depth += 1
      } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
        depth -= 1
        if depth == 0 { return p + 1 }
      }
      p += 1
    }
    throw fail(start, "a nested JSON value is not closed")
  }
}
