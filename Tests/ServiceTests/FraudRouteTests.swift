import Foundation
import Fraud
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

/// The sample fraud history and stream (SampleData/fraud), a store trained on the history.
func fraudStore() throws -> (store: ModelStore, stream: [String]) {
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("SampleData/fraud")
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fraud-service-\(UUID())")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  let store = try ModelStore(path: dir.appendingPathComponent("store.sqlite").path, create: true)
  let report = try FraudTrainer.train(
    path: root.appendingPathComponent("history.csv").path, mapping: ColumnMapping(), labelDelay: 7 * 86_400,
    rules: .standard, target: .alertRate(0.01))
  _ = try FraudStore.register(report, in: store, name: "fraud")
  let lines = try String(contentsOf: root.appendingPathComponent("stream.csv"), encoding: .utf8)
    .split(separator: "\n").map(String.init)
  return (store, lines)
}

/// A server on `store` and a second engine on the same training snapshot to compare with.
func fraudServer(_ store: ModelStore, _ fraudOptions: FraudServeOptions = FraudServeOptions()) throws -> FraudServer {
  var options = StreamOptions()
  options.statsEvery = 86_400
  let stream = try FraudStream.open(
    store: store, name: "fraud", resume: false, rulesWithoutModel: false,
    checkpointName: FraudStream.serverCheckpointName(model: "fraud"), options: options)
  return try FraudRoutes.server(
    store: store, name: "fraud", decider: FraudDecider(stream: stream), options: ServerOptions(),
    fraudOptions: fraudOptions, logger: quietLogger())
}

/// Line `k` of the sample stream as a JSON object (the amount a number, lat/lon numbers, the rest strings).
func transactionJSON(_ lines: [String], _ k: Int) -> String {
  let names = lines[0].split(separator: ",").map(String.init)
  let fields = lines[k].split(separator: ",", omittingEmptySubsequences: false)
  let numeric: Set<String> = ["amount", "lat", "lon"]
  return "{"
    + zip(names, fields).map { numeric.contains($0) ? "\"\($0)\":\($1)" : "\"\($0)\":\"\($1)\"" }.joined(separator: ",")
    + "}"
}

