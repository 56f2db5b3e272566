import Foundation
import PostgresNIO
import Testing

@testable import Storage
@testable import StoragePostgres

/// The PostgreSQL registry's part reads (issue 27): a part is streamed in one query, chunk by chunk, into the memory
/// that keeps it, and checked against its block checksums there — a changed byte in any chunk, a missing chunk or a
/// chunk out of place is damage, named with the block, never served. Runs when `COMMERCEML_TEST_POSTGRES` is set
/// (Scripts/postgres-test.sh).
@Suite(.enabled(if: Backend.allCases.contains(.postgresql)))
struct PostgresPartTests {
  /// A registry of its own, whose parts are stored in rows of `chunkBytes`, holding `bytes` as version 1 of churn.
  func registry(_ bytes: [UInt8], chunkBytes: Int) throws -> PostgresRegistry {
    let location = Backend.postgresql.location(temporaryStorePath())
    guard case .postgresql(let address) = try StoreLocation(parsing: location) else {
      throw StoreError.invalidArgument("not a PostgreSQL URL: \(location)")
    }
    let registry = try PostgresRegistry(address: address, create: true, chunkBytes: chunkBytes)
    _ = try registry.register(sample(bytes: bytes))
    return registry
  }

  func execute(_ registry: PostgresRegistry, _ sql: String) throws {
    try registry.session.withConnection { statements in _ = try statements.run(PostgresQuery(unsafeSQL: sql)) }
  }

  let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }

  @Test(arguments: [70_000, 4 << 20])
  func aWholePartReadsBackInMemoryExactly(chunkBytes: Int) throws {
    let registry = try registry(bytes, chunkBytes: chunkBytes)
    let loaded = try InMemoryArtifactReader.load(from: registry, name: "churn", version: 1)
    #expect(try loaded.readAll("coefficients") == bytes)
    #expect(try loaded.readAll("schema") == Array("{}".utf8))
    #expect(loaded.byteCount == bytes.count + 2)
    // The reader's own whole and ranged reads agree.
    try registry.withArtifactReader("churn", version: 1) { (reader) throws -> Void in
      #expect(try reader.read("coefficients", offset: 69_999, length: 2) == Array(bytes[69_999..<70_001]))
      #expect(try reader.readAll("coefficients") == bytes)
    }
  }

  @Test(arguments: [0, 65_536, 69_999, 70_000, 150_000, 199_999])
  func aChangedByteInAnyChunkIsFound(at: Int) throws {
    let registry = try registry(bytes, chunkBytes: 70_000)
    let chunk = at / 70_000
    // PostgreSQL's set_byte/get_byte count from 0 within the chunk's bytea.
    let offset = at - chunk * 70_000
    try execute(
      registry,
      """
      UPDATE model_artifact SET data = set_byte(data, \(offset), get_byte(data, \(offset)) # 1)
      WHERE part = 'coefficients' AND chunk = \(chunk)
      """)
    let blockStart = at / PartChecksums.blockBytes * PartChecksums.blockBytes
    let expected = StoreError.damagedPart(
      name: "churn", version: 1, part: "coefficients", offset: blockStart,
      length: min(PartChecksums.blockBytes, bytes.count - blockStart))
    #expect(throws: expected) { _ = try InMemoryArtifactReader.load(from: registry, name: "churn", version: 1) }
    #expect(throws: expected) { _ = try registry.loadPart("churn", version: 1, part: "coefficients") }
  }

  @Test(arguments: ["missing", "renumbered", "shortened"])
  func chunksOutOfPlaceAreDamage(change: String) throws {
    let registry = try registry(bytes, chunkBytes: 70_000)
    switch change {
    case "missing": try execute(registry, "DELETE FROM model_artifact WHERE part = 'coefficients' AND chunk = 1")
    case "renumbered":
      try execute(registry, "UPDATE model_artifact SET chunk = 7 WHERE part = 'coefficients' AND chunk = 2")
    default:
      try execute(
        registry,
        "UPDATE model_artifact SET data = substring(data from 1 for 10) WHERE part = 'coefficients' AND chunk = 0")
    }
    #expect {
      _ = try InMemoryArtifactReader.load(from: registry, name: "churn", version: 1)
    } throws: { error in
      guard case .damagedPart(let name, let version, let part, _, _) = error as? StoreError else { return false }
      return name == "churn" && version == 1 && part == "coefficients"
    }
  }
}
