import ArgumentParser
import CommandLineSupport
import Foundation
import Fraud
import LinearAlgebra
import Modeling
import Storage
import TabularIO

extension FraudFamily: ExpressibleByArgument {}

/// How `fraud evaluate` counts card precision.
enum EvaluationProtocol: String, ExpressibleByArgument, CaseIterable {
  case standard = "default"
  case handbook
}

struct FraudModelName: ParsableArguments {
  static let defaultName = "fraud"
  @Option(name: .long, help: "The model's name in the store.") var model = FraudModelName.defaultName
}

/// The fraud commands' duration options, each with its range (`DurationOption` parses them all).
enum Durations {
  static let labelsDelay = DurationOption(
    "--labels-delay", minimum: 0, why: "a label cannot be known before its transaction")
  static let maxClockSkew = DurationOption(
    "--max-clock-skew", minimum: 3600,
    why: "a smaller skew takes the ordinary gaps between transactions for mistyped dates and leaves most of them out")
  static let allowedLateness = DurationOption(
    "--allowed-lateness", minimum: 0, why: "0s takes every transaction older than the newest seen as late")
  static let statsEvery = DurationOption(
    "--stats-every", minimum: 60, why: "a shorter period holds too few transactions for its statistics")
  static let learnMemory = DurationOption(
    "--learn-memory", minimum: 3600, why: "evidence that fades within the hour leaves nothing to learn against")
  static let deadline = DurationOption(
    "--deadline", minimum: 0.0001, maximum: 60,
    why: "a budget below a tenth of a millisecond is shorter than one request's own work")
  static let registerEvery = DurationOption(
    "--register-every", minimum: 3600, why: "each registration stores a whole model version with the stream's state")
}

struct MapOption: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "Columns for the logical fields, e.g. transaction_id=TX_ID,timestamp=TX_DATETIME,card=CUSTOMER_ID,amount=TX_AMOUNT.",
      valueName: "map"))
  var map: String?

  func mapping() throws -> ColumnMapping {
    try map.map { try ColumnMapping(parsing: $0, allowed: TransactionFields.all, source: "--map") } ?? ColumnMapping()
  }
}

struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Replay a labeled history as the stream would, fit the model, choose thresholds and register it.")

  @Option(name: .long, help: ArgumentHelp("The labeled history CSV, in time order.", valueName: "file")) var data:
    String
  @Option(name: .customLong("labels-delay"), help: "When labels become known after a transaction (s, m, h, d).")
  var labelsDelay = "7d"
  @OptionGroup var map: MapOption
  @Option(name: .long, help: ArgumentHelp("A JSON rules file (default: the built-in rules).", valueName: "file"))
  var rules: String?
  @Option(
    name: .customLong("alert-rate"), parsing: .unconditional, help: "Share of transactions to review (default 0.01).")
  var alertRate: Double?
  @Option(
    name: .customLong("max-clock-skew"),
    help:
      "Leave out a transaction dated more than this ahead of the one before, unless the next one confirms the jump (s, m, h, d)."
  )
  var maxClockSkew = "1d"
  @Option(name: .long, parsing: .unconditional, help: "Ridge penalty of the fit, on standardized features.") var l2 =
    1.0
  @Option(
    name: .long,
    help:
      "additive (a binned additive model, one learned shape per feature, calibrated) or logistic (logistic regression with balanced class weights)."
  )
  var family: FraudFamily = .additive
  @Option(
    name: .customLong("min-precision"), parsing: .unconditional,
    help: "Review from the score with at least this precision instead.")
  var minPrecision: Double?
  @OptionGroup var name: FraudModelName
  @OptionGroup var storeOptions: StoreOptions

  func validate() throws {
    _ = try Durations.labelsDelay.parse(labelsDelay)
    guard alertRate == nil || minPrecision == nil else {
      throw ValidationError("give --alert-rate or --min-precision, not both")
    }
    _ = try Durations.maxClockSkew.parse(maxClockSkew)
    guard l2 >= 0, l2.isFinite else { throw ValidationError("--l2 must be a finite number ≥ 0, got \(l2)") }
    if let alertRate, !(alertRate > 0 && alertRate < 1) {
      throw ValidationError("--alert-rate must be between 0 and 1")
    }
    if let minPrecision, !(minPrecision > 0 && minPrecision < 1) {
      throw ValidationError("--min-precision must be between 0 and 1")
    }
  }

  func run() throws {
    let ruleSet = try rules.map { try RuleSet.load(path: $0) } ?? RuleSet.standard
    let target: ThresholdTarget = minPrecision.map { .minimumPrecision($0) } ?? .alertRate(alertRate ?? 0.01)
    // The store is opened (and created) before the work, so that a bad location fails at once.
    let store = try storeOptions.openModels(create: true)
    // Memory known in advance (from the file's size) is checked before the replay: a refused allocation would end
    // the process in the middle of it.
    if let needed = FraudTrainer.memoryEstimate(path: data), let usable = ResourceLimits.usableBytes(),
      needed > usable
    {
      throw CommandFailure(
        "training on \(data) needs about \(needed >> 20) MiB (from its size), and this process can take about \(usable >> 20) MiB (its address-space limit, ulimit -v, or the memory available): give it more memory, or train on a shorter history",
        exitCode: 71)
    }
    let report = try FraudTrainer.train(
      path: data, mapping: try map.mapping(), labelDelay: try Durations.labelsDelay.parse(labelsDelay),
      rules: ruleSet, target: target, maxClockSkew: try Durations.maxClockSkew.parse(maxClockSkew),
      l2: l2, family: family)
    for outlier in report.outliers.prefix(10) { printError("fraud: \(outlier)") }
    if report.outliers.count > 10 { printError("fraud: … and \(report.outliers.count - 10) more such lines") }
    if report.duplicates > 0 {
      printError(
        "fraud: \(report.duplicates) transactions repeat an earlier id and were skipped, as the stream skips them")
    }
    if !report.outliers.isEmpty {
      printError("fraud: \(report.outliers.count) transactions dated far ahead of the history were left out")
    }
    let version = try FraudStore.register(report, in: store, name: name.model)
    print(
      String(
        format:
          "replayed %d transactions (%d frauds), %d cards and %d merchants in the final state\ntraining ROC AUC %.4f, average precision %.4f\nthresholds: review ≥ %.4f, decline ≥ %.4f (%@); alert rate on the history %.4f",
        report.transactions, report.frauds, report.state.cardCount, report.state.merchantCountHeld,
        report.trainingAUC, report.trainingAveragePrecision, report.model.reviewThreshold,
        report.model.declineThreshold, report.model.thresholdRule, report.alertRate))
    print(
      String(
        format: "on the history's last two weeks: alert rate %.4f, precision of the alerts %.4f",
        report.recentAlertRate, report.recentPrecision))
    print("registered \(version.name) version \(version.version) with the end-of-history state")
  }
}

