import Charts
import Foundation
import Modeling
import Storage
import TabularIO

/// `churn report`: one page explaining a churn model version — its card, the cross-validated evaluation as
/// charts, its coefficients or shapes, and with a customer file the importance, example customers and drift.
/// Every number comes from the values the text commands print (`churn evaluate`, `churn explain`, `churn drift`).
public enum ChurnReport {
  /// What a page is drawn from.
  public struct Inputs: Sendable {
    public var model: ChurnModel
    public var version: ModelVersion
    public var training: ChurnTrainingRecord?
    /// With `--data`: the file's importance and examples, and its drift.
    public var dataPath: String?
    public var importance: ChurnImportance?
    public var drift: DriftReport?

    public init(
      model: ChurnModel, version: ModelVersion, training: ChurnTrainingRecord?, dataPath: String? = nil,
      importance: ChurnImportance? = nil, drift: DriftReport? = nil
    ) {
      self.model = model
      self.version = version
      self.training = training
      self.dataPath = dataPath
      self.importance = importance
      self.drift = drift
    }
  }

  /// Reads what the page needs (with `data`: the file twice for drift, once more for the first 10,000 rows'
  /// importance) and builds it.
  /// `shownAs` names the file on the page (a pipe read into a temporary copy keeps its own name).
  public static func build(
    stored: StoredChurnModel, store: any ModelRegistry, data: String?, shownAs: String? = nil, skipBadRows: Bool
  ) throws -> Page {
    let training = try ChurnStore.training(from: store, stored.version)
    var inputs = Inputs(model: stored.model, version: stored.version, training: training, dataPath: shownAs ?? data)
    if let data {
      inputs.drift = try ChurnDrift.report(model: stored.model, path: data, skipBadRows: skipBadRows)
      inputs.importance = try PreparedChurnModel(stored.model, version: stored.version).importance(path: data)
    }
    return page(inputs)
  }

  public static func page(_ i: Inputs) -> Page {
    let m = i.model
    var sections = [modelCard(i)]
    if let v = i.training?.validation, let curves = v.curves {
      sections.append(evaluation(v, curves, threshold: m.threshold))
    } else {
      sections.append(
        Section(
          "Cross-validated evaluation",
          [
            .note(
              i.training == nil
                ? "This version was registered before training records were kept: retrain it to see its cross-validated curves."
                : "This version was trained without cross-validation (--cv 0): there are no out-of-fold scores to evaluate."
            )
          ]))
    }
    sections.append(terms(i))
    if let imp = i.importance {
      sections.append(importance(imp, path: i.dataPath ?? ""))
      sections.append(examples(imp, model: m))
    }
    if let d = i.drift { sections.append(drift(d, path: i.dataPath ?? "")) }
    return Page(
      title: "Churn model '\(i.version.name)' version \(i.version.version)",
      subtitle:
        "\(m.additive == nil ? "Logistic regression" : "Additive model with interactions") · created \(ReportText.date(i.version.createdAt)) · report of \(ReportText.date(Date()))",
      sections: sections)
  }

  // MARK: Sections

  static func modelCard(_ i: Inputs) -> Section {
    let m = i.model
    var facts: [(String, String)] = [
      ("Name", i.version.name), ("Version", "\(i.version.version)\(i.version.isActive ? " (active)" : "")"),
      ("Kind", i.version.kind), ("Created", ReportText.date(i.version.createdAt)),
      ("Purpose", "The probability that a customer leaves (\(m.target) = \(m.positive)), to choose whom to retain."),
      ("Training data", "\(m.trainingRows) customers, \(m.columns.count) input columns, \(m.features.count) features"),
    ]
    if let f = i.training?.fingerprint { facts.append(("Data fingerprint", "\(f.byteCount) bytes, xxh64 \(f.xxh64)")) }
    facts.append(("Time span", timeSpan(i.version)))
    if let skipped = i.training?.skippedRows, skipped > 0 { facts.append(("Rows skipped", "\(skipped) bad rows")) }
    facts.append(("Threshold", "\(ReportText.number(m.threshold)) (\(m.thresholdRule))"))
    let params = i.version.parameters.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
    facts.append(("Parameters", params.joined(separator: ", ")))
    let headline = ["cv_roc_auc", "cv_pr_auc", "cv_log_loss", "cv_brier", "cv_f1"].compactMap { k in
      m.metrics[k].map { "\(k) \(ReportText.number($0))" }
    }
    facts.append(
      (
        "Headline metrics",
        headline.isEmpty ? "none (trained without cross-validation)" : headline.joined(separator: ", ")
      ))
    var limits = [
      "Trained on \(m.trainingRows) customers: its probabilities hold for customers like them; check drift before trusting it on others.",
      "Associations, not causes: a reason is what moves the score, not what would move the customer.",
    ]
    let pooled = m.columns.filter { !$0.pooled.isEmpty }.map(\.name)
    if !pooled.isEmpty { limits.append("Rare levels pooled as 'other' in: \(pooled.joined(separator: ", ")).") }
    facts.append(("Known limits", limits.joined(separator: " ")))
    return Section("Model card", [.facts(facts)])
  }

