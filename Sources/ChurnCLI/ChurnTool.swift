import ArgumentParser
import CommandLineSupport

struct ChurnTool: ParsableCommand, CommerceApp {
  static let toolName = "churn"
  static let defaultModelName = "churn"
  static let kindPrefix = "churn."

  static var configuration: CommandConfiguration {
    CommandConfiguration(
      commandName: "churn",
      abstract: "Customer churn models: logistic regression and penalized additive models.",
      discussion: StoreOptions.whereModelsLive,
      version: CommerceMLVersionText.current,
      subcommands: [
        TrainCommand.self, ScoreCommand.self, EvaluateCommand.self, DriftCommand.self, ExplainCommand.self,
        ReportCommand.self,
        ServeCommand.self, ModelsCommand<ChurnTool>.self,
      ])
  }

}

/// The `churn` command line, for its executable and the multi-call `commerceml`.
public enum ChurnCommandLine {
  /// Parses `arguments` (default: the process's, after the program name), runs the command, and exits.
  public static func main(arguments: [String]? = nil) -> Never {
    CommandRunner.main(ChurnTool.self, arguments: arguments)
  }
}
