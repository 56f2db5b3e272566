import Foundation
import StoragePostgres
import StoreBackends
import TabularIO
import Testing

@testable import Storage
@testable import StorageSQLite

/// A fresh store path in a temporary directory, removed with its WAL files by `cleanup`.
func temporaryStorePath() -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID())")
  try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  return dir.appendingPathComponent("test.sqlite").path
}

func cleanup(_ path: String) {
  try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
}

func sample(_ name: String = "churn", bytes: [UInt8] = [1, 2, 3], metric: Double = 0.8) -> NewModelVersion {
  NewModelVersion(
    name: name, kind: "logistic-regression", parameters: ["l2": "0.1"], metrics: ["auc": metric],
    dataBytes: 1234, dataHash: "00ff00ff00ff00ff", parts: ["coefficients": bytes, "schema": Array("{}".utf8)])
}

/// The registry backends the store tests run against: each test that takes a `Backend` runs once per case,
/// through the `ModelRegistry` protocol only. PostgreSQL runs when `COMMERCEML_TEST_POSTGRES` holds the URL of a
/// server to test on (Scripts/postgres-test.sh starts one and sets it); each test then gets a schema of its own.
enum Backend: String, Sendable, CustomTestStringConvertible {
  case sqlite
  case postgresql

  static var allCases: [Backend] {
    ProcessInfo.processInfo.environment["COMMERCEML_TEST_POSTGRES"].map {
      $0.isEmpty ? [.sqlite] : [.sqlite, .postgresql]
    }
      ?? [.sqlite]
  }

  var testDescription: String { rawValue }

  /// The location a test's `temporaryStorePath()` stands for: the path itself, or a schema named after it.
  func location(_ path: String) -> String {
    switch self {
    case .sqlite: return path
    case .postgresql:
      let base = ProcessInfo.processInfo.environment["COMMERCEML_TEST_POSTGRES"] ?? ""
      var hasher = XXHash64()
      Array(path.utf8).withUnsafeBytes { hasher.update($0) }
      let schema = "t_" + String(hasher.finalize(), radix: 16)
      return base + (base.contains("?") ? "&" : "?") + "schema=" + schema
    }
  }

  /// The location as the registry names it in messages.
  func described(_ path: String) -> String { (try? StoreLocation(parsing: location(path)).description) ?? path }

  /// Opens the registry at a location made by `temporaryStorePath()`.
  func open(_ path: String, create: Bool) throws(StoreError) -> any ModelRegistry {
    try StoreLocation(parsing: location(path)).openRegistry(create: create)
  }

  /// Opens the registry with the largest piece of a part it keeps in one place set to `chunkBytes`.
  func open(_ path: String, create: Bool, chunkBytes: Int) throws(StoreError) -> any ModelRegistry {
    switch try StoreLocation(parsing: location(path)) {
    case .sqlite(let path): return try ModelStore(path: path, create: create, chunkBytes: chunkBytes)
    case .postgresql(let address): return try PostgresRegistry(address: address, create: create, chunkBytes: chunkBytes)
    }
  }
}

