import Churn
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Modeling
import NIOCore
import Testing

@testable import Recommender
@testable import Service
@testable import Storage
@testable import StorageSQLite

func v2Server(_ store: ModelStore, token: String? = nil) -> CommerceServer<LoadedRecommender> {
  server(store, token: token)
}

func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
  try JSONDecoder().decode(T.self, from: Data(response.body.readableBytesView))
}

/// Issue 24: the Open Inference Protocol v2 routes of both servers.
@Suite struct InferenceProtocolTests {
  @Test func recommenderHealthMetadataAndInfer() async throws {
    let (store, interactions) = try recommenderStore()
    try trainVersion(store, interactions: interactions, factors: 3, seed: 5)  // version 2, active
    let s = v2Server(store)
    s.model.refresh()
    let active = try StoredRecommender(store: store, name: "recommender")
    let first = try StoredRecommender(store: store, name: "recommender", version: 1)
    try await Application(router: s.router()).test(.router) { client in
      #expect(try await client.execute(uri: "/v2/health/live", method: .get).status == .ok)
      #expect(try await client.execute(uri: "/v2/health/ready", method: .get).status == .ok)
      let meta = try decode(
        V2.ModelMetadata.self, try await client.execute(uri: "/v2/models/recommender", method: .get))
      #expect(
        meta.name == "recommender" && meta.versions == ["2"] && meta.platform == "commerceml/recommender.als-implicit")
      #expect(meta.inputs == [V2.TensorMetadata(name: "user_id", datatype: "BYTES", shape: [-1])])
      #expect(meta.outputs.map(\.name) == ["item_id", "score"])
      let versioned = try decode(
        V2.ModelMetadata.self, try await client.execute(uri: "/v2/models/recommender/versions/1", method: .get))
      #expect(versioned.versions == ["1"])
      #expect(try await client.execute(uri: "/v2/models/recommender/ready", method: .get).status == .ok)
      #expect(try await client.execute(uri: "/v2/models/recommender/versions/1/ready", method: .get).status == .ok)
      let request =
        #"{"id": "req-7", "parameters": {"n": 3}, "inputs": [{"name": "user_id", "shape": [3], "datatype": "BYTES", "data": ["A-1", "B-2", "stranger"]}]}"#
      for (uri, engine, version) in [
        ("/v2/models/recommender/infer", active, "2"), ("/v2/models/recommender/versions/1/infer", first, "1"),
      ] {
        let r = try await client.execute(uri: uri, method: .post, headers: jsonHeaders, body: body(request))
        #expect(r.status == .ok, "\(String(buffer: r.body))")
        let answer = try decode(V2.InferResponse.self, r)
        #expect(answer.id == "req-7" && answer.modelName == "recommender" && answer.modelVersion == version)
        let ids = try #require(answer.outputs.first { $0.name == "item_id" })
        let scores = try #require(answer.outputs.first { $0.name == "score" })
        #expect(ids.shape == [3, 3] && scores.shape == [3, 3] && ids.datatype == "BYTES" && scores.datatype == "FP32")
        for (u, user) in ["A-1", "B-2", "stranger"].enumerated() {
          let list = try engine.recommend(user: user, count: 3)
          for k in 0..<3 {
            #expect(ids.data[u * 3 + k] == .text(list.items[k].itemID), "\(uri) \(user)")
            #expect(scores.data[u * 3 + k] == .number(Double(list.items[k].score)), "\(uri) \(user)")
          }
        }
      }
      // Nested data (as some clients send [[...]]) and the parameter on the input.
      let nested =
        #"{"inputs": [{"name": "user_id", "shape": [1, 1], "datatype": "BYTES", "parameters": {"n": 2}, "data": [["A-3"]]}]}"#
      let r = try await client.execute(
        uri: "/v2/models/recommender/infer", method: .post, headers: jsonHeaders, body: body(nested))
      #expect(try decode(V2.InferResponse.self, r).outputs[0].shape == [1, 2])
      let bad: [(String, String, HTTPResponse.Status, String)] = [
        ("/v2/models/other/infer", request, .notFound, "no model 'other' here"),
        ("/v2/models/recommender/versions/9/infer", request, .notFound, "has no version 9"),
        ("/v2/models/recommender/versions/x/infer", request, .badRequest, "a version is a whole number"),
        ("/v2/models/recommender/infer", #"{"inputs": []}"#, .badRequest, "the input 'user_id'"),
        (
          "/v2/models/recommender/infer",
          #"{"inputs": [{"name": "user_id", "shape": [2], "datatype": "BYTES", "data": ["A-1"]}]}"#, .badRequest,
          "shape [2] holds 2 values, its data 1"
        ),
        (
          "/v2/models/recommender/infer",
          #"{"inputs": [{"name": "user_id", "shape": [1], "datatype": "FP32", "data": [1]}]}"#, .badRequest,
          "datatype BYTES expected"
        ),
        (
          "/v2/models/recommender/infer",
          #"{"parameters": {"n": 0}, "inputs": [{"name": "user_id", "shape": [1], "datatype": "BYTES", "data": ["A-1"]}]}"#,
          .badRequest, "'n' must be 1 to 1000"
        ),
        (
          "/v2/models/recommender/infer", #"{"inputs": [{"name": "user_id", "shape": [1], "datatype": "BYTES"}]}"#,
          .badRequest, "'inputs[0].data' is required"
        ),
        ("/v2/models/recommender/infer", "nope", .badRequest, "not valid JSON"),
        // Found by schemathesis: dimensions whose product overflows used to trap the server.
        (
          "/v2/models/recommender/infer",
          #"{"inputs": [{"name": "user_id", "shape": [298, 390743, 1221, 41655343268857, 13636436], "datatype": "BYTES", "data": ["A-1"]}]}"#,
          .badRequest, "is too large"
        ),
      ]
      for (uri, text, status, message) in bad {
        let r = try await client.execute(uri: uri, method: .post, headers: jsonHeaders, body: body(text))
        #expect(r.status == status, "\(uri) \(text): \(String(buffer: r.body))")
        #expect(errorText(r).contains(message), "\(uri) \(text): \(errorText(r))")
      }
    }
  }

