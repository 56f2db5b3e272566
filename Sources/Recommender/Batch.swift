import Foundation
import LinearAlgebra
import Modeling
import Storage
import TabularIO

/// What a batch run produced.
public struct BatchSummary: Sendable, Codable {
  public var users: Int
  public var rows: Int
  /// Users of the list the model does not know, given the fallback's items instead.
  public var unknownUsers: Int
  /// What those users got: the most popular items, or the average user's (a version without interactions).
  public var fallback: RecommendationSource
}

/// The users a batch run recommends for.
public enum BatchUsers: Sendable, Equatable {
  /// Every user in the model.
  case all
  /// These ids, in this order.
  case ids([String])
  /// The ids in column `column` of the CSV at `path`, in file order.
  case file(path: String, column: String)

  /// The ids asked for, or `nil` for every user.
  /// - Throws: `TabularError` for an unreadable file, a missing column or a blank id (with its line).
  func resolve() throws -> [String]? {
    switch self {
    case .all: return nil
    case .ids(let ids): return ids
    case .file(let path, let column):
      let reader = try CSVReader(path: path)
      let index = try reader.header.require(column, role: "user", file: path)
      var list: [String] = []
      while try reader.next() {
        guard let id = try reader.string(index), !reader.isMissing(index) else {
          throw reader.error(atField: index, "the user id is blank; expected an id")
        }
        list.append(id)
      }
      return list
    }
  }
}

extension StoredRecommender {
  /// Writes the top `n` items of each of `users` to `output` (see `batch(users:count:output:threads:progress:)`).
  public func batch(
    _ users: BatchUsers, count n: Int, output: String, threads: Int, progress: ((Int, Int) -> Void)? = nil
  ) throws -> BatchSummary {
    if case .file(let path, _) = users { try OutputFiles.refuseOverwriting(output, inputs: [path]) }
    return try batch(users: try users.resolve(), count: n, output: output, threads: threads, progress: progress)
  }

  /// Writes the top `n` items of every user (or of `users`) to `output` as CSV
  /// `user_id,rank,item_id,score,source` (source `model`, or `popularity` for a user the model does not know,
  /// whose score is then the item's number of users — `average-user` and the average user's score for a version
  /// imported without interactions), scoring blocks of users with one matrix product each, in parallel.
  ///
  /// The file appears only when complete. Users not in the model get the most popular items.
  /// - Parameter progress: called with the number of users done after each block of 8,192.
  public func batch(
    users requested: [String]?, count n: Int, output: String, threads: Int, progress: ((Int, Int) -> Void)? = nil
  ) throws -> BatchSummary {
    guard n >= 1 else { throw CommerceError(.usage, "\(.count) must be at least 1, got \(n)", parameter: .count) }
    try OutputFiles.refuseOverwriting(output, inputs: store.files)
    let loaded = try withModel { model in try BatchModel(model) }
    let writer = try CSVWriter(path: output, bufferBytes: 1 << 20)
    writer.writeRow(["user_id", "rank", "item_id", "score", "source"])
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
        let source: RecommendationSource
        if rows[k] != nil {
          list = tops[next]
          source = .model
          next += 1
        } else {
          list = popular
          source = loaded.fallback
        }
        for (rank, entry) in list.enumerated() {
          writer.writeField(id)
          writer.writeField(rank + 1)
          writer.writeField(loaded.itemIDs[entry.index])
          writer.writeField(Double(entry.score), decimals: 6)
          writer.writeField(source.rawValue)
          writer.endRow()
          written += 1
        }
      }
      start = end
      progress?(end, rows.count)
    }
    try writer.finish()
    return BatchSummary(users: rows.count, rows: written, unknownUsers: unknown, fallback: loaded.fallback)
  }
}

/// A whole model in memory, for batch scoring: the family's model and the shell's ids, seen items and popularity.
struct BatchModel {
  var userIDs: [String]
  var itemIDs: [String]
  var family: any RecommenderModel
  var seen: SparseMatrix
  var popularity: [Float]
  var fallback: RecommendationSource
  /// `model 'NAME' version N`, for messages.
  var label: String

  init(_ model: ServingModel) throws {
    let r = model.reader
    label = "model '\(model.version.name)' version \(model.version.version)"
    guard let uo = ArtifactCoding.integers(try r.readAll(RecommenderPart.userIDOffsets), as: UInt64.self),
      let users = ArtifactCoding.unpackStrings(bytes: try r.readAll(RecommenderPart.userIDs), offsets: uo),
      let io = ArtifactCoding.integers(try r.readAll(RecommenderPart.itemIDOffsets), as: UInt64.self),
      let items = ArtifactCoding.unpackStrings(bytes: try r.readAll(RecommenderPart.itemIDs), offsets: io),
      let so = ArtifactCoding.integers(try r.readAll(RecommenderPart.seenOffsets), as: UInt64.self),
      so.count == users.count + 1,
      let si = ArtifactCoding.integers(try r.readAll(RecommenderPart.seenItems), as: UInt32.self),
      si.allSatisfy({ Int($0) < items.count }),
      zip(so, so.dropFirst()).allSatisfy({ $0 <= $1 }), so.last.map({ $0 <= UInt64(si.count) }) == true,
      let seen = try? SparseMatrix(
        rowCount: users.count, columnCount: items.count, rowStart: so.map { Int($0) },
        columns: si.map { Int32(bitPattern: $0) }, values: [Float](repeating: 1, count: si.count))
    else {
      throw CommerceError(
        .damaged,
        "model '\(model.version.name)' version \(model.version.version): its id or seen-item parts are damaged")
    }
    userIDs = users
    itemIDs = items
    family = try RecommenderFamilies.serving(model).load()
    self.seen = seen
    popularity = try model.popularity()
    fallback = model.fallback
  }

  /// The top `n` unseen items of each user row.
  func top(users: [Int], n: Int, threads: Int) throws -> [[(index: Int, score: Float)]] {
    do {
      return try RankedScoring.top(family, users: users, seen: seen, k: n, threads: threads)
    } catch let error as CommerceError where error.kind == .damaged {
      throw CommerceError(.damaged, "\(label): \(error.description)")
    }
  }
}