struct StreamCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stream",
    abstract: "Score transactions from standard input: transaction_id,score,decision,reasons per line.",
    discussion: """
      Decisions are approve, review or decline, from the model's thresholds and the rules; reasons are the \
      features that raised the score most and the codes of the rules that fired. State continues from the \
      training snapshot (or with --resume from the last checkpoint); it is checkpointed every N transactions \
      and at end of input, SIGTERM and SIGINT, and transactions a checkpoint already covers are skipped (at \
      least the last 262,144 ids are remembered), so an upstream can replay. A malformed line is reported on stderr with its line number, copied to the \
      dead-letter file, counted, and skipped. Without a fraud model in the store, rules alone decide.
      """)

  @Flag(name: .long, help: "Continue from the last checkpoint (else from the training snapshot).") var resume = false
  @Flag(
    name: .long,
    help:
      "Start from the training snapshot though the store holds a checkpoint of this stream (replaced at the first checkpoint); without it, such a store needs --resume."
  )
  var fresh = false
  @Option(
    name: .customLong("checkpoint-every"), help: "Checkpoint every N transactions (a full snapshot of the state).")
  var checkpointEvery = 1_000_000
  @Option(name: .customLong("dead-letter"), help: ArgumentHelp("Copy malformed lines here (CSV).", valueName: "file"))
  var deadLetter: String?
  @Flag(name: .long, help: "Print events per second and latency percentiles on stderr at the end.") var stats = false
  @Option(
    name: .customLong("stats-file"),
    help: ArgumentHelp(
      "Also write the run's counts and latency percentiles here as JSON (atomically), for fraud report --stats.",
      valueName: "file"))
  var statsFile: String?
  @OptionGroup var map: MapOption
  @Option(
    name: .customLong("labels-delay"), help: "When labels of transaction rows become known (default: the model's).")
  var labelsDelay: String?
  @Option(name: .customLong("allowed-lateness"), help: "Reject transactions older than the newest seen minus this.")
  var allowedLateness = "1d"
  @Option(
    name: .customLong("max-clock-skew"),
    help:
      "Reject a transaction dated more than this ahead of the newest seen (a typo), unless the next one confirms the jump."
  )
  var maxClockSkew = "1d"
  @Flag(
    name: .customLong("multiline-fields"),
    help: "Let a quoted CSV field span lines (by default a quote not closed on its line makes that line malformed).")
  var multilineFields = false
  @Option(
    name: .customLong("stats-every"),
    help:
      "Print on stderr, per period of event time (e.g. 1d), the transactions, alert rate, mean score and the score PSI against the training history; PSI above 0.25 is flagged."
  )
  var statsEvery: String?
  @Option(
    name: .customLong("max-line-bytes"), parsing: .unconditional,
    help: "Longer lines are malformed (their bytes are dead-lettered).")
  var maxLineBytes = 64 << 10
  @Option(name: .long, help: "Input format: csv or jsonl.") var format = "csv"
  @Option(name: .long, help: ArgumentHelp("A JSON rules file (default: the model's rules).", valueName: "file"))
  var rules: String?
  @Flag(
    name: .long,
    help:
      "Learn the additive model's weights online from labels as they become known (a transaction row's after the label delay, a feedback row's at once); the learned weights are checkpointed, and --resume continues learning."
  )
  var learn = false
  @Option(
    name: .customLong("learn-memory"),
    help:
      "With --learn: how long evidence counts (e.g. 30d). A bin's weight moves by a Newton step against the history's evidence in it over this span plus the stream's, fading at this pace."
  )
  var learnMemory = "30d"
  @Option(
    name: .customLong("register-every"),
    help:
      "With --learn: register the learned model as a new version every this much event time (e.g. 7d); models rollback undoes it."
  )
  var registerEvery: String?
  @OptionGroup var name: FraudModelName
  @OptionGroup var storeOptions: StoreOptions

  func validate() throws {
    guard learn || registerEvery == nil else { throw ValidationError("--register-every needs --learn") }
    guard !(resume && fresh) else { throw ValidationError("give --resume or --fresh, not both") }
    _ = try Durations.learnMemory.parse(learnMemory)
    if let registerEvery { _ = try Durations.registerEvery.parse(registerEvery) }
    guard checkpointEvery >= 1 else { throw ValidationError("--checkpoint-every must be at least 1") }
    guard ["csv", "jsonl"].contains(format) else { throw ValidationError("--format must be csv or jsonl") }
    _ = try Durations.allowedLateness.parse(allowedLateness)
    _ = try Durations.maxClockSkew.parse(maxClockSkew)
    if let statsEvery { _ = try Durations.statsEvery.parse(statsEvery) }
    guard maxLineBytes >= 64 else { throw ValidationError("--max-line-bytes must be at least 64") }
    if let labelsDelay { _ = try Durations.labelsDelay.parse(labelsDelay) }
  }

  func run() throws {
    let mapping = try map.mapping()
    // The stream never calls BLAS: keep OpenBLAS's worker threads from spinning on the cores.
    BLASThreads.set(1)
    Interruption.installHandlers()
    let store = try storeOptions.openModels(create: true)
    if let statsFile {
      // Checked before the stream starts: written at the end, it would replace the store (or the input, the
      // decisions on standard output, the dead-letter file) after all the work.
      try OutputFiles.refuseOverwriting(
        statsFile, inputs: store.files + (deadLetter.map { [$0] } ?? []), descriptors: [0, 1])
    }
    // The decisions go to standard output: malformed lines appended to the same file would interleave with them.
    if let deadLetter { try OutputFiles.refuseOverwriting(deadLetter, descriptors: [1]) }
    var options = StreamOptions()
    options.checkpointEvery = checkpointEvery
    options.allowedLateness = try Durations.allowedLateness.parse(allowedLateness)
    options.maxClockSkew = try Durations.maxClockSkew.parse(maxClockSkew)
    options.multilineFields = multilineFields
    options.maximumLineBytes = maxLineBytes
    options.statsEvery = try statsEvery.map { try Durations.statsEvery.parse($0) }
    options.labelDelay = try labelsDelay.map { try Durations.labelsDelay.parse($0) }
    options.measureLatency = stats || statsFile != nil
    options.learn = learn
    options.learningMemory = try Durations.learnMemory.parse(learnMemory)
    options.registerEvery = try registerEvery.map { try Durations.registerEvery.parse($0) }
    let stream = try FraudStream.open(
      store: store, name: name.model, resume: resume, fresh: fresh, rules: try rules.map { try RuleSet.load(path: $0) },
      rulesWithoutModel: name.model == FraudModelName.defaultName, options: options)
    reportOpening(stream, learn: learn)
    stream.onNotice = { notice in printError("fraud: WARNING: \(notice)") }
    stream.onPeriod = { period in
      let psi = period.scorePSI.map { String(format: "%.3f", $0) } ?? "-"
      printError(
        String(
          format: "fraud: period %@: %d transactions, alert rate %.4f, mean score %.5f, score PSI %@%@",
          FieldParser.formatTimestamp(period.start), period.transactions, period.alertRate, period.meanScore, psi,
          period.drifted
            ? "  DRIFT (PSI above 0.25)"
            : period.tooFewToJudge && period.scorePSI != nil
              ? "  (too few transactions to judge a shift: \(period.transactions) < \(PopulationStability.minimumSample))"
              : ""))
    }
    let result = try stream.run(
      format: format == "csv" ? .csv : .jsonl, fileDescriptor: 0, mapping: mapping,
      output: CSVWriter(fileDescriptor: 1, bufferBytes: 1 << 22), deadLetter: deadLetter,
      stopRequested: { Interruption.requested }, report: { printError("fraud: \($0)") })
    if result.malformed > 0 {
      let ahead = result.aheadOfClock > 0 ? " (\(result.aheadOfClock) dated too far ahead of the stream)" : ""
      printError("fraud: \(result.malformed) malformed lines skipped\(ahead)")
    }
    let seen = result.transactions + result.aheadOfClock
    if result.aheadOfClock > 10 && result.aheadOfClock * 20 > seen {
      printError(
        "fraud: WARNING: \(result.aheadOfClock) of \(seen) transactions (\(String(format: "%.1f%%", 100 * Double(result.aheadOfClock) / Double(seen)))) were skipped as dated more than --max-clock-skew ahead of the stream; if the stream's clock is right, raise --max-clock-skew (the default is 1d)"
      )
    }
    if result.late > 0 { printError("fraud: \(result.late) late transactions skipped") }
    if learn {
      let waiting = stream.learning.map { " (\($0.waiting) labels still waiting for their delay)" } ?? ""
      let versions =
        result.registered.isEmpty
        ? "" : "; registered versions \(result.registered.map(String.init).joined(separator: ", "))"
      printError("fraud: learned online from \(result.learned) labels\(waiting)\(versions)")
    }
    if result.replayedSkipped > 0 {
      printError("fraud: \(result.replayedSkipped) transactions already processed were skipped")
    }
    if let statsFile {
      // The stream's decisions are written already: a statistics file that cannot be written is said, not fatal.
      do { try writeAtomically(try jsonText(result) + "\n", to: statsFile) } catch { printError("fraud: \(error)") }
    }
    if stats {
      printError(
        String(
          format: "fraud: %d transactions in %.3f s (%.0f per second); approve %d, review %d, decline %d",
          result.transactions, result.seconds, Double(result.transactions) / max(result.seconds, 1e-9),
          result.decisions[0], result.decisions[1], result.decisions[2]))
      if let l = result.latency {
        printError(
          String(format: "fraud: latency per transaction p50 %.2f µs, p99 %.2f µs, p99.9 %.2f µs", l.p50, l.p99, l.p999)
        )
      }
      printError(
        "fraud: state per active card \(stream.state.bytesPerActiveCard) bytes (\(FeatureState.bytesPerCard) fixed + hash table); \(stream.state.cardCount) cards held"
      )
    }
  }
}

