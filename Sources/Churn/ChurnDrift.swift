import Foundation
import Modeling
import TabularIO

/// Population stability of one quantity: its share per bin now against training.
public struct DriftRow: Sendable, Codable {
  public var name: String
  public var psi: Double
  /// How many values the shares were computed from.
  public var count: Int
  /// `stable` below 0.1, `moderate` below 0.25, `major` from 0.25; `too few` below
  /// `PopulationStability.minimumSample` values, whatever the PSI.
  public var flag: String
  /// The two-sample test Evidently would run on this column (`DriftStatistics`), when the model holds its reference
  /// (models trained before the tests: numbers have none) and both samples have values; nil for the score.
  public var test: DriftStatistics.Result? = nil
  /// The bins PSI compares, with the share of training rows and of the file's rows in each (what a chart draws).
  public var bins: [String] = []
  public var referenceShares: [Double] = []
  public var currentShares: [Double] = []
}

/// `churn drift`'s answer: a row for the score and one per input column, and how many columns the tests call drifted.
public struct DriftReport: Sendable, Codable {
  public var rows: [DriftRow]
  /// Columns tested, and of them drifted (Evidently's dataset drift compares this share with one half).
  public var testedColumns: Int
  public var driftedColumns: Int
  public var driftedShare: Double { testedColumns > 0 ? Double(driftedColumns) / Double(testedColumns) : 0 }
}

/// `churn drift`: population stability index of the score and every input column.
public enum ChurnDrift {
  /// `Σ (a − e)·ln(a / e)` over bins, shares floored at 1e-4.
  public static func psi(expected: [Double], actual: [Double]) -> Double {
    PopulationStability.index(expected: expected, actual: actual)
  }

  static func flag(_ psi: Double, count: Int) -> String {
    let verdict = PopulationStability.verdict(psi, sample: count)
    return verdict == .tooFew ? "too few (\(count) < \(PopulationStability.minimumSample))" : verdict.rawValue
  }

  /// Reads `path` once and compares its distributions with the model's training distributions.
  public static func run(model: ChurnModel, path: String, skipBadRows: Bool) throws -> [DriftRow] {
    try report(model: model, path: path, skipBadRows: skipBadRows).rows
  }

  /// PSI of the score and every column, and each column's two-sample test against the training reference.
  public static func report(model: ChurnModel, path: String, skipBadRows: Bool) throws -> DriftReport {
    let reader = try CSVReader(path: path, options: .unhashed)
    var positions: [Int?] = model.columns.map { reader.header.index(of: $0.name) }
    // Bins as `binNames` lists them: a category or boolean column has one more than its training shares, for the
    // values training never saw.
    var counts = model.columns.map { [Double](repeating: 0, count: binNames($0).count) }
    // Each known spelling of a category or boolean column and its bin (pooled levels in other).
    let binOf: [[String: Int]] = model.columns.map { spec in
      guard spec.kind != .numeric else { return [:] }
      var bins = [String: Int]()
      for (k, level) in spec.driftLevels.enumerated() { bins[level] = k }
      for level in spec.pooled { bins[level] = spec.driftLevels.count }
      return bins
    }
    // The numbers themselves, for the tests of numeric columns.
    var values = model.columns.map { _ in [Double]() }
    let testsNumbers = model.columns.map { $0.kind == .numeric && $0.driftSample != nil }
    var scoreCounts = [Double](repeating: 0, count: 10)
    var rows = 0.0
    // Column distributions from the raw fields; the score through the scorer (one pass each, same file).
    while try reader.next() {
      rows += 1
      for (k, spec) in model.columns.enumerated() {
        guard let c = positions[k] else { continue }
        let field = reader.fieldBytes(c)
        var bin = counts[k].count - 1
        if let field {
          let (lo, hi) = FieldParser.trimmed(field)
          if lo < hi {
            let t = UnsafeBufferPointer(rebasing: field[lo..<hi])
            switch spec.kind {
            case .numeric:
              if case .value(let v) = FieldParser.parseDouble(t) {
                bin = driftBin(v, spec.driftEdges)
                if testsNumbers[k] { values[k].append(v) }
              }
            case .boolean, .categorical:
              let text = String(decoding: t, as: UTF8.self)
              bin = binOf[k][text] ?? (counts[k].count - 2)
            }
          }
        }
        counts[k][bin] += 1
      }
    }
    _ = try ChurnScorer.score(
      model: model, input: try CSVReader(path: path, options: .unhashed), writer: nil, reasons: 0,
      skipBadRows: skipBadRows
    ) {
      p, _ in scoreCounts[min(9, Int(p * 10))] += 1
    }
    guard rows > 0 else {
      throw CommerceError(.data, "\(path): the file has a header but no rows; drift needs customers to compare")
    }
    let scored = scoreCounts.reduce(0, +)
    var result = [DriftRow]()
    let scoreActual = scoreCounts.map { $0 / max(scored, 1) }
    let scorePSI = psi(expected: model.scoreShares, actual: scoreActual)
    result.append(
      DriftRow(
        name: "churn_probability", psi: scorePSI, count: Int(scored), flag: flag(scorePSI, count: Int(scored)),
        bins: (0..<10).map { String(format: "%.1f-%.1f", Double($0) / 10, Double($0 + 1) / 10) },
        referenceShares: model.scoreShares, currentShares: scoreActual))
    var tested = 0
    var drifted = 0
    for (k, spec) in model.columns.enumerated() where positions[k] != nil {
      let actual = counts[k].map { $0 / max(rows, 1) }
      let expected = referenceShares(spec)
      let value = psi(expected: expected, actual: actual)
      var row = DriftRow(
        name: spec.name, psi: value, count: Int(rows), flag: flag(value, count: Int(rows)), bins: binNames(spec),
        referenceShares: expected, currentShares: actual)
      row.test = test(spec, trainingRows: model.trainingRows, current: &values[k], counts: counts[k])
      if let t = row.test {
        tested += 1
        if t.drifted { drifted += 1 }
      }
      result.append(row)
    }
    positions.removeAll()
    return DriftReport(rows: result, testedColumns: tested, driftedColumns: drifted)
  }

