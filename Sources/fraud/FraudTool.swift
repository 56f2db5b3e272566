import ArgumentParser
import CommandLineSupport

@main
struct FraudTool: ParsableCommand, CommerceApp {
  static let toolName = "fraud"
  static let defaultModelName = "fraud"
  static let kindPrefix = "fraud."

  static var configuration: CommandConfiguration {
    CommandConfiguration(
      commandName: "fraud",
      abstract: "Real-time transaction fraud scoring from a stream.",
      discussion: """
        Models live in one store: --store LOCATION, else $COMMERCEML_STORE, else ./commerceml.sqlite. A location is a \
        SQLite file or a PostgreSQL registry, postgresql://USER@HOST:PORT/DATABASE.
        """,
      version: CommerceMLVersionText.current,
      subcommands: [
        TrainCommand.self, StreamCommand.self, ServeCommand.self, EvaluateCommand.self, ReportCommand.self,
        SimulateCommand.self,
        ModelsCommand<FraudTool>.self,
      ])
  }

  // `fraud stream` never calls BLAS (its model is a table of weights).
  static func main() {
    CommandRunner.main(FraudTool.self, usesBLAS: { $0.first != "stream" && $0.first != "serve" })
  }
}