/// The labeled file and window `evaluate` and `report` replay, and the evaluation they share.
struct EvaluationWindow: ParsableArguments {
  @Option(name: .long, help: ArgumentHelp("A labeled transactions CSV in time order.", valueName: "file")) var data:
    String
  @Option(name: .customLong("labels-delay"), help: "When labels become known after a transaction (s, m, h, d).")
  var labelsDelay = "7d"
  @Option(name: .long, help: "Evaluate the transactions from this date on (YYYY-MM-DD); the earlier ones warm up.")
  var from: String?
  @Option(name: .long, parsing: .unconditional, help: "Evaluate this many days from --from (default: to the end).")
  var days: Int?
  @Option(
    name: .long,
    help:
      "default, or handbook: card precision@k leaves out of later days the frauded cards found in a day's top k (the Practical Handbook's rule)."
  )
  var `protocol`: EvaluationProtocol = .standard
  @Option(name: .short, parsing: .unconditional, help: "The cards a team can check a day: card precision is at k.")
  var k = 100
  @OptionGroup var map: MapOption

  func validate() throws {
    _ = try Durations.labelsDelay.parse(labelsDelay)
    if let days, days < 1 { throw ValidationError("--days must be at least 1, got \(days)") }
    if days != nil && from == nil { throw ValidationError("--days counts from --from; give --from too") }
    if let from, case .value = Array(from.utf8).withUnsafeBufferPointer({ FieldParser.parseTimestamp($0) }) {
    } else if from != nil {
      throw ValidationError("--from must be a date like 2026-03-01")
    }
    guard k >= 1 else { throw ValidationError("-k must be at least 1, got \(k)") }
  }

