import Modeling

/// The models one app serves: what it calls them in messages, the command that trains one, and the kinds it reads.
public struct ModelFamily: Sendable {
  /// The noun for messages: "recommender", "churn model", "fraud model".
  public var noun: String
  /// The command that trains one, named by each front end its own way.
  public var train: CommerceError.Reference
  /// Whether the app can read a version of this kind.
  public var accepts: @Sendable (String) -> Bool

  public init(noun: String, train: CommerceError.Reference, accepts: @escaping @Sendable (String) -> Bool) {
    self.noun = noun
    self.train = train
    self.accepts = accepts
  }
}

extension ModelRegistry {
  /// Version `version` of `name` (its active version when `nil`), which must be of `family`: the one way every app
  /// finds the model a command or a request names.
  /// - Throws: `CommerceError(.noModel)` when the registry has no model of that name (with the command that trains
  ///   one) or the version is of another kind; `StoreError.noSuchVersion`, `.noActiveVersion` and the store's own
  ///   errors unchanged.
  public func resolve(_ name: String, version: Int? = nil, as family: ModelFamily) throws -> ModelVersion {
    let found: ModelVersion
    do {
      found = try version.map { v throws(StoreError) in try self.version(name, v) } ?? active(name)
    } catch StoreError.noModel {
      let noun = family.noun.hasSuffix("model") ? family.noun : family.noun + " model"
      throw CommerceError(.noModel, "no \(noun) '\(name)' in \(location); train first: \(family.train)")
    }
    guard family.accepts(found.kind) else {
      let article = family.noun.first.map { "aeiou".contains($0) } == true ? "an" : "a"
      throw CommerceError(
        .noModel,
        "model '\(name)' is a \(found.kind) model, not \(article) \(family.noun); choose another \(.modelName)",
        parameter: .modelName)
    }
    return found
  }

  /// Whether the registry holds any version of `name`.
  public func hasModel(_ name: String) throws(StoreError) -> Bool { try !list(name: name).isEmpty }
}
