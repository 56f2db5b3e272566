import ArgumentParser
import CommandLineSupport
import Foundation
import LinearAlgebra
import Recommender

struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train", abstract: "Train a recommender on an interactions CSV and register it as a new version.")

  @OptionGroup var input: InteractionOptions
  @Option(
    name: .long,
    help: ArgumentHelp("An items CSV (item_id and any other columns) shown beside recommendations.", valueName: "file"))
  var items: String?
  @OptionGroup var hyperparameters: HyperparameterOptions
  @OptionGroup var name: ModelNameOption
  @OptionGroup var storeOptions: StoreOptions

  func run() throws {
    BLASThreads.set(hyperparameters.blasThreads)
    let started = Date()
    // The store is opened (and created) before the work, so that a bad location fails at once.
    let store = try storeOptions.openModels(create: true)
    // Whether the name can take this family is decided before the work, not after the fit.
    try TrainedRecommender.checkName(name.model, in: store, for: hyperparameters.configuration)
    let data = try InteractionData.load(
      path: input.interactions, columns: input.columns, feedback: hyperparameters.feedback)
    let catalog = try items.map { try ItemCatalog.load(path: $0) }
    printError(
      "recommend: \(data.rowCount) rows, \(data.users.count) user-item pairs, \(data.userIDs.count) users, \(data.itemIDs.count) items"
    )
    if case .ease = hyperparameters.configuration {
      printError(
        "recommend: EASE on \(data.itemIDs.count) items holds about \(EASE.formatBytes(EASE.memoryEstimate(items: data.itemIDs.count))) to fit and register"
      )
    }
    let model = try TrainedRecommender.train(
      data, configuration: hyperparameters.configuration, catalog: catalog,
      progress: { printError("recommend: \(describe($0))") })
    let version = try model.register(
      in: store, name: name.model, fingerprint: data.fingerprint, timeSpan: data.timeSpan)
    print(
      "registered \(version.name) version \(version.version) (\(version.kind), \(data.userIDs.count) users, \(data.itemIDs.count) items) in \(String(format: "%.1f", Date().timeIntervalSince(started)))s"
    )
  }
}
