import Foundation
import Synchronization
import Testing

@testable import TabularIO

/// Reads every record of `text` as arrays of strings (nil for absent fields).
func readAll(_ text: String, chunk: Int = 1 << 20, options: CSVReader.Options = .init()) throws -> (
  [String], [[String]], [Int]
) {
  var o = options
  o.chunkBytes = chunk
  let r = try CSVReader(bytes: Array(text.utf8), name: "t.csv", options: o)
  var rows: [[String]] = []
  var lines: [Int] = []
  while try r.next() {
    rows.append(try (0..<r.fieldCount).map { try r.string($0) ?? "<nil>" })
    lines.append(r.line)
  }
  return (r.header.names, rows, lines)
}

@Suite struct CSVReaderTests {
  static let chunks = [16, 17, 31, 1 << 20]

  @Test(arguments: chunks) func plainLFAndCRLF(chunk: Int) throws {
    let (h, rows, lines) = try readAll("a,b,c\n1,2,3\n4,5,6\n", chunk: chunk)
    #expect(h == ["a", "b", "c"])
    #expect(rows == [["1", "2", "3"], ["4", "5", "6"]])
    #expect(lines == [2, 3])
    let (_, crlf, _) = try readAll("a,b\r\n1,2\r\n3,4\r\n", chunk: chunk)
    #expect(crlf == [["1", "2"], ["3", "4"]])
  }

  /// Random records of every shape the sixteen-byte and word-at-a-time paths take or hand back (quotes, a quote
  /// inside an unquoted field, lone carriage returns, CR LF across a block boundary, empty fields, more fields than
  /// the reader first has room for, three delimiters) read as a simple reference splits them.
  @Test(arguments: chunks) func randomRecordsReadAsTheyWereWritten(chunk: Int) throws {
    var g = SystemRandomNumberGenerator()
    for delimiter in [",", ";", "\t"] {
      let alphabet = Array("abcdefghij0123456789 .-,;")
      var text = "h\n"
      var expected: [[String]] = []
      for _ in 0..<400 {
        var fields: [String] = []
        var written: [String] = []
        let many = Int.random(in: 0..<20, using: &g) == 0
        for _ in 0..<Int.random(in: 1...(many ? 150 : 14), using: &g) {
          var value = String(
            (0..<Int.random(in: 0...19, using: &g)).map { _ in alphabet.randomElement(using: &g)! }
          ).replacingOccurrences(of: delimiter, with: "_")
          if value.hasPrefix(" ") { value = "x" + value }
          switch Int.random(in: 0..<12, using: &g) {
          case 0:
            fields.append(value + delimiter + "\"q\"")
            written.append("\"" + value + delimiter + "\"\"q\"\"\"")
          case 1:
            // A quote after a field's first byte is an ordinary byte.
            fields.append("x\"" + value)
            written.append("x\"" + value)
          default:
            fields.append(value)
            written.append(value)
          }
        }
        // (A record of one empty field ends in CR LF: after a lone CR, a bare LF would join it.)
        let endings = ["\n", "\r\n", "\r"]
        let ending = fields == [""] ? "\r\n" : endings.randomElement(using: &g)!
        text += written.joined(separator: delimiter) + ending
        expected.append(fields)
      }
      var o = CSVReader.Options()
      o.requireHeaderFieldCount = false
      o.skipBlankLines = false
      o.delimiter = UInt8(ascii: delimiter.unicodeScalars.first!)
      let (_, rows, lines) = try readAll(text, chunk: chunk, options: o)
      #expect(rows == expected, "delimiter \(delimiter.debugDescription)")
      #expect(lines == Array(2..<(2 + expected.count)))
    }
  }

