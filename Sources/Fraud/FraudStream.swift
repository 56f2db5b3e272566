import Foundation
import Modeling
import Storage
import TabularIO

#if canImport(Glibc)
  import Glibc
#endif

/// Options of `fraud stream`.
public struct StreamOptions: Sendable {
  /// Checkpoint the state every this many transactions (and at the end).
  public var checkpointEvery = 1_000_000
  /// Transactions older than the newest seen minus this many seconds are rejected (and counted as late).
  public var allowedLateness = 86_400.0
  /// A transaction more than this many seconds ahead of the newest seen is taken for a typo (a year 2062 for
  /// 2026) and rejected as malformed, unless the next transaction confirms the jump by being within this of it:
  /// one record can never move the stream's clock alone.
  public var maxClockSkew = 86_400.0
  /// Whether a quoted CSV field may span lines (otherwise a quote not closed on its line makes that line
  /// malformed, and the stream goes on with the next).
  public var multilineFields = false
  /// The longest line accepted; a longer one is malformed (its bytes still go to the dead-letter file).
  public var maximumLineBytes = 64 << 10
  /// Report each period of this many seconds of event time (transactions, alert rate, mean score, the score
  /// distribution's PSI against the training history); `nil` for none.
  public var statsEvery: Double? = nil
  /// Labels of transaction rows become known this many seconds later (default: the model's).
  public var labelDelay: Double?
  /// Measure per-transaction latency.
  public var measureLatency = false
  /// Learn the model's weights online from labels as they become known (`OnlineLearning`).
  public var learn = false
  /// The time constant of the evidence online learning weighs new labels against (seconds).
  public var learningMemory = 30 * 86_400.0
  /// While learning, register the learned model as a new version every this many seconds of event time.
  public var registerEvery: Double? = nil
  public init() {}
}

/// Counts and timings of a stream run.
public struct StreamStatistics: Sendable, Codable, Equatable {
  public var transactions = 0
  public var labels = 0
  /// Malformed lines, those dated too far ahead of the stream's clock included.
  public var malformed = 0
  /// Of the malformed lines, transactions dated more than the allowed clock skew ahead of the stream.
  public var aheadOfClock = 0
  /// Transactions older than the allowed lateness, skipped.
  public var late = 0
  public var replayedSkipped = 0
  public var decisions = [0, 0, 0]
  /// Labels learned from online during the run, and the versions registered with the learned weights.
  public var learned = 0
  public var registered: [Int] = []
  public var seconds = 0.0
  /// Per-transaction latency percentiles, when measured.
  public var latency: LatencyPercentiles?
}

/// How online learning started: continuing a checkpoint's weights, or from the version's with the checkpoint's
/// waiting labels taken over or dropped (with their counts).
public struct LearningStart: Sendable, Equatable {
  /// A checkpoint's labels waiting for their delay and transactions remembered for feedback rows.
  public struct Waiting: Sendable, Equatable {
    public var labels: Int
    public var remembered: Int
  }

  /// Whether the checkpoint's learned weights are continued.
  public var continued = false
  /// Waiting labels and remembered transactions of the checkpoint learned on under the new version.
  public var takenOver: Waiting? = nil
  /// Waiting labels and remembered transactions of the checkpoint that the new version cannot use.
  public var dropped: Waiting? = nil
  /// Whether those taken over were re-binned from another binning (each old bin at its middle).
  public var rebinned = false
}

/// One monitoring period of a stream (event time).
public struct StreamPeriod: Sendable, Codable, Equatable {
  /// The period's start (seconds since the epoch).
  public var start: Double
  public var transactions: Int
  /// Reviewed or declined, as a share of the period's transactions.
  public var alertRate: Double
  public var meanScore: Double
  /// The population stability index of the period's scores against the training history's (deciles), `nil`
  /// without a reference; above 0.25 the distribution has moved.
  public var scorePSI: Double?

