import ArgumentParser
import CommandLineSupport
import Foundation
import Fraud
import TabularIO

/// The generators `fraud simulate` offers.
enum SimulationProfile: String, ExpressibleByArgument, CaseIterable {
  /// The project's own: cards, merchants, cities, four fraud patterns.
  case standard = "default"
  /// The Practical Handbook's: customers and terminals on a grid, three fraud scenarios.
  case handbook
}

struct SimulateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "simulate",
    abstract: "Generate realistic card transactions with labeled fraud patterns (CSV on stdout or --output).",
    discussion: """
      --profile default: normal spending (home city, typical amount, favourite merchants) with stolen-card \
      bursts, card testing (small amounts, then a large one), impossible travel and compromised merchants whose \
      customers are defrauded days later. Columns: \
      transaction_id,timestamp,card,merchant,merchant_category,country,amount,lat,lon,label.

      --profile handbook: the simulator of the Reproducible Machine Learning for Credit Card Fraud Detection \
      handbook: customers and terminals on a 100 x 100 grid, a customer using the terminals within --radius; \
      frauds: amounts above --amount-threshold, --compromised-terminals terminals a day whose transactions are \
      all fraud for --terminal-days days, --compromised-customers customers a day a third of whose transactions \
      are fraud for --customer-days days with the amount multiplied by --amount-factor. Columns: \
      TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_TIME_SECONDS,TX_TIME_DAYS,TX_FRAUD,\
      TX_FRAUD_SCENARIO (map them with --map transaction_id=TRANSACTION_ID,timestamp=TX_DATETIME,\
      card=CUSTOMER_ID,merchant=TERMINAL_ID,amount=TX_AMOUNT,label=TX_FRAUD).

      The same seed gives the same file.
      """)

  @Option(name: .long, help: "default or handbook.") var profile: SimulationProfile = .standard
  @Option(name: .long, parsing: .unconditional, help: "Days of transactions (default: 30; handbook 183).")
  var days: Int?
  @Option(name: .long, parsing: .unconditional, help: "Cards (default: 1000; handbook: customers, 5000).")
  var cards: Int?
  @Option(name: .long, parsing: .unconditional, help: "Merchants (default profile).") var merchants = 200
  @Option(name: .long, parsing: .unconditional, help: "Terminals (handbook profile).") var terminals = 10_000
  @Option(name: .long, parsing: .unconditional, help: "Seed.") var seed: UInt64 = 42
  @Option(name: .long, help: "First day (YYYY-MM-DD, UTC; default 2026-01-01, handbook 2018-04-01).")
  var start: String?
  @Option(
    name: .customLong("fraud-share"), parsing: .unconditional,
    help: "Share of cards with a fraud episode over the period (default profile).")
  var fraudShare = 0.02
  @Option(name: .long, parsing: .unconditional, help: "Handbook: the radius of a customer's terminals.")
  var radius = 5.0
  @Option(name: .customLong("amount-threshold"), parsing: .unconditional, help: "Handbook scenario 1.")
  var amountThreshold = 220.0
  @Option(name: .customLong("compromised-terminals"), parsing: .unconditional, help: "Handbook scenario 2, per day.")
  var compromisedTerminals = 2
  @Option(name: .customLong("terminal-days"), parsing: .unconditional, help: "Handbook scenario 2.")
  var terminalDays = 28
  @Option(name: .customLong("compromised-customers"), parsing: .unconditional, help: "Handbook scenario 3, per day.")
  var compromisedCustomers = 3
  @Option(name: .customLong("customer-days"), parsing: .unconditional, help: "Handbook scenario 3.")
  var customerDays = 14
  @Option(name: .customLong("amount-factor"), parsing: .unconditional, help: "Handbook scenario 3.")
  var amountFactor = 5.0
  @Option(
    name: .customLong("change-day"), parsing: .unconditional,
    help:
      "Handbook: from this day (0-based) on, scenario 1's threshold is --changed-threshold: a pattern change, for trying fraud stream --learn."
  )
  var changeDay: Int?
  @Option(name: .customLong("changed-threshold"), parsing: .unconditional, help: "Handbook, with --change-day.")
  var changedThreshold = 150.0
  @Option(name: .long, help: ArgumentHelp("Write here (atomically) instead of standard output.", valueName: "file"))
  var output: String?

  func validate() throws {
    if let days { guard days >= 1, days <= 3650 else { throw ValidationError("--days must be 1 to 3650") } }
    if let cards { guard cards >= 1 else { throw ValidationError("--cards must be at least 1") } }
    guard merchants >= 2 else { throw ValidationError("--merchants must be at least 2") }
    guard terminals >= 1 else { throw ValidationError("--terminals must be at least 1") }
    guard fraudShare >= 0, fraudShare <= 1 else { throw ValidationError("--fraud-share must be between 0 and 1") }
    guard radius > 0, radius.isFinite else { throw ValidationError("--radius must be positive") }
    guard compromisedTerminals >= 0, compromisedCustomers >= 0, terminalDays >= 0, customerDays >= 0 else {
      throw ValidationError("the handbook's scenario counts and spans must be ≥ 0")
    }
    // Every file the simulator writes is one fraud train reads: amounts within the 1e9 a transaction may have
    // (the handbook's are at most a few hundred before --amount-factor), dates within 0000–9999.
    guard amountFactor > 0, amountFactor <= 1000 else {
      throw ValidationError("--amount-factor must be above 0 and at most 1000, got \(amountFactor)")
    }
    guard amountThreshold >= 0, amountThreshold <= 1e6 else {
      throw ValidationError("--amount-threshold must be 0 to 1,000,000, got \(amountThreshold)")
    }
    let totalDays = days ?? (profile == .handbook ? HandbookConfiguration().days : SimulationConfiguration().days)
    if let changeDay {
      guard profile == .handbook else { throw ValidationError("--change-day is an option of --profile handbook") }
      guard changeDay >= 0, changeDay < totalDays else {
        throw ValidationError(
          "--change-day must be a day of the simulation, 0 to \(totalDays - 1) (--days is \(totalDays)), got \(changeDay)"
        )
      }
      guard changedThreshold >= 0, changedThreshold <= 1e6 else {
        throw ValidationError("--changed-threshold must be 0 to 1,000,000, got \(changedThreshold)")
      }
    }
    if let start {
      guard case .value(let t) = Array(start.utf8).withUnsafeBufferPointer({ FieldParser.parseTimestamp($0) }) else {
        throw ValidationError("--start must be a date like 2026-01-01, got '\(start)'")
      }
      // The last day must end by 9999-12-31 (the year 10000 cannot be written, nor read back).
      guard t + Double(totalDays) * 86_400 <= 253_402_300_800 else {
        throw ValidationError(
          "--start \(start) with \(totalDays) days runs past 9999-12-31; start earlier or simulate fewer --days")
      }
    }
  }

  func run() throws {
    var first: Double? = nil
    if let start, case .value(let t) = Array(start.utf8).withUnsafeBufferPointer({ FieldParser.parseTimestamp($0) }) {
      first = t
    }
    let writer = try output.map { try CSVWriter(path: $0, bufferBytes: 1 << 20) } ?? CSVWriter(fileDescriptor: 1)
    let summary: SimulationSummary
    switch profile {
    case .standard:
      var c = SimulationConfiguration()
      c.days = days ?? c.days
      c.cards = cards ?? c.cards
      c.merchants = merchants
      c.seed = seed
      c.fraudCardShare = fraudShare
      // Merchant breaches are the other source of fraud: half as many merchants as cards, in share (0.01 at the
      // default 0.02), so that a share of 0 makes no fraud at all.
      c.compromisedMerchantShare = fraudShare / 2
      c.start = first ?? c.start
      summary = try FraudSimulator.generate(c, to: writer)
    case .handbook:
      var c = HandbookConfiguration()
      c.days = days ?? c.days
      c.customers = cards ?? c.customers
      c.terminals = terminals
      c.seed = seed
      c.start = first ?? c.start
      c.radius = radius
      c.amountThreshold = amountThreshold
      c.compromisedTerminalsPerDay = compromisedTerminals
      c.terminalCompromiseDays = terminalDays
      c.compromisedCustomersPerDay = compromisedCustomers
      c.customerCompromiseDays = customerDays
      c.amountFactor = amountFactor
      c.changeDay = changeDay
      c.changedThreshold = changedThreshold
      summary = try HandbookSimulator.generate(c, to: writer)
    }
    try writer.finish()
    printError("fraud: simulated \(summary.transactions) transactions, \(summary.frauds) fraudulent")
  }
}
