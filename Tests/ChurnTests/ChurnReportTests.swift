import Charts
import Foundation
import Modeling
import Storage
import StorageSQLite
import TabularIO
import Testing

@testable import Churn

@Suite struct ClassifierCurvesTests {
  @Test func curvesOfAKnownRanking() {
    let labels = [true, false, true, false, true]
    let scores = [0.9, 0.8, 0.7, 0.3, 0.2]
    let c = ClassifierCurves(labels: labels, scores: scores)
    let third = 1.0 / 3
    let roc = c.roc.map { [$0.x, $0.y] }
    let expected: [[Double]] = [[0, 0], [0, third], [0.5, third], [0.5, 2 * third], [1, 2 * third], [1, 1]]
    #expect(roc.count == expected.count)
    for (a, b) in zip(roc, expected) { #expect(abs(a[0] - b[0]) < 1e-12 && abs(a[1] - b[1]) < 1e-12) }
    #expect(c.roc.dropFirst().map(\.threshold) == scores)
    // Precision–recall: (1/3, 1), (1/3, 1/2), (2/3, 2/3), (2/3, 1/2), (1, 3/5).
    let pr = c.precisionRecall.map { [$0.x, $0.y] }
    let expectedPR: [[Double]] = [[third, 1], [third, 0.5], [2 * third, 2 * third], [2 * third, 0.5], [1, 0.6]]
    for (a, b) in zip(pr, expectedPR) { #expect(abs(a[0] - b[0]) < 1e-12 && abs(a[1] - b[1]) < 1e-12) }
    // The sweep at 0.5: scores ≥ 0.5 are 0.9, 0.8, 0.7 — two churners of three alerts, two of three churners.
    let half = c.sweep.first { abs($0.threshold - 0.5) < 1e-9 }!
    #expect(abs(half.precision - 2 * third) < 1e-12 && abs(half.recall - 2 * third) < 1e-12)
    #expect(abs(half.alertRate - 0.6) < 1e-12 && abs(half.f1 - 2 * third) < 1e-12)
    #expect(c.sweep.count == 99)
    // Reliability: one score per occupied bin.
    #expect(c.reliability.map(\.count) == [0, 0, 1, 1, 0, 0, 0, 1, 1, 1])
    #expect(c.reliability[9].observedRate == 1 && c.reliability[8].observedRate == 0)
    #expect(abs(c.reliability[7].meanPredicted - 0.7) < 1e-12)
    #expect(c.positivesByScore.reduce(0, +) == 3 && c.negativesByScore.reduce(0, +) == 2)
    #expect(c.positivesByScore[18] == 1 && c.negativesByScore[16] == 1)
  }

  @Test func thinningKeepsTheShape() {
    // A straight line needs its two ends; a curve keeps at most the limit, ends included.
    let line = (0...1000).map { ClassifierCurves.CurvePoint(x: Double($0), y: 2 * Double($0), threshold: 0) }
    #expect(CurveThinning.thin(line, limit: 50).count == 2)
    let curve = (0...5000).map { k -> ClassifierCurves.CurvePoint in
      let x = Double(k) / 5000
      return .init(x: x, y: x.squareRoot(), threshold: 1 - x)
    }
    let thin = CurveThinning.thin(curve, limit: 200)
    #expect(thin.count <= 200 && thin.count > 10)
    #expect(thin.first == curve.first && thin.last == curve.last)
    // Every dropped point lies within 1% (of the unit square) of its segment of the thinned polyline.
    var k = 0
    for p in curve {
      while k + 1 < thin.count - 1 && thin[k + 1].x < p.x { k += 1 }
      let (a, b) = (thin[k], thin[min(k + 1, thin.count - 1)])
      let (dx, dy) = (b.x - a.x, b.y - a.y)
      let cross: Double = dy * (p.x - a.x) - dx * (p.y - a.y)
      let length: Double = max((dx * dx + dy * dy).squareRoot(), 1e-300)
      #expect(abs(cross) / length < 0.01)
    }
  }
}

@Suite struct ChurnReportTests {
  func trained(folds: Int = 3) throws -> (StoredChurnModel, ModelStore, String) {
    var o = ChurnTrainingOptions(target: "churned")
    o.folds = folds
    let path = temporaryFile(smallCustomers(rows: 300))
    let report = try ChurnTrainer.train(path: path, options: o)
    let store = try ModelStore(path: (path as NSString).deletingLastPathComponent + "/s.sqlite", create: true)
    _ = try ChurnStore.register(report, options: o, in: store, name: "churn")
    return (try ChurnStore.load(from: store, name: "churn"), store, path)
  }

  func chart(_ page: Page, _ title: String) -> Chart? { page.charts.first { $0.title.hasPrefix(title) } }

  @Test func chartsCarryTheEvaluationsNumbers() throws {
    let (stored, store, path) = try trained()
    let record = try #require(try ChurnStore.training(from: store, stored.version))
    let v = try #require(record.validation)
    let curves = try #require(v.curves)
    let shifted = temporaryFile(smallCustomers(rows: 300).replacingOccurrences(of: ",max,", with: ",basic,"))
    let page = try ChurnReport.build(stored: stored, store: store, data: shifted, skipBadRows: false)
    // ROC, calibration, lift: the stored cross-validation's values, point for point.
    let roc = try #require(chart(page, "ROC curve"))
    #expect(roc.series[0].points.map { [$0.x, $0.y] } == curves.roc.map { [$0.x, $0.y] })
    let calibration = try #require(chart(page, "Calibration"))
    let filled = curves.reliability.filter { $0.count > 0 }
    #expect(calibration.series[0].points.map { [$0.x, $0.y] } == filled.map { [$0.meanPredicted, $0.observedRate] })
    // One series drawn as a line with a marker per bin: one legend entry at most, never two of one colour.
    #expect(calibration.series.count == 1 && calibration.series[0].mark == .linePoints)
    let svg = SVGRenderer.render(calibration, id: "calibration")
    #expect(svg.components(separatedBy: "<circle ").count - 1 == filled.count)
    #expect(svg.components(separatedBy: "<path fill=\"none\"").count - 1 == 1)
    #expect(!svg.contains("class=\"legend\""))
    let lift = try #require(chart(page, "Lift by decile"))
    #expect(lift.series[0].points.map(\.y) == v.deciles.map(\.lift))
    let sweep = try #require(chart(page, "Threshold sweep"))
    #expect(sweep.series.map(\.name) == ["precision", "recall", "F1", "alert rate"])
    #expect(sweep.series[1].points.map(\.y) == curves.sweep.map(\.recall))
    // A legend sits between the title (baseline 18) and the plot's top edge, touching neither.
    let sweepSVG = SVGRenderer.render(sweep, id: "sweep")
    let rects = sweepSVG.matches(of: /<rect x="[0-9.]+" y="([0-9.]+)" width="12" height="10"/)
    let rectTops: [Double] = rects.compactMap { Double(String($0.1)) }
    let domain = try #require(sweepSVG.firstMatch(of: /<line class="domain" x1="([0-9.]+)" y1="([0-9.]+)" x2="\1"/))
    let plotTop = try #require(Double(String(domain.2)))
    #expect(rectTops.count == 4)
    for y in rectTops { #expect(y >= 22 && y + 14 <= plotTop) }
    // The evaluation the command prints is the one in the record (what `churn evaluate` without --data shows).
    #expect(v.rocAUC == stored.model.metrics["cv_roc_auc"])
    // Drift: the page's rows are ChurnDrift's, and plan's chi-squared equals one computed from the counts.
    let drift = try ChurnDrift.report(model: stored.model, path: shifted, skipBadRows: false)
    let plan = try #require(drift.rows.first { $0.name == "plan" })
    let test = try #require(plan.test)
    #expect(test.test == .chiSquared)
    // Training: 100 of each plan; the file: 200 basic, 100 pro, 0 max. Levels in driftLevels order.
    let spec = stored.model.columns.first { $0.name == "plan" }!
    let current = spec.driftLevels.map { $0 == "basic" ? 200.0 : ($0 == "pro" ? 100 : 0) }
    let reference = spec.driftLevels.map { _ in 100.0 }
    let expected = DriftStatistics.chiSquare(observed: current, expected: reference)
    #expect(abs(test.statistic - expected.statistic) < 1e-9 && abs(test.pValue! - expected.pValue) < 1e-12)
    #expect(test.drifted)
    let planChart = try #require(chart(page, "plan"))
    #expect(planChart.series[0].points.map(\.y) == plan.referenceShares)
    #expect(planChart.series[1].points.map(\.y) == plan.currentShares)
    // Numbers: calls against its stored training values by KS (300 rows ≤ 1,000), unchanged, so no drift.
    let calls = try #require(drift.rows.first { $0.name == "calls" }?.test)
    #expect(calls.test == .kolmogorovSmirnov)
    #expect(calls.statistic == 0 && calls.pValue == 1 && !calls.drifted)
    // Importance and example customers from the same file.
    let imp = try PreparedChurnModel(stored.model).importance(path: path)
    #expect(imp.customers == 300 && imp.examples.count == 3)
    for e in imp.examples {
      let sum = e.baseline + e.contributions.reduce(0) { $0 + $1.contribution }
      #expect(abs(sum - e.logOdds) < 1e-9)
      #expect(abs(LogisticRegression.sigmoid(e.logOdds) - e.probability) < 1e-12)
    }
    #expect(imp.examples[0].probability >= imp.examples[1].probability)
    #expect(imp.examples[1].probability >= imp.examples[2].probability)
    // One file, nothing fetched, no script, every chart with a text alternative.
    let html = page.render()
    #expect(!html.contains("<script") && !html.contains("src=") && !html.contains("href=\"http"))
    #expect(html.components(separatedBy: "<svg ").count - 1 == page.charts.count + page.heatMaps.count)
    #expect(page.charts.allSatisfy { !$0.summary.isEmpty && !$0.series.isEmpty })
  }

  @Test func withoutCrossValidationOrDataThePageSaysWhatIsMissing() throws {
    let (stored, store, _) = try trained(folds: 0)
    let page = try ChurnReport.build(stored: stored, store: store, data: nil, skipBadRows: false)
    let html = page.render()
    #expect(html.contains("trained without cross-validation (--cv 0)"))
    #expect(chart(page, "ROC curve") == nil)
    #expect(!page.sections.contains { $0.title.hasPrefix("Drift") })
  }

  @Test func numericReferenceIsKeptForTheTests() throws {
    let (stored, _, _) = try trained(folds: 0)
    let charges = stored.model.columns.first { $0.name == "charges" }!
    // 300 rows, one blank: 299 values, all kept (below 2,000), sorted.
    #expect(charges.driftCount == 299)
    #expect(charges.driftSample?.count == 299)
    #expect(charges.driftSample == charges.driftSample?.sorted())
  }
}