  /// Unquoted fields are scanned eight bytes at a time: every field length from 0 to 20 and every end
  /// (delimiter, LF, CR LF, CR, end of input) at every position of a word.
  @Test(arguments: chunks) func longUnquotedFieldsEndWhereTheyShould(chunk: Int) throws {
    let fields = (0...20).map { n in String((0..<n).map { Character(UnicodeScalar(UInt8(97 + ($0 % 26)))) }) }
    for ending in ["\n", "\r\n", "\r"] {
      let text = "h1,h2" + ending + fields.map { "\($0),x\($0)" }.joined(separator: ending)
      let (_, rows, _) = try readAll(text, chunk: chunk)
      #expect(rows == fields.map { [$0, "x" + $0] }, "ending \(ending.debugDescription)")
    }
    var semicolons = CSVReader.Options()
    semicolons.delimiter = UInt8(ascii: ";")
    let (_, rows, _) = try readAll("a;b\n0123456789,abcdef;0123456789abcdefghij\n", chunk: chunk, options: semicolons)
    #expect(rows == [["0123456789,abcdef", "0123456789abcdefghij"]])
  }

  @Test(arguments: chunks) func quotedFields(chunk: Int) throws {
    let text = "id,text,n\n1,\"hello, world\",2\n2,\"she said \"\"hi\"\"\",3\n3,\"line one\nline two\",4\n4,,5\n"
    let (_, rows, lines) = try readAll(text, chunk: chunk)
    #expect(rows[0] == ["1", "hello, world", "2"])
    #expect(rows[1] == ["2", "she said \"hi\"", "3"])
    #expect(rows[2] == ["3", "line one\nline two", "4"])
    #expect(rows[3] == ["4", "", "5"])
    // The record after the embedded newline starts on line 6.
    #expect(lines == [2, 3, 4, 6])
  }

  @Test(arguments: chunks) func byteOrderMarkAndMissingFinalNewline(chunk: Int) throws {
    let (h, rows, _) = try readAll("\u{FEFF}x,y\n1,2\n3,4", chunk: chunk)
    #expect(h == ["x", "y"])
    #expect(rows == [["1", "2"], ["3", "4"]])
  }

  @Test func emptyFieldsAndTrailingDelimiter() throws {
    let (_, rows, _) = try readAll("a,b,c\n,,\n1,,\n")
    #expect(rows == [["", "", ""], ["1", "", ""]])
    let (_, atEnd, _) = try readAll("a,b\n1,", chunk: 16)
    #expect(atEnd == [["1", ""]])
  }

  @Test func blankLinesSkippedButCounted() throws {
    let (_, rows, lines) = try readAll("a\n1\n\n\n2\n")
    #expect(rows == [["1"], ["2"]])
    #expect(lines == [2, 5])
    var o = CSVReader.Options()
    o.skipBlankLines = false
    o.requireHeaderFieldCount = false
    let (_, kept, _) = try readAll("a\n1\n\n2\n", options: o)
    #expect(kept == [["1"], [""], ["2"]])
  }

  @Test func quotedEmptyAndTextAfterClosingQuote() throws {
    let (_, rows, _) = try readAll("a,b\n\"\",\"x\"y\n")
    #expect(rows == [["", "xy"]])
  }

  @Test func utf8Text() throws {
    let (_, rows, _) = try readAll("name,city\nJosé,Zürich\n")
    #expect(rows == [["José", "Zürich"]])
  }

  @Test(arguments: chunks) func typedAccess(chunk: Int) throws {
    var o = CSVReader.Options()
    o.chunkBytes = chunk
    let text = "i,d,t\n42,-3.25e2, 2018-04-01 00:00:50\n-7,.5,1522540850.5\n,\" \",\n"
    let r = try CSVReader(bytes: Array(text.utf8), options: o)
    #expect(try r.next())
    #expect(try r.int(0) == 42)
    #expect(try r.double(1) == -325)
    #expect(try r.timestamp(2) == 1_522_540_850)
    #expect(try r.next())
    #expect(try r.int(0) == -7)
    #expect(try r.double(1) == 0.5)
    #expect(try r.timestamp(2) == 1_522_540_850.5)
    #expect(try r.next())
    #expect(try r.int(0) == nil)
    #expect(try r.double(1) == nil)
    #expect(r.isMissing(1))
    #expect(try r.timestamp(2) == nil)
    #expect(r.field(0, equals: []))
    #expect(try !r.next())
    #expect(try !r.next())
  }

