/// A problem the recommender reports to its user: bad options, unknown ids, a model that cannot serve.
public struct RecommenderError: Error, CustomStringConvertible, Equatable, Sendable {
  /// What kind of problem, for the exit code.
  public enum Kind: Sendable, Equatable {
    /// An option out of range or options that do not go together.
    case usage
    /// Input data that cannot be trained on.
    case data
    /// Something asked for that the model does not know (a user, an item).
    case notFound
    /// The store holds no usable recommender model.
    case noModel
  }

  public let kind: Kind
  public let description: String

  /// An error of `kind` with the message `description`.
  public init(_ kind: Kind, _ description: String) {
    self.kind = kind
    self.description = description
  }
}
