import Churn
import Foundation
import Storage
import StoreBackends
import Testing

@Suite(.serialized) struct ChurnCommandTests {
  let dir = temporaryDirectory()
  var store: String { dir.appendingPathComponent("m.sqlite").path }

  @Test func trainScoreEvaluateDrift() throws {
    let trained = try run(
      "churn", ["train", "--data", sampleData("churn/customers.csv"), "--target", "churned", "--store", store])
    #expect(trained.status == 0, "\(trained)")
    #expect(trained.stdout.contains("customer_id        id           unique per row; used as the id"))
    // The default, --model auto: both families under the same folds; the sample data's bent effects and
    // interaction make the additive model win.
    #expect(trained.stdout.contains("Generalized additive model (logistic, REML smoothing): churned = Yes"))
    #expect(trained.stdout.contains("Both families under the same 5 stratified folds (out-of-fold scores)"))
    #expect(trained.stdout.contains("model     roc_auc  pr_auc  log_loss   brier\nlinear  "), "\(trained.stdout)")
    #expect(trained.stdout.contains("registered the additive model: its cross-validated log loss is lower ("))
    #expect(trained.stdout.contains("term                                    edf  ref_df  chi_sq  p_value\n"))
    #expect(trained.stdout.contains("\ns(support_calls) "))
    #expect(trained.stdout.contains("\ns(monthly_charges):contract="), "\(trained.stdout)")
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
    // Standard input, and header-less partitions (a Spark job's pipe): the same rows.
    let csv = try String(contentsOfFile: sampleData("churn/customers_new.csv"), encoding: .utf8)
    let fromStdin = try run("churn", ["score", "-", "--store", store], stdin: Data(csv.utf8))
    #expect(fromStdin.status == 0 && fromStdin.stdout == toStdout.stdout, "\(fromStdin.stderr)")
    let csvLines = csv.split(separator: "\n", omittingEmptySubsequences: true)
    let headerLess = csvLines.dropFirst().joined(separator: "\n") + "\n"
    let named = try run(
      "churn", ["score", "-", "--columns", String(csvLines[0]), "--no-header", "--store", store],
      stdin: Data(headerLess.utf8))
    #expect(named.status == 0 && named.stdout == lines.dropFirst().joined(separator: "\n") + "\n", "\(named.stderr)")
    // --columns model: the model's own order (id, then its input columns), the file's columns rearranged to it.
    let explained = try run("churn", ["score", "-", "--columns", "model", "--store", store], stdin: Data())
    #expect(explained.status == 0 && explained.stdout == "customer_id,churn_probability,churn,decile,reasons\n")
    let header = csvLines[0].split(separator: ",").map(String.init)
    let modelOrder = try modelColumns(store: store)
    let rearranged = csvLines.dropFirst().map { line in
      let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      return modelOrder.map { fields[header.firstIndex(of: $0)!] }.joined(separator: ",")
    }.joined(separator: "\n")
    let byModel = try run(
      "churn", ["score", "-", "--columns", "model", "--store", store], stdin: Data((rearranged + "\n").utf8))
    #expect(byModel.status == 0 && byModel.stdout == toStdout.stdout, "\(byModel.stderr)")
    // A file path with --no-header: the same rows, no header line (both halves of a parallel run).
    let bare = try run("churn", ["score", sampleData("churn/customers_new.csv"), "--no-header", "--store", store])
    #expect(bare.stdout == lines.dropFirst().joined(separator: "\n") + "\n")
    // Errors: a column list missing a model column, a row with more fields than the list, an empty list.
    let short = try run(
      "churn", ["score", "-", "--columns", "customer_id,tenure_months", "--store", store], stdin: Data(headerLess.utf8))
    #expect(short.status != 0 && short.stderr.contains("the model needs columns"), "\(short.stderr)")
    let wide = try run(
      "churn", ["score", "-", "--columns", String(csvLines[0]), "--store", store],
      stdin: Data((headerLess + "C9,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\n").utf8))
    #expect(
      wide.status != 0 && wide.stderr.contains("<stdin>:1001:") && wide.stderr.contains("found 17"), "\(wide.stderr)")
    let none = try run("churn", ["score", "-", "--columns", "", "--store", store], stdin: Data(headerLess.utf8))
    #expect(none.status != 0 && none.stderr.contains("--columns names no column"), "\(none.stderr)")
    // --decimals: the same probabilities with more (or no) decimals, both halves of a parallel run alike.
    for decimals in [0, 12] {
      let r = try run(
        "churn", ["score", sampleData("churn/customers_new.csv"), "--decimals", "\(decimals)", "--store", store])
      let rows = r.stdout.split(separator: "\n").dropFirst()
      #expect(r.status == 0 && rows.count == 1000)
      for (a, b) in zip(rows, lines.dropFirst()) {
        let p = a.split(separator: ",", omittingEmptySubsequences: false)
        let q = b.split(separator: ",", omittingEmptySubsequences: false)
        #expect(p[0] == q[0] && p[2...] == q[2...])
        #expect(p[1].split(separator: ".").dropFirst().first?.count ?? 0 == decimals, "\(p[1])")
        #expect(abs(Double(p[1])! - Double(q[1])!) <= (decimals == 0 ? 0.5 : 5e-7) + 1e-12)
      }
    }
    let evaluated = try run("churn", ["evaluate", "--data", sampleData("churn/customers.csv"), "--store", store])
    #expect(
      evaluated.status == 0
        && evaluated.stdout.contains("Calibration\npredicted  customers  mean_predicted  observed_rate\n"))
    let drift = try run(
      "churn", ["drift", "--data", sampleData("churn/customers_new.csv"), "--store", store, "--format", "csv"])
    #expect(
      drift.status == 0
        && drift.stdout.hasPrefix("quantity,psi,shift,test,statistic,p_value,drift\nchurn_probability,"))
    #expect(drift.stdout.contains("\ncontract,") && drift.stdout.contains(",jensen_shannon,"))
    #expect(drift.stderr.contains("columns drifted by their tests"))
    // JSON: the whole drift report, each column's bins with both samples' shares.
    let driftJSON = try run(
      "churn", ["drift", "--data", sampleData("churn/customers_new.csv"), "--store", store, "--format", "json"])
    let report = try JSONSerialization.jsonObject(with: Data(driftJSON.stdout.utf8)) as! [String: Any]
    let rows = report["rows"] as! [[String: Any]]
    let contract = rows.first { $0["name"] as? String == "contract" }!
    #expect((contract["bins"] as! [String]).count == (contract["current_shares"] as! [Double]).count)
    #expect((contract["test"] as! [String: Any])["test"] as? String == "jensen_shannon")
    #expect(report["tested_columns"] as? Int == 10)
    // The cross-validated evaluation kept at training, and its curves in JSON.
    let cv = try run("churn", ["evaluate", "--store", store, "--format", "json"])
    let validation = try JSONSerialization.jsonObject(with: Data(cv.stdout.utf8)) as! [String: Any]
    let curves = validation["curves"] as! [String: Any]
    #expect((curves["roc"] as! [[String: Any]]).count > 10 && (curves["sweep"] as! [Any]).count == 99)
    // The report: one HTML file, the charts the page says.
    let html = dir.appendingPathComponent("report.html").path
    let report2 = try run(
      "churn", ["report", "--data", sampleData("churn/customers_new.csv"), "--store", store, "--output", html])
    #expect(report2.status == 0 && report2.stderr.contains("charts)"), "\(report2)")
    let page = try String(contentsOfFile: html, encoding: .utf8)
    #expect(page.hasPrefix("<!DOCTYPE html>") && !page.contains("<script") && page.contains("ROC curve"))
    // Never written over its input or the store.
    let overData = try run(
      "churn", ["report", "--data", html, "--store", store, "--output", html])
    #expect(overData.status == 64, "\(overData)")
    let overStore = try run("churn", ["report", "--store", store, "--output", store])
    #expect(overStore.status == 64, "\(overStore)")
    // The additive model's shapes.
    let shapes = try run("churn", ["explain", "--store", store, "--format", "csv"])
    #expect(shapes.status == 0, "\(shapes)")
    let shapeLines = shapes.stdout.split(separator: "\n")
    #expect(shapeLines[0] == "term,x,y,effect,lower_95,upper_95")
    #expect(shapeLines.filter { $0.hasPrefix("s(tenure_months),") }.count == 50)
    let one = try run("churn", ["explain", "--term", "s(support_calls)", "--store", store, "--format", "json"])
    let parsed = try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as! [[String: Any]]
    #expect(parsed.count == 50)
    for point in parsed {
      let (e, lo, hi) = (point["effect"] as! Double, point["lower_95"] as! Double, point["upper_95"] as! Double)
      #expect(lo <= e && e <= hi)
    }
    // Risk jumps after the third support call: the curve rises more from 4 to 9 than from 0 to 3.
    let effects = parsed.map { ($0["x"] as! Double, $0["effect"] as! Double) }
    func at(_ x: Double) -> Double { effects.min { abs($0.0 - x) < abs($1.0 - x) }!.1 }
    #expect(at(9) - at(4) > at(3) - at(0))
    let unknown = try run("churn", ["explain", "--term", "s(nope)", "--store", store])
    #expect(unknown.status != 0 && unknown.stderr.contains("no term 's(nope)' in the model"))
    // A linear model has no shapes to explain.
    let linear = dir.appendingPathComponent("linear.sqlite").path
    let trainedLinear = try run(
      "churn",
      [
        "train", "--data", sampleData("churn/customers.csv"), "--target", "churned", "--model", "linear", "--store",
        linear,
      ])
    #expect(trainedLinear.stdout.contains("Logistic regression: churned = Yes"))
    #expect(!trainedLinear.stdout.contains("Both families"))
    let coefficients = try run("churn", ["explain", "--store", linear, "--format", "csv"])
    #expect(coefficients.status == 0 && coefficients.stdout.hasPrefix("feature,estimate,std_error,z,p_value"))
    let noShapes = try run("churn", ["explain", "--term", "s(tenure_months)", "--store", linear])
    #expect(noShapes.status == 64 && noShapes.stderr.contains("is a linear model"), "\(noShapes)")
    let tooMany = try run(
      "churn", ["train", "--data", sampleData("churn/customers.csv"), "--target", "churned", "--interactions", "11"])
    #expect(tooMany.status == 64 && tooMany.stderr.contains("--interactions must be 0 to 10"))
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

/// The columns `--columns model` stands for: the model's id column, then its input columns.
func modelColumns(store: String) throws -> [String] {
  let registry = try StoreLocation(parsing: store).openRegistry(create: false)
  return try ChurnStore.load(from: registry, name: "churn").model.inputColumns
}
