import ArgumentParser
import Storage
import StoreBackends

/// The `--store LOCATION` option shared by every command that touches the model store.
///
/// The location is, in order: `--store`, the `COMMERCEML_STORE` environment variable, `./commerceml.sqlite`. A
/// `postgresql://USER@HOST:PORT/DATABASE` URL names a PostgreSQL registry (password from `PGPASSWORD`); anything else
/// is a SQLite file.
public struct StoreOptions: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "The model store: a SQLite file or postgresql://USER@HOST:PORT/DATABASE (default: $COMMERCEML_STORE, else ./commerceml.sqlite).",
      valueName: "location"))
  public var store: String?

  public init() {}

  /// Where every app's models live, for each tool's help.
  public static let whereModelsLive = """
    Models live in one store: --store LOCATION, else $COMMERCEML_STORE, else ./commerceml.sqlite. A location is a \
    SQLite file or a PostgreSQL registry, postgresql://USER@HOST:PORT/DATABASE.
    """

  /// The store path after applying the environment variable and the default.
  public func resolvedPath(environment: [String: String] = ProcessEnvironment.current) -> String {
    if let store, !store.isEmpty { return store }
    if let fromEnvironment = environment["COMMERCEML_STORE"], !fromEnvironment.isEmpty { return fromEnvironment }
    return "./commerceml.sqlite"
  }

  /// The store's location, parsed once from the resolved path.
  public func location(environment: [String: String] = ProcessEnvironment.current) throws(StoreError) -> StoreLocation {
    try StoreLocation(parsing: resolvedPath(environment: environment), environment: environment)
  }

  /// Opens the model store; `create` for commands that write (training), not for those that only read.
  public func openModels(create: Bool) throws(StoreError) -> any ModelRegistry {
    try location().openRegistry(create: create)
  }
}

/// The process environment, read once.
public enum ProcessEnvironment {
  /// The environment variables of this process.
  public static var current: [String: String] {
    var result: [String: String] = [:]
    var p = environ
    while let entry = p.pointee {
      let text = String(cString: entry)
      if let eq = text.firstIndex(of: "=") {
        result[String(text[..<eq])] = String(text[text.index(after: eq)...])
      }
      p += 1
    }
    return result
  }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The version string every executable prints for `--version`.
public enum CommerceMLVersionText {
  /// `CommerceML <version>`.
  public static var current: String { "CommerceML \(CommerceMLVersion.current)" }
}
