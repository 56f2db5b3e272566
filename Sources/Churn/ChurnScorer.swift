import Foundation
import Modeling
import TabularIO

/// What a scoring run did.
public struct ScoreSummary: Sendable, Codable {
  public var rows = 0
  public var predictedChurners = 0
  public var skippedRows = 0
  /// Column → count of values never seen in training (scored as the reference level).
  public var unseenLevels: [String: Int] = [:]
  /// The model's id column when the file lacks it: the output numbers the rows in a `row` column instead.
  public var missingIDColumn: String? = nil
}

/// Streams a customer CSV through a model in constant memory: one record in, one line out.
public enum ChurnScorer {
  /// `score(prepared:…)` with `model` prepared for this run.
  public static func score(
    model: ChurnModel, input: CSVReader, writer: CSVWriter?, reasons: Int, threshold: Double? = nil,
    skipBadRows: Bool = false, writeHeader: Bool = true, onRow: ((Double, ObservedOutcome) -> Void)? = nil
  ) throws -> ScoreSummary {
    try score(
      prepared: try PreparedChurnModel(model), input: input, writer: writer, reasons: reasons, threshold: threshold,
      skipBadRows: skipBadRows, writeHeader: writeHeader, onRow: onRow)
  }

  /// `scoreFile(prepared:…)` with `model` prepared for this run.
  public static func scoreFile(
    model: ChurnModel, path: String, output: String?, reasons: Int, threshold: Double? = nil, skipBadRows: Bool,
    threads: Int, decimals: Int = 6, columns: [String]? = nil, writeHeader: Bool = true
  ) throws -> ScoreSummary {
    try scoreFile(
      prepared: try PreparedChurnModel(model), path: path, output: output, reasons: reasons, threshold: threshold,
      skipBadRows: skipBadRows, threads: threads, decimals: decimals, columns: columns, writeHeader: writeHeader)
  }

