import Foundation
import Testing

/// Issue 12: a 1 MB value in any app's input prints in a table shortened to 96 characters with an ellipsis, at
/// once (a 100 KB
/// category once made `churn train` run for minutes); CSV keeps it whole.
@Suite struct OverlongValueTests {
  let dir = temporaryDirectory()
  let huge = String(repeating: "Z", count: 1 << 20)

  func longestLine(_ text: String) -> Int { text.split(separator: "\n").map(\.count).max() ?? 0 }

  @Test func churnTablesShortenAOneMegabyteCategory() throws {
    var csv = "customer_id,plan,tenure,churned\n"
    var g = SystemRandomNumberGenerator()
    for i in 0..<300 {
      let plan = i % 3 == 0 ? huge : (i % 3 == 1 ? "basic" : "pro")
      let tenure = Int.random(in: 1...70, using: &g)
      csv += "C\(i),\(plan),\(tenure),\(i % 4 == 0 ? "Yes" : "No")\n"
    }
    let data = dir.appendingPathComponent("c.csv").path
    try csv.write(toFile: data, atomically: true, encoding: .utf8)
    let store = dir.appendingPathComponent("c.sqlite").path
    let trained = try run("churn", ["train", "--data", data, "--target", "churned", "--store", store])
    #expect(trained.status == 0, "\(trained.stderr)")
    #expect(
      trained.stdout.contains("reference '" + String(repeating: "Z", count: 74) + "…"), "\(trained.stdout.prefix(600))")
    #expect(longestLine(trained.stdout) < 200)
    let drift = try run("churn", ["drift", "--data", data, "--store", store])
    #expect(drift.status == 0 && longestLine(drift.stdout) < 200, "\(drift.stderr)")
    let scored = try run("churn", ["score", data, "--store", store])
    #expect(scored.status == 0)
  }

  @Test func recommendTablesShortenAOneMegabyteTitle() throws {
    let items = try String(contentsOfFile: sampleData("ecommerce/items.csv"), encoding: .utf8)
      .replacingOccurrences(of: "\"Vintage Headphones\"", with: "\"\(huge)\"")
    let path = dir.appendingPathComponent("items.csv").path
    try items.write(toFile: path, atomically: true, encoding: .utf8)
    let store = dir.appendingPathComponent("r.sqlite").path
    let trained = try run(
      "recommend",
      [
        "train", "--interactions", sampleData("ecommerce/interactions.csv"), "--items", path, "--iterations", "2",
        "--store", store,
      ])
    #expect(trained.status == 0, "\(trained.stderr)")
    let similar = try run("recommend", ["similar", "P-0002", "-n", "239", "--store", store])
    #expect(similar.status == 0, "\(similar.stderr)")
    #expect(similar.stdout.contains(String(repeating: "Z", count: 95) + "…"), "\(similar.stdout)")
    #expect(longestLine(similar.stdout) < 200)
    let whole = try run("recommend", ["similar", "P-0002", "-n", "240", "--store", store, "--format", "csv"])
    #expect(whole.stdout.contains(huge))
  }

  @Test func fraudTablesShortenAOneMegabyteRuleCode() throws {
    let rules = dir.appendingPathComponent("rules.json").path
    try
      #"{"rules": [{"code": "\#(huge)", "decision": "review", "when": [{"value": "amount", "op": ">", "than": 500}]}]}"#
      .write(toFile: rules, atomically: true, encoding: .utf8)
    let store = dir.appendingPathComponent("f.sqlite").path
    let trained = try run(
      "fraud", ["train", "--data", sampleData("fraud/history.csv"), "--rules", rules, "--store", store])
    #expect(trained.status == 0, "\(trained.stderr)")
    let shown = try run("fraud", ["models", "show", "--store", store])
    #expect(shown.status == 0, "\(shown.stderr)")
    #expect(shown.stdout.contains("Z…"), "\(shown.stdout.prefix(800))")
    #expect(longestLine(shown.stdout) < 200)
    let json = try run("fraud", ["models", "show", "--store", store, "--format", "json"])
    #expect(json.stdout.contains(huge))
  }
}
