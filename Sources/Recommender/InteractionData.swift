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
  /// With a timestamp column: the earliest and the latest time of the rows read (blank times aside), for the
  /// model card; `nil` without one or when every time is blank.
  public var timeSpan: ClosedRange<Double>? = nil
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
    // Reads of 128 KiB, not 1 MiB: each read streams through the cache, and a smaller one leaves the id tables
    // there (the item table is probed at random on every row).
    var options = CSVReader.Options()
    options.chunkBytes = 128 << 10
    let reader = try CSVReader(path: path, options: options)
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
    var first = Double.infinity
    var last = -Double.infinity
    for t in times where t.isFinite {
      first = min(first, t)
      last = max(last, t)
    }
    if first <= last { data.timeSpan = first...last }
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
  ///
  /// One stable counting scatter by user (file order kept within a user), then each user's entries ordered by
  /// packed `(item, position)` keys — an item's repeats are summed in file order — and merged in place: O(n) plus a
  /// sort of each user's row, with no per-row allocation.
  mutating func combineDuplicates(averaging: Bool) {
    let n = users.count
    let userCount = userIDs.count
    var rowStart = [Int](repeating: 0, count: userCount + 1)
    for u in users { rowStart[Int(u) + 1] += 1 }
    for r in 0..<userCount { rowStart[r + 1] += rowStart[r] }
    var byUserItems = [Int32](repeating: 0, count: n)
    var byUserValues = [Float](repeating: 0, count: n)
    var byUserTimes = [Double](repeating: 0, count: times == nil ? 0 : n)
    let hasTimes = times != nil
    var longest = 0
    users.withUnsafeBufferPointer { users in
      items.withUnsafeBufferPointer { items in
        values.withUnsafeBufferPointer { values in
          byUserItems.withUnsafeMutableBufferPointer { outItems in
            byUserValues.withUnsafeMutableBufferPointer { outValues in
              rowStart.withUnsafeBufferPointer { start in
                var next = [Int](start.dropLast())
                next.withUnsafeMutableBufferPointer { next in
                  for k in 0..<n {
                    let u = Int(users[k])
                    let w = next[u]
                    outItems[w] = items[k]
                    outValues[w] = values[k]
                    next[u] = w + 1
                  }
                }
                for r in 0..<userCount { longest = max(longest, start[r + 1] - start[r]) }
              }
            }
          }
        }
      }
    }
    if hasTimes, let times {
      var next = Array(rowStart.dropLast())
      for k in 0..<n {
        let u = Int(users[k])
        byUserTimes[next[u]] = times[k]
        next[u] += 1
      }
    }
    // Each row: keys (item << 32 | position in the row), sorted; equal items merged in position (file) order.
    var keys = [UInt64](repeating: 0, count: longest)
    var rowValues = [Float](repeating: 0, count: longest)
    var rowTimes = [Double](repeating: 0, count: hasTimes ? longest : 0)
    var outUsers = [Int32](repeating: 0, count: n)
    var write = 0
    byUserItems.withUnsafeMutableBufferPointer { itemsOut in
      byUserValues.withUnsafeMutableBufferPointer { valuesOut in
        byUserTimes.withUnsafeMutableBufferPointer { timesOut in
          keys.withUnsafeMutableBufferPointer { keys in
            rowValues.withUnsafeMutableBufferPointer { rowValues in
              rowTimes.withUnsafeMutableBufferPointer { rowTimes in
                outUsers.withUnsafeMutableBufferPointer { outUsers in
                  for r in 0..<userCount {
                    let lo = rowStart[r]
                    let count = rowStart[r + 1] - lo
                    var ordered = true
                    for j in 0..<count {
                      keys[j] = UInt64(UInt32(bitPattern: itemsOut[lo + j])) << 32 | UInt64(j)
                      rowValues[j] = valuesOut[lo + j]
                      if hasTimes { rowTimes[j] = timesOut[lo + j] }
                      if j > 0 && keys[j] < keys[j - 1] { ordered = false }
                    }
                    if !ordered { InteractionData.sortKeys(UnsafeMutableBufferPointer(rebasing: keys[0..<count])) }
                    var j = 0
                    while j < count {
                      let item = Int32(bitPattern: UInt32(truncatingIfNeeded: keys[j] >> 32))
                      var sum: Float = 0
                      var repeats: Float = 0
                      var latest = -Double.infinity
                      while j < count && keys[j] >> 32 == UInt64(UInt32(bitPattern: item)) {
                        let position = Int(truncatingIfNeeded: keys[j] & 0xFFFF_FFFF)
                        sum += rowValues[position]
                        if hasTimes { latest = max(latest, rowTimes[position]) }
                        repeats += 1
                        j += 1
                      }
                      itemsOut[write] = item
                      valuesOut[write] = averaging ? sum / repeats : sum
                      if hasTimes { timesOut[write] = latest }
                      outUsers[write] = Int32(r)
                      write += 1
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    byUserItems.removeLast(n - write)
    byUserValues.removeLast(n - write)
    outUsers.removeLast(n - write)
    users = outUsers
    items = byUserItems
    values = byUserValues
    if hasTimes {
      byUserTimes.removeLast(n - write)
      times = byUserTimes
    }
  }

  /// Sorts distinct keys ascending: insertion sort for a short row, the standard sort for a long one.
  static func sortKeys(_ keys: UnsafeMutableBufferPointer<UInt64>) {
    var keys = keys
    if keys.count > 32 {
      keys.sort()
      return
    }
    for i in 1..<keys.count {
      let key = keys[i]
      var j = i
      while j > 0 && keys[j - 1] > key {
        keys[j] = keys[j - 1]
        j -= 1
      }
      keys[j] = key
    }
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

/// Dense indices for byte strings (ids), by open addressing on a 64-bit FNV-1a hash, the bytes kept in one arena:
/// looking up an id already seen allocates nothing.
///
/// A slot is one word, the hash's upper half beside the index, so that a probe reads one small table and goes to
/// the id's bytes only when the halves agree. The last id found is remembered: a file grouped by user finds each
/// row's user without a table lookup.
final class ByteInterner {
  /// Per slot: `hash >> 32 << 32 | (index + 1)`; 0 is empty.
  private var slots = [UInt64](repeating: 0, count: 1 << 10)
  /// Id `k`'s bytes are `arena[starts[k]..<starts[k + 1]]`.
  private var starts: [Int] = [0]
  private var arena: [UInt8] = []
  private var last: [UInt8] = []
  private var lastIndex: Int32 = -1

  var count: Int { starts.count - 1 }

  @inline(__always)
  static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h ^ (h >> 29)
  }

  @inline(__always)
  static func same(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    if n > 16 { return memcmp(a, b, n) == 0 }
    for i in 0..<n where a[i] != b[i] { return false }
    return true
  }

  /// The index of `bytes`; a new one (the next index) when unseen, after calling `added` (which may throw, and
  /// then nothing is added).
  @inline(__always)
  func index(of bytes: UnsafeBufferPointer<UInt8>, added: () throws(TabularError) -> Void) throws(TabularError)
    -> Int32
  {
    let n = bytes.count
    if lastIndex >= 0 && last.count == n
      && (n == 0 || last.withUnsafeBufferPointer { ByteInterner.same($0.baseAddress!, bytes.baseAddress!, n) })
    {
      return lastIndex
    }
    let k = try lookUp(bytes, added: added)
    last.removeAll(keepingCapacity: true)
    last.append(contentsOf: bytes)
    lastIndex = k
    return k
  }

  private func lookUp(_ bytes: UnsafeBufferPointer<UInt8>, added: () throws(TabularError) -> Void) throws(TabularError)
    -> Int32
  {
    let h = ByteInterner.hash(bytes)
    let tag = (h >> 32) << 32
    let n = bytes.count
    let mask = slots.count - 1
    var s = Int(truncatingIfNeeded: h) & mask
    let found: Int32? = slots.withUnsafeBufferPointer { slots in
      starts.withUnsafeBufferPointer { starts in
        arena.withUnsafeBufferPointer { arena in
          while true {
            let slot = slots[s]
            if slot == 0 { return nil }
            if slot & 0xFFFF_FFFF_0000_0000 == tag {
              let k = Int(slot & 0xFFFF_FFFF) - 1
              let lo = starts[k]
              if starts[k + 1] - lo == n
                && (n == 0 || ByteInterner.same(arena.baseAddress! + lo, bytes.baseAddress!, n))
              {
                return Int32(truncatingIfNeeded: k)
              }
            }
            s = (s + 1) & mask
          }
        }
      }
    }
    if let found { return found }
    try added()
    let k = count
    arena.append(contentsOf: bytes)
    starts.append(arena.count)
    slots[s] = tag | UInt64(k + 1)
    if count * 2 > slots.count { grow() }
    return Int32(truncatingIfNeeded: k)
  }

  /// Doubles the table, placing every id again by its hash.
  private func grow() {
    slots = [UInt64](repeating: 0, count: slots.count * 2)
    let mask = slots.count - 1
    arena.withUnsafeBufferPointer { arena in
      for k in 0..<count {
        let h = ByteInterner.hash(UnsafeBufferPointer(rebasing: arena[starts[k]..<starts[k + 1]]))
        var s = Int(truncatingIfNeeded: h) & mask
        while slots[s] != 0 { s = (s + 1) & mask }
        slots[s] = (h >> 32) << 32 | UInt64(k + 1)
      }
    }
  }
}
