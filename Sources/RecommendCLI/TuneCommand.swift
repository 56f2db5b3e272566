import ArgumentParser
import CommandLineSupport
import Foundation
import LinearAlgebra
import Recommender

struct TuneCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tune",
    abstract: "Search hyperparameters by cross-validation of the data given, then register the best model.",
    discussion: """
      Each trial is scored by per-user k-fold cross-validation of the data given (--folds, default 5; --seed \
      deals the folds): every user's interactions (users with at least 5) are dealt at random to the folds, and \
      the trial trains on all folds but one and scores NDCG@k (implicit) or RMSE (explicit) on the one left out, \
      each fold in turn; its score is the mean. With implicit feedback the trials alternate between the families: \
      ALS (factors, iterations, regularization, alpha: random draws in the first half, then steps around its best) \
      and, when the catalogue fits --max-items, EASE (lambda: a deterministic search on log lambda from the \
      default, by half-decade steps, then the peak of a quadratic fitted to the scores; once it converges the \
      other family takes the remaining trials). Each family starts from its defaults (or the settings given). \
      Each family then puts forward one trial: ALS its best only when it beats its defaults clearly (by at least \
      2%, and beyond the 95% Student-t bound of the per-fold differences: the best of many random draws is ahead \
      partly by chance, and the folds fit on less data than the final model), else its defaults; EASE the trial nearest the fitted peak. The better-scoring of the two is \
      trained on all the data and registered with its cross-validated figures.

      """)

  @OptionGroup var input: InteractionOptions
  @Option(
    name: .long,
    help: ArgumentHelp("An items CSV (item_id and any other columns) shown beside recommendations.", valueName: "file"))
  var items: String?
  @Option(name: .long, parsing: .unconditional, help: "Number of trials.") var trials = 24
  @Option(name: .long, parsing: .unconditional, help: "Cross-validation folds (2 to 20).") var folds = 5
  @Option(name: .short, parsing: .unconditional, help: "The cutoff k of NDCG@k.") var k = 10
  @OptionGroup var hyperparameters: HyperparameterOptions
  @OptionGroup var name: ModelNameOption
  @OptionGroup var storeOptions: StoreOptions

  func validate() throws {
    guard trials >= 1 else { throw ValidationError("--trials must be at least 1, got \(trials)") }
    guard (2...20).contains(folds) else { throw ValidationError("--folds must be between 2 and 20, got \(folds)") }
  }

  func run() throws {
    BLASThreads.set(hyperparameters.blasThreads)
    let data = try InteractionData.load(
      path: input.interactions, columns: input.columns, feedback: hyperparameters.feedback)
    let store = try storeOptions.openModels(create: true)
    // Whether the name can take the families tried is decided before the search, not after it.
    try TrainedRecommender.checkName(name.model, in: store, for: hyperparameters.configuration)
    // The items file is read before the search, so that a bad one fails at once.
    let catalog = try items.map { try ItemCatalog.load(path: $0) }
    let outcome = try RecommenderTuning.tune(
      data, base: hyperparameters.configuration, alternative: hyperparameters.otherImplicitFamily, trials: trials,
      folds: folds,
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
    func figure(_ x: Double) -> String { String(format: "%.4f", x) }
    print("")
    for choice in result.families {
      print(
        "\(choice.family): trial \(choice.trial.number), validation \(result.metric) \(figure(choice.trial.score)) — \(choice.note)"
      )
    }
    print("chosen: trial \(result.best.number), validation \(result.metric) \(figure(result.best.score))")
    print("      \(describe(result.best.configuration))")
    let report = result.validation
    let m = report.ranking[0]
    var line = String(
      format: "cross-validated (%d folds): ndcg@%d %.4f, precision@%d %.4f, recall@%d %.4f, map@%d %.4f",
      result.folds, k, m.ndcg, k, m.precision, k, m.recall, k, m.map)
    if let rating = report.rating.first { line += String(format: ", rmse %.4f, mae %.4f", rating.rmse, rating.mae) }
    line += String(format: " (popularity ndcg@%d %.4f", k, report.ranking[1].ndcg)
    if report.rating.count > 1 { line += String(format: ", bias-only rmse %.4f", report.rating[1].rmse) }
    print(line + ")")
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
