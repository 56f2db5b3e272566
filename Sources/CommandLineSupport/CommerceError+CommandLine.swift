import Foundation
import Modeling

extension CommerceError: ReportableError {
  /// The exit code of each kind: 64 usage, 65 bad data, 1 for what is not found or a missing model, 69 for a
  /// damaged model (the store is unusable for it), 71 for a resource the system refused.
  public var exitCode: Int32 {
    switch kind {
    case .usage: return 64
    case .data: return 65
    case .notFound, .noModel: return 1
    case .damaged: return 69
    case .unavailable: return 71
    }
  }

  /// The message with every reference named as the command line names it (`-n`, `--include-seen`, …).
  public var commandLineMessage: String { message.rendered(naming: CommandLineNames.name) }
}

/// How the command line names what domain errors refer to: an option by its flag, training by its command.
public enum CommandLineNames {
  /// The flag (or command) for `reference`: `--` and its name with `-` for `_` (`include_seen` →
  /// `--include-seen`), except the few whose flag is spelt otherwise.
  public static func name(_ reference: CommerceError.Reference) -> String {
    if let special = exceptions[reference] { return special }
    return "--" + reference.rawValue.replacingOccurrences(of: "_", with: "-")
  }

  static let exceptions: [CommerceError.Reference: String] = [
    .count: "-n", .cutoff: "-k",
    .trainRecommender: "recommend train --interactions FILE",
    .trainChurn: "churn train --data FILE --target COLUMN",
    .trainFraud: "fraud train --data FILE",
  ]
}
