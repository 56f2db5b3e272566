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
    ("intercept", -0.8163040043414086, 0.35929011856520876),
    ("contract=Two year", -2.448037684462796, 0.17117727295550383),
    ("contract=One year", -1.5832299620826846, 0.1328732451563867),
    ("tenure_months", -0.037184668238279615, 0.008396466147373213),
    ("monthly_charges", 0.012571597649330045, 0.005776602511667081),
    ("total_charges", 7.545833319108602e-05, 0.00013365499767903122),
    ("total_charges (missing)", -0.29569055199159994, 0.31625290302867776),
    ("support_calls", 0.2314108847647476, 0.03830961501295821),
    ("payment_method=Credit card", -0.02699623727954222, 0.13893230155541403),
    ("payment_method=Electronic check", 0.42281335695304334, 0.13593558764376765),
    ("payment_method=Mailed check", -0.09229878303413544, 0.14130207518906787),
    ("payment_method (missing)", 0.045596641720065265, 0.4862668310792381),
    ("paperless_billing", 0.223914534753197, 0.09742200594519641),
    ("internet=Fiber optic", 0.14178642703014568, 0.16884958231597083),
    ("internet=None", 0.005772600150892123, 0.15936480079825566),
    ("region=South", 0.12845276603945846, 0.13669156384644282),
    ("region=West", 0.35187766271943216, 0.1357554703363021),
    ("region=East", 0.1378415921491973, 0.1388354651561933),
    ("senior", 0.12054532918007112, 0.1341155800707301),
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
    #expect(relativelyClose(s.logLikelihood, -1303.663405469606))
    #expect(relativelyClose(s.nullLogLikelihood, -1741.765308806384))
    #expect(relativelyClose(s.pseudoR2, 0.25152751700916887))
    #expect(relativelyClose(s.llrPValue, 1.8613435925358434e-174, 1e-4))
    #expect(relativelyClose(s.aic, 2645.326810939212))
    #expect(s.converged && s.observations == 3000)
  }
}
