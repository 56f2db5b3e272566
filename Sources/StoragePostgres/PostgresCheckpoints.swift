import Foundation
import NIOCore
import PostgresNIO
import Storage

/// Stream checkpoints in the registry's database, each replaced in one transaction (a reader sees the previous
/// checkpoint or the new one) and stored in chunks.
final class PostgresCheckpoints: CheckpointStore, @unchecked Sendable {
  let session: PostgresSession
  let chunkBytes: Int

  init(session: PostgresSession, chunkBytes: Int) {
    self.session = session
    self.chunkBytes = chunkBytes
  }

  func save(_ name: String, sequence: Int, state: [UInt8], beforeCommit: (() -> Void)?) throws(StoreError) {
    let chunkBytes = chunkBytes
    try session.transaction { sql in
      try sql.run(
        """
        INSERT INTO checkpoint (name, sequence, created_at, bytes)
        VALUES (\(name), \(Int64(sequence)), \(Date().timeIntervalSince1970), \(Int64(state.count)))
        ON CONFLICT (name) DO UPDATE SET sequence = excluded.sequence, created_at = excluded.created_at,
          bytes = excluded.bytes
        """)
      try sql.run("DELETE FROM checkpoint_chunk WHERE name = \(name)")
      var start = 0
      var k = 0
      repeat {
        let end = min(state.count, start + chunkBytes)
        let piece = ByteBuffer(bytes: state[start..<end])
        try sql.run("INSERT INTO checkpoint_chunk (name, chunk, data) VALUES (\(name), \(k), \(piece))")
        start = end
        k += 1
      } while start < state.count
      beforeCommit?()
    }
  }

  func load(_ name: String) throws(StoreError) -> Checkpoint? {
    let location = session.address.description
    return try session.transaction(readOnly: true) { sql in
      guard
        let row = try sql.rows("SELECT sequence, created_at, bytes FROM checkpoint WHERE name = \(name)").first
      else { return nil }
      let size = Int(try row.get("bytes", as: Int64.self))
      guard size >= 0 else {
        throw StoreError.database(path: location, message: "checkpoint '\(name)' records a size of \(size) bytes")
      }
      // One query streaming the chunks in order straight into the state.
      var state = [UInt8](repeating: 0, count: size)
      let read = try state.withUnsafeMutableBytes { destination in
        try sql.readChunks(
          "SELECT chunk, data FROM checkpoint_chunk WHERE name = \(name) ORDER BY chunk", into: destination)
      }
      guard read.intact, read.filled == size else {
        throw StoreError.database(
          path: location,
          message: read.intact
            ? "checkpoint '\(name)' holds \(read.filled) of its \(size) bytes"
            : "checkpoint '\(name)' has a missing, repeated or oversized chunk at chunk \(read.chunks)")
      }
      return Checkpoint(
        name: name, sequence: Int(try row.get("sequence", as: Int64.self)),
        createdAt: Date(timeIntervalSince1970: try row.get("created_at")), state: state)
    }
  }

  @discardableResult
  func delete(_ name: String) throws(StoreError) -> Bool {
    try session.transaction { sql in
      try sql.run("DELETE FROM checkpoint_chunk WHERE name = \(name)")
      return try sql.run("DELETE FROM checkpoint WHERE name = \(name)") > 0
    }
  }
}
