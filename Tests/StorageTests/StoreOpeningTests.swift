import Foundation
import Testing

@testable import Storage
@testable import StorageSQLite

#if canImport(Glibc)
  import Glibc
#endif

/// Opening a store: files that are not stores (whatever their size, for reading and for training alike), where a
/// store cannot be created and why, and activations that change nothing.
@Suite struct StoreOpeningTests {
  /// Short files of every size below SQLite's header, and a longer text, are refused by training and reading,
  /// and left exactly as they were.
  @Test(arguments: [1, 2, 15, 16, 99, 100, 4096])
  func shortAndTextFilesAreNotStores(size: Int) throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    let content = Array(String(repeating: "x", count: size).utf8)
    FileManager.default.createFile(atPath: path, contents: Data(content))
    for create in [true, false] {
      #expect {
        _ = try ModelStore(path: path, create: create)
      } throws: { error in
        guard case .notAStore(let p, let reason) = error as? StoreError else { return false }
        return p == path && reason == "the file is not a SQLite database"
      }
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(content))
    #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
  }

  /// A store read as immutable (by a user who may not write beside it) that another process changes meanwhile:
  /// once the writer's checkpoint reaches the file, the reader notices the change after its read, opens the file
  /// again and reads the new state — a list, an activation, a version's parts, a checkpoint — never a mix of the
  /// two states, never the old one served on as if nothing changed.
  @Test func anImmutableStoreThatChangesUnderItsReaderIsReadAgain() throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    let writer = try ModelStore(path: path, create: true)
    _ = try writer.register(sample(bytes: [1, 2, 3]))
    try writer.pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    let reader = try ModelStore(immutable: path)
    let states = StateStore(sharing: reader)
    #expect(try reader.list().map(\.version) == [1])
    #expect(try reader.activation("churn")?.version == 1)
    _ = try writer.register(sample(bytes: [4, 5, 6, 7]))
    try writer.checkpoints().save("stream", sequence: 9, state: [9, 9])
    // Still in the writer's log: the file is as it was, and the reader reads the state it opened.
    #expect(try reader.list().map(\.version) == [1])
    #expect(try states.load("stream") == nil)
    try writer.pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    #expect(try reader.list().map(\.version) == [2, 1])
    #expect(reader.connection.isImmutable)
    #expect(try reader.active("churn").version == 2)
    #expect(try reader.activation("churn")?.version == 2)
    #expect(try reader.withArtifactReader("churn", version: 2) { try $0.readAll("coefficients") } == [4, 5, 6, 7])
    #expect(try reader.withArtifactReader("churn", version: 1) { try $0.readAll("coefficients") } == [1, 2, 3])
    // The checkpoint store of the same file follows the same connection.
    #expect(try states.load("stream")?.state == [9, 9])
    // A promotion checkpointed into the file reaches the reader too.
    _ = try writer.promote("churn", version: 1)
    try writer.pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    #expect(try reader.activation("churn")?.version == 1)
  }

  /// A read of an immutable store during which the file changes is done again on the new state: its result — or the
  /// error a torn read gave — is dropped; a file that changes during every one of `StoreConnection.reopenings`
  /// reads in a row is `.changedWhileRead` (exit 75).
  @Test func aReadDuringWhichTheFileChangesIsDoneAgain() throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    let writer = try ModelStore(path: path, create: true)
    _ = try writer.register(sample(bytes: [1, 2, 3]))
    try writer.pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    func change(_ bytes: [UInt8]) throws {
      _ = try writer.register(sample(bytes: bytes))
      try writer.pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    }
    struct Torn: Error {}
    let reader = try ModelStore(immutable: path)
    // The first read sees the file change under it and fails as a torn read may; the second is on the new state.
    var calls = 0
    let parts = try reader.withArtifactReader("churn", version: 1) { parts -> [UInt8] in
      calls += 1
      if calls == 1 {
        try change([4])
        throw Torn()
      }
      return try parts.readAll("coefficients")
    }
    #expect(calls == 2 && parts == [1, 2, 3])
    #expect(try reader.activation("churn")?.version == 2)
    // An error of a read the file did not change under passes through, read once.
    calls = 0
    #expect(throws: Torn.self) {
      try reader.withArtifactReader("churn", version: 1) { _ -> Int in
        calls += 1
        throw Torn()
      }
    }
    #expect(calls == 1)
    // Changed during every read: given up after the last attempt, never an answer from a changing file.
    calls = 0
    #expect(throws: StoreError.changedWhileRead(path: path)) {
      try reader.withArtifactReader("churn", version: 1) { parts -> [UInt8] in
        calls += 1
        try change([UInt8(calls)])
        return try parts.readAll("coefficients")
      }
    }
    #expect(calls == StoreConnection.reopenings)
    #expect(try reader.list().count == 2 + StoreConnection.reopenings)
  }

  /// A real store's first bytes followed by nothing else is not taken for an empty store either.
  @Test func aTruncatedHeaderIsNotAStore() throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    FileManager.default.createFile(atPath: path, contents: Data("SQLite format 3\0\0\0".utf8))
    #expect(throws: StoreError.notAStore(path: path, reason: "a file of 18 bytes, too short for a database")) {
      _ = try ModelStore(path: path, create: true)
    }
  }

  @Test func anEmptyFileIsRefusedByTrainingToo() throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    FileManager.default.createFile(atPath: path, contents: Data())
    #expect(throws: StoreError.notAStore(path: path, reason: "the file is empty")) {
      _ = try ModelStore(path: path, create: true)
    }
  }

  @Test func aDeviceOrFIFOIsNotAStore() throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    #expect(mkfifo(path, 0o600) == 0)
    #expect(throws: StoreError.notAStore(path: path, reason: "it is not a regular file")) {
      _ = try ModelStore(path: path, create: true)
    }
    #expect(throws: StoreError.notAStore(path: "/dev/null", reason: "it is not a regular file")) {
      _ = try ModelStore(path: "/dev/null", create: false)
    }
  }

  @Test func aStoreInAMissingDirectorySaysSo() throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    let dir = (path as NSString).deletingLastPathComponent
    let inside = dir + "/no/such/place/store.sqlite"
    #expect(
      throws: StoreError.cannotWrite(
        path: inside, reason: "cannot create the store: no such directory \(dir)/no/such/place")
    ) { _ = try ModelStore(path: inside, create: true) }
    FileManager.default.createFile(atPath: dir + "/plain", contents: Data("x".utf8))
    #expect(
      throws: StoreError.cannotWrite(
        path: dir + "/plain/store.sqlite", reason: "cannot create the store: \(dir)/plain is not a directory")
    ) { _ = try ModelStore(path: dir + "/plain/store.sqlite", create: true) }
  }

  @Test(arguments: Backend.allCases)
  func promotingTheActiveVersionChangesNothing(backend: Backend) throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    let store = try backend.open(path, create: true)
    for _ in 0..<3 { _ = try store.register(sample()) }
    try store.promote("churn", version: 3)
    try store.promote("churn", version: 3)
    let back = try store.rollback("churn")
    #expect(back.from.version == 3 && back.to.version == 2)
    try store.promote("churn", version: 1)
    try store.promote("churn", version: 1)
    #expect(try store.rollback("churn").to.version == 2)
    #expect(try store.rollback("churn").to.version == 1)
    #expect(throws: StoreError.nothingToRollBack(name: "churn", version: 1)) { try store.rollback("churn") }
  }

  /// A store written before promote was idempotent may hold the same version activated twice in a row: a
  /// rollback steps over both to the version before.
  @Test func rollbackStepsOverRepeatedActivations() throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    let store = try ModelStore(path: path, create: true)
    for _ in 0..<2 { _ = try store.register(sample()) }
    try store.pool.write { db in
      try db.execute(
        sql: "INSERT INTO model_activation (name, version, activated_at, reason) VALUES ('churn', 2, 0, 'promote')")
    }
    let back = try store.rollback("churn")
    #expect(back.from.version == 2 && back.to.version == 1)
    #expect(try store.active("churn").version == 1)
  }
}
