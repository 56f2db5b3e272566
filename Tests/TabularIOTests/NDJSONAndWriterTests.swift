import Foundation
import Testing

@testable import TabularIO

/// Every line's first field as an integer (-1 when missing), and the messages of the lines that failed.
func readFirstColumn(_ r: NDJSONReader) -> (values: [Int], errors: [String]) {
  var errors: [String] = []
  var values: [Int] = []
  while true {
    do {
      guard try r.next() else { break }
      values.append(try r.int(0) ?? -1)
    } catch {
      errors.append(error.description)
    }
  }
  return (values, errors)
}

@Suite struct NDJSONReaderTests {
  @Test func keysOfFirstObjectBecomeTheHeader() throws {
    let text = """
      {"id": "t1", "amount": 12.5, "ok": true, "note": "a \\"quoted\\" \\u00e9\\ud83d\\ude00"}

      {"amount": -3e2, "id": "t2", "extra": [1, {"x": 2}], "ok": null}
      """
    let r = try NDJSONReader(bytes: Array(text.utf8), name: "s.jsonl", chunkBytes: 16)
    #expect(r.header.names == ["id", "amount", "ok", "note"])
    #expect(try r.next())
    #expect(try r.string(0) == "t1")
    #expect(try r.double(1) == 12.5)
    #expect(try r.string(2) == "true")
    #expect(try r.string(3) == "a \"quoted\" é😀")
    #expect(r.line == 1)
    #expect(try r.next())
    #expect(try r.string(0) == "t2")
    #expect(try r.double(1) == -300)
    #expect(r.isMissing(2))
    #expect(try r.string(3) == nil)
    #expect(r.line == 3)
    #expect(try !r.next())
  }

  @Test func requestedColumns() throws {
    let r = try NDJSONReader(bytes: Array("{\"b\":1,\"a\":\"x\"}\n".utf8), columns: ["a", "b", "c"])
    #expect(try r.next())
    #expect(try r.string(0) == "x")
    #expect(try r.int(1) == 1)
    #expect(try r.string(2) == nil)
  }

  @Test func malformedLinesAreReportedAndSkipped() throws {
    let text = "{\"a\":1}\nnot json\n{\"a\":}\n{\"a\":\"open}\n{\"a\":2} x\n{\"a\":3}\n"
    let r = try NDJSONReader(bytes: Array(text.utf8), name: "s.jsonl", columns: ["a"])
    #expect(try r.next())
    let (values, errors) = readFirstColumn(r)
    #expect(values == [3])
    #expect(
      errors == [
        "s.jsonl:2:1: expected a JSON object starting with '{'",
        "s.jsonl:3:6: expected a JSON value for key \"a\"",
        "s.jsonl:4:6: a JSON string is not closed; expected '\"'",
        "s.jsonl:5:9: unexpected text after the JSON object",
      ])
  }

  /// One flat object per line: a read key holding an object or array, or a key given twice (even as `null`),
  /// makes that line malformed with the key named; the next line reads normally. Keys not read may hold anything.
  @Test func nestedValuesAndRepeatedKeysAreMalformed() throws {
    let text = """
      {"a":1,"b":"x"}
      {"a":{"v":2},"b":"y"}
      {"a":[2],"b":"y"}
      {"a":12.5,"a":999999}
      {"a":null,"b":"z","a":3}
      {"b":"w","b":"v","a":4}
      {"a":5,"other":{"deep":[1,{"x":2}]},"other":1}
      {"a":6,"b":"u"}
      """
    let r = try NDJSONReader(bytes: Array(text.utf8), name: "n.jsonl", columns: ["a", "b"])
    let (values, errors) = readFirstColumn(r)
    #expect(values == [1, 5, 6])
    #expect(
      errors == [
        "n.jsonl:2:6: the key \"a\" holds a nested JSON object; expected a string, number, true, false or null (one flat object per line)",
        "n.jsonl:3:6: the key \"a\" holds a nested JSON array; expected a string, number, true, false or null (one flat object per line)",
        "n.jsonl:4:15: the key \"a\" appears twice in the object; expected each key once",
        "n.jsonl:5:23: the key \"a\" appears twice in the object; expected each key once",
        "n.jsonl:6:14: the key \"b\" appears twice in the object; expected each key once",
      ])
  }

  @Test func emptyInput() {
    #expect(throws: TabularError.self) { _ = try NDJSONReader(bytes: [], name: "e.jsonl") }
  }
}