  /// Replays the file with `stored`'s model and says on standard error what makes the figures less than
  /// out-of-sample.
  func evaluate(_ stored: StoredFraudModel) throws -> FraudEvaluationReport {
    var start: Double? = nil
    if let from, case .value(let t) = Array(from.utf8).withUnsafeBufferPointer({ FieldParser.parseTimestamp($0) }) {
      start = t
    }
    let report = try FraudEvaluation.run(
      path: data, mapping: try map.mapping(), model: stored.model,
      labelDelay: try Durations.labelsDelay.parse(labelsDelay), from: start,
      until: days.flatMap { d in start.map { $0 + Double(d) * 86_400 } },
      removeDetectedCards: `protocol` == .handbook,
      trainingEnd: stored.state.watermark.isFinite ? stored.state.watermark : nil, cardsPerDay: k)
    if report.insideTrainingHistory > 0 {
      printError(
        "fraud: WARNING: \(report.insideTrainingHistory) of the \(report.transactions) evaluated transactions are dated within \(stored.version.name) version \(stored.version.version)'s training history (it ends \(FieldParser.formatTimestamp(stored.state.watermark))): the model learned from them, so this is not a prequential (out-of-sample) evaluation; evaluate from a later --from"
      )
    }
    if report.baselineInSample {
      printError(
        "fraud: the transactions before the window hold no frauds and genuine ones to fit the amount-only baseline on; it is fitted on the evaluated transactions themselves (in-sample, flattering it)"
      )
    }
    return report
  }
}

func loadFraudModel(_ store: any ModelRegistry, _ name: String) throws -> StoredFraudModel {
  try FraudStore.load(from: store, name: name)
}

