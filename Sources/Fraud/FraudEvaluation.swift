import Foundation
import Modeling
import TabularIO

/// The quality of one scorer on the evaluated transactions.
public struct EvaluationRow: Sendable, Codable {
  public var name: String
  public var rocAUC: Double
  public var averagePrecision: Double
  /// Mean over days of the share of frauded cards among the day's 100 highest-scored cards.
  public var cardPrecisionAt100: Double
  public var alertRate: Double
}

/// One band of predicted probability: how many transactions the model put there, their mean score and how many
/// of them were frauds — a calibrated model's two columns agree.
public struct ReliabilityRow: Sendable, Codable, Equatable {
  public var lower: Double
  public var upper: Double
  public var transactions: Int
  public var meanScore: Double
  public var observedRate: Double
}

/// What `fraud evaluate` reports.
public struct FraudEvaluationReport: Sendable, Codable {
  public var transactions: Int
  public var frauds: Int
  public var days: Int
  public var rows: [EvaluationRow]
  /// Decisions of the full model (approve, review, decline).
  public var decisions: [Int]
  /// The model's reliability table and Brier score (empty and `nil` for rules only).
  public var reliability: [ReliabilityRow] = []
  public var brier: Double? = nil
  /// The model's mean score beside the observed fraud rate.
  public var meanScore: Double? = nil
  /// Where the amount-only baseline was fitted: on the transactions before the window (prequential), or — when
  /// those hold no frauds and genuine ones — on the evaluated transactions themselves (in-sample: flattering).
  public var baselineInSample = false
  /// The evaluated transactions that fall inside the model's own training history (seen while training: not an
  /// out-of-sample evaluation), when the caller gave where that history ends.
  public var insideTrainingHistory = 0
}

/// Prequential evaluation: every transaction is scored before its label is known; labels become known
/// after the delay, as in production. The state warms up on the transactions before `from`.
public enum FraudEvaluation {
  /// - Parameters:
  ///   - from: the first evaluated time (the transactions before warm the state up); `until`: the end (exclusive).
  ///   - removeDetectedCards: the handbook's rule for card precision@100 — a card found frauded among a day's top
  ///     100 is left out of the following days (it would be blocked).
  public static func run(
    path: String, mapping: ColumnMapping, model: FraudModel, labelDelay: Double, from: Double?, until: Double? = nil,
    removeDetectedCards: Bool = false, trainingEnd: Double? = nil
  ) throws -> FraudEvaluationReport {
    if let from, let until, until <= from {
      throw CommerceError(
        .usage, "the evaluation window is empty: it ends (\(FieldParser.formatTimestamp(until))) where it starts")
    }
    let reader = try CSVReader(path: path)
    let source = try TransactionSource(header: reader.header, mapping: mapping, file: path)
    guard source.hasLabels else { throw CommerceError(.data, "\(path): no label column; evaluation needs labels") }
    let state = FeatureState()
    // The stream's engine replays the file: the same state updates and scores as `fraud stream`.
    var streamOptions = StreamOptions()
    streamOptions.labelDelay = labelDelay
    streamOptions.checkpointEvery = .max
    let engine = FraudStream(model: model, state: state, states: nil, checkpointName: "", options: streamOptions)
    let run = StreamRun(labelDelay: labelDelay)
    let rulesOnly = Scorer(model: FraudModel.rulesOnly(model.rules, labelDelay: labelDelay))
    var reasons: [UInt8] = []
    var scores: [Double] = []
    var ruleScores: [Double] = []
    var labels: [Bool] = []
    var days: [Int32] = []
    var cards: [UInt64] = []
    var decisions = [0, 0, 0]
    var alerts = 0
    var ruleAlerts = 0
    // Amount-only baseline: fitted on the warm-up part (log amount, balanced weights).
    var warmAmounts: [Double] = []
    var warmLabels: [Bool] = []
    var evalAmounts: [Double] = []
    let start = from ?? -Double.infinity
    var dates = FieldParser.TimestampCache()
    var first = Double.infinity
    var last = -Double.infinity
    var inside = 0
    while try reader.next() {
      switch try source.record(reader, dates: &dates) {
      case .label(let id, let fraud):
        state.applyLabel(transaction: id, fraud: fraud)
      case .transaction(let tx, _):
        first = min(first, tx.time)
        last = max(last, tx.time)
        // (A transaction whose id was entered already is a replay: entered and scored once.)
        guard let (p, decision) = try engine.step(run, tx) else { continue }
        guard let label = tx.label else { continue }
        if let until, tx.time >= until { continue }
        if tx.time < start {
          warmAmounts.append(log1p(tx.amount))
          warmLabels.append(label)
          continue
        }
        reasons.removeAll(keepingCapacity: true)
        let (_, ruleDecision) = rulesOnly.score(run.features, run.inputs, reasons: &reasons)
        // Rules give a coarse score; the amount breaks ties so that rankings are defined.
        scores.append(model.hasModel ? p : Double(decision.rawValue) + tx.amount * 1e-9)
        ruleScores.append(Double(ruleDecision.rawValue) + tx.amount * 1e-9)
        labels.append(label)
        if let trainingEnd, tx.time <= trainingEnd { inside += 1 }
        days.append(Int32((tx.time / 86_400).rounded(.down)))
        cards.append(tx.card)
        evalAmounts.append(log1p(tx.amount))
        decisions[decision.rawValue] += 1
        if decision != .approve { alerts += 1 }
        if ruleDecision != .approve { ruleAlerts += 1 }
      }
    }
    let n = labels.count
    let frauds = labels.lazy.filter { $0 }.count
    if n == 0 {
      // A window the file does not reach is a choice of dates, not bad data.
      let span =
        first <= last
        ? "the file's transactions run from \(FieldParser.formatTimestamp(first)) to \(FieldParser.formatTimestamp(last))"
        : "the file holds no labeled transactions"
      let window =
        "from \(from.map(FieldParser.formatTimestamp) ?? "the start") to \(until.map(FieldParser.formatTimestamp) ?? "the end")"
      throw CommerceError(
        .usage,
        "\(path): no transaction falls in the evaluated window (\(window)); \(span). Choose \(.from) (and \(.days)) within them",
        parameter: .from)
    }
    guard frauds > 0, frauds < n else {
      throw CommerceError(
        .data,
        "\(path): the \(n) evaluated transactions are all \(frauds == 0 ? "genuine" : "frauds"); the evaluation needs frauds and genuine ones (widen the window with \(.from) and \(.days))"
      )
    }
    var rows = [
      try row("model", scores, labels, days, cards, Double(alerts) / Double(n), removeDetectedCards),
      try row("rules only", ruleScores, labels, days, cards, Double(ruleAlerts) / Double(n), removeDetectedCards),
    ]
    // The amount-only logistic regression (on the warm-up part, else on the evaluated part itself).
    let warmFits = warmLabels.contains(true) && warmLabels.contains(false)
    let fitAmounts = warmFits ? warmAmounts : evalAmounts
    let fitLabels = warmFits ? warmLabels : labels
    let positives = Double(fitLabels.lazy.filter { $0 }.count)
    let total = Double(fitLabels.count)
    let design = DesignMatrix(rows: fitAmounts.count, columns: 2, values: fitAmounts.flatMap { [1, $0] })
    let fit = try LogisticRegression.fit(
      design, labels: fitLabels,
      weights: fitLabels.map { $0 ? total / (2 * positives) : total / (2 * (total - positives)) })
    let amountScores = evalAmounts.map { LogisticRegression.sigmoid(fit.coefficients[0] + fit.coefficients[1] * $0) }
    // Alert the same share as the model does, for a like-for-like alert rate.
    rows.append(
      try row(
        warmFits ? "amount-only logistic regression" : "amount-only logistic regression (in-sample)", amountScores,
        labels, days, cards, Double(alerts) / Double(n), removeDetectedCards))
    var report = FraudEvaluationReport(
      transactions: n, frauds: frauds, days: Set(days).count, rows: rows, decisions: decisions)
    report.baselineInSample = !warmFits
    report.insideTrainingHistory = inside
    if model.hasModel {
      report.reliability = reliability(scores, labels)
      report.brier = try ClassificationMetrics.brierScore(labels: labels, probabilities: scores)
      report.meanScore = scores.reduce(0, +) / Double(n)
    }
    return report
  }

