import Foundation
import Testing

@testable import Modeling

/// A design with an intercept and two features, labels drawn from a known model.
func logisticData(n: Int = 2000, seed: UInt64 = 5) -> (DesignMatrix, [Bool]) {
  var g = SeededGenerator(seed: seed)
  var values: [Double] = []
  var labels: [Bool] = []
  for _ in 0..<n {
    let a = g.nextGaussian()
    let b = g.nextDouble() < 0.3 ? 1.0 : 0.0
    values += [1, a, b]
    let p = 1 / (1 + exp(-(-0.5 + 1.2 * a - 0.8 * b)))
    labels.append(g.nextDouble() < p)
  }
  return (DesignMatrix(rows: n, columns: 3, values: values), labels)
}

@Suite struct LogisticRegressionTests {
  @Test func recoversTheGeneratingCoefficients() throws {
    let (x, y) = logisticData(n: 20_000)
    let fit = try LogisticRegression.fit(x, labels: y)
    #expect(fit.converged)
    #expect(abs(fit.coefficients[0] + 0.5) < 0.06)
    #expect(abs(fit.coefficients[1] - 1.2) < 0.06)
    #expect(abs(fit.coefficients[2] + 0.8) < 0.08)
    // The gradient vanishes at the maximum: Xᵀ(y − p) ≈ 0.
    let p = try fit.probabilities(x)
    for j in 0..<3 {
      var g = 0.0
      for i in 0..<x.rows { g += x.values[i * 3 + j] * ((y[i] ? 1 : 0) - p[i]) }
      #expect(abs(g) < 1e-6)
    }
    #expect(fit.logLikelihood > fit.nullLogLikelihood)
    #expect(fit.standardErrors.allSatisfy { $0 > 0 && $0 < 0.1 })
  }

  @Test func ridgeShrinksAndLassoZeroes() throws {
    let (x, y) = logisticData()
    let plain = try LogisticRegression.fit(x, labels: y)
    var c = LogisticRegression.Configuration()
    c.l2 = 500
    let ridge = try LogisticRegression.fit(x, labels: y, configuration: c)
    #expect(abs(ridge.coefficients[1]) < abs(plain.coefficients[1]))
    // The penalized gradient vanishes: Xᵀ(y − p) = l2·β for the penalized coefficients.
    let p = try ridge.probabilities(x)
    var g = 0.0
    for i in 0..<x.rows { g += x.values[i * 3 + 1] * ((y[i] ? 1 : 0) - p[i]) }
    #expect(abs(g - 500 * ridge.coefficients[1]) < 1e-5)
    c = LogisticRegression.Configuration()
    c.l1 = 300
    let lasso = try LogisticRegression.fit(x, labels: y, configuration: c)
    #expect(lasso.coefficients[2] == 0)
    #expect(lasso.coefficients[1] > 0 && lasso.coefficients[1] < plain.coefficients[1])
  }

  @Test func aliasedColumnsAreFound() throws {
    // Column 3 = column 1 + column 2; column 4 constant (= intercept).
    var g = SeededGenerator(seed: 1)
    var values: [Double] = []
    for _ in 0..<50 {
      let a = g.nextGaussian()
      let b = g.nextGaussian()
      values += [1, a, b, a + b, 2]
    }
    #expect(try LogisticRegression.aliasedColumns(DesignMatrix(rows: 50, columns: 5, values: values)) == [3, 4])
  }

  @Test func errors() {
    let x = DesignMatrix(rows: 2, columns: 1, values: [1, 1])
    #expect(throws: ModelingError.singleClass(what: "logistic regression")) {
      _ = try LogisticRegression.fit(x, labels: [true, true])
    }
    #expect(throws: ModelingError.self) { _ = try LogisticRegression.fit(x, labels: [true]) }
    var c = LogisticRegression.Configuration()
    c.l2 = -1
    #expect(throws: ModelingError.self) { _ = try LogisticRegression.fit(x, labels: [true, false], configuration: c) }
    // Aliased columns left in: a singular information matrix is reported.
    let aliased = DesignMatrix(rows: 4, columns: 2, values: [1, 1, 1, 1, 1, 1, 1, 1])
    #expect(throws: ModelingError.self) { _ = try LogisticRegression.fit(aliased, labels: [true, false, true, false]) }
  }
}

@Suite struct DistributionTests {
  @Test func knownValues() {
    // scipy.stats: norm.cdf(1.96) = 0.9750021048517795, chi2.sf(3.84, 1) = 0.05004352124870519,
    // chi2.sf(30, 10) = 0.000856641210775301, chi2.sf(5, 20) = 0.9997226479053791
    // (Scripts/reference/distributions_reference.py).
    #expect(abs(Distributions.normalCDF(1.96) - 0.9750021048517795) < 1e-12)
    #expect(abs(Distributions.twoSidedNormalPValue(-1.96) - 2 * (1 - 0.9750021048517795)) < 1e-12)
    #expect(abs(Distributions.chiSquaredSurvival(3.84, degreesOfFreedom: 1) - 0.05004352124870519) < 1e-10)
    #expect(abs(Distributions.chiSquaredSurvival(30, degreesOfFreedom: 10) - 0.000856641210775301) < 1e-12)
    #expect(abs(Distributions.chiSquaredSurvival(5, degreesOfFreedom: 20) - 0.9997226479053791) < 1e-10)
    #expect(Distributions.chiSquaredSurvival(0, degreesOfFreedom: 3) == 1)
  }
}

@Suite struct WeightedLogisticRegressionTests {
  @Test func integerWeightsEqualRepeatedRows() throws {
    let (x, y) = logisticData(n: 500, seed: 9)
    // Weight 3 on every positive = each positive row three times.
    let weights = y.map { $0 ? 3.0 : 1.0 }
    let weighted = try LogisticRegression.fit(x, labels: y, weights: weights)
    var rows: [Int] = []
    for i in 0..<x.rows { rows += Array(repeating: i, count: y[i] ? 3 : 1) }
    let repeated = try LogisticRegression.fit(x.subset(rows), labels: rows.map { y[$0] })
    for (a, b) in zip(weighted.coefficients, repeated.coefficients) { #expect(abs(a - b) < 1e-8) }
    #expect(abs(weighted.logLikelihood - repeated.logLikelihood) < 1e-6)
    #expect(abs(weighted.nullLogLikelihood - repeated.nullLogLikelihood) < 1e-6)
    #expect(throws: ModelingError.self) { _ = try LogisticRegression.fit(x, labels: y, weights: [1]) }
    #expect(throws: ModelingError.self) {
      _ = try LogisticRegression.fit(x, labels: y, weights: Array(repeating: -1, count: x.rows))
    }
  }
}
