import Foundation
import HTTPTypes
import Hummingbird
import Modeling
import Storage
import TabularIO

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
    /// The values in JSON; absent when they came in binary (the binary tensor data extension).
    public var data: [Value]?

    enum CodingKeys: String, CodingKey { case name, shape, datatype, parameters, data }

    public init(name: String, shape: [Int], datatype: String, parameters: Parameters? = nil, data: [Value]?) {
      self.name = name
      self.shape = shape
      self.datatype = datatype
      self.parameters = parameters
      self.data = data
    }

    /// The data read as the datatype says when it is a flat array of that type (the usual body: no value tried as
    /// each type in turn), otherwise value by value.
    public init(from decoder: any Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      name = try c.decode(String.self, forKey: .name)
      shape = try c.decode([Int].self, forKey: .shape)
      datatype = try c.decode(String.self, forKey: .datatype)
      parameters = try c.decodeIfPresent(Parameters.self, forKey: .parameters)
      guard c.contains(.data), !(try c.decodeNil(forKey: .data)) else {
        data = nil
        return
      }
      switch datatype {
      case "BYTES":
        if let strings = try? c.decode([String].self, forKey: .data) {
          data = strings.map { .text($0) }
          return
        }
      case "BOOL":
        if let flags = try? c.decode([Bool].self, forKey: .data) {
          data = flags.map { .flag($0) }
          return
        }
      default:
        if let numbers = try? c.decode([Double].self, forKey: .data) {
          data = numbers.map { .number($0) }
          return
        }
      }
      data = try c.decode([Value].self, forKey: .data)
    }

    /// The data, flat, checked against the shape.
    func flat() throws -> [Value] {
      guard let data else { throw ServiceError(.badRequest, "input '\(name)': no data") }
      let values = data.flatMap(\.flattened)
      guard shape.allSatisfy({ $0 >= 0 }) else {
        throw ServiceError(.badRequest, "input '\(name)': a negative dimension in its shape \(shape)")
      }
      // The product of a client's dimensions can overflow: checked, never trapped.
      var count = 1
      for d in shape {
        let (product, overflow) = count.multipliedReportingOverflow(by: d)
        guard !overflow else { throw ServiceError(.badRequest, "input '\(name)': shape \(shape) is too large") }
        count = product
      }
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

  /// Each input's values by name, flat, and how many each holds (the same for all, else 400 naming the input);
  /// nil without inputs.
  static func columns(of request: InferRequest) throws -> (values: [String: [Value]], count: Int?) {
    var columns: [String: [Value]] = [:]
    var count: Int? = nil
    for input in request.inputs {
      let values = try input.flat()
      if let count, count != values.count {
        throw ServiceError(.badRequest, "input '\(input.name)' holds \(values.count) values, the others \(count)")
      }
      count = values.count
      columns[input.name] = values
    }
    return (columns, count)
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
  /// exact form, NaN as missing (blank), booleans as true/false.
  static func text(_ value: Value) -> String {
    switch value {
    case .text(let s): return s
    // NaN is how a binary FP64 column (MLServer's pandas codec) says missing.
    case .number(let d) where d.isNaN: return ""
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
  /// Answers the request (with the request's id) with `model`: the outputs, or a `ServiceError` (400 naming the
  /// input) for a bad request.
  public var infer: @Sendable (V2.InferRequest, Loaded, String) async throws -> [V2.OutputTensor]

  /// A model answering by a computation: a big request's off the event loop.
  public init(
    inputs: @escaping @Sendable (Loaded) -> [V2.TensorMetadata], outputs: [V2.TensorMetadata],
    infer: @escaping @Sendable (V2.InferRequest, Loaded) throws -> [V2.OutputTensor]
  ) {
    self.inputs = inputs
    self.outputs = outputs
    self.infer = { request, loaded, _ in
      let entries = request.inputs.reduce(0) { $0 + ($1.data?.count ?? 0) }
      return try await running(heavy: entries > heavyEntries * 16) { try infer(request, loaded) }
    }
  }

  /// A model answering through something it waits for (a stateful engine's writer).
  public init(
    inputs: @escaping @Sendable (Loaded) -> [V2.TensorMetadata], outputs: [V2.TensorMetadata],
    inferAsync: @escaping @Sendable (V2.InferRequest, Loaded, String) async throws -> [V2.OutputTensor]
  ) {
    self.inputs = inputs
    self.outputs = outputs
    self.infer = inferAsync
  }
}

extension V2 {
  /// An infer request's body: JSON, or — with `Inference-Header-Content-Length` (the binary tensor data extension
  /// tritonclient uses by default) — that many bytes of JSON followed by each input marked `binary_data_size` in
  /// order, decoded here into values.
  static func inferRequest(_ request: Request, limit: Int) async throws -> InferRequest {
    guard let header = request.headers[HTTPField.Name("Inference-Header-Content-Length")!] else {
      let buffer = try await JSONBody.bytes(request, limit: limit)
      let decoded =
        try buffer.readableBytesView.withUnsafeBytes { readInferRequest($0) }
        ?? JSONBody.decode(InferRequest.self, from: buffer)
      for (k, input) in decoded.inputs.enumerated() where input.data == nil {
        throw ServiceError(.badRequest, "'inputs[\(k)].data' is required")
      }
      return decoded
    }
    let buffer = try await JSONBody.bytes(request, limit: limit)
    let bytes = Array(buffer.readableBytesView)
    guard let jsonLength = Int(header), jsonLength >= 0, jsonLength <= bytes.count else {
      throw ServiceError(
        .badRequest, "Inference-Header-Content-Length must be a byte count within the body, got '\(header)'")
    }
    var decoded: InferRequest
    if let read = bytes.withUnsafeBytes({ readInferRequest(UnsafeRawBufferPointer(rebasing: $0[0..<jsonLength])) }) {
      decoded = read
    } else {
      do {
        decoded = try JSONDecoder().decode(InferRequest.self, from: Data(bytes[0..<jsonLength]))
      } catch let error as DecodingError {
        throw ServiceError(.badRequest, JSONBody.describe(error))
      }
    }
    var offset = jsonLength
    for (k, input) in decoded.inputs.enumerated() {
      guard let size = try integer("binary_data_size", in: input.parameters) else {
        guard input.data != nil else { throw ServiceError(.badRequest, "'inputs[\(k)].data' is required") }
        continue
      }
      guard size >= 0, size <= bytes.count - offset else {
        throw ServiceError(.badRequest, "input '\(input.name)': binary_data_size \(size) runs past the body")
      }
      decoded.inputs[k].data = try binaryValues(
        bytes[offset..<(offset + size)], datatype: input.datatype, name: input.name)
      offset += size
    }
    return decoded
  }

  /// A binary tensor's values: BYTES as 4-byte little-endian lengths each followed by that many bytes; numbers
  /// little-endian (FP64, FP32, INT64, INT32); BOOL one byte each.
  static func binaryValues(_ bytes: ArraySlice<UInt8>, datatype: String, name: String) throws -> [Value] {
    let raw = Array(bytes)
    func fixed<T>(_ width: Int, _ read: (UnsafeRawBufferPointer, Int) -> T) throws -> [T] {
      guard raw.count % width == 0 else {
        throw ServiceError(
          .badRequest, "input '\(name)': \(raw.count) bytes is not a whole number of \(datatype) values")
      }
      return raw.withUnsafeBytes { p in (0..<(raw.count / width)).map { read(p, $0 * width) } }
    }
    switch datatype {
    case "BYTES":
      var values: [Value] = []
      var i = 0
      while i < raw.count {
        guard raw.count - i >= 4 else {
          throw ServiceError(.badRequest, "input '\(name)': a BYTES length is cut short")
        }
        let n = Int(UInt32(raw[i]) | UInt32(raw[i + 1]) << 8 | UInt32(raw[i + 2]) << 16 | UInt32(raw[i + 3]) << 24)
        i += 4
        guard n <= raw.count - i else {
          throw ServiceError(.badRequest, "input '\(name)': a BYTES value runs past its data")
        }
        values.append(.text(String(decoding: raw[i..<(i + n)], as: UTF8.self)))
        i += n
      }
      return values
    case "FP64":
      return try fixed(8) { p, o in
        .number(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt64.self))))
      }
    case "FP32":
      return try fixed(4) { p, o in
        .number(Double(Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt32.self)))))
      }
    case "INT64":
      return try fixed(8) { p, o in
        .number(Double(Int64(littleEndian: p.loadUnaligned(fromByteOffset: o, as: Int64.self))))
      }
    case "INT32":
      return try fixed(4) { p, o in
        .number(Double(Int32(littleEndian: p.loadUnaligned(fromByteOffset: o, as: Int32.self))))
      }
    case "BOOL":
      return raw.map { .flag($0 != 0) }
    default:
      throw ServiceError(
        .badRequest, "input '\(name)': binary \(datatype) is not supported (BYTES, FP64, FP32, INT64, INT32, BOOL are)")
    }
  }

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
            let body = try await inferRequest(request, limit: limit)
            let outputs = try await v2.infer(body, loaded, context.requestID)
            let entries = outputs.reduce(0) { $0 + $1.data.count }
            return try await running(heavy: entries > heavyEntries * 16) {
              JSONBody.response(
                InferResponse(
                  modelName: model.name, modelVersion: String(version.version), id: body.id, outputs: outputs))
            }
          }
        ])
    }
  }
}