  /// The training records' time span on the card, from the version's metrics (versions trained with
  /// `--time-column`), or why it is not known.
  static func timeSpan(_ v: ModelVersion) -> String {
    let column = v.parameters["time_column"].map { " (column \($0))" } ?? ""
    switch (v.metrics[ChurnStore.firstTimeMetric], v.metrics[ChurnStore.lastTimeMetric]) {
    case (let first?, let last?):
      return "from \(FieldParser.formatTimestamp(first)) to \(FieldParser.formatTimestamp(last))\(column)"
    default:
      return v.parameters["time_column"] != nil
        ? "not recorded: the time column\(column) was blank in every row"
        : "not recorded: trained without a time column (churn train --time-column COLUMN keeps it)"
    }
  }

  static func evaluation(_ v: ValidationReport, _ c: ClassifierCurves, threshold: Double) -> Section {
    let total =
      v.confusion.truePositives + v.confusion.falseNegatives + v.confusion.trueNegatives
      + v.confusion.falsePositives
    let baseRate = Double(v.confusion.truePositives + v.confusion.falseNegatives) / Double(max(total, 1))
    let roc = Chart(
      title: "ROC curve (out-of-fold, \(v.folds) folds)",
      summary:
        "True-positive rate against false-positive rate of the cross-validated scores; area \(ReportText.number(v.rocAUC)).",
      x: Axis("False-positive rate", range: 0...1), y: Axis("True-positive rate", range: 0...1),
      series: [
        Series("ROC (AUC \(ReportText.number(v.rocAUC)))", mark: .line, points: c.roc.map { Point($0.x, $0.y) })
      ],
      guides: [Guide(from: Point(0, 0), to: Point(1, 1), label: "no skill")])
    let pr = Chart(
      title: "Precision–recall curve",
      summary:
        "Precision against recall of the cross-validated scores; average precision \(ReportText.number(v.prAUC)), churn rate \(ReportText.number(baseRate)).",
      x: Axis("Recall", range: 0...1), y: Axis("Precision", range: 0...1),
      series: [
        Series(
          "PR (AP \(ReportText.number(v.prAUC)))", mark: .step, points: c.precisionRecall.map { Point($0.x, $0.y) })
      ],
      guides: [Guide(from: Point(0, baseRate), to: Point(1, baseRate), label: "churn rate")])
    let filled = c.reliability.filter { $0.count > 0 }
    let calibration = Chart(
      title: "Calibration (reliability)",
      summary:
        "Observed churn rate against the mean predicted probability in ten bins of width 0.1 (empty bins left out).",
      x: Axis("Mean predicted probability", range: 0...1), y: Axis("Observed churn rate", range: 0...1),
      series: [
        Series("observed", mark: .linePoints, points: filled.map { Point($0.meanPredicted, $0.observedRate) })
      ],
      guides: [Guide(from: Point(0, 0), to: Point(1, 1), label: "perfect")])
    let names = (0..<20).map { String(format: "%.2f", Double($0) / 20) }
    let distribution = Chart(
      title: "Score distribution by class",
      summary: "Customers per score bin of width 0.05, churners and stayers apart.",
      x: Axis("Churn probability (bin start)", scale: .categories(names)), y: Axis("Customers"),
      series: [
        Series(
          "churned", mark: .bar, points: c.positivesByScore.enumerated().map { Point(Double($0.0), Double($0.1)) }),
        Series("stayed", mark: .bar, points: c.negativesByScore.enumerated().map { Point(Double($0.0), Double($0.1)) }),
      ], width: 720)
    let sweep = Chart(
      title: "Threshold sweep",
      summary:
        "Precision, recall, F1 and the share of customers alerted at thresholds 0.01 to 0.99; the chosen threshold is \(ReportText.number(threshold)).",
      x: Axis("Threshold", range: 0...1), y: Axis("Value", range: 0...1),
      series: [
        Series("precision", mark: .line, points: c.sweep.map { Point($0.threshold, $0.precision) }),
        Series("recall", mark: .line, points: c.sweep.map { Point($0.threshold, $0.recall) }),
        Series("F1", mark: .line, points: c.sweep.map { Point($0.threshold, $0.f1) }),
        Series("alert rate", mark: .line, points: c.sweep.map { Point($0.threshold, $0.alertRate) }),
      ],
      guides: [Guide(from: Point(threshold, 0), to: Point(threshold, 1), label: "threshold")])
    let deciles = v.deciles.map { "\($0.decile)" }
    let gains = Chart(
      title: "Cumulative gains",
      summary: "Share of all churners found in the highest-risk deciles, against random targeting.",
      x: Axis("Customers targeted", range: 0...1, percent: true),
      y: Axis("Churners found", range: 0...1, percent: true),
      series: [
        Series(
          "model", mark: .line,
          points: [Point(0, 0)] + v.deciles.map { Point(Double($0.decile) / 10, $0.cumulativeGain) })
      ],
      guides: [Guide(from: Point(0, 0), to: Point(1, 1), label: "random")])
    let lift = Chart(
      title: "Lift by decile",
      summary: "Churn rate of each decile over the overall rate (decile 1 is the highest risk).",
      x: Axis("Decile", scale: .categories(deciles)), y: Axis("Lift"),
      series: [Series("lift", mark: .bar, points: v.deciles.enumerated().map { Point(Double($0.0), $0.1.lift) })],
      guides: [Guide(from: Point(-0.5, 1), to: Point(Double(deciles.count) - 0.5, 1), label: "overall")])
    let cm = v.confusion
    let confusion = Table(
      caption: "Confusion matrix at threshold \(ReportText.number(threshold))",
      columns: ["", "predicted churn", "predicted stay"],
      rows: [
        ["churned", "\(cm.truePositives)", "\(cm.falseNegatives)"],
        ["stayed", "\(cm.falsePositives)", "\(cm.trueNegatives)"],
      ])
    let decileTable = Table(
      caption: "Deciles of the out-of-fold scores",
      columns: ["decile", "customers", "churners", "rate", "lift", "cumulative gain"],
      rows: v.deciles.map {
        [
          "\($0.decile)", "\($0.customers)", "\($0.churners)", ReportText.number($0.rate), ReportText.number($0.lift),
          ReportText.number($0.cumulativeGain),
        ]
      })
    let sweepTable = Table(
      caption: "Threshold sweep (every 0.05)", columns: ["threshold", "precision", "recall", "F1", "alert rate"],
      rows: c.sweep.filter { Int(($0.threshold * 100).rounded()) % 5 == 0 }.map {
        [
          ReportText.number($0.threshold), ReportText.number($0.precision), ReportText.number($0.recall),
          ReportText.number($0.f1), ReportText.number($0.alertRate),
        ]
      })
    return Section(
      "Cross-validated evaluation",
      [
        .facts([
          ("ROC AUC", ReportText.number(v.rocAUC)), ("Average precision", ReportText.number(v.prAUC)),
          ("Log loss", ReportText.number(v.logLoss)),
          ("Brier score", ReportText.number(v.brier)),
          (
            "Precision / recall / F1",
            "\(ReportText.number(cm.precision)) / \(ReportText.number(cm.recall)) / \(ReportText.number(cm.f1))"
          ),
        ]),
        .grid([.chart(roc), .chart(pr), .chart(calibration), .chart(gains)]), .chart(distribution),
        .grid([.chart(sweep), .chart(lift)]), .grid([.table(confusion), .table(decileTable), .table(sweepTable)]),
      ])
  }