  /// Scores `input`, writing `id,churn_probability,churn,decile,reasons` to `writer`.
  ///
  /// - Parameters:
  ///   - reasons: how many reasons per customer (the largest positive contributions to the log-odds,
  ///     summed over the features of each input column); 0 for none.
  ///   - threshold: overrides the model's decision threshold.
  ///   - skipBadRows: skip (and count) rows with a bad value instead of stopping.
  ///   - onRow: called with each probability and the row's outcome (for `evaluate`).
  ///   - decimals: the probability's decimals, 0 to 12 (6 by default).
  /// - Throws: before any output, when the file lacks a model column; `TabularError` for a bad row.
  public static func score(
    prepared: PreparedChurnModel, input: CSVReader, writer: CSVWriter?, reasons: Int, threshold: Double? = nil,
    skipBadRows: Bool = false, writeHeader: Bool = true, decimals: Int = 6,
    onRow: ((Double, ObservedOutcome) -> Void)? = nil
  ) throws -> ScoreSummary {
    let model = prepared.model
    let header = input.header
    try header.requireUniqueNames(file: input.fileName)
    var positions: [Int] = []
    var missingColumns: [String] = []
    for spec in model.columns {
      if let i = header.index(of: spec.name) { positions.append(i) } else { missingColumns.append(spec.name) }
    }
    guard missingColumns.isEmpty else {
      throw TabularError(
        .schema, file: input.fileName, line: 1,
        "the model needs column\(missingColumns.count > 1 ? "s" : "") \(missingColumns.map { "'\($0)'" }.joined(separator: ", ")), missing from the header; the columns are: \(header.names.map { "'\($0)'" }.joined(separator: ", "))"
      )
    }
    let idIndex = model.idColumn.flatMap { header.index(of: $0) }
    let targetIndex = header.index(of: model.target)
    let outcomes = OutcomeReader(model)
    let scorer = prepared.scorer()
    let cut = threshold ?? model.threshold
    var summary = ScoreSummary()
    let reasonText = ReasonText(model: model, positions: positions)
    if let writer, writeHeader {
      // Without the model's id column the rows are numbered, under a name that says so (never the id's name,
      // which a join would take for customer ids).
      writer.writeRow([idIndex != nil ? model.idColumn! : "row", "churn_probability", "churn", "decile", "reasons"])
    }
    if idIndex == nil, let id = model.idColumn { summary.missingIDColumn = id }
    var rowNumber = 0
    while true {
      var more = false
      do {
        more = try input.next()
      } catch {
        guard skipBadRows, error.kind == .malformedRecord else { throw error }
        summary.skippedRows += 1
        continue
      }
      if !more { break }
      rowNumber += 1
      // The first bad field, if any (its error is only built when needed).
      let encoded = positions.withUnsafeBufferPointer { at in scorer.encode { input.fieldBytes(at[$0]) } }
      if case .bad(let k, let expected) = encoded {
        if skipBadRows {
          summary.skippedRows += 1
          continue
        }
        let column = positions[k]
        throw input.error(
          atField: column, "expected \(expected), found \(quotedForMessage(input.fieldBytes(column)!))")
      }
      let p = LogisticRegression.sigmoid(scorer.logOdds())
      if let onRow {
        var outcome = ObservedOutcome.missing
        if let targetIndex, let t = input.fieldBytes(targetIndex) {
          let (lo, hi) = FieldParser.trimmed(t)
          if lo < hi { outcome = outcomes.read(UnsafeBufferPointer(rebasing: t[lo..<hi])) }
        }
        onRow(p, outcome)
      }
      summary.rows += 1
      let churn = p >= cut
      if churn { summary.predictedChurners += 1 }
      guard let writer else { continue }
      if let idIndex, let id = input.fieldBytes(idIndex) {
        writer.writeField(bytes: id)
      } else {
        writer.writeField(rowNumber)
      }
      writer.writeField(p, decimals: decimals)
      writer.writeField(churn ? 1 : 0)
      writer.writeField(scorer.decile(p))
      if reasons > 0 {
        // The `reasons` largest positive contributions (no sort, no allocation).
        reasonText.write(
          slots: scorer.chosenSlot, values: scorer.chosenValue, count: scorer.chooseReasons(limit: reasons),
          of: input, to: writer)
      } else {
        writer.writeEmptyField()
      }
      writer.endRow()
    }
    for (k, count) in scorer.unseen.enumerated() where count > 0 {
      summary.unseenLevels[model.columns[k].name] = count
    }
    return summary
  }
}

extension ChurnScorer {
  /// Scores the file at `path` (`-`: standard input) into `output` (a path, written atomically) or standard output.
  ///
  /// - Parameters:
  ///   - columns: the input has no header line and these are its columns (`ChurnModel.inputColumns` for the model's
  ///     own order); `nil`: the first line is the header.
  ///   - writeHeader: whether the output starts with its header line (a partition of a larger job leaves it out).
  ///
  /// With two or more threads and a file of some size, the records are split at a line break near the
  /// middle and both halves are scored at once, the second into a temporary file appended afterwards, so
  /// the output keeps the input order. When the split falls inside a quoted field the file is scored again
  /// from the start on one thread.
  public static func scoreFile(
    prepared: PreparedChurnModel, path: String, output: String?, reasons: Int, threshold: Double? = nil,
    skipBadRows: Bool,
    threads: Int, decimals: Int = 6, columns: [String]? = nil, writeHeader: Bool = true
  ) throws -> ScoreSummary {
    let model = prepared.model
    if let output { try OutputFiles.refuseOverwriting(output, inputs: path == "-" ? [] : [path]) }
    let first: CSVReader
    if let columns {
      guard columns.contains(where: { !$0.isEmpty }) else {
        throw CommerceError(.usage, "\(.columns) names no column", parameter: .columns)
      }
      first = try CSVReader(path: path, header: Header(columns), options: .unhashed)
    } else if path == "-" {
      first = try CSVReader(fileDescriptor: 0, options: .unhashed)
    } else {
      first = try CSVReader(path: path, options: .unhashed)
    }
    // Rows are numbered when there is no id column; the halves could not number theirs, so no split then. Standard
    // input and header-less files are read in one pass.
    if path != "-", columns == nil, writeHeader, let id = model.idColumn, first.header.index(of: id) != nil,
      let ranges = ParallelRanges(path: path, reader: first, threads: threads),
      let summary = try scoreInTwo(
        prepared: prepared, ranges: ranges, output: output, reasons: reasons, threshold: threshold,
        skipBadRows: skipBadRows, decimals: decimals)
    {
      return summary
    }
    let writer =
      try output.map { try CSVWriter(path: $0, bufferBytes: 1 << 20) }
      ?? CSVWriter(fileDescriptor: 1, bufferBytes: 1 << 16)
    let summary = try score(
      prepared: prepared, input: first, writer: writer, reasons: reasons, threshold: threshold,
      skipBadRows: skipBadRows, writeHeader: writeHeader, decimals: decimals)
    try writer.finish()
    return summary
  }

