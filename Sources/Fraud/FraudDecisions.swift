import Foundation
import Modeling
import TabularIO

/// One transaction's decision, as `fraud serve` answers it (and its decision log records it).
public struct FraudDecision: Codable, Sendable, Equatable {
  public var transactionID: String
  /// The probability of fraud; `nil` for an overload fallback (answered without waiting for the score) and 0 when
  /// rules alone decide.
  public var score: Double?
  /// `approve`, `review` or `decline`.
  public var decision: String
  /// The features that raised the score most and the codes of the rules that fired (`OVERLOAD` for a fallback).
  public var reasons: [String]
  /// The version that scored (`nil` for rules alone).
  public var modelVersion: Int?

  enum CodingKeys: String, CodingKey {
    case transactionID = "transaction_id"
    case score, decision, reasons
    case modelVersion = "model_version"
  }

  public init(transactionID: String, score: Double?, decision: String, reasons: [String], modelVersion: Int?) {
    self.transactionID = transactionID
    self.score = score
    self.decision = decision
    self.reasons = reasons
    self.modelVersion = modelVersion
  }
}

/// Why a transaction was not entered into the state (nor decided).
public struct FraudRefusal: Sendable, Equatable, CustomStringConvertible {
  public enum Kind: String, Sendable {
    /// Older than the allowed lateness before the newest transaction seen.
    case late
    /// Dated more than the allowed clock skew ahead of the newest seen, not (yet) confirmed by the next.
    case aheadOfClock = "ahead_of_clock"
    /// Its id was entered before (by the training history or another consumer) and its decision is not remembered.
    case enteredBefore = "entered_before"
  }

  public var kind: Kind
  public var message: String
  public var description: String { message }
}

/// What became of one transaction sent to a server.
public enum FraudOutcome: Sendable {
  /// Decided now, or — `retry` — decided before (the remembered answer; the state is not touched again).
  case decided(FraudDecision, retry: Bool)
  case refused(transactionID: String, FraudRefusal)
}

extension TransactionSource {
  /// The transactions of a JSON document — one object or an array of objects, keys named as the stream's columns
  /// through `mapping` — each validated exactly as `fraud stream` validates a line (the same reader calls), with
  /// the text of each id; and whether the document was an array.
  /// - Throws: `TabularError` naming the record (its 1-based line is its position) and the field; a label row (a
  ///   `type` of `label`) is refused here: labels have their own route.
  public static func transactions(json bytes: UnsafeRawBufferPointer, mapping: ColumnMapping, maximum: Int)
    throws(TabularError) -> (transactions: [(Transaction, String)], isArray: Bool)
  {
    try Bodies(mapping: mapping).transactions(json: bytes, maximum: maximum)
  }

  /// `transactions(json:mapping:maximum:)` with the keys and the fields' places resolved once, for a server that
  /// parses many bodies through one mapping.
  public struct Bodies: Sendable {
    let keys: JSONRecordsReader.Keys
    let source: TransactionSource

    public init(mapping: ColumnMapping) throws(TabularError) {
      keys = JSONRecordsReader.Keys(TransactionFields.all.map { mapping.column(for: $0) })
      source = try TransactionSource(header: keys.header, mapping: mapping, file: "body")
    }

    /// The transactions of one body (see `transactions(json:mapping:maximum:)`).
    public func transactions(json bytes: UnsafeRawBufferPointer, maximum: Int)
      throws(TabularError) -> (transactions: [(Transaction, String)], isArray: Bool)
    {
      let reader = try JSONRecordsReader(bytes: bytes, name: "body", keys: keys, maximumRecords: maximum)
      return (try source.transactions(reader), reader.isArray)
    }
  }

  /// The transactions of `reader`'s records, each validated as a line of `fraud stream`'s input, with their ids.
  public static func transactions(_ reader: some RecordReader, mapping: ColumnMapping) throws(TabularError)
    -> [(Transaction, String)]
  {
    try TransactionSource(header: reader.header, mapping: mapping, file: reader.fileName).transactions(reader)
  }

  /// The transactions of `reader`'s records (its header the one this source resolved), with their ids.
  func transactions(_ reader: some RecordReader) throws(TabularError) -> [(Transaction, String)] {
    let source = self
    var dates = FieldParser.TimestampCache()
    var out: [(Transaction, String)] = []
    out.reserveCapacity(1)
    while try reader.next() {
      switch try source.record(reader, dates: &dates) {
      case .transaction(let tx, let id):
        out.append((tx, String(decoding: id, as: UTF8.self)))
      case .label:
        throw reader.error(
          atField: source.type ?? source.id, "a label row; send labels (transaction_id, fraud) to /v1/labels")
      }
    }
    return out
  }

