import Foundation
import LinearAlgebra
import Modeling
import TabularIO

/// The costs of the two kinds of error, for choosing the threshold of least expected cost.
public struct MisclassificationCosts: Sendable, Codable, Equatable {
  /// The cost of a false alarm.
  public var falsePositive: Double
  /// The cost of a missed churner.
  public var falseNegative: Double

  public init(falsePositive: Double, falseNegative: Double) {
    self.falsePositive = falsePositive
    self.falseNegative = falseNegative
  }
}

/// What `churn train` is asked to do.
public struct ChurnTrainingOptions: Sendable {
  public var target: String
  public var positive: String?
  public var idColumn: String?
  public var exclude: [String] = []
  public var regression = LogisticRegression.Configuration()
  /// Cross-validation folds; 0 or 1 for none.
  public var folds = 5
  public var costs: MisclassificationCosts?
  public var seed: UInt64 = 42
  /// Levels seen fewer times are pooled as `other`.
  public var minimumLevelCount = 10
  public var skipBadRows = false
  /// Threads for reading the file (default: every processor).
  public var threads = ProcessInfo.processInfo.activeProcessorCount
  /// Where to write the final design matrix (original units, after aliasing) with the 0/1 target, for
  /// checking the fit with other tools; `nil` for nowhere.
  public var designMatrixPath: String?

  /// Options for predicting `target`.
  public init(target: String) { self.target = target }
}

