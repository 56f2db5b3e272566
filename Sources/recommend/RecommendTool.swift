import ArgumentParser
import CommandLineSupport

@main
struct RecommendTool: ParsableCommand, CommerceApp {
  static let toolName = "recommend"
  static let defaultModelName = "recommender"
  static let kindPrefix = "recommender."

  static var configuration: CommandConfiguration {
    CommandConfiguration(
      commandName: "recommend",
      abstract: "Top-N product recommendations by matrix factorization.",
      discussion: "Models live in one SQLite file: --store PATH, else $COMMERCEML_STORE, else ./commerceml.sqlite.",
      version: CommerceMLVersionText.current,
      subcommands: [TrainCommand.self, EvaluateCommand.self, ModelsCommand<RecommendTool>.self])
  }

  static func main() { CommandRunner.main(RecommendTool.self) }
}