  /// A label's fields — the transaction's id hash and whether it was a fraud — read from `reader`'s current record
  /// as a label row of the stream is (`id` and `label` are field indexes); with the text of the id.
  public static func feedback(_ reader: some RecordReader, id: Int, label: Int) throws(TabularError)
    -> (idHash: UInt64, id: String, fraud: Bool)
  {
    guard let idBytes = reader.fieldBytes(id), let (hash, ascii) = hashAndASCII(idBytes) else {
      throw reader.error(atField: id, "the transaction id is blank; expected an id")
    }
    guard ascii || String(validating: idBytes, as: UTF8.self) != nil else {
      throw reader.error(
        atField: id, "invalid UTF-8 bytes in the transaction id, expected UTF-8 text", kind: .malformedRecord)
    }
    guard let fraud = try labelValue(reader, label) else {
      throw reader.error(atField: label, "the label is missing; expected 1/0, fraud/genuine or true/false")
    }
    return (hash, String(decoding: idBytes, as: UTF8.self), fraud)
  }
}

/// A stream's engine driven one transaction at a time, as a server does: decisions remembered for retries, the
/// stream's clock rules applied per transaction (a transaction is answered at once, never held for the next), and
/// another version adopted with the state kept. Not thread-safe: one owner (the server's writer) calls it.
public final class FraudDecider {
  public let stream: FraudStream
  let run: StreamRun
  /// The version scoring now (`nil` for rules alone).
  public private(set) var version: Int?
  /// A transaction refused as dated far ahead of the clock, which the next one may confirm.
  private var jump: Double? = nil
  private let memory: DecisionMemory
  private let overloadReasons: UInt32

  /// Drives `stream` (opened from a store, or made directly).
  public init(stream: FraudStream) {
    self.stream = stream
    let state = stream.state
    if state.decisions == nil { state.decisions = DecisionMemory(generation: state.recent.generation) }
    memory = state.decisions!
    overloadReasons = memory.intern(Array("OVERLOAD".utf8))
    run = StreamRun(labelDelay: stream.options.labelDelay ?? stream.model.labelDelay)
    version = stream.opening?.version?.version
    // The writer encodes each checkpoint itself while requests wait: its buffer's pages are touched now, at the
    // start, not under the first checkpoint's load (52 ms for a 24 MB state, against 10 ms for the later ones).
    stream.prepareCheckpoints()
  }

  /// Transactions entered into the state (the training history's included).
  public var processed: Int { stream.state.processed }
  /// Labels waiting for their delay before they reach the merchants' fraud rates.
  public var labelsWaiting: Int { stream.state.pending.count }
  /// Labels learned from online so far (this run).
  public var learned: Int { run.stats.learned }
  /// Cards and merchants held.
  public var cards: Int { stream.state.cardCount }
  public var merchants: Int { stream.state.merchantCountHeld }
  /// Decisions remembered for retries.
  public var remembered: Int { memory.count }

  /// Decides the transaction `tx` whose id reads `id`: a remembered decision for a retry (nothing entered again);
  /// otherwise, unless the stream's clock rules refuse it, enters it into the state, scores it and remembers the
  /// answer — with `fallback`, the answer is that decision with the reason `OVERLOAD` (the transaction still
  /// enters the state, once). A transaction answered by `fallback` before its turn came is refused here all the same
  /// when the clock rules (or an earlier entry) refuse it — it does not enter the state — but the fallback answer
  /// its client already got is remembered, so that a retry gets that answer and not another one.
  public func decide(_ tx: Transaction, id: String, fallback: Decision? = nil) throws -> FraudOutcome {
    if let d = memory.lookup(tx.idHash) { return .decided(answer(d, id: id), retry: true) }
    let outcome = try enter(tx, id: id, fallback: fallback)
    if let fallback, case .refused = outcome {
      memory.insert(tx.idHash, fallbackDecision(fallback))
    }
    return outcome
  }

  private func fallbackDecision(_ fallback: Decision) -> RememberedDecision {
    RememberedDecision(
      score: .nan, version: Int32(clamping: version ?? -1), reasons: overloadReasons,
      decision: UInt8(fallback.rawValue), fallback: 1)
  }

  private func enter(_ tx: Transaction, id: String, fallback: Decision?) throws -> FraudOutcome {
    let state = stream.state
    let options = stream.options
    if state.hasSeen(tx.idHash) {
      return .refused(
        transactionID: id,
        FraudRefusal(
          kind: .enteredBefore,
          message:
            "transaction '\(id)' was entered into the state before (by the training history or a stream) and its decision is not remembered here"
        ))
    }
    let skew = options.maxClockSkew
    if state.watermark > -.infinity && tx.time > state.watermark + skew {
      if let jump, abs(tx.time - jump) <= skew {
        // Two transactions agree on the new time: the clock really jumped.
        self.jump = nil
      } else {
        jump = tx.time
        return .refused(
          transactionID: id,
          FraudRefusal(
            kind: .aheadOfClock,
            message:
              "transaction '\(id)' is dated more than the allowed clock skew (\(Int(skew)) s) ahead of the newest seen (\(FieldParser.formatTimestamp(state.watermark))): refused as a likely typo unless the next transaction confirms the jump (then send it again)"
          ))
      }
    } else {
      jump = nil
    }
    if tx.time < state.watermark - options.allowedLateness {
      return .refused(
        transactionID: id,
        FraudRefusal(
          kind: .late,
          message:
            "transaction '\(id)' is older than the allowed lateness (\(Int(options.allowedLateness)) s before the newest seen, \(FieldParser.formatTimestamp(state.watermark))); not entered"
        ))
    }
    guard let (p, decision) = try stream.step(run, tx) else {
      throw CommerceError(.data, "transaction '\(id)' was entered twice")
    }
    let remembered: RememberedDecision
    if let fallback {
      remembered = fallbackDecision(fallback)
    } else {
      remembered = RememberedDecision(
        score: p, version: Int32(clamping: version ?? -1), reasons: memory.intern(run.reasons),
        decision: UInt8(decision.rawValue), fallback: 0)
    }
    memory.insert(tx.idHash, remembered)
    try stream.finish(run, tx, p, decision, beforeCheckpoint: {})
    return .decided(answer(remembered, id: id), retry: false)
  }

