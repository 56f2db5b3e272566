import Foundation
import Synchronization
import Testing

@testable import TabularIO

/// A fresh directory for one test.
func scratchDirectory() -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tabular-\(UUID())").path
  try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  return dir
}

func files(in dir: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() }

func write(_ text: String, to path: String) throws {
  let w = try CSVWriter(path: path)
  w.writeRaw(Array(text.utf8))
  try w.finish()
}

/// Outputs: atomic replacement for regular files only; write-through for FIFOs and devices; never an empty path,
/// a directory, or an input.
@Suite struct OutputFileTests {
  @Test func aSymbolicLinkIsFollowedAndKept() throws {
    let dir = scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "old\n".write(toFile: "\(dir)/target.csv", atomically: false, encoding: .utf8)
    chmod("\(dir)/target.csv", 0o600)
    try FileManager.default.createSymbolicLink(atPath: "\(dir)/link.csv", withDestinationPath: "target.csv")
    try write("new\n", to: "\(dir)/link.csv")
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/link.csv") == "target.csv")
    #expect(try String(contentsOfFile: "\(dir)/target.csv", encoding: .utf8) == "new\n")
    var st = stat()
    stat("\(dir)/target.csv", &st)
    #expect(st.st_mode & 0o777 == 0o600)
    // A link to nothing yet: the file it names is created.
    try FileManager.default.createSymbolicLink(atPath: "\(dir)/dangling.csv", withDestinationPath: "sub-target.csv")
    try write("made\n", to: "\(dir)/dangling.csv")
    #expect(try String(contentsOfFile: "\(dir)/sub-target.csv", encoding: .utf8) == "made\n")
    #expect(files(in: dir) == ["dangling.csv", "link.csv", "sub-target.csv", "target.csv"])
  }

  @Test func devicesAndFIFOsAreWrittenThroughNotReplaced() throws {
    try write("nothing\n", to: "/dev/null")
    var st = stat()
    stat("/dev/null", &st)
    #expect(st.st_mode & S_IFMT == S_IFCHR)
    let dir = scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let fifo = "\(dir)/pipe"
    #expect(mkfifo(fifo, 0o600) == 0)
    let received = Mutex<Data>(Data())
    let reader = Thread {
      let handle = FileHandle(forReadingAtPath: fifo)!
      received.withLock { $0 = handle.readDataToEndOfFile() }
    }
    reader.start()
    try write("through the pipe\n", to: fifo)
    while !reader.isFinished { usleep(1000) }
    #expect(String(decoding: received.withLock { $0 }, as: UTF8.self) == "through the pipe\n")
    stat(fifo, &st)
    #expect(st.st_mode & S_IFMT == S_IFIFO)
    #expect(files(in: dir) == ["pipe"])
  }

  @Test func emptyPathsAndDirectoriesAreRefused() throws {
    #expect(throws: TabularError(.usage, file: "<output>", "the output path is empty")) {
      _ = try CSVWriter(path: "")
    }
    let dir = scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    #expect(throws: TabularError(.io, file: dir, "is a directory; expected a file to write")) {
      _ = try CSVWriter(path: dir)
    }
    #expect(files(in: dir).isEmpty)
  }

  @Test func anUnfinishedWriterLeavesNothing() throws {
    let dir = scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "keep\n".write(toFile: "\(dir)/out.csv", atomically: false, encoding: .utf8)
    do {
      let w = try CSVWriter(path: "\(dir)/out.csv")
      w.writeRow(["half"])
      #expect(files(in: dir).count == 2)
    }
    #expect(files(in: dir) == ["out.csv"])
    #expect(try String(contentsOfFile: "\(dir)/out.csv", encoding: .utf8) == "keep\n")
  }

  @Test func theOutputMayNotBeAnInput() throws {
    let dir = scratchDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let input = "\(dir)/in.csv"
    try "a\n1\n".write(toFile: input, atomically: false, encoding: .utf8)
    try FileManager.default.createSymbolicLink(atPath: "\(dir)/alias.csv", withDestinationPath: input)
    #expect(link(input, "\(dir)/hard.csv") == 0)
    for same in [input, "\(dir)/alias.csv", "\(dir)/hard.csv", "\(dir)/./in.csv"] {
      #expect(
        throws: TabularError(.usage, file: same, "is also the input '\(input)'; write the output to another file")
      ) {
        try OutputFiles.refuseOverwriting(same, inputs: [input])
      }
    }
    try OutputFiles.refuseOverwriting("\(dir)/other.csv", inputs: [input])
    try OutputFiles.refuseOverwriting("/dev/null", inputs: [input])
    let fd = open(input, O_RDONLY)
    defer { close(fd) }
    #expect(throws: TabularError.self) { try OutputFiles.refuseOverwriting(input, descriptors: [fd]) }
    #expect(throws: TabularError(.usage, file: "<output>", "the output path is empty")) {
      try OutputFiles.refuseOverwriting("", inputs: [input])
    }
  }
}

