import Foundation
import Fraud
import HTTPTypes
import Hummingbird
import Logging
import Modeling
import NIOCore
import NIOPosix
import Prometheus
import Storage
import Synchronization
import TabularIO

#if canImport(Glibc)
  import Glibc
#endif

/// What `fraud serve` adds to the common server options.
public struct FraudServeOptions: Sendable {
  /// The latency budget: a request whose transactions waited longer for the writer is answered with `fallback`
  /// (reason `OVERLOAD`); `nil` for none.
  public var deadline: Double? = nil
  public var fallback: Decision = .review
  /// Appends one JSON line per decision here.
  public var decisionLog: String? = nil
  /// The field names of the bodies (the stream's logical names through `--map`).
  public var mapping = ColumnMapping()
  /// The most transactions (or labels) one request may hold.
  public var maxTransactions = 10_000
  public init() {}
}

/// The version of a fraud model the hot model holds: its model part only (the state stays the server's).
public struct FraudServing: Sendable {
  public let model: FraudModel
}

/// `fraud serve`'s metrics beside the common ones.
final class FraudMetrics: Sendable {
  let decisions: [Counter]
  let fallbacks: Counter
  let retries: Counter
  let refused: [String: Counter]
  let scores: ValueHistogram
  let queueDepth: Gauge
  let queueWait: DurationHistogram
  let labelsWaiting: Gauge
  let labels: Counter
  let labelsUnmatched: Counter
  let learned: Counter
  let transactions: Gauge
  let psi: Gauge
  let periodAlertRate: Gauge
  let periodTransactions: Gauge
  let adoptionsRefused: Counter

  init(_ metrics: ServiceMetrics) {
    let r = metrics.registry
    decisions = DecisionWriter.decisionNames.map {
      r.makeCounter(
        name: "commerceml_fraud_decisions_total", labels: [("decision", $0)],
        help: "Decisions answered, by decision (overload fallbacks included).")
    }
    fallbacks = r.makeCounter(
      name: "commerceml_fraud_overload_fallbacks_total",
      help: "Transactions answered with the overload fallback because they waited longer than --deadline.")
    retries = r.makeCounter(
      name: "commerceml_fraud_retries_total", help: "Transactions sent again, answered with their remembered decision.")
    refused = Dictionary(
      uniqueKeysWithValues: ["late", "ahead_of_clock", "entered_before"].map {
        (
          $0,
          r.makeCounter(
            name: "commerceml_fraud_refused_total", labels: [("reason", $0)],
            help: "Transactions refused by the stream's clock rules (not entered into the state).")
        )
      })
    scores = r.makeValueHistogram(
      name: "commerceml_fraud_score", buckets: [0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99],
      help: "Scores of the transactions decided.")
    queueDepth = r.makeGauge(
      name: "commerceml_fraud_queue_depth", help: "Transactions and labels waiting for the state's writer.")
    queueWait = r.makeDurationHistogram(
      name: "commerceml_fraud_queue_wait_seconds", buckets: ServiceMetrics.buckets,
      help: "Time requests waited for the state's writer.")
    labelsWaiting = r.makeGauge(
      name: "commerceml_fraud_labels_waiting", help: "Labels waiting for their delay before they count.")
    labels = r.makeCounter(name: "commerceml_fraud_labels_total", help: "Labels received.")
    labelsUnmatched = r.makeCounter(
      name: "commerceml_fraud_labels_unmatched_total",
      help: "Labels of transactions the state no longer (or never) remembered.")
    learned = r.makeCounter(name: "commerceml_fraud_labels_learned_total", help: "Labels learned from online.")
    transactions = r.makeGauge(
      name: "commerceml_fraud_state_transactions", help: "Transactions entered into the state (training included).")
    psi = r.makeGauge(
      name: "commerceml_fraud_score_psi",
      help: "The last completed period's score PSI against the training scores (above 0.25: the distribution moved).")
    periodAlertRate = r.makeGauge(
      name: "commerceml_fraud_period_alert_rate", help: "The last completed period's share reviewed or declined.")
    periodTransactions = r.makeGauge(
      name: "commerceml_fraud_period_transactions", help: "The last completed period's transactions.")
    adoptionsRefused = r.makeCounter(
      name: "commerceml_fraud_model_adoptions_refused_total",
      help: "Activated versions the server did not adopt (the reason is logged; the old one keeps scoring).")
  }
}