  @Test func fingerprintCoversEveryByte() throws {
    let text = "a,b\n1,2\n3,4\n"
    let r = try CSVReader(
      bytes: Array(text.utf8),
      options: {
        var o = CSVReader.Options()
        o.chunkBytes = 16
        return o
      }())
    while try r.next() {}
    var h = XXHash64()
    h.update(Array(text.utf8))
    #expect(r.fingerprint == DataFingerprint(h))
    #expect(r.fingerprint.byteCount == UInt64(text.utf8.count))
  }

  @Test func readsAFileOnDiskInSmallChunks() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("csv-\(UUID()).csv").path
    var text = "id,value,label\n"
    for i in 0..<5000 { text += "\(i),\(Double(i) / 4),\"row \(i), quoted\"\n" }
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    var o = CSVReader.Options()
    o.chunkBytes = 100
    let r = try CSVReader(path: path, options: o)
    var n = 0
    var sum = 0.0
    while try r.next() {
      #expect(try r.int(0) == n)
      sum += try r.double(1) ?? 0
      if n == 4999 { #expect(try r.string(2) == "row 4999, quoted") }
      n += 1
    }
    #expect(n == 5000)
    #expect(abs(sum - Double(4999 * 5000 / 2) / 4) < 1e-9)
  }
}

