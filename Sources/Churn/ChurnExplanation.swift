import Foundation
import Modeling
import TabularIO

/// One customer's score taken apart: the average customer's log-odds, then every input column's (and every
/// interaction's) contribution, summing to the customer's log-odds — the waterfall from baseline to probability.
public struct ChurnExplanation: Sendable, Codable, Equatable {
  public struct Contribution: Sendable, Codable, Equatable {
    public var term: String
    /// The customer's value (values joined by × for an interaction).
    public var value: String
    /// On the log-odds scale.
    public var contribution: Double
  }

  public var id: String?
  public var baseline: Double
  /// Every term's contribution, largest magnitude first.
  public var contributions: [Contribution]
  public var logOdds: Double
  public var probability: Double
}

/// Global importance of the input columns, and example customers, over the rows of a file.
public struct ChurnImportance: Sendable, Codable {
  public struct Row: Sendable, Codable, Equatable {
    public var term: String
    /// The mean absolute contribution to the log-odds.
    public var meanAbsolute: Double
  }

  /// Rows read (at most `limit`), largest mean first.
  public var customers: Int
  public var rows: [Row]
  /// The highest-risk customer, one at the decision threshold and the lowest-risk one of those read.
  public var examples: [ChurnExplanation]
}

extension PreparedChurnModel {
  /// Explains one customer given as one value per model column (`columnNames` order; blank is missing).
  public func explain(values: [String], id: String? = nil) -> Result<ChurnExplanation, ChurnRecordError> {
    let scorer: ChurnRecordScorer
    switch encoded(values: values) {
    case .success(let s): scorer = s
    case .failure(let error): return .failure(error)
    }
    let eta = scorer.logOdds()
    scorer.contributions()
    var parts: [ChurnExplanation.Contribution] = (0..<scorer.reasonCount).map { k in
      let (term, value) = slot(k, values)
      return .init(term: term, value: value, contribution: scorer.perColumn[k])
    }
    parts.sort { abs($0.contribution) > abs($1.contribution) }
    return .success(
      ChurnExplanation(
        id: id, baseline: scorer.baseline, contributions: parts, logOdds: eta,
        probability: LogisticRegression.sigmoid(eta)))
  }

  /// Mean absolute contributions over the first `limit` rows of a customer CSV, and three example customers.
  /// Rows with a bad value are skipped.
  public func importance(path: String, limit: Int = 10000) throws -> ChurnImportance {
    let reader = try CSVReader(path: path, options: .unhashed)
    let names = tables.columnNames
    let positions = names.map { reader.header.index(of: $0) }
    if let k = positions.firstIndex(where: { $0 == nil }) {
      throw TabularError(.schema, file: path, line: 1, "no column '\(names[k])' in the header; the model needs it")
    }
    let idPosition = model.idColumn.flatMap { reader.header.index(of: $0) }
    var sums: [Double] = []
    var termNames: [String] = []
    var read = 0
    var best: ChurnExplanation? = nil
    var worst: ChurnExplanation? = nil
    var nearest: ChurnExplanation? = nil
    while read < limit, try reader.next() {
      let values = positions.map { p in reader.fieldBytes(p!).map { String(decoding: $0, as: UTF8.self) } ?? "" }
      let id = idPosition.flatMap { reader.fieldBytes($0).map { String(decoding: $0, as: UTF8.self) } }
      guard case .success(let e) = explain(values: values, id: id) else { continue }
      read += 1
      if sums.isEmpty {
        termNames = e.contributions.map(\.term).sorted()
        sums = [Double](repeating: 0, count: termNames.count)
      }
      for c in e.contributions {
        if let k = termNames.firstIndex(of: c.term) { sums[k] += abs(c.contribution) }
      }
      if best == nil || e.probability > best!.probability { best = e }
      if worst == nil || e.probability < worst!.probability { worst = e }
      if nearest == nil || abs(e.probability - model.threshold) < abs(nearest!.probability - model.threshold) {
        nearest = e
      }
    }
    guard read > 0 else {
      throw CommerceError(.data, "\(path): no customer could be scored; importance needs at least one")
    }
    let rows = termNames.indices.map { ChurnImportance.Row(term: termNames[$0], meanAbsolute: sums[$0] / Double(read)) }
      .sorted { $0.meanAbsolute > $1.meanAbsolute || ($0.meanAbsolute == $1.meanAbsolute && $0.term < $1.term) }
    return ChurnImportance(customers: read, rows: rows, examples: [best!, nearest!, worst!])
  }
}