/// The one writer of a server's fraud state: requests are queued in arrival order and decided on a thread of its
/// own, one at a time, each request's transactions in their order. A request waiting longer than the deadline is
/// answered with the fallback at once; its transactions still enter the state when their turn comes.
final class DecisionWriter: @unchecked Sendable {
  enum Work {
    case transactions([(Transaction, String)])
    case labels([(idHash: UInt64, id: String, fraud: Bool)])
    case status
  }

  enum Answer: Sendable {
    case decisions([FraudOutcome])
    case labels(received: Int, matched: Int, learned: Int)
    case status(StateStatus)
  }

  struct StateStatus: Encodable, Sendable {
    var transactions: Int
    var cards: Int
    var merchants: Int
    var labelsWaiting: Int
    var labelsLearned: Int
    var rememberedDecisions: Int
    var newestTransaction: String?
    var modelVersion: Int?
    var learning: Bool

    enum CodingKeys: String, CodingKey {
      case transactions, cards, merchants
      case labelsWaiting = "labels_waiting"
      case labelsLearned = "labels_learned"
      case rememberedDecisions = "remembered_decisions"
      case newestTransaction = "newest_transaction"
      case modelVersion = "model_version"
      case learning
    }
  }

  final class Job: @unchecked Sendable {
    enum Phase { case waiting, taken, answeredByFallback }
    let work: Work
    let arrived: NIODeadline
    let requestID: String
    /// Guards `phase`, `continuation` and `timer`.
    let lock = Mutex<Void>(())
    var phase = Phase.waiting
    var continuation: CheckedContinuation<Answer, any Error>?
    var timer: Scheduled<Void>?

    init(work: Work, requestID: String) {
      self.work = work
      self.arrived = .now()
      self.requestID = requestID
    }

    var size: Int {
      switch work {
      case .transactions(let t): t.count
      case .labels(let l): l.count
      case .status: 0
      }
    }
  }

  /// The decisions in the order of `Decision`'s raw values (and of `FraudMetrics.decisions`).
  static let decisionNames = [Decision.approve, .review, .decline].map(\.name)
  let decider: FraudDecider
  let hot: HotModel<FraudServing>
  let metrics: FraudMetrics
  let logger: Logger
  let options: FraudServeOptions
  private let condition = NSCondition()
  private var queue: [Job] = []
  private var waiting = 0
  private var stopping = false
  private var stopped = false
  /// Whether the state has an owner now: the writer thread, or a request decided at once on its own thread.
  private var busy = false
  private var thread: Thread?
  private let finished = DispatchSemaphore(value: 0)
  private var logFD: Int32 = -1
  /// The version last refused (not tried again until another is activated).
  private var refusedVersion: Int? = nil
  private var failure: (any Error)? = nil
  /// Whether a transaction or a label reached the state: a server that took none (one that never started
  /// listening, say) leaves the store's checkpoint as it found it.
  private let touched = Atomic<Bool>(false)

  init(
    decider: FraudDecider, hot: HotModel<FraudServing>, metrics: FraudMetrics, logger: Logger,
    options: FraudServeOptions
  ) throws {
    self.decider = decider
    self.hot = hot
    self.metrics = metrics
    self.logger = logger
    self.options = options
    if let path = options.decisionLog {
      logFD = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
      guard logFD >= 0 else {
        throw CommerceError(.usage, "\(path): cannot open the decision log: \(String(cString: strerror(errno)))")
      }
    }
    decider.onPeriod = { [metrics] period in
      metrics.periodTransactions.set(Double(period.transactions))
      metrics.periodAlertRate.set(period.alertRate)
      if let psi = period.scorePSI { metrics.psi.set(psi) }
    }
    metrics.transactions.set(Double(decider.processed))
    metrics.labelsWaiting.set(Double(decider.labelsWaiting))
    let thread = Thread { [unowned self] in self.loop() }
    thread.name = "fraud-state-writer"
    self.thread = thread
    thread.start()
  }