  static func terms(_ i: Inputs) -> Section {
    var blocks: [Block] = []
    if let rows = i.training?.summary.coefficients.filter({ !["(intercept)", "intercept", "const"].contains($0.name) }),
      !rows.isEmpty
    {
      // Intervals far wider than the others (a feature nearly aliased with a smooth) would flatten the rest: the
      // table lists them, the chart leaves them out and says so.
      let errors = rows.map(\.standardizedError).sorted()
      let typical = errors[errors.count / 2]
      let wide = rows.filter { $0.standardizedError > max(20 * typical, 1e-12) }.map(\.name)
      let shown = rows.filter { !wide.contains($0.name) }.sorted { abs($0.z) > abs($1.z) }.prefix(30)
      let names = shown.map(\.name)
      let chart = Chart(
        title: "Standardized coefficients with 95% intervals (largest |z| first)",
        summary:
          "Each feature's coefficient on the log-odds of churn per standard deviation of the feature (dot) and its 95% confidence interval (bar); \(shown.count) of \(rows.count) features\(wide.isEmpty ? "" : "; not drawn, intervals over 20 times the median width: " + wide.joined(separator: ", ")).",
        x: Axis("Feature", scale: .categories(names)), y: Axis("Coefficient", unit: "log-odds per standard deviation"),
        series: [
          Series(
            "95% interval", mark: .bar,
            points: shown.enumerated().map {
              Point(
                Double($0.0), $0.1.standardizedEstimate + 1.959963984540054 * $0.1.standardizedError,
                low: $0.1.standardizedEstimate - 1.959963984540054 * $0.1.standardizedError)
            }, colour: 1),
          Series(
            "estimate", mark: .scatter,
            points: shown.enumerated().map { Point(Double($0.0), $0.1.standardizedEstimate) },
            colour: 7),
        ], width: max(560, Double(names.count) * 34), height: 380)
      blocks.append(.chart(chart))
      blocks.append(
        .table(
          Table(
            caption: "Coefficients (per unit; the chart's are per standard deviation)",
            columns: [
              "feature", "estimate", "std. error", "z", "p", "lower 95%", "upper 95%", "odds ratio", "standardized",
              "std. error (standardized)",
            ],
            rows: rows.map {
              [
                $0.name, ReportText.number($0.estimate), ReportText.number($0.standardError), ReportText.number($0.z),
                ReportText.number($0.pValue), ReportText.number($0.lower),
                ReportText.number($0.upper),
                ReportText.number($0.oddsRatio), ReportText.number($0.standardizedEstimate),
                ReportText.number($0.standardizedError),
              ]
            })))
    }
    if let a = i.model.additive, let points = try? a.shapes() {
      var mains: [Block] = []
      var maps: [Block] = []
      for t in a.smooths {
        let p = points.filter { $0.term == t.name }
        if t.kind == .tensor {
          let xs = Array(Set(p.map(\.x))).sorted()
          let ys = Array(Set(p.map { $0.y ?? 0 })).sorted()
          var values = [[Double]](repeating: [Double](repeating: .nan, count: xs.count), count: ys.count)
          for q in p {
            if let xi = xs.firstIndex(of: q.x), let yi = ys.firstIndex(of: q.y ?? 0) { values[yi][xi] = q.effect }
          }
          let cx = i.model.columns[t.columns[0]].name
          let cy = i.model.columns[t.columns[1]].name
          maps.append(
            .heatMap(
              HeatMap(
                title: t.name,
                summary:
                  "The interaction \(t.name) on the log-odds over a \(xs.count) × \(ys.count) grid of \(cx) and \(cy) (edf \(ReportText.number(t.edf)), p \(ReportText.number(t.pValue))).",
                x: Axis(cx), y: Axis(cy), xValues: xs, yValues: ys, values: values, valueLabel: "log-odds",
                diverging: true)))
        } else {
          mains.append(
            .chart(
              Chart(
                title: t.name,
                summary:
                  "Effect of \(t.name) on the log-odds with its pointwise 95% band (edf \(ReportText.number(t.edf)), p \(ReportText.number(t.pValue))).",
                x: Axis(i.model.columns[t.columns[0]].name), y: Axis("Effect", unit: "log-odds"),
                series: [
                  Series(t.name, mark: .band, points: p.map { Point($0.x, $0.effect, low: $0.lower, high: $0.upper) })
                ],
                width: 380, height: 260)))
        }
      }
      if !mains.isEmpty { blocks.append(.grid(mains)) }
      if !maps.isEmpty { blocks.append(.grid(maps)) }
    }
    if blocks.isEmpty { blocks.append(.note("No coefficient table was kept for this version.")) }
    return Section(i.model.additive == nil ? "Coefficients" : "Terms: shapes and interactions", blocks)
  }

