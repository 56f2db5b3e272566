import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import Modeling
import Recommender
import Storage

/// `recommend serve`'s routes: thin mappings over `LoadedRecommender`, the engine `recommend USER` and `similar`
/// call.
public enum RecommendRoutes {
  /// The most items one list may ask for.
  public static let maxItems = 1000
  /// The most users one batch may ask for.
  public static let maxBatchUsers = 1000

  /// `POST /v1/recommendations`: a visitor the model may not know, from their history.
  struct VisitorRequest: Decodable {
    var userID: String?
    var history: [String]
    var n: Int?
    var includeSeen: Bool?

    enum CodingKeys: String, CodingKey {
      case userID = "user_id"
      case history, n
      case includeSeen = "include_seen"
    }
  }

  /// `POST /v1/recommendations/batch`.
  struct BatchRequest: Decodable {
    var users: [String]
    var n: Int?
    var includeSeen: Bool?

    enum CodingKeys: String, CodingKey {
      case users, n
      case includeSeen = "include_seen"
    }
  }

  /// One user's answer in a batch: the list, or the error that user alone met.
  struct BatchEntry: Encodable {
    var userID: String
    var recommendations: RecommendationList?
    var error: String?

    enum CodingKeys: String, CodingKey {
      case userID = "user_id"
      case recommendations, error
    }
  }

  struct BatchResponse: Encodable {
    var model: ModelReference
    var results: [BatchEntry]
  }

  /// `n` from the query or body: 1…`maxItems`, default 10.
  static func count(_ n: Int?) throws -> Int {
    let n = n ?? 10
    guard (1...maxItems).contains(n) else {
      throw ServiceError(.badRequest, "'n' must be 1 to \(maxItems), got \(n)")
    }
    return n
  }

  /// A query flag: absent, `true` or `false`.
  static func flag(_ query: FlatDictionary<Substring, Substring>, _ name: String) throws -> Bool {
    guard let text = query[Substring(name)] else { return false }
    switch text.lowercased() {
    case "true", "1": return true
    case "false", "0", "": return false
    default: throw ServiceError(.badRequest, "'\(name)' must be true or false, got '\(text)'")
    }
  }

  static func queryCount(_ query: FlatDictionary<Substring, Substring>) throws -> Int {
    guard let text = query["n"] else { return try count(nil) }
    guard let n = Int(text) else { throw ServiceError(.badRequest, "'n' must be an integer, got '\(text)'") }
    return try count(n)
  }

  static func serving(_ model: HotModel<LoadedRecommender>) throws -> LoadedRecommender {
    guard let now = model.current else { throw ServiceError(.serviceUnavailable, "no model is loaded yet") }
    return now.model
  }

  /// Adds the routes to `v1`.
  public static func add(to v1: RouterGroup<ServiceContext>, model: HotModel<LoadedRecommender>, options: ServerOptions)
  {
    let limit = options.maxBodyBytes
    route(
      v1, "users/{id}/recommendations",
      [
        .get: { request, context in
          let id = try context.parameters.require("id")
          let query = request.uri.queryParameters  // parsed once
          let list = try serving(model).recommend(
            user: id, count: try queryCount(query), includeSeen: try flag(query, "include_seen"),
            strict: try flag(query, "strict"))
          return try JSONBody.response(list)
        }
      ])
    route(
      v1, "recommendations",
      [
        .post: { request, _ in
          let body = try await JSONBody.decode(VisitorRequest.self, from: request, limit: limit)
          guard body.userID != nil || !body.history.isEmpty else {
            throw ServiceError(.badRequest, "'history' must name at least one item when 'user_id' is absent")
          }
          let list = try serving(model).recommend(
            user: body.userID ?? "", count: try count(body.n), includeSeen: body.includeSeen ?? false,
            history: body.history, strict: body.userID == nil)
          return try JSONBody.response(list)
        }
      ])
    route(
      v1, "recommendations/batch",
      [
        .post: { request, _ in
          let body = try await JSONBody.decode(BatchRequest.self, from: request, limit: limit)
          guard (1...maxBatchUsers).contains(body.users.count) else {
            throw ServiceError(.badRequest, "'users' must hold 1 to \(maxBatchUsers) ids, got \(body.users.count)")
          }
          let n = try count(body.n)
          let loaded = try serving(model)
          return try await running(heavy: body.users.count > heavyEntries) {
            let results = body.users.map { user -> BatchEntry in
              do {
                return BatchEntry(
                  userID: user,
                  recommendations: try loaded.recommend(user: user, count: n, includeSeen: body.includeSeen ?? false))
              } catch {
                return BatchEntry(userID: user, error: ServiceError.from(error).message)
              }
            }
            return try JSONBody.response(BatchResponse(model: loaded.version.reference, results: results))
          }
        }
      ])
    route(
      v1, "items/{id}/similar",
      [
        .get: { request, context in
          let id = try context.parameters.require("id")
          return try JSONBody.response(
            try serving(model).similar(item: id, count: try queryCount(request.uri.queryParameters)))
        }
      ])
  }

