import Churn
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Modeling
import NIOCore
import Storage
import TabularIO

/// `churn serve`'s routes: thin mappings over `PreparedChurnModel`, the engine `churn score` scores through.
public enum ChurnRoutes {
  /// The most customers one request may hold.
  public static let maxCustomers = 10_000

  /// One value of a customer object: a string, a number, true/false, or null (missing).
  enum FieldValue: Decodable {
    case text(String)
    case number(Double)
    case flag(Bool)
    case missing

    init(from decoder: any Decoder) throws {
      let c = try decoder.singleValueContainer()
      if c.decodeNil() {
        self = .missing
      } else if let b = try? c.decode(Bool.self) {
        self = .flag(b)
      } else if let d = try? c.decode(Double.self) {
        self = .number(d)
      } else if let s = try? c.decode(String.self) {
        self = .text(s)
      } else {
        throw DecodingError.dataCorrupted(
          .init(codingPath: c.codingPath, debugDescription: "expected a string, a number, true, false or null"))
      }
    }

    /// The value as a CSV field would hold it: a whole number without a fraction, any other number in its
    /// shortest form that reads back to the same value, true/false as the column's own spellings.
    func text(for column: ColumnSpec?) -> String {
      switch self {
      case .text(let s): return s
      case .missing: return ""
      case .number(let d):
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
      case .flag(let b):
        if let column, column.kind == .boolean { return b ? column.trueValue : column.falseValue }
        return b ? "true" : "false"
      }
    }
  }

  /// One customer's answer: its prediction, or why it alone could not be scored.
  struct Entry: Encodable {
    var prediction: ChurnPrediction?
    var id: String
    var failure: ChurnRecordError?

    enum Keys: String, CodingKey { case id, error, column }

    func encode(to encoder: any Encoder) throws {
      if let prediction { return try prediction.encode(to: encoder) }
      var c = encoder.container(keyedBy: Keys.self)
      try c.encode(id, forKey: .id)
      try c.encode(failure?.message ?? "not scored", forKey: .error)
      try c.encodeIfPresent(failure?.column, forKey: .column)
    }
  }

  struct Answer: Encodable {
    var model: ModelReference
    var threshold: Double
    var predictions: [Entry]
  }

