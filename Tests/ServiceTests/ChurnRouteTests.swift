import Churn
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Modeling
import NIOCore
import TabularIO
import Testing

@testable import Service
@testable import Storage
@testable import StorageSQLite

/// Customers with a plan, calls, charges, auto-pay and an outcome (churn more likely with many calls and no
/// auto-pay).
func churnCustomers(rows: Int = 400) -> String {
  var text = "id,plan,calls,charges,auto_pay,churned\n"
  var state: UInt64 = 12345
  func next() -> Double {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return Double(state >> 11) * 0x1.0p-53
  }
  for i in 0..<rows {
    let plan = ["basic", "silver", "gold"][i % 3]
    let calls = Int(next() * 8)
    let charges = 20 + next() * 80
    let autoPay = next() < 0.5
    let logOdds = -1.5 + 0.4 * Double(calls) - (autoPay ? 1 : 0) + (plan == "gold" ? -0.7 : 0)
    let churned = next() < 1 / (1 + exp(-logOdds))
    text +=
      "C\(i),\(plan),\(calls),\(String(format: "%.2f", charges)),\(autoPay ? "yes" : "no"),\(churned ? "Yes" : "No")\n"
  }
  return text
}

func churnStore() throws -> (ModelStore, String) {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("churn-service-\(UUID())")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  let path = dir.appendingPathComponent("customers.csv").path
  try churnCustomers().write(toFile: path, atomically: true, encoding: .utf8)
  let store = try ModelStore(path: dir.appendingPathComponent("store.sqlite").path, create: true)
  var o = ChurnTrainingOptions(target: "churned")
  o.folds = 0
  let report = try ChurnTrainer.train(path: path, options: o)
  _ = try ChurnStore.register(report, options: o, in: store, name: "churn")
  return (store, path)
}

func churnServer(_ store: ModelStore) -> CommerceServer<PreparedChurnModel> {
  try! ChurnRoutes.server(store: store, name: "churn", options: ServerOptions(), logger: quietLogger())
}

