import Foundation
import Modeling
import Storage
import TabularIO

#if canImport(Glibc)
  import Glibc
#endif

/// How a stream started: with which model (or rules alone) and from which checkpoint.
public struct StreamOpening: Sendable, Codable, Equatable {
  /// The model's name.
  public var modelName: String
  /// The store the model and the checkpoints are in.
  public var storeLocation: String
  /// The files the store lives in (no output may be written onto one of them).
  public var storeFiles: [String] = []
  /// The version scoring the stream, or `nil` when the store has no fraud model of that name and rules alone
  /// decide.
  public var version: ModelVersion?
  /// How many transactions the checkpoint resumed from had covered, when resuming from one.
  public var resumedAfter: Int?
  /// When that checkpoint was written.
  public var checkpointDate: Date?
  /// When learning online: whether it continues the checkpoint's learned weights, and how many labels those had
  /// learned from (else it starts from the version's weights).
  public var learningContinued: Bool?
  public var labelsLearnedBefore: Int?
  /// The version the checkpoint's learned weights came from when they are not used: another version scores now,
  /// or the stream does not learn.
  public var learningSetAside: Int?
  /// The versions this stream registered after its checkpoint (before it stopped), which it recognizes as its own
  /// and meets again as it replays: their periods are not registered twice.
  public var ownVersionsAfterCheckpoint: [Int] = []
  /// When the scoring version changed since the checkpoint: its waiting labels and remembered transactions
  /// learned on under the new version (same bins), or dropped (another binning), with their counts.
  public var waitingTakenOver: Int?
  public var rememberedTakenOver: Int?
  public var waitingDropped: Int?
  /// Whether the labels taken over were re-binned from the checkpoint version's bins (each at its middle).
  public var waitingRebinned = false
  public var rememberedDropped: Int?
  /// A checkpoint that `fresh` left in place (to be replaced at the stream's first checkpoint).
  public var checkpointReplaced: Int?
}

/// Something a learning stream noticed while it ran (an activation it did not make).
public struct StreamNotice: Sendable, Equatable, CustomStringConvertible {
  public var description: String
}

/// The input formats of a transaction stream.
public enum TransactionFormat: String, Sendable, Codable, CaseIterable {
  /// CSV with a header line.
  case csv
  /// One JSON object per line.
  case jsonl
}

extension FraudStream {
  /// The checkpoint name of the stream scored by model `name`.
  public static func checkpointName(model name: String) -> String { "fraud-stream/\(name)" }

  /// The checkpoint name of `fraud serve` for model `name` (a server's state is its own, apart from a stream's).
  public static func serverCheckpointName(model name: String) -> String { "fraud-serve/\(name)" }

