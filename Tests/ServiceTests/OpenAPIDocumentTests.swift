import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Service

/// Issue 24: the OpenAPI documents committed under `openapi/` are the ones the servers serve, and they describe
/// every route the router answers.
@Suite struct OpenAPIDocumentTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  @Test(arguments: OpenAPIDocument.App.allCases)
  func theCommittedCopyIsCurrent(app: OpenAPIDocument.App) throws {
    let committed = try String(
      contentsOf: Self.root.appendingPathComponent("openapi/\(app.rawValue).json"), encoding: .utf8)
    #expect(committed == (try OpenAPIDocument.text(app)), "run Scripts/export-openapi.sh")
    let document = try #require(try JSONSerialization.jsonObject(with: Data(committed.utf8)) as? [String: Any])
    #expect(document["openapi"] as? String == "3.1.0")
    let paths = Set((document["paths"] as? [String: Any])?.keys.map { $0 } ?? [])
    let own: Set<String> =
      app == .recommend
      ? [
        "/v1/users/{id}/recommendations", "/v1/recommendations", "/v1/recommendations/batch", "/v1/items/{id}/similar",
      ]
      : app == .churn ? ["/v1/score"] : ["/v1/transactions", "/v1/labels", "/v1/state"]
    let shared: Set<String> = [
      "/healthz", "/readyz", "/metrics", "/openapi.json", "/v1/model", "/v2/health/live", "/v2/health/ready",
      "/v2/models/{name}", "/v2/models/{name}/ready", "/v2/models/{name}/infer", "/v2/models/{name}/versions/{version}",
      "/v2/models/{name}/versions/{version}/ready", "/v2/models/{name}/versions/{version}/infer",
    ]
    #expect(paths == own.union(shared))
  }

  @Test func theServerServesIt() async throws {
    let (store, _) = try recommenderStore()
    let document = try OpenAPIDocument.text(.recommend)
    let s = try RecommendRoutes.server(
      store: store, name: "recommender", options: ServerOptions(), logger: quietLogger())
    try await Application(router: s.router()).test(.router) { client in
      let r = try await client.execute(uri: "/openapi.json", method: .get)
      #expect(r.status == .ok && r.headers[.contentType] == "application/json")
      #expect(String(buffer: r.body) == document)
    }
  }
}