  static func importance(_ imp: ChurnImportance, path: String) -> Section {
    let shown = imp.rows.prefix(20)
    let chart = Chart(
      title: "Global importance",
      summary: "Mean absolute contribution to the log-odds over the first \(imp.customers) customers of \(path).",
      x: Axis("Term", scale: .categories(shown.map(\.term))), y: Axis("Mean |contribution|", unit: "log-odds"),
      series: [
        Series("importance", mark: .bar, points: shown.enumerated().map { Point(Double($0.0), $0.1.meanAbsolute) })
      ],
      width: max(560, Double(shown.count) * 40))
    return Section(
      "Global importance",
      [
        .chart(chart),
        .table(
          Table(
            caption: "Importance", columns: ["term", "mean |contribution|"],
            rows: imp.rows.map { [$0.term, ReportText.number($0.meanAbsolute)] })),
      ])
  }

  static func examples(_ imp: ChurnImportance, model: ChurnModel) -> Section {
    let labels = ["Highest risk", "Nearest the threshold", "Lowest risk"]
    var blocks: [Block] = []
    for (k, e) in imp.examples.enumerated() {
      let top = e.contributions.prefix(8)
      let rest = e.contributions.dropFirst(8).reduce(0) { $0 + $1.contribution }
      var names = ["baseline"]
      var points = [Point(0, e.baseline, low: 0)]
      var level = e.baseline
      for c in top {
        names.append("\(c.term)=\(c.value)")
        points.append(Point(Double(points.count), level + c.contribution, low: level))
        level += c.contribution
      }
      if e.contributions.count > 8 {
        names.append("other terms")
        points.append(Point(Double(points.count), level + rest, low: level))
        level += rest
      }
      names.append("log-odds")
      points.append(Point(Double(points.count), e.logOdds, low: 0))
      let who = e.id.map { "customer \($0)" } ?? "a customer"
      blocks.append(
        .chart(
          Chart(
            title: "\(labels[k % labels.count]): \(who), p = \(ReportText.number(e.probability))",
            summary:
              "From the average customer's log-odds \(ReportText.number(e.baseline)) through each term's contribution to \(who)'s log-odds \(ReportText.number(e.logOdds)), probability \(ReportText.number(e.probability)).",
            x: Axis("Term", scale: .categories(names)), y: Axis("Log-odds of churn"),
            series: [Series("contribution", mark: .bar, points: points, colour: 4)],
            guides: [
              Guide(
                from: Point(-0.5, logit(model.threshold)), to: Point(Double(names.count) - 0.5, logit(model.threshold)),
                label: "threshold")
            ],
            width: 560, height: 300)))
    }
    return Section(
      "Example customers", [.text("Each bar moves the log-odds from the level before it."), .grid(blocks)])
  }

