import Foundation
import Storage
import TabularIO
import Testing

@testable import Fraud

/// A checkpoint store that records, as each save runs, how many lines the stream's output file holds; it takes
/// its time (so that a stream not held back would write on meanwhile), and can fail.
final class SlowCheckpoints: CheckpointStore, @unchecked Sendable {
  let outputPath: String
  let failAt: Int?
  let lock = NSLock()
  var saves: [(sequence: Int, linesAtSave: Int, bytes: Int)] = []

  init(outputPath: String, failAt: Int? = nil) {
    self.outputPath = outputPath
    self.failAt = failAt
  }

  func save(_ name: String, sequence: Int, state: [UInt8], beforeCommit: (() -> Void)?) throws(StoreError) {
    let lines = (try? String(contentsOfFile: outputPath, encoding: .utf8))?.split(separator: "\n").count ?? 0
    usleep(30_000)
    lock.lock()
    saves.append((sequence, lines, state.count))
    lock.unlock()
    if sequence == failAt { throw StoreError.database(path: "test.sqlite", message: "database or disk is full") }
  }

  func load(_ name: String) throws(StoreError) -> Checkpoint? { nil }
  func delete(_ name: String) throws(StoreError) -> Bool { false }
}

@Suite struct BackgroundCheckpointTests {
  func input(_ n: Int) -> [UInt8] {
    var text = "transaction_id,timestamp,card,merchant,amount\n"
    for i in 0..<n {
      text +=
        "T\(i),2026-01-01 00:\(String(format: "%02d", i / 60 % 60)):\(String(format: "%02d", i % 60)),C\(i % 7),M\(i % 3),\(10 + i % 13)\n"
    }
    return Array(text.utf8)
  }

  func run(_ store: SlowCheckpoints, transactions: Int, every: Int) throws -> StreamStatistics {
    var options = StreamOptions()
    options.checkpointEvery = every
    let stream = FraudStream(
      model: .rulesOnly(.standard, labelDelay: 0), state: FeatureState(), states: store, checkpointName: "t",
      options: options)
    let reader = try CSVReader(bytes: input(transactions))
    let source = try TransactionSource(header: reader.header, mapping: ColumnMapping(), file: "<memory>")
    // A small buffer: without the hold, lines would reach the file while a checkpoint is being written.
    let fd = open(store.outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    defer { close(fd) }
    let output = CSVWriter(fileDescriptor: fd, name: store.outputPath, bufferBytes: 256)
    return try stream.run(
      reader, source: source, output: output, deadLetter: nil, wouldBlock: { false }, report: { _ in })
  }

  @Test func linesAfterACheckpointWaitForItsCommit() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bg-\(UUID()).csv").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let store = SlowCheckpoints(outputPath: path)
    let stats = try run(store, transactions: 1_000, every: 200)
    #expect(stats.transactions == 1_000)
    // Five checkpoints in the background and the final one; each saw the header and exactly the lines up to its
    // sequence, none after.
    #expect(store.saves.map(\.sequence) == [200, 400, 600, 800, 1_000, 1_000])
    for save in store.saves { #expect(save.linesAtSave == save.sequence + 1, "checkpoint at \(save.sequence)") }
    #expect(store.saves.allSatisfy { $0.bytes > 0 })
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 1_001 && lines.last?.hasPrefix("T999,") == true)
  }

  /// A server's engine prepares the checkpoint buffer when it is made: nothing is saved then, and the
  /// checkpoint after it holds the whole snapshot of the state.
  @Test func preparingTheBufferSavesNothingAndChangesNoSnapshot() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bg-\(UUID()).csv").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let store = SlowCheckpoints(outputPath: path)
    let state = FeatureState()
    let stream = FraudStream(
      model: .rulesOnly(.standard, labelDelay: 0), state: state, states: store, checkpointName: "t",
      options: StreamOptions())
    let decider = FraudDecider(stream: stream)
    #expect(store.saves.isEmpty)
    stream.prepareCheckpoints()
    #expect(store.saves.isEmpty)
    try decider.stream.checkpoint()
    #expect(store.saves.map(\.sequence) == [0])
    #expect(store.saves[0].bytes == state.encoded().count)
  }

  @Test func aFailedBackgroundCheckpointStopsTheStream() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bg-\(UUID()).csv").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let store = SlowCheckpoints(outputPath: path, failAt: 400)
    #expect(throws: StoreError.self) { try run(store, transactions: 1_000, every: 200) }
    // The failure surfaced at the next checkpoint: none was attempted after it.
    #expect(store.saves.map(\.sequence) == [200, 400])
  }
}
