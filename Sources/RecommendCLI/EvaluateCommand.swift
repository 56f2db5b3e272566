import ArgumentParser
import CommandLineSupport
import Foundation
import LinearAlgebra
import Recommender

extension HoldoutSplit: ExpressibleByArgument {}

struct EvaluateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "evaluate",
    abstract: "Hold out part of each user's interactions, train on the rest, and report top-k quality.",
    discussion: """
      Each user with at least 5 interactions gives round(test-fraction × n) of them to the test set: a random \
      share (--split random), or their latest by --timestamp-column (--split time; other users' later \
      interactions may still train). --split global-time holds out the latest interactions of all with one \
      cut-off time, so that nothing later than a held-out interaction trains, as a shop deploying the model would \
      see; users with nothing before the cut-off are left out of the test. Ties at a cut and interactions without a \
      time are reported. \
      The model's precision@k, recall@k, NDCG@k, MAP@k and catalog coverage are shown beside a popularity \
      baseline on the same split; with --feedback explicit also RMSE and MAE beside a bias-only baseline. \
      With --registered nothing is split or trained: the registered version (the active one of --model, or \
      --version) is measured on the whole of --interactions, taken as interactions it did not train on — a model \
      trained elsewhere (recommend import) or earlier; the figures and formats are recommend measure's.
      """)

  @OptionGroup var input: InteractionOptions
  @Option(
    name: .customLong("test-fraction"), parsing: .unconditional, help: "Share of each user's interactions held out.")
  var testFraction: Double?
  @Option(name: .short, parsing: .unconditional, help: "The cutoff k of the top-k metrics.")
  var k = 10
  @Option(
    name: .long,
    help:
      "random (a random share of each user's interactions), time (each user's latest) or global-time (the latest of all, one cut-off time)."
  )
  var split: HoldoutSplit?
  @Flag(
    name: .long,
    help:
      "Measure the registered version (the active one, or --version) on the whole of --interactions instead of splitting and training."
  )
  var registered = false
  @Option(name: .long, help: "With --registered: the version (default: the active one).") var version: Int?
  @OptionGroup var hyperparameters: HyperparameterOptions
  @OptionGroup var format: FormatOptions
  @OptionGroup var name: ModelNameOption
  @OptionGroup var storeOptions: StoreOptions

  func validate() throws {
    if let testFraction {
      guard testFraction > 0, testFraction < 1 else {
        throw ValidationError("--test-fraction must be between 0 and 1, got \(testFraction)")
      }
    }
    guard k >= 1 else { throw ValidationError("-k must be at least 1, got \(k)") }
    if registered {
      guard testFraction == nil, split == nil else {
        throw ValidationError(
          "--registered measures a version on the whole file: --test-fraction and --split do not apply")
      }
    } else if version != nil {
      throw ValidationError("--version names the registered version to measure: give --registered with it")
    }
  }

  func run() throws {
    if registered {
      let (e, _) = try measureRegistered(
        try storeOptions.openModels(create: false), name: name.model, version: version,
        interactions: input.interactions, columns: input.columns, k: k, threads: hyperparameters.threads)
      try printHeldOut(e, format: format.format)
      return
    }
    let testFraction = self.testFraction ?? 0.2
    let split = self.split ?? .random
    BLASThreads.set(hyperparameters.blasThreads)
    let data = try InteractionData.load(
      path: input.interactions, columns: input.columns, feedback: hyperparameters.feedback)
    let report = try RecommenderEvaluation.evaluate(
      data, configuration: hyperparameters.configuration, testFraction: testFraction, seed: hyperparameters.seed, k: k,
      split: split, progress: { printError("recommend: \(describe($0))") })
    for note in report.splitNotes { printError("recommend: \(note)") }
    printError(
      "recommend: \(report.trainInteractions) training and \(report.testInteractions) held-out interactions, \(report.ranking[0].users) test users"
    )
    var table = OutputTable(columns: [
      "model", "precision@\(k)", "recall@\(k)", "ndcg@\(k)", "map@\(k)", "coverage",
    ])
    for r in report.ranking {
      table.rows.append([
        .text(r.name), .number(r.precision, decimals: 4), .number(r.recall, decimals: 4), .number(r.ndcg, decimals: 4),
        .number(r.map, decimals: 4), .number(r.coverage, decimals: 4),
      ])
    }
    var ratings = OutputTable(columns: ["model", "rmse", "mae"])
    for r in report.rating {
      ratings.rows.append([.text(r.name), .number(r.rmse, decimals: 4), .number(r.mae, decimals: 4)])
    }
    switch format.format {
    case .table:
      print(table.render(.table), terminator: "")
      if !report.rating.isEmpty { print("\n" + ratings.render(.table), terminator: "") }
    case .csv where report.rating.isEmpty:
      print(table.render(.csv), terminator: "")
    case .csv:
      // One table: the rating columns beside the ranking ones, blank where a row has none.
      var merged = OutputTable(columns: table.columns + ["rmse", "mae"])
      for row in table.rows {
        let rating = ratings.rows.first { $0[0] == row[0] }
        merged.rows.append(row + (rating.map { Array($0[1...]) } ?? [.missing, .missing]))
      }
      for rating in ratings.rows where !table.rows.contains(where: { $0[0] == rating[0] }) {
        merged.rows.append([rating[0]] + [Cell](repeating: .missing, count: table.columns.count - 1) + rating[1...])
      }
      print(merged.render(.csv), terminator: "")
    case .json:
      // One document: {"ranking": [...], "rating": [...]}.
      let ranking = table.render(.json).trimmingCharacters(in: .whitespacesAndNewlines)
      let rating = ratings.render(.json).trimmingCharacters(in: .whitespacesAndNewlines)
      print("{\"ranking\": \(ranking),\n \"rating\": \(rating)}")
    }
  }
}