/// Trains churn models: schema inference, encoding, aliasing and separation checks, the fit, cross-validation.
public enum ChurnTrainer {
  /// Reads `path` twice (inference, then encoding) and fits the model.
  public static func train(path: String, options o: ChurnTrainingOptions) throws -> ChurnTrainingReport {
    // Pass 1: statistics of every column.
    let reader = try CSVReader(path: path)
    try reader.header.requireUniqueNames(file: path)
    let names = reader.header.names
    let targetIndex = try reader.header.require(o.target, role: "target", file: path)
    for name in o.exclude { _ = try reader.header.require(name, role: "excluded", file: path) }
    let givenID = try o.idColumn.map { try reader.header.require($0, role: "id", file: path) }
    let ranges = ParallelRanges(path: path, reader: reader, threads: o.threads)
    var collected: Collected
    if let ranges, var both = try ranges.run({ r in try collect(r, names: names, targetIndex: targetIndex) }) {
      // Place the halves' remembered errors in the whole file, then merge.
      both.0.shiftLines(by: ranges.headerLines)
      both.1.shiftLines(by: ranges.headerLines + both.0.lines)
      collected = both.0
      collected.merge(both.1)
    } else {
      collected = try collect(reader, names: names, targetIndex: targetIndex)
    }
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
        notes.append(InferenceNote(column: s.name, decision: "id", detail: "\(.idColumn)"))
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
      let looksLikeID = s.name.lowercased().hasSuffix("id") || s.name.lowercased().hasSuffix("_id")
      // Unique per row: an id when it is text, or a number in a column named like an id.
      let unique: Bool = {
        if s.nonNumeric == 0 {
          guard looksLikeID, s.numericValues.count == row else { return false }
          var v = s.numericValues
          v.sort()
          for k in 1..<max(v.count, 1) where v[k] == v[k - 1] { return false }
          return true
        }
        return s.overflow ? present == row && s.levels.count == ColumnStats.cap : s.levels.count == row
      }()
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

    // Features.
    var features: [Feature] = []
    for (k, spec) in specs.enumerated() {
      switch spec.kind {
      case .numeric: features.append(Feature(name: spec.name, column: k, role: .value, mean: 0, sd: 1))
      case .boolean: features.append(Feature(name: spec.name, column: k, role: .isTrue, mean: 0, sd: 1))
      case .categorical:
        for (l, level) in spec.levels.enumerated() {
          features.append(Feature(name: "\(spec.name)=\(level)", column: k, role: .level(l), mean: 0, sd: 1))
        }
        if !spec.pooled.isEmpty {
          features.append(Feature(name: "\(spec.name)=other", column: k, role: .other, mean: 0, sd: 1))
        }
      }
      if spec.hasMissing {
        features.append(Feature(name: "\(spec.name) (missing)", column: k, role: .missing, mean: 0, sd: 1))
      }
    }

    // Pass 2: encode.
    let encoder = FeatureEncoder(columns: specs, features: features)
    let skip = Set(targetMissingRows).union(badRows)
    let n = row - skip.count
    guard n > 0 else { throw CommerceError(.data, "\(path): every row was skipped") }
    let width = features.count + 1
    var design = [Double](repeating: 0, count: n * width)
    var labels = [Bool](repeating: false, count: n)
    let positiveBytes = Array(positive.utf8)
    let job = EncodeJob(
      encoder: encoder, specInput: specInput, targetIndex: targetIndex, positiveBytes: positiveBytes, skip: skip,
      width: width)
    try design.withUnsafeMutableBufferPointer { d in
      try labels.withUnsafeMutableBufferPointer { l in
        let target = UnsafeSendable((d.baseAddress!, l.baseAddress!))
        let split = ranges.map { r -> (Int, Int) in
          let firstRows = collected.firstRangeRows ?? 0
          return (firstRows, firstRows - skip.lazy.filter { $0 < firstRows }.count)
        }
        if let ranges, let split, collected.firstRangeRows != nil,
          try ranges.run({ r, second in
            let (rowOffset, outOffset) = second ? split : (0, 0)
            return try job.encode(r, firstSource: rowOffset, firstOut: outOffset, into: target.value)
          }) != nil
        {
          return
        }
        _ = try job.encode(try CSVReader(path: path), firstSource: 0, firstOut: 0, into: target.value)
      }
    }

    // Standardize every feature column (row-major passes: sums, then squared deviations, then scaling).
    design.withUnsafeMutableBufferPointer { d in
      let scaling = Standardization(
        rows: UnsafeBufferPointer(d), rowCount: n, stride: width, columns: 1..<width, constantColumns: .unitScale)
      for j in 1..<width {
        features[j - 1].mean = scaling.means[j - 1]
        features[j - 1].sd = scaling.scales[j - 1]
      }
      scaling.apply(to: d, rowCount: n, stride: width, columns: 1..<width)
    }
    var x = DesignMatrix(rows: n, columns: width, values: design)
    design = []

    // Aliased columns.
    let aliased = LogisticRegression.aliasedColumns(x)
    let aliasedNames = aliased.map { features[$0 - 1].name }
    if !aliased.isEmpty {
      let keep = (0..<width).filter { !aliased.contains($0) }
      x.keepColumnsInPlace(keep)
      features = keep.dropFirst().map { features[$0 - 1] }
    }

    if let designPath = o.designMatrixPath {
      let w = try CSVWriter(path: designPath, bufferBytes: 1 << 20)
      w.writeRow(features.map(\.name) + [o.target])
      for i in 0..<n {
        for j in 1..<x.columns {
          w.writeField(x.values[i * x.columns + j] * features[j - 1].sd + features[j - 1].mean, decimals: 12)
        }
        w.writeField(labels[i] ? 1 : 0)
        w.endRow()
      }
      try w.finish()
    }

    // Separation (unpenalized fits only): complete separation has no fit at all; quasi-complete separation
    // leaves some coefficients without a finite estimate, which is reported (as R's glm warns) and fitted on.
    let penalized = o.regression.l1 > 0 || o.regression.l2 > 0
    var warnings: [CommerceError.Message] = []
    if !penalized {
      switch separation(x, labels, features) {
      case .complete(let name):
        throw CommerceError(
          .data,
          "\(path): the classes are completely separated by '\(name)': the likelihood has no maximum and the coefficients grow without bound; add \(.l2) (e.g. \(.l2) 1) or \(.exclude) that column"
        )
      case .quasiComplete(let name):
        warnings.append(
          "quasi-complete separation: every customer with '\(name)' is in one class, so its coefficient has no finite estimate and its standard error is meaningless; add \(.l2) (e.g. \(.l2) 1) for a finite estimate"
        )
      case .none:
        break
      }
    }
    let fitted = try LogisticRegression.fit(x, labels: labels, configuration: o.regression)
    let inSample = fitted.probabilities(x)
    if !penalized {
      let extreme = inSample.lazy.filter { $0 < 1e-10 || $0 > 1 - 1e-10 }.count
      if extreme > 0 && warnings.isEmpty {
        let worst = (1..<fitted.coefficients.count).max { abs(fitted.coefficients[$0]) < abs(fitted.coefficients[$1]) }!
        warnings.append(
          "fitted probabilities of 0 or 1 occurred for \(extreme) customers, a sign of (quasi-)complete separation (largest coefficient: '\(features[worst - 1].name)'); add \(.l2) (e.g. \(.l2) 1)"
        )
      }
      if !fitted.converged {
        warnings.append(
          "the fit did not converge in \(o.regression.maxIterations) iterations; add \(.l2) (e.g. \(.l2) 1)")
      }
    }

    // Cross-validation and the threshold.
    var validation: ValidationReport? = nil
    var threshold: Double
    var rule = o.costs == nil ? "maximum F1" : "minimum expected cost"
    if o.folds >= 2 {
      let folds = try Splits.stratifiedKFold(labels: labels, folds: o.folds, seed: o.seed)
      var oof = [Double](repeating: 0, count: n)
      for test in folds {
        let testSet = Set(test)
        let trainRows = (0..<n).filter { !testSet.contains($0) }
        // A rare indicator can be constant within a fold: fit each fold on its own non-aliased columns.
        var foldX = x.subset(trainRows)
        let foldAliased = Set(LogisticRegression.aliasedColumns(foldX))
        let keep = (0..<x.columns).filter { !foldAliased.contains($0) }
        if !foldAliased.isEmpty { foldX = foldX.selectingColumns(keep) }
        let foldFit = try LogisticRegression.fit(
          foldX, labels: trainRows.map { labels[$0] }, configuration: o.regression)
        let p = foldFit.probabilities(x.subset(test).selectingColumns(keep))
        for (k, i) in test.enumerated() { oof[i] = p[k] }
      }
      threshold = Evaluation.chooseThreshold(labels: labels, probabilities: oof, costs: o.costs)
      rule += " on out-of-fold scores"
      validation = try Evaluation.report(labels: labels, probabilities: oof, threshold: threshold, folds: o.folds)
    } else {
      threshold = Evaluation.chooseThreshold(labels: labels, probabilities: inSample, costs: o.costs)
      rule += " on training scores"
    }

    // Summary on both scales.
    let p = fitted.coefficients.count
    var transform = [Double](repeating: 0, count: p * p)
    transform[0] = 1
    for j in 1..<p {
      transform[0 * p + j] = -features[j - 1].mean / features[j - 1].sd
      transform[j * p + j] = 1 / features[j - 1].sd
    }
    let t = try Matrix<Double>(rows: p, columns: p, elements: transform)
    let cov = try Matrix<Double>(rows: p, columns: p, elements: fitted.covariance)
    let covOriginal = try Matrix.product(try Matrix.product(t, cov), t, transposeB: true)
    let original = try t.multiplied(by: Vector(fitted.coefficients))
    var rows: [CoefficientRow] = []
    for j in 0..<p {
      let est = original[j]
      let se = covOriginal[j, j].squareRoot()
      let z = est / se
      rows.append(
        CoefficientRow(
          name: j == 0 ? "intercept" : features[j - 1].name, estimate: est, standardError: se, z: z,
          pValue: Distributions.twoSidedNormalPValue(z), lower: est - Distributions.z975 * se,
          upper: est + Distributions.z975 * se, oddsRatio: exp(est), standardizedEstimate: fitted.coefficients[j],
          standardizedError: fitted.standardErrors[j]))
    }
    let llr = 2 * (fitted.logLikelihood - fitted.nullLogLikelihood)
    let summary = FitSummary(
      observations: n, converged: fitted.converged, iterations: fitted.iterations,
      logLikelihood: fitted.logLikelihood, nullLogLikelihood: fitted.nullLogLikelihood,
      pseudoR2: 1 - fitted.logLikelihood / fitted.nullLogLikelihood,
      llrPValue: Distributions.chiSquaredSurvival(llr, degreesOfFreedom: Double(p - 1)),
      aic: 2 * Double(p) - 2 * fitted.logLikelihood, penalized: penalized, coefficients: rows)

    // Reference distributions of the training scores.
    let sorted = inSample.sorted()
    let scoreDeciles = (1..<10).map { sorted[min(sorted.count - 1, $0 * sorted.count / 10)] }
    var shares = [Double](repeating: 0, count: 10)
    for s in inSample { shares[min(9, Int(s * 10))] += 1 }
    var metrics: [String: Double] = [:]
    if let v = validation {
      metrics = [
        "cv_roc_auc": v.rocAUC, "cv_pr_auc": v.prAUC, "cv_log_loss": v.logLoss, "cv_brier": v.brier,
        "cv_f1": v.confusion.f1, "cv_precision": v.confusion.precision, "cv_recall": v.confusion.recall,
        "cv_accuracy": v.confusion.accuracy,
      ]
    }
    metrics["threshold"] = threshold
    metrics["log_likelihood"] = fitted.logLikelihood
    metrics["pseudo_r2"] = summary.pseudoR2
    let model = ChurnModel(
      target: o.target, positive: positive, negative: negative, idColumn: idColumn, columns: specs,
      features: features, coefficients: fitted.coefficients, threshold: threshold, thresholdRule: rule,
      scoreDeciles: scoreDeciles, scoreShares: shares.map { $0 / Double(n) }, metrics: metrics, trainingRows: n)
    return ChurnTrainingReport(
      model: model, notes: notes, aliased: aliasedNames, warnings: warnings, summary: summary, validation: validation,
      skippedRows: skip.count, fingerprint: fingerprint)
  }