  /// The offset just after the first line feed at or after `offset`, if one comes before `limit`.
  static func lineBreak(in path: String, near offset: Int, limit: Int) -> Int? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    var position = offset
    while position < limit {
      try? handle.seek(toOffset: UInt64(position))
      guard let chunk = try? handle.read(upToCount: 1 << 16), !chunk.isEmpty else { return nil }
      if let k = chunk.firstIndex(of: 0x0A) {
        return position + (k - chunk.startIndex) + 1 < limit ? position + (k - chunk.startIndex) + 1 : nil
      }
      position += chunk.count
    }
    return nil
  }

  /// Scores the two halves at once; `nil` when the split turned out to fall inside a quoted field.
  static func scoreInTwo(
    prepared: PreparedChurnModel, ranges: ParallelRanges, output: String?, reasons: Int, threshold: Double?,
    skipBadRows: Bool, decimals: Int
  ) throws -> ScoreSummary? {
    let directory = output.map { ($0 as NSString).deletingLastPathComponent } ?? NSTemporaryDirectory()
    let secondPath = (directory.isEmpty ? "." : directory) + "/.churn-score-\(getpid())-\(UUID().uuidString).part"
    let firstPart = "\(secondPath).first"
    // Both halves' files are removed at the end, or by the signal handler if the process is stopped first
    // (registered before they exist).
    let tokens = [secondPath, firstPart].map { OutputFiles.registerTemporary($0) }
    defer {
      unlink(secondPath)
      unlink(firstPart)
      tokens.forEach(OutputFiles.forgetTemporary)
    }
    // The first half goes to the destination (or, for standard output, a file copied out at the end).
    let firstWriter = try CSVWriter(path: output ?? firstPart, bufferBytes: 1 << 20)
    let secondWriter = try CSVWriter(path: secondPath, bufferBytes: 1 << 20)
    let writers = UnsafeSendable((firstWriter, secondWriter))
    guard
      let (firstSummary, second) = try ranges.run({ reader, isSecond in
        let writer = isSecond ? writers.value.1 : writers.value.0
        let summary = try score(
          prepared: prepared, input: reader, writer: writer, reasons: reasons, threshold: threshold,
          skipBadRows: skipBadRows, writeHeader: !isSecond, decimals: decimals)
        try writer.flush()
        return summary
      })
    else { return nil }
    try secondWriter.finish()
    try firstWriter.append(contentsOfFile: secondPath)
    try firstWriter.finish()
    if output == nil {
      let out = CSVWriter(fileDescriptor: 1, bufferBytes: 1 << 16)
      try out.append(contentsOfFile: firstPart)
      try out.finish()
    }
    var summary = firstSummary
    summary.rows += second.rows
    summary.predictedChurners += second.predictedChurners
    summary.skippedRows += second.skippedRows
    summary.unseenLevels.merge(second.unseenLevels, uniquingKeysWith: +)
    return summary
  }

  /// A reader error placed in the whole file rather than its range.
  static func shifted(_ error: Error, by lines: Int) -> Error {
    guard let e = error as? TabularError, let line = e.line else { return error }
    return TabularError(e.kind, file: e.file, line: line + lines, column: e.column, e.message, cause: e.cause)
  }
}