  deinit { if logFD >= 0 { close(logFD) } }

  /// Queues `work` and waits for its answer; with a deadline, a request of transactions still waiting when it passes
  /// gets the fallback answers (`true` beside them).
  func submit(_ work: Work, requestID: String) async throws -> (Answer, fallback: Bool) {
    let job = Job(work: work, requestID: requestID)
    if let answer = try decideAtOnce(job) { return (answer, false) }
    let answer: Answer = try await withCheckedThrowingContinuation { continuation in
      job.continuation = continuation
      condition.lock()
      if stopped {
        condition.unlock()
        job.continuation = nil
        continuation.resume(throwing: ServiceError(.serviceUnavailable, "the server is shutting down"))
        return
      }
      if let deadline = options.deadline, case .transactions = work {
        job.timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(
          deadline: job.arrived + .nanoseconds(Int64(deadline * 1e9))
        ) { [weak self] in self?.fallBack(job) }
      }
      queue.append(job)
      waiting += job.size
      metrics.queueDepth.set(Double(waiting))
      // The owner of the state (a decision at once, or the writer) looks at the queue before it lets go.
      if !busy { condition.signal() }
      condition.unlock()
    }
    return (answer, job.lock.withLock { _ in job.phase == .answeredByFallback })
  }

  /// Requests of at most this many entries are decided on the caller's thread when the writer is idle.
  static let atOnceLimit = 128

  /// Decides `job` on the caller's thread, when nothing is queued before it and the writer is idle (it then waits
  /// for this one): the common case of a server that keeps up, which so skips two thread hand-offs. The writer's
  /// rules hold as they do on its thread: one owner of the state at a time, arrival order (a request arriving
  /// meanwhile is queued behind this one), the decision log written before the answer.
  /// - Returns: nil when the request must be queued.
  private func decideAtOnce(_ job: Job) throws -> Answer? {
    guard job.size <= Self.atOnceLimit else { return nil }
    condition.lock()
    guard !stopping, !stopped, !busy, queue.isEmpty else {
      condition.unlock()
      return nil
    }
    busy = true
    condition.unlock()
    defer {
      condition.lock()
      busy = false
      if !queue.isEmpty || stopping { condition.signal() }
      condition.unlock()
    }
    adoptIfActivated()
    metrics.queueWait.recordNanoseconds(0)
    job.phase = .taken
    var log: [UInt8] = []
    let answer: Answer
    do {
      answer = try process(job, fallback: nil, log: &log)
    } catch {
      logger.error("the state's writer failed on a request: \(error)")
      throw error
    }
    writeLog(&log)
    metrics.transactions.set(Double(decider.processed))
    metrics.labelsWaiting.set(Double(decider.labelsWaiting))
    drainQueued(log: &log)
    return answer
  }

  /// Rounds of queued work the owner of a decision at once takes on before it lets go of the state.
  static let drainRounds = 4

  /// Decides, on this thread that owns the state, what was queued meanwhile (small requests only, a few rounds):
  /// under load the requests so pass from one event-loop thread to the next in arrival order without waking the
  /// writer thread, whose hand-offs were the tail of the latency. Big requests stay the writer's.
  private func drainQueued(log: inout [UInt8]) {
    var finishing: [(Job, Answer)] = []
    for _ in 0..<Self.drainRounds {
      condition.lock()
      guard !stopping, !queue.isEmpty, queue.allSatisfy({ $0.size <= Self.atOnceLimit }) else {
        condition.unlock()
        return
      }
      let jobs = queue
      queue.removeAll(keepingCapacity: true)
      waiting = 0
      metrics.queueDepth.set(0.0)
      condition.unlock()
      runBatch(jobs, log: &log, finishing: &finishing)
    }
  }

