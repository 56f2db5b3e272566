import Charts
import Foundation
import Modeling
import Storage
import TabularIO

/// `fraud report`: one page for a risk officer — the model card, the prequential evaluation per day (ROC AUC,
/// average precision, card precision@k, alert volume and precision), score distributions of frauds and genuine
/// transactions, the reasons and rules given most, the reliability table, score PSI per day, and latency from a
/// stream's statistics. The numbers are `FraudEvaluationReport`'s (`fraud evaluate --format json`) and
/// `StreamStatistics`' (`fraud stream --stats-file`).
public enum FraudReport {
  public static func page(
    _ e: FraudEvaluationReport, model: FraudModel, version v: ModelVersion, file: String,
    statistics: StreamStatistics? = nil, historyEnd: Double? = nil
  ) -> Page {
    var sections = [card(e, model, v, historyEnd: historyEnd), overview(e), daily(e), scores(e), reasons(e)]
    if !e.reliability.isEmpty { sections.append(reliability(e)) }
    if let statistics { sections.append(latency(statistics)) }
    return Page(
      title: "Fraud model '\(v.name)' version \(v.version)",
      subtitle:
        "\(v.kind) · created \(ReportText.date(v.createdAt)) · evaluated on \(file) · report of \(ReportText.date(Date()))",
      sections: sections)
  }

  static func card(_ e: FraudEvaluationReport, _ m: FraudModel, _ v: ModelVersion, historyEnd: Double?) -> Section {
    let metrics = v.metrics.filter { ![FraudStore.historyStartMetric, FraudStore.historyEndMetric].contains($0.key) }
      .sorted { $0.key < $1.key }.map { "\($0.key) \(ReportText.number($0.value))" }
    let history = historySpan(v, historyEnd: historyEnd).map { ", \($0)" } ?? ""
    let parameters = v.parameters.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
    return Section(
      "Model card",
      [
        .facts([
          ("Name", v.name), ("Version", "\(v.version)\(v.isActive ? " (active)" : "")"), ("Kind", v.kind),
          ("Created", ReportText.date(v.createdAt)),
          (
            "Purpose",
            "A probability of fraud and a decision (approve, review, decline) for each card transaction as it arrives."
          ),
          (
            "Training data",
            "\(v.dataBytes) bytes, xxh64 \(v.dataHash)\(history)"
          ),
          ("Parameters", parameters.joined(separator: ", ")),
          ("Training metrics", metrics.isEmpty ? "none" : metrics.joined(separator: ", ")),
          (
            "Thresholds",
            "review from \(ReportText.number(m.reviewThreshold)), decline from \(ReportText.number(m.declineThreshold))"
          ),
          (
            "Known limits",
            "Labels arrive late (here after the label delay): a prequential evaluation scores each transaction before its label is known. Trained on the history it was given: fraud patterns it never saw are caught by the rules alone."
          ),
        ])
      ])
  }

  /// The training history's span on the card: from the version's metrics (`fraud train` versions), else up to
  /// `historyEnd` (the stored state's newest time) with its start not recorded; `nil` when neither is known.
  static func historySpan(_ v: ModelVersion, historyEnd: Double?) -> String? {
    switch (v.metrics[FraudStore.historyStartMetric], v.metrics[FraudStore.historyEndMetric] ?? historyEnd) {
    case (let start?, let end?):
      return "history from \(FieldParser.formatTimestamp(start)) to \(FieldParser.formatTimestamp(end))"
    case (nil, let end?):
      return "history up to \(FieldParser.formatTimestamp(end)) (its start not recorded)"
    default:
      return nil
    }
  }

  static func overview(_ e: FraudEvaluationReport) -> Section {
    let table = Table(
      caption: "Scorers on the whole window",
      columns: ["scorer", "ROC AUC", "average precision", "card precision@\(e.k)", "alert rate"],
      rows: e.rows.map {
        [
          $0.name, ReportText.number($0.rocAUC), ReportText.number($0.averagePrecision),
          ReportText.number($0.cardPrecisionAt100), ReportText.number($0.alertRate),
        ]
      })
    return Section(
      "Evaluation window",
      [
        .facts([
          (
            "Transactions",
            "\(e.transactions) over \(e.days) days, \(e.frauds) frauds (\(ReportText.number(100 * Double(e.frauds) / Double(max(e.transactions, 1))))%)"
          ),
          ("Decisions", "approve \(e.decisions[0]), review \(e.decisions[1]), decline \(e.decisions[2])"),
          ("Cards checked a day (k)", "\(e.k)"),
        ]),
        .table(table),
      ]
        + (e.insideTrainingHistory > 0
          ? [
            .note(
              "\(e.insideTrainingHistory) of these transactions fall inside the model's training history: this part is not out-of-sample."
            )
          ]
          : []))
  }