@Suite struct CSVWriterTests {
  @Test func quotesWhatNeedsQuotingAndRoundTrips() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("w-\(UUID()).csv").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let rows = [
      ["id", "text", "n"], ["1", "plain", "2"], ["2", "a,b", "x\"y"], ["3", "two\nlines", " padded"],
      ["4", "", "crlf\r\n"], ["5", "José", "end"],
    ]
    let w = try CSVWriter(path: path, bufferBytes: 256)
    for row in rows { w.writeRow(row) }
    // Nothing is visible at the path before finish().
    #expect(!FileManager.default.fileExists(atPath: path))
    try w.finish()
    let written = try String(contentsOfFile: path, encoding: .utf8)
    #expect(written.hasPrefix("id,text,n\n1,plain,2\n2,\"a,b\",\"x\"\"y\"\n3,\"two\nlines\",\" padded\"\n"))
    let r = try CSVReader(path: path)
    var back: [[String]] = [r.header.names]
    while try r.next() { back.append(try (0..<r.fieldCount).map { try r.string($0)! }) }
    #expect(back == rows)
  }

  @Test func numbersWithoutAllocation() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("n-\(UUID()).csv").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let w = try CSVWriter(path: path)
    w.writeField(0)
    w.writeField(-1_234_567)
    w.writeField(Int.min)
    w.writeField(0.5, decimals: 4)
    w.writeField(-2.345678, decimals: 3)
    w.writeField(1e20, decimals: 2)
    w.writeField(Double.nan, decimals: 2)
    w.writeField(-0.0001, decimals: 2)
    w.writeField(7, decimals: 0)
    w.endRow()
    try w.finish()
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text == "0,-1234567,-9223372036854775808,0.5000,-2.346,1e+20,nan,0.00,7\n")
  }

  @Test func abandonedWriterLeavesNoFile() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("a-\(UUID()).csv").path
    do {
      let w = try CSVWriter(path: path)
      w.writeRow(["x"])
      try w.flush()
    }
    #expect(!FileManager.default.fileExists(atPath: path))
    #expect(!FileManager.default.fileExists(atPath: path + ".partial-\(getpid())"))
  }

  @Test func writeFailuresAreKeptAndThrownByFlush() throws {
    let fd = open("/dev/full", O_WRONLY)
    try #require(fd >= 0)
    defer { close(fd) }
    let w = CSVWriter(fileDescriptor: fd, name: "/dev/full", bufferBytes: 256)
    for i in 0..<100 { w.writeRow(["row", "\(i)"]) }  // fills the buffer more than once: writes fail quietly
    #expect(throws: TabularError.self) { try w.flush() }
  }

  @Test func unwritableDestination() {
    #expect(throws: TabularError.self) { _ = try CSVWriter(path: "/nonexistent-dir/out.csv") }
  }
}

@Suite struct HeaderAndMappingTests {
  let header = Header(["TX_ID", "CUSTOMER_ID", "TX_AMOUNT", "dup", "dup"])

