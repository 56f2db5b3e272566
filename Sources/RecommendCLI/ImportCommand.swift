import ArgumentParser
import CommandLineSupport
import Foundation
import Recommender

struct ImportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Register factors trained on Spark (Scripts/spark/train_als.py) as a recommender version.",
    discussion: """
      DIR holds metadata.json (format commerceml-als-factors, rank, implicit_prefs, reg_param, alpha, max_iter) and \
      user_factors/ and item_factors/ of CSV part files, id,f0,…,f{rank-1} with a header line (README, "Scaling \
      out"). The interactions the factors were trained on (--interactions) give each user's seen items (filtered \
      from recommendations) and the item popularity (the fallback for unknown users); their users and items must \
      be exactly the factors' ids. Without --interactions nothing counts as seen (nothing is filtered, as in \
      Spark's own recommendations) and an unknown user gets the items the average user scores highest (source \
      average-user); such a version cannot be measured (recommend measure, report, evaluate --registered). The \
      version then serves, batches and rolls back as one trained here.
      """)

  @Option(
    name: .customLong("spark-factors"),
    help: ArgumentHelp("The factors directory train_als.py wrote.", valueName: "dir"))
  var sparkFactors: String
  @Option(
    name: .long,
    help: ArgumentHelp(
      "The interactions the factors were trained on (CSV with a header line; default: none).", valueName: "file"))
  var interactions: String?
  @OptionGroup var columns: InteractionColumnOptions
  @Option(
    name: .long,
    help: ArgumentHelp("An items CSV (item_id and any other columns) shown beside recommendations.", valueName: "file"))
  var items: String?
  @OptionGroup var name: ModelNameOption
  @OptionGroup var storeOptions: StoreOptions

  func run() throws {
    let started = Date()
    let store = try storeOptions.openModels(create: true)
    try TrainedRecommender.checkName(name.model, in: store, for: .implicitALS(.init()))
    let data = try interactions.map {
      try InteractionData.load(path: $0, columns: columns.columns, feedback: .implicit)
    }
    let catalog = try items.map { try ItemCatalog.load(path: $0) }
    let (model, factorsFingerprint) = try SparkFactorImport.load(directory: sparkFactors, data: data, catalog: catalog)
    let version = try model.register(
      in: store, name: name.model, fingerprint: data?.fingerprint ?? factorsFingerprint, timeSpan: data?.timeSpan)
    if data == nil {
      printError(
        "recommend: imported without --interactions: no item counts as seen and unknown users get the average user's top items"
      )
    }
    print(
      "registered \(version.name) version \(version.version) (\(version.kind) from Spark, \(model.userIDs.count) users, \(model.itemIDs.count) items, rank \(model.parametersOverride?["factors"] ?? "?")) in \(String(format: "%.1f", Date().timeIntervalSince(started)))s"
    )
  }
}