/// Writes a record's reasons field — `name=value +0.54; …`, with `name=value×value` for an interaction term —
/// from flat memory of its own (no array is copied or grown per record, so threads scoring at once share no
/// reference count).
final class ReasonText {
  /// Per reason slot: its name's bytes, `names[nameStart[s]..<nameStart[s + 1]]`, and the record fields of its
  /// values, `fields[fieldStart[s]..<fieldStart[s + 1]]`.
  private let names: UnsafeMutablePointer<UInt8>
  private let nameStart: UnsafeMutablePointer<Int>
  private let fields: UnsafeMutablePointer<Int>
  private let fieldStart: UnsafeMutablePointer<Int>
  /// The field being built.
  @exclusivity(unchecked) private var text: UnsafeMutablePointer<UInt8>
  @exclusivity(unchecked) private var count = 0
  @exclusivity(unchecked) private var capacity = 256

  /// - Parameter positions: the record field of each model column.
  convenience init(model: ChurnModel, positions: [Int]) {
    self.init(
      slots: model.columns.indices.map { (model.columns[$0].name, [positions[$0]]) }
        + model.interactionTerms.map { ($0.name, $0.columns.map { positions[$0] }) })
  }

  /// - Parameter slots: each reason slot's name and the record fields of its values.
  init(slots: [(name: String, fields: [Int])]) {
    var nameBytes: [UInt8] = []
    var nameStarts: [Int] = []
    var fieldList: [Int] = []
    var fieldStarts: [Int] = []
    for (name, columns) in slots {
      nameStarts.append(nameBytes.count)
      nameBytes.append(contentsOf: name.utf8)
      fieldStarts.append(fieldList.count)
      fieldList.append(contentsOf: columns)
    }
    nameStarts.append(nameBytes.count)
    fieldStarts.append(fieldList.count)
    names = flatCopy(nameBytes)
    nameStart = flatCopy(nameStarts)
    fields = flatCopy(fieldList)
    fieldStart = flatCopy(fieldStarts)
    text = .allocate(capacity: capacity)
  }

  deinit {
    names.deallocate()
    nameStart.deallocate()
    fields.deallocate()
    fieldStart.deallocate()
    text.deallocate()
  }

  /// Writes the field of `count` reasons — slots `slot[k]` with contributions `value[k]`, as
  /// `ChurnRecordScorer.chooseReasons` leaves them — for `input`'s record.
  @inline(__always)
  func write(
    slots slot: UnsafePointer<Int>, values value: UnsafePointer<Double>, count reasons: Int, of input: CSVReader,
    to writer: CSVWriter
  ) {
    count = 0
    for k in 0..<reasons {
      if k > 0 {
        append(UInt8(ascii: ";"))
        append(UInt8(ascii: " "))
      }
      appendSlot(slot[k], of: input)
      appendContribution(value[k])
    }
    writer.writeField(bytes: UnsafeBufferPointer(start: text, count: count))
  }

  /// The field built so far (for tests).
  var bytes: [UInt8] { Array(UnsafeBufferPointer(start: text, count: count)) }

  @inline(__always)
  private func reserve(_ n: Int) {
    guard count + n > capacity else { return }
    capacity = max(2 * capacity, count + n)
    let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    grown.initialize(from: text, count: count)
    text.deallocate()
    text = grown
  }

  @inline(__always)
  private func append(_ byte: UInt8) {
    reserve(1)
    text[count] = byte
    count += 1
  }

