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

  /// Opens a stream over the active version of `name` in `store` (rules alone when there is none), from the
  /// training snapshot or, with `resume`, from the stream's last checkpoint.
  /// - Parameters:
  ///   - rules: rules replacing the model's.
  ///   - rulesWithoutModel: decide by rules alone when the store has no model `name` (for the default name);
  ///     otherwise a missing model is an error.
  public static func open(
    store: any ModelRegistry, name: String, resume: Bool, rules: RuleSet? = nil, rulesWithoutModel: Bool = true,
    options: StreamOptions
  ) throws -> FraudStream {
    let checkpoints = store.checkpoints()
    var opening = StreamOpening(modelName: name, storeLocation: "\(store.location)")
    opening.storeFiles = store.files
    var model: FraudModel
    var state: FeatureState
    if let stored = try FraudStore.load(from: store, name: name) {
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
    let checkpointName = checkpointName(model: name)
    if resume, let saved = try checkpoints.load(checkpointName) {
      state = try FeatureState(decoding: saved.state)
      opening.resumedAfter = saved.sequence
      opening.checkpointDate = saved.createdAt
    }
    let stream = FraudStream(
      model: model, state: state, states: checkpoints, checkpointName: checkpointName, options: options)
    let saved = state.savedLearning
    if options.learn {
      let continued = try stream.startLearning(baseVersion: opening.version?.version ?? 0)
      opening.learningContinued = continued
      if continued { opening.labelsLearnedBefore = saved?.learned }
      if !continued, let saved { opening.learningSetAside = saved.version }
      if options.registerEvery != nil {
        // Unowned: the stream holds this closure. Each version records the one it learned from (the last one
        // registered, after the first).
        stream.onRegister = { [unowned stream] learned, state in
          try FraudStore.registerLearned(
            learned, state: state, in: store, name: name, from: stream.learning?.baseVersion ?? 0,
            labels: stream.learning?.learned ?? 0
          ).version
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