  /// The whole server for model `name` in `store`: its hot model, metrics, `/v1` and V2 routes and OpenAPI
  /// document — what `recommend serve` runs and the tests drive.
  public static func server(store: any ModelRegistry, name: String, options: ServerOptions, logger: Logger) throws
    -> CommerceServer<LoadedRecommender>
  {
    let metrics = ServiceMetrics()
    let model = self.model(store: store, name: name, metrics: metrics, logger: logger)
    return CommerceServer(
      options: options, model: model, metrics: metrics, logger: logger, v2: v2,
      openAPI: try OpenAPIDocument.text(.recommend)
    ) { add(to: $0, model: model, options: options) }
  }

  /// The hot model for `name` in `store`: each version loaded whole into memory.
  public static func model(store: any ModelRegistry, name: String, metrics: ServiceMetrics, logger: Logger)
    -> HotModel<LoadedRecommender>
  {
    HotModel(store: store, name: name, metrics: metrics, logger: logger) { version in
      try LoadedRecommender(store: store, version: version)
    }
  }
}

extension RecommendRoutes {
  /// The Open Inference Protocol v2 face of a recommender: input `user_id` (BYTES [N]) with parameter `n` (1 to
  /// 1,000, default 10, in the request's or the input's parameters), outputs `item_id` (BYTES [N, n]) and `score`
  /// (FP32 [N, n]); a user with fewer than `n` items to recommend gets `""` and 0 after their last.
  public static let v2 = V2Model<LoadedRecommender>(
    inputs: { _ in [V2.TensorMetadata(name: "user_id", datatype: "BYTES", shape: [-1])] },
    outputs: [
      V2.TensorMetadata(name: "item_id", datatype: "BYTES", shape: [-1, -1]),
      V2.TensorMetadata(name: "score", datatype: "FP32", shape: [-1, -1]),
    ],
    infer: { request, loaded in
      guard let input = request.inputs.first(where: { $0.name == "user_id" }) else {
        throw ServiceError(.badRequest, "the input 'user_id' (BYTES, one id per user) is required")
      }
      guard input.datatype == "BYTES" else {
        throw ServiceError(.badRequest, "input 'user_id': datatype BYTES expected, got \(input.datatype)")
      }
      let users = try input.flat().map(V2.text)
      let n = try count(try V2.integer("n", in: request.parameters, input.parameters))
      var ids: [V2.Value] = []
      var scores: [V2.Value] = []
      ids.reserveCapacity(users.count * n)
      scores.reserveCapacity(users.count * n)
      for user in users {
        let list: RecommendationList
        do {
          list = try loaded.recommend(user: user, count: n)
        } catch {
          throw ServiceError(.badRequest, "user '\(user)': \(ServiceError.from(error).message)")
        }
        for k in 0..<n {
          ids.append(.text(k < list.items.count ? list.items[k].itemID : ""))
          scores.append(.number(k < list.items.count ? Double(list.items[k].score) : 0))
        }
      }
      return [
        V2.OutputTensor(name: "item_id", shape: [users.count, n], datatype: "BYTES", data: ids),
        V2.OutputTensor(name: "score", shape: [users.count, n], datatype: "FP32", data: scores),
      ]
    })
}