  /// Whether the score distribution has moved enough to look at (PSI above 0.25, on at least
  /// `PopulationStability.minimumSample` transactions).
  public var drifted: Bool { scorePSI.map { PopulationStability.verdict($0, sample: transactions) == .major } ?? false }
  /// Whether the period holds too few transactions to judge a shift.
  public var tooFewToJudge: Bool { transactions < PopulationStability.minimumSample }
}

/// Per-transaction latency percentiles in microseconds.
public struct LatencyPercentiles: Sendable, Codable, Equatable {
  public var p50: Double
  public var p99: Double
  public var p999: Double
}

/// A log-scale latency histogram (1 ns to about 17 s, 64 buckets per power of two).
struct LatencyHistogram {
  var counts = [Int](repeating: 0, count: 64 * 35)
  var total = 0

  mutating func add(nanoseconds: UInt64) {
    let v = max(nanoseconds, 1)
    let e = 63 - v.leadingZeroBitCount
    let m = e >= 6 ? Int((v >> UInt64(e - 6)) & 63) : Int((v << UInt64(6 - e)) & 63)
    counts[min(counts.count - 1, e * 64 + m)] += 1
    total += 1
  }

  func percentile(_ q: Double) -> Double {
    guard total > 0 else { return 0 }
    let target = Int((q * Double(total)).rounded(.up))
    var seen = 0
    for (b, c) in counts.enumerated() {
      seen += c
      if seen >= target {
        let e = b / 64
        let m = b % 64
        return Double(UInt64(1) << UInt64(e)) * (1 + Double(m) / 64) / 1000
      }
    }
    return 0
  }
}

