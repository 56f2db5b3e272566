import Foundation
import Modeling
import TabularIO

/// What the first pass over a training file decided: the target's classes, each column's kind and encoding
/// (with a note on why), and the rows to leave out.
struct InferredSchema {
  var names: [String]
  var targetIndex: Int
  var positive: String
  var negative: String
  var idColumn: String?
  var specs: [ColumnSpec]
  /// Per spec: its column in the file.
  var specInput: [Int]
  var notes: [InferenceNote]
  /// Data rows left out of the fit: a blank target, or (when skipping bad rows) a word among numbers.
  var skip: Set<Int>
  var rows: Int
  var fingerprint: DataFingerprint
  /// The file's two halves, when it was read in two at once (the second pass splits it the same way).
  var ranges: ParallelRanges?
  /// Rows in the first half.
  var firstRangeRows: Int?
  /// The time column (`--time-column`) and the earliest and latest time in it.
  var timeColumn: String? = nil
  var timeSpan: ClosedRange<Double>? = nil
  /// Rows whose time could not be read (with `--skip-bad-rows`; they stay in the fit, out of the span).
  var badTimes = 0
}

extension ChurnTrainer {
  /// Pass 1: statistics of every column, then each column's kind, imputation, levels and drift references.
  static func inferSchema(path: String, options o: ChurnTrainingOptions) throws -> InferredSchema {
    let reader = try CSVReader(path: path, options: .unhashed)
    try reader.header.requireUniqueNames(file: path)
    let names = reader.header.names
    let targetIndex = try reader.header.require(o.target, role: "target", file: path)
    for name in o.exclude { _ = try reader.header.require(name, role: "excluded", file: path) }
    let givenID = try o.idColumn.map { try reader.header.require($0, role: "id", file: path) }
    let timeIndex = try o.timeColumn.map { try reader.header.require($0, role: "time", file: path) }
    // One role per column: the target cannot also be left out, or be the id.
    if o.exclude.contains(o.target) {
      throw CommerceError(
        .usage, "'\(o.target)' is the \(.target) and cannot be excluded too (\(.exclude))", parameter: .exclude)
    }
    if o.idColumn == o.target {
      throw CommerceError(
        .usage, "'\(o.target)' is the \(.target) and cannot be the \(.idColumn) too", parameter: .idColumn)
    }
    if let time = o.timeColumn {
      if time == o.target {
        throw CommerceError(
          .usage, "'\(time)' is the \(.target) and cannot be the \(.timeColumn) too", parameter: .timeColumn)
      }
      if time == o.idColumn {
        throw CommerceError(
          .usage, "'\(time)' is the \(.idColumn) and cannot be the \(.timeColumn) too", parameter: .timeColumn)
      }
      if o.exclude.contains(time) {
        throw CommerceError(
          .usage, "'\(time)' is the \(.timeColumn) and is never a feature; do not \(.exclude) it as well",
          parameter: .exclude)
      }
    }
    if let id = o.idColumn, o.exclude.contains(id) {
      throw CommerceError(
        .usage, "'\(id)' is the \(.idColumn) and is never a feature; do not \(.exclude) it as well",
        parameter: .exclude)
    }
    let ranges = ParallelRanges(path: path, reader: reader, threads: o.threads)
    var collected: Collected
    if let ranges,
      var both = try ranges.run({ r in
        try collect(r, names: names, targetIndex: targetIndex, timeIndex: timeIndex)
      })
    {
      // Place the halves' remembered errors in the whole file, then merge.
      both.0.shiftLines(by: ranges.headerLines)
      both.1.shiftLines(by: ranges.headerLines + both.0.lines)
      collected = both.0
      collected.merge(both.1)
    } else {
      collected = try collect(reader, names: names, targetIndex: targetIndex, timeIndex: timeIndex)
    }
    if let bad = collected.firstBadTime, !o.skipBadRows { throw bad }
    let stats = collected.stats
    let targetMissingRows = collected.targetMissingRows
    let row = collected.rows
    let fingerprint = try DataFingerprint(file: path)
    guard row > 0 else { throw TabularError(.empty, file: path, line: 2, "the file has a header but no rows") }
    if stats[targetIndex].missing == row {
      throw CommerceError(.data, "\(path): the target '\(o.target)' is blank in every row")
    }
    if !targetMissingRows.isEmpty && !o.skipBadRows {
      throw CommerceError(
        .data,
        "\(path): the target '\(o.target)' is blank in \(targetMissingRows.count) rows (first: data row \(targetMissingRows[0] + 1)); fill them or pass \(.skipBadRows)"
      )
    }
    // The target's classes.
    let targetLevels = stats[targetIndex].distinctTexts
    guard !targetLevels.isEmpty else {
      throw CommerceError(.data, "\(path): the target '\(o.target)' is blank in every row")
    }
    guard targetLevels.count >= 2 else {
      throw CommerceError(
        .data,
        "\(path): the target '\(o.target)' has a single value '\(targetLevels[0])'; a churn model needs two classes")
    }
    guard targetLevels.count == 2, !stats[targetIndex].overflow else {
      let shown = targetLevels.prefix(6).map { "'\($0)'" }.joined(separator: ", ")
      throw CommerceError(
        .data,
        "\(path): the target '\(o.target)' has more than two values (\(shown)\(targetLevels.count > 6 ? ", …" : "")); expected two classes such as Yes/No"
      )
    }
    let positive: String
    if let given = o.positive {
      guard targetLevels.contains(given) else {
        throw CommerceError(
          .usage,
          "\(.positive) '\(given)' is not a value of '\(o.target)' (its values: '\(targetLevels[0])', '\(targetLevels[1])')"
        )
      }
      positive = given
    } else if let inferred = positiveNames.first(where: { targetLevels.contains($0) }) {
      positive = inferred
    } else {
      throw CommerceError(
        .usage,
        "cannot tell which value of '\(o.target)' means churn ('\(targetLevels[0])' or '\(targetLevels[1])'); pass \(.positive) VALUE"
      )
    }
    let negative = targetLevels.first { $0 != positive }!

    // Inference.
    var notes: [InferenceNote] = []
    var specs: [ColumnSpec] = []
    var specInput: [Int] = []
    var idColumn = givenID.map { names[$0] }
    var badRows = Set<Int>()
    for (c, s) in stats.enumerated() {
      if c == targetIndex { continue }
      if c == givenID {
        // An id names one customer: a column that repeats values would join scores to the wrong ones.
        if !isUnique(s, rows: row) {
          let distinct = s.nonNumeric == 0 ? Set(s.numericValues).count : (s.overflow ? nil : s.levels.count)
          throw CommerceError(
            .usage,
            "\(path): column '\(s.name)' given as \(.idColumn) repeats values\(distinct.map { " (\($0) distinct in \(row) rows)" } ?? ""); an id must be unique per row",
            parameter: .idColumn)
        }
        notes.append(InferenceNote(column: s.name, decision: "id", detail: "\(.idColumn)"))
        continue
      }
      if c == timeIndex {
        let detail: CommerceError.Message =
          collected.timeSpan.map { span -> CommerceError.Message in
            "\(.timeColumn): from \(FieldParser.formatTimestamp(span.lowerBound)) to \(FieldParser.formatTimestamp(span.upperBound))"
          } ?? "\(.timeColumn): blank in every row"
        notes.append(InferenceNote(column: s.name, decision: "time", detail: detail))
        continue
      }
      if o.exclude.contains(s.name) {
        notes.append(InferenceNote(column: s.name, decision: "excluded", detail: "\(.exclude)"))
        continue
      }
      let present = row - s.missing
      if present == 0 {
        notes.append(InferenceNote(column: s.name, decision: "excluded", detail: "blank in every row"))
        continue
      }
      if s.nonNumeric > 0 && s.numericCount == 0 && s.allTimestamps {
        // Dates are when a record was taken, not what the customer is: as levels they would match no later
        // customer, and a unique one would be taken for the id.
        notes.append(
          InferenceNote(
            column: s.name, decision: "excluded",
            detail: "dates or times, never a feature (\(.timeColumn) \(s.name) records their span)"))
        continue
      }
      let looksLikeID = s.name.lowercased().hasSuffix("id") || s.name.lowercased().hasSuffix("_id")
      // Unique per row: an id when it is text, or a number in a column named like an id.
      let unique = (s.nonNumeric > 0 || looksLikeID) && isUnique(s, rows: row)
      if unique && (s.nonNumeric > 0 || looksLikeID) && row > 1 {
        if idColumn == nil { idColumn = s.name }
        notes.append(
          InferenceNote(
            column: s.name, decision: "id",
            detail: idColumn == s.name ? "unique per row; used as the id" : "unique per row"))
        continue
      }
      let texts = s.distinctTexts
      let truncated = s.nonNumeric == 0 && s.levels.count >= 16
      if !s.overflow && !truncated && texts.count == 1 {
        notes.append(InferenceNote(column: s.name, decision: "excluded", detail: "constant ('\(texts[0])')"))
        continue
      }
      var spec = ColumnSpec(name: s.name, kind: .numeric)
      spec.hasMissing = s.missing > 0
      if !s.overflow && !truncated && texts.count == 2,
        let pair = booleanPairs.first(where: { Set([$0.0, $0.1]) == Set(texts) })
      {
        spec.kind = .boolean
        spec.trueValue = pair.0
        spec.falseValue = pair.1
        let trueCount = s.counts[texts.firstIndex(of: pair.0)!]
        spec.modeIsTrue = trueCount * 2 > present
        spec.driftLevels = [pair.0, pair.1]
        spec.driftShares = [trueCount, present - trueCount, s.missing].map { Double($0) / Double(row) }
        notes.append(
          InferenceNote(
            column: s.name, decision: "boolean",
            detail: "\(pair.0)/\(pair.1)\(spec.hasMissing ? ", \(s.missing) missing → mode + indicator" : "")"))
      } else if s.nonNumeric == 0 {
        spec.setNumeric(values: s.numericValues, missing: s.missing, rows: row)
        notes.append(
          InferenceNote(
            column: s.name, decision: "numeric",
            detail: spec.hasMissing ? "\(s.missing) missing → median \(format(spec.median)) + indicator" : ""))
      } else if !s.textual && s.numericCount > 0 && s.nonNumeric * 20 < present && s.nonNumericTexts.count <= 5 {
        // Mostly numbers with a few words: bad values, not categories.
        if !o.skipBadRows { throw s.firstNonNumeric! }
        badRows.formUnion(s.nonNumericRows)
        spec.setNumeric(values: s.numericValues, missing: s.missing, rows: row)
        notes.append(
          InferenceNote(column: s.name, decision: "numeric", detail: "\(s.nonNumeric) rows with non-numbers skipped"))
      } else if s.overflow {
        notes.append(
          InferenceNote(
            column: s.name, decision: "excluded", detail: "text with more than \(ColumnStats.cap) distinct values"))
        continue
      } else {
        spec.kind = .categorical
        let order = texts.indices.sorted {
          s.counts[$0] > s.counts[$1] || (s.counts[$0] == s.counts[$1] && texts[$0] < texts[$1])
        }
        spec.reference = texts[order[0]]
        for k in order.dropFirst() {
          if s.counts[k] < o.minimumLevelCount { spec.pooled.append(texts[k]) } else { spec.levels.append(texts[k]) }
        }
        if spec.pooled.count == 1 {
          // One rare level alone is its own level: pooling it would only rename it.
          spec.levels.append(spec.pooled.removeFirst())
        }
        spec.driftLevels = [spec.reference] + spec.levels
        var shares = spec.driftLevels.map { l in Double(s.counts[texts.firstIndex(of: l)!]) }
        shares.append(spec.pooled.reduce(0.0) { $0 + Double(s.counts[texts.firstIndex(of: $1)!]) })
        shares.append(Double(s.missing))
        spec.driftShares = shares.map { $0 / Double(row) }
        var detail = "\(texts.count) levels, reference '\(spec.reference)'"
        if !spec.pooled.isEmpty { detail += ", \(spec.pooled.count) rare pooled as other" }
        if spec.hasMissing { detail += ", \(s.missing) missing → mode + indicator" }
        notes.append(InferenceNote(column: s.name, decision: "categorical", detail: "\(detail)"))
      }
      specs.append(spec)
      specInput.append(c)
    }
    guard !specs.isEmpty else {
      throw CommerceError(.data, "\(path): no usable feature columns (see the schema notes)")
    }
    return InferredSchema(
      names: names, targetIndex: targetIndex, positive: positive, negative: negative, idColumn: idColumn,
      specs: specs, specInput: specInput, notes: notes, skip: Set(targetMissingRows).union(badRows), rows: row,
      fingerprint: fingerprint, ranges: ranges, firstRangeRows: collected.firstRangeRows,
      timeColumn: timeIndex.map { names[$0] }, timeSpan: collected.timeSpan, badTimes: collected.badTimes)
  }

