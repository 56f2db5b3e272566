import ArgumentParser
import CommandLineSupport
import Foundation
import Recommender

struct TuneCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tune",
    abstract: "Search hyperparameters on a validation split of the training data, then register the best model.",
    discussion: """
      The data is split as 'recommend evaluate' splits it (--test-fraction, --seed); the test part is \
      never used for the search. The training part is split again, twice with different seeds, into fit and \
      validation parts (a per-user random share, as the holdout); each trial trains on the fit parts and scores \
      the mean NDCG@k (implicit) or RMSE (explicit) on the validation parts. With implicit feedback the trials \
      alternate between the families: ALS (factors, iterations, regularization, alpha) and, when the catalogue \
      fits --max-items, EASE (lambda). The first half samples at random, the second perturbs the best so far. The \
      best settings are then trained on all the data and registered, and their holdout quality is reported.
      """)

  @OptionGroup var input: InteractionOptions
  @Option(
    name: .long,
    help: ArgumentHelp("An items CSV (item_id and any other columns) shown beside recommendations.", valueName: "file"))
  var items: String?
  @Option(name: .long, parsing: .unconditional, help: "Number of trials.") var trials = 24
  @Option(
    name: .customLong("test-fraction"), parsing: .unconditional, help: "Share of each user's interactions held out.")
  var testFraction = 0.2
  @Option(name: .short, parsing: .unconditional, help: "The cutoff k of NDCG@k.") var k = 10
  @OptionGroup var hyperparameters: HyperparameterOptions
  @OptionGroup var name: ModelNameOption
  @OptionGroup var storeOptions: StoreOptions

  func validate() throws {
    guard trials >= 1 else { throw ValidationError("--trials must be at least 1, got \(trials)") }
    guard testFraction > 0, testFraction < 1 else {
      throw ValidationError("--test-fraction must be between 0 and 1, got \(testFraction)")
    }
  }

  func run() throws {
    let data = try InteractionData.load(
      path: input.interactions, columns: input.columns, feedback: hyperparameters.feedback)
    let store = try storeOptions.openModels(create: true)
    // The items file is read before the search, so that a bad one fails at once.
    let catalog = try items.map { try ItemCatalog.load(path: $0) }
    let outcome = try RecommenderTuning.tune(
      data, base: hyperparameters.configuration, trials: trials, testFraction: testFraction,
      seed: hyperparameters.seed, k: k, catalog: catalog, store: store, name: name.model,
      log: { trial in
        printError(
          "recommend: trial \(trial.number): \(describe(trial.configuration)) → \(String(format: "%.4f", trial.score)) (\(String(format: "%.1f", trial.seconds))s)"
        )
      })
    let result = outcome.search
    var t = OutputTable(columns: [
      "trial", "algorithm", "factors", "iterations", "regularization", "alpha", "bias_regularization", "lambda",
      result.metric,
    ])
    for trial in result.trials {
      switch trial.configuration {
      case .implicitALS(let c):
        t.rows.append([
          .integer(trial.number), .text("als"), .integer(c.factors), .integer(c.iterations),
          .number(Double(c.regularization), decimals: 4), .number(Double(c.alpha), decimals: 4), .missing, .missing,
          .number(trial.score, decimals: 4),
        ])
      case .biasedMF(let c):
        t.rows.append([
          .integer(trial.number), .text("biased-mf"), .integer(c.factors), .integer(c.iterations),
          .number(Double(c.regularization), decimals: 4), .missing, .number(Double(c.biasRegularization), decimals: 4),
          .missing, .number(trial.score, decimals: 4),
        ])
      case .ease(let c):
        t.rows.append([
          .integer(trial.number), .text("ease"), .missing, .missing, .missing, .missing, .missing,
          .number(Double(c.lambda), decimals: 2), .number(trial.score, decimals: 4),
        ])
      }
    }
    print(t.render(.table), terminator: "")
    print(
      "\nbest: trial \(result.best.number), validation \(result.metric) \(String(format: "%.4f", result.best.score))")
    print("      \(describe(result.best.configuration))")
    let report = outcome.holdout
    let m = report.ranking[0]
    var line = String(
      format: "holdout with these settings: ndcg@%d %.4f, precision@%d %.4f, recall@%d %.4f, map@%d %.4f", k, m.ndcg, k,
      m.precision, k, m.recall, k, m.map)
    if let rating = report.rating.first { line += String(format: ", rmse %.4f, mae %.4f", rating.rmse, rating.mae) }
    line += String(format: " (popularity ndcg@%d %.4f)", k, report.ranking[1].ndcg)
    print(line)
    let version = outcome.registered
    print("registered \(version.name) version \(version.version) trained on all \(outcome.interactions) interactions")
  }
}

/// Hyperparameters as command-line options.
func describe(_ c: RecommenderConfiguration) -> String {
  switch c {
  case .implicitALS(let c):
    String(
      format: "--factors %d --iterations %d --regularization %.4g --alpha %.4g", c.factors, c.iterations,
      c.regularization, c.alpha)
  case .biasedMF(let c):
    String(
      format: "--feedback explicit --factors %d --iterations %d --regularization %.4g --bias-regularization %.4g",
      c.factors, c.iterations, c.regularization, c.biasRegularization)
  case .ease(let c):
    String(format: "--algorithm ease --lambda %.4g", c.lambda)
  }
}
