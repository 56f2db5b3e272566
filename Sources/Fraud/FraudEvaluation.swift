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

/// One day of the evaluated window.
public struct DailyEvaluation: Sendable, Codable, Equatable {
  /// The day, YYYY-MM-DD (UTC).
  public var day: String
  public var transactions: Int
  public var frauds: Int
  /// ROC AUC and average precision of the model's scores that day (nil on a day without frauds or without genuine
  /// transactions).
  public var rocAUC: Double?
  public var averagePrecision: Double?
  /// The share of frauded cards among the day's k highest-scored cards.
  public var cardPrecision: Double
  /// Transactions the model sent to review or declined, and the share of them that were frauds.
  public var alerts: Int
  public var alertPrecision: Double?
  /// PSI of the day's scores over the training score deciles (nil for a model without them).
  public var scorePSI: Double?
}

/// How often a reason (a rule's code, or a feature pushing the score up) was given for an evaluated transaction.
public struct ReasonCount: Sendable, Codable, Equatable {
  public var reason: String
  /// `rule` or `feature`.
  public var kind: String
  public var transactions: Int
  public var frauds: Int
}

/// Counts of frauds and genuine transactions per score band (bands finer near 0, where most scores lie).
public struct ScoreBands: Sendable, Codable, Equatable {
  public static let edges: [Double] = [0, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.05, 0.1, 0.2, 0.5, 0.8, 0.95, 0.99, 1]
  public var edges: [Double] = ScoreBands.edges
  public var frauds: [Int]
  public var genuine: [Int]