  /// Opens a stream over the active version of `name` in `store` (rules alone when there is none), from the
  /// training snapshot or, with `resume`, from the stream's last checkpoint.
  ///
  /// A store holding a checkpoint of this stream is never started afresh silently: without `resume` the call
  /// throws, unless `fresh` says to start from the training snapshot (the checkpoint is then replaced at the
  /// stream's first checkpoint).
  ///
  /// While learning with `options.registerEvery`, the stream registers its learned model once per period, and
  /// - after a restart from a checkpoint older than its last registrations, it recognizes the versions it
  ///   registered itself (their periods are not registered again, and the checkpoint's learning continues);
  /// - when the active version changed for another reason (a training, a promotion, a rollback), it learns on
  ///   from the active version, keeping the checkpoint's waiting labels when the bins agree;
  /// - when someone else activates a version while it runs, it says so (`onNotice`) and registers its later
  ///   versions inactive, never undoing the activation.
  /// - Parameters:
  ///   - fresh: start from the training snapshot even though a checkpoint exists.
  ///   - rules: rules replacing the model's.
  ///   - rulesWithoutModel: decide by rules alone when the store has no model `name` (for the default name);
  ///     otherwise a missing model is an error.
  ///   - checkpointName: the checkpoint's name (default `checkpointName(model:)`; a server keeps its own).
  public static func open(
    store: any ModelRegistry, name: String, resume: Bool, fresh: Bool = false, rules: RuleSet? = nil,
    rulesWithoutModel: Bool = true, checkpointName: String? = nil, options: StreamOptions
  ) throws -> FraudStream {
    let checkpoints = store.checkpoints()
    var opening = StreamOpening(modelName: name, storeLocation: "\(store.location)")
    opening.storeFiles = store.files
    var model: FraudModel
    var state: FeatureState
    // No model of this name yet: the stream may run on the rules alone.
    if let stored = try store.hasModel(name) ? FraudStore.load(from: store, name: name) : nil {
      model = stored.model
      state = stored.state
      opening.version = stored.version
    } else {
      guard rulesWithoutModel else {
        throw CommerceError(
          .noModel, "no fraud model '\(name)' in \(store.location); train it first: \(.trainFraud)",
          parameter: .modelName)
      }
      model = FraudModel.rulesOnly(RuleSet.standard, labelDelay: 7 * 86_400)
      state = FeatureState()
    }
    if let rules { model.rules = rules }
    let checkpointName = checkpointName ?? Self.checkpointName(model: name)
    if let saved = try checkpoints.load(checkpointName) {
      if resume {
        state = try FeatureState(decoding: saved.state)
        opening.resumedAfter = saved.sequence
        opening.checkpointDate = saved.createdAt
      } else if fresh {
        opening.checkpointReplaced = saved.sequence
      } else {
        throw CommerceError(
          .usage,
          "the store holds a checkpoint of this stream (\(saved.sequence) transactions, written \(ISO8601DateFormatter().string(from: saved.createdAt))): continue from it with \(.resume), or start afresh from the training snapshot with \(.fresh) (the checkpoint's card and merchant state is then replaced at the first checkpoint)",
          parameter: .resume)
      }
    }
    let stream = FraudStream(
      model: model, state: state, states: checkpoints, checkpointName: checkpointName, options: options)
    stream.rulesOverride = rules
    let saved = state.savedLearning
    if options.learn {
      let active = opening.version?.version ?? 0
      var own: [Int]? = nil
      var takeOver = false
      var rebin: [[Double]]? = nil
      if let saved, saved.baseVersion != active, let current = opening.version {
        own = try FraudStore.lineage(
          of: current, from: saved.baseVersion, stream: checkpointName, in: store, name: name)
        if own == nil, let edges = FraudStore.binEdges(version: saved.baseVersion, in: store, name: name) {
          if case .additive(let a) = model.estimator, a.edges == edges { takeOver = true } else { rebin = edges }
        }
      }
      let start = try stream.startLearning(
        baseVersion: active, continuing: own != nil, takeOverWaiting: takeOver, rebinFrom: rebin)
      opening.waitingRebinned = start.rebinned
      opening.learningContinued = start.continued
      if start.continued { opening.labelsLearnedBefore = saved?.learned }
      opening.ownVersionsAfterCheckpoint = own ?? []
      if !start.continued, let saved { opening.learningSetAside = saved.version }
      opening.waitingTakenOver = start.takenOver?.labels
      opening.rememberedTakenOver = start.takenOver?.remembered
      opening.waitingDropped = start.dropped?.labels
      opening.rememberedDropped = start.dropped?.remembered
      if options.registerEvery != nil {
        stream.checkpointAtStart = opening.resumedAfter == nil
        // The version this stream expects to be active: the one it started from, then each it registers. Another
        // one active at a registration was activated by someone else, whom the stream never overrides.
        var expected = active
        var displaced = false
        // Unowned: the stream holds this closure. Each version records the one it learned from.
        stream.onRegister = { [unowned stream] learned, state, period in
          let base = stream.learning?.baseVersion ?? 0
          if let mine = try FraudStore.registered(
            in: store, name: name, stream: checkpointName, from: base, period: period)
          {
            // Registered before a restart from an earlier checkpoint: the same period, the same version.
            return mine.version
          }
          let now = try? store.active(name).version
          if !displaced && now != expected {
            displaced = true
            stream.onNotice?(
              StreamNotice(
                description:
                  "version \(now.map(String.init) ?? "none") of '\(name)' was made active by someone else while this stream learned (it expected version \(expected)); the stream's versions are registered inactive from now on (promote one with: models promote VERSION), and it goes on scoring with its own learned weights until restarted, when it learns on from the active version"
              ))
          }
          let version = try FraudStore.registerLearned(
            learned, state: state, in: store, name: name, from: base, labels: stream.learning?.learned ?? 0,
            stream: checkpointName, period: period, activate: !displaced
          ).version
          if !displaced { expected = version }
          return version
        }
      }
    } else if let saved {
      opening.learningSetAside = saved.version
    }
    stream.opening = opening
    return stream
  }