@inline(__always)
func monotonicNanoseconds() -> UInt64 {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Scores a stream of transactions one by one, in input order, with state that survives restarts.
public final class FraudStream {
  /// The model scoring now, and its scorer (replaced together by `adopt(_:version:)`).
  @exclusivity(unchecked) public internal(set) var model: FraudModel
  @exclusivity(unchecked) var scorer: Scorer
  public let state: FeatureState
  let states: (any CheckpointStore)?
  let checkpointName: String
  let options: StreamOptions
  /// How the stream was opened, for one opened from a store (`open(store:name:resume:rules:options:)`).
  @exclusivity(unchecked) public internal(set) var opening: StreamOpening?
  /// Receives each monitoring period when `options.statsEvery` is set (the last, partial one at the end).
  @exclusivity(unchecked) public var onPeriod: ((StreamPeriod) -> Void)? = nil
  /// Online learning, once `startLearning(baseVersion:)` has started it.
  @exclusivity(unchecked) public private(set) var learning: OnlineLearning? = nil
  /// Registers a learned model with the state at that point (`options.registerEvery`) for the registration
  /// period ending at the given event time, returning its version.
  @exclusivity(unchecked) public var onRegister: ((FraudModel, FeatureState, Double) throws -> Int)? = nil
  /// Whether `run` writes a checkpoint before its first transaction (set for a stream that registers versions
  /// and does not resume from a checkpoint).
  @exclusivity(unchecked) public var checkpointAtStart = false
  /// Rules given in place of the model's (kept when another version replaces the model).
  @exclusivity(unchecked) var rulesOverride: RuleSet? = nil
  /// Receives what the stream noticed while it ran (another process activating a version).
  @exclusivity(unchecked) public var onNotice: ((StreamNotice) -> Void)? = nil

  /// A stream over `model` continuing from `state`, checkpointing to `states` under `checkpointName`.
  public init(
    model: FraudModel, state: FeatureState, states: (any CheckpointStore)?, checkpointName: String,
    options: StreamOptions
  ) {
    self.model = model
    self.scorer = Scorer(model: model)
    self.state = state
    self.states = states
    self.checkpointName = checkpointName
    self.options = options
  }

  /// Starts learning online: from the checkpoint's learned weights when they were learned from `baseVersion`
  /// (the version scoring now), else from the model's. Returns whether the checkpoint's learning continues.
  /// - Throws: `CommerceError(.usage)` for a model of another family than the additive one, or trained before
  ///   online learning.
  /// - Parameters:
  ///   - continuing: continue the checkpoint's learned weights even though they came from another version (the
  ///     stream's own lineage: versions it registered after that checkpoint).
  ///   - takeOverWaiting: when the checkpoint's weights are not continued, keep its waiting labels and
  ///     remembered transactions (the new version's bins are the checkpoint's).
  ///   - rebinFrom: when the checkpoint's weights are not continued and the bins differ, the edges of the
  ///     checkpoint's version (per feature): its waiting labels are then learned under the new bins, each old bin
  ///     taken at its middle (an approximation: the transaction's own value is not kept).
  @discardableResult
  public func startLearning(
    baseVersion: Int, continuing: Bool = false, takeOverWaiting: Bool = false, rebinFrom: [[Double]]? = nil
  ) throws -> LearningStart {
    guard case .additive(let a) = model.estimator, let table = scorer.table else {
      throw CommerceError(
        .usage,
        "online learning updates the additive model's weights; this model is \(model.hasModel ? "a logistic regression" : "rules only"): train it with the additive family"
      )
    }
    let saved = state.savedLearning
    state.savedLearning = nil
    var start = LearningStart()
    if let saved, saved.baseVersion == baseVersion || continuing {
      learning = try OnlineLearning(resuming: saved, estimator: a, table: table, memory: options.learningMemory)
      start.continued = true
    } else {
      let fresh = try OnlineLearning(
        estimator: a, table: table, memory: options.learningMemory, baseVersion: baseVersion)
      if let saved {
        if takeOverWaiting {
          start.takenOver = fresh.takeOverWaiting(from: saved)
        } else if let old = rebinFrom, old.count == a.edges.count {
          let remap = old.enumerated().map { k, edges in
            (0...edges.count).map { b in
              UInt8(clamping: AdditiveFraudEstimator.bin(Self.middle(of: b, edges), a.edges[k]))
            }
          }
          start.takenOver = fresh.takeOverWaiting(from: saved, remap: remap)
          start.rebinned = true
        } else {
          start.dropped = LearningStart.Waiting(labels: saved.waiting, remembered: saved.remembered)
        }
      }
      learning = fresh
    }
    state.learning = learning
    return start
  }

  /// A value inside bin `b` of `edges` (bin b is `[edges[b-1], edges[b])`): its middle, or beside the outer edge by
  /// half the neighbouring bin's width for the two open-ended bins.
  static func middle(of b: Int, _ edges: [Double]) -> Double {
    guard !edges.isEmpty else { return 0 }
    let n = edges.count
    if b <= 0 { return edges[0] - (n > 1 ? (edges[1] - edges[0]) / 2 : 0.5) }
    if b >= n { return edges[n - 1] + (n > 1 ? (edges[n - 1] - edges[n - 2]) / 2 : 0.5) }
    return (edges[b - 1] + edges[b]) / 2
  }

  /// The model with the weights learned so far (the model itself when not learning).
  public func learnedModel() -> FraudModel {
    guard let learning, case .additive(let a) = model.estimator else { return model }
    var m = model
    m.estimator = .additive(learning.estimator(from: a, at: state.watermark))
    return m
  }

  /// Saves the state now (after any checkpoint still being written).
  public func checkpoint() throws {
    try checkpoints?.save(sequence: state.processed, encode: { self.state.encode(into: &$0) }, wait: true)
  }

  /// Encodes the state once into the checkpoints' buffer without saving it, so that the first checkpoint finds
  /// its memory in place (nothing without a checkpoint store).
  public func prepareCheckpoints() {
    checkpoints?.prepare { self.state.encode(into: &$0) }
  }

  /// Writes the checkpoints, in the background during a run; nil without a checkpoint store.
  private lazy var checkpoints: BackgroundCheckpoint? = states.map {
    BackgroundCheckpoint(store: $0, name: checkpointName)
  }

  /// Reads every record of `reader`, writing `transaction_id,score,decision,reasons` per transaction to `output`.
  ///
  /// A malformed record (bad field count, value, time, invalid UTF-8, a NUL byte, too long, a time too far ahead
  /// of the stream's clock) never stops the stream: it is reported through `report` with its line, its raw bytes
  /// are copied to `deadLetter` when given, and it is counted; a transaction older than the allowed lateness is
  /// reported, copied and counted as late. Output is flushed whenever the next read would wait for input.
  public func run(
    _ reader: some RecordReader, source: TransactionSource, output: CSVWriter, deadLetter: CSVWriter?,
    wouldBlock: () -> Bool, report: (String) -> Void
  ) throws -> StreamStatistics {
    for (value, name) in [(options.statsEvery, "stats_every"), (options.registerEvery, "register_every")] {
      if let value, !(value > 0 && value.isFinite) {
        throw CommerceError(
          .usage, "\(CommerceError.Reference(rawValue: name)) must be a positive duration, got \(value) s")
      }
    }
    // A stream that registers versions starts with a checkpoint of where it starts from (unless it resumes from
    // one): a kill between its first registration and its first checkpoint then resumes from here, recognizing
    // the version it registered, instead of from that version's snapshot without the labels still waiting.
    if checkpointAtStart {
      checkpointAtStart = false
      try checkpoint()
    }
    let started = monotonicNanoseconds()
    let r = StreamRun(labelDelay: options.labelDelay ?? model.labelDelay)
    // Lines after a checkpoint reach the output only once it is committed: a restart never skips a line.
    output.beforeWrite = checkpoints.map { c in { c.waitQuietly() } }
    defer { output.beforeWrite = nil }
    output.writeRow(["transaction_id", "score", "decision", "reasons"])
    if let deadLetter {
      // The bytes of a line too long to hold go straight to the dead-letter file as the reader skips them.
      reader.skippedBytesSink = { bytes in
        deadLetter.writeRaw(bytes)
        if bytes.last == 0x0A { r.skippedLineEnded = true }
      }
    }
    defer { reader.skippedBytesSink = nil }
    let lineFeed: [UInt8] = [0x0A]
    func copyToDeadLetter(_ raw: UnsafeBufferPointer<UInt8>?) {
      guard let deadLetter else { return }
      if let raw, !raw.isEmpty {
        deadLetter.writeRaw(raw)
        if raw.last != 0x0A { deadLetter.writeRaw(lineFeed) }
      } else if r.skippedLineEnded == false && r.skippedBytes {
        deadLetter.writeRaw(lineFeed)
      }
    }
    func reject(_ message: String) {
      r.stats.malformed += 1
      report(message)
      reader.withRawRecord { copyToDeadLetter($0) }
      r.skippedBytes = false
      r.skippedLineEnded = false
    }
    func rejectPending() {
      guard let pending = r.pending else { return }
      r.pending = nil
      r.stats.malformed += 1
      r.stats.aheadOfClock += 1
      report(pending.message)
      pending.raw.withUnsafeBufferPointer { copyToDeadLetter($0) }
    }
    // Scores (after the transaction held back) a transaction that passed the clock checks.
    func accept(_ tx: Transaction, id: UnsafeBufferPointer<UInt8>, started: UInt64, line: Int) throws {
      state.prefetchIndexes(tx)
      // Too late against the newest time seen, the held transaction's included (unless it is a replay).
      let lateness = options.allowedLateness
      if tx.time < state.watermark - lateness
        || (r.held.map { tx.time < $0.time - lateness && !state.hasSeen($0.idHash) } ?? false)
      {
        if state.hasSeen(tx.idHash) || r.held?.idHash == tx.idHash {
          r.stats.replayedSkipped += 1
        } else {
          r.stats.late += 1
          report(
            "\(reader.fileName):\(line): transaction older than the allowed lateness (\(Int(options.allowedLateness)) s before the newest seen); skipped"
          )
          reader.withRawRecord { copyToDeadLetter($0) }
        }
        return
      }
      try release(r, output: output, next: tx)
      r.held = tx
      r.heldStarted = started
      r.hold(id: id)
    }
    let skew = options.maxClockSkew
    // One transaction is held back while the next line is read, when that read will not wait: the memory the
    // held one needs is requested while the next is parsed, and the next one's while the held one is scored,
    // which hides most cache misses. Output order and every decision stay those of one-by-one processing.
    var dates = FieldParser.TimestampCache()
    while true {
      if r.held != nil && !reader.hasBufferedLine { try release(r, output: output) }
      if r.held == nil && wouldBlock() {
        try output.flush()
        try deadLetter?.flush()
      }
      let started = options.measureLatency ? monotonicNanoseconds() : 0
      do {
        guard try reader.next() else { break }
      } catch {
        r.skippedBytes = true
        reject("\(error)")
        continue
      }
      if reader.withRawRecord({ raw in
        guard let raw, let base = raw.baseAddress else { return false }
        return memchr(base, 0, raw.count) != nil
      }) {
        reject("\(reader.fileName):\(reader.line): a NUL byte in the line; expected text")
        continue
      }
      let record: InputRecord
      do {
        record = try source.record(reader, dates: &dates)
      } catch {
        reject("\(error)")
        continue
      }
      switch record {
      case .label(let id, let fraud):
        try release(r, output: output)
        if state.applyLabel(transaction: id, fraud: fraud) { r.stats.labels += 1 }
        if let learning, learning.feedback(id, fraud: fraud, at: state.watermark) { r.stats.learned += 1 }
      case .transaction(let tx, let id):
        let clock = max(state.watermark, r.held?.time ?? -.infinity)
        if clock > -.infinity && tx.time > clock + skew {
          if state.hasSeen(tx.idHash) || r.held?.idHash == tx.idHash {
            // A replay is skipped whatever its time says.
            r.stats.replayedSkipped += 1
            continue
          }
          if let pending = r.pending, abs(tx.time - pending.transaction.time) <= skew {
            // Two transactions agree on the new time: the clock really jumped.
            r.pending = nil
            try pending.id.withUnsafeBufferPointer { id in
              try accept(pending.transaction, id: id, started: pending.started, line: pending.line)
            }
            try accept(tx, id: id, started: started, line: reader.line)
            continue
          }
          rejectPending()
          r.pending = PendingTransaction(
            transaction: tx, id: Array(id), raw: reader.withRawRecord { $0.map { Array($0) } ?? [] },
            line: reader.line, started: started,
            message:
              "\(reader.fileName):\(reader.line): transaction dated more than the allowed clock skew (\(Int(skew)) s) ahead of the newest seen, and the next transaction does not confirm it; skipped as a likely typo"
          )
          continue
        }
        rejectPending()
        try accept(tx, id: id, started: started, line: reader.line)
      }
    }
    rejectPending()
    try release(r, output: output)
    if options.statsEvery != nil { emitPeriod(r) }
    try output.flush()
    try deadLetter?.flush()
    try checkpoint()
    r.stats.decisions = [r.decisions[0], r.decisions[1], r.decisions[2]]
    r.stats.seconds = Double(monotonicNanoseconds() - started) / 1e9
    if options.measureLatency {
      r.stats.latency = LatencyPercentiles(
        p50: r.histogram.percentile(0.5), p99: r.histogram.percentile(0.99), p999: r.histogram.percentile(0.999))
    }
    return r.stats
  }

  /// Registers the learned model when `time` has reached the next registration (every `every` seconds of event
  /// time from the first transaction's period).
  func registerIfDue(_ r: StreamRun, time: Double, every: Double) throws {
    guard let onRegister, let learning else { return }
    if learning.nextRegistration.isNaN { learning.nextRegistration = ((time / every).rounded(.down) + 1) * every }
    guard time >= learning.nextRegistration else { return }
    let period = learning.nextRegistration
    while learning.nextRegistration <= time { learning.nextRegistration += every }
    let version = try onRegister(learnedModel(), state, period)
    learning.baseVersion = version
    r.stats.registered.append(version)
    // A checkpoint right after the transaction (its line written): the stream's state and the versions it
    // registered agree again at once.
    r.checkpointDue = true
  }

  /// Adds a scored transaction to the current monitoring period, first closing the periods it has left behind.
  func monitor(_ r: StreamRun, time: Double, score: Double, alert: Bool, every: Double) {
    if r.periodStart.isNaN { r.periodStart = (time / every).rounded(.down) * every }
    if time >= r.periodStart + every {
      emitPeriod(r)
      r.periodStart = (time / every).rounded(.down) * every
    }
    r.periodCount += 1
    if alert { r.periodAlerts += 1 }
    r.periodScoreSum += score
    let deciles = model.scoreDeciles
    if deciles.count == 9 {
      var bin = 0
      while bin < 9 && score > deciles[bin] { bin += 1 }
      r.periodBins[bin] += 1
    }
  }

  /// Reports the current period (if it has transactions) and starts the next one empty.
  func emitPeriod(_ r: StreamRun) {
    guard r.periodCount > 0 else { return }
    var psi: Double? = nil
    if model.scoreDeciles.count == 9 {
      psi = PopulationStability.index(
        expected: [Double](repeating: 0.1, count: 10),
        actual: r.periodBins.map { Double($0) / Double(r.periodCount) })
    }
    onPeriod?(
      StreamPeriod(
        start: r.periodStart, transactions: r.periodCount, alertRate: Double(r.periodAlerts) / Double(r.periodCount),
        meanScore: r.periodScoreSum / Double(r.periodCount), scorePSI: psi))
    r.periodCount = 0
    r.periodAlerts = 0
    r.periodScoreSum = 0
    r.periodBins = [Int](repeating: 0, count: 10)
  }

  /// Scores the held transaction of `r` (unless it is a replay) and writes its line, prefetching `next`'s
  /// records meanwhile; checkpoints when it is time.
  @inline(__always)
  private func release(_ r: StreamRun, output: CSVWriter, next: Transaction? = nil) throws {
    guard let tx = r.held else { return }
    r.held = nil
    guard let (p, decision) = try step(r, tx, next: next) else {
      r.stats.replayedSkipped += 1
      return
    }
    output.writeField(bytes: UnsafeBufferPointer(start: r.heldId, count: r.heldIdCount))
    // Six decimals, and for scores near 1 as many more as it takes to keep three significant digits of 1 − p:
    // the highest-risk transactions stay ranked in the output instead of all reading 1.000000.
    output.writeField(p, decimals: FraudStream.scoreDecimals(p))
    let name = decision.staticName
    output.writeField(bytes: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    if r.reasons.isEmpty {
      output.writeEmptyField()
    } else {
      r.reasons.withUnsafeBufferPointer { output.writeField(bytes: $0) }
    }
    output.endRow()
    if options.measureLatency { r.histogram.add(nanoseconds: monotonicNanoseconds() &- r.heldStarted) }
    // The output covering a checkpoint goes out first (a restart never repeats a line); the snapshot is then
    // committed while the stream goes on, the lines after it held until it is.
    try finish(r, tx, p, decision, beforeCheckpoint: { try output.flush() })
  }

  /// The decimals the stream writes a score with: six, and for scores near 1 as many more as it takes to keep three
  /// significant digits of 1 − p.
  @inline(__always)
  public static func scoreDecimals(_ p: Double) -> Int {
    p < 0.999 ? 6 : min(15, max(6, Int((-log10(max(1 - p, 1e-15))).rounded(.down)) + 3))
  }

  /// The engine's one call per transaction, after the stream's clock checks: unless its id was already entered
  /// (then `nil`), enters `tx` into the card and merchant state (prefetching `next`'s records meanwhile), releases
  /// the labels now due to online learning and registers a learned version when one is due, then scores it —
  /// probability and decision, the reasons in `r.reasons`, the features in `r.features` — and remembers its
  /// features for its own label. `fraud stream`, `fraud serve`, and the replays of `fraud train` and `fraud
  /// evaluate` all call it.
  @inline(__always)
  func step(_ r: StreamRun, _ tx: Transaction, next: Transaction? = nil) throws -> (Double, Decision)? {
    if state.hasSeen(tx.idHash) { return nil }
    state.observe(tx, labelDelay: r.labelDelay, features: r.features, rules: &r.inputs)
    if let next { state.prefetchRecords(next) }
    if let learning {
      let before = learning.learned
      learning.release(until: state.watermark)
      r.stats.learned += learning.learned - before
      if let every = options.registerEvery { try registerIfDue(r, time: tx.time, every: every) }
    }
    // (The reasons of most transactions are empty: clearing, writing and counting avoid the array's calls then.)
    if !r.reasons.isEmpty { r.reasons.removeAll(keepingCapacity: true) }
    let (p, decision) = scorer.score(r.features, r.inputs, reasons: &r.reasons)
    learning?.record(r.features, idHash: tx.idHash, label: tx.label, release: tx.time + r.labelDelay)
    return (p, decision)
  }

  /// Counts a scored transaction, adds it to the monitoring period and checkpoints when it is time (in the
  /// background, after `beforeCheckpoint`).
  @inline(__always)
  func finish(
    _ r: StreamRun, _ tx: Transaction, _ p: Double, _ decision: Decision, beforeCheckpoint: () throws -> Void
  ) throws {
    r.stats.transactions += 1
    r.decisions[decision.rawValue] += 1
    if let every = options.statsEvery { monitor(r, time: tx.time, score: p, alert: decision != .approve, every: every) }
    r.sinceCheckpoint += 1
    if r.sinceCheckpoint >= options.checkpointEvery || r.checkpointDue {
      r.checkpointDue = false
      try beforeCheckpoint()
      try checkpoints?.save(sequence: state.processed, encode: { self.state.encode(into: &$0) }, wait: false)
      r.sinceCheckpoint = 0
      state.expire(before: state.watermark)
    }
  }
}

/// Checkpoints of a stream, each written on a thread of its own while the stream goes on (or waited for): one at
/// a time, its snapshot encoded by the stream before it starts (into memory reused from one to the next), a
/// failure thrown by the next `save` or `wait`.
final class BackgroundCheckpoint: @unchecked Sendable {
  private let store: any CheckpointStore
  private let name: String
  private let queue = DispatchQueue(label: "fraud.checkpoint")
  /// 1 while no write is in flight. The fields below belong to the writer while one is.
  private let idle = DispatchSemaphore(value: 1)
  private var snapshot: [UInt8] = []
  private var failure: (any Error)? = nil

  init(store: any CheckpointStore, name: String) {
    self.store = store
    self.name = name
  }

  /// Waits for the write in flight, if any; throws its failure.
  func wait() throws {
    idle.wait()
    defer { idle.signal() }
    if let failure {
      self.failure = nil
      throw failure
    }
  }

  /// Waits for the write in flight, if any, keeping its failure for the next `wait` or `save`.
  func waitQuietly() {
    idle.wait()
    idle.signal()
  }

  /// Fills the snapshot with `encode` and writes nothing: the buffer's memory is then resident and large enough
  /// for the next `save` (after the write in flight, if any).
  func prepare(encode: (inout [UInt8]) -> Void) {
    idle.wait()
    encode(&snapshot)
    idle.signal()
  }

  /// Waits for the write in flight, then fills the snapshot with `encode` and writes it at `sequence`: in the
  /// background, or, with `wait`, before returning.
  func save(sequence: Int, encode: (inout [UInt8]) -> Void, wait: Bool) throws {
    try self.wait()
    if wait {
      encode(&snapshot)
      try store.save(name, sequence: sequence, state: snapshot)
      return
    }
    idle.wait()
    encode(&snapshot)
    queue.async { [self] in
      do {
        try store.save(name, sequence: sequence, state: snapshot)
      } catch {
        failure = error
      }
      idle.signal()
    }
  }
}

/// A transaction dated far ahead of the stream's clock, waiting for the next one to confirm or refute it.
struct PendingTransaction {
  var transaction: Transaction
  var id: [UInt8]
  /// Its line's raw bytes, for the dead-letter file.
  var raw: [UInt8]
  var line: Int
  var started: UInt64
  var message: String
}

/// The mutable state of one `FraudStream.run` (or of a server's whole life): the held transaction, the scoring
/// buffers and the counts.
final class StreamRun {
  @exclusivity(unchecked) var pending: PendingTransaction? = nil
  /// The current monitoring period.
  @exclusivity(unchecked) var periodStart = Double.nan
  @exclusivity(unchecked) var periodCount = 0
  @exclusivity(unchecked) var periodAlerts = 0
  @exclusivity(unchecked) var periodScoreSum = 0.0
  @exclusivity(unchecked) var periodBins = [Int](repeating: 0, count: 10)
  /// When the learned model is next registered (event time).
  /// A registration asks for a checkpoint after its transaction.
  @exclusivity(unchecked) var checkpointDue = false
  /// Whether the last error was a line too long to hold (its bytes already went to the dead-letter file), and
  /// whether those bytes ended with a line feed.
  @exclusivity(unchecked) var skippedBytes = false
  @exclusivity(unchecked) var skippedLineEnded = false
  let labelDelay: Double
  let features = UnsafeMutablePointer<Double>.allocate(capacity: FraudFeature.count)
  @exclusivity(unchecked) var inputs = RuleInputs()
  @exclusivity(unchecked) var reasons: [UInt8] = []
  /// Transactions per decision (copied to `stats` at the end).
  let decisions = UnsafeMutablePointer<Int>.allocate(capacity: 3)
  @exclusivity(unchecked) var held: Transaction? = nil
  @exclusivity(unchecked) var heldStarted: UInt64 = 0
  /// The held transaction's id bytes (copied: the reader's buffer moves on).
  @exclusivity(unchecked) var heldId = UnsafeMutablePointer<UInt8>.allocate(capacity: 64)
  @exclusivity(unchecked) var heldIdCount = 0
  @exclusivity(unchecked) var heldIdCapacity = 64
  @exclusivity(unchecked) var stats = StreamStatistics()
  @exclusivity(unchecked) var histogram = LatencyHistogram()
  @exclusivity(unchecked) var sinceCheckpoint = 0

  init(labelDelay: Double) {
    self.labelDelay = labelDelay
    reasons.reserveCapacity(128)
    decisions.initialize(repeating: 0, count: 3)
  }

  deinit {
    features.deallocate()
    decisions.deallocate()
    heldId.deallocate()
  }

  @inline(__always)
  func hold(id: UnsafeBufferPointer<UInt8>) {
    if id.count > heldIdCapacity {
      heldId.deallocate()
      heldIdCapacity = id.count
      heldId = .allocate(capacity: heldIdCapacity)
    }
    if let base = id.baseAddress { heldId.update(from: base, count: id.count) }
    heldIdCount = id.count
  }
}