/// In a stream a record is a line: raw bytes for the dead-letter file, and one bad line never swallows the next.
@Suite struct RawRecordTests {
  func raw(_ r: some RecordReader) -> String? { r.withRawRecord { $0.map { String(decoding: $0, as: UTF8.self) } } }

  @Test func rawBytesAreTheLineAsRead() throws {
    let text = "id,note\r\na,\"say \"\"hi\"\"\"\r\nb,plain\nc,\"x\",extra\nd,e"
    var options = CSVReader.Options()
    options.chunkBytes = 7
    let r = try CSVReader(bytes: Array(text.utf8), options: options)
    #expect(r.rawHeader == Array("id,note\r\n".utf8))
    #expect(try r.next())
    #expect(try r.string(1) == "say \"hi\"")
    #expect(raw(r) == "a,\"say \"\"hi\"\"\"\r\n")
    #expect(try r.next())
    #expect(raw(r) == "b,plain\n")
    #expect(throws: TabularError.self) { _ = try r.next() }
    #expect(raw(r) == "c,\"x\",extra\n")
    #expect(try r.next())
    #expect(raw(r) == "d,e")
    #expect(try r.string(1) == "e")
  }

  @Test func aQuoteNotClosedOnItsLineSpoilsOnlyThatLine() throws {
    let text = "id,time,amount\n1,t,2\n\"unterminated,t,3\n4,t,5\n6,\"a\nb\",7\n8,t,9\n"
    var options = CSVReader.Options()
    options.multilineFields = false
    options.chunkBytes = 5
    let r = try CSVReader(bytes: Array(text.utf8), name: "s.csv", options: options)
    var ids: [String] = []
    var errors: [String] = []
    var dead: [String] = []
    while true {
      do {
        guard try r.next() else { break }
        ids.append(try r.string(0)!)
      } catch {
        errors.append("\(error)")
        dead.append(raw(r) ?? "<gone>")
      }
    }
    #expect(ids == ["1", "4", "8"])
    #expect(
      errors == [
        "s.csv:3:1: a quoted field is not closed on its line; expected a closing '\"'",
        "s.csv:5:3: a quoted field is not closed on its line; expected a closing '\"'",
        "s.csv:6:5: expected 3 fields as in the header, found 2",
      ])
    #expect(dead == ["\"unterminated,t,3\n", "6,\"a\n", "b\",7\n"])
    // With multiline fields allowed (the default), the same quote takes the following lines into one field.
    let lenient = try CSVReader(bytes: Array("id\n\"a\nb\"\n".utf8))
    #expect(try lenient.next())
    #expect(try lenient.string(0) == "a\nb")
  }

  @Test func anOverlongLineGoesToTheSinkAndTheNextIsRead() throws {
    let long = String(repeating: "x", count: 300)
    let text = "id,v\n1,a\n2,\(long)\n3,c\n"
    var options = CSVReader.Options()
    options.maximumRecordBytes = 64
    options.chunkBytes = 16
    let r = try CSVReader(bytes: Array(text.utf8), name: "s.csv", options: options)
    var sunk: [UInt8] = []
    r.skippedBytesSink = { sunk.append(contentsOf: $0) }
    #expect(try r.next())
    #expect(throws: TabularError.self) { _ = try r.next() }
    #expect(raw(r) == nil)
    #expect(String(decoding: sunk, as: UTF8.self) == "2,\(long)\n")
    #expect(try r.next())
    #expect(try r.string(0) == "3")
    #expect(r.line == 4)
  }

  @Test func jsonLinesKeepTheirRawBytesToo() throws {
    let long = String(repeating: "y", count: 200)
    let text = "{\"a\":1}\r\n{\"a\":}\n{\"a\":\"\(long)\"}\n{\"a\":4}"
    let r = try NDJSONReader(
      bytes: Array(text.utf8), name: "s.jsonl", columns: ["a"], chunkBytes: 16, maximumLineBytes: 64)
    var sunk: [UInt8] = []
    r.skippedBytesSink = { sunk.append(contentsOf: $0) }
    #expect(try r.next())
    #expect(raw(r) == "{\"a\":1}\r\n")
    #expect(throws: TabularError.self) { _ = try r.next() }
    #expect(raw(r) == "{\"a\":}\n")
    #expect(throws: TabularError.self) { _ = try r.next() }
    #expect(raw(r) == nil)
    #expect(String(decoding: sunk, as: UTF8.self) == "{\"a\":\"\(long)\"}\n")
    #expect(try r.next())
    #expect(raw(r) == "{\"a\":4}")
    #expect(r.line == 4)
  }
}
