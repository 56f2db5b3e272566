import ArgumentParser
import CommandLineSupport
import Foundation
import Fraud
import TabularIO

struct SimulateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "simulate",
    abstract: "Generate realistic card transactions with labeled fraud patterns (CSV on stdout or --output).",
    discussion: """
      Normal spending (home city, typical amount, favourite merchants) with stolen-card bursts, card testing \
      (small amounts, then a large one), impossible travel and compromised merchants whose customers are \
      defrauded days later. Columns: transaction_id,timestamp,card,merchant,merchant_category,country,amount,lat,lon,label. \
      The same seed gives the same file.
      """)

  @Option(name: .long, parsing: .unconditional, help: "Days of transactions.") var days = 30
  @Option(name: .long, parsing: .unconditional, help: "Cards.") var cards = 1_000
  @Option(name: .long, parsing: .unconditional, help: "Merchants.") var merchants = 200
  @Option(name: .long, parsing: .unconditional, help: "Seed.") var seed: UInt64 = 42
  @Option(name: .long, help: "First day (YYYY-MM-DD, UTC).") var start = "2026-01-01"
  @Option(
    name: .customLong("fraud-share"), parsing: .unconditional,
    help: "Share of cards with a fraud episode over the period.")
  var fraudShare = 0.02
  @Option(name: .long, help: ArgumentHelp("Write here (atomically) instead of standard output.", valueName: "file"))
  var output: String?

  func validate() throws {
    guard days >= 1, days <= 3650 else { throw ValidationError("--days must be 1 to 3650") }
    guard cards >= 1 else { throw ValidationError("--cards must be at least 1") }
    guard merchants >= 2 else { throw ValidationError("--merchants must be at least 2") }
    guard fraudShare >= 0, fraudShare <= 1 else { throw ValidationError("--fraud-share must be between 0 and 1") }
    guard case .value = Array(start.utf8).withUnsafeBufferPointer({ FieldParser.parseTimestamp($0) }) else {
      throw ValidationError("--start must be a date like 2026-01-01, got '\(start)'")
    }
  }

  func run() throws {
    var c = SimulationConfiguration()
    c.days = days
    c.cards = cards
    c.merchants = merchants
    c.seed = seed
    c.fraudCardShare = fraudShare
    // Merchant breaches are the other source of fraud: half as many merchants as cards, in share (0.01 at the
    // default 0.02), so that a share of 0 makes no fraud at all.
    c.compromisedMerchantShare = fraudShare / 2
    if case .value(let t) = Array(start.utf8).withUnsafeBufferPointer({ FieldParser.parseTimestamp($0) }) {
      c.start = t
    }
    let writer = try output.map { try CSVWriter(path: $0, bufferBytes: 1 << 20) } ?? CSVWriter(fileDescriptor: 1)
    let summary = try FraudSimulator.generate(c, to: writer)
    try writer.finish()
    printError("fraud: simulated \(summary.transactions) transactions, \(summary.frauds) fraudulent")
  }
}
