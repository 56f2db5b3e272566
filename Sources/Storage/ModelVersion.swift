import Foundation
import TabularIO

/// One registered version of a model: everything about it except the artifact bytes.
public struct ModelVersion: Equatable, Sendable, Codable {
  /// The model's name (`recommender`, `churn`, `fraud`, or one given with `--model`).
  public var name: String
  /// 1, 2, 3… per name, in order of registration.
  public var version: Int
  /// What kind of model it is, `APP-PREFIX.FAMILY` (e.g. `recommender.als-implicit`, `churn.logistic-regression`,
  /// `fraud.logistic-regression`, `fraud.additive`); each app lists the kinds with its prefix and refuses one it cannot
  /// serve.
  public var kind: String
  /// Hyperparameters and settings, as text for display.
  public var parameters: [String: String]
  /// Training and validation metrics.
  public var metrics: [String: Double]
  /// Size in bytes of the training data.
  public var dataBytes: Int
  /// Hash of the training data (XXH64 as hex).
  public var dataHash: String
  /// The CommerceML version that trained it.
  public var codeVersion: String
  /// When it was registered.
  public var createdAt: Date
  /// Total size of its artifact parts in bytes.
  public var artifactBytes: Int
  /// Whether it is the active version of its name.
  public var isActive: Bool

  /// A description of a version, as the store returns it.
  public init(
    name: String, version: Int, kind: String, parameters: [String: String], metrics: [String: Double],
    dataBytes: Int, dataHash: String, codeVersion: String, createdAt: Date, artifactBytes: Int, isActive: Bool
  ) {
    self.name = name
    self.version = version
    self.kind = kind
    self.parameters = parameters
    self.metrics = metrics
    self.dataBytes = dataBytes
    self.dataHash = dataHash
    self.codeVersion = codeVersion
    self.createdAt = createdAt
    self.artifactBytes = artifactBytes
    self.isActive = isActive
  }
}

/// A model version to register: its description and its artifact, in named parts.
///
/// Parts let a reader load only what it needs (a recommender serving one user reads one row of the
/// user factors, not all of them; see `ModelRegistry.withArtifactReader`).
public struct NewModelVersion: Sendable {
  public var name: String
  public var kind: String
  public var parameters: [String: String]
  public var metrics: [String: Double]
  public var dataBytes: Int
  public var dataHash: String
  public var parts: [String: [UInt8]]
  /// The version number to register it as (`models copy` keeps a version's number); `nil`: the next one. A number
  /// the name already has is refused.
  public var requestedVersion: Int? = nil
  /// The CommerceML version that trained it (`models copy` keeps it); `nil`: this build.
  public var codeVersion: String? = nil
  /// When it was registered (`models copy` keeps it); `nil`: now.
  public var createdAt: Date? = nil

  /// A version to register; see `ModelVersion` for the fields.
  public init(
    name: String, kind: String, parameters: [String: String] = [:], metrics: [String: Double] = [:],
    dataBytes: Int, dataHash: String, parts: [String: [UInt8]]
  ) {
    self.name = name
    self.kind = kind
    self.parameters = parameters
    self.metrics = metrics
    self.dataBytes = dataBytes
    self.dataHash = dataHash
    self.parts = parts
  }
}

/// The version of CommerceML recorded with every model it trains.
public enum CommerceMLVersion {
  /// Semantic version of this build.
  public static let current = "0.1.0"
}

/// Which model version answered: the `model` object of every prediction's JSON.
public struct ModelReference: Equatable, Sendable, Codable {
  public var name: String
  public var version: Int
  public var kind: String

  public init(name: String, version: Int, kind: String) {
    self.name = name
    self.version = version
    self.kind = kind
  }
}

extension ModelReference {
  /// `{"kind":…,"name":…,"version":…}`, as the contract writes it.
  public func writeJSON(to w: inout JSONWriter) {
    w.raw("{\"kind\":")
    w.string(kind)
    w.raw(",\"name\":")
    w.string(name)
    w.raw(",\"version\":")
    w.int(version)
    w.byte(UInt8(ascii: "}"))
  }
}

extension ModelVersion {
  /// The version's name, number and kind.
  public var reference: ModelReference { ModelReference(name: name, version: version, kind: kind) }
}

/// A version's `models show` fields as the JSON contract writes them (`GET /v1/model`, `models show --format json`).
public struct ModelDescription: Equatable, Sendable, Codable {
  public var name: String
  public var version: Int
  public var active: Bool
  public var kind: String
  public var created: Date
  public var codeVersion: String
  public var dataBytes: Int
  public var dataXXH64: String
  public var artifactBytes: Int
  public var parameters: [String: String]
  public var metrics: [String: Double]

  enum CodingKeys: String, CodingKey {
    case name, version, active, kind, created, parameters, metrics
    case codeVersion = "code_version"
    case dataBytes = "data_bytes"
    case dataXXH64 = "data_xxh64"
    case artifactBytes = "artifact_bytes"
  }

  public init(_ v: ModelVersion) {
    name = v.name
    version = v.version
    active = v.isActive
    kind = v.kind
    created = v.createdAt
    codeVersion = v.codeVersion
    dataBytes = v.dataBytes
    dataXXH64 = v.dataHash
    artifactBytes = v.artifactBytes
    parameters = v.parameters
    metrics = v.metrics
  }
}

extension NewModelVersion {
  /// The character no part name may hold (a backend names the continuation rows of a large part with it).
  public static let partNameSeparator = "\u{1F}"

  /// Checks what every backend refuses alike: an empty name, an empty part name or one holding U+001F, a metric
  /// that is not finite, a requested version below 1.
  public func checkRegistrable() throws(StoreError) {
    guard !name.isEmpty else { throw .invalidArgument("a model name must not be empty") }
    for part in parts.keys where part.isEmpty || part.contains(Self.partNameSeparator) {
      throw .invalidArgument("artifact part name '\(part)' is empty or holds the character U+001F")
    }
    for (key, value) in metrics where !value.isFinite {
      throw .invalidArgument("metric '\(key)' is \(value); metrics must be finite numbers")
    }
    if let requestedVersion, requestedVersion < 1 {
      throw .invalidArgument("a version number must be at least 1, got \(requestedVersion)")
    }
  }

  /// The parameters and metrics as the JSON text every backend stores (keys sorted).
  public func encodedDescription() throws(StoreError) -> (parameters: String, metrics: String) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    do {
      return (
        String(decoding: try encoder.encode(parameters), as: UTF8.self),
        String(decoding: try encoder.encode(metrics), as: UTF8.self)
      )
    } catch {
      throw .invalidArgument("cannot encode model description: \(error)")
    }
  }
}

extension ModelVersion {
  /// Decodes the stored JSON text of parameters and metrics.
  public static func decodeDescription(parameters: String, metrics: String) throws -> (
    [String: String], [String: Double]
  ) {
    (
      try JSONDecoder().decode([String: String].self, from: Data(parameters.utf8)),
      try JSONDecoder().decode([String: Double].self, from: Data(metrics.utf8))
    )
  }
}