/// Issue 25: `fraud serve`'s routes through Hummingbird's router test framework.
@Suite struct FraudRouteTests {
  /// One object and arrays decide as the stream's engine decides the same transactions, in order; a retry gets the
  /// same bytes and `X-Replayed`; the state counts each once.
  @Test func decidesAsTheEngine() async throws {
    let (store, lines) = try fraudStore()
    let server = try fraudServer(store)
    defer { try? server.stop() }
    server.server.model.refresh()
    // The engine alone, on the same snapshot (no checkpoint store of its own).
    let stored = try FraudStore.load(from: store, name: "fraud")
    let snapshotTransactions = stored.state.processed
    var o = StreamOptions()
    o.checkpointEvery = .max
    let engine = FraudDecider(
      stream: FraudStream(model: stored.model, state: stored.state, states: nil, checkpointName: "", options: o))
    let reader = try CSVReader(bytes: Array((lines[0...40].joined(separator: "\n") + "\n").utf8), name: "stream")
    let expected = try TransactionSource.transactions(reader, mapping: ColumnMapping()).map { tx, id in
      guard case .decided(let d, _) = try engine.decide(tx, id: id) else { throw ServiceError(.badRequest, "refused") }
      return d
    }
    try await Application(router: server.server.router()).test(.router) { client in
      var got: [FraudDecision] = []
      let one = try await client.execute(
        uri: "/v1/transactions", method: .post, headers: jsonHeaders, body: body(transactionJSON(lines, 1)))
      #expect(one.status == .ok, "\(String(buffer: one.body))")
      got.append(try JSONDecoder().decode(FraudDecision.self, from: Data(one.body.readableBytesView)))
      let again = try await client.execute(
        uri: "/v1/transactions", method: .post, headers: jsonHeaders, body: body(transactionJSON(lines, 1)))
      #expect(again.headers[HTTPField.Name("X-Replayed")!] == "true")
      #expect(String(buffer: again.body) == String(buffer: one.body))
      let array = "[" + (2...40).map { transactionJSON(lines, $0) }.joined(separator: ",") + "]"
      let many = try await client.execute(
        uri: "/v1/transactions", method: .post, headers: jsonHeaders, body: body(array))
      #expect(many.status == .ok)
      got += try JSONDecoder().decode([FraudDecision].self, from: Data(many.body.readableBytesView))
      #expect(got.count == expected.count)
      for (a, b) in zip(got, expected) {
        #expect(a.transactionID == b.transactionID && a.decision == b.decision && a.reasons == b.reasons)
        #expect(abs((a.score ?? -1) - (b.score ?? -2)) < 1e-15)
        #expect(a.modelVersion == 1)
      }
      let state = try json(try await client.execute(uri: "/v1/state", method: .get))
      #expect(state["transactions"] as? Int == snapshotTransactions + 40)
      #expect(state["remembered_decisions"] as? Int == 40)
      // Labels: known transactions are matched, unknown ones counted.
      let labels = try json(
        try await client.execute(
          uri: "/v1/labels", method: .post, headers: jsonHeaders,
          body: body(#"[{"transaction_id":"T27162","fraud":true},{"transaction_id":"nope","fraud":"genuine"}]"#)))
      #expect(labels["received"] as? Int == 2 && labels["matched"] as? Int == 1 && labels["learned"] as? Int == 0)
      // V2: the same transaction again is a retry, answered with the remembered values.
      let id = got[3].transactionID
      let fields = lines[4].split(separator: ",", omittingEmptySubsequences: false)
      let v2 = """
        {"inputs":[{"name":"transaction_id","shape":[1],"datatype":"BYTES","data":["\(id)"]},
        {"name":"timestamp","shape":[1],"datatype":"BYTES","data":["\(fields[1])"]},
        {"name":"card","shape":[1],"datatype":"BYTES","data":["\(fields[2])"]},
        {"name":"amount","shape":[1],"datatype":"FP64","data":[\(fields[6])]}]}
        """
      let inferred = try json(
        try await client.execute(uri: "/v2/models/fraud/infer", method: .post, headers: jsonHeaders, body: body(v2)))
      let outputs = try #require(inferred["outputs"] as? [[String: Any]])
      let byName = Dictionary(uniqueKeysWithValues: outputs.map { ($0["name"] as! String, $0["data"] as! [Any]) })
      #expect(byName["transaction_id"]?.first as? String == id)
      #expect(byName["decision"]?.first as? String == got[3].decision)
      #expect(abs((byName["score"]?.first as? Double ?? -1) - (got[3].score ?? -2)) < 1e-15)
      #expect(byName["model_version"]?.first as? Int == 1)
      let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
      #expect(metrics.contains("commerceml_fraud_retries_total 2"))
      #expect(metrics.contains("commerceml_fraud_labels_total 2"))
      #expect(metrics.contains("commerceml_fraud_labels_unmatched_total 1"))
      #expect(metrics.contains("commerceml_fraud_score_count 40"))
    }
  }

  /// A transaction answered by the fallback before its turn, and refused by the clock rules when its turn came: it
  /// does not enter the state, and its retry gets the fallback answer its client was given (late, far ahead, and
  /// entered before), never a refusal or a real score; a fallback for a transaction that enters stays its answer too.
  @Test func aFallbackTheClockRulesRefuseIsWhatItsRetryGets() throws {
    let (store, lines) = try fraudStore()
    let stored = try FraudStore.load(from: store, name: "fraud")
    var o = StreamOptions()
    o.checkpointEvery = .max
    let engine = FraudDecider(
      stream: FraudStream(model: stored.model, state: stored.state, states: nil, checkpointName: "", options: o))
    func transactions(_ rows: [String]) throws -> [(Transaction, String)] {
      let reader = try CSVReader(
        bytes: Array(([lines[0]] + rows).joined(separator: "\n").appending("\n").utf8), name: "t")
      return try TransactionSource.transactions(reader, mapping: ColumnMapping())
    }
    // The first ten enter as usual and set the clock.
    for (tx, id) in try transactions(Array(lines[1...10])) {
      guard case .decided(_, retry: false) = try engine.decide(tx, id: id) else {
        Issue.record("\(id) was not decided")
        return
      }
    }
    let entered = engine.processed
    let remembered = engine.remembered
    let refusedRows = [
      "LATE1,2025-01-01 00:00:00,C1,M1,restaurant,BR,3.00,0,0",
      "AHEAD1,2027-06-01 00:00:00,C1,M1,restaurant,BR,3.00,0,0",
      "T27161,2026-01-29 00:05:00,C66,M1,travel,JP,10.76,35.6671,139.7802",  // from the training history
      lines[3],  // entered before, with its decision remembered: a retry, not a refusal
    ]
    let refused = try transactions(refusedRows)
    let kinds: [FraudRefusal.Kind] = [.late, .aheadOfClock, .enteredBefore]
    for ((tx, id), kind) in zip(refused, kinds) {
      guard case .refused(_, let refusal) = try engine.decide(tx, id: id, fallback: .decline) else {
        Issue.record("\(id) was not refused")
        continue
      }
      #expect(refusal.kind == kind)
    }
    #expect(engine.processed == entered, "a refused transaction entered the state")
    #expect(engine.remembered == remembered + 3)
    for (tx, id) in refused.prefix(3) {
      // The retry, as a client that got the fallback sends it: the fallback answer, whatever the clock says now.
      guard case .decided(let d, retry: true) = try engine.decide(tx, id: id) else {
        Issue.record("the retry of \(id) was not the remembered answer")
        continue
      }
      #expect(
        d.decision == "decline" && d.reasons == ["OVERLOAD"] && d.score == nil && d.modelVersion == engine.version)
    }
    // A transaction remembered before keeps its first answer even when a fallback is asked for.
    let (tx3, id3) = refused[3]
    guard case .decided(let first, retry: true) = try engine.decide(tx3, id: id3, fallback: .decline) else {
      Issue.record("\(id3) was not a retry")
      return
    }
    #expect(first.reasons != ["OVERLOAD"] && first.score != nil)
    // A fallback for a transaction that enters: it enters once, and its retry gets the fallback.
    let (tx11, id11) = try transactions([lines[11]])[0]
    guard case .decided(let f, retry: false) = try engine.decide(tx11, id: id11, fallback: .review) else {
      Issue.record("\(id11) was not decided")
      return
    }
    #expect(f.decision == "review" && f.reasons == ["OVERLOAD"] && f.score == nil)
    #expect(engine.processed == entered + 1)
    guard case .decided(let g, retry: true) = try engine.decide(tx11, id: id11) else {
      Issue.record("the retry of \(id11) was not the remembered answer")
      return
    }
    #expect(g == f)
    #expect(engine.processed == entered + 1)
  }

  /// Malformed bodies are 400 naming the transaction and field, nothing entered; a late transaction is 422.
  @Test func badBodiesAndRefusals() async throws {
    let (store, lines) = try fraudStore()
    let server = try fraudServer(store)
    defer { try? server.stop() }
    server.server.model.refresh()
    let good = transactionJSON(lines, 1)
    try await Application(router: server.server.router()).test(.router) { client in
      let processed = try json(try await client.execute(uri: "/v1/state", method: .get))["transactions"] as? Int
      for (text, message) in [
        ("", "the body is empty"),
        ("{", "not valid JSON"),
        ("[]", "holds no transactions"),
        (
          #"{"transaction_id":"A","timestamp":"2026-01-29 00:04:09","card":"C1","amount":"abc"}"#,
          "column 'amount': expected a number"
        ),
        (
          "[\(good),{\"transaction_id\":\"B\",\"timestamp\":\"2026-01-29 00:04:09\",\"amount\":3}]",
          "transactions[1]: column 'card'"
        ),
        (#"{"transaction_id":"A","timestamp":"2026-01-29 00:04:09","card":{"x":1},"amount":3}"#, "is an object"),
        (
          #"{"transaction_id":"A","transaction_id":"B","timestamp":"2026-01-29","card":"C","amount":3}"#,
          "given twice"
        ),
        (#"{"transaction_id":"A","timestamp":"2026-01-29 00:04:09","card":"C1","amount":-4}"#, "amount ≥ 0"),
        (#"{"transaction_id":"A","type":"label","label":1}"#, "send labels"),
      ] {
        let r = try await client.execute(uri: "/v1/transactions", method: .post, headers: jsonHeaders, body: body(text))
        #expect(r.status == .badRequest, "\(text)")
        #expect(String(buffer: r.body).contains(message), "\(text): \(String(buffer: r.body))")
      }
      // Nothing of a refused body entered the state (the good transaction of the bad array included).
      #expect(try json(try await client.execute(uri: "/v1/state", method: .get))["transactions"] as? Int == processed)
      let late = #"{"transaction_id":"OLD","timestamp":"2025-01-01 00:00:00","card":"C1","amount":3}"#
      let r = try await client.execute(uri: "/v1/transactions", method: .post, headers: jsonHeaders, body: body(late))
      #expect(r.status == .unprocessableContent)
      #expect(try json(r)["refused"] as? String == "late")
      for (text, message) in [
        (#"{"transaction_id":"A"}"#, "the label is missing"), (#"{"fraud":1}"#, "the transaction id is blank"),
        (#"{"transaction_id":"A","fraud":"maybe"}"#, "expected a label"),
        (#"{"transaction_id":"A","fraud":1,"time":"yesterday"}"#, "expected a time"),
      ] {
        let l = try await client.execute(uri: "/v1/labels", method: .post, headers: jsonHeaders, body: body(text))
        #expect(l.status == .badRequest, "\(text)")
        #expect(String(buffer: l.body).contains(message), "\(text): \(String(buffer: l.body))")
      }
      let v2 = #"{"inputs":[{"name":"nonsense","shape":[1],"datatype":"BYTES","data":["x"]}]}"#
      let bad = try await client.execute(
        uri: "/v2/models/fraud/infer", method: .post, headers: jsonHeaders, body: body(v2))
      #expect(bad.status == .badRequest)
      #expect(String(buffer: bad.body).contains("no input 'nonsense'"))
    }
  }
}
