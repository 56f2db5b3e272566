import ArgumentParser
import CommandLineSupport
import Foundation
import Fraud
import LinearAlgebra
import Service
import TabularIO

struct ServeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Decide transactions over HTTP (JSON) with the stream's engine and state, one writer in arrival order.",
    discussion: """
      Routes: GET /healthz, /readyz, /metrics (Prometheus), /v1/model, /v1/state; POST /v1/transactions with one \
      transaction object or an array (the stream's field names, or the columns of --map), answered per \
      transaction with {transaction_id, score, decision, reasons, model_version} exactly as fraud stream decides \
      the same lines; POST /v1/labels with {transaction_id, fraud, time?} objects (as the stream's label rows; with \
      --learn the model learns from them); the Open Inference Protocol v2 at /v2/models/NAME/infer. A transaction \
      sent again (its id remembered: at least the last 262,144) gets the decision it was given and does not touch \
      the state again. With --deadline, a request still waiting for the writer when it passes is answered with \
      --on-overload and the reason OVERLOAD; its transactions still enter the state once (unless the clock rules \
      refuse them when their turn comes), and a retry gets that answer. A version promoted or \
      rolled back by another process replaces the scorer within a second, the card and merchant state kept. The \
      state is checkpointed every --checkpoint-every transactions (in the background) and on SIGTERM or SIGINT, \
      after the requests in flight: continue with --resume.
      """)

  @OptionGroup var server: ServerArguments
  @Option(name: .customLong("max-transactions"), help: "The most transactions (or labels) in one request.")
  var maxTransactions = 10_000
  @Flag(name: .long, help: "Continue from the server's last checkpoint (else from the training snapshot).")
  var resume = false
  @Flag(
    name: .long,
    help:
      "Start from the training snapshot though the store holds a checkpoint of this server (replaced at its first checkpoint)."
  )
  var fresh = false
  @Option(name: .customLong("checkpoint-every"), help: "Checkpoint every N transactions (in the background).")
  var checkpointEvery = 100_000
  @Option(
    name: .long,
    help: ArgumentHelp(
      "The latency budget (e.g. 5ms, 0.02s): a request waiting longer for the writer gets the --on-overload answer.",
      valueName: "duration"))
  var deadline: String?
  @Option(
    name: .customLong("on-overload"), help: "The fallback decision past the deadline: approve, review or decline.")
  var onOverload = "review"
  @Option(
    name: .customLong("decision-log"),
    help: ArgumentHelp("Append one JSON line per decision here (to join labels that arrive later).", valueName: "file"))
  var decisionLog: String?
  @OptionGroup var map: MapOption
  @Option(
    name: .customLong("labels-delay"), help: "When labels of transaction rows become known (default: the model's).")
  var labelsDelay: String?
  @Option(name: .customLong("allowed-lateness"), help: "Refuse transactions older than the newest seen minus this.")
  var allowedLateness = "1d"
  @Option(
    name: .customLong("max-clock-skew"),
    help:
      "Refuse a transaction dated more than this ahead of the newest seen, unless the one before it was refused for the same jump."
  )
  var maxClockSkew = "1d"
  @Option(
    name: .customLong("stats-every"),
    help: "The monitoring period of event time for the score PSI and alert rate in /metrics.")
  var statsEvery = "1d"
  @Option(name: .long, help: ArgumentHelp("A JSON rules file (default: the model's rules).", valueName: "file"))
  var rules: String?
  @Flag(name: .long, help: "Learn the additive model's weights online from labels, as fraud stream --learn does.")
  var learn = false
  @Option(name: .customLong("learn-memory"), help: "With --learn: how long evidence counts (e.g. 30d).")
  var learnMemory = "30d"
  @Flag(name: .long, help: "Print the server's OpenAPI document and exit.") var openapi = false
  @OptionGroup var name: FraudModelName
  @OptionGroup var storeOptions: StoreOptions

  func validate() throws {
    guard (1...1_000_000).contains(maxTransactions) else {
      throw ValidationError("--max-transactions must be 1 to 1,000,000, got \(maxTransactions)")
    }
    guard !(resume && fresh) else { throw ValidationError("give --resume or --fresh, not both") }
    guard checkpointEvery >= 1 else { throw ValidationError("--checkpoint-every must be at least 1") }
    if let deadline { _ = try Durations.deadline.parse(deadline) }
    guard ["approve", "review", "decline"].contains(onOverload) else {
      throw ValidationError("--on-overload must be approve, review or decline, got '\(onOverload)'")
    }
    _ = try Durations.learnMemory.parse(learnMemory)
    _ = try Durations.allowedLateness.parse(allowedLateness)
    _ = try Durations.maxClockSkew.parse(maxClockSkew)
    _ = try Durations.statsEvery.parse(statsEvery)
    if let labelsDelay { _ = try Durations.labelsDelay.parse(labelsDelay) }
  }

  func run() throws {
    if openapi {
      print(try OpenAPIDocument.text(.fraud), terminator: "")
      return
    }
    // Scoring calls no BLAS; one thread, set once for the process.
    BLASThreads.set(1)
    let mapping = try map.mapping()
    let serverOptions = try server.options()
    var fraudOptions = FraudServeOptions()
    fraudOptions.deadline = try deadline.map { try Durations.deadline.parse($0) }
    fraudOptions.fallback = ["approve": Decision.approve, "review": .review, "decline": .decline][onOverload]!
    fraudOptions.mapping = mapping
    fraudOptions.maxTransactions = maxTransactions
    if let decisionLog {
      fraudOptions.decisionLog = decisionLog
    }
    var options = StreamOptions()
    options.checkpointEvery = checkpointEvery
    options.allowedLateness = try Durations.allowedLateness.parse(allowedLateness)
    options.maxClockSkew = try Durations.maxClockSkew.parse(maxClockSkew)
    options.statsEvery = try Durations.statsEvery.parse(statsEvery)
    options.labelDelay = try labelsDelay.map { try Durations.labelsDelay.parse($0) }
    options.learn = learn
    options.learningMemory = try Durations.learnMemory.parse(learnMemory)
    let store = try storeOptions.openModels(create: false)
    if let decisionLog {
      try OutputFiles.refuseOverwriting(decisionLog, inputs: store.files, descriptors: [])
    }
    let stream = try FraudStream.open(
      store: store, name: name.model, resume: resume, fresh: fresh, rules: try rules.map { try RuleSet.load(path: $0) },
      rulesWithoutModel: false, checkpointName: FraudStream.serverCheckpointName(model: name.model), options: options)
    reportOpening(stream, learn: learn)
    let logger = Serve.logger("fraud")
    let fraud = try FraudRoutes.server(
      store: store, name: name.model, decider: FraudDecider(stream: stream), options: serverOptions,
      fraudOptions: fraudOptions, logger: logger)
    var failure: (any Error)? = nil
    do {
      try Serve.blocking(fraud.server)
    } catch {
      failure = error
    }
    // The requests have drained (or the server never started): decide what is queued, write the checkpoint.
    try fraud.stop()
    if let failure { throw failure }
  }
}
