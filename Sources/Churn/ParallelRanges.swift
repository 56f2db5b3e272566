import Dispatch
import Foundation
import Modeling
import TabularIO

/// A CSV file's records split at a line break near the middle, for reading both halves at once.
///
/// `run` gives each half its own reader (on two threads) and returns both results, or `nil` when the split
/// fell inside a quoted field (the first half ends in an unterminated quote): the caller then reads the
/// whole file on one thread. Errors of the second half are placed in the whole file.
struct ParallelRanges {
  let path: String
  let header: Header
  let headerLines: Int
  let first: Range<Int>
  let second: Range<Int>

  /// `nil` for one thread or a file under 4 MiB of records.
  init?(path: String, reader: CSVReader, threads: Int) {
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    let start = reader.byteOffset
    guard threads >= 2, size - start >= 4 << 20,
      let split = ChurnScorer.lineBreak(in: path, near: start + (size - start) / 2, limit: size)
    else { return nil }
    self.path = path
    header = reader.header
    headerLines = reader.linesRead
    first = start..<split
    second = split..<size
  }

  /// Runs `body` on both halves at once.
  func run<T>(_ body: @escaping (CSVReader) throws -> T) throws -> (T, T)? {
    try run { reader, _ in try body(reader) }
  }

  /// Runs `body` on both halves at once; the flag tells `body` which half it has.
  func run<T>(_ body: @escaping (CSVReader, Bool) throws -> T) throws -> (T, T)? {
    let firstReader = try CSVReader(path: path, range: first, header: header, options: .unhashed)
    let secondReader = try CSVReader(path: path, range: second, header: header, options: .unhashed)
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    box.work = { [secondReader] in try body(secondReader, true) }
    let transfer = UnsafeSendable(box)
    Thread.detachNewThread {
      transfer.value.runWork()
      done.signal()
    }
    var firstValue: T? = nil
    var firstError: Error? = nil
    do { firstValue = try body(firstReader, false) } catch { firstError = error }
    done.wait()
    if let e = firstError as? TabularError, e.cause == .unterminatedQuote { return nil }
    if let e = firstError { throw ChurnScorer.shifted(e, by: headerLines) }
    if let e = box.error { throw ChurnScorer.shifted(e, by: headerLines + firstReader.linesRead) }
    return (firstValue!, box.value!)
  }
}

final class ResultBox<T>: @unchecked Sendable {
  var value: T?
  var error: Error?
  var work: (() throws -> T)?

  func runWork() {
    do { value = try work?() } catch { self.error = error }
  }
}

/// The statistics gathered by the first pass.
struct Collected {
  var stats: [ColumnStats]
  var targetMissingRows: [Int]
  var rows: Int
  var lines: Int
  /// Rows in the first half when two halves were merged.
  var firstRangeRows: Int? = nil
  /// The earliest and latest time of the time column, when there is one and it has a readable time.
  var timeSpan: ClosedRange<Double>? = nil
  /// Rows whose time does not read as a timestamp, and the first of them placed in the file.
  var badTimes = 0
  var firstBadTime: TabularError? = nil

  /// Moves the remembered errors down by `lines`.
  mutating func shiftLines(by lines: Int) {
    if let e = firstBadTime {
      firstBadTime = TabularError(e.kind, file: e.file, line: e.line.map { $0 + lines }, column: e.column, e.message)
    }
    for c in stats.indices {
      if let e = stats[c].firstNonNumeric {
        stats[c].firstNonNumeric = TabularError(
          e.kind, file: e.file, line: e.line.map { $0 + lines }, column: e.column, e.message)
      }
    }
  }

  /// Adds the statistics of the records after these (whose errors are already placed in the whole file).
  mutating func merge(_ other: Collected) {
    firstRangeRows = rows
    for c in stats.indices { stats[c].merge(other.stats[c], rowOffset: rows) }
    targetMissingRows += other.targetMissingRows.map { $0 + rows }
    switch (timeSpan, other.timeSpan) {
    case (let a?, let b?): timeSpan = min(a.lowerBound, b.lowerBound)...max(a.upperBound, b.upperBound)
    case (nil, let b?): timeSpan = b
    default: break
    }
    if firstBadTime == nil { firstBadTime = other.firstBadTime }
    badTimes += other.badTimes
    rows += other.rows
    lines += other.lines
  }
}

extension ColumnStats {
  mutating func merge(_ other: ColumnStats, rowOffset: Int) {
    missing += other.missing
    textual = textual || other.textual
    numericCount += other.numericCount
    numericValues += other.numericValues
    if firstNonNumeric == nil { firstNonNumeric = other.firstNonNumeric }
    nonNumeric += other.nonNumeric
    nonNumericRows += other.nonNumericRows.prefix(10_000 - min(10_000, nonNumericRows.count)).map { $0 + rowOffset }
    for text in other.nonNumericTexts where nonNumericTexts.count < 6 && !nonNumericTexts.contains(text) {
      nonNumericTexts.append(text)
    }
    if textual { numericValues = [] }
    overflow = overflow || other.overflow
    if !repeated && !other.repeated, let mine = seenHashes, let theirs = other.seenHashes, mine.isDisjoint(with: theirs)
    {
      seenHashes = mine.union(theirs)
    } else {
      repeated = true
      seenHashes = nil
    }
    for (k, level) in other.levels.enumerated() {
      if let i = levels.firstIndex(of: level) {
        counts[i] += other.counts[k]
      } else if levels.count < ColumnStats.cap {
        levels.append(level)
        counts.append(other.counts[k])
      } else {
        overflow = true
      }
    }
  }
}

/// The second pass: encoding records into design rows.
struct EncodeJob: @unchecked Sendable {
  let encoder: FeatureEncoder
  let specInput: [Int]
  let targetIndex: Int
  let positiveBytes: [UInt8]
  let skip: Set<Int>
  let width: Int

  /// Encodes `reader`'s records; source row numbers start at `firstSource`, output rows at `firstOut`.
  func encode(
    _ reader: CSVReader, firstSource: Int, firstOut: Int,
    into target: (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Bool>)
  ) throws -> Int {
    var source = firstSource
    var r = firstOut
    while try reader.next() {
      defer { source += 1 }
      if !skip.isEmpty && skip.contains(source) { continue }
      let out = target.0 + r * width
      out[0] = 1
      for (k, c) in specInput.enumerated() {
        if case .bad(let expected) = encoder.encode(column: k, field: reader.fieldBytes(c), into: out + 1) {
          throw reader.error(atField: c, "expected \(expected), found \(quotedForMessage(reader.fieldBytes(c)!))")
        }
      }
      let t = reader.fieldBytes(targetIndex)!
      let (lo, hi) = FieldParser.trimmed(t)
      target.1[r] = FeatureEncoder.equal(UnsafeBufferPointer(rebasing: t[lo..<hi]), positiveBytes)
      r += 1
    }
    return r - firstOut
  }
}