  /// The fallback answers of a request of transactions, given now unless the writer has taken it.
  private func fallBack(_ job: Job) {
    let continuation = job.lock.withLock { _ -> CheckedContinuation<Answer, any Error>? in
      guard job.phase == .waiting else { return nil }
      job.phase = .answeredByFallback
      defer { job.continuation = nil }
      return job.continuation
    }
    guard let continuation, case .transactions(let items) = job.work else { return }
    metrics.fallbacks.increment(by: Int64(items.count))
    metrics.decisions[options.fallback.rawValue].increment(by: Int64(items.count))
    let version = hot.current?.version.version
    continuation.resume(
      returning: .decisions(
        items.map { _, id in
          .decided(
            FraudDecision(
              transactionID: id, score: nil, decision: options.fallback.name, reasons: ["OVERLOAD"],
              modelVersion: version), retry: false)
        }))
  }

  /// Stops taking requests, decides those queued, writes the checkpoint and returns once done.
  func stop() throws {
    condition.lock()
    stopping = true
    condition.signal()
    condition.unlock()
    finished.wait()
    if let failure { throw failure }
  }

  private func loop() {
    var log: [UInt8] = []
    var finishing: [(Job, Answer)] = []
    while true {
      condition.lock()
      while busy || (queue.isEmpty && !stopping) { condition.wait() }
      if queue.isEmpty && stopping {
        stopped = true
        condition.unlock()
        break
      }
      let jobs = queue
      queue.removeAll(keepingCapacity: true)
      waiting = 0
      busy = true
      metrics.queueDepth.set(0.0)
      condition.unlock()
      defer {
        condition.lock()
        busy = false
        condition.unlock()
      }
      runBatch(jobs, log: &log, finishing: &finishing)
    }
    guard touched.load(ordering: .acquiring) else {
      logger.info("no transaction or label reached the state: no checkpoint written, the store's left as it was")
      finished.signal()
      return
    }
    do {
      try decider.checkpoint()
      logger.info("checkpoint written after \(decider.processed) transactions")
    } catch {
      failure = error
      logger.error("the final checkpoint failed: \(error)")
    }
    finished.signal()
  }

  /// Decides queued jobs in their order (the caller owns the state): each taken unless its deadline passed, the
  /// decisions logged before any answer goes.
  private func runBatch(_ jobs: [Job], log: inout [UInt8], finishing: inout [(Job, Answer)]) {
    adoptIfActivated()
    let now = NIODeadline.now()
    for job in jobs {
      metrics.queueWait.recordNanoseconds((now - job.arrived).nanoseconds)
      // Taken by the writer now, unless its deadline passed (then the fallback answers, now if not already).
      var late = false
      if let deadline = options.deadline, case .transactions = job.work,
        (now - job.arrived).nanoseconds > Int64(deadline * 1e9)
      {
        late = true
      }
      let taken = job.lock.withLock { _ -> Bool in
        if job.phase == .waiting && !late {
          job.phase = .taken
          job.timer?.cancel()
          return true
        }
        return false
      }
      if !taken { fallBack(job) }
      do {
        let answer = try process(job, fallback: taken ? nil : options.fallback, log: &log)
        if taken { finishing.append((job, answer)) }
      } catch {
        logger.error("the state's writer failed on a request: \(error)")
        if taken { resume(job, throwing: error) }
      }
    }
    // The decisions reach the log (the page cache: a crash of this process loses none) before their answers go.
    writeLog(&log)
    metrics.transactions.set(Double(decider.processed))
    metrics.labelsWaiting.set(Double(decider.labelsWaiting))
    for (job, answer) in finishing {
      let c = job.lock.withLock { _ -> CheckedContinuation<Answer, any Error>? in
        defer { job.continuation = nil }
        return job.continuation
      }
      c?.resume(returning: answer)
    }
    finishing.removeAll(keepingCapacity: true)
  }

  private func resume(_ job: Job, throwing error: any Error) {
    let c = job.lock.withLock { _ -> CheckedContinuation<Answer, any Error>? in
      defer { job.continuation = nil }
      return job.continuation
    }
    c?.resume(throwing: error)
  }

  /// A version another process activated replaces the scorer (the state kept), unless it cannot.
  private func adoptIfActivated() {
    guard let now = hot.current else { return }
    let number = now.version.version
    guard number != decider.version, number != refusedVersion else { return }
    do {
      if let reason = try decider.adopt(now.model.model, version: number) {
        refusedVersion = number
        metrics.adoptionsRefused.increment()
        logger.error(
          "version \(number) was activated but is not adopted: \(reason); version \(decider.version.map(String.init) ?? "none") keeps scoring"
        )
      } else {
        logger.info("scoring with version \(number) from now on (the card and merchant state kept)")
      }
    } catch {
      refusedVersion = number
      metrics.adoptionsRefused.increment()
      logger.error("version \(number) could not be adopted: \(error)")
    }
  }

