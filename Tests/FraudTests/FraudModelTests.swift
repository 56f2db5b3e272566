import Foundation
import Modeling
import Testing

@testable import Fraud

@Suite struct FraudModelTests {
  let f = FraudFeature.count

  func logistic() -> FraudModel {
    FraudModel(
      estimator: .logistic(
        LogisticFraudEstimator(
          coefficients: (0...f).map { Double($0) / 10 }, means: (0..<f).map { Double($0) },
          sds: [Double](repeating: 2, count: f))), reviewThreshold: 0.5, declineThreshold: 0.9, rules: .standard,
      labelDelay: 86_400, thresholdRule: "test")
  }

  @Test func storedFormKeepsTheLogisticFieldsAtTheTop() throws {
    let data = try JSONEncoder().encode(logistic())
    let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    #expect(
      Set(object.keys) == [
        "coefficients", "means", "sds", "reviewThreshold", "declineThreshold", "rules", "labelDelay",
        "thresholdRule",
      ])
    let back = try JSONDecoder().decode(FraudModel.self, from: data)
    #expect(back.estimator == logistic().estimator && back.reviewThreshold == 0.5 && back.thresholdRule == "test")
  }

  @Test func emptyCoefficientsAreRulesOnlyAndWrongSizesAreRefused() throws {
    var rules = FraudModel.rulesOnly(.standard, labelDelay: 60)
    rules.reviewThreshold = 1
    rules.declineThreshold = 1
    let back = try JSONDecoder().decode(FraudModel.self, from: try JSONEncoder().encode(rules))
    #expect(back.estimator == .rulesOnly && !back.hasModel && back.labelDelay == 60)
    var text = String(decoding: try JSONEncoder().encode(logistic()), as: UTF8.self)
    text = text.replacingOccurrences(of: "\"sds\":[", with: "\"sds\":[1,")
    #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode(FraudModel.self, from: Data(text.utf8)) }
  }

  @Test func scorerUsesTheRawScaleOfTheStandardizedModel() {
    let model = logistic()
    guard case .logistic(let l) = model.estimator else { return }
    let x = (0..<f).map { Double($0) * 1.5 + 1 }
    var eta = l.coefficients[0]
    for k in 0..<f { eta += l.coefficients[k + 1] * (x[k] - l.means[k]) / l.sds[k] }
    let scorer = Scorer(model: model)
    var reasons: [UInt8] = []
    let (p, _) = x.withUnsafeBufferPointer { scorer.score($0.baseAddress!, RuleInputs(), reasons: &reasons) }
    #expect(abs(p - 1 / (1 + exp(-eta))) < 1e-12)
    let rulesOnly = Scorer(model: .rulesOnly(RuleSet(rules: []), labelDelay: 0))
    let (zero, decision) = x.withUnsafeBufferPointer {
      rulesOnly.score($0.baseAddress!, RuleInputs(), reasons: &reasons)
    }
    #expect(zero == 0 && decision == .approve)
  }

  /// Edges of every shape the table meets: none, one, a few, crowded quantiles beside a wide range (cells holding
  /// many edges), negative values, integers' midpoints.
  static func tableEstimator() -> AdditiveFraudEstimator {
    var g = SeededGenerator(seed: 7)
    var edges: [[Double]] = []
    for k in 0..<FraudFeature.count {
      var e: [Double]
      switch k % 6 {
      case 0: e = []
      case 1: e = [0.5]
      case 2: e = [-3, -1e-9, 0, 2.5]
      case 3: e = (0..<255).map { Double($0) + 0.5 }
      case 4:
        // 200 edges within 0.001 of 0.01 and a few out to 1: cells with up to a hundred edges.
        e = (0..<200).map { 0.01 + Double($0) * 5e-6 } + [0.2, 0.5, 1]
      default: e = (0..<100).map { _ in Double.random(in: 0..<1, using: &g) * 50 - 10 }.sorted()
      }
      var unique: [Double] = []
      for v in e where unique.last.map({ v > $0 }) ?? true { unique.append(v) }
      edges.append(unique)
    }
    return AdditiveFraudEstimator(
      intercept: -2, edges: edges, weights: edges.map { e in (0...e.count).map { Double($0) * 0.25 - 1 } })
  }

  @Test func scoringTableFindsTheBinsOfTheEdgesBinarySearch() {
    let a = Self.tableEstimator()
    var g = SeededGenerator(seed: 11)
    for cells in [4, 64, Scorer.gridCells] {
      let table = AdditiveTable(a, cells: cells)
      for k in 0..<FraudFeature.count {
        let e = a.edges[k]
        // Each edge, its neighbours either side, the far ends, and values drawn across and beyond the range.
        var values: [Double] = [-.infinity, .infinity, -1e300, 1e300, 0, -0.0, .leastNonzeroMagnitude]
        for v in e { values += [v, v.nextDown, v.nextUp, v - 1e-7, v + 1e-7] }
        let lo = (e.first ?? 0) - 2
        let hi = (e.last ?? 0) + 2
        for _ in 0..<2_000 { values.append(lo + (hi - lo) * Double.random(in: 0..<1, using: &g)) }
        for v in values {
          let expected = AdditiveFraudEstimator.bin(v, e)
          #expect(table.bin(k, v) == expected, "feature \(k), \(cells) cells, value \(v)")
          #expect(table.term(k, v) == a.weights[k][expected])
        }
        // Not a number, which no feature should be, reads as the first bin.
        #expect(table.bin(k, .nan) == 0)
      }
    }
  }

  @Test func additiveScoreSumsTheTermsOfEveryFeature() {
    let a = Self.tableEstimator()
    let model = FraudModel(
      estimator: .additive(a), reviewThreshold: 0.5, declineThreshold: 0.9, rules: RuleSet(rules: []),
      labelDelay: 0, thresholdRule: "test")
    let scorer = Scorer(model: model)
    var g = SeededGenerator(seed: 3)
    for _ in 0..<200 {
      let x = (0..<f).map { _ in Double.random(in: 0..<1, using: &g) * 60 - 15 }
      var eta = a.intercept
      for k in 0..<f { eta += a.weights[k][AdditiveFraudEstimator.bin(x[k], a.edges[k])] }
      var reasons: [UInt8] = []
      let (p, _) = x.withUnsafeBufferPointer { scorer.score($0.baseAddress!, RuleInputs(), reasons: &reasons) }
      #expect(abs(p - 1 / (1 + exp(-eta))) < 1e-12)
    }
  }
}
