import ArgumentParser
import CommandLineSupport
import Foundation
import Recommender
import Storage
import TabularIO

/// The options `measure` and `report` share: the later interactions, k, the version.
struct HeldOutOptions: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "Interactions the version did not train on (later ones), as a CSV with a header line.", valueName: "file"))
  var interactions: String
  @Option(name: .customLong("user-column"), help: "The user id column.") var userColumn = "user_id"
  @Option(name: .customLong("item-column"), help: "The item id column.") var itemColumn = "item_id"
  @Option(name: .short, parsing: .unconditional, help: "The cutoff k of the top-k metrics.") var k = 10
  @Option(name: .long, help: "The version (default: the active one).") var version: Int?
  @Option(name: .long, help: "Threads (default: every processor).") var threads: Int?

  func validate() throws {
    guard k >= 1 else { throw ValidationError("-k must be at least 1, got \(k)") }
  }

  var columns: InteractionColumns {
    var c = InteractionColumns()
    c.user = userColumn
    c.item = itemColumn
    return c
  }

  func evaluate(_ store: any ModelRegistry, name: String) throws -> (HeldOutEvaluation, StoredRecommender) {
    try measureRegistered(
      store, name: name, version: version, interactions: interactions, columns: columns, k: k,
      threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
  }
}

/// Version `version` (default: the active one) of `name`, measured on `interactions` (a path or `-`) it did not
/// train on: what `measure`, `report` and `evaluate --registered` show.
func measureRegistered(
  _ store: any ModelRegistry, name: String, version: Int?, interactions: String, columns: InteractionColumns, k: Int,
  threads: Int
) throws -> (HeldOutEvaluation, StoredRecommender) {
  let stored = try StoredRecommender(store: store, name: name, version: version)
  let e = try SpooledInput.withInput(interactions) { path in
    try RecommenderEvaluation.heldOut(stored, path: path, columns: columns, k: k, threads: threads)
  }
  return (e, stored)
}

struct MeasureCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "measure",
    abstract: "Measure a registered version on interactions it did not train on, beside popularity.",
    discussion: """
      For each user the version knows, the items of the file it had not already seen in training are the ones to \
      find: precision, recall, NDCG, MAP and hit rate at k of its top k (unseen items), beside the most popular \
      items; catalogue coverage; the mean training popularity of what it recommends, the Gini index of how often \
      each item is recommended and the share of long-tail items (all but the most popular fifth); NDCG by user \
      activity; the long tail by twentieths of the catalogue. --format json prints everything, with example users \
      and any tuning trials: the numbers recommend report draws.
      """)

  @OptionGroup var heldOut: HeldOutOptions
  @OptionGroup var format: FormatOptions
  @OptionGroup var name: ModelNameOption
  @OptionGroup var storeOptions: StoreOptions

  func run() throws {
    let store = try storeOptions.openModels(create: false)
    let (e, _) = try heldOut.evaluate(store, name: name.model)
    try printHeldOut(e, format: format.format)
  }
}

/// What `recommend measure` (and `recommend evaluate --registered`) prints of a held-out evaluation: the quality
/// table (csv: that table alone), NDCG by activity and the long tail; json: the whole evaluation.
func printHeldOut(_ e: HeldOutEvaluation, format: OutputFormat) throws {
  if format == .json {
    print(try jsonText(e))
    return
  }
  var t = OutputTable(columns: [
    "model", "precision@\(e.k)", "recall@\(e.k)", "ndcg@\(e.k)", "map@\(e.k)", "hit_rate@\(e.k)", "coverage",
    "avg_popularity", "exposure_gini", "long_tail_share",
  ])
  for q in e.quality {
    t.rows.append([
      .text(q.name), .number(q.precision, decimals: 4), .number(q.recall, decimals: 4), .number(q.ndcg, decimals: 4),
      .number(q.map, decimals: 4), .number(q.hitRate, decimals: 4), .number(q.coverage, decimals: 4),
      .number(q.averagePopularity, decimals: 2), .number(q.exposureGini, decimals: 4),
      .number(q.longTailShare, decimals: 4),
    ])
  }
  var b = OutputTable(columns: ["training_interactions", "users", "model_ndcg", "popularity_ndcg"])
  for r in e.buckets {
    b.rows.append([
      .text(r.label), .integer(r.users), .number(r.modelNDCG, decimals: 4), .number(r.popularityNDCG, decimals: 4),
    ])
  }
  var l = OutputTable(columns: ["items_by_rank", "interaction_share", "model_share", "popularity_share"])
  for r in e.longTail {
    l.rows.append([
      .text("\(r.fromRank)-\(r.toRank)"), .number(r.interactionShare, decimals: 4),
      .number(r.modelShare, decimals: 4), .number(r.popularityShare, decimals: 4),
    ])
  }
  if format == .csv {
    print(t.render(.csv), terminator: "")
  } else {
    print(t.render(.table))
    print("NDCG@\(e.k) by user activity\n" + b.render(.table))
    print(
      "Long tail (training mean popularity \(String(format: "%.2f", e.trainingAveragePopularity)))\n"
        + l.render(.table), terminator: "")
  }
  printError(
    "recommend: \(e.users) users, \(e.heldOutInteractions) held-out interactions; left out \(e.unknownUsers) unknown users, \(e.unknownItems) rows of unknown items, \(e.alreadySeen) rows seen in training"
  )
}

struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Write one self-contained HTML page about a version, measured on later interactions, with SVG charts.",
    discussion: """
      The model card; top-k quality against popularity; NDCG by user activity; the catalogue's long tail with how \
      often the model recommends each part of it, popularity bias and the Gini index of exposure; the tuning \
      trials when the version came from recommend tune; three example users with their history and \
      recommendations, titled from the catalogue. The numbers are recommend measure's. Nothing is fetched: the \
      page opens offline and prints.
      """)

  @OptionGroup var heldOut: HeldOutOptions
  @Option(name: .long, help: ArgumentHelp("The HTML file to write (atomically).", valueName: "file")) var output: String
  @OptionGroup var name: ModelNameOption
  @OptionGroup var storeOptions: StoreOptions

  func run() throws {
    let store = try storeOptions.openModels(create: false)
    try OutputFiles.refuseOverwriting(output, inputs: [heldOut.interactions] + store.files)
    let (e, stored) = try heldOut.evaluate(store, name: name.model)
    let page = RecommenderReport.page(e, version: stored.version, file: heldOut.interactions)
    try writeReport(page, to: output)
    printError("recommend: wrote \(output) (\(page.charts.count) charts)")
  }
}