  private func process(_ job: Job, fallback: Decision?, log: inout [UInt8]) throws -> Answer {
    switch job.work {
    case .status:
      return .status(
        StateStatus(
          transactions: decider.processed, cards: decider.cards, merchants: decider.merchants,
          labelsWaiting: decider.labelsWaiting, labelsLearned: decider.learned,
          rememberedDecisions: decider.remembered,
          newestTransaction: decider.stream.state.watermark.isFinite
            ? FieldParser.formatTimestamp(decider.stream.state.watermark) : nil,
          modelVersion: decider.version, learning: decider.stream.learning != nil))
    case .labels(let items):
      touched.store(true, ordering: .releasing)
      var matched = 0
      var learned = 0
      for item in items {
        let (applied, didLearn) = decider.label(item.idHash, fraud: item.fraud)
        if applied { matched += 1 }
        if didLearn { learned += 1 }
      }
      metrics.labels.increment(by: Int64(items.count))
      metrics.labelsUnmatched.increment(by: Int64(items.count - matched))
      metrics.learned.increment(by: Int64(learned))
      return .labels(received: items.count, matched: matched, learned: learned)
    case .transactions(let items):
      touched.store(true, ordering: .releasing)
      var outcomes: [FraudOutcome] = []
      outcomes.reserveCapacity(items.count)
      var counts = [0, 0, 0]
      var retries = 0
      let decidedAt = Date().timeIntervalSince1970
      for (tx, id) in items {
        let outcome = try decider.decide(tx, id: id, fallback: fallback)
        switch outcome {
        case .decided(let d, let retry):
          if retry {
            retries += 1
          } else {
            if fallback == nil {
              if let k = Self.decisionNames.firstIndex(of: d.decision) { counts[k] += 1 }
              if let s = d.score { metrics.scores.record(s) }
            }
            if logFD >= 0 { appendLogLine(&log, d, requestID: job.requestID, time: tx.time, decidedAt: decidedAt) }
          }
        case .refused(_, let refusal):
          metrics.refused[refusal.kind.rawValue]?.increment()
        }
        outcomes.append(outcome)
      }
      for k in 0..<3 where counts[k] > 0 { metrics.decisions[k].increment(by: Int64(counts[k])) }
      if retries > 0 { metrics.retries.increment(by: Int64(retries)) }
      return .decisions(outcomes)
    }
  }

  private func appendLogLine(
    _ log: inout [UInt8], _ d: FraudDecision, requestID: String, time: Double, decidedAt: Double
  ) {
    var w = JSONWriter(capacity: 256)
    w.raw("{\"decided_at\":")
    w.string(FieldParser.formatTimestamp(decidedAt))
    w.raw(",\"decision\":")
    w.string(d.decision)
    w.raw(",\"model_version\":")
    if let v = d.modelVersion { w.int(v) } else { w.null() }
    w.raw(",\"reasons\":")
    w.strings(d.reasons)
    w.raw(",\"request_id\":")
    w.string(requestID)
    w.raw(",\"score\":")
    if let s = d.score { w.double(s) } else { w.null() }
    w.raw(",\"time\":")
    w.string(FieldParser.formatTimestamp(time))
    w.raw(",\"transaction_id\":")
    w.string(d.transactionID)
    w.raw("}\n")
    log.append(contentsOf: w.finish())
  }

  private func writeLog(_ log: inout [UInt8]) {
    guard logFD >= 0, !log.isEmpty else { return }
    var failed = false
    log.withUnsafeBytes { raw in
      var at = 0
      while at < raw.count {
        let n = Glibc.write(logFD, raw.baseAddress! + at, raw.count - at)
        if n < 0 {
          if errno == EINTR { continue }
          failed = true
          break
        }
        at += n
      }
    }
    if failed { logger.error("cannot append to the decision log: \(String(cString: strerror(errno)))") }
    log.removeAll(keepingCapacity: true)
  }
}