  static func daily(_ e: FraudEvaluationReport) -> Section {
    let names = e.daily.map { String($0.day.dropFirst(5)) }
    func series(_ name: String, _ value: (DailyEvaluation) -> Double?, colour: Int) -> Series {
      Series(
        name, mark: .line,
        points: e.daily.enumerated().compactMap { d in value(d.1).map { Point(Double(d.0), $0) } }, colour: colour)
    }
    let quality = Chart(
      title: "Quality per day",
      summary:
        "ROC AUC, average precision and card precision@\(e.k) of the model's scores, day by day (days without frauds have no AUC or AP).",
      x: Axis("Day", scale: .categories(names)), y: Axis("Value", range: 0...1),
      series: [
        series("ROC AUC", { $0.rocAUC }, colour: 0), series("average precision", { $0.averagePrecision }, colour: 1),
        series("card precision@\(e.k)", { $0.cardPrecision }, colour: 2),
      ], width: 900)
    let volume = Chart(
      title: "Alerts per day",
      summary: "Transactions sent to review or declined each day, and the share of them that were frauds.",
      x: Axis("Day", scale: .categories(names)), y: Axis("Alerts"),
      series: [
        Series(
          "alerts", mark: .bar, points: e.daily.enumerated().map { Point(Double($0.0), Double($0.1.alerts)) }, colour: 3
        )
      ],
      width: 560)
    let precision = Chart(
      title: "Precision of the alerts per day",
      summary: "The share of each day's alerts that were frauds (days without alerts left out).",
      x: Axis("Day", scale: .categories(names)), y: Axis("Precision", range: 0...1),
      series: [series("alert precision", { $0.alertPrecision }, colour: 4)], width: 560)
    var blocks: [Block] = [.chart(quality), .grid([.chart(volume), .chart(precision)])]
    if e.daily.contains(where: { $0.scorePSI != nil }) {
      blocks.append(
        .chart(
          Chart(
            title: "Score PSI per day",
            summary:
              "Population stability of each day's scores over the training score deciles: below 0.1 stable, from 0.25 a major shift.",
            x: Axis("Day", scale: .categories(names)), y: Axis("PSI"),
            series: [series("score PSI", { $0.scorePSI }, colour: 5)],
            guides: [
              Guide(from: Point(-0.5, 0.1), to: Point(Double(names.count) - 0.5, 0.1), label: "0.1"),
              Guide(from: Point(-0.5, 0.25), to: Point(Double(names.count) - 0.5, 0.25), label: "0.25"),
            ], width: 900)))
    }
    blocks.append(
      .table(
        Table(
          caption: "Per day",
          columns: [
            "day", "transactions", "frauds", "ROC AUC", "AP", "card precision@\(e.k)", "alerts", "alert precision",
            "score PSI",
          ],
          rows: e.daily.map {
            [
              $0.day, "\($0.transactions)", "\($0.frauds)", $0.rocAUC.map(ReportText.number) ?? "–",
              $0.averagePrecision.map(ReportText.number) ?? "–",
              ReportText.number($0.cardPrecision), "\($0.alerts)", $0.alertPrecision.map(ReportText.number) ?? "–",
              $0.scorePSI.map(ReportText.number) ?? "–",
            ]
          })))
    return Section("Day by day", blocks)
  }

  static func scores(_ e: FraudEvaluationReport) -> Section {
    guard let b = e.scoreBands else {
      return Section("Score distributions", [.note("Rules only: there is no model score.")])
    }
    let names = (0..<(b.edges.count - 1)).map { "\(short(b.edges[$0]))–\(short(b.edges[$0 + 1]))" }
    let frauds = Double(max(b.frauds.reduce(0, +), 1))
    let genuine = Double(max(b.genuine.reduce(0, +), 1))
    let chart = Chart(
      title: "Score distribution: frauds and genuine transactions",
      summary: "Share of the frauds and of the genuine transactions in each score band (bands finer near 0).",
      x: Axis("Score band", scale: .categories(names)), y: Axis("Share of the class", percent: true),
      series: [
        Series(
          "frauds", mark: .bar, points: b.frauds.enumerated().map { Point(Double($0.0), Double($0.1) / frauds) },
          colour: 3),
        Series(
          "genuine", mark: .bar, points: b.genuine.enumerated().map { Point(Double($0.0), Double($0.1) / genuine) },
          colour: 1),
      ], width: 900)
    return Section(
      "Score distributions",
      [
        .chart(chart),
        .table(
          Table(
            caption: "Transactions per score band", columns: ["band", "frauds", "genuine"],
            rows: names.indices.map { [names[$0], "\(b.frauds[$0])", "\(b.genuine[$0])"] })),
      ])
  }