  private func answer(_ d: RememberedDecision, id: String) -> FraudDecision {
    let text = memory.reasons(d)
    return FraudDecision(
      transactionID: id, score: d.score.isNaN ? nil : d.score,
      decision: (Decision(rawValue: Int(d.decision)) ?? .review).name,
      reasons: text.isEmpty ? [] : text.split(separator: UInt8(ascii: ";")).map { String(decoding: $0, as: UTF8.self) },
      modelVersion: d.version >= 0 ? Int(d.version) : nil)
  }

  /// A label for an earlier transaction, as a label row of the stream: it reaches its merchant's fraud rates at
  /// once and, when learning, the model. Returns whether the transaction was remembered for each.
  public func label(_ idHash: UInt64, fraud: Bool) -> (applied: Bool, learned: Bool) {
    let state = stream.state
    let applied = state.applyLabel(transaction: idHash, fraud: fraud)
    var learned = false
    if let learning = stream.learning, learning.feedback(idHash, fraud: fraud, at: state.watermark) {
      learned = true
      run.stats.learned += 1
    }
    return (applied, learned)
  }

  /// Scores with `model` (version `version`) from now on, keeping the card and merchant state; when learning, the
  /// learning goes on from the new version's weights, keeping the labels waiting. Returns why the model cannot be
  /// adopted (the old one then keeps scoring), or `nil` once adopted.
  public func adopt(_ model: FraudModel, version: Int) throws -> String? {
    if stream.options.labelDelay == nil && model.labelDelay != run.labelDelay {
      return
        "its label delay (\(Int(model.labelDelay)) s) differs from the one the state's waiting labels were queued with (\(Int(run.labelDelay)) s); restart the server to serve it"
    }
    if stream.learning != nil && !model.isAdditive {
      return "it is not of the additive family, whose weights online learning updates"
    }
    try stream.replaceModel(model, version: version)
    self.version = version
    return nil
  }

  /// Writes a checkpoint now (waiting for it).
  public func checkpoint() throws { try stream.checkpoint() }

  /// Receives each monitoring period of event time (`StreamOptions.statsEvery`).
  public var onPeriod: ((StreamPeriod) -> Void)? {
    get { stream.onPeriod }
    set { stream.onPeriod = newValue }
  }
}

extension FraudStream {
  /// Scores with `model` (version `version`) from now on, the state kept; the rules given at opening stay. A
  /// learning stream learns on from the new weights, its waiting labels taken over (re-binned when the bins differ).
  func replaceModel(_ replacement: FraudModel, version: Int) throws {
    var m = replacement
    if let rulesOverride { m.rules = rulesOverride }
    let oldEdges: [[Double]]? = {
      if case .additive(let a) = model.estimator { return a.edges }
      return nil
    }()
    if let learning {
      var w = BinaryWriter()
      learning.encode(into: &w)
      state.savedLearning = try w.bytes.withUnsafeBytes { raw in
        var r = BinaryReader(bytes: raw)
        return try OnlineLearning.decode(&r)
      }
    }
    let wasLearning = learning != nil
    model = m
    scorer = Scorer(model: m)
    if wasLearning, case .additive(let a) = m.estimator {
      try startLearning(
        baseVersion: version, takeOverWaiting: oldEdges == a.edges, rebinFrom: oldEdges == a.edges ? nil : oldEdges)
    }
  }
}

extension FraudDecision: JSONWritable {
  /// Every key always present (`null` for a missing score or version), in sorted order.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(decision, forKey: .decision)
    try c.encode(modelVersion, forKey: .modelVersion)
    try c.encode(reasons, forKey: .reasons)
    try c.encode(score, forKey: .score)
    try c.encode(transactionID, forKey: .transactionID)
  }

  public func writeJSON(to w: inout JSONWriter) {
    w.raw("{\"decision\":")
    w.string(decision)
    w.raw(",\"model_version\":")
    if let modelVersion { w.int(modelVersion) } else { w.null() }
    w.raw(",\"reasons\":")
    w.strings(reasons)
    w.raw(",\"score\":")
    if let score, score.isFinite { w.double(score) } else { w.null() }
    w.raw(",\"transaction_id\":")
    w.string(transactionID)
    w.byte(UInt8(ascii: "}"))
  }
}