/// Issue 24: `churn serve`'s route through Hummingbird's router test framework.
@Suite struct ChurnRouteTests {
  /// JSON customers (numbers as numbers or strings, booleans as JSON booleans) and CSV bodies score as the
  /// engine scores the same fields; a bad customer gets its own error naming the column while the others score.
  @Test func scoresAsTheEngineDoes() async throws {
    let (store, _) = try churnStore()
    let s = churnServer(store)
    s.model.refresh()
    let stored = try ChurnStore.load(from: store, name: "churn")
    let engine = try PreparedChurnModel(stored.model, version: stored.version)
    try await Application(router: s.router()).test(.router) { client in
      let customers = #"""
        [{"id": "Z1", "plan": "basic", "calls": 6, "charges": 88.5, "auto_pay": "no"},
         {"id": "Z2", "plan": "gold", "calls": "1", "charges": "30.25", "auto_pay": "yes", "extra": 1},
         {"id": "Z3", "plan": "basic", "calls": "many", "charges": 10, "auto_pay": "no"},
         {"id": "Z4", "plan": "silver", "charges": 10, "auto_pay": "no"},
         {"id": "Z5", "plan": "platinum", "calls": 2, "charges": null, "auto_pay": "no"}]
        """#
      let r = try await client.execute(
        uri: "/v1/score?reasons=2", method: .post, headers: jsonHeaders, body: body(customers))
      #expect(r.status == .ok, "\(String(buffer: r.body))")
      let object = try json(r)
      // Exact through JSONDecoder (JSONSerialization may read the last digit differently).
      struct Threshold: Decodable { var threshold: Double }
      #expect(
        try JSONDecoder().decode(Threshold.self, from: Data(r.body.readableBytesView)).threshold
          == stored.model.threshold)
      let predictions = try #require(object["predictions"] as? [[String: Any]])
      #expect(predictions.count == 5)
      let fields: [[String: String]] = [
        ["plan": "basic", "calls": "6", "charges": "88.5", "auto_pay": "no"],
        ["plan": "gold", "calls": "1", "charges": "30.25", "auto_pay": "yes"],
      ]
      for (k, f) in fields.enumerated() {
        let expected = try engine.score(fields: f, id: "Z\(k + 1)", reasons: 2)
        let got = try JSONDecoder().decode(
          ChurnPrediction.self, from: try JSONSerialization.data(withJSONObject: predictions[k]))
        #expect(got.id == expected.id && got.decile == expected.decile && got.churn == expected.churn)
        #expect(abs(got.probability - expected.probability) < 1e-12)
        #expect(got.reasons == expected.reasons)
      }
      #expect(predictions[2]["column"] as? String == "calls")
      #expect((predictions[2]["error"] as? String)?.contains("expected a number, found 'many'") == true)
      #expect(predictions[3]["column"] as? String == "calls")
      #expect((predictions[3]["error"] as? String)?.contains("no value for 'calls'") == true)
      // An unseen level is scored as the reference level and named; a null is a missing value.
      #expect(predictions[4]["unseen_levels"] as? [String] == ["plan"])
      #expect(predictions[4]["decision"] as? String != nil)
      // The same customers as CSV.
      let csv = "id,plan,calls,charges,auto_pay\nZ1,basic,6,88.5,no\nZ2,gold,1,30.25,yes\n"
      let c = try await client.execute(
        uri: "/v1/score?reasons=2", method: .post, headers: [.contentType: "text/csv"], body: body(csv))
      let fromCSV = try #require(try json(c)["predictions"] as? [[String: Any]])
      for k in 0..<2 {
        #expect(fromCSV[k]["probability"] as? Double == predictions[k]["probability"] as? Double)
        #expect(fromCSV[k]["id"] as? String == "Z\(k + 1)")
      }
      // threshold=1: nobody churns.
      let high = try await client.execute(
        uri: "/v1/score?threshold=1", method: .post, headers: jsonHeaders, body: body(customers))
      let all = try #require(try json(high)["predictions"] as? [[String: Any]])
      #expect(all.compactMap { $0["decision"] as? String }.allSatisfy { $0 == "stay" })
    }
  }

  /// The churn route's probabilities equal `churn score`'s CSV loop (same engine) to 1e-12 for every training
  /// customer.
  @Test func agreesWithTheCSVLoopForEveryCustomer() async throws {
    let (store, path) = try churnStore()
    let s = churnServer(store)
    s.model.refresh()
    let stored = try ChurnStore.load(from: store, name: "churn")
    let writer = try CSVTestSink()
    _ = try ChurnScorer.score(
      model: stored.model, input: try CSVReader(path: path), writer: writer.writer, reasons: 0)
    let expected = try writer.rows().dropFirst().map { ($0[0], Double($0[1])!) }
    let text = try String(contentsOfFile: path, encoding: .utf8)
    try await Application(router: s.router()).test(.router) { client in
      let r = try await client.execute(
        uri: "/v1/score?reasons=0", method: .post, headers: [.contentType: "text/csv"], body: body(text))
      let predictions = try #require(try json(r)["predictions"] as? [[String: Any]])
      #expect(predictions.count == expected.count)
      for (p, e) in zip(predictions, expected) {
        #expect(p["id"] as? String == e.0)
        // The CSV prints six decimals; the route the full value.
        #expect(abs((p["probability"] as? Double ?? -1) - e.1) < 5e-7)
      }
      let again = try stored.model.score(fields: ["plan": "basic", "calls": "6", "charges": "88.5", "auto_pay": "no"])
      let one = try await client.execute(
        uri: "/v1/score", method: .post, headers: jsonHeaders,
        body: body(#"[{"plan": "basic", "calls": 6, "charges": 88.5, "auto_pay": "no"}]"#))
      let first = try #require((try json(one)["predictions"] as? [[String: Any]])?.first)
      #expect(abs((first["probability"] as? Double ?? -1) - again.probability) < 1e-12)
      #expect(first["id"] as? String == "1")
    }
  }

  @Test func unusableBodiesAre400() async throws {
    let (store, _) = try churnStore()
    let s = churnServer(store)
    s.model.refresh()
    try await Application(router: s.router()).test(.router) { client in
      let cases: [(String, HTTPFields, String, String)] = [
        ("/v1/score", jsonHeaders, "", "the body is empty"),
        ("/v1/score", jsonHeaders, "{", "not valid JSON"),
        ("/v1/score", jsonHeaders, #"{"plan": "basic"}"#, "expected an array"),
        ("/v1/score", jsonHeaders, "[]", "must hold 1 to 10000 customers, got 0"),
        ("/v1/score", jsonHeaders, #"[{"plan": ["a"]}]"#, "a string, a number, true, false or null"),
        ("/v1/score?reasons=99", jsonHeaders, "[{}]", "'reasons' must be 0 to 20"),
        ("/v1/score?threshold=2", jsonHeaders, "[{}]", "'threshold' must be a number from 0 to 1"),
        ("/v1/score", [.contentType: "text/csv"], "id,plan\n\"unterminated\n", "the CSV body cannot be read"),
      ]
      for (uri, headers, text, message) in cases {
        let r = try await client.execute(uri: uri, method: .post, headers: headers, body: body(text))
        #expect(r.status == .badRequest, "\(uri) \(text): \(String(buffer: r.body))")
        #expect(errorText(r).contains(message), "\(uri) \(text): \(errorText(r))")
      }
      #expect(try await client.execute(uri: "/v1/score", method: .get).status == .methodNotAllowed)
      let model = try json(try await client.execute(uri: "/v1/model", method: .get))
      #expect(model["kind"] as? String == "churn.logistic-regression")
    }
  }
}

/// A CSV writer into memory, for comparing with `churn score`'s output.
final class CSVTestSink {
  let path = FileManager.default.temporaryDirectory.appendingPathComponent("sink-\(UUID()).csv").path
  let writer: CSVWriter

  init() throws { writer = try CSVWriter(path: path) }

  func rows() throws -> [[String]] {
    try writer.finish()
    return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
      $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }
  }
}
