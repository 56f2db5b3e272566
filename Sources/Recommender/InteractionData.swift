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
    var userIndex: [String: Int32] = [:]
    var itemIndex: [String: Int32] = [:]
    var userIDs: [String] = []
    var itemIDs: [String] = []
    var users: [Int32] = []
    var items: [Int32] = []
    var values: [Float] = []
    var times: [Double] = []
    var rows = 0
    while try reader.next() {
      rows += 1
      guard let userID = try reader.string(userColumn), !reader.isMissing(userColumn) else {
        throw reader.error(atField: userColumn, "the user id is blank; expected an id")
      }
      guard let itemID = try reader.string(itemColumn), !reader.isMissing(itemColumn) else {
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
      let u: Int32
      if let known = userIndex[userID] {
        u = known
      } else {
        u = Int32(userIDs.count)
        userIndex[userID] = u
        userIDs.append(userID)
      }
      let i: Int32
      if let known = itemIndex[itemID] {
        i = known
      } else {
        i = Int32(itemIDs.count)
        itemIndex[itemID] = i
        itemIDs.append(itemID)
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

  /// Merges repeated user–item pairs (sum, or mean when `averaging`).
  mutating func combineDuplicates(averaging: Bool) {
    var order = Array(users.indices)
    order.sort { (users[$0], items[$0]) < (users[$1], items[$1]) }
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