  @Test func requireNamesTheColumnsThatExist() {
    #expect(
      throws: TabularError(
        .schema, file: "f.csv", line: 1,
        "no --user-column column 'user_id' in the header; the columns are: 'TX_ID', 'CUSTOMER_ID', 'TX_AMOUNT', 'dup', 'dup'"
      )
    ) {
      _ = try header.require("user_id", role: "--user-column", file: "f.csv")
    }
    #expect(throws: TabularError(.schema, file: "f.csv", line: 1, "column 'dup' appears more than once in the header"))
    {
      _ = try header.require("dup", file: "f.csv")
    }
    #expect(throws: TabularError.self) { try header.requireUniqueNames(file: "f.csv") }
    #expect(header.duplicates == ["dup"])
  }

  @Test func controlCharactersInNamesAreEscapedInMessages() throws {
    let hostile = Header(["id\u{1B}[2J", "amount\r"])
    #expect(
      throws: TabularError(
        .schema, file: "f.csv", line: 1,
        "no column 'card' in the header; the columns are: 'id\\x1B[2J', 'amount\\x0D'")
    ) {
      _ = try hostile.require("card", file: "f.csv")
    }
    let r = try CSVReader(bytes: Array("a\u{07}b,n\n1,x\n".utf8))
    #expect(try r.next())
    #expect(throws: TabularError.self) { _ = try r.double(1) }
    #expect(r.error(atField: 0, "m").message.hasPrefix("column 'a\\x07b': "))
  }

  @Test func mappingParsesAndResolves() throws {
    let m = try ColumnMapping(
      parsing: "transaction_id=TX_ID, card = CUSTOMER_ID,amount=TX_AMOUNT",
      allowed: ["transaction_id", "card", "amount", "label"], source: "--map")
    let positions = try m.resolve(
      required: ["transaction_id", "card", "amount"], optional: ["label"], in: header, file: "f.csv")
    #expect(positions == ["transaction_id": 0, "card": 1, "amount": 2])
    #expect(m.column(for: "label") == "label")
  }

  @Test(arguments: ["card", "card=", "=X", "card=A,card=B", "color=X"])
  func badMappings(text: String) {
    #expect(throws: TabularError.self) { _ = try ColumnMapping(parsing: text, allowed: ["card"], source: "--map") }
  }

  @Test func mappedOptionalColumnMustExist() throws {
    let m = try ColumnMapping(parsing: "label=FRAUD", allowed: ["label"], source: "--map")
    #expect(throws: TabularError.self) {
      _ = try m.resolve(required: [], optional: ["label"], in: header, file: "f.csv")
    }
  }
}

@Suite struct CSVWriterQuotingTests {
  /// Fields of 0–40 bytes with one special byte (the delimiter, a quote, a line feed, a carriage return) at every
  /// position are quoted, and the same fields without it are not: the word-at-a-time checks and copies agree with
  /// the rule byte by byte, for a comma and for a semicolon delimiter; a space is quoted only at either end.
  @Test(arguments: [UInt8(ascii: ","), UInt8(ascii: ";")])
  func everyPositionOfASpecialByteIsQuoted(delimiter: UInt8) throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("q-\(UUID()).csv").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let w = try CSVWriter(path: path, delimiter: delimiter)
    var expected: [UInt8] = []
    for length in 0...40 {
      let plain = (0..<length).map { UInt8(ascii: "a") + UInt8($0 % 26) }
      plain.withUnsafeBufferPointer { w.writeField(bytes: $0) }
      w.endRow()
      expected += plain + [0x0A]
      for position in 0..<length {
        for special in [delimiter, 0x22, 0x0A, 0x0D] {
          var field = plain
          field[position] = special
          field.withUnsafeBufferPointer { w.writeField(bytes: $0) }
          w.endRow()
          expected += [0x22] + field.flatMap { $0 == 0x22 ? [0x22, 0x22] : [$0] } + [0x22, 0x0A]
        }
        // The other delimiter is an ordinary byte.
        var field = plain
        field[position] = delimiter == UInt8(ascii: ",") ? UInt8(ascii: ";") : UInt8(ascii: ",")
        field.withUnsafeBufferPointer { w.writeField(bytes: $0) }
        w.endRow()
        expected += field + [0x0A]
        // A space is quoted at either end only; beside another field, after the delimiter.
        var spaced = plain
        spaced[position] = 0x20
        let edge = position == 0 || position == length - 1
        plain.withUnsafeBufferPointer { w.writeField(bytes: $0) }
        spaced.withUnsafeBufferPointer { w.writeField(bytes: $0) }
        w.endRow()
        expected += plain + [delimiter] + (edge ? [0x22] + spaced + [0x22] : spaced) + [0x0A]
      }
    }
    try w.finish()
    #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == expected)
  }
}