  static func drift(_ d: DriftReport, path: String) -> Section {
    var rows: [[String]] = []
    for r in d.rows {
      rows.append([
        r.name, ReportText.number(r.psi), r.flag, r.test?.test.rawValue ?? "–",
        r.test.map { ReportText.number($0.statistic) } ?? "–",
        r.test?.pValue.map(ReportText.number) ?? "–", r.test.map { $0.drifted ? "drift" : "no drift" } ?? "–",
      ])
    }
    var blocks: [Block] = [
      .facts([
        ("File", path), ("Columns tested", "\(d.testedColumns)"),
        ("Drifted", "\(d.driftedColumns) (\(ReportText.number(d.driftedShare * 100))% of the columns tested)"),
      ]),
      .table(
        Table(
          caption: "Drift per column",
          columns: ["quantity", "psi", "shift", "test", "statistic", "p-value", "verdict"], rows: rows)),
    ]
    var charts: [Block] = []
    for r in d.rows where (r.test?.drifted ?? false) || (r.name == "churn_probability") || r.psi >= 0.1 {
      charts.append(
        .chart(
          Chart(
            title: r.name,
            summary: "Share of rows per bin of \(r.name): training against \(path) (PSI \(ReportText.number(r.psi))).",
            x: Axis("Bin", scale: .categories(r.bins)), y: Axis("Share of rows", percent: true),
            series: [
              Series("training", mark: .bar, points: r.referenceShares.enumerated().map { Point(Double($0.0), $0.1) }),
              Series("this file", mark: .bar, points: r.currentShares.enumerated().map { Point(Double($0.0), $0.1) }),
            ], width: 520, height: 280)))
    }
    blocks.append(.grid(charts))
    return Section("Drift of \(path) against training", blocks)
  }

  static func logit(_ p: Double) -> Double { log(max(p, 1e-12) / max(1 - p, 1e-12)) }

}