  /// The largest magnitude of a number a model fits (its square and sums of squares stay finite).
  static let largestValue = 1e100

  /// Column statistics of the records of one reader (a whole file, or one byte range of it).
  static func collect(_ reader: CSVReader, names: [String], targetIndex: Int, timeIndex: Int? = nil) throws
    -> Collected
  {
    var stats = names.map { ColumnStats(name: $0) }
    var targetMissingRows: [Int] = []
    var categorical = [Bool](repeating: false, count: names.count)
    var row = 0
    var earliest = Double.infinity
    var latest = -Double.infinity
    var badTimes = 0
    var firstBadTime: TabularError? = nil
    var cache = FieldParser.TimestampCache()
    while try reader.next() {
      for c in 0..<names.count {
        guard let field = reader.fieldBytes(c) else { continue }
        if c == timeIndex {
          // The time column is only kept as the training data's span, never a feature.
          var expected: String
          switch FieldParser.parseTimestamp(field, cache: &cache) {
          case .value(let t) where t.isFinite:
            earliest = min(earliest, t)
            latest = max(latest, t)
            continue
          case .missing:
            stats[c].missing += 1
            continue
          case .invalid(let e): expected = e
          case .value: expected = "a finite time"
          }
          badTimes += 1
          if firstBadTime == nil {
            let (lo, hi) = FieldParser.trimmed(field)
            firstBadTime = reader.error(
              atField: c,
              "expected \(expected), found \(quotedForMessage(UnsafeBufferPointer(rebasing: field[lo..<hi])))")
          }
          continue
        }
        let (lo, hi) = FieldParser.trimmed(field)
        if lo == hi {
          stats[c].missing += 1
          if c == targetIndex { targetMissingRows.append(row) }
          continue
        }
        let t = UnsafeBufferPointer(rebasing: field[lo..<hi])
        var numeric = false
        if c != targetIndex && !categorical[c] {
          switch FieldParser.parseDouble(t) {
          case .value(let v):
            // Sums of squares (variances, the fit's normal equations) overflow past about 1e154: a value this
            // large cannot be fitted and is placed, not turned into a column silently dropped as aliased.
            guard abs(v) <= ChurnTrainer.largestValue else {
              throw reader.error(
                atField: c,
                "\(quotedForMessage(t)) is beyond what the model can fit; expected a number of magnitude at most 1e100 (rescale the column)"
              )
            }
            stats[c].numericCount += 1
            stats[c].numericValues.append(v)
            numeric = true
          default:
            stats[c].nonNumeric += 1
            if stats[c].nonNumeric == 1 {
              stats[c].firstNonNumeric = reader.error(atField: c, "expected a number, found \(quotedForMessage(t))")
            }
            if stats[c].nonNumericRows.count < 10_000 { stats[c].nonNumericRows.append(row) }
            if stats[c].nonNumericTexts.count < 6,
              !stats[c].nonNumericTexts.contains(where: { FeatureEncoder.equal(t, $0) })
            {
              stats[c].nonNumericTexts.append(Array(t))
            }
            // Words in a twentieth of the rows or more (after enough rows): a text column; stop trying numbers.
            if row >= 200 && stats[c].nonNumeric * 20 > row + 1 {
              categorical[c] = true
              stats[c].textual = true
              stats[c].numericValues = []
              stats[c].nonNumericRows = []
            }
          }
        }
        // Numbers only need their first few distinct texts (to spot 0/1 and constant columns).
        if !(numeric && stats[c].nonNumeric == 0 && stats[c].levels.count >= 16) { stats[c].add(t) }
      }
      row += 1
    }
    var collected = Collected(stats: stats, targetMissingRows: targetMissingRows, rows: row, lines: reader.linesRead)
    if earliest <= latest { collected.timeSpan = earliest...latest }
    collected.badTimes = badTimes
    collected.firstBadTime = firstBadTime
    return collected
  }

  /// Whether the column of `s` holds a different value in each of the `rows` rows (numbers compared as numbers;
  /// beyond the levels kept, texts by the hashes of every value — exactly: never a repeat).
  static func isUnique(_ s: ColumnStats, rows: Int) -> Bool {
    let present = rows - s.missing
    if s.nonNumeric == 0 {
      guard s.numericValues.count == rows else { return false }
      let v = RadixSort.sorted(s.numericValues)
      for k in 1..<max(v.count, 1) where v[k] == v[k - 1] { return false }
      return true
    }
    return s.overflow ? present == rows && !s.repeated : s.levels.count == rows
  }
}