  /// Scores the transactions read from `fileDescriptor` in `format` (columns named by `mapping`), writing a line
  /// per transaction to `output` and each malformed line to the file at `deadLetter` (appended to).
  /// - Parameters:
  ///   - stopRequested: polled between reads; the stream ends cleanly (with a checkpoint) once it returns true.
  ///   - report: receives each malformed line's message.
  public func run(
    format: TransactionFormat, fileDescriptor: Int32, name: String = "<stdin>", mapping: ColumnMapping,
    output: CSVWriter, deadLetter: String?, stopRequested: (@Sendable () -> Bool)? = nil,
    report: (String) -> Void
  ) throws -> StreamStatistics {
    if let deadLetter {
      try OutputFiles.refuseOverwriting(
        deadLetter, inputs: opening.map(\.storeFiles) ?? [], descriptors: [fileDescriptor])
    }
    // The dead-letter file is appended to (a file of earlier runs keeps its lines); a new or empty one starts
    // with the input's header line, so that it can be fixed and replayed as it is.
    var deadFD: Int32 = -1
    var deadIsEmpty = false
    if let deadLetter {
      deadFD = Glibc.open(deadLetter, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
      guard deadFD >= 0 else {
        throw TabularError(
          .io, file: deadLetter, "cannot open the dead-letter file: \(String(cString: strerror(errno)))")
      }
      var st = stat()
      deadIsEmpty = fstat(deadFD, &st) == 0 && st.st_size == 0
    }
    defer { if deadFD >= 0 { close(deadFD) } }
    let dead = deadLetter.map { CSVWriter(fileDescriptor: deadFD, name: $0) }
    switch format {
    case .csv:
      var readerOptions = CSVReader.Options.unhashed
      readerOptions.stopRequested = stopRequested
      readerOptions.skipBlankLines = false
      readerOptions.multilineFields = options.multilineFields
      readerOptions.maximumRecordBytes = options.maximumLineBytes
      let reader = try CSVReader(fileDescriptor: fileDescriptor, name: name, options: readerOptions)
      if let dead, deadIsEmpty {
        dead.writeRaw(reader.rawHeader)
        if reader.rawHeader.last != 0x0A { dead.writeRaw([0x0A]) }
      }
      let source = try TransactionSource(header: reader.header, mapping: mapping, file: name)
      return try run(
        reader, source: source, output: output, deadLetter: dead, wouldBlock: { reader.wouldBlock }, report: report)
    case .jsonl:
      let reader = try NDJSONReader(
        fileDescriptor: fileDescriptor, name: name, columns: TransactionFields.all.map { mapping.column(for: $0) },
        maximumLineBytes: options.maximumLineBytes)
      reader.stopRequested = stopRequested
      let source = try TransactionSource(header: reader.header, mapping: mapping, file: name)
      return try run(
        reader, source: source, output: output, deadLetter: dead, wouldBlock: { reader.wouldBlock }, report: report)
    }
  }
}