/// `fraud serve`'s routes: thin mappings over the stream's engine (`FraudDecider`), owned by one writer.
public enum FraudRoutes {
  /// A server for model `name` in `store` around `decider` (a stream opened from the store): its hot model, its
  /// writer, the `/v1` and V2 routes, and the OpenAPI document. Call `FraudServer.stop()` once it has stopped.
  public static func server(
    store: any ModelRegistry, name: String, decider: FraudDecider, options: ServerOptions,
    fraudOptions: FraudServeOptions, logger: Logger
  ) throws -> FraudServer {
    let metrics = ServiceMetrics()
    let fraudMetrics = FraudMetrics(metrics)
    let hot = HotModel<FraudServing>(store: store, name: name, metrics: metrics, logger: logger) { version in
      FraudServing(model: try FraudStore.loadModel(from: store, name: name, version: version.version))
    }
    let writer = try DecisionWriter(
      decider: decider, hot: hot, metrics: fraudMetrics, logger: logger, options: fraudOptions)
    // The body keys and the fields' places through the mapping, resolved once for every request.
    let bodies = try TransactionSource.Bodies(mapping: fraudOptions.mapping)
    let server = CommerceServer(
      options: options, model: hot, metrics: metrics, logger: logger, v2: v2(writer: writer, options: fraudOptions),
      openAPI: try OpenAPIDocument.text(.fraud)
    ) { add(to: $0, writer: writer, bodies: bodies, options: options, fraudOptions: fraudOptions) }
    return FraudServer(server: server, writer: writer)
  }

  static func add(
    to v1: RouterGroup<ServiceContext>, writer: DecisionWriter, bodies: TransactionSource.Bodies,
    options: ServerOptions, fraudOptions: FraudServeOptions
  ) {
    let limit = options.maxBodyBytes
    let mapping = fraudOptions.mapping
    let maximum = fraudOptions.maxTransactions
    route(
      v1, "transactions",
      [
        .post: { request, context in
          let body = try await JSONBody.bytes(request, limit: limit)
          let (items, isArray) = try await running(heavy: body.readableBytes > heavyBodyBytes) {
            try parseTransactions(body, bodies: bodies, maximum: maximum)
          }
          let (answer, _) = try await writer.submit(.transactions(items), requestID: context.requestID)
          guard case .decisions(let outcomes) = answer else {
            throw ServiceError(.internalServerError, "the writer answered another request")
          }
          return try await running(heavy: outcomes.count > heavyEntries) {
            respond(outcomes, isArray: isArray)
          }
        }
      ])
    route(
      v1, "labels",
      [
        .post: { request, context in
          let body = try await JSONBody.bytes(request, limit: limit)
          let items = try await running(heavy: body.readableBytes > heavyBodyBytes) {
            try parseLabels(body, mapping: mapping, maximum: maximum)
          }
          let (answer, _) = try await writer.submit(.labels(items), requestID: context.requestID)
          guard case .labels(let received, let matched, let learned) = answer else {
            throw ServiceError(.internalServerError, "the writer answered another request")
          }
          return try JSONBody.response(LabelsAnswer(received: received, matched: matched, learned: learned))
        }
      ])
    route(
      v1, "state",
      [
        .get: { _, context in
          let (answer, _) = try await writer.submit(.status, requestID: context.requestID)
          guard case .status(let status) = answer else {
            throw ServiceError(.internalServerError, "the writer answered another request")
          }
          return try JSONBody.response(status)
        }
      ])
  }

  struct LabelsAnswer: Encodable {
    var received: Int
    var matched: Int
    var learned: Int
  }

  /// A body's transactions, validated as the stream validates its lines (400 naming the transaction and field).
  static func parseTransactions(_ body: ByteBuffer, bodies: TransactionSource.Bodies, maximum: Int) throws -> (
    [(Transaction, String)], Bool
  ) {
    do {
      let parsed = try body.withUnsafeReadableBytes { raw in
        try bodies.transactions(json: raw, maximum: maximum)
      }
      guard !parsed.transactions.isEmpty else {
        throw ServiceError(.badRequest, "the body holds no transactions")
      }
      return (parsed.transactions, parsed.isArray)
    } catch let error as TabularError {
      throw ServiceError(.badRequest, describe(error, what: "transactions"))
    }
  }

