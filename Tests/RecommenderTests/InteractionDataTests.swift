import Foundation
import TabularIO
import Testing

@testable import Recommender

/// Writes `text` to a new temporary file and returns its path.
func temporaryFile(_ text: String, name: String = "data.csv") -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rec-\(UUID())")
  try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  let path = dir.appendingPathComponent(name).path
  try! text.write(toFile: path, atomically: true, encoding: .utf8)
  return path
}

@Suite struct InteractionDataTests {
  @Test func stringIdsAndDuplicates() throws {
    let path = temporaryFile("user_id,item_id,count\nU-1,P-9,2\nU-2,P-9,1\nU-1,P-9,3\nU-1,42,1\n")
    var columns = InteractionColumns()
    columns.value = "count"
    let data = try InteractionData.load(path: path, columns: columns, feedback: .implicit)
    #expect(data.userIDs == ["U-1", "U-2"])
    #expect(data.itemIDs == ["P-9", "42"])
    #expect(data.rowCount == 4)
    // U-1/P-9 summed: 2 + 3.
    #expect(
      zip(zip(data.users, data.items), data.values).map { "\($0.0)-\($0.1)=\($1)" } == [
        "0-0=5.0", "0-1=1.0", "1-0=1.0",
      ])
    let explicit = try InteractionData.load(path: path, columns: columns, feedback: .explicit)
    #expect(explicit.values == [2.5, 1, 1])
    let noValue = try InteractionData.load(path: path, columns: InteractionColumns(), feedback: .implicit)
    #expect(noValue.values == [2, 1, 1])
  }

  func loadError(_ text: String, value: String? = "v", timestamp: String? = nil) -> String {
    let path = temporaryFile(text)
    var columns = InteractionColumns()
    columns.value = value
    columns.timestamp = timestamp
    do {
      _ = try InteractionData.load(path: path, columns: columns, feedback: .implicit)
      return "no error"
    } catch {
      return "\(error)".replacingOccurrences(of: path, with: "F")
    }
  }

  @Test func badInputMessages() {
    #expect(
      loadError("customer,product\n1,2\n")
        == "F:1: no user column 'user_id' in the header; the columns are: 'customer', 'product'")
    #expect(loadError("") == "F:1: the file is empty; expected a header line")
    #expect(loadError("user_id,item_id,v\n") == "F:2: the file has a header but no interactions")
    #expect(loadError("user_id,item_id,v\na,b,x\n") == "F:2:5: column 'v': expected a number, found \"x\"")
    #expect(loadError("user_id,item_id,v\na,b,-1\n") == "F:2:5: column 'v': expected a value ≥ 0, found -1.0")
    #expect(loadError("user_id,item_id,v\na,b,NaN\n") == "F:2:5: column 'v': expected a number, found \"NaN\"")
    #expect(loadError("user_id,item_id,v\na,b,inf\n") == "F:2:5: column 'v': expected a number, found \"inf\"")
    #expect(loadError("user_id,item_id,v\na,b,1e39\n") == "F:2:5: column 'v': the value 1e+39 is too large")
    #expect(loadError("user_id,item_id,v\na,b,\n") == "F:2:5: column 'v': the value is blank; expected a number")
    #expect(loadError("user_id,item_id,v\n ,b,1\n") == "F:2:1: column 'user_id': the user id is blank; expected an id")
    #expect(loadError("user_id,item_id,v\na,b,1,9\n") == "F:2:7: expected 3 fields as in the header, found 4")
    #expect(
      loadError("user_id,item_id,t\na,b,yesterday\n", value: nil, timestamp: "t")
        == "F:2:5: column 't': expected a timestamp like 2018-04-01 00:00:50, 2018-04-01T00:00:50.250Z or epoch seconds, found \"yesterday\""
    )
  }

  @Test func catalog() throws {
    let path = temporaryFile("item_id,title,price\nP-1,\"Lamp, brass\",9.5\nP-2,Desk,120\n")
    let c = try ItemCatalog.load(path: path)
    #expect(c.columns == ["title", "price"])
    #expect(c.rows["P-1"] == ["Lamp, brass", "9.5"])
    let dup = temporaryFile("item_id,title\nP-1,a\nP-1,b\n")
    #expect(throws: TabularError.self) { _ = try ItemCatalog.load(path: dup) }
    let noID = temporaryFile("sku,title\nP-1,a\n")
    #expect(throws: TabularError.self) { _ = try ItemCatalog.load(path: noID) }
  }
}

