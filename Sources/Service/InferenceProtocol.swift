import Foundation
import HTTPTypes
import Hummingbird
import Modeling
import Storage

/// The Open Inference Protocol v2 (KServe / Triton / MLServer data plane): the wire types and the routes, over any
/// app's model. An app says what its model takes and gives (`V2Model`) and maps one infer request to one engine
/// call.
public enum V2 {
  /// A tensor's description in model metadata.
  public struct TensorMetadata: Codable, Sendable, Equatable {
    public var name: String
    public var datatype: String
    /// -1 for a dimension of any size.
    public var shape: [Int]
  }

  /// `GET /v2/models/{name}[/versions/{v}]`.
  public struct ModelMetadata: Codable, Sendable, Equatable {
    public var name: String
    public var versions: [String]
    public var platform: String
    public var inputs: [TensorMetadata]
    public var outputs: [TensorMetadata]
  }

  /// One value of a tensor's `data`: V2 clients send numbers, strings (BYTES) or booleans, flat or nested.
  public enum Value: Codable, Sendable, Equatable {
    case number(Double)
    case text(String)
    case flag(Bool)
    case nested([Value])

    public init(from decoder: any Decoder) throws {
      let c = try decoder.singleValueContainer()
      if let b = try? c.decode(Bool.self) {
        self = .flag(b)
      } else if let d = try? c.decode(Double.self) {
        self = .number(d)
      } else if let s = try? c.decode(String.self) {
        self = .text(s)
      } else if let a = try? c.decode([Value].self) {
        self = .nested(a)
      } else {
        throw DecodingError.dataCorrupted(
          .init(codingPath: c.codingPath, debugDescription: "expected numbers, strings, booleans or arrays of them"))
      }
    }

    public func encode(to encoder: any Encoder) throws {
      var c = encoder.singleValueContainer()
      switch self {
      case .number(let d): try c.encode(d)
      case .text(let s): try c.encode(s)
      case .flag(let b): try c.encode(b)
      case .nested(let a): try c.encode(a)
      }
    }

    /// The values in row-major order, nesting removed.
    var flattened: [Value] {
      if case .nested(let a) = self { return a.flatMap(\.flattened) }
      return [self]
    }
  }

  /// A request or response parameter (a string, number or boolean).
  public typealias Parameters = [String: Value]

  /// An input tensor of an infer request.
  public struct InputTensor: Codable, Sendable {
    public var name: String
    public var shape: [Int]
    public var datatype: String
    public var parameters: Parameters?
    public var data: [Value]

    /// The data, flat, checked against the shape.
    func flat() throws -> [Value] {
      let values = data.flatMap(\.flattened)
      guard shape.allSatisfy({ $0 >= 0 }) else {
        throw ServiceError(.badRequest, "input '\(name)': a negative dimension in its shape \(shape)")
      }
      let count = shape.reduce(1, *)
      guard count == values.count else {
        throw ServiceError(
          .badRequest, "input '\(name)': shape \(shape) holds \(count) values, its data \(values.count)")
      }
      return values
    }
  }

  /// `POST …/infer`.
  public struct InferRequest: Codable, Sendable {
    public var id: String?
    public var parameters: Parameters?
    public var inputs: [InputTensor]
  }

  /// An output tensor of an infer response.
  public struct OutputTensor: Codable, Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var datatype: String
    public var data: [Value]

    public init(name: String, shape: [Int], datatype: String, data: [Value]) {
      self.name = name
      self.shape = shape
      self.datatype = datatype
      self.data = data
    }
  }

  public struct InferResponse: Codable, Sendable {
    public var modelName: String
    public var modelVersion: String
    public var id: String?
    public var outputs: [OutputTensor]

    enum CodingKeys: String, CodingKey {
      case modelName = "model_name"
      case modelVersion = "model_version"
      case id, outputs
    }
  }

  /// An integer parameter of the request (or of `input`), if given.
  static func integer(_ name: String, in parameters: Parameters?...) throws -> Int? {
    for p in parameters {
      guard let value = p?[name] else { continue }
      switch value {
      case .number(let d) where d == d.rounded() && abs(d) < 1e9: return Int(d)
      case .text(let s) where Int(s) != nil: return Int(s)
      default: throw ServiceError(.badRequest, "parameter '\(name)' must be an integer")
      }
    }
    return nil
  }

  /// A value as text: strings as they are, whole numbers without a fraction, other numbers in their shortest
  /// exact form, booleans as true/false.
  static func text(_ value: Value) -> String {
    switch value {
    case .text(let s): return s
    case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"
    case .flag(let b): return b ? "true" : "false"
    case .nested(let a): return a.map(text).joined(separator: ",")
    }
  }
}

