import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Modeling
import NIOCore
import Testing

@testable import Recommender
@testable import Service
@testable import Storage
@testable import StorageSQLite

/// A store holding a small recommender (two taste groups of users and items, a catalogue), in a fresh directory.
func recommenderStore(factors: Int = 2, seed: UInt64 = 42) throws -> (ModelStore, String) {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("service-\(UUID())")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  var text = "user_id,item_id,count\n"
  for group in ["A", "B"] {
    let items = (1...5).map { "\(group.lowercased())\($0)" }
    for u in 1...6 {
      for (k, item) in items.enumerated() where k != (u - 1) % 5 {
        text += "\(group)-\(u),\(item),\(1 + (u + k) % 3)\n"
      }
    }
  }
  let path = dir.appendingPathComponent("interactions.csv").path
  try text.write(toFile: path, atomically: true, encoding: .utf8)
  var catalogText = "item_id,title\n"
  for group in ["a", "b"] { for k in 1...5 { catalogText += "\(group)\(k),Item \(group)\(k)\n" } }
  let catalogPath = dir.appendingPathComponent("items.csv").path
  try catalogText.write(toFile: catalogPath, atomically: true, encoding: .utf8)
  let storePath = dir.appendingPathComponent("store.sqlite").path
  let store = try ModelStore(path: storePath, create: true)
  try trainVersion(store, interactions: path, catalog: catalogPath, factors: factors, seed: seed)
  return (store, path)
}

/// Trains and registers (and activates) one more version.
@discardableResult
func trainVersion(_ store: ModelStore, interactions: String, catalog: String? = nil, factors: Int, seed: UInt64) throws
  -> ModelVersion
{
  var columns = InteractionColumns()
  columns.value = "count"
  let data = try InteractionData.load(path: interactions, columns: columns, feedback: .implicit)
  var c = ImplicitALS.Configuration()
  c.factors = factors
  c.regularization = 0.1
  c.threads = 1
  c.seed = seed
  let model = try TrainedRecommender.train(
    data, configuration: .implicitALS(c), catalog: try catalog.map { try ItemCatalog.load(path: $0) })
  return try model.register(in: store, name: "recommender", fingerprint: data.fingerprint)
}

/// Overwrites a part of one version with zero bytes, its checksums left as they were (damage the load finds).
func zeroPart(_ store: ModelStore, _ part: String, version: Int) throws {
  try store.pool.write { db in
    try db.execute(
      sql: """
        UPDATE model_artifact SET data = zeroblob(length(data))
        WHERE part = ? AND model_id = (SELECT id FROM model_version WHERE version = ?)
        """,
      arguments: [part, version])
  }
}

func quietLogger() -> Logger {
  var logger = Logger(label: "test")
  logger.logLevel = .critical
  return logger
}

func server(_ store: ModelStore, token: String? = nil, maxBody: Int = 1 << 20) -> CommerceServer<LoadedRecommender> {
  var options = ServerOptions()
  options.token = token
  options.maxBodyBytes = maxBody
  return try! RecommendRoutes.server(store: store, name: "recommender", options: options, logger: quietLogger())
}

func json(_ response: TestResponse) throws -> [String: Any] {
  try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
}

func errorText(_ response: TestResponse) -> String {
  ((try? json(response))?["error"] as? String) ?? "<no error field: \(String(buffer: response.body))>"
}

func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

let jsonHeaders: HTTPFields = [.contentType: "application/json"]

