import Foundation
import Modeling
import TabularIO

/// Whether interaction values are implicit signals (counts, clicks, purchases) or explicit ratings.
public enum Feedback: String, Sendable, Codable, CaseIterable {
  /// Counts or weights: every row is a positive signal, confidence grows with the value.
  case implicit
  /// Ratings to predict (e.g. 1–5 stars).
  case explicit
}

/// The columns of an interactions CSV.
public struct InteractionColumns: Sendable {
  /// The user id column (default `user_id`).
  public var user = "user_id"
  /// The item id column (default `item_id`).
  public var item = "item_id"
  /// The value column (rating, count, weight); absent means 1 per row.
  public var value: String?
  /// A timestamp column; when given, its values are checked.
  public var timestamp: String?

  /// The defaults.
  public init() {}
}

/// Interactions read from a CSV: distinct user–item pairs with their values, ids mapped to dense indices.
public struct InteractionData: Sendable {
  /// User ids by index.
  public var userIDs: [String]
  /// Item ids by index.
  public var itemIDs: [String]
  /// One entry per distinct user–item pair.
  public var users: [Int32]
  public var items: [Int32]
  public var values: [Float]
  /// With a timestamp column: each pair's latest time (seconds since the epoch), for the temporal split.
  public var times: [Double]? = nil
  /// Rows read (before duplicates were combined).
  public var rowCount: Int
  /// Size and hash of the file.
  public var fingerprint: DataFingerprint

  /// Reads an interactions CSV.
  ///
  /// Duplicate user–item rows are summed for implicit feedback and averaged for explicit ratings.
  /// - Throws: `TabularError` placing any bad row (missing column, blank id, bad, negative or
  ///   non-finite value, bad timestamp); `CommerceError` for a file with no interactions.
  public static func load(path: String, columns: InteractionColumns, feedback: Feedback) throws -> InteractionData {
    let reader = try CSVReader(path: path)
    let header = reader.header
    let userColumn = try header.require(columns.user, role: "user", file: path)
    let itemColumn = try header.require(columns.item, role: "item", file: path)
    let valueColumn = try columns.value.map { try header.require($0, role: "value", file: path) }
    let timeColumn = try columns.timestamp.map { try header.require($0, role: "timestamp", file: path) }
    let userIndex = ByteInterner()
    let itemIndex = ByteInterner()
    var userIDs: [String] = []
    var itemIDs: [String] = []
    var users: [Int32] = []
    var items: [Int32] = []
    var values: [Float] = []
    var times: [Double] = []
    var rows = 0
    while try reader.next() {
      rows += 1
      guard let userBytes = reader.fieldBytes(userColumn), !reader.isMissing(userColumn) else {
        throw reader.error(atField: userColumn, "the user id is blank; expected an id")
      }
      guard let itemBytes = reader.fieldBytes(itemColumn), !reader.isMissing(itemColumn) else {
        throw reader.error(atField: itemColumn, "the item id is blank; expected an id")
      }
      var value: Float = 1
      if let valueColumn {
        guard let v = try reader.double(valueColumn) else {
          throw reader.error(atField: valueColumn, "the value is blank; expected a number")
        }
        guard v >= 0 else { throw reader.error(atField: valueColumn, "expected a value ≥ 0, found \(v)") }
        guard v <= Double(Float.greatestFiniteMagnitude) else {
          throw reader.error(atField: valueColumn, "the value \(v) is too large")
        }
        value = Float(v)
      }
      // A blank time is allowed (as before); the temporal split counts it as the earliest.
      if let timeColumn { times.append(try reader.timestamp(timeColumn) ?? -Double.infinity) }
      // Ids are interned by their bytes: a String is made only for an id seen for the first time.
      let u = try userIndex.index(of: userBytes) { () throws(TabularError) in
        guard let id = try reader.string(userColumn) else { throw reader.error(atField: userColumn, "no user id") }
        userIDs.append(id)
      }
      let i = try itemIndex.index(of: itemBytes) { () throws(TabularError) in
        guard let id = try reader.string(itemColumn) else { throw reader.error(atField: itemColumn, "no item id") }
        itemIDs.append(id)
      }
      users.append(u)
      items.append(i)
      values.append(value)
    }
    guard rows > 0 else {
      throw TabularError(.empty, file: path, line: 2, "the file has a header but no interactions")
    }
    var data = InteractionData(
      userIDs: userIDs, itemIDs: itemIDs, users: users, items: items, values: values,
      times: timeColumn == nil ? nil : times, rowCount: rows, fingerprint: reader.fingerprint)
    data.combineDuplicates(averaging: feedback == .explicit)
    return data
  }

  /// The user × item matrix of the pairs. Loaded data holds each pair once, sorted by user then item: its rows are
  /// then taken as they are (no sort); other data is sorted and summed by `SparseMatrix`.
  public func matrix() throws -> SparseMatrix {
    var sorted = true
    for k in 1..<max(users.count, 1) where (users[k - 1], items[k - 1]) >= (users[k], items[k]) {
      sorted = false
      break
    }
    guard sorted, users.allSatisfy({ Int($0) < userIDs.count }) else {
      return try SparseMatrix(
        rowCount: userIDs.count, columnCount: itemIDs.count, rows: users, columns: items, values: values)
    }
    var start = [Int](repeating: 0, count: userIDs.count + 1)
    for u in users { start[Int(u) + 1] += 1 }
    for r in 0..<userIDs.count { start[r + 1] += start[r] }
    return try SparseMatrix(
      rowCount: userIDs.count, columnCount: itemIDs.count, rowStart: start, columns: items, values: values)
  }

