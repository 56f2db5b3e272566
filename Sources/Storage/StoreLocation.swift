/// Where the model registry is, parsed once from `--store` (or the environment): the one place that
/// chooses a backend.
public enum StoreLocation: Sendable, Equatable {
  /// A SQLite file (the embedded default).
  case sqlite(path: String)

  /// The location `text` names: a file path.
  /// - Throws: `.invalidArgument` for an empty text.
  public init(parsing text: String) throws(StoreError) {
    guard !text.isEmpty else { throw .invalidArgument("the store location is empty; expected a file path") }
    self = .sqlite(path: text)
  }

  /// The location for messages.
  public var description: String {
    switch self {
    case .sqlite(let path): return path
    }
  }

  /// Opens the registry; `create` for commands that write (training), not for those that only read, so
  /// that a mistyped location is an error rather than a new empty registry.
  public func openRegistry(create: Bool) throws(StoreError) -> any ModelRegistry {
    switch self {
    case .sqlite(let path): return try ModelStore(path: path, create: create)
    }
  }
}