  /// The names of a column's drift bins: numbers by their training deciles, then missing; booleans by value, then
  /// values training never saw, then missing; categories by level, then other (the rare levels training pooled),
  /// then values training never saw, then missing.
  static func binNames(_ spec: ColumnSpec) -> [String] {
    switch spec.kind {
    case .numeric:
      let e = spec.driftEdges.map { String(format: "%.4g", $0) }
      guard !e.isEmpty else { return ["missing"] }
      return ["≤ \(e[0])"] + (1..<e.count).map { "\(e[$0 - 1])–\(e[$0])" } + ["> \(e[e.count - 1])", "missing"]
    case .boolean: return spec.driftLevels + [newValues, "missing"]
    case .categorical: return spec.driftLevels + ["other", newValues, "missing"]
    }
  }

  /// The bin of the values of a category or boolean column that training never saw.
  public static let newValues = "not in training"

  /// Training's share in each of `binNames(spec)`: the stored shares, with none for values training never saw.
  static func referenceShares(_ spec: ColumnSpec) -> [Double] {
    guard spec.kind != .numeric, !spec.driftShares.isEmpty else { return spec.driftShares }
    var shares = spec.driftShares
    shares.insert(0, at: shares.count - 1)
    return shares
  }

  /// A column's two-sample test: numbers against the stored reference sample, categories (and booleans) on their
  /// level counts without the missing bin.
  static func test(_ spec: ColumnSpec, trainingRows: Int, current: inout [Double], counts: [Double])
    -> DriftStatistics.Result?
  {
    switch spec.kind {
    case .numeric:
      guard let sample = spec.driftSample, let n = spec.driftCount, let sd = spec.driftDeviation else { return nil }
      current = RadixSort.sorted(current)
      return DriftStatistics.numeric(reference: sample, referenceRows: n, referenceDeviation: sd, current: current)
    case .boolean, .categorical:
      // Every bin but missing; values training never saw have no reference count, as in Evidently's union of both
      // samples' values (which makes chi-squared infinite, p = 0, and enters Jensen–Shannon as a zero share).
      let bins = counts.count - 1
      let reference = referenceShares(spec).prefix(bins).map { ($0 * Double(trainingRows)).rounded() }
      return DriftStatistics.categorical(reference: Array(reference), current: Array(counts.prefix(bins)))
    }
  }
}
