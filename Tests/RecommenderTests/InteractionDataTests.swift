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
