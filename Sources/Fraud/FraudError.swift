/// A problem the fraud app reports: bad options, unusable data, or a store without a fraud model.
public struct FraudError: Error, CustomStringConvertible, Equatable, Sendable {
  /// What kind of problem, for the exit code.
  public enum Kind: Sendable, Equatable {
    case usage
    case data
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
