import ArgumentParser
import Foundation
import Storage
import StoreBackends

/// What the shared `models` commands need to know about the app they are part of.
public protocol CommerceApp {
  /// The executable's name (`recommend`, `churn`, `fraud`).
  static var toolName: String { get }
  /// The model name used when `--model` is not given.
  static var defaultModelName: String { get }
  /// The prefix of the kinds of model this app trains (e.g. `recommender.`); `models list` shows those.
  static var kindPrefix: String { get }
}

/// `models list|show|promote|rollback`: the same model-registry commands in every app.
public struct ModelsCommand<App: CommerceApp>: ParsableCommand {
  public static var configuration: CommandConfiguration {
    CommandConfiguration(
      commandName: "models",
      abstract: "List, inspect, promote, roll back and copy the versions of trained models.",
      subcommands: [
        ModelsList<App>.self, ModelsShow<App>.self, ModelsPromote<App>.self, ModelsRollback<App>.self,
        ModelsCopy<App>.self,
      ],
      defaultSubcommand: ModelsList<App>.self)
  }

  public init() {}
}

/// Renders the registry as tables; the commands print what these return.
public enum ModelsReport {
  static func timestamp(_ date: Date) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: date)
  }

  /// A metric as shown: a point in time (a name ending in `_time`, seconds since 1970 in UTC) as an ISO 8601
  /// timestamp — six significant digits would round it to hours — and any other number to six significant digits.
  static func metricText(_ name: String, _ value: Double) -> String {
    if name.hasSuffix("_time"), value.isFinite, abs(value) < 253_402_300_800 {  // before the year 10000
      let date = Date(timeIntervalSince1970: value)
      if value.rounded(.down) == value { return timestamp(date) }
      let f = ISO8601DateFormatter()
      f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
      return f.string(from: date)
    }
    return String(format: "%.6g", value)
  }

  static func metricsText(_ metrics: [String: Double]) -> String {
    metrics.sorted { $0.key < $1.key }.map { "\($0.key)=\(metricText($0.key, $0.value))" }.joined(separator: " ")
  }

  /// One row per version: name, version, active, kind, created, training rows/bytes, metrics.
  public static func list(_ versions: [ModelVersion]) -> OutputTable {
    OutputTable(
      columns: ["name", "version", "active", "kind", "created", "data_bytes", "metrics"],
      rows: versions.map { v in
        [
          .text(v.name), .integer(v.version), .text(v.isActive ? "*" : ""), .text(v.kind),
          .text(timestamp(v.createdAt)), .integer(v.dataBytes), .text(metricsText(v.metrics)),
        ]
      })
  }

  /// Every field of one version as `field,value` rows (parameters as `param.NAME`, metrics as `metric.NAME`).
  public static func show(_ v: ModelVersion) -> OutputTable {
    var rows: [[Cell]] = [
      [.text("name"), .text(v.name)], [.text("version"), .text(String(v.version))],
      [.text("active"), .text(v.isActive ? "yes" : "no")], [.text("kind"), .text(v.kind)],
      [.text("created"), .text(timestamp(v.createdAt))], [.text("code_version"), .text(v.codeVersion)],
      [.text("data_bytes"), .text(String(v.dataBytes))], [.text("data_xxh64"), .text(v.dataHash)],
      [.text("artifact_bytes"), .text(String(v.artifactBytes))],
    ]
    for (k, value) in v.parameters.sorted(by: { $0.key < $1.key }) { rows.append([.text("param.\(k)"), .text(value)]) }
    for (k, value) in v.metrics.sorted(by: { $0.key < $1.key }) {
      rows.append([.text("metric.\(k)"), .text(metricText(k, value))])
    }
    return OutputTable(columns: ["field", "value"], rows: rows)
  }
}

struct ModelSelection: ParsableArguments {
  @Option(name: .long, help: "The model's name (default: the app's own model).")
  var model: String?
}

struct ModelsList<App: CommerceApp>: ParsableCommand {
  static var configuration: CommandConfiguration {
    CommandConfiguration(
      commandName: "list", abstract: "List the versions of this app's models, newest first (* marks the active one).")
  }

  @OptionGroup var storeOptions: StoreOptions
  @OptionGroup var formatOptions: FormatOptions
  @Option(name: .long, help: "Only the versions of this model.") var model: String?
  @Flag(name: .long, help: "Include the models of the other apps.") var all = false