  /// A `TabularError` of a body in the client's terms: the record's position in the array, and the message.
  static func describe(_ error: TabularError, what: String) -> String {
    guard let line = error.line else { return error.message }
    return "\(what)[\(line - 1)]: \(error.message)"
  }

  /// A body's labels: `{transaction_id, fraud, time?}` objects (the id's key through the mapping).
  static func parseLabels(_ body: ByteBuffer, mapping: ColumnMapping, maximum: Int) throws -> [(
    idHash: UInt64, id: String, fraud: Bool
  )] {
    do {
      let reader = try body.withUnsafeReadableBytes { raw in
        try JSONRecordsReader(
          bytes: raw, name: "body", columns: [mapping.column(for: "transaction_id"), "fraud", "time"],
          maximumRecords: maximum)
      }
      var out: [(idHash: UInt64, id: String, fraud: Bool)] = []
      while try reader.next() {
        if reader.fieldBytes(2) != nil {
          // Checked as a transaction's time is; labels count when they arrive, as the stream's label rows do.
          _ = try reader.timestamp(2)
        }
        out.append(try TransactionSource.feedback(reader, id: 0, label: 1))
      }
      guard !out.isEmpty else { throw ServiceError(.badRequest, "the body holds no labels") }
      return out
    } catch let error as TabularError {
      throw ServiceError(.badRequest, describe(error, what: "labels"))
    }
  }

  /// One decision as JSON (a refusal as 422 with its reason), or an array of them.
  static func respond(_ outcomes: [FraudOutcome], isArray: Bool) -> Response {
    var w = JSONWriter(capacity: 160 * outcomes.count + 16)
    func write(_ outcome: FraudOutcome, to w: inout JSONWriter) {
      switch outcome {
      case .decided(let d, _): d.writeJSON(to: &w)
      case .refused(let id, let refusal):
        w.raw("{\"error\":")
        w.string(refusal.message)
        w.raw(",\"refused\":")
        w.string(refusal.kind.rawValue)
        w.raw(",\"transaction_id\":")
        w.string(id)
        w.byte(UInt8(ascii: "}"))
      }
    }
    var status = HTTPResponse.Status.ok
    var headers: HTTPFields = [.contentType: "application/json"]
    if isArray {
      w.byte(UInt8(ascii: "["))
      for (k, o) in outcomes.enumerated() {
        if k > 0 { w.byte(UInt8(ascii: ",")) }
        write(o, to: &w)
      }
      w.byte(UInt8(ascii: "]"))
    } else if let o = outcomes.first {
      write(o, to: &w)
      switch o {
      case .refused: status = .unprocessableContent
      case .decided(_, let retry): if retry { headers[HTTPField.Name("X-Replayed")!] = "true" }
      }
    }
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: w.finish())))
  }
}

extension FraudRoutes {
  /// The V2 tensors a fraud model takes: one per field of the stream (BYTES, FP64 for numbers; a timestamp as
  /// text or epoch seconds).
  static func inputs(_ mapping: ColumnMapping) -> [V2.TensorMetadata] {
    let numeric: Set<String> = ["amount", "lat", "lon"]
    return TransactionFields.all.filter { $0 != "type" }.map {
      V2.TensorMetadata(name: mapping.column(for: $0), datatype: numeric.contains($0) ? "FP64" : "BYTES", shape: [-1])
    }
  }