  static func reasons(_ e: FraudEvaluationReport) -> Section {
    let top = e.reasons.prefix(15)
    guard !top.isEmpty else {
      return Section("Reasons and rules", [.text("No transaction of the window was given a reason.")])
    }
    let chart = Chart(
      title: "Most frequent reasons and rules",
      summary:
        "How many evaluated transactions each rule (upper case) or feature (lower case) was given as a reason for, and how many of them were frauds.",
      x: Axis("Reason", scale: .categories(top.map(\.reason))), y: Axis("Transactions"),
      series: [
        Series(
          "transactions", mark: .bar, points: top.enumerated().map { Point(Double($0.0), Double($0.1.transactions)) },
          colour: 4),
        Series(
          "of them frauds", mark: .bar, points: top.enumerated().map { Point(Double($0.0), Double($0.1.frauds)) },
          colour: 3),
      ], width: 760)
    return Section(
      "Reasons and rules",
      [
        .chart(chart),
        .table(
          Table(
            caption: "Reasons given", columns: ["reason", "kind", "transactions", "frauds"],
            rows: e.reasons.map { [$0.reason, $0.kind, "\($0.transactions)", "\($0.frauds)"] })),
      ])
  }

  static func reliability(_ e: FraudEvaluationReport) -> Section {
    let chart = Chart(
      title: "Reliability of the score",
      summary:
        "Observed fraud rate against the mean score in each band (log scales; a calibrated score lies on the diagonal). Brier \(e.brier.map(ReportText.number) ?? "–").",
      x: Axis("Mean score", scale: .logarithmic), y: Axis("Observed fraud rate", scale: .logarithmic),
      series: [
        Series(
          "bands", mark: .line,
          points: e.reliability.filter { $0.meanScore > 0 && $0.observedRate > 0 }.map {
            Point($0.meanScore, $0.observedRate)
          }),
        Series(
          "band means", mark: .scatter,
          points: e.reliability.filter { $0.meanScore > 0 && $0.observedRate > 0 }.map {
            Point($0.meanScore, $0.observedRate)
          },
          colour: 0),
      ],
      guides: [Guide(from: Point(1e-6, 1e-6), to: Point(1, 1), label: "calibrated")], width: 480, height: 360)
    return Section(
      "Reliability",
      [
        .grid([
          .chart(chart),
          .table(
            Table(
              caption: "Reliability table (Brier \(e.brier.map(ReportText.number) ?? "–"))",
              columns: ["band", "transactions", "mean score", "observed rate"],
              rows: e.reliability.map {
                [
                  "\(short($0.lower))–\(short($0.upper))", "\($0.transactions)", ReportText.number($0.meanScore),
                  ReportText.number($0.observedRate),
                ]
              })),
        ])
      ])
  }

  static func latency(_ s: StreamStatistics) -> Section {
    guard let l = s.latency else {
      return Section("Latency", [.note("The statistics file holds no latency percentiles.")])
    }
    let chart = Chart(
      title: "Latency per transaction",
      summary:
        "Percentiles of the time to score one transaction in the stream run (\(s.transactions) transactions in \(ReportText.number(s.seconds)) s).",
      x: Axis("Percentile", scale: .categories(["p50", "p99", "p99.9"])), y: Axis("Latency", unit: "µs"),
      series: [
        Series(
          "latency", mark: .bar, points: [l.p50, l.p99, l.p999].enumerated().map { Point(Double($0.0), $0.1) },
          colour: 2)
      ],
      width: 420)
    return Section(
      "Latency",
      [
        .grid([
          .chart(chart),
          .facts([
            (
              "Transactions",
              "\(s.transactions) in \(ReportText.number(s.seconds)) s (\(ReportText.number(Double(s.transactions) / max(s.seconds, 1e-9))) per second)"
            ),
            (
              "p50 / p99 / p99.9",
              "\(ReportText.number(l.p50)) / \(ReportText.number(l.p99)) / \(ReportText.number(l.p999)) µs"
            ),
            ("Decisions", "approve \(s.decisions[0]), review \(s.decisions[1]), decline \(s.decisions[2])"),
          ]),
        ])
      ])
  }

  static func short(_ x: Double) -> String {
    x == 0 ? "0" : (x < 0.001 ? String(format: "%.0e", x) : String(format: "%g", x))
  }
}
