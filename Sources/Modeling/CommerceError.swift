import Foundation

/// A problem a domain library (recommend, churn, fraud) reports to whoever called it: bad parameters,
/// unusable data, something asked for that does not exist, or no usable model.
///
/// One vocabulary for all three apps: the command line maps `kind` to an exit code in one place and the
/// HTTP services map it to a status in one place. A message never spells a command-line flag: where it
/// speaks of a parameter (or of the command that trains a model) it holds a ``Reference``, and each front
/// end names the reference its own way (`-n` on the command line, `count` in a JSON body):
///
/// ```swift
/// throw CommerceError(.usage, "\(.count) must be at least 1, got \(n)", parameter: .count)
/// ```
public struct CommerceError: Error, CustomStringConvertible, Equatable, Sendable {
  /// What kind of problem.
  public enum Kind: String, Sendable, Equatable, Codable {
    /// A parameter out of range, or parameters that do not go together.
    case usage
    /// Input data that cannot be used (no rows, one class, unlabeled history, …).
    case data
    /// Something asked for that the model does not know (a user, an item).
    case notFound
    /// The store holds no model of the kind asked for (none trained, another kind).
    case noModel
    /// A stored model whose bytes are damaged (a part missing, truncated, or holding impossible values).
    case damaged
    /// The system refused a resource the work needs (an address to listen on that is in use or not this
    /// machine's, a port it may not bind).
    case unavailable
  }

  /// Something a message refers to that each front end names its own way: a parameter of a domain call
  /// or the command that trains a model.
  public struct Reference: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
  }

  /// A message: text with references between the words.
  public struct Message: Equatable, Sendable, Codable, ExpressibleByStringInterpolation {
    /// A piece of a message.
    public enum Segment: Equatable, Sendable, Codable {
      case text(String)
      case reference(Reference)
    }

    public var segments: [Segment]

    public init(stringLiteral value: String) { segments = [.text(value)] }
    public init(stringInterpolation: Interpolation) { segments = stringInterpolation.segments }

    /// Builds the segments of an interpolated message.
    public struct Interpolation: StringInterpolationProtocol {
      var segments: [Segment] = []
      public init(literalCapacity: Int, interpolationCount: Int) {}
      public mutating func appendLiteral(_ literal: String) { append(literal) }
      /// A reference, named by the front end.
      public mutating func appendInterpolation(_ reference: Reference) { segments.append(.reference(reference)) }
      /// Any other value, as text.
      public mutating func appendInterpolation<T>(_ value: T) { append("\(value)") }

      private mutating func append(_ text: String) {
        guard !text.isEmpty else { return }
        if case .text(let previous)? = segments.last {
          segments[segments.count - 1] = .text(previous + text)
        } else {
          segments.append(.text(text))
        }
      }
    }

    /// The message with each reference named by `name`.
    public func rendered(naming name: (Reference) -> String) -> String {
      segments.map { segment in
        switch segment {
        case .text(let text): return text
        case .reference(let reference): return name(reference)
        }
      }.joined()
    }
  }

  /// The broad kind of problem.
  public let kind: Kind
  /// What is wrong and what to do about it.
  public let message: Message
  /// The parameter the problem is about, when it is about one.
  public let parameter: Reference?

  /// An error of `kind`; `parameter` names the parameter at fault, when there is one.
  public init(_ kind: Kind, _ message: Message, parameter: Reference? = nil) {
    self.kind = kind
    self.message = message
    self.parameter = parameter
  }

  /// The message with references by their domain names (front ends render their own).
  public var description: String { message.rendered(naming: \.rawValue) }

  /// The same error with `old` replaced by `new` in its text (a temporary copy's path by the input's own).
  public func replacingText(_ old: String, with new: String) -> CommerceError {
    var renamed = message
    renamed.segments = message.segments.map { segment in
      if case .text(let text) = segment { return .text(text.replacingOccurrences(of: old, with: new)) }
      return segment
    }
    return CommerceError(kind, renamed, parameter: parameter)
  }
}

extension CommerceError.Reference {
  /// How many results to return (`-n`).
  public static let count = Self(rawValue: "count")
  /// The cutoff of top-k metrics (`-k`).
  public static let cutoff = Self(rawValue: "cutoff")
  /// The first evaluated date.
  public static let from = Self(rawValue: "from")
  /// How many days are evaluated.
  public static let days = Self(rawValue: "days")
  /// The share of each user's interactions held out for testing.
  public static let testFraction = Self(rawValue: "test_fraction")
  /// The model's name in the store.
  public static let modelName = Self(rawValue: "model")
  /// The columns of a header-less input.
  public static let columns = Self(rawValue: "columns")
  /// The number of search trials.
  public static let trials = Self(rawValue: "trials")
  /// The number of cross-validation folds.
  public static let folds = Self(rawValue: "folds")
  /// Whether to keep items a user already has.
  public static let includeSeen = Self(rawValue: "include_seen")
  /// A new user's interaction history.
  public static let history = Self(rawValue: "history")
  /// Whether an unknown user without history is an error.
  public static let strict = Self(rawValue: "strict")
  /// The kind of feedback a recommender is trained on.
  public static let feedback = Self(rawValue: "feedback")
  /// The churn target column.
  public static let target = Self(rawValue: "target")
  /// The target value that means churn.
  public static let positive = Self(rawValue: "positive")
  /// Columns left out of a churn model.
  public static let exclude = Self(rawValue: "exclude")
  /// The customer id column.
  public static let idColumn = Self(rawValue: "id_column")
  /// Skipping rows with bad values instead of stopping.
  public static let skipBadRows = Self(rawValue: "skip_bad_rows")
  /// The L2 penalty.
  public static let l2 = Self(rawValue: "l2")
  /// The confidence scale of implicit feedback.
  public static let alpha = Self(rawValue: "alpha")
  /// The recommender family.
  public static let algorithm = Self(rawValue: "algorithm")
  /// EASE's L2 weight.
  public static let lambda = Self(rawValue: "lambda")
  /// The largest catalogue EASE fits.
  public static let maxItems = Self(rawValue: "max_items")
  /// The column of interaction values.
  public static let valueColumn = Self(rawValue: "value_column")
  /// The column of interaction times.
  public static let timestampColumn = Self(rawValue: "timestamp_column")
  /// The column of a customer table's record times (kept for the training data's time span, never a feature).
  public static let timeColumn = Self(rawValue: "time_column")
  /// The column map of a transaction file.
  public static let columnMap = Self(rawValue: "map")
  /// The largest jump ahead in time a transaction may make before it is taken for a mistyped date.
  public static let maxClockSkew = Self(rawValue: "max_clock_skew")
  /// Continuing a stream from its last checkpoint.
  public static let resume = Self(rawValue: "resume")
  /// Start a stream afresh from the training snapshot though a checkpoint exists.
  public static let fresh = Self(rawValue: "fresh")
  /// The command (or request) that trains a recommender.
  public static let trainRecommender = Self(rawValue: "train_recommender")
  /// The command (or request) that trains a churn model.
  public static let trainChurn = Self(rawValue: "train_churn")
  /// The command (or request) that trains a fraud model.
  public static let trainFraud = Self(rawValue: "train_fraud")
}