  /// The Open Inference Protocol v2 face: one input per field (`transaction_id`, `timestamp`, `card`, `amount` required),
  /// shape [N], decided in order by the same writer; outputs `transaction_id`, `score` (FP64; null for a fallback),
  /// `decision`, `reasons` (`;`-separated), `model_version` (INT64, -1 for rules alone) and `error` (empty, or why
  /// the transaction was refused).
  static func v2(writer: DecisionWriter, options: FraudServeOptions) -> V2Model<FraudServing> {
    let mapping = options.mapping
    let maximum = options.maxTransactions
    let names = TransactionFields.all.filter { $0 != "type" }.map { mapping.column(for: $0) }
    return V2Model<FraudServing>(
      inputs: { _ in inputs(mapping) },
      outputs: [
        V2.TensorMetadata(name: "transaction_id", datatype: "BYTES", shape: [-1]),
        V2.TensorMetadata(name: "score", datatype: "FP64", shape: [-1]),
        V2.TensorMetadata(name: "decision", datatype: "BYTES", shape: [-1]),
        V2.TensorMetadata(name: "reasons", datatype: "BYTES", shape: [-1]),
        V2.TensorMetadata(name: "model_version", datatype: "INT64", shape: [-1]),
        V2.TensorMetadata(name: "error", datatype: "BYTES", shape: [-1]),
      ],
      inferAsync: { request, _, requestID in
        for input in request.inputs where !names.contains(input.name) {
          throw ServiceError(
            .badRequest,
            "no input '\(input.name)' here; the inputs are \(names.map { "'\($0)'" }.joined(separator: ", "))")
        }
        let (columns, count) = try V2.columns(of: request)
        guard let n = count, n >= 1 else { throw ServiceError(.badRequest, "the request holds no transactions") }
        guard n <= maximum else {
          throw ServiceError(.badRequest, "the request must hold at most \(maximum) transactions, got \(n)")
        }
        let header = TransactionFields.all.map { mapping.column(for: $0) }
        let values: [[[UInt8]?]?] = header.map { name in
          columns[name].map {
            $0.map { v -> [UInt8]? in
              if case .text(let s) = v { return Array(s.utf8) }
              if case .number(let d) = v, !d.isFinite { return nil }
              return Array(V2.text(v).utf8)
            }
          }
        }
        let reader = FieldColumnsReader(columns: header, values: values, count: n, name: "request")
        let items: [(Transaction, String)]
        do {
          items = try TransactionSource.transactions(reader, mapping: mapping)
        } catch let error as TabularError {
          throw ServiceError(.badRequest, describe(error, what: "transaction"))
        }
        let (answer, _) = try await writer.submit(.transactions(items), requestID: requestID)
        guard case .decisions(let outcomes) = answer else {
          throw ServiceError(.internalServerError, "the writer answered another request")
        }
        var ids: [V2.Value] = []
        var scores: [V2.Value] = []
        var decisions: [V2.Value] = []
        var reasons: [V2.Value] = []
        var versions: [V2.Value] = []
        var errors: [V2.Value] = []
        for o in outcomes {
          switch o {
          case .decided(let d, _):
            ids.append(.text(d.transactionID))
            scores.append(.number(d.score ?? .nan))
            decisions.append(.text(d.decision))
            reasons.append(.text(d.reasons.joined(separator: ";")))
            versions.append(.number(Double(d.modelVersion ?? -1)))
            errors.append(.text(""))
          case .refused(let id, let refusal):
            ids.append(.text(id))
            scores.append(.number(.nan))
            decisions.append(.text(""))
            reasons.append(.text(""))
            versions.append(.number(-1))
            errors.append(.text(refusal.message))
          }
        }
        return [
          V2.OutputTensor(name: "transaction_id", shape: [n], datatype: "BYTES", data: ids),
          V2.OutputTensor(name: "score", shape: [n], datatype: "FP64", data: scores),
          V2.OutputTensor(name: "decision", shape: [n], datatype: "BYTES", data: decisions),
          V2.OutputTensor(name: "reasons", shape: [n], datatype: "BYTES", data: reasons),
          V2.OutputTensor(name: "model_version", shape: [n], datatype: "INT64", data: versions),
          V2.OutputTensor(name: "error", shape: [n], datatype: "BYTES", data: errors),
        ]
      })
  }
}

/// A running fraud server: the HTTP server and the state's writer, whose `stop()` decides what is queued and
/// writes the checkpoint once the HTTP server has drained.
public struct FraudServer: Sendable {
  public let server: CommerceServer<FraudServing>
  let writer: DecisionWriter

  /// Decides what is still queued and writes the checkpoint (call once the HTTP server stopped).
  public func stop() throws { try writer.stop() }
}