  /// The binary tensor data extension (tritonclient's default): a JSON header of the length the header field says,
  /// then each binary input's bytes in order.
  @Test func binaryInputsAreRead() async throws {
    let (store, _) = try recommenderStore()
    let s = v2Server(store)
    s.model.refresh()
    let engine = try StoredRecommender(store: store, name: "recommender")
    let tensor = ["A-1", "B-4"].flatMap { user -> [UInt8] in
      let bytes = Array(user.utf8)
      return withUnsafeBytes(of: UInt32(bytes.count).littleEndian, Array.init) + bytes
    }
    let json = Array(
      #"{"parameters": {"n": 2}, "inputs": [{"name": "user_id", "shape": [2], "datatype": "BYTES", "parameters": {"binary_data_size": \#(tensor.count)}}]}"#
        .utf8)
    try await Application(router: s.router()).test(.router) { client in
      let headers: HTTPFields = [
        .contentType: "application/octet-stream",
        HTTPField.Name("Inference-Header-Content-Length")!: String(json.count),
      ]
      let r = try await client.execute(
        uri: "/v2/models/recommender/infer", method: .post, headers: headers, body: ByteBuffer(bytes: json + tensor))
      #expect(r.status == .ok, "\(String(buffer: r.body))")
      let ids = try decode(V2.InferResponse.self, r).outputs[0]
      let expected = try ["A-1", "B-4"].flatMap { try engine.recommend(user: $0, count: 2).items.map(\.itemID) }
      #expect(ids.data == expected.map { .text($0) })
      // A size past the body, a length cut short, a header longer than the body: 400.
      for (jsonText, extra, message) in [
        (
          String(decoding: json, as: UTF8.self).replacingOccurrences(of: "\(tensor.count)", with: "999"), tensor,
          "runs past the body"
        ),
        (String(decoding: json, as: UTF8.self), Array(tensor.prefix(9)), "runs past the body"),
      ] {
        let head = Array(jsonText.utf8)
        let bad = try await client.execute(
          uri: "/v2/models/recommender/infer", method: .post,
          headers: [HTTPField.Name("Inference-Header-Content-Length")!: String(head.count)],
          body: ByteBuffer(bytes: head + extra))
        #expect(bad.status == .badRequest && errorText(bad).contains(message), "\(errorText(bad))")
      }
      let tooLong = try await client.execute(
        uri: "/v2/models/recommender/infer", method: .post,
        headers: [HTTPField.Name("Inference-Header-Content-Length")!: "100000"], body: ByteBuffer(bytes: json))
      #expect(tooLong.status == .badRequest && errorText(tooLong).contains("Inference-Header-Content-Length"))
    }
    #expect(try V2.binaryValues([0, 0, 0, 0, 0, 0, 0xF8, 0x7F][...], datatype: "FP64", name: "x").count == 1)
    #expect(V2.text(.number(.nan)) == "")
    #expect(throws: ServiceError.self) { _ = try V2.binaryValues([1, 2, 3][...], datatype: "FP32", name: "x") }
    #expect(throws: ServiceError.self) { _ = try V2.binaryValues([1][...], datatype: "UINT8", name: "x") }
    #expect(try V2.binaryValues([1, 0][...], datatype: "BOOL", name: "x") == [.flag(true), .flag(false)])
  }

