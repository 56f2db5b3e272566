import Charts
import Foundation
import Modeling
import Storage
import TabularIO

/// `recommend report`: one page about a recommender version measured on later interactions — its card, quality
/// beside popularity, NDCG by user activity, the long tail and popularity bias, tuning trials, example users.
/// Every number is `HeldOutEvaluation`'s, which `recommend measure` (and `recommend evaluate --registered`) prints.
public enum RecommenderReport {
  public static func page(_ e: HeldOutEvaluation, version v: ModelVersion, file: String) -> Page {
    var sections = [card(e, v), quality(e, file: file), activity(e), tail(e)]
    if let trials = e.trials, !trials.isEmpty { sections.append(tuning(trials, k: e.k)) }
    sections.append(examples(e))
    return Page(
      title: "Recommender '\(v.name)' version \(v.version)",
      subtitle:
        "\(v.kind) · created \(ReportText.date(v.createdAt)) · measured on \(file) · report of \(ReportText.date(Date()))",
      sections: sections)
  }

  static func card(_ e: HeldOutEvaluation, _ v: ModelVersion) -> Section {
    let users = v.metrics["users"].map { Int($0) } ?? 0
    let items = v.metrics["items"].map { Int($0) } ?? e.catalogueItems
    let interactions = v.metrics["interactions"].map { Int($0) } ?? 0
    let described = [
      "users", "items", "interactions", TrainedRecommender.firstTimeMetric, TrainedRecommender.lastTimeMetric,
    ]
    let headline = v.metrics.filter { !described.contains($0.key) }.sorted { $0.key < $1.key }
      .map { "\($0.key) \(ReportText.number($0.value))" }
    return Section(
      "Model card",
      [
        .facts([
          ("Name", v.name), ("Version", "\(v.version)\(v.isActive ? " (active)" : "")"), ("Kind", v.kind),
          ("Created", ReportText.date(v.createdAt)),
          ("Purpose", "Each user's top products they have not bought or rated yet, for a shop's recommendations."),
          ("Training data", "\(users) users, \(items) items, \(interactions) distinct user–item pairs"),
          ("Time span", timeSpan(v)),
          ("Data fingerprint", "\(v.dataBytes) bytes, xxh64 \(v.dataHash)"),
          (
            "Parameters",
            v.parameters.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
          ),
          ("Training metrics", headline.isEmpty ? "none" : headline.joined(separator: ", ")),
          (
            "Known limits",
            "Catalogue of \(items) items: it recommends nothing else. Users it never saw get the most popular items (or a fold-in of a history they give). Measured here on \(e.users) users of the file; \(e.unknownUsers) users of the file are not in the model."
          ),
        ])
      ])
  }

  /// The training interactions' first and last time, or why it is not known.
  static func timeSpan(_ v: ModelVersion) -> String {
    guard let first = v.metrics[TrainedRecommender.firstTimeMetric],
      let last = v.metrics[TrainedRecommender.lastTimeMetric]
    else {
      return "not recorded (trained without --timestamp-column, or before the span was kept)"
    }
    return "\(FieldParser.formatTimestamp(first)) to \(FieldParser.formatTimestamp(last))"
  }

  static func quality(_ e: HeldOutEvaluation, file: String) -> Section {
    let metrics = ["precision", "recall", "NDCG", "MAP", "hit rate"]
    func values(_ q: HeldOutEvaluation.Quality) -> [Double] { [q.precision, q.recall, q.ndcg, q.map, q.hitRate] }
    let chart = Chart(
      title: "Top-\(e.k) quality against popularity",
      summary:
        "Precision, recall, NDCG, MAP and hit rate at \(e.k) of the model and of the most-popular baseline on \(e.users) users of \(file).",
      x: Axis("Metric @\(e.k)", scale: .categories(metrics)), y: Axis("Value"),
      series: e.quality.map { q in
        Series(q.name, mark: .bar, points: values(q).enumerated().map { Point(Double($0.0), $0.1) })
      })
    let table = Table(
      caption: "Top-\(e.k) quality, coverage and exposure",
      columns: [
        "", "precision", "recall", "NDCG", "MAP", "hit rate", "coverage", "avg popularity", "exposure Gini",
        "long-tail share",
      ],
      rows: e.quality.map {
        [
          $0.name, ReportText.number($0.precision), ReportText.number($0.recall), ReportText.number($0.ndcg),
          ReportText.number($0.map), ReportText.number($0.hitRate), ReportText.number($0.coverage),
          ReportText.number($0.averagePopularity), ReportText.number($0.exposureGini),
          ReportText.number($0.longTailShare),
        ]
      })
    return Section(
      "Quality on \(file)",
      [
        .facts([
          ("Users measured", "\(e.users) (\(e.heldOutInteractions) held-out interactions)"),
          (
            "Left out",
            "\(e.unknownUsers) users not in the model, \(e.unknownItems) rows of items not in its catalogue, \(e.alreadySeen) rows the user already had in training"
          ),
        ]), .chart(chart), .table(table),
      ])
  }

