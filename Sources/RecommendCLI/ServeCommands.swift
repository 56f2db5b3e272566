import ArgumentParser
import CommandLineSupport
import Foundation
import LinearAlgebra
import Modeling
import Recommender
import TabularIO

/// Formats a recommendation list as a table: rank, item id, item metadata, score, source.
func table(_ list: RecommendationList) -> OutputTable {
  // An item column named like one of ours (or like another item column) is prefixed, so that every column (and
  // JSON key) is unique.
  var taken: Set<String> = ["rank", "item_id", "score", "source", "similarity"]
  let metadata = list.metadataColumns.map { name -> String in
    var shown = taken.contains(name) ? "item_" + name : name
    var k = 2
    while taken.contains(shown) {
      shown = "item_\(name)_\(k)"
      k += 1
    }
    taken.insert(shown)
    return shown
  }
  var t = OutputTable(columns: ["rank", "item_id"] + metadata + ["score", "source"])
  for r in list.items {
    var row: [Cell] = [.integer(r.rank), .text(r.itemID)]
    for column in list.metadataColumns { row.append(.text(r.metadata[column] ?? "")) }
    row.append(list.source == .popularity ? .integer(Int(r.score)) : .number(Double(r.score), decimals: 4))
    row.append(.text(list.source.rawValue))
    t.rows.append(row)
  }
  return t
}

struct UserCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "user", abstract: "Recommend items for one user (the default command: recommend USER-ID).",
    discussion: """
      Items the user already has are left out unless --include-seen. A user the model does not know is \
      folded in from --history (one least-squares solve, no retraining); without history they get the most \
      popular items, marked 'popularity' in the source column, with a note on stderr (--strict makes that an error).
      """)

  @Argument(help: "The user's id.") var userID: String
  @Option(name: .short, parsing: .unconditional, help: "How many items.") var n = 10
  @Flag(name: .customLong("include-seen"), help: "Keep items the user already interacted with.")
  var includeSeen = false
  @Option(
    name: .long,
    help: ArgumentHelp(
      "For a user the model does not know: items they interacted with, comma-separated (ITEM or ITEM:RATING).",
      valueName: "items"))
  var history: String?
  @Flag(name: .long, help: "Fail for an unknown user without --history instead of recommending popular items.")
  var strict = false
  @OptionGroup var format: FormatOptions
  @OptionGroup var name: ModelNameOption
  @OptionGroup var storeOptions: StoreOptions

  func validate() throws {
    guard n >= 1 else { throw ValidationError("-n must be at least 1, got \(n)") }
  }

  func run() throws {
    let store = try storeOptions.openModels(create: false)
    let model = try StoredRecommender(store: store, name: name.model)
    let items = history.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } ?? []
    let list = try model.recommend(user: userID, count: n, includeSeen: includeSeen, history: items, strict: strict)
    if list.source == .popularity {
      printError("recommend: user '\(userID)' is not in the model; showing the most popular items")
    } else if list.source == .averageUser {
      printError(
        "recommend: user '\(userID)' is not in the model; showing the items its average user scores highest (the version knows no interactions)"
      )
    }
    print(format.format == .json ? try JSONContract.text(list) : table(list).render(format.format), terminator: "")
  }
}

struct SimilarCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "similar", abstract: "Items most similar to an item (cosine similarity of item factors).")

  @Argument(help: "The item's id.") var itemID: String
  @Option(name: .short, parsing: .unconditional, help: "How many items.") var n = 10
  @OptionGroup var format: FormatOptions
  @OptionGroup var name: ModelNameOption
  @OptionGroup var storeOptions: StoreOptions

  func validate() throws {
    guard n >= 1 else { throw ValidationError("-n must be at least 1, got \(n)") }
  }

  func run() throws {
    let store = try storeOptions.openModels(create: false)
    let list = try StoredRecommender(store: store, name: name.model).similar(item: itemID, count: n)
    if format.format == .json {
      print(try JSONContract.text(list), terminator: "")
      return
    }
    var t = table(list)
    t.columns[t.columns.count - 2] = "similarity"
    t.columns.removeLast()
    t.rows = t.rows.map { Array($0.dropLast()) }
    print(t.render(format.format), terminator: "")
  }
}

struct BatchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "batch",
    abstract: "Recommend for many users at once into a CSV: user_id,rank,item_id,score,source.")

  @Option(name: .long, help: ArgumentHelp("A CSV of users to recommend for (column user_id).", valueName: "file"))
  var users: String?
  @Option(name: .customLong("user-column"), help: "The user id column of --users.") var userColumn = "user_id"
  @Flag(name: .long, help: "Recommend for every user in the model.") var all = false
  @Option(name: .short, parsing: .unconditional, help: "How many items per user.") var n = 10
  @Option(name: .long, help: ArgumentHelp("The output CSV (written whole or not at all).", valueName: "file"))
  var output: String
  @Option(name: .long, help: "Threads (default: every processor).") var threads = ProcessInfo.processInfo
    .activeProcessorCount
  @OptionGroup var name: ModelNameOption
  @OptionGroup var storeOptions: StoreOptions

  func validate() throws {
    guard (users != nil) != all else { throw ValidationError("give exactly one of --users FILE and --all") }
    guard n >= 1 else { throw ValidationError("-n must be at least 1, got \(n)") }
    guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
  }

  func run() throws {
    // The ranking parallelizes with its own threads.
    BLASThreads.set(1)
    let store = try storeOptions.openModels(create: false)
    let started = Date()
    let model = try StoredRecommender(store: store, name: name.model)
    var bar: ProgressBar? = nil
    let list: BatchUsers = users.map { .file(path: $0, column: userColumn) } ?? .all
    let summary = try model.batch(list, count: n, output: output, threads: threads) { done, total in
      if bar == nil { bar = ProgressBar(label: "recommend batch", total: total) }
      bar?.update(done)
    }
    bar?.finish()
    if summary.unknownUsers > 0 {
      let got = summary.fallback == .averageUser ? "the average user's top items" : "the most popular items"
      printError("recommend: \(summary.unknownUsers) users are not in the model and got \(got)")
    }
    printError(
      "recommend: wrote \(summary.rows) rows for \(summary.users) users to \(output) in \(String(format: "%.2f", Date().timeIntervalSince(started)))s"
    )
  }
}