@Suite struct ModelStoreTests {
  @Test(arguments: Backend.allCases)
  func registerListShowLoad(backend: Backend) throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    let store = try backend.open(path, create: true)
    let v1 = try store.register(sample(metric: 0.81))
    #expect(v1.version == 1 && v1.isActive && v1.name == "churn" && v1.kind == "logistic-regression")
    #expect(v1.parameters == ["l2": "0.1"] && v1.metrics == ["auc": 0.81])
    #expect(v1.dataBytes == 1234 && v1.dataHash == "00ff00ff00ff00ff" && v1.artifactBytes == 5)
    #expect(v1.codeVersion == CommerceMLVersion.current)
    #expect(abs(v1.createdAt.timeIntervalSinceNow) < 60)
    let v2 = try store.register(sample(bytes: [9, 9], metric: 0.85))
    #expect(v2.version == 2 && v2.isActive)
    _ = try store.register(sample("other"))
    #expect(try store.active("churn").version == 2)
    #expect(try store.version("churn", 1).isActive == false)
    #expect(try store.list(name: "churn").map(\.version) == [2, 1])
    #expect(try store.list().count == 3)
    #expect(try store.list(kindPrefix: "nothing").isEmpty)
    #expect(try store.list(kindPrefix: "logistic").count == 3)
    #expect(try store.loadPart("churn", version: 1, part: "coefficients") == [1, 2, 3])
    try store.withArtifactReader("churn", version: 2) { (parts) throws -> Void in
      #expect(try parts.readAll("coefficients") == [9, 9])
      #expect(try parts.readAll("schema") == Array("{}".utf8))
      #expect(try parts.has("schema"))
      #expect(try !parts.has("factors"))
    }
    // Reopening finds everything again.
    let reopened = try backend.open(path, create: false)
    #expect(try reopened.active("churn").version == 2)
  }

  @Test(arguments: Backend.allCases)
  func promoteAndRollback(backend: Backend) throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    let store = try backend.open(path, create: true)
    for _ in 0..<3 { _ = try store.register(sample()) }
    #expect(try store.active("churn").version == 3)
    try store.promote("churn", version: 1)
    #expect(try store.active("churn").version == 1)
    let back = try store.rollback("churn")
    #expect(back.from.version == 1 && back.to.version == 3)
    #expect(try store.active("churn").version == 3)
    try store.rollback("churn")
    #expect(try store.active("churn").version == 2)
    try store.rollback("churn")
    #expect(try store.active("churn").version == 1)
    #expect(throws: StoreError.nothingToRollBack(name: "churn", version: 1)) { try store.rollback("churn") }
    #expect(try store.active("churn").version == 1)
  }

  /// The activation stamp changes with every change of the active version — promote, rollback, an activating
  /// registration, a rollback then a promote back to the same number — and not otherwise; another handle on the
  /// same store sees it at once.
  @Test(arguments: Backend.allCases)
  func theActivationStampFollowsEveryChange(backend: Backend) throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    let store = try backend.open(path, create: true)
    let other = try backend.open(path, create: false)
    #expect(try store.activation("churn") == nil)
    _ = try store.register(sample())
    var seen: [Activation] = []
    func stamp(_ expectedVersion: Int) throws {
      let a = try #require(try other.activation("churn"))
      #expect(a.version == expectedVersion)
      #expect(try store.active("churn").version == expectedVersion)
      #expect(!seen.contains(a) || seen.last == a)
      seen.append(a)
    }
    try stamp(1)
    _ = try store.register(sample(), activate: false, beforeCommit: nil)
    try stamp(1)  // registered without activating: unchanged
    #expect(seen[0] == seen[1])
    seen.removeLast()
    try store.promote("churn", version: 2)
    try stamp(2)
    try store.promote("churn", version: 2)  // already active: unchanged
    #expect(try other.activation("churn") == seen.last)
    try store.rollback("churn")
    let back = try #require(try other.activation("churn"))
    #expect(back == seen[0])  // the earlier activation is current again
    try store.promote("churn", version: 2)
    let again = try #require(try other.activation("churn"))
    #expect(again.version == 2 && again != seen[1] && again.id > seen[1].id)
    _ = try store.register(sample())
    #expect(try other.activation("churn")?.version == 3)
    #expect(try other.activation("other") == nil)
  }

  @Test(arguments: Backend.allCases)
  func registerWithoutActivating(backend: Backend) throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    let store = try backend.open(path, create: true)
    _ = try store.register(sample())
    let candidate = try store.register(sample(), activate: false, beforeCommit: nil)
    #expect(!candidate.isActive)
    #expect(try store.active("churn").version == 1)
    _ = try store.register(sample("fresh"), activate: false, beforeCommit: nil)
    #expect(throws: StoreError.noActiveVersion(name: "fresh")) { _ = try store.active("fresh") }
    #expect(throws: StoreError.noActiveVersion(name: "fresh")) { try store.rollback("fresh") }
  }

  @Test(arguments: Backend.allCases)
  func rangedReadsOfAPart(backend: Backend) throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    let store = try backend.open(path, create: true)
    let big = (0..<100_000).map { UInt8($0 % 251) }
    _ = try store.register(sample(bytes: big))
    try store.withArtifactReader("churn", version: 1) { (reader) throws -> Void in
      #expect(try reader.read("coefficients", offset: 0, length: 4) == Array(big[0..<4]))
      #expect(try reader.read("coefficients", offset: 99_990, length: 10) == Array(big[99_990..<100_000]))
      #expect(try reader.read("coefficients", offset: 50_000, length: 0).isEmpty)
      #expect(try reader.size("coefficients") == 100_000)
      #expect(throws: StoreError.rangeOutOfBounds(part: "coefficients", offset: 99_995, length: 10, size: 100_000)) {
        _ = try reader.read("coefficients", offset: 99_995, length: 10)
      }
      #expect(throws: StoreError.noSuchPart(name: "churn", version: 1, part: "nothing")) {
        _ = try reader.size("nothing")
      }
    }
    // The caller's own errors pass through the reader unchanged.
    struct Mine: Error, Equatable {}
    #expect(throws: Mine()) { try store.withArtifactReader("churn", version: 1) { _ in throw Mine() } }
  }

  /// A part larger than the backend's chunk size is stored in pieces and read back as one part: whole, in ranges
  /// across the pieces' edges, and as floats.
  @Test(arguments: Backend.allCases)
  func largePartsAreChunkedByTheBackend(backend: Backend) throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    let store = try backend.open(path, create: true, chunkBytes: 1000)
    let big = (0..<10_500).map { UInt8($0 % 251) }
    let floats = (0..<700).map { Float($0) * 0.5 }
    var version = sample(bytes: big)
    version.parts["floats"] = floats.withUnsafeBytes { Array($0) }
    version.parts["empty"] = []
    _ = try store.register(version)
    try store.withArtifactReader("churn", version: 1) { (reader) throws -> Void in
      #expect(try reader.size("coefficients") == 10_500)
      #expect(try reader.readAll("coefficients") == big)
      #expect(try reader.read("coefficients", offset: 995, length: 10) == Array(big[995..<1005]))
      #expect(try reader.read("coefficients", offset: 1999, length: 3002) == Array(big[1999..<5001]))
      #expect(try reader.read("coefficients", offset: 10_000, length: 500) == Array(big[10_000..<10_500]))
      #expect(throws: StoreError.rangeOutOfBounds(part: "coefficients", offset: 10_400, length: 101, size: 10_500)) {
        _ = try reader.read("coefficients", offset: 10_400, length: 101)
      }
      #expect(try reader.readAllFloats("floats") == floats)
      #expect(try reader.readFloats("floats", offset: 240, count: 20) == Array(floats[240..<260]))
      #expect(try reader.readAll("empty").isEmpty)
      #expect(try reader.has("coefficients"))
      #expect(try !reader.has("coefficients\u{1F}1"))
    }
    #expect(try store.loadPart("churn", version: 1, part: "coefficients") == big)
    var bad = sample()
    bad.parts["a\u{1F}1"] = [1]
    #expect(throws: StoreError.self) { _ = try store.register(bad) }
  }

  @Test(arguments: Backend.allCases)
  func errorsNameWhatIsMissing(backend: Backend) throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    #expect(throws: StoreError.storeNotFound(path: backend.described(path))) {
      _ = try backend.open(path, create: false)
    }
    #expect(!FileManager.default.fileExists(atPath: path))
    let store = try backend.open(path, create: true)
    #expect(throws: StoreError.noModel(name: "churn")) { _ = try store.active("churn") }
    #expect(throws: StoreError.noModel(name: "churn")) { try store.rollback("churn") }
    #expect(throws: StoreError.noModel(name: "churn")) { try store.promote("churn", version: 1) }
    _ = try store.register(sample())
    #expect(throws: StoreError.noSuchVersion(name: "churn", version: 7)) { try store.promote("churn", version: 7) }
    #expect(throws: StoreError.noSuchVersion(name: "churn", version: 7)) { _ = try store.version("churn", 7) }
    #expect(throws: StoreError.noSuchPart(name: "churn", version: 1, part: "factors")) {
      _ = try store.loadPart("churn", version: 1, part: "factors")
    }
    #expect(throws: StoreError.self) { _ = try store.register(sample("")) }
    #expect(throws: StoreError.self) { _ = try store.register(sample(metric: .nan)) }
    #expect(StoreError.noModel(name: "recommender").description == "no model named 'recommender' in the store")
    #expect(
      throws: StoreError.invalidArgument(
        "the store location is empty; expected a file path or postgresql://user@host:port/db")
    ) {
      _ = try StoreLocation(parsing: "")
    }
    #expect(store.location == backend.described(path))
  }

  @Test func notAStore() throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    try Data("this is not sqlite, just text that is long enough to have a header".utf8).write(
      to: URL(fileURLWithPath: path))
    #expect(throws: StoreError.notAStore(path: path, reason: "the file is not a SQLite database")) {
      _ = try ModelStore(path: path, create: false)
    }
    let dir = (path as NSString).deletingLastPathComponent
    #expect(throws: StoreError.notAStore(path: dir, reason: "it is a directory")) {
      _ = try ModelStore(path: dir, create: true)
    }
  }
}

