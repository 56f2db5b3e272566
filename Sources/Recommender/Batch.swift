import Foundation
import LinearAlgebra
import Modeling
import Storage
import TabularIO

/// What a batch run produced.
public struct BatchSummary: Sendable {
  public var users: Int
  public var rows: Int
  /// Users of the list the model does not know, given the most popular items instead.
  public var unknownUsers: Int
}

extension StoredRecommender {
  /// Writes the top `n` items of every user (or of `users`) to `output` as CSV
  /// `user_id,rank,item_id,score`, scoring blocks of users with one matrix product each, in parallel.
  ///
  /// The file appears only when complete. Users not in the model get the most popular items.
  /// - Parameter progress: called with the number of users done after each block of 8,192.
  public func batch(
    users requested: [String]?, count n: Int, output: String, threads: Int, progress: ((Int, Int) -> Void)? = nil
  ) throws -> BatchSummary {
    guard n >= 1 else { throw CommerceError(.usage, "\(.count) must be at least 1, got \(n)", parameter: .count) }
    let loaded = try withModel { model in try BatchModel(model) }
    let writer = try CSVWriter(path: output, bufferBytes: 1 << 20)
    writer.writeRow(["user_id", "rank", "item_id", "score"])
    var rows: [Int?]
    var unknown = 0
    if let requested {
      var index: [String: Int] = [:]
      index.reserveCapacity(loaded.userIDs.count)
      for (i, id) in loaded.userIDs.enumerated() { index[id] = i }
      rows = requested.map { index[$0] }
      unknown = rows.lazy.filter { $0 == nil }.count
    } else {
      rows = Array(0..<loaded.userIDs.count)
    }
    let popular = TopK.select(loaded.popularity, k: n)
    let superBlock = 8192
    var written = 0
    var start = 0
    while start < rows.count {
      let end = min(rows.count, start + superBlock)
      let known = (start..<end).compactMap { k in rows[k].map { (k, $0) } }
      let tops = try loaded.top(users: known.map(\.1), n: n, threads: threads)
      var next = 0
      for k in start..<end {
        let id = requested?[k] ?? loaded.userIDs[rows[k]!]
        let list: [(index: Int, score: Float)]
        if rows[k] != nil {
          list = tops[next]
          next += 1
        } else {
          list = popular
        }
        for (rank, entry) in list.enumerated() {
          writer.writeField(id)
          writer.writeField(rank + 1)
          writer.writeField(loaded.itemIDs[entry.index])
          writer.writeField(Double(entry.score), decimals: 6)
          writer.endRow()
          written += 1
        }
      }
      start = end
      progress?(end, rows.count)
    }
    try writer.finish()
    return BatchSummary(users: rows.count, rows: written, unknownUsers: unknown)
  }
}

/// A whole model in memory, for batch scoring.
struct BatchModel {
  var f: Int
  var userIDs: [String]
  var itemIDs: [String]
  var userFactors: [Float]
  var itemFactors: [Float]
  var itemBias: [Float]?
  var seenOffsets: [UInt64]
  var seenItems: [UInt32]
  var popularity: [Float]

  init(_ model: ServingModel) throws {
    let r = model.reader
    f = model.meta.factors
    guard let uo = ArtifactCoding.integers(try r.readAll("user_id_offsets"), as: UInt64.self),
      let users = ArtifactCoding.unpackStrings(bytes: try r.readAll("user_ids"), offsets: uo),
      let io = ArtifactCoding.integers(try r.readAll("item_id_offsets"), as: UInt64.self),
      let items = ArtifactCoding.unpackStrings(bytes: try r.readAll("item_ids"), offsets: io),
      let x = ArtifactCoding.floats(try r.readAll("user_factors")), x.count == users.count * f,
      let so = ArtifactCoding.integers(try r.readAll("seen_offsets"), as: UInt64.self), so.count == users.count + 1,
      let si = ArtifactCoding.integers(try r.readAll("seen_items"), as: UInt32.self)
    else { throw CommerceError(.noModel, "the model's parts are damaged") }
    userIDs = users
    itemIDs = items
    userFactors = x
    itemFactors = try model.allItemFactors()
    itemBias = try model.itemBias()
    seenOffsets = so
    seenItems = si
    popularity = try model.popularity()
  }

  /// The top `n` unseen items of each user row, blocks of 256 users scored by one BLAS product each.
  func top(users: [Int], n: Int, threads: Int) throws -> [[(index: Int, score: Float)]] {
    var out = [[(index: Int, score: Float)]](repeating: [], count: users.count)
    let itemCount = itemIDs.count
    try out.withUnsafeMutableBufferPointer { results in
      let resultPointer = UnsafeSendable(results.baseAddress!)
      try userFactors.withUnsafeBufferPointer { x in
        try itemFactors.withUnsafeBufferPointer { y in
          try Parallel.forEachChunk(count: users.count, threads: threads, chunk: 256) { range, _ in
            var block = [Float](repeating: 0, count: range.count * f)
            var scores = [Float](repeating: 0, count: range.count * itemCount)
            for (r, k) in range.enumerated() {
              for d in 0..<f { block[r * f + d] = x[users[k] * f + d] }
            }
            try block.withUnsafeBufferPointer { b in
              try scores.withUnsafeMutableBufferPointer { s in
                try RawBLAS.gemm(
                  transposeA: false, transposeB: true, m: range.count, n: itemCount, k: f, alpha: 1,
                  a: b.baseAddress!, lda: f, b: y.baseAddress!, ldb: f, beta: 0, c: s.baseAddress!, ldc: itemCount)
              }
            }
            scores.withUnsafeMutableBufferPointer { s in
              for (r, k) in range.enumerated() {
                let row = s.baseAddress! + r * itemCount
                if let itemBias { for i in 0..<itemCount { row[i] += itemBias[i] } }
                let u = users[k]
                for e in Int(seenOffsets[u])..<Int(seenOffsets[u + 1]) { row[Int(seenItems[e])] = -.infinity }
                resultPointer.value[k] = TopK.select(
                  UnsafeBufferPointer(start: row, count: itemCount), k: n, excluded: { row[$0] == -.infinity })
              }
            }
          }
        }
      }
    }
    return out
  }
}