  /// Merges repeated user–item pairs (sum, or mean when `averaging`), leaving the pairs sorted by user, then item.
  mutating func combineDuplicates(averaging: Bool) {
    // Two stable counting sorts (by item, then by user): O(n), no comparisons.
    func countingPass(_ keys: [Int32], _ keyCount: Int, _ input: [Int]) -> [Int] {
      var counts = [Int](repeating: 0, count: keyCount + 1)
      for k in keys { counts[Int(k) + 1] += 1 }
      for i in 0..<keyCount { counts[i + 1] += counts[i] }
      var out = [Int](repeating: 0, count: input.count)
      for i in input {
        let k = Int(keys[i])
        out[counts[k]] = i
        counts[k] += 1
      }
      return out
    }
    let order = countingPass(users, userIDs.count, countingPass(items, itemIDs.count, Array(users.indices)))
    var u2: [Int32] = []
    var i2: [Int32] = []
    var v2: [Float] = []
    var t2: [Double] = []
    u2.reserveCapacity(users.count)
    i2.reserveCapacity(users.count)
    v2.reserveCapacity(users.count)
    var k = 0
    while k < order.count {
      let u = users[order[k]]
      let i = items[order[k]]
      var sum: Float = 0
      var n: Float = 0
      var latest = -Double.infinity
      while k < order.count && users[order[k]] == u && items[order[k]] == i {
        sum += values[order[k]]
        if let times { latest = max(latest, times[order[k]]) }
        n += 1
        k += 1
      }
      u2.append(u)
      i2.append(i)
      v2.append(averaging ? sum / n : sum)
      if times != nil { t2.append(latest) }
    }
    users = u2
    items = i2
    values = v2
    if times != nil { times = t2 }
  }
}

/// Item descriptions shown beside recommendations: any columns of an items CSV, keyed by item id.
public struct ItemCatalog: Sendable, Equatable {
  /// The descriptive columns (every column but the id).
  public var columns: [String]
  /// Item id → values, one per column.
  public var rows: [String: [String]]

  /// An empty catalog.
  public init() {
    columns = []
    rows = [:]
  }

  /// Reads an items CSV with an `item_id` column (or `idColumn`) and any other columns.
  /// - Throws: `TabularError` for a missing id column, a blank or duplicated id.
  public static func load(path: String, idColumn: String = "item_id") throws -> ItemCatalog {
    let reader = try CSVReader(path: path)
    try reader.header.requireUniqueNames(file: path)
    let id = try reader.header.require(idColumn, role: "item", file: path)
    var catalog = ItemCatalog()
    catalog.columns = reader.header.names.enumerated().filter { $0.offset != id }.map(\.element)
    while try reader.next() {
      guard let itemID = try reader.string(id), !reader.isMissing(id) else {
        throw reader.error(atField: id, "the item id is blank; expected an id")
      }
      guard catalog.rows[itemID] == nil else {
        throw reader.error(atField: id, "item '\(itemID)' appears twice; expected one row per item")
      }
      var values: [String] = []
      for c in 0..<reader.header.names.count where c != id { values.append(try reader.string(c) ?? "") }
      catalog.rows[itemID] = values
    }
    return catalog
  }
}

/// Dense indices for byte strings (ids), by open addressing on a 64-bit FNV-1a hash with the bytes kept in one arena:
/// looking up an id already seen allocates nothing.
final class ByteInterner {
  private var slots = [Int32](repeating: -1, count: 1 << 10)
  private var hashes: [UInt64] = []
  private var starts: [Int] = [0]
  private var arena: [UInt8] = []

  var count: Int { hashes.count }

  @inline(__always)
  static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h ^ (h >> 29)
  }

  /// The index of `bytes`; a new one (the next index) when unseen, after calling `added` (which may throw, and
  /// then nothing is added).
  @inline(__always)
  func index(of bytes: UnsafeBufferPointer<UInt8>, added: () throws(TabularError) -> Void) throws(TabularError)
    -> Int32
  {
    let h = ByteInterner.hash(bytes)
    let mask = slots.count - 1
    var s = Int(truncatingIfNeeded: h) & mask
    while true {
      let k = slots[s]
      if k < 0 { break }
      if hashes[Int(k)] == h && equal(Int(k), bytes) { return k }
      s = (s + 1) & mask
    }
    try added()
    let k = Int32(hashes.count)
    hashes.append(h)
    arena.append(contentsOf: bytes)
    starts.append(arena.count)
    slots[s] = k
    if hashes.count * 2 > slots.count { grow() }
    return k
  }

  private func equal(_ k: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    let lo = starts[k]
    let n = starts[k + 1] - lo
    guard n == bytes.count else { return false }
    if n == 0 { return true }
    return arena.withUnsafeBufferPointer { memcmp($0.baseAddress! + lo, bytes.baseAddress!, n) == 0 }
  }

  private func grow() {
    slots = [Int32](repeating: -1, count: slots.count * 2)
    let mask = slots.count - 1
    for (k, h) in hashes.enumerated() {
      var s = Int(truncatingIfNeeded: h) & mask
      while slots[s] >= 0 { s = (s + 1) & mask }
      slots[s] = Int32(k)
    }
  }
}