struct EvaluateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "evaluate",
    abstract: "Prequential evaluation: each transaction scored before its label is known, beside two baselines.",
    discussion: """
      Replays the file from the start (the state warms up on the transactions before --from) and scores those \
      from --from on with the active model, with the rules alone, and with a logistic regression on the amount \
      alone (fitted on the transactions before --from). Reports ROC AUC, average precision, card precision@k \
      per day (the share of frauded cards among each day's k highest-scored cards, k = 100 unless -k), the alert \
      rate, the model's decisions and reliability; per day the model's ROC AUC, average precision, card \
      precision@k, alerts, their precision and the score PSI; and the reasons given most. --format json prints \
      all of it, with the score distribution of frauds and genuine transactions: the numbers fraud report draws.
      """)

  @OptionGroup var window: EvaluationWindow
  @OptionGroup var format: FormatOptions
  @OptionGroup var name: FraudModelName
  @OptionGroup var storeOptions: StoreOptions

  func run() throws {
    let store = try storeOptions.openModels(create: false)
    let stored = try loadFraudModel(store, name.model)
    let report = try window.evaluate(stored)
    if format.format == .json {
      print(try jsonText(report))
      return
    }
    if format.format == .table {
      print(
        "\(stored.version.name) version \(stored.version.version) on \(report.transactions) transactions (\(report.frauds) frauds) over \(report.days) days"
      )
    }
    var t = OutputTable(columns: ["scorer", "roc_auc", "average_precision", "card_precision@\(report.k)", "alert_rate"])
    for r in report.rows {
      t.rows.append([
        .text(r.name), .number(r.rocAUC, decimals: 4), .number(r.averagePrecision, decimals: 4),
        .number(r.cardPrecisionAt100, decimals: 4), .number(r.alertRate, decimals: 4),
      ])
    }
    print(t.render(format.format), terminator: "")
    guard format.format == .table else { return }
    print("decisions: approve \(report.decisions[0]), review \(report.decisions[1]), decline \(report.decisions[2])")
    if let brier = report.brier, let mean = report.meanScore {
      print(
        String(
          format: "\nreliability of the model's score (Brier %.5f; mean score %.5f, fraud rate %.5f)", brier, mean,
          Double(report.frauds) / Double(report.transactions)))
      var r = OutputTable(columns: ["band", "transactions", "mean_score", "observed_rate"])
      for row in report.reliability {
        r.rows.append([
          .text(String(format: "%.3f-%.3f", row.lower, row.upper)), .integer(row.transactions),
          .number(row.meanScore, decimals: 4), .number(row.observedRate, decimals: 4),
        ])
      }
      print(r.render(.table), terminator: "")
    }
    var d = OutputTable(columns: [
      "day", "transactions", "frauds", "roc_auc", "average_precision", "card_precision@\(report.k)", "alerts",
      "alert_precision", "score_psi",
    ])
    for x in report.daily {
      d.rows.append([
        .text(x.day), .integer(x.transactions), .integer(x.frauds),
        x.rocAUC.map { .number($0, decimals: 4) } ?? .missing,
        x.averagePrecision.map { .number($0, decimals: 4) } ?? .missing, .number(x.cardPrecision, decimals: 4),
        .integer(x.alerts), x.alertPrecision.map { .number($0, decimals: 4) } ?? .missing,
        x.scorePSI.map { .number($0, decimals: 4) } ?? .missing,
      ])
    }
    print("\nper day (the model)\n" + d.render(.table), terminator: "")
    var reasons = OutputTable(columns: ["reason", "kind", "transactions", "frauds"])
    for x in report.reasons.prefix(15) {
      reasons.rows.append([.text(x.reason), .text(x.kind), .integer(x.transactions), .integer(x.frauds)])
    }
    if !report.reasons.isEmpty {
      print("\nreasons given most (all with --format json)\n" + reasons.render(.table), terminator: "")
    }
  }
}

struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Write one self-contained HTML page about the active model's alerts, with SVG charts.",
    discussion: """
      The model card; per day ROC AUC, average precision, card precision@k, alert volume and precision, and the \
      score PSI; the score distributions of frauds and genuine transactions; the reasons and rules given most; the \
      reliability table (fraud evaluate's numbers); and, with --stats, the latency percentiles of a stream run \
      (fraud stream --stats-file). Nothing is fetched: the page opens offline and prints.
      """)

  @OptionGroup var window: EvaluationWindow
  @Option(name: .long, help: ArgumentHelp("The HTML file to write (atomically).", valueName: "file")) var output: String
  @Option(name: .long, help: ArgumentHelp("A stream's statistics (fraud stream --stats-file).", valueName: "file"))
  var stats: String?
  @OptionGroup var name: FraudModelName
  @OptionGroup var storeOptions: StoreOptions

  func run() throws {
    let store = try storeOptions.openModels(create: false)
    try OutputFiles.refuseOverwriting(output, inputs: [window.data] + (stats.map { [$0] } ?? []) + store.files)
    var statistics: StreamStatistics? = nil
    if let stats {
      do {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        statistics = try decoder.decode(StreamStatistics.self, from: Data(contentsOf: URL(fileURLWithPath: stats)))
      } catch {
        throw CommerceError(
          .data,
          "\(stats): not the statistics of a stream run (write them with fraud stream --stats-file FILE): \(error)")
      }
    }
    let stored = try loadFraudModel(store, name.model)
    let report = try window.evaluate(stored)
    let page = FraudReport.page(
      report, model: stored.model, version: stored.version, file: window.data, statistics: statistics,
      historyEnd: stored.state.watermark.isFinite ? stored.state.watermark : nil)
    try writeReport(page, to: output)
    printError("fraud: wrote \(output) (\(page.charts.count) charts)")
  }
}

/// Says on standard error how a stream (or a server) opened: rules alone, the checkpoint resumed or replaced, what
/// became of the checkpoint's learning and waiting labels.
func reportOpening(_ stream: FraudStream, learn: Bool) {
  if let opening = stream.opening {
    if opening.version == nil {
      printError("fraud: no fraud model '\(opening.modelName)' in \(opening.storeLocation); deciding by rules only")
    }
    if let after = opening.resumedAfter, let date = opening.checkpointDate {
      printError("fraud: resuming after \(after) transactions (checkpoint of \(date))")
    }
    if let replaced = opening.checkpointReplaced {
      printError(
        "fraud: --fresh: starting from the training snapshot; the checkpoint of \(replaced) transactions is replaced at this stream's first checkpoint"
      )
    }
    if let other = opening.learningSetAside {
      let active = opening.version.map { "version \($0.version)" } ?? "the active version"
      printError(
        learn
          ? "fraud: the checkpoint's learned weights came from version \(other), and \(active) is active now (trained, promoted or rolled back since); learning starts again from \(active)'s weights"
          : "fraud: the checkpoint holds weights learned online (from version \(other)); without --learn they are not used, and the next checkpoint drops them"
      )
    }
    if let labels = opening.waitingTakenOver {
      printError(
        opening.waitingRebinned
          ? "fraud: the checkpoint's \(labels) labels waiting for their delay and \(opening.rememberedTakenOver ?? 0) transactions remembered for feedback were recorded in version \(opening.learningSetAside ?? 0)'s bins, which the active version does not share: they are learned from under the new version's bins, each old bin taken at its middle (an approximation; the transactions' own values are not kept)"
          : "fraud: the checkpoint's \(labels) labels waiting for their delay and \(opening.rememberedTakenOver ?? 0) transactions remembered for feedback are learned from under the new version (its bins are the same)"
      )
    }
    if let labels = opening.waitingDropped, labels + (opening.rememberedDropped ?? 0) > 0 {
      printError(
        "fraud: WARNING: the checkpoint's \(labels) labels waiting for their delay and \(opening.rememberedDropped ?? 0) transactions remembered for feedback were recorded in version \(opening.learningSetAside ?? 0)'s bins, which the active version does not share: they are not learned from (the transactions' card and merchant state is kept)"
      )
    }
    if !opening.ownVersionsAfterCheckpoint.isEmpty {
      printError(
        "fraud: versions \(opening.ownVersionsAfterCheckpoint.map(String.init).joined(separator: ", ")) were registered by this stream after its checkpoint; it continues from the checkpoint and meets them again (their periods are not registered twice)"
      )
    }
    if opening.learningContinued == true {
      printError(
        "fraud: learning continues from the checkpoint (\(opening.labelsLearnedBefore ?? 0) labels learned so far)")
    }
  }
}