/// The loader's id tables and duplicate merging (issue 23: one pass over the bytes, a sort of each user's row).
@Suite struct InteractionLoadingTests {
  /// A naive reference: pairs in (user, item) order, values summed (or averaged) in file order, latest time kept.
  func reference(_ rows: [(String, String, Float, Double)], averaging: Bool) -> [String] {
    var order: [String: Int] = [:]
    var users: [String] = []
    var itemOrder: [String: Int] = [:]
    var items: [String] = []
    var sums: [[Int]: (Float, Float, Double)] = [:]
    for (u, i, v, t) in rows {
      if order[u] == nil {
        order[u] = users.count
        users.append(u)
      }
      if itemOrder[i] == nil {
        itemOrder[i] = items.count
        items.append(i)
      }
      let key = [order[u]!, itemOrder[i]!]
      let old = sums[key] ?? (0, 0, -.infinity)
      sums[key] = (old.0 + v, old.1 + 1, max(old.2, t))
    }
    return sums.keys.sorted { $0[0] != $1[0] ? $0[0] < $1[0] : $0[1] < $1[1] }.map { key in
      let (s, n, t) = sums[key]!
      return "\(key[0])-\(key[1])=\(averaging ? s / n : s)@\(t)"
    }
  }

  @Test func randomFilesAgreeWithTheReference() throws {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next(_ bound: Int) -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int((state >> 33) % UInt64(bound))
    }
    for trial in 0..<6 {
      // Some users with long rows (the sort path), ids that are prefixes of others, grouped and shuffled files.
      var rows: [(String, String, Float, Double)] = []
      let users = [3, 40, 2000][trial % 3]
      for _ in 0..<5000 {
        let u = "u\(next(users))"
        let i = next(4) == 0 ? "i\(next(5))" : "i\(next(3000))"
        rows.append((u, i, Float(next(7)) + 0.25, Double(1_700_000_000 + next(1_000_000))))
      }
      if trial % 2 == 0 { rows.sort { $0.0 < $1.0 } }
      var text = "user_id,item_id,value,time\n"
      for (u, i, v, t) in rows { text += "\(u),\(i),\(v),\(Int(t))\n" }
      let path = temporaryFile(text)
      var columns = InteractionColumns()
      columns.value = "value"
      columns.timestamp = "time"
      for feedback in [Feedback.implicit, .explicit] {
        let data = try InteractionData.load(path: path, columns: columns, feedback: feedback)
        let got = (0..<data.users.count).map {
          "\(data.users[$0])-\(data.items[$0])=\(data.values[$0])@\(data.times![$0])"
        }
        #expect(got == reference(rows, averaging: feedback == .explicit), "trial \(trial) \(feedback)")
        #expect(data.rowCount == rows.count)
        // Ids in order of first appearance.
        var seen = Set<String>()
        #expect(data.userIDs == rows.map(\.0).filter { seen.insert($0).inserted })
        let m = try data.matrix()
        #expect(m.nonZeroCount == data.users.count && m.rowCount == data.userIDs.count)
      }
    }
  }

  @Test func internerKeepsIndicesThroughGrowth() throws {
    let interner = ByteInterner()
    func index(_ id: String) throws -> Int32 {
      var bytes = Array(id.utf8)
      return try bytes.withUnsafeMutableBufferPointer { b in
        try interner.index(of: UnsafeBufferPointer(b)) {}
      }
    }
    // Ten thousand ids (the table grows several times), each asked again out of order and twice in a row.
    let ids =
      (0..<10_000).map { "id-\($0 * 7919 % 10_007)" } + ["", "a", "ab", "abc", "x" + String(repeating: "y", count: 40)]
    for (k, id) in ids.enumerated() { #expect(try index(id) == Int32(k)) }
    for (k, id) in ids.enumerated().reversed() {
      #expect(try index(id) == Int32(k))
      #expect(try index(id) == Int32(k))
    }
    #expect(interner.count == ids.count)
    // A failing `added` adds nothing.
    struct Refused: Error {}
    var bytes = Array("new".utf8)
    #expect(throws: TabularError.self) {
      try bytes.withUnsafeMutableBufferPointer { b in
        _ = try interner.index(of: UnsafeBufferPointer(b)) { () throws(TabularError) in
          throw TabularError(.badValue, file: "f", "refused")
        }
      }
    }
    #expect(interner.count == ids.count)
    #expect(try index("new") == Int32(ids.count))
  }
}
