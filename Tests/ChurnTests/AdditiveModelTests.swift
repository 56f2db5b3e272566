import Foundation
import LinearAlgebra
import Modeling
import TabularIO
import Testing

@testable import Churn

/// Issue 12: the additive model — its basis, smoothing, interaction search, explanation and reasons.
@Suite struct AdditiveModelTests {
  let dir: URL = {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("additive-\(UUID())")
    try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    return d
  }()

  /// The cubic B-spline basis sums to one, its constrained columns sum to zero over the values it was centered
  /// on, its penalty has rank count − 2, and values beyond the range are clamped.
  @Test func theBasisIsAPartitionOfUnityWithAConstraintAndAPenalty() throws {
    var g = SeededGenerator(seed: 3)
    let values = (0..<500).map { _ in g.nextDouble() * 10 - 2 }
    let b = PSpline(values: values, count: 10)
    #expect(b.lower == values.min()! && b.upper == values.max()!)
    for x in [b.lower, 0, 3.3, b.upper, (b.lower + b.upper) / 2] {
      let (s, v) = b.segment(x)
      #expect(s >= 0 && s + 3 < b.count)
      #expect(abs(v.0 + v.1 + v.2 + v.3 - 1) < 1e-12)
    }
    var sums = [Double](repeating: 0, count: b.width)
    var row = [Double](repeating: 0, count: b.width)
    for v in values {
      row.withUnsafeMutableBufferPointer { b.constrained(v, into: $0.baseAddress!) }
      for k in 0..<b.width { sums[k] += row[k] }
    }
    for s in sums { #expect(abs(s) < 1e-9) }
    let eigen = try SymmetricEigen(Matrix(rows: b.width, columns: b.width, elements: try b.penalty()))
    let top = eigen.values.max()!
    #expect(eigen.values.filter { $0 > 1e-9 * top }.count == b.count - 2)
    // Clamped beyond the range.
    var beyond = [Double](repeating: 0, count: b.width)
    beyond.withUnsafeMutableBufferPointer { b.constrained(b.upper + 100, into: $0.baseAddress!) }
    row.withUnsafeMutableBufferPointer { b.constrained(b.upper, into: $0.baseAddress!) }
    #expect(beyond == row)
  }

  /// Writes `csv` to a file of the suite's directory; returns its path.
  func write(_ csv: String, name: String) throws -> String {
    let path = dir.appendingPathComponent(name).path
    try csv.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// Options for an additive fit of `churned` without cross-validation.
  func additiveOptions() -> ChurnTrainingOptions {
    var o = ChurnTrainingOptions(target: "churned")
    o.folds = 0
    o.family = .additive
    return o
  }

  /// The quantile scale: the ends of the training range map to the ends, a value to its share of the values
  /// below it (linear between stored quantiles), a run of ties to the middle of its share; monotone; stored and
  /// read back; a model stored before warps decodes without one.
  @Test func theQuantileScaleMapsValuesToTheirShare() throws {
    // Half the values 0, the rest 1…100.
    let values = [Double](repeating: 0, count: 100) + (1...100).map(Double.init)
    let b = PSpline(values: values, count: 10, warped: true)
    let q = try #require(b.warp)
    #expect(q.count == PSpline.warpQuantiles + 1 && q.first == 0 && q.last == 100)
    func w(_ x: Double) -> Double { PSpline.warped(x, points: q, lower: b.lower, upper: b.upper) }
    #expect(w(-5) == 0 && w(100) == 100 && w(500) == 100)
    // The tied zeros hold the lower half: the middle of it, a quarter of the range.
    #expect(abs(w(0) - 25) < 0.5)
    // 50 is about three quarters of the way up the values.
    #expect(abs(w(50) - 75) < 1)
    var last = -1.0
    for x in stride(from: -1.0, through: 101, by: 0.25) {
      #expect(w(x) >= last)
      last = w(x)
    }
    #expect(w(.nan).isNaN)
    let back = try JSONDecoder().decode(PSpline.self, from: try JSONEncoder().encode(b))
    #expect(back == b)
    let plain = PSpline(values: values, count: 10)
    let stored = String(decoding: try JSONEncoder().encode(plain), as: UTF8.self)
    #expect(!stored.contains("warp"))
    #expect(try JSONDecoder().decode(PSpline.self, from: Data(stored.utf8)) == plain)
  }

  /// A file whose churn log-odds step where a skewed number's values are dense (its median) and rise in the
  /// sparse upper tail of an evenly spread one.
  func scalesFile(rows: Int = 4000, seed: UInt64 = 5) throws -> String {
    var g = SeededGenerator(seed: seed)
    var csv = "id,skewed,even,churned\n"
    for i in 0..<rows {
      let skewed = exp(2 * (g.nextDouble() + g.nextDouble() + g.nextDouble() - 1.5))
      let even = g.nextDouble()
      let eta = -1 + (skewed > 1 ? 1.2 : -0.6) + (even > 0.9 ? 2.5 * (even - 0.9) / 0.1 : 0)
      let y = g.nextDouble() < 1 / (1 + exp(-eta))
      csv += "C\(i),\(skewed),\(even),\(y ? "Yes" : "No")\n"
    }
    return try write(csv, name: "scales-\(seed).csv")
  }

  /// Each number's knots go where its own fit is better: the skewed number's on its quantile scale, the even
  /// one's on its values; the scorer agrees with the fit's design on the warped term.
  @Test func knotsGoOnTheScaleWhereTheNumberFitsBetter() throws {
    let o = additiveOptions()
    let path = try scalesFile()
    let report = try ChurnTrainer.train(path: path, options: o)
    let model = report.model
    let a = try #require(model.additive)
    let skewed = try #require(a.smooths.first { $0.name == "s(skewed)" })
    let even = try #require(a.smooths.first { $0.name == "s(even)" })
    #expect(skewed.bases[0].warp != nil)
    #expect(even.bases[0].warp == nil)
    #expect(skewed.effect(2).value - skewed.effect(0.5).value > 1.2)
    let scorer = try ChurnRecordScorer(model: model)
    let reader = try CSVReader(path: path)
    let positions = model.columns.map { reader.header.index(of: $0.name)! }
    var checked = 0
    while try reader.next(), checked < 200 {
      guard case .ok = scorer.encode({ reader.fieldBytes(positions[$0]) }) else { continue }
      var row = [Double](repeating: 0, count: a.width)
      row.withUnsafeMutableBufferPointer {
        a.designRow(raw: scorer.raw, features: model.features, into: $0.baseAddress!)
      }
      let beta = a.parametricCoefficients + a.smooths.flatMap(\.coefficients)
      #expect(abs(zip(row, beta).map(*).reduce(0, +) - scorer.logOdds()) < 1e-9)
      checked += 1
    }
    #expect(checked == 200)
    // Without the choice, both stay on their values.
    var fixed = o
    fixed.additive.chooseKnotScale = false
    let plain = try #require(try ChurnTrainer.train(path: path, options: fixed).model.additive)
    #expect(plain.smooths.allSatisfy { $0.bases[0].warp == nil })
  }

  /// A file whose churn log-odds are a step in `step`, a U in `u`, a product of `a` and `b`, nothing in
  /// `noise`, and a shift for one plan.
  func shapesFile(rows: Int = 6000, seed: UInt64 = 11) throws -> String {
    var g = SeededGenerator(seed: seed)
    var csv = "id,step,u,a,b,noise,plan,churned\n"
    for i in 0..<rows {
      let (step, u, a, b, noise) = (g.nextDouble(), g.nextDouble(), g.nextDouble(), g.nextDouble(), g.nextDouble())
      let plan = g.nextDouble() < 0.3 ? "gold" : "basic"
      let eta =
        -1 + (step > 0.5 ? 1.5 : -0.5) + 10 * (u - 0.5) * (u - 0.5) - 0.6 + 6 * (a - 0.5) * (b - 0.5)
        + (plan == "gold" ? -0.8 : 0)
      let y = g.nextDouble() < 1 / (1 + exp(-eta))
      csv += "C\(i),\(step),\(u),\(a),\(b),\(noise),\(plan),\(y ? "Yes" : "No")\n"
    }
    return try write(csv, name: "shapes-\(seed).csv")
  }

  /// Smoothing recovers a step and a U-shape, leaves a noise column flat, and the interaction search finds the
  /// product term first.
  @Test func smoothingAndInteractionSearchRecoverKnownShapes() throws {
    let o = additiveOptions()
    let report = try ChurnTrainer.train(path: try shapesFile(), options: o)
    let a = try #require(report.model.additive)
    func term(_ name: String) throws -> SmoothTerm { try #require(a.smooths.first { $0.name == name }) }
    let step = try term("s(step)")
    #expect(step.effect(0.8).value - step.effect(0.2).value > 1.5)
    #expect(abs(step.effect(0.3).value - step.effect(0.1).value) < 0.4)  // flat on each side
    #expect(step.edf > 2)  // not a straight line
    let u = try term("s(u)")
    #expect(u.effect(0.02).value - u.effect(0.5).value > 1.6)
    #expect(u.effect(0.98).value - u.effect(0.5).value > 1.6)
    let noise = try term("s(noise)")
    #expect(noise.edf < 2)
    #expect(abs(noise.effect(0.9).value - noise.effect(0.1).value) < 0.3)
    // The product a·b: the tensor-product term is the first interaction found, and has the product's sign.
    let interactions = a.smooths.filter { $0.kind != .main }
    #expect(interactions.first?.name == "ti(a,b)", "\(interactions.map(\.name))")
    let ab = try term("ti(a,b)")
    #expect(ab.effect(0.95, 0.95).value - ab.effect(0.95, 0.05).value > 1.5)
    #expect(ab.pValue < 1e-6)
    // The plan is a parametric main effect.
    let gold = try #require(report.summary.coefficients.first { $0.name == "plan=gold" })
    #expect(abs(gold.estimate + 0.8) < 0.3)
    #expect(a.devianceExplained > 0.1 && a.aic > 0)
  }

  /// The reasons' contributions (every input column's and interaction's) sum with the baseline to the log-odds,
  /// for every customer; the stored model round-trips and scores the same.
  @Test func contributionsSumToTheLogOddsAndTheModelRoundTrips() throws {
    let o = additiveOptions()
    let path = try shapesFile(rows: 3000, seed: 12)
    let report = try ChurnTrainer.train(path: path, options: o)
    let model = report.model
    #expect(!model.interactionTerms.isEmpty)
    let decoded = try JSONDecoder().decode(ChurnModel.self, from: try JSONEncoder().encode(model))
    #expect(decoded.additive == model.additive)
    let scorer = try ChurnRecordScorer(model: model)
    let again = try ChurnRecordScorer(model: decoded)
    let reader = try CSVReader(path: path)
    let positions = model.columns.map { reader.header.index(of: $0.name)! }
    var checked = 0
    while try reader.next(), checked < 300 {
      guard case .ok = scorer.encode({ reader.fieldBytes(positions[$0]) }) else {
        Issue.record("bad row")
        continue
      }
      _ = again.encode { reader.fieldBytes(positions[$0]) }
      let eta = scorer.logOdds()
      // Scoring's four-nonzero evaluation agrees with the fit's design row.
      let a = try #require(model.additive)
      var row = [Double](repeating: 0, count: a.width)
      row.withUnsafeMutableBufferPointer {
        a.designRow(raw: scorer.raw, features: model.features, into: $0.baseAddress!)
      }
      let beta = a.parametricCoefficients + a.smooths.flatMap(\.coefficients)
      #expect(abs(zip(row, beta).map(*).reduce(0, +) - eta) < 1e-9)
      scorer.contributions()
      var total = scorer.baseline
      for k in 0..<scorer.reasonCount { total += scorer.perColumn[k] }
      #expect(abs(total - eta) < 1e-9, "row \(checked)")
      #expect(again.logOdds() == eta)
      checked += 1
    }
    #expect(checked == 300)
    // Per-customer scoring names interaction terms as reasons when they contribute most.
    let p = try model.score(
      fields: ["step": "0.9", "u": "0.5", "a": "0.99", "b": "0.99", "noise": "0.5", "plan": "basic"], reasons: 10)
    #expect(p.reasons.contains { $0.column == "ti(a,b)" && $0.value == "0.99×0.99" }, "\(p.reasons)")
  }

  /// `explain`'s grid on a small model with known coefficients: the effect is the basis times the coefficients,
  /// the interval ±1.96 standard errors from the covariance.
  @Test func explainGivesTheShapeAndItsInterval() throws {
    let basis = PSpline(lower: 0, upper: 10, count: 5, centeredOn: [0, 2.5, 5, 7.5, 10])
    let w = basis.width
    var covariance = [Double](repeating: 0, count: w * w)
    for k in 0..<w { covariance[k * w + k] = 0.25 }
    let term = SmoothTerm(
      kind: .main, name: "s(x)", columns: [0], features: [0], bases: [basis], coefficients: [1, -1, 0.5, 2],
      covariance: covariance)
    let model = AdditiveChurnModel(
      parametric: [], parametricCoefficients: [0], parametricCovariance: [1], smooths: [term], duplicates: [:],
      deviance: 1, nullDeviance: 2, totalEDF: 2, fittedRows: 5, trainingRows: 5)
    let points = try model.shapes(points: 5)
    #expect(points.map(\.x) == [0, 2.5, 5, 7.5, 10])
    for p in points {
      var b = [Double](repeating: 0, count: w)
      b.withUnsafeMutableBufferPointer { basis.constrained(p.x, into: $0.baseAddress!) }
      let effect = zip(b, term.coefficients).map(*).reduce(0, +)
      let se = (0.25 * b.map { $0 * $0 }.reduce(0, +)).squareRoot()
      #expect(abs(p.effect - effect) < 1e-12)
      #expect(abs(p.upper - p.effect - 1.959963984540054 * se) < 1e-12)
      #expect(abs(p.effect - p.lower - 1.959963984540054 * se) < 1e-12)
      #expect(p.y == nil && p.term == "s(x)")
    }
    #expect(throws: CommerceError.self) { _ = try model.shapes(term: "s(z)") }
  }

  /// The penalized fit with REML: a wiggly truth gets more effective degrees of freedom than a straight one, and a
  /// pure-noise term is shrunk to a line (its λ large).
  @Test func remlSmoothingAdaptsToTheTruth() throws {
    var g = SeededGenerator(seed: 21)
    let n = 4000
    let xs = (0..<n).map { _ in g.nextDouble() }
    let zs = (0..<n).map { _ in g.nextDouble() }
    let labels = (0..<n).map { i in g.nextDouble() < 1 / (1 + exp(-(2 * sin(3 * .pi * xs[i])))) }
    let bx = PSpline(values: xs, count: 20)
    let bz = PSpline(values: zs, count: 20)
    let width = 1 + bx.width + bz.width
    var values = [Double](repeating: 0, count: n * width)
    for i in 0..<n {
      values[i * width] = 1
      values.withUnsafeMutableBufferPointer { v in
        bx.constrained(xs[i], into: v.baseAddress! + i * width + 1)
        bz.constrained(zs[i], into: v.baseAddress! + i * width + 1 + bx.width)
      }
    }
    let fitted = try PenalizedLogisticRegression.fit(
      DesignMatrix(rows: n, columns: width, values: values), labels: labels,
      penalties: [
        .init(columns: 1..<(1 + bx.width), matrix: try bx.penalty(), rank: bx.count - 2),
        .init(columns: (1 + bx.width)..<width, matrix: try bz.penalty(), rank: bz.count - 2),
      ])
    #expect(fitted.converged)
    #expect(fitted.edf[0] > 4, "\(fitted.edf)")
    #expect(fitted.edf[1] < 2, "\(fitted.edf)")
    #expect(fitted.deviance < fitted.nullDeviance)
  }
}
