import Foundation
import Modeling
import TabularIO
import Testing

@testable import Churn

/// The repository's SampleData directory.
func sampleData(_ path: String) -> String {
  URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("SampleData").appendingPathComponent(path).path
}

func relativelyClose(_ a: Double, _ b: Double, _ tolerance: Double = 1e-6) -> Bool {
  abs(a - b) <= tolerance * max(abs(b), 1e-12)
}

@Suite struct StatsmodelsAgreementTests {
  // statsmodels' Logit (Newton, tol 1e-12) on the design matrix `churn train --design-matrix` writes for
  // SampleData/churn/customers.csv: Scripts/reference/churn_statsmodels.py.
  static let reference: [(String, Double, Double)] = [
    ("intercept", -2.07208573898935, 0.3564834745641122),
    ("contract=Two year", -2.457596835353286, 0.1558802708706487),
    ("contract=One year", -1.616576940705387, 0.12464424698090416),
    ("tenure_months", -0.008798734315995746, 0.0073076555398738285),
    ("monthly_charges", 0.02584531307641155, 0.005682526501206172),
    ("total_charges", -8.996451012536801e-05, 0.00011750990604445262),
    ("total_charges (missing)", 0.8346974650017798, 0.321976600744217),
    ("support_calls", 0.27850637273342876, 0.03741063979352871),
    ("payment_method=Credit card", 0.2230512140816539, 0.13444140166768692),
    ("payment_method=Electronic check", 0.5756992081973632, 0.1319453981956842),
    ("payment_method=Mailed check", 0.06519145008621288, 0.13676013269289264),
    ("payment_method (missing)", -0.3310298650830538, 0.484303965037363),
    ("paperless_billing", 0.277590529391068, 0.09383673652796766),
    ("internet=Fiber optic", 0.25563706621365545, 0.16131609605321787),
    ("internet=None", 0.11387842008834563, 0.1538099703186155),
    ("region=South", 0.022262855998166645, 0.13134760139244223),
    ("region=West", 0.27434854544515913, 0.1304709814199829),
    ("region=East", 0.06368011230765964, 0.13327675546788575),
    ("senior", 0.14243193034585597, 0.1291225161906316),
  ]

  @Test func coefficientsAndStandardErrorsMatchStatsmodels() throws {
    var options = ChurnTrainingOptions(target: "churned")
    options.folds = 0
    let report = try ChurnTrainer.train(path: sampleData("churn/customers.csv"), options: options)
    let rows = report.summary.coefficients
    #expect(rows.map(\.name) == Self.reference.map(\.0))
    for (row, (name, estimate, error)) in zip(rows, Self.reference) {
      #expect(relativelyClose(row.estimate, estimate), "\(name) estimate \(row.estimate) vs \(estimate)")
      #expect(relativelyClose(row.standardError, error), "\(name) standard error \(row.standardError) vs \(error)")
    }
    let s = report.summary
    #expect(relativelyClose(s.logLikelihood, -1397.375436820898))
    #expect(relativelyClose(s.nullLogLikelihood, -1806.4550478033188))
    #expect(relativelyClose(s.pseudoR2, 0.22645435405650916))
    #expect(relativelyClose(s.llrPValue, 4.329923294652724e-162, 1e-4))
    #expect(relativelyClose(s.aic, 2832.750873641796))
    #expect(s.converged && s.observations == 3000)
  }
}