  @Test func theTokenGuardsModelsButNotHealth() async throws {
    let (store, _) = try recommenderStore()
    let s = v2Server(store, token: "t0k")
    s.model.refresh()
    try await Application(router: s.router()).test(.router) { client async throws in
      #expect(try await client.execute(uri: "/v2/health/ready", method: .get).status == .ok)
      #expect(try await client.execute(uri: "/v2/models/recommender", method: .get).status == .unauthorized)
      #expect(
        try await client.execute(uri: "/v2/models/recommender", method: .get, headers: [.authorization: "Bearer t0k"])
          .status == .ok)
    }
  }

  @Test func churnInfersAsTheEngineScores() async throws {
    let (store, _) = try churnStore()
    let s = churnServer(store)
    s.model.refresh()
    let stored = try ChurnStore.load(from: store, name: "churn")
    let engine = try PreparedChurnModel(stored.model)
    try await Application(router: s.router()).test(.router) { client in
      let meta = try decode(V2.ModelMetadata.self, try await client.execute(uri: "/v2/models/churn", method: .get))
      #expect(meta.inputs.map(\.name) == stored.model.columns.map(\.name))
      #expect(meta.inputs.first { $0.name == "calls" }?.datatype == "FP64")
      #expect(meta.inputs.first { $0.name == "plan" }?.datatype == "BYTES")
      let request = #"""
        {"parameters": {"reasons": 2}, "inputs": [
          {"name": "plan", "shape": [2], "datatype": "BYTES", "data": ["basic", "gold"]},
          {"name": "calls", "shape": [2], "datatype": "FP64", "data": [6, 1]},
          {"name": "charges", "shape": [2], "datatype": "FP64", "data": [88.5, 30.25]},
          {"name": "auto_pay", "shape": [2], "datatype": "BYTES", "data": ["no", "yes"]}]}
        """#
      let r = try await client.execute(
        uri: "/v2/models/churn/infer", method: .post, headers: jsonHeaders, body: body(request))
      #expect(r.status == .ok, "\(String(buffer: r.body))")
      let answer = try decode(V2.InferResponse.self, r)
      let p = try #require(answer.outputs.first { $0.name == "probability" })
      let d = try #require(answer.outputs.first { $0.name == "decision" })
      let why = try #require(answer.outputs.first { $0.name == "reasons" })
      let rows: [[String: String]] = [
        ["plan": "basic", "calls": "6", "charges": "88.5", "auto_pay": "no"],
        ["plan": "gold", "calls": "1", "charges": "30.25", "auto_pay": "yes"],
      ]
      for (k, fields) in rows.enumerated() {
        let e = try engine.score(fields: fields, reasons: 2)
        guard case .number(let got) = p.data[k] else {
          Issue.record("not a number")
          continue
        }
        #expect(abs(got - e.probability) < 1e-12)
        #expect(d.data[k] == .text(e.decision))
        #expect(why.data[k] == .text(ChurnReason.text(e.reasons)))
      }
      let bad = request.replacingOccurrences(of: "[6, 1]", with: #"["six", 1]"#)
      let refused = try await client.execute(
        uri: "/v2/models/churn/infer", method: .post, headers: jsonHeaders, body: body(bad))
      #expect(
        refused.status == .badRequest && errorText(refused).contains("customer 0, column 'calls'"),
        "\(errorText(refused))")
      let uneven = request.replacingOccurrences(of: #"[88.5, 30.25]"#, with: "[88.5]").replacingOccurrences(
        of: #""name": "charges", "shape": [2]"#, with: #""name": "charges", "shape": [1]"#)
      let r2 = try await client.execute(
        uri: "/v2/models/churn/infer", method: .post, headers: jsonHeaders, body: body(uneven))
      #expect(r2.status == .badRequest && errorText(r2).contains("holds 1 values, the others 2"), "\(errorText(r2))")
    }
  }
}