  /// The bands of `reliabilityEdges` with their counts, mean scores and observed fraud rates (empty bands left out).
  static func reliability(_ scores: [Double], _ labels: [Bool]) -> [ReliabilityRow] {
    let edges = [0, 0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 1.0000001]
    var rows: [ReliabilityRow] = []
    for b in 0..<(edges.count - 1) {
      var count = 0
      var sum = 0.0
      var frauds = 0
      for (s, l) in zip(scores, labels) where s >= edges[b] && s < edges[b + 1] {
        count += 1
        sum += s
        if l { frauds += 1 }
      }
      guard count > 0 else { continue }
      rows.append(
        ReliabilityRow(
          lower: edges[b], upper: min(edges[b + 1], 1), transactions: count, meanScore: sum / Double(count),
          observedRate: Double(frauds) / Double(count)))
    }
    return rows
  }

  static func row(
    _ name: String, _ scores: [Double], _ labels: [Bool], _ days: [Int32], _ cards: [UInt64], _ alertRate: Double,
    _ removeDetectedCards: Bool
  ) throws -> EvaluationRow {
    EvaluationRow(
      name: name, rocAUC: try ClassificationMetrics.rocAUC(labels: labels, scores: scores),
      averagePrecision: try ClassificationMetrics.averagePrecision(labels: labels, scores: scores),
      cardPrecisionAt100: cardPrecision(
        scores, labels, days, cards, k: 100, removeDetectedCards: removeDetectedCards), alertRate: alertRate)
  }

  /// Mean over days of: among the `k` cards with the highest score that day, the share with a fraud that day.
  ///
  /// Deterministic: days are summed in time order and cards with equal scores are taken by card id.
  /// With `removeDetectedCards`, the frauded cards of a day's top `k` are left out of the following days.
  static func cardPrecision(
    _ scores: [Double], _ labels: [Bool], _ days: [Int32], _ cards: [UInt64], k: Int, removeDetectedCards: Bool = false
  ) -> Double {
    var byDay: [Int32: [UInt64: (score: Double, fraud: Bool)]] = [:]
    for i in scores.indices {
      let previous = byDay[days[i]]?[cards[i]]
      byDay[days[i], default: [:]][cards[i]] = (
        max(previous?.score ?? -.infinity, scores[i]), (previous?.fraud ?? false) || labels[i]
      )
    }
    var total = 0.0
    var detected = Set<UInt64>()
    for day in byDay.keys.sorted() {
      let top = byDay[day]!.filter { !detected.contains($0.key) }.sorted {
        $0.value.score != $1.value.score ? $0.value.score > $1.value.score : $0.key < $1.key
      }
      .prefix(k)
      let found = top.filter { $0.value.fraud }.map(\.key)
      total += Double(found.count) / Double(k)
      if removeDetectedCards { detected.formUnion(found) }
    }
    return byDay.isEmpty ? 0 : total / Double(byDay.count)
  }
}