extension V2.Value {
  /// The value as the contract writes it; a number that is not finite (which JSON cannot hold) as `null`.
  func writeJSON(to w: inout JSONWriter) {
    switch self {
    case .number(let d): if d.isFinite { w.double(d) } else { w.null() }
    case .text(let s): w.string(s)
    case .flag(let b): w.bool(b)
    case .nested(let a):
      w.byte(UInt8(ascii: "["))
      for (i, v) in a.enumerated() {
        if i > 0 { w.byte(UInt8(ascii: ",")) }
        v.writeJSON(to: &w)
      }
      w.byte(UInt8(ascii: "]"))
    }
  }
}

extension V2.InferResponse: JSONWritable {
  /// Keys in sorted order; `id` only when the request had one.
  public func writeJSON(to w: inout JSONWriter) {
    w.byte(UInt8(ascii: "{"))
    if let id {
      w.raw("\"id\":")
      w.string(id)
      w.byte(UInt8(ascii: ","))
    }
    w.raw("\"model_name\":")
    w.string(modelName)
    w.raw(",\"model_version\":")
    w.string(modelVersion)
    w.raw(",\"outputs\":[")
    for (i, output) in outputs.enumerated() {
      if i > 0 { w.byte(UInt8(ascii: ",")) }
      w.raw("{\"data\":[")
      for (k, v) in output.data.enumerated() {
        if k > 0 { w.byte(UInt8(ascii: ",")) }
        v.writeJSON(to: &w)
      }
      w.raw("],\"datatype\":")
      w.string(output.datatype)
      w.raw(",\"name\":")
      w.string(output.name)
      w.raw(",\"shape\":[")
      for (k, d) in output.shape.enumerated() {
        if k > 0 { w.byte(UInt8(ascii: ",")) }
        w.int(d)
      }
      w.raw("]}")
    }
    w.raw("]}")
  }
}