  static func activity(_ e: HeldOutEvaluation) -> Section {
    let names = e.buckets.map { "\($0.label) (\($0.users))" }
    let chart = Chart(
      title: "NDCG@\(e.k) by user activity",
      summary: "NDCG@\(e.k) of users grouped by their number of training interactions (users per group in brackets).",
      x: Axis("Training interactions (users)", scale: .categories(names)), y: Axis("NDCG@\(e.k)"),
      series: [
        Series("model", mark: .bar, points: e.buckets.enumerated().map { Point(Double($0.0), $0.1.modelNDCG) }),
        Series(
          "popularity", mark: .bar, points: e.buckets.enumerated().map { Point(Double($0.0), $0.1.popularityNDCG) }),
      ])
    return Section(
      "Users by activity",
      [
        .chart(chart),
        .table(
          Table(
            caption: "NDCG@\(e.k) by activity", columns: ["training interactions", "users", "model", "popularity"],
            rows: e.buckets.map {
              [$0.label, "\($0.users)", ReportText.number($0.modelNDCG), ReportText.number($0.popularityNDCG)]
            })),
      ])
  }

  static func tail(_ e: HeldOutEvaluation) -> Section {
    let names = e.longTail.map { "\($0.fromRank)–\($0.toRank)" }
    let chart = Chart(
      title: "The long tail: interactions and recommendations by popularity rank",
      summary:
        "Share of the training interactions and of each recommender's recommendations falling on each twentieth of the catalogue, most popular items first.",
      x: Axis("Items by popularity rank", scale: .categories(names)), y: Axis("Share", percent: true),
      series: [
        Series(
          "training interactions", mark: .bar,
          points: e.longTail.enumerated().map { Point(Double($0.0), $0.1.interactionShare) }, colour: 7),
        Series(
          "model", mark: .bar, points: e.longTail.enumerated().map { Point(Double($0.0), $0.1.modelShare) }, colour: 0),
        Series(
          "popularity", mark: .bar, points: e.longTail.enumerated().map { Point(Double($0.0), $0.1.popularityShare) },
          colour: 1),
      ], width: 900, height: 340)
    let bias = Chart(
      title: "Popularity bias",
      summary:
        "Mean training popularity of the recommended items against that of the items in the training interactions (\(ReportText.number(e.trainingAveragePopularity))).",
      x: Axis("", scale: .categories(["training interactions"] + e.quality.map(\.name))),
      y: Axis("Mean popularity", unit: "users per item"),
      series: [
        Series(
          "average popularity", mark: .bar,
          points: ([e.trainingAveragePopularity] + e.quality.map(\.averagePopularity)).enumerated().map {
            Point(Double($0.0), $0.1)
          }, colour: 4)
      ], width: 420)
    let gini = Chart(
      title: "Exposure inequality (Gini)",
      summary:
        "Gini index of how often each catalogue item is recommended: 0 when all are shown equally, 1 when one item takes all.",
      x: Axis("", scale: .categories(e.quality.map(\.name))), y: Axis("Gini index", range: 0...1),
      series: [
        Series(
          "Gini", mark: .bar, points: e.quality.enumerated().map { Point(Double($0.0), $0.1.exposureGini) }, colour: 5)
      ], width: 360)
    return Section(
      "Catalogue coverage, long tail and popularity bias",
      [
        .chart(chart), .grid([.chart(bias), .chart(gini)]),
        .table(
          Table(
            caption: "Shares by popularity rank",
            columns: ["items (rank)", "training interactions", "model", "popularity"],
            rows: e.longTail.map {
              [
                "\($0.fromRank)–\($0.toRank)", ReportText.number($0.interactionShare), ReportText.number($0.modelShare),
                ReportText.number($0.popularityShare),
              ]
            })),
      ])
  }

  static func tuning(_ trials: [TuningTrial], k: Int) -> Section {
    let families = Array(Set(trials.map(\.configuration.kind))).sorted()
    let series = families.map { kind in
      Series(
        kind, mark: .scatter,
        points: trials.filter { $0.configuration.kind == kind }.map { Point(Double($0.number), $0.score) })
    }
    let chart = Chart(
      title: "Tuning trials", summary: "Cross-validated score of each trial of recommend tune, by trial and family.",
      x: Axis("Trial"), y: Axis("Score (mean over the folds)"), series: series)
    return Section(
      "Tuning trials",
      [
        .chart(chart),
        .table(
          Table(
            caption: "Trials", columns: ["trial", "family", "score", "NDCG@\(k)", "seconds", "settings"],
            rows: trials.map { t in
              [
                "\(t.number)", t.configuration.kind, ReportText.number(t.score), ReportText.number(t.ranking.ndcg),
                ReportText.number(t.seconds),
                t.configuration.parameters.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
                  separator: ", "),
              ]
            })),
      ])
  }

  static func examples(_ e: HeldOutEvaluation) -> Section {
    var blocks: [Block] = []
    func name(_ i: HeldOutEvaluation.Item) -> String { i.title.isEmpty ? i.itemID : "\(i.title) (\(i.itemID))" }
    for u in e.examples {
      let rows = (0..<max(u.history.count, u.recommendations.count)).map { r -> [String] in
        [
          r < u.history.count ? name(u.history[r]) : "",
          r < u.recommendations.count
            ? "\(r + 1). \(name(u.recommendations[r]))\(u.recommendations[r].hit ? " ✓" : "")" : "",
        ]
      }
      blocks.append(
        .table(
          Table(
            caption: "User \(u.userID) (\(u.trainingInteractions) training interactions)",
            columns: ["history (up to 10)", "recommended (✓ held out: they took it)"], rows: rows)))
    }
    return Section("Example users", [.grid(blocks)])
  }

}
