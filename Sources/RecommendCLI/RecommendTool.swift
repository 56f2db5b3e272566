import ArgumentParser
import CommandLineSupport

struct RecommendTool: ParsableCommand, CommerceApp {
  static let toolName = "recommend"
  static let defaultModelName = "recommender"
  static let kindPrefix = "recommender."

  static var configuration: CommandConfiguration {
    CommandConfiguration(
      commandName: "recommend",
      abstract: "Top-N product recommendations by matrix factorization.",
      discussion: StoreOptions.whereModelsLive,
      version: CommerceMLVersionText.current,
      subcommands: [
        UserCommand.self, TrainCommand.self, SimilarCommand.self, BatchCommand.self, EvaluateCommand.self,
        MeasureCommand.self, ImportCommand.self,
        ReportCommand.self,
        TuneCommand.self, ServeCommand.self, ModelsCommand<RecommendTool>.self,
      ],
      defaultSubcommand: UserCommand.self)
  }

}

/// The `recommend` command line, for its executable and the multi-call `commerceml`.
public enum RecommendCommandLine {
  /// Parses `arguments` (default: the process's, after the program name), runs the command, and exits.
  public static func main(arguments: [String]? = nil) -> Never {
    CommandRunner.main(RecommendTool.self, arguments: arguments)
  }
}
