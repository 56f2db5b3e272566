import Foundation
import Testing

@Suite(.serialized) struct ChurnCommandTests {
  let dir = temporaryDirectory()
  var store: String { dir.appendingPathComponent("m.sqlite").path }

  @Test func trainScoreEvaluateDrift() throws {
    let trained = try run(
      "churn", ["train", "--data", sampleData("churn/customers.csv"), "--target", "churned", "--store", store])
    #expect(trained.status == 0, "\(trained)")
    #expect(trained.stdout.contains("customer_id        id           unique per row; used as the id"))
    #expect(trained.stdout.contains("Logistic regression: churned = Yes"))
    #expect(trained.stdout.contains("Cross-validation (5 folds, stratified, out-of-fold scores)"))
    #expect(trained.stdout.hasSuffix("registered churn version 1 (18 features, 3000 customers)\n"))
    let out = dir.appendingPathComponent("scores.csv").path
    let scored = try run("churn", ["score", sampleData("churn/customers_new.csv"), "--output", out, "--store", store])
    #expect(scored.status == 0 && scored.stdout.isEmpty)
    #expect(scored.stderr.hasPrefix("churn: scored 1000 customers, "))
    let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 1001 && lines[0] == "customer_id,churn_probability,churn,decile,reasons")
    #expect(lines[1].hasPrefix("C100000,0."))
    // Standard output gets the same lines.
    let toStdout = try run("churn", ["score", sampleData("churn/customers_new.csv"), "--store", store])
    #expect(toStdout.stdout == lines.joined(separator: "\n") + "\n")
    let evaluated = try run("churn", ["evaluate", "--data", sampleData("churn/customers.csv"), "--store", store])
    #expect(
      evaluated.status == 0
        && evaluated.stdout.contains("Calibration\npredicted  customers  mean_predicted  observed_rate\n"))
    let drift = try run(
      "churn", ["drift", "--data", sampleData("churn/customers_new.csv"), "--store", store, "--format", "csv"])
    #expect(drift.status == 0 && drift.stdout.hasPrefix("quantity,psi,shift\nchurn_probability,"))
    #expect(drift.stdout.contains("\ncontract,"))
  }

  @Test func errors() throws {
    let none = try run("churn", ["score", sampleData("churn/customers_new.csv"), "--store", store])
    #expect(none.status == 1 && none.stderr.contains("no model store here"))
    let empty = dir.appendingPathComponent("other.sqlite").path
    _ = try run(
      "recommend",
      ["train", "--interactions", sampleData("ecommerce/interactions.csv"), "--iterations", "1", "--store", empty])
    let noModel = try run("churn", ["score", sampleData("churn/customers_new.csv"), "--store", empty])
    #expect(
      noModel
        == RunResult(
          status: 1, stdout: "",
          stderr:
            "churn: error: no churn model 'churn' in \(empty); train first: churn train --data FILE --target COLUMN\n"))
    let badTarget = try run(
      "churn", ["train", "--data", sampleData("churn/customers.csv"), "--target", "region", "--store", store])
    #expect(badTarget.status == 65)
    #expect(badTarget.stderr.contains("the target 'region' has more than two values"))
    _ = try run(
      "churn",
      ["train", "--data", sampleData("churn/customers.csv"), "--target", "churned", "--cv", "0", "--store", store])
    let lacking = dir.appendingPathComponent("lacking.csv")
    try "customer_id,contract\nC1,One year\n".write(to: lacking, atomically: true, encoding: .utf8)
    let missingColumns = try run("churn", ["score", lacking.path, "--store", store])
    #expect(missingColumns.status == 65 && missingColumns.stdout.isEmpty)
    #expect(
      missingColumns.stderr.hasPrefix(
        "churn: error: \(lacking.path):1: the model needs columns 'tenure_months', 'monthly_charges'"))
    let badCV = try run("churn", ["train", "--data", "x.csv", "--target", "t", "--cv", "1"])
    #expect(badCV.status == 64 && badCV.stderr.hasPrefix("Error: --cv must be 0 (none) or at least 2, got 1\n"))
  }
}