  /// Column statistics of the records of one reader (a whole file, or one byte range of it).
  static func collect(_ reader: CSVReader, names: [String], targetIndex: Int) throws -> Collected {
    var stats = names.map { ColumnStats(name: $0) }
    var targetMissingRows: [Int] = []
    var categorical = [Bool](repeating: false, count: names.count)
    var row = 0
    while try reader.next() {
      for c in 0..<names.count {
        guard let field = reader.fieldBytes(c) else { continue }
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
    return Collected(stats: stats, targetMissingRows: targetMissingRows, rows: row, lines: reader.linesRead)
  }

  enum Separation {
    case none
    /// The feature's values alone split the two classes.
    case complete(String)
    /// One value of an indicator occurs in a single class only.
    case quasiComplete(String)
  }

  /// A feature that alone separates the classes: a number whose ranges for the two classes do not overlap
  /// (complete), or an indicator one of whose values occurs in only one class (quasi-complete).
  static func separation(_ x: DesignMatrix, _ y: [Bool], _ features: [Feature]) -> Separation {
    let p = x.columns
    // One row-major pass: per column, the value range of each class and the first two distinct values
    // with their class counts.
    var minPos = [Double](repeating: .infinity, count: p)
    var maxPos = [Double](repeating: -.infinity, count: p)
    var minNeg = [Double](repeating: .infinity, count: p)
    var maxNeg = [Double](repeating: -.infinity, count: p)
    var first = [Double](repeating: .nan, count: p)
    var second = [Double](repeating: .nan, count: p)
    var moreThanTwo = [Bool](repeating: false, count: p)
    var counts = [Int](repeating: 0, count: 4 * p)  // (first,pos) (first,neg) (second,pos) (second,neg)
    x.values.withUnsafeBufferPointer { v in
      for i in 0..<x.rows {
        let row = v.baseAddress! + i * p
        let positive = y[i]
        for j in 1..<p {
          let value = row[j]
          if positive {
            if value < minPos[j] { minPos[j] = value }
            if value > maxPos[j] { maxPos[j] = value }
          } else {
            if value < minNeg[j] { minNeg[j] = value }
            if value > maxNeg[j] { maxNeg[j] = value }
          }
          if moreThanTwo[j] { continue }
          if value == first[j] {
            counts[4 * j + (positive ? 0 : 1)] += 1
          } else if value == second[j] {
            counts[4 * j + (positive ? 2 : 3)] += 1
          } else if first[j].isNaN {
            first[j] = value
            counts[4 * j + (positive ? 0 : 1)] += 1
          } else if second[j].isNaN {
            second[j] = value
            counts[4 * j + (positive ? 2 : 3)] += 1
          } else {
            moreThanTwo[j] = true
          }
        }
      }
    }
    var quasi: String? = nil
    for j in 1..<p {
      if maxNeg[j] < minPos[j] || maxPos[j] < minNeg[j] { return .complete(features[j - 1].name) }
      if quasi == nil && !moreThanTwo[j] && !second[j].isNaN {
        // An indicator: quasi-complete when one of its values occurs in a single class.
        let c = counts[(4 * j)..<(4 * j + 4)].map { $0 }
        if c[0] == 0 || c[1] == 0 || c[2] == 0 || c[3] == 0 { quasi = features[j - 1].name }
      }
    }
    return quasi.map { .quasiComplete($0) } ?? .none
  }
}

extension ColumnSpec {
  /// Makes the column numeric: the median of `values` for imputation, and deciles and shares (ten bins,
  /// then missing) for drift.
  mutating func setNumeric(values: [Double], missing: Int, rows: Int) {
    kind = .numeric
    let v = values.sorted()
    median = v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
    driftEdges = (1..<10).map { v[min(v.count - 1, $0 * v.count / 10)] }
    var shares = [Double](repeating: 0, count: 11)
    for x in v { shares[driftBin(x, driftEdges)] += 1 }
    shares[10] = Double(missing)
    driftShares = shares.map { $0 / Double(rows) }
  }
}

/// The drift bin of a number: 0…9 by the training deciles.
func driftBin(_ x: Double, _ edges: [Double]) -> Int {
  var bin = 0
  for e in edges where x > e { bin += 1 }
  return bin
}

func format(_ x: Double) -> String { String(format: "%.6g", x) }
