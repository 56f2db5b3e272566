import Foundation
import Testing

@testable import Storage
@testable import StorageSQLite

/// The helper executable built beside the tests.
func helperURL() throws -> URL {
  let candidates = [
    Bundle.main.bundleURL, URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
    Bundle.main.bundleURL.deletingLastPathComponent(),
  ]
  for dir in candidates {
    let url = dir.appendingPathComponent("store-test-helper")
    if FileManager.default.isExecutableFile(atPath: url.path) { return url }
  }
  throw StoreError.invalidArgument("store-test-helper not found near \(Bundle.main.bundleURL.path)")
}

/// Starts the helper and waits until it prints its first line.
func startHelper(_ arguments: [String]) throws -> (Process, String) {
  let process = Process()
  process.executableURL = try helperURL()
  process.arguments = arguments
  let out = Pipe()
  process.standardOutput = out
  try process.run()
  var line = Data()
  while true {
    let byte = out.fileHandleForReading.readData(ofLength: 1)
    if byte.isEmpty || byte == Data("\n".utf8) { break }
    line.append(byte)
  }
  return (process, String(decoding: line, as: UTF8.self))
}

/// Runs one helper process per argument list, all at once, and returns their exit statuses.
func runHelpersAtOnce(_ argumentLists: [[String]]) throws -> [Int32] {
  let processes = try argumentLists.map { arguments -> Process in
    let process = Process()
    process.executableURL = try helperURL()
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    return process
  }
  for p in processes { try p.run() }
  for p in processes { p.waitUntilExit() }
  return processes.map(\.terminationStatus)
}

@Suite(.serialized) struct CrashSafetyTests {
  /// Several processes that create the same new store at once all succeed: one creates and migrates it while
  /// the others wait, and every registration lands.
  @Test(arguments: Backend.allCases)
  func firstTrainingsAtOnceOnANewStoreAllLand(backend: Backend) throws {
    for _ in 0..<5 {
      let path = temporaryStorePath()
      defer { cleanup(path) }
      let statuses = try runHelpersAtOnce(
        (0..<6).map { ["register-loop", backend.location(path), "model-\($0)", "1"] })
      #expect(statuses == [Int32](repeating: 0, count: 6))
      let store = try backend.open(path, create: false)
      #expect(Set(try store.list().map(\.name)) == Set((0..<6).map { "model-\($0)" }))
    }
  }

  /// A read-only command refuses an empty file instead of turning it into a store.
  @Test func anEmptyFileIsNotAStore() throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    FileManager.default.createFile(atPath: path, contents: Data())
    #expect(throws: StoreError.notAStore(path: path, reason: "the file is empty")) {
      _ = try ModelStore(path: path, create: false)
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)).isEmpty)
  }

  @Test(arguments: Backend.allCases)
  func killedMidRegisterLeavesPreviousVersionActiveAndReadersUnblocked(backend: Backend) throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    let store = try backend.open(path, create: true)
    _ = try store.register(sample(bytes: [7, 7, 7]))
    let (writer, said) = try startHelper(["register-and-hang", backend.location(path), "churn", "\(8 << 20)"])
    #expect(said == "IN-TRANSACTION")
    // While the other process holds its write transaction open, this process reads without waiting.
    let started = Date()
    #expect(try store.active("churn").version == 1)
    #expect(try store.loadPart("churn", version: 1, part: "coefficients") == [7, 7, 7])
    #expect(Date().timeIntervalSince(started) < 5)
    kill(writer.processIdentifier, SIGKILL)
    writer.waitUntilExit()
    #expect(writer.terminationReason == .uncaughtSignal)
    // The killed registration left nothing behind; the previous version is still active and loadable.
    let reopened = try backend.open(path, create: false)
    #expect(try reopened.list(name: "churn").map(\.version) == [1])
    #expect(try reopened.active("churn").version == 1)
    #expect(try reopened.loadPart("churn", version: 1, part: "coefficients") == [7, 7, 7])
    // And the store takes new versions again.
    #expect(try reopened.register(sample()).version == 2)
  }

  @Test(arguments: Backend.allCases)
  func killedMidCheckpointKeepsThePreviousCheckpoint(backend: Backend) throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    let states = try backend.open(path, create: true).checkpoints()
    try states.save("fraud", sequence: 5, state: [1, 2, 3])
    let (writer, said) = try startHelper(["checkpoint-and-hang", backend.location(path), "fraud", "99"])
    #expect(said == "IN-TRANSACTION")
    #expect(try states.load("fraud")?.sequence == 5)
    kill(writer.processIdentifier, SIGKILL)
    writer.waitUntilExit()
    let c = try backend.open(path, create: false).checkpoints().load("fraud")
    #expect(c?.sequence == 5 && c?.state == [1, 2, 3])
  }

  @Test(arguments: Backend.allCases)
  func readerSeesOnlyWholeVersionsWhileAnotherProcessWrites(backend: Backend) throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    let store = try backend.open(path, create: true)
    let writer = Process()
    writer.executableURL = try helperURL()
    writer.arguments = ["register-loop", backend.location(path), "loop", "40"]
    writer.standardOutput = Pipe()
    try writer.run()
    var reads = 0
    var running = true
    while running {
      running = writer.isRunning
      guard let v = try? store.active("loop") else { continue }
      let part = try store.loadPart("loop", version: v.version, part: "payload")
      // Each version's payload has 1000 × version bytes, all equal to version % 256.
      #expect(part.count == 1000 * v.version)
      #expect(part.allSatisfy { $0 == UInt8(v.version % 256) })
      #expect(v.metrics["version"] == Double(v.version))
      reads += 1
    }
    writer.waitUntilExit()
    #expect(writer.terminationStatus == 0)
    #expect(try store.active("loop").version == 40)
    #expect(reads > 0)
  }

  /// Several processes registering versions of one name at once each get numbers of their own: the numbers are
  /// 1…N with none lost or repeated, and every version's bytes are its own.
  @Test(arguments: Backend.allCases)
  func concurrentRegistrationsOfOneNameGetUniqueNumbers(backend: Backend) throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    let statuses = try runHelpersAtOnce(
      Array(repeating: ["register-loop", backend.location(path), "shared", "8"], count: 4))
    #expect(statuses == [0, 0, 0, 0])
    let store = try backend.open(path, create: false)
    let versions = try store.list(name: "shared")
    #expect(versions.map(\.version).sorted() == Array(1...32))
    for v in versions {
      let expected = Int(v.dataHash) ?? -1
      let payload = try store.loadPart("shared", version: v.version, part: "payload")
      #expect(payload.count == 1000 * expected && payload.allSatisfy { $0 == UInt8(expected % 256) })
    }
  }
}