  @inline(__always)
  private func append(_ bytes: UnsafeBufferPointer<UInt8>) {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return }
    reserve(bytes.count)
    (text + count).initialize(from: base, count: bytes.count)
    count += bytes.count
  }

  /// Appends slot `s`'s `name=value` (values joined by `×`, a blank one as `(missing)`) for `input`'s record.
  @inline(__always)
  private func appendSlot(_ s: Int, of input: CSVReader) {
    append(UnsafeBufferPointer(start: names + nameStart[s], count: nameStart[s + 1] - nameStart[s]))
    append(UInt8(ascii: "="))
    for k in fieldStart[s]..<fieldStart[s + 1] {
      if k > fieldStart[s] {
        // U+00D7 MULTIPLICATION SIGN in UTF-8.
        append(0xC3)
        append(0x97)
      }
      guard let field = input.fieldBytes(fields[k]) else { continue }
      let (lo, hi) = FieldParser.trimmed(field)
      if lo < hi {
        append(UnsafeBufferPointer(rebasing: field[lo..<hi]))
      } else {
        let missing: StaticString = "(missing)"
        append(UnsafeBufferPointer(start: missing.utf8Start, count: missing.utf8CodeUnitCount))
      }
    }
  }

  /// Appends ` +0.54` (two decimals, the sign always shown).
  @inline(__always)
  func appendContribution(_ value: Double) {
    // Room for the sign, 13 whole digits and the decimals at once.
    reserve(20)
    text[count] = UInt8(ascii: " ")
    text[count + 1] = value < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+")
    count += 2
    guard abs(value) < 1e15 else {
      // Too large for hundredths in an Int (or not a number): the shortest text that reads back as the value.
      var text = "\(abs(value))"
      text.withUTF8 { append($0) }
      return
    }
    let hundredths = Int((abs(value) * 100).rounded())
    let whole = hundredths / 100
    var power = 1
    while power * 10 <= whole { power *= 10 }
    while power > 0 {
      text[count] = UInt8(48 + whole / power % 10)
      count += 1
      power /= 10
    }
    text[count] = UInt8(ascii: ".")
    text[count + 1] = UInt8(48 + (hundredths / 10) % 10)
    text[count + 2] = UInt8(48 + hundredths % 10)
    count += 3
  }
}

/// A row's true outcome, read from the target column.
public enum ObservedOutcome: Sendable, Equatable {
  case churned
  case stayed
  /// Blank.
  case missing
  /// A value that is neither class.
  case unknown(String)
}

/// Reads target values as training did: the model's two classes, and — when they are a yes/no pair such as
/// `Yes`/`No` or `1`/`0` — the other spellings of that pair (`yes`, `Y`, `true`, `1`, `1.0`, … and their opposites),
/// in any case.
struct OutcomeReader {
  let positive: [UInt8]
  let negative: [UInt8]
  let positiveSpellings: Set<String>
  let negativeSpellings: Set<String>

  /// The spellings of a yes and of a no that training takes for boolean columns (`booleanPairs`), lowercased.
  static let yes = Set(booleanPairs.map { $0.0.lowercased() })
  static let no = Set(booleanPairs.map { $0.1.lowercased() })

  init(_ model: ChurnModel) {
    positive = Array(model.positive.utf8)
    negative = Array(model.negative.utf8)
    let p = model.positive.lowercased()
    let n = model.negative.lowercased()
    if OutcomeReader.yes.contains(p) && OutcomeReader.no.contains(n) {
      positiveSpellings = OutcomeReader.yes
      negativeSpellings = OutcomeReader.no
    } else if OutcomeReader.no.contains(p) && OutcomeReader.yes.contains(n) {
      positiveSpellings = OutcomeReader.no
      negativeSpellings = OutcomeReader.yes
    } else {
      positiveSpellings = [p]
      negativeSpellings = [n]
    }
  }

  func read(_ value: UnsafeBufferPointer<UInt8>) -> ObservedOutcome {
    if FeatureEncoder.equal(value, positive) { return .churned }
    if FeatureEncoder.equal(value, negative) { return .stayed }
    let text = String(decoding: value, as: UTF8.self)
    let lower = text.lowercased()
    if positiveSpellings.contains(lower) { return .churned }
    if negativeSpellings.contains(lower) { return .stayed }
    return .unknown(text)
  }
}
