import ArgumentParser
import CommandLineSupport

struct FraudTool: ParsableCommand, CommerceApp {
  static let toolName = "fraud"
  static let defaultModelName = "fraud"
  static let kindPrefix = "fraud."

  static var configuration: CommandConfiguration {
    CommandConfiguration(
      commandName: "fraud",
      abstract: "Real-time transaction fraud scoring from a stream.",
      discussion: StoreOptions.whereModelsLive,
      version: CommerceMLVersionText.current,
      subcommands: [
        TrainCommand.self, StreamCommand.self, ServeCommand.self, EvaluateCommand.self, ReportCommand.self,
        SimulateCommand.self,
        ModelsCommand<FraudTool>.self,
      ])
  }

}

/// The `fraud` command line, for its executable and the multi-call `commerceml`.
public enum FraudCommandLine {
  /// Parses `arguments` (default: the process's, after the program name), runs the command, and exits.
  /// `fraud stream` and `fraud serve` never call BLAS (their model is a table of weights).
  public static func main(arguments: [String]? = nil) -> Never {
    CommandRunner.main(
      FraudTool.self, arguments: arguments, usesBLAS: { $0.first != "stream" && $0.first != "serve" })
  }
}