  public static func band(_ s: Double) -> Int {
    var b = 0
    while b < edges.count - 2 && s >= edges[b + 1] { b += 1 }
    return b
  }
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
  /// The cards a team checks a day: card precision is at this k.
  public var k = 100
  /// Per day: ROC AUC, average precision, card precision@k, alerts and their precision, score PSI.
  public var daily: [DailyEvaluation] = []
  /// The reasons given, most frequent first.
  public var reasons: [ReasonCount] = []
  /// The model's scores of frauds and of genuine transactions by band.
  public var scoreBands: ScoreBands? = nil
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
    removeDetectedCards: Bool = false, trainingEnd: Double? = nil, cardsPerDay k: Int = 100
  ) throws -> FraudEvaluationReport {
    guard k >= 1 else { throw CommerceError(.usage, "the cards checked a day must be at least 1, got \(k)") }
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
    var alerted: [Bool] = []
    var reasonCounts: [String: (Int, Int)] = [:]
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
        alerted.append(decision != .approve)
        if !run.reasons.isEmpty {
          for code in run.reasons.split(separator: UInt8(ascii: ";")) {
            let key = String(decoding: code, as: UTF8.self)
            let c = reasonCounts[key] ?? (0, 0)
            reasonCounts[key] = (c.0 + 1, c.1 + (label ? 1 : 0))
          }
        }
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
      try row("model", scores, labels, days, cards, Double(alerts) / Double(n), removeDetectedCards, k: k),
      try row("rules only", ruleScores, labels, days, cards, Double(ruleAlerts) / Double(n), removeDetectedCards, k: k),
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
        labels, days, cards, Double(alerts) / Double(n), removeDetectedCards, k: k))
    var report = FraudEvaluationReport(
      transactions: n, frauds: frauds, days: Set(days).count, rows: rows, decisions: decisions)
    report.baselineInSample = !warmFits
    report.insideTrainingHistory = inside
    report.k = k
    report.daily = try daily(
      scores, labels, days, cards, alerted, k: k, removeDetectedCards: removeDetectedCards,
      deciles: model.hasModel ? model.scoreDeciles : [])
    report.reasons = reasonCounts.map {
      ReasonCount(
        reason: $0.key, kind: $0.key.first?.isUppercase == true ? "rule" : "feature", transactions: $0.value.0,
        frauds: $0.value.1)
    }
    .sorted { $0.transactions > $1.transactions || ($0.transactions == $1.transactions && $0.reason < $1.reason) }
    if model.hasModel {
      var bands = ScoreBands(
        frauds: [Int](repeating: 0, count: ScoreBands.edges.count - 1),
        genuine: [Int](repeating: 0, count: ScoreBands.edges.count - 1))
      for (s, l) in zip(scores, labels) {
        if l { bands.frauds[ScoreBands.band(s)] += 1 } else { bands.genuine[ScoreBands.band(s)] += 1 }
      }
      report.scoreBands = bands
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
    _ removeDetectedCards: Bool, k: Int = 100
  ) throws -> EvaluationRow {
    EvaluationRow(
      name: name, rocAUC: try ClassificationMetrics.rocAUC(labels: labels, scores: scores),
      averagePrecision: try ClassificationMetrics.averagePrecision(labels: labels, scores: scores),
      cardPrecisionAt100: cardPrecision(
        scores, labels, days, cards, k: k, removeDetectedCards: removeDetectedCards), alertRate: alertRate)
  }

  /// The per-day figures of the model (`DailyEvaluation`), days in time order.
  static func daily(
    _ scores: [Double], _ labels: [Bool], _ days: [Int32], _ cards: [UInt64], _ alerted: [Bool], k: Int,
    removeDetectedCards: Bool, deciles: [Double]
  ) throws -> [DailyEvaluation] {
    var byDay: [Int32: [Int]] = [:]
    for i in days.indices { byDay[days[i], default: []].append(i) }
    // Card precision per day with the same detected-card rule as the window's figure.
    let precision = cardPrecisionByDay(scores, labels, days, cards, k: k, removeDetectedCards: removeDetectedCards)
    var out: [DailyEvaluation] = []
    for day in byDay.keys.sorted() {
      let members = byDay[day]!
      let s = members.map { scores[$0] }
      let l = members.map { labels[$0] }
      let frauds = l.lazy.filter { $0 }.count
      let both = frauds > 0 && frauds < l.count
      let alerts = members.lazy.filter { alerted[$0] }.count
      let caught = members.lazy.filter { alerted[$0] && labels[$0] }.count
      var psi: Double? = nil
      if deciles.count == 9 {
        var bins = [Double](repeating: 0, count: 10)
        for x in s {
          var b = 0
          while b < 9 && x > deciles[b] { b += 1 }
          bins[b] += 1
        }
        psi = PopulationStability.index(
          expected: [Double](repeating: 0.1, count: 10), actual: bins.map { $0 / Double(s.count) })
      }
      out.append(
        DailyEvaluation(
          day: String(FieldParser.formatTimestamp(Double(day) * 86_400).prefix(10)), transactions: members.count,
          frauds: frauds, rocAUC: both ? try ClassificationMetrics.rocAUC(labels: l, scores: s) : nil,
          averagePrecision: both ? try ClassificationMetrics.averagePrecision(labels: l, scores: s) : nil,
          cardPrecision: precision[day] ?? 0, alerts: alerts,
          alertPrecision: alerts > 0 ? Double(caught) / Double(alerts) : nil, scorePSI: psi))
    }
    return out
  }

  /// Each day's share of frauded cards among its `k` highest-scored cards (`cardPrecision`'s terms).
  static func cardPrecisionByDay(
    _ scores: [Double], _ labels: [Bool], _ days: [Int32], _ cards: [UInt64], k: Int, removeDetectedCards: Bool
  ) -> [Int32: Double] {
    var byDay: [Int32: [UInt64: (score: Double, fraud: Bool)]] = [:]
    for i in scores.indices {
      let previous = byDay[days[i]]?[cards[i]]
      byDay[days[i], default: [:]][cards[i]] = (
        max(previous?.score ?? -.infinity, scores[i]), (previous?.fraud ?? false) || labels[i]
      )
    }
    var out: [Int32: Double] = [:]
    var detected = Set<UInt64>()
    for day in byDay.keys.sorted() {
      let top = byDay[day]!.filter { !detected.contains($0.key) }.sorted {
        $0.value.score != $1.value.score ? $0.value.score > $1.value.score : $0.key < $1.key
      }
      .prefix(k)
      let found = top.filter { $0.value.fraud }.map(\.key)
      out[day] = Double(found.count) / Double(k)
      if removeDetectedCards { detected.formUnion(found) }
    }
    return out
  }

  /// Mean over days of: among the `k` cards with the highest score that day, the share with a fraud that day.
  ///
  /// Deterministic: days are summed in time order and cards with equal scores are taken by card id.
  /// With `removeDetectedCards`, the frauded cards of a day's top `k` are left out of the following days.
  static func cardPrecision(
    _ scores: [Double], _ labels: [Bool], _ days: [Int32], _ cards: [UInt64], k: Int, removeDetectedCards: Bool = false
  ) -> Double {
    let byDay = cardPrecisionByDay(scores, labels, days, cards, k: k, removeDetectedCards: removeDetectedCards)
    return byDay.isEmpty ? 0 : byDay.keys.sorted().reduce(0.0) { $0 + byDay[$1]! } / Double(byDay.count)
  }

}