@Suite struct CSVReaderErrorTests {
  @Test func emptyFile() {
    #expect(throws: TabularError(.empty, file: "t.csv", line: 1, "the file is empty; expected a header line")) {
      _ = try CSVReader(bytes: [], name: "t.csv")
    }
    #expect(throws: TabularError.self) { _ = try CSVReader(bytes: Array("\n\n".utf8), name: "t.csv") }
  }

  @Test func missingFileAndDirectory() {
    do {
      _ = try CSVReader(path: "/nonexistent/file.csv")
      Issue.record("expected an error")
    } catch {
      #expect(error.kind == .io)
      #expect(error.description.hasPrefix("/nonexistent/file.csv: cannot open for reading"))
    }
    do {
      _ = try CSVReader(path: "/tmp")
      Issue.record("expected an error")
    } catch {
      #expect(error.description == "/tmp: is a directory, expected a file")
    }
  }

  @Test func tooManyAndTooFewFieldsAreReportedAndSkippable() throws {
    let r = try CSVReader(bytes: Array("a,b\n1,2,3\n4\n5,6\n".utf8), name: "t.csv")
    do {
      _ = try r.next()
      Issue.record("expected an error")
    } catch {
      #expect(error.description == "t.csv:2:5: expected 2 fields as in the header, found 3")
      #expect(error.kind == .malformedRecord)
    }
    do {
      _ = try r.next()
      Issue.record("expected an error")
    } catch {
      #expect(error.description == "t.csv:3:2: expected 2 fields as in the header, found 1")
    }
    // The reader moved past both bad records.
    #expect(try r.next())
    #expect(try r.int(0) == 5)
    #expect(try !r.next())
  }

  @Test func badNumbersNameLineColumnAndValue() throws {
    let r = try CSVReader(bytes: Array("id,amount\n1,12.5\n2,abc\n3,1e999\n4,nan\n".utf8), name: "t.csv")
    #expect(try r.next())
    #expect(try r.double(1) == 12.5)
    #expect(try r.next())
    #expect(
      throws: TabularError(
        .badValue, file: "t.csv", line: 3, column: 3, "column 'amount': expected a number, found \"abc\"")
    ) {
      _ = try r.double(1)
    }
    #expect(try r.next())
    #expect(
      throws: TabularError(
        .badValue, file: "t.csv", line: 4, column: 3, "column 'amount': expected a finite number, found \"1e999\"")
    ) {
      _ = try r.double(1)
    }
    #expect(try r.next())
    #expect(throws: TabularError.self) { _ = try r.double(1) }
    #expect(throws: TabularError.self) { _ = try r.int(1) }
  }

  @Test func unterminatedQuote() throws {
    let r = try CSVReader(bytes: Array("a,b\n1,\"open\n2,3\n".utf8), name: "t.csv")
    #expect(
      throws: TabularError(
        .malformedRecord, file: "t.csv", line: 2, column: 3,
        "a quoted field is not closed before the end of the input; expected a closing '\"'",
        cause: .unterminatedQuote)
    ) {
      _ = try r.next()
    }
    #expect(try !r.next())
  }

  @Test func invalidUTF8() throws {
    var bytes = Array("name\n".utf8)
    bytes += [0x41, 0xFF, 0xFE, 0x0A]
    let r = try CSVReader(bytes: bytes, name: "t.csv")
    #expect(try r.next())
    #expect(
      throws: TabularError(
        .malformedRecord, file: "t.csv", line: 2, column: 1, "column 'name': invalid UTF-8 bytes, expected UTF-8 text")
    ) {
      _ = try r.string(0)
    }
  }

  @Test func overlongRecordIsSkipped() throws {
    var o = CSVReader.Options()
    o.maximumRecordBytes = 64
    o.chunkBytes = 16
    let long = String(repeating: "x", count: 500)
    let r = try CSVReader(bytes: Array("a,b\n1,2\n\(long),3\n4,5\n".utf8), name: "t.csv", options: o)
    #expect(try r.next())
    do {
      _ = try r.next()
      Issue.record("expected an error")
    } catch {
      #expect(error.kind == .malformedRecord)
      #expect(error.description.hasPrefix("t.csv:3: a record is longer than 64 bytes"))
    }
    #expect(try r.next())
    #expect(try r.int(0) == 4)
    #expect(r.line == 4)
  }

  @Test func errorPlaceAfterEmbeddedNewline() throws {
    let r = try CSVReader(bytes: Array("a,b,c\n\"x\ny\",2,zz\n".utf8), name: "t.csv")
    #expect(try r.next())
    #expect(
      throws: TabularError(.badValue, file: "t.csv", line: 3, column: 6, "column 'c': expected a number, found \"zz\"")
    ) {
      _ = try r.double(2)
    }
  }

  @Test func hasBufferedLineTellsWhetherTheNextReadWaits() throws {
    var fds: [Int32] = [0, 0]
    #expect(pipe(&fds) == 0)
    defer { close(fds[0]) }
    func send(_ text: String) {
      _ = text.utf8CString.withUnsafeBufferPointer { write(fds[1], $0.baseAddress, text.utf8.count) }
    }
    send("a,b\n1,2\n3,")
    let r = try CSVReader(fileDescriptor: fds[0], name: "<pipe>")
    #expect(try r.next())
    // "3," is buffered without its line end: reading it would wait.
    #expect(!r.hasBufferedLine)
    send("4\r\n5,6\n")
    #expect(try r.next() && r.fieldBytes(1).map { Array($0) } == Array("4".utf8))
    #expect(r.hasBufferedLine)
    #expect(try r.next())
    #expect(!r.hasBufferedLine)
    close(fds[1])
    #expect(!(try r.next()))
    #expect(r.hasBufferedLine)  // at the end of input nothing waits
  }
}

@Suite struct StopRequestTests {
  @Test func aStopEndsTheInputAfterWhatIsBuffered() throws {
    var text = "id,value\n"
    for i in 0..<200 { text += "\(i),\(i * 2)\n" }
    let stop = Mutex(false)
    var options = CSVReader.Options()
    options.chunkBytes = 64
    options.stopRequested = { stop.withLock { $0 } }
    let reader = try CSVReader(bytes: Array(text.utf8), name: "s.csv", options: options)
    var rows = 0
    while try reader.next() {
      rows += 1
      if rows == 3 { stop.withLock { $0 = true } }
    }
    // The records in the 64-byte window were still read; nothing after it.
    #expect(rows >= 3 && rows < 20)
    // Without a stop every record is read.
    options.stopRequested = { false }
    let whole = try CSVReader(bytes: Array(text.utf8), name: "s.csv", options: options)
    var all = 0
    while try whole.next() { all += 1 }
    #expect(all == 200)
  }
}