  /// The customers of a body: a JSON array of objects (column name → value), or CSV with a header when the body
  /// says `text/csv`.
  static func customers(contentType: String?, body: ByteBuffer, model: ChurnModel) throws -> [[String: String]] {
    let contentType = contentType?.lowercased() ?? ""
    if contentType.hasPrefix("text/csv") {
      let parsed = csvRows(Array(body.readableBytesView))
      switch parsed {
      case .success(let rows): return rows
      case .failure(let error): throw ServiceError(.badRequest, "the CSV body cannot be read: \(error)")
      }
    }
    let objects: [[String: FieldValue]]
    do {
      objects = try JSONDecoder().decode([[String: FieldValue]].self, from: Data(body.readableBytesView))
    } catch let error as DecodingError {
      throw ServiceError(
        .badRequest,
        JSONBody.describe(error).replacingOccurrences(of: "an object", with: "an array of customer objects"))
    }
    let specs = Dictionary(model.columns.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    return objects.map { object in
      Dictionary(uniqueKeysWithValues: object.map { ($0.key, $0.value.text(for: specs[$0.key])) })
    }
  }

  /// A CSV body's records as column name → field (at most one more than `maxCustomers`, to say there are too many).
  static func csvRows(_ bytes: [UInt8]) -> Result<[[String: String]], TabularError> {
    var options = CSVReader.Options()
    options.fingerprint = false
    do {
      let reader = try CSVReader(bytes: bytes, name: "body", options: options)
      let names = reader.header.names
      var rows: [[String: String]] = []
      while try reader.next() {
        var row: [String: String] = [:]
        for (k, name) in names.enumerated() { row[name] = try reader.string(k) ?? "" }
        rows.append(row)
        if rows.count > maxCustomers { break }
      }
      return .success(rows)
    } catch {
      return .failure(error)
    }
  }

  static func serving(_ model: HotModel<PreparedChurnModel>) throws -> HotModel<PreparedChurnModel>.Current {
    guard let now = model.current else { throw ServiceError(.serviceUnavailable, "no model is loaded yet") }
    return now
  }

  /// Scores every customer of the body; one that cannot be scored gets its own error naming the column.
  static func score(_ request: Request, prepared: PreparedChurnModel, version: ModelVersion, limit: Int) async throws
    -> Response
  {
    let reasons: Int
    if let text = request.uri.queryParameters["reasons"] {
      guard let r = Int(text), (0...20).contains(r) else {
        throw ServiceError(.badRequest, "'reasons' must be 0 to 20, got '\(text)'")
      }
      reasons = r
    } else {
      reasons = 3
    }
    var threshold: Double? = nil
    if let text = request.uri.queryParameters["threshold"] {
      guard let t = Double(text), t >= 0, t <= 1 else {
        throw ServiceError(.badRequest, "'threshold' must be a number from 0 to 1, got '\(text)'")
      }
      threshold = t
    }
    let body = try await JSONBody.bytes(request, limit: limit)
    guard body.readableBytes > 0 else { throw ServiceError(.badRequest, "the body is empty; customers were expected") }
    let contentType = request.headers[.contentType]
    let chosen = threshold
    return try await running(heavy: body.readableBytes > heavyBodyBytes) {
      let rows = try customers(contentType: contentType, body: body, model: prepared.model)
      guard (1...maxCustomers).contains(rows.count) else {
        throw ServiceError(.badRequest, "the body must hold 1 to \(maxCustomers) customers, got \(rows.count)")
      }
      let idColumn = prepared.model.idColumn
      let entries = rows.enumerated().map { (k, fields) -> Entry in
        let id = idColumn.flatMap { fields[$0] }.flatMap { $0.isEmpty ? nil : $0 } ?? String(k + 1)
        switch prepared.scoreRecord(fields: fields, id: id, reasons: reasons, threshold: chosen) {
        case .success(let p): return Entry(prediction: p, id: id, failure: nil)
        case .failure(let e): return Entry(prediction: nil, id: id, failure: e)
        }
      }
      return try JSONBody.response(
        Answer(model: version.reference, threshold: chosen ?? prepared.model.threshold, predictions: entries))
    }
  }

  /// Adds the routes to `v1`.
  public static func add(
    to v1: RouterGroup<ServiceContext>, model: HotModel<PreparedChurnModel>, options: ServerOptions
  ) {
    let limit = options.maxBodyBytes
    route(
      v1, "score",
      [
        .post: { request, _ in
          let now = try serving(model)
          return try await score(request, prepared: now.model, version: now.version, limit: limit)
        }
      ])
  }

  /// The whole server for model `name` in `store`: its hot model, metrics, `/v1` and V2 routes and OpenAPI
  /// document — what `churn serve` runs and the tests drive.
  public static func server(store: any ModelRegistry, name: String, options: ServerOptions, logger: Logger) throws
    -> CommerceServer<PreparedChurnModel>
  {
    let metrics = ServiceMetrics()
    let model = self.model(store: store, name: name, metrics: metrics, logger: logger)
    return CommerceServer(
      options: options, model: model, metrics: metrics, logger: logger, v2: v2,
      openAPI: try OpenAPIDocument.text(.churn)
    ) { add(to: $0, model: model, options: options) }
  }

  /// The hot model for `name` in `store`: each version decoded, checked and prepared once.
  public static func model(store: any ModelRegistry, name: String, metrics: ServiceMetrics, logger: Logger)
    -> HotModel<PreparedChurnModel>
  {
    HotModel(store: store, name: name, metrics: metrics, logger: logger) { version in
      let stored = try ChurnStore.load(from: store, name: name, version: version.version)
      return try PreparedChurnModel(stored.model, version: stored.version)
    }
  }
}

extension ChurnRoutes {
  /// The Open Inference Protocol v2 face of a churn model, as MLServer's pandas codec lays out a table: one input
  /// per model column (FP64 for numbers, BYTES otherwise; shape [N]); outputs `probability` (FP64 [N]), `decision`
  /// (BYTES [N], `churn` or `stay`) and `reasons` (BYTES [N], as `churn score` writes them). Parameters: `reasons`
  /// (0 to 20, default 3) and `threshold`. A customer that cannot be scored fails the request (400) naming it and
  /// the column.
  public static let v2 = V2Model<PreparedChurnModel>(
    inputs: { prepared in
      prepared.model.columns.map {
        V2.TensorMetadata(name: $0.name, datatype: $0.kind == .numeric ? "FP64" : "BYTES", shape: [-1])
      }
    },
    outputs: [
      V2.TensorMetadata(name: "probability", datatype: "FP64", shape: [-1]),
      V2.TensorMetadata(name: "decision", datatype: "BYTES", shape: [-1]),
      V2.TensorMetadata(name: "reasons", datatype: "BYTES", shape: [-1]),
    ],
    infer: { request, prepared in
      let (columns, count) = try V2.columns(of: request)
      guard let n = count, n >= 1 else { throw ServiceError(.badRequest, "the request holds no customers") }
      guard n <= maxCustomers else {
        throw ServiceError(.badRequest, "the request must hold at most \(maxCustomers) customers, got \(n)")
      }
      let reasons = try V2.integer("reasons", in: request.parameters) ?? 3
      guard (0...20).contains(reasons) else { throw ServiceError(.badRequest, "parameter 'reasons' must be 0 to 20") }
      var threshold: Double? = nil
      if let t = request.parameters?["threshold"] {
        guard case .number(let value) = t, value >= 0, value <= 1 else {
          throw ServiceError(.badRequest, "parameter 'threshold' must be a number from 0 to 1")
        }
        threshold = value
      }
      // The model's columns in order, each from its input (a column without one is named in the error).
      let specs = prepared.model.columns
      var ordered: [[V2.Value]] = []
      ordered.reserveCapacity(specs.count)
      for spec in specs {
        guard let values = columns[spec.name] else {
          throw ServiceError(
            .badRequest,
            "the input '\(spec.name)' is required; the model needs one input per column: \(specs.map { "'\($0.name)'" }.joined(separator: ", "))"
          )
        }
        ordered.append(values)
      }
      var probability: [V2.Value] = []
      var decision: [V2.Value] = []
      var text: [V2.Value] = []
      probability.reserveCapacity(n)
      decision.reserveCapacity(n)
      text.reserveCapacity(n)
      var fields = [String](repeating: "", count: specs.count)
      for row in 0..<n {
        for k in 0..<specs.count {
          let v = ordered[k][row]
          if case .flag(let b) = v, specs[k].kind == .boolean {
            fields[k] = b ? specs[k].trueValue : specs[k].falseValue
          } else {
            fields[k] = V2.text(v)
          }
        }
        switch prepared.scoreRecord(values: fields, reasons: reasons, threshold: threshold) {
        case .success(let p):
          probability.append(.number(p.probability))
          decision.append(.text(p.decision))
          text.append(.text(ChurnReason.text(p.reasons)))
        case .failure(let e):
          throw ServiceError(.badRequest, "customer \(row)\(e.column.map { ", column '\($0)'" } ?? ""): \(e.message)")
        }
      }
      return [
        V2.OutputTensor(name: "probability", shape: [n], datatype: "FP64", data: probability),
        V2.OutputTensor(name: "decision", shape: [n], datatype: "BYTES", data: decision),
        V2.OutputTensor(name: "reasons", shape: [n], datatype: "BYTES", data: text),
      ]
    })
}
