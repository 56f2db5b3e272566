import Foundation
import Logging
import Synchronization
import Testing

@testable import Service
@testable import Storage
@testable import StorageSQLite

/// The lines a logger was given, for tests.
final class CollectedLog: Sendable {
  let lines = Mutex<[String]>([])

  var logger: Logger {
    Logger(label: "test") { _ in Handler(log: self) }
  }

  struct Handler: LogHandler {
    let log: CollectedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
      get { metadata[key] }
      set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
      log.lines.withLock { $0.append("\(event.level) \(event.message)") }
    }
  }
}

/// The poller of the active version (4 times a second in a server): it follows a store read as immutable that
/// another process changes; a failure is logged when it starts or changes, not at every poll, and the version that
/// served keeps serving.
@Suite struct HotModelTests {
  func store() throws -> (path: String, writer: ModelStore, register: ([UInt8]) throws -> Void, cleanup: () -> Void) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hot-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let path = directory.appendingPathComponent("store.sqlite").path
    let writer = try ModelStore(path: path, create: true)
    func register(_ bytes: [UInt8]) throws {
      _ = try writer.register(
        NewModelVersion(
          name: "m", kind: "test", parameters: [:], metrics: [:], dataBytes: 1, dataHash: "00ff00ff00ff00ff",
          parts: ["p": bytes]))
      try writer.pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    }
    return (path, writer, register, { try? FileManager.default.removeItem(at: directory) })
  }

  @Test func aPromotionUnderAnImmutableReaderIsServed() throws {
    let (path, writer, register, cleanup) = try store()
    defer { cleanup() }
    try register([1, 2, 3])
    let reader = try ModelStore(immutable: path)
    let log = CollectedLog()
    let hot = HotModel<[UInt8]>(store: reader, name: "m", metrics: ServiceMetrics(), logger: log.logger) { version in
      try reader.withArtifactReader("m", version: version.version) { try $0.readAll("p") }
    }
    #expect(hot.refresh())
    #expect(hot.current?.model == [1, 2, 3])
    try register([4, 5])
    #expect(hot.refresh())
    #expect(hot.current?.model == [4, 5] && hot.current?.version.version == 2)
    _ = try writer.rollback("m")
    try writer.pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    #expect(hot.refresh())
    #expect(hot.current?.model == [1, 2, 3])
    #expect(!hot.refresh())
    #expect(log.lines.withLock { $0.filter { $0.hasPrefix("error") } }.isEmpty)
  }

  @Test func aVersionThatFailsToLoadIsLoggedOnceAndTheModelKeepsServing() throws {
    let (path, _, register, cleanup) = try store()
    defer { cleanup() }
    try register([1, 2, 3])
    let reader = try ModelStore(immutable: path)
    let log = CollectedLog()
    struct Unloadable: Error, CustomStringConvertible {
      var description: String { "the part is unloadable" }
    }
    let hot = HotModel<[UInt8]>(store: reader, name: "m", metrics: ServiceMetrics(), logger: log.logger) { version in
      let bytes = try reader.withArtifactReader("m", version: version.version) { try $0.readAll("p") }
      if bytes.count == 2 { throw Unloadable() }
      return bytes
    }
    #expect(hot.refresh())
    #expect(hot.current?.model == [1, 2, 3])
    try register([4, 5])
    for _ in 0..<5 { #expect(!hot.refresh()) }
    var failures = log.lines.withLock { $0.filter { $0.hasPrefix("error") } }
    #expect(failures.count == 1, "\(failures)")
    #expect(failures.first?.contains("the part is unloadable") == true)
    #expect(hot.current?.model == [1, 2, 3])
    // Another version that loads ends the failure.
    try register([6, 7, 8])
    #expect(hot.refresh())
    #expect(hot.current?.model == [6, 7, 8])
    failures = log.lines.withLock { $0.filter { $0.hasPrefix("error") } }
    #expect(failures.count == 1)
  }
}