  func run() throws {
    let versions: [ModelVersion]
    do {
      let store = try storeOptions.openModels(create: false)
      versions = try store.list(name: model, kindPrefix: all ? nil : App.kindPrefix)
    } catch .storeNotFound(let path) {
      // Nothing trained yet is an empty list, said once on stderr so a mistyped path is noticed.
      printError("\(App.toolName): no model store at \(path) yet")
      versions = []
    }
    print(ModelsReport.list(versions).render(formatOptions.format), terminator: "")
  }
}

struct ModelsShow<App: CommerceApp>: ParsableCommand {
  static var configuration: CommandConfiguration {
    CommandConfiguration(commandName: "show", abstract: "Show one version: parameters, metrics, data fingerprint.")
  }

  @OptionGroup var storeOptions: StoreOptions
  @OptionGroup var formatOptions: FormatOptions
  @OptionGroup var selection: ModelSelection
  @Argument(help: "The version to show (default: the active one).") var version: Int?

  func run() throws {
    let store = try storeOptions.openModels(create: false)
    let name = selection.model ?? App.defaultModelName
    let v = try version.map { v throws(StoreError) in try store.version(name, v) } ?? store.active(name)
    print(ModelsReport.show(v).render(formatOptions.format), terminator: "")
  }
}

struct ModelsPromote<App: CommerceApp>: ParsableCommand {
  static var configuration: CommandConfiguration {
    CommandConfiguration(commandName: "promote", abstract: "Make a version the active one.")
  }

  @OptionGroup var storeOptions: StoreOptions
  @OptionGroup var selection: ModelSelection
  @Argument(help: "The version to make active.") var version: Int

  func validate() throws {
    guard version >= 1 else { throw ValidationError("versions start at 1; got \(version)") }
  }

  func run() throws {
    let store = try storeOptions.openModels(create: false)
    let name = selection.model ?? App.defaultModelName
    let before = try? store.active(name)
    let v = try store.promote(name, version: version)
    if before?.version == v.version {
      print("\(v.name): version \(v.version) is already active; nothing changed")
    } else {
      print("\(v.name): version \(v.version) is now active")
    }
  }
}

struct ModelsRollback<App: CommerceApp>: ParsableCommand {
  static var configuration: CommandConfiguration {
    CommandConfiguration(
      commandName: "rollback", abstract: "Return to the version that was active before the current one.")
  }

  @OptionGroup var storeOptions: StoreOptions
  @OptionGroup var selection: ModelSelection

  func run() throws {
    let store = try storeOptions.openModels(create: false)
    let name = selection.model ?? App.defaultModelName
    let rollback = try store.rollback(name)
    print("\(name): rolled back from version \(rollback.from.version) to version \(rollback.to.version)")
  }
}

struct ModelsCopy<App: CommerceApp>: ParsableCommand {
  static var configuration: CommandConfiguration {
    CommandConfiguration(
      commandName: "copy",
      abstract: "Copy versions from one store to another (SQLite or PostgreSQL), keeping their numbers and fields.",
      discussion: """
        Every version of the model (or only --version) is copied, oldest first; the source's active version, when \
        copied, becomes active in the target. A version the target already holds is left alone, so a copy can be \
        run again; a different version under the same number is refused.
        """)
  }

  @Option(name: .long, help: ArgumentHelp("The store to copy from.", valueName: "location")) var from: String
  @Option(name: .long, help: ArgumentHelp("The store to copy to (created when missing).", valueName: "location"))
  var to: String
  @OptionGroup var selection: ModelSelection
  @Option(name: .long, help: "Only this version.") var version: Int?

  func run() throws {
    let environment = ProcessEnvironment.current
    let source = try StoreLocation(parsing: from, environment: environment).openRegistry(create: false)
    let target = try StoreLocation(parsing: to, environment: environment).openRegistry(create: true)
    let name = selection.model ?? App.defaultModelName
    for copied in try source.copyVersions(name, version: version, to: target) {
      print("\(name) version \(copied.version): \(copied.outcome.rawValue)")
    }
    if let active = try? target.active(name) {
      print("\(name): version \(active.version) is active in \(target.location)")
    }
  }
}
