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

  /// Flips the lowest bit of the coefficients' byte `at`, stored in rows of 70,000 bytes.
  func flipByte(_ registry: PostgresRegistry, at: Int) throws {
    let chunk = at / 70_000
    // PostgreSQL's set_byte/get_byte count from 0 within the chunk's bytea.
    let offset = at - chunk * 70_000
    try execute(
      registry,
      """
      UPDATE model_artifact SET data = set_byte(data, \(offset), get_byte(data, \(offset)) # 1)
      WHERE part = 'coefficients' AND chunk = \(chunk)
      """)
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
    try flipByte(registry, at: at)
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

  /// Ranged reads through the registry's own reader: a part is read and checked whole on PostgreSQL, so a range
  /// inside the damaged block, overlapping it by one byte, or in another block of the part all fail naming the
  /// damaged block (on SQLite, which checks only the blocks a range touches, the other blocks still read); the
  /// version's other parts are untouched.
  @Test(arguments: [1, 65_535, 150_000])
  func rangedReadsOfADamagedPartFail(at: Int) throws {
    let registry = try registry(bytes, chunkBytes: 70_000)
    try flipByte(registry, at: at)
    let block = at / PartChecksums.blockBytes
    let blockStart = block * PartChecksums.blockBytes
    let expected = StoreError.damagedPart(
      name: "churn", version: 1, part: "coefficients", offset: blockStart,
      length: min(PartChecksums.blockBytes, bytes.count - blockStart))
    try registry.withArtifactReader("churn", version: 1) { (reader) throws -> Void in
      #expect(throws: expected) { _ = try reader.read("coefficients", offset: at, length: 1) }
      #expect(throws: expected) { _ = try reader.read("coefficients", offset: max(0, blockStart - 1), length: 2) }
      let other = block == 0 ? 1 : 0
      let start = other * PartChecksums.blockBytes
      #expect(throws: expected) { _ = try reader.read("coefficients", offset: start, length: 100) }
      #expect(try reader.read("schema", offset: 0, length: 2) == Array("{}".utf8))
    }
    #expect(try registry.loadPart("churn", version: 1, part: "schema") == Array("{}".utf8))
  }

  /// Checksums that do not fit the part (a damaged checksum row) are damage too.
  @Test func checksumsThatDoNotFitThePartAreDamage() throws {
    let registry = try registry([1, 2, 3], chunkBytes: 70_000)
    try execute(registry, "UPDATE model_part_checksum SET hashes = '\\x0102'::bytea WHERE part = 'coefficients'")
    #expect(throws: StoreError.damagedPart(name: "churn", version: 1, part: "coefficients", offset: 0, length: 3)) {
      _ = try registry.loadPart("churn", version: 1, part: "coefficients")
    }
  }

  /// Undamaged parts — one of several chunks, an empty one — read whole and in ranges across chunk and block
  /// borders; one checksum row per part, eight bytes per block.
  @Test func undamagedPartsReadWholeAndInRanges() throws {
    let location = Backend.postgresql.location(temporaryStorePath())
    guard case .postgresql(let address) = try StoreLocation(parsing: location) else { return }
    let registry = try PostgresRegistry(address: address, create: true, chunkBytes: 50_000)
    let bytes = (0..<300_001).map { UInt8(truncatingIfNeeded: $0 &* 13) }
    var version = sample(bytes: bytes)
    version.parts["empty"] = []
    _ = try registry.register(version)
    #expect(try registry.loadPart("churn", version: 1, part: "coefficients") == bytes)
    #expect(try registry.loadPart("churn", version: 1, part: "empty").isEmpty)
    try registry.withArtifactReader("churn", version: 1) { (reader) throws -> Void in
      for (offset, length) in [(0, 1), (49_999, 2), (65_530, 20), (131_071, 2), (299_990, 11), (0, 300_001)] {
        #expect(
          try reader.read("coefficients", offset: offset, length: length) == Array(bytes[offset..<(offset + length)]))
      }
    }
    let sizes = try registry.session.withConnection { statements in
      try statements.rows(
        PostgresQuery(unsafeSQL: "SELECT part, length(hashes) AS n FROM model_part_checksum ORDER BY part")
      ).map { (try $0.get("part", as: String.self), try $0.get("n", as: Int.self)) }
    }
    #expect(sizes.map(\.0) == ["coefficients", "empty", "schema"])
    #expect(sizes.map(\.1) == [5 * 8, 0, 8])
  }

  /// A checkpoint in chunks of 70,000 bytes reads back with one query, exactly; a missing, repeated or extra chunk
  /// is an error naming the checkpoint, never a shorter or longer state.
  @Test(arguments: [0, 1, 69_999, 70_000, 70_001, 200_000])
  func aCheckpointInChunksReadsBackExactly(size: Int) throws {
    let registry = try registry(bytes, chunkBytes: 70_000)
    let checkpoints = registry.checkpoints()
    let state = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
    try checkpoints.save("stream", sequence: 41, state: state, beforeCommit: nil)
    let loaded = try #require(try checkpoints.load("stream"))
    #expect(loaded.state == state && loaded.sequence == 41)
    // Saved again, smaller: the old chunks are gone.
    try checkpoints.save("stream", sequence: 42, state: Array(state.prefix(size / 3)), beforeCommit: nil)
    #expect(try checkpoints.load("stream")?.state == Array(state.prefix(size / 3)))
    #expect(try checkpoints.load("other") == nil)
  }

  @Test func aDamagedCheckpointIsAnErrorNotAShorterState() throws {
    let registry = try registry(bytes, chunkBytes: 70_000)
    let checkpoints = registry.checkpoints()
    let state = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
    func damaged(_ sql: String) throws -> String {
      try checkpoints.save("stream", sequence: 1, state: state, beforeCommit: nil)
      try execute(registry, sql)
      do {
        _ = try checkpoints.load("stream")
        return "loaded"
      } catch {
        return "\(error)"
      }
    }
    #expect(
      try damaged("DELETE FROM checkpoint_chunk WHERE chunk = 1").contains("missing, repeated or oversized chunk"))
    #expect(try damaged("DELETE FROM checkpoint_chunk WHERE chunk = 2").contains("holds 140000 of its 200000 bytes"))
    #expect(try damaged("UPDATE checkpoint SET bytes = -1").contains("records a size of -1 bytes"))
    #expect(
      try damaged("INSERT INTO checkpoint_chunk (name, chunk, data) VALUES ('stream', 3, '\\x01')")
        .contains("missing, repeated or oversized chunk"))
    #expect(
      try damaged("UPDATE checkpoint_chunk SET data = data || '\\x01'::bytea WHERE chunk = 2")
        .contains("missing, repeated or oversized chunk"))
  }
}
