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
    let reader = try CSVReader(path: path, options: .unhashed)
    var positions: [Int?] = model.columns.map { reader.header.index(of: $0.name) }
    var counts = model.columns.map { [Double](repeating: 0, count: $0.driftShares.count) }
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
              if case .value(let v) = FieldParser.parseDouble(t) { bin = driftBin(v, spec.driftEdges) }
            case .boolean, .categorical:
              let text = String(decoding: t, as: UTF8.self)
              bin = spec.driftLevels.firstIndex(of: text) ?? (counts[k].count - 2)
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
    let scorePSI = psi(expected: model.scoreShares, actual: scoreCounts.map { $0 / max(scored, 1) })
    result.append(
      DriftRow(
        name: "churn_probability", psi: scorePSI, count: Int(scored), flag: flag(scorePSI, count: Int(scored))))
    for (k, spec) in model.columns.enumerated() where positions[k] != nil {
      let value = psi(expected: spec.driftShares, actual: counts[k].map { $0 / max(rows, 1) })
      result.append(DriftRow(name: spec.name, psi: value, count: Int(rows), flag: flag(value, count: Int(rows))))
    }
    positions.removeAll()
    return result
  }
}
