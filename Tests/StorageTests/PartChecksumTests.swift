import Foundation
import GRDB
import Testing

@testable import Storage
@testable import StorageSQLite

/// Issue 22, class 14: every part's bytes are checked against checksums recorded at registration, whole reads
/// and ranged ones, across chunks; a store written before checksums reads as it did.
@Suite struct PartChecksumTests {
  /// A part of several blocks and chunks, registered, then one byte changed at `at`.
  func damagedStore(size: Int, at: Int, chunkBytes: Int = 256 << 20) throws -> (ModelStore, [UInt8], String) {
    let path = temporaryStorePath()
    let store = try ModelStore(path: path, create: true, chunkBytes: chunkBytes)
    let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    _ = try store.register(sample(bytes: bytes))
    try store.pool.write { db in
      // Rewrite the row holding byte `at` with that byte flipped (the part may be stored in several rows).
      let rows = try Row.fetchAll(
        db, sql: "SELECT rowid, part, data FROM model_artifact WHERE part LIKE 'coefficients%' ORDER BY rowid")
      var start = 0
      for row in rows {
        var data: [UInt8] = Array(row["data"] as Data)
        if at >= start && at < start + data.count {
          data[at - start] ^= 0x01
          try db.execute(
            sql: "UPDATE model_artifact SET data = ? WHERE rowid = ?", arguments: [Data(data), row["rowid"] as Int64])
        }
        start += data.count
      }
    }
    return (store, bytes, path)
  }

  @Test(arguments: [0, 1, 65_535, 65_536, 150_000, 199_999])
  func aChangedByteIsFoundWhereverItIs(at: Int) throws {
    for chunk in [256 << 20, 70_000] {
      let (store, bytes, path) = try damagedStore(size: 200_000, at: at, chunkBytes: chunk)
      defer { cleanup(path) }
      let block = at / PartChecksums.blockBytes
      let blockStart = block * PartChecksums.blockBytes
      let blockLength = min(PartChecksums.blockBytes, bytes.count - blockStart)
      let expected = StoreError.damagedPart(
        name: "churn", version: 1, part: "coefficients", offset: blockStart, length: blockLength)
      #expect(throws: expected) { _ = try store.loadPart("churn", version: 1, part: "coefficients") }
      try store.withArtifactReader("churn", version: 1) { (reader) throws -> Void in
        // A range inside the damaged block, or overlapping it by one byte, fails; the other blocks read.
        #expect(throws: expected) { _ = try reader.read("coefficients", offset: at, length: 1) }
        #expect(throws: expected) {
          _ = try reader.read("coefficients", offset: max(0, blockStart - 1), length: 2)
        }
        let other = block == 0 ? 1 : 0
        let start = other * PartChecksums.blockBytes
        #expect(
          try reader.read("coefficients", offset: start, length: 100) == Array(bytes[start..<(start + 100)]))
      }
      // The other parts of the version are untouched and read.
      #expect(try store.loadPart("churn", version: 1, part: "schema") == Array("{}".utf8))
    }
  }

  @Test func undamagedPartsReadWholeAndInRanges() throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    let store = try ModelStore(path: path, create: true, chunkBytes: 50_000)
    let bytes = (0..<300_001).map { UInt8(truncatingIfNeeded: $0 &* 13) }
    var version = sample(bytes: bytes)
    version.parts["empty"] = []
    _ = try store.register(version)
    #expect(try store.loadPart("churn", version: 1, part: "coefficients") == bytes)
    #expect(try store.loadPart("churn", version: 1, part: "empty").isEmpty)
    try store.withArtifactReader("churn", version: 1) { (reader) throws -> Void in
      for (offset, length) in [(0, 1), (65_530, 20), (131_071, 2), (299_990, 11), (0, 300_001)] {
        #expect(
          try reader.read("coefficients", offset: offset, length: length) == Array(bytes[offset..<(offset + length)]))
      }
    }
    // One checksum row per part, eight bytes per block.
    let sizes = try store.pool.read { db in
      try Row.fetchAll(db, sql: "SELECT part, length(hashes) AS n FROM model_part_checksum ORDER BY part").map {
        ($0["part"] as String, $0["n"] as Int)
      }
    }
    #expect(sizes.map(\.0) == ["coefficients", "empty", "schema"])
    #expect(sizes.map(\.1) == [5 * 8, 0, 8])
  }

  /// Checksums that do not fit the part (a damaged checksum row) are damage too.
  @Test func checksumsThatDoNotFitThePartAreDamage() throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    let store = try ModelStore(path: path, create: true)
    _ = try store.register(sample(bytes: [1, 2, 3]))
    try store.pool.write { db in
      try db.execute(sql: "UPDATE model_part_checksum SET hashes = X'0102' WHERE part = 'coefficients'")
    }
    #expect(throws: StoreError.damagedPart(name: "churn", version: 1, part: "coefficients", offset: 0, length: 3)) {
      _ = try store.loadPart("churn", version: 1, part: "coefficients")
    }
  }

  /// A store from before checksums (no checksum rows, or no table at all) reads its parts unchecked, read-write
  /// and read-only alike; a new registration in it is checked.
  @Test func storesWithoutChecksumsStillRead() throws {
    let path = temporaryStorePath()
    defer { cleanup(path) }
    do {
      let store = try ModelStore(path: path, create: true)
      _ = try store.register(sample(bytes: [4, 5, 6]))
      try store.pool.write { db in
        try db.execute(sql: "DROP TABLE model_part_checksum")
        try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v3: part checksums'")
      }
    }
    // Reopened for reading by a process that may write: migrated, the old version read unchecked.
    let reopened = try ModelStore(path: path, create: false)
    #expect(try reopened.loadPart("churn", version: 1, part: "coefficients") == [4, 5, 6])
    _ = try reopened.register(sample(bytes: [7]))
    #expect(try reopened.loadPart("churn", version: 2, part: "coefficients") == [7])
    let rows = try reopened.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM model_part_checksum") }
    #expect(rows == 2)
  }
}