/// What an app's model says of itself over V2, and how it answers an infer request.
public struct V2Model<Loaded: Sendable>: Sendable {
  /// The inputs a loaded version takes (a churn model's columns differ from version to version).
  public var inputs: @Sendable (Loaded) -> [V2.TensorMetadata]
  public var outputs: [V2.TensorMetadata]
  /// Answers the request with `model`: the outputs, or a `ServiceError` (400 naming the input) for a bad request.
  public var infer: @Sendable (V2.InferRequest, Loaded) throws -> [V2.OutputTensor]

  public init(
    inputs: @escaping @Sendable (Loaded) -> [V2.TensorMetadata], outputs: [V2.TensorMetadata],
    infer: @escaping @Sendable (V2.InferRequest, Loaded) throws -> [V2.OutputTensor]
  ) {
    self.inputs = inputs
    self.outputs = outputs
    self.infer = infer
  }
}

extension V2 {
  struct Live: Encodable { var live: Bool }
  struct Ready: Encodable { var ready: Bool }
  struct ModelReady: Encodable {
    var name: String
    var ready: Bool
  }

  /// Adds `/v2/health/live`, `/v2/health/ready` (open), and under `guarded` (the token's group)
  /// `/v2/models/{name}[/versions/{v}]`, `…/ready` and `…/infer`. A versioned URL serves that registered version.
  static func add<Loaded: Sendable>(
    open: some RouterMethods<ServiceContext>, guarded: RouterGroup<ServiceContext>, model: HotModel<Loaded>,
    v2: V2Model<Loaded>, readiness: Readiness, limit: Int
  ) {
    route(open, "/v2/health/live", [.get: { _, _ in try JSONBody.response(Live(live: true)) }])
    route(
      open, "/v2/health/ready",
      [
        .get: { _, _ in
          let ready = model.current != nil && !readiness.isDraining
          return try JSONBody.response(Ready(ready: ready), status: ready ? .ok : .serviceUnavailable)
        }
      ])
    /// The version a URL names (the serving one without a version), checked against the model's name.
    @Sendable func resolve(_ context: ServiceContext, versioned: Bool) async throws -> (ModelVersion, Loaded) {
      let name = try context.parameters.require("name")
      guard name == model.name else {
        throw ServiceError(.notFound, "no model '\(name)' here (this server serves '\(model.name)')")
      }
      if versioned {
        let text = try context.parameters.require("version")
        guard let number = Int(text), number >= 1 else {
          throw ServiceError(.badRequest, "a version is a whole number from 1, got '\(text)'")
        }
        let found = try await offloaded { try model.version(number) }
        return (found.version, found.model)
      }
      guard let now = model.current else { throw ServiceError(.serviceUnavailable, "no model is loaded yet") }
      return (now.version, now.model)
    }
    for versioned in [false, true] {
      let base: RouterPath = versioned ? "/v2/models/{name}/versions/{version}" : "/v2/models/{name}"
      route(
        guarded, base,
        [
          .get: { _, context in
            let (version, loaded) = try await resolve(context, versioned: versioned)
            return try JSONBody.response(
              ModelMetadata(
                name: model.name, versions: [String(version.version)], platform: "commerceml/\(version.kind)",
                inputs: v2.inputs(loaded), outputs: v2.outputs))
          }
        ])
      route(
        guarded, RouterPath(stringLiteral: base.description + "/ready"),
        [
          .get: { _, context in
            _ = try await resolve(context, versioned: versioned)
            return try JSONBody.response(ModelReady(name: model.name, ready: !readiness.isDraining))
          }
        ])
      route(
        guarded, RouterPath(stringLiteral: base.description + "/infer"),
        [
          .post: { request, context in
            let (version, loaded) = try await resolve(context, versioned: versioned)
            let body = try await JSONBody.decode(InferRequest.self, from: request, limit: limit)
            let outputs = try v2.infer(body, loaded)
            return try JSONBody.response(
              InferResponse(modelName: model.name, modelVersion: String(version.version), id: body.id, outputs: outputs)
            )
          }
        ])
    }
  }
}