/// Issue 24: `recommend serve`'s routes through Hummingbird's router test framework.
@Suite struct RecommendRouteTests {
  @Test func answersAsTheEngineDoes() async throws {
    let (store, _) = try recommenderStore()
    let s = server(store)
    s.model.refresh()
    let engine = try StoredRecommender(store: store, name: "recommender")
    let app = Application(router: s.router())
    try await app.test(.router) { client in
      for user in ["A-1", "B-2", "nobody"] {
        let r = try await client.execute(uri: "/v1/users/\(user)/recommendations?n=3", method: .get)
        #expect(r.status == .ok)
        #expect(r.headers[.contentType] == "application/json")
        let list = try JSONDecoder().decode(RecommendationList.self, from: Data(r.body.readableBytesView))
        #expect(list == (try engine.recommend(user: user, count: 3)), "\(user)")
      }
      let seen = try await client.execute(uri: "/v1/users/A-1/recommendations?n=10&include_seen=true", method: .get)
      #expect(
        try JSONDecoder().decode(RecommendationList.self, from: Data(seen.body.readableBytesView))
          == (try engine.recommend(user: "A-1", count: 10, includeSeen: true)))
      let similar = try await client.execute(uri: "/v1/items/a1/similar?n=2", method: .get)
      #expect(
        try JSONDecoder().decode(RecommendationList.self, from: Data(similar.body.readableBytesView))
          == (try engine.similar(item: "a1", count: 2)))
      let visitor = try await client.execute(
        uri: "/v1/recommendations", method: .post, headers: jsonHeaders,
        body: body(#"{"history": ["b4", "b5"], "n": 3}"#))
      #expect(visitor.status == .ok)
      let folded = try JSONDecoder().decode(RecommendationList.self, from: Data(visitor.body.readableBytesView))
      #expect(folded == (try engine.recommend(user: "", count: 3, history: ["b4", "b5"], strict: true)))
      #expect(folded.source == .foldedIn)
      let known = try await client.execute(
        uri: "/v1/recommendations", method: .post, headers: jsonHeaders,
        body: body(#"{"user_id": "A-2", "history": []}"#))
      #expect(
        try JSONDecoder().decode(RecommendationList.self, from: Data(known.body.readableBytesView))
          == (try engine.recommend(user: "A-2", count: 10)))
      let model = try json(try await client.execute(uri: "/v1/model", method: .get))
      #expect(model["name"] as? String == "recommender" && model["version"] as? Int == 1)
      #expect(model["kind"] as? String == "recommender.als-implicit" && model["active"] as? Bool == true)
    }
  }

  @Test func aBatchAnswersEachUserAndTheirOwnErrors() async throws {
    let (store, _) = try recommenderStore()
    let s = server(store)
    s.model.refresh()
    let engine = try StoredRecommender(store: store, name: "recommender")
    try await Application(router: s.router()).test(.router) { client in
      let r = try await client.execute(
        uri: "/v1/recommendations/batch", method: .post, headers: jsonHeaders,
        body: body(#"{"users": ["A-1", "nobody", "B-6"], "n": 2}"#))
      #expect(r.status == .ok)
      let object = try json(r)
      let results = try #require(object["results"] as? [[String: Any]])
      #expect(results.map { $0["user_id"] as? String } == ["A-1", "nobody", "B-6"])
      for entry in results {
        let user = entry["user_id"] as! String
        let data = try JSONSerialization.data(withJSONObject: entry["recommendations"]!)
        #expect(
          try JSONDecoder().decode(RecommendationList.self, from: data) == (try engine.recommend(user: user, count: 2)))
      }
      let many = "[" + (0...RecommendRoutes.maxBatchUsers).map { "\"U\($0)\"" }.joined(separator: ",") + "]"
      let tooMany = try await client.execute(
        uri: "/v1/recommendations/batch", method: .post, headers: jsonHeaders, body: body(#"{"users": \#(many)}"#))
      #expect(tooMany.status == .badRequest && errorText(tooMany).contains("'users' must hold 1 to 1000"))
    }
  }

  /// Every error is JSON with its status, naming what was wrong; nothing is 500.
  @Test func badRequestsAreNamed() async throws {
    let (store, _) = try recommenderStore()
    let s = server(store, maxBody: 256)
    s.model.refresh()
    try await Application(router: s.router()).test(.router) { client in
      let cases: [(String, HTTPRequest.Method, String?, HTTPResponse.Status, String)] = [
        ("/v1/users/A-1/recommendations?n=0", .get, nil, .badRequest, "'n' must be 1 to 1000, got 0"),
        ("/v1/users/A-1/recommendations?n=ten", .get, nil, .badRequest, "'n' must be an integer, got 'ten'"),
        ("/v1/users/A-1/recommendations?n=1001", .get, nil, .badRequest, "'n' must be 1 to 1000"),
        ("/v1/users/A-1/recommendations?include_seen=maybe", .get, nil, .badRequest, "'include_seen' must be true"),
        ("/v1/users/nobody/recommendations?strict=true", .get, nil, .notFound, "user 'nobody' is not in the model"),
        ("/v1/items/zz/similar", .get, nil, .notFound, "item 'zz' is not in the model"),
        ("/v1/recommendations", .post, "{", .badRequest, "not valid JSON"),
        ("/v1/recommendations", .post, "", .badRequest, "the body is empty"),
        ("/v1/recommendations", .post, #"{"history": "b4"}"#, .badRequest, "'history': expected an array"),
        ("/v1/recommendations", .post, #"{"history": ["b4"], "n": "3"}"#, .badRequest, "'n': expected an integer"),
        ("/v1/recommendations", .post, #"{"n": 3}"#, .badRequest, "'history' is required"),
        ("/v1/recommendations", .post, #"{"history": []}"#, .badRequest, "'history' must name at least one item"),
        ("/v1/recommendations", .post, #"{"history": ["zz"]}"#, .notFound, "item 'zz' is not in the model"),
        ("/v1/recommendations", .post, String(repeating: " ", count: 300), .contentTooLarge, "limit"),
        ("/v1/nothing", .get, nil, .notFound, "Not Found"),
        ("/v1/items/a1/similar", .post, "{}", .methodNotAllowed, "this route answers GET"),
        ("/healthz", .delete, nil, .methodNotAllowed, "this route answers GET"),
      ]
      for (uri, method, text, status, message) in cases {
        let r = try await client.execute(
          uri: uri, method: method, headers: text == nil ? [:] : jsonHeaders, body: text.map(body))
        #expect(r.status == status, "\(method) \(uri): \(String(buffer: r.body))")
        #expect(errorText(r).contains(message), "\(method) \(uri): \(errorText(r))")
        #expect(r.headers[.contentType] == "application/json", "\(uri)")
      }
      let wrong = try await client.execute(uri: "/v1/model", method: .post)
      #expect(wrong.headers[.allow] == "GET")
    }
  }

  @Test func aTokenGuardsTheModelRoutesButNotHealth() async throws {
    let (store, _) = try recommenderStore()
    let s = server(store, token: "s3cret-token")
    s.model.refresh()
    try await Application(router: s.router()).test(.router) { client in
      for headers: HTTPFields in [[:], [.authorization: "Bearer wrong"], [.authorization: "s3cret-token"]] {
        let r = try await client.execute(uri: "/v1/users/A-1/recommendations", method: .get, headers: headers)
        #expect(r.status == .unauthorized, "\(headers)")
        #expect(r.headers[.wwwAuthenticate] == "Bearer")
        #expect(!String(buffer: r.body).contains("s3cret"))
      }
      let ok = try await client.execute(
        uri: "/v1/users/A-1/recommendations", method: .get, headers: [.authorization: "Bearer s3cret-token"])
      #expect(ok.status == .ok)
      for open in ["/healthz", "/readyz", "/metrics"] {
        #expect(try await client.execute(uri: open, method: .get).status == .ok, "\(open)")
      }
    }
    #expect(BearerMiddleware.same(Array("abc".utf8), Array("abc".utf8)))
    #expect(!BearerMiddleware.same(Array("abc".utf8), Array("abd".utf8)))
    #expect(!BearerMiddleware.same(Array("abc".utf8), Array("abcd".utf8)))
    #expect(!BearerMiddleware.same([], Array("a".utf8)))
  }

  @Test func healthReadinessMetricsAndRequestIDs() async throws {
    let (store, _) = try recommenderStore()
    let s = server(store)
    try await Application(router: s.router()).test(.router) { client in
      #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
      let notYet = try await client.execute(uri: "/readyz", method: .get)
      #expect(notYet.status == .serviceUnavailable && errorText(notYet).contains("no model is loaded"))
      #expect(
        try await client.execute(uri: "/v1/users/A-1/recommendations", method: .get).status == .serviceUnavailable)
      s.model.refresh()
      let ready = try json(try await client.execute(uri: "/readyz", method: .get))
      #expect(ready["status"] as? String == "ready")
      let given = try await client.execute(
        uri: "/v1/users/A-1/recommendations", method: .get, headers: [.init("X-Request-Id")!: "abc-123"])
      #expect(given.headers[.init("X-Request-Id")!] == "abc-123")
      let made = try await client.execute(uri: "/v1/nothing", method: .get)
      let madeID = try #require(made.headers[.init("X-Request-Id")!])
      #expect(madeID.wholeMatch(of: /[0-9a-f]{8}-[0-9]+/) != nil, "\(madeID)")
      // An unusable id (too long, or with a space or control character) is replaced, not echoed.
      for bad in [String(repeating: "x", count: 129), "a b", "tab\there"] {
        let replaced = try await client.execute(uri: "/healthz", method: .get, headers: [.init("X-Request-Id")!: bad])
        #expect(replaced.headers[.init("X-Request-Id")!]?.wholeMatch(of: /[0-9a-f]{8}-[0-9]+/) != nil)
      }
      let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
      #expect(
        metrics.contains(
          #"commerceml_http_requests_total{route="/v1/users/{id}/recommendations",method="GET",status="200"} 1"#),
        "\(metrics)")
      #expect(metrics.contains(#"status="503"} 1"#))
      #expect(metrics.contains(#"route="unmatched""#))
      #expect(metrics.contains(#"commerceml_model_serving{model="recommender",version="1"} 1"#))
      #expect(metrics.contains(#"commerceml_model_loads_total{model="recommender"} 1"#))
      #expect(metrics.contains("commerceml_http_request_duration_seconds_bucket"))
      s.readiness.drain()
      #expect(try await client.execute(uri: "/readyz", method: .get).status == .serviceUnavailable)
      #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
    }
  }

  /// Another process promotes or rolls back: the next look at the stamp loads the new version whole and swaps it
  /// in; a version that fails to load is counted and the old one keeps serving.
  @Test func hotReloadFollowsPromoteAndRollback() async throws {
    let (store, interactions) = try recommenderStore(factors: 2)
    let s = server(store)
    #expect(s.model.refresh())
    #expect(!s.model.refresh())  // nothing changed
    try trainVersion(store, interactions: interactions, factors: 3, seed: 7)
    #expect(s.model.refresh())
    #expect(s.model.current?.version.version == 2)
    try store.rollback("recommender")
    #expect(s.model.refresh())
    #expect(s.model.current?.version.version == 1)
    // Version 3 is damaged: promoting it changes nothing that serves.
    let bad = try trainVersion(store, interactions: interactions, factors: 2, seed: 9)
    try zeroPart(store, "item_factors", version: bad.version)
    #expect(!s.model.refresh())
    #expect(s.model.current?.version.version == 1)
    #expect(s.metrics.text().contains(#"commerceml_model_load_failures_total{model="recommender"} 1"#))
    try await Application(router: s.router()).test(.router) { client in
      let r = try await client.execute(uri: "/v1/users/A-1/recommendations?n=2", method: .get)
      let list = try JSONDecoder().decode(RecommendationList.self, from: Data(r.body.readableBytesView))
      #expect(list.model.version == 1)
    }
    // A registered version by number, loaded on demand and kept.
    #expect(try s.model.version(2).version.version == 2)
    #expect(throws: (any Error).self) { _ = try s.model.version(9) }
  }
}
