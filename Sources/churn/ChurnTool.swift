import ArgumentParser
import CommandLineSupport

@main
struct ChurnTool: ParsableCommand, CommerceApp {
  static let toolName = "churn"
  static let defaultModelName = "churn"
  static let kindPrefix = "churn."

  static var configuration: CommandConfiguration {
    CommandConfiguration(
      commandName: "churn",
      abstract: "Customer churn models: logistic regression and penalized additive models.",
      discussion: "Models live in one SQLite file: --store PATH, else $COMMERCEML_STORE, else ./commerceml.sqlite.",
      version: CommerceMLVersionText.current,
      subcommands: [
        TrainCommand.self, ScoreCommand.self, EvaluateCommand.self, DriftCommand.self, ExplainCommand.self,
        ReportCommand.self,
        ServeCommand.self, ModelsCommand<ChurnTool>.self,
      ])
  }

  static func main() { CommandRunner.main(ChurnTool.self) }
}