@Suite struct StateStoreTests {
  @Test(arguments: Backend.allCases)
  func saveLoadReplaceDelete(backend: Backend) throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    let models = try backend.open(path, create: true)
    let states = models.checkpoints()
    #expect(try states.load("fraud") == nil)
    try states.save("fraud", sequence: 10, state: [1, 2])
    try states.save("fraud", sequence: 20, state: [3])
    let c = try #require(try states.load("fraud"))
    #expect(c.sequence == 20 && c.state == [3] && c.name == "fraud")
    #expect(try backend.open(path, create: false).checkpoints().load("fraud")?.sequence == 20)
    #expect(try states.delete("fraud"))
    #expect(try !states.delete("fraud"))
    #expect(try states.load("fraud") == nil)
  }

  /// A checkpoint larger than one piece is stored in pieces and read back whole; a smaller one replacing it
  /// leaves no stale pieces; deleting it deletes them.
  @Test(arguments: Backend.allCases)
  func largeCheckpointsAreStoredInPieces(backend: Backend) throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    let states = try backend.open(path, create: true, chunkBytes: 3).checkpoints()
    let ten: [UInt8] = Array(0..<10)
    try states.save("s", sequence: 1, state: ten)
    try states.save("other", sequence: 1, state: [9, 9, 9, 9])
    #expect(try states.load("s")?.state == ten)
    try states.save("s", sequence: 2, state: [7, 8, 9, 10])
    #expect(try states.load("s")?.state == [7, 8, 9, 10])
    try states.save("s", sequence: 3, state: [])
    #expect(try states.load("s")?.state == [])
    try states.save("s", sequence: 4, state: ten)
    #expect(try states.delete("s"))
    try states.save("s", sequence: 5, state: [1])
    #expect(try states.load("s")?.state == [1])
    #expect(try states.load("other")?.state == [9, 9, 9, 9])
    // Another reader with the usual piece size reads the same bytes.
    #expect(try backend.open(path, create: false).checkpoints().load("other")?.state == [9, 9, 9, 9])
  }
}
