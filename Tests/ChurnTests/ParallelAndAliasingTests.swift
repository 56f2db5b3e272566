import Foundation
import TabularIO
import Testing

@testable import Churn

/// A file whose `addon` column is "No service" exactly when `service` is "No": one dummy is aliased.
func aliasedCustomers(rows: Int) -> String {
  var text = "id,service,addon,tenure,note,churned\n"
  for i in 0..<rows {
    let service = i % 4 == 0 ? "No" : "Yes"
    let addon = service == "No" ? "No service" : (i % 3 == 0 ? "On" : "Off")
    let tenure = (i * 13) % 60
    let churn = (tenure < 12 && service == "Yes") || i % 7 == 0 ? "Yes" : "No"
    text += "A\(i),\(service),\(addon),\(tenure),\"free text, with comma\",\(churn)\n"
  }
  return text
}

@Suite struct ParallelAndAliasingTests {
  @Test func aliasedFeatureIsDroppedAndScoringStillWorks() throws {
    let path = temporaryFile(aliasedCustomers(rows: 400))
    var o = ChurnTrainingOptions(target: "churned")
    o.folds = 0
    let report = try ChurnTrainer.train(path: path, options: o)
    #expect(report.aliased == ["addon=No service"])
    let out = temporaryFile("", name: "out.csv")
    let summary = try ChurnScorer.scoreFile(
      model: report.model, path: path, output: out, reasons: 3, skipBadRows: false, threads: 1)
    #expect(summary.rows == 400)
    let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 401)
  }

  @Test func twoThreadsGiveTheSameModelAndScoresAsOne() throws {
    // About 5 MB, so that the file is split between two threads.
    let path = temporaryFile(aliasedCustomers(rows: 90_000))
    var o = ChurnTrainingOptions(target: "churned")
    o.folds = 0
    o.threads = 1
    let one = try ChurnTrainer.train(path: path, options: o)
    o.threads = 2
    let two = try ChurnTrainer.train(path: path, options: o)
    // Equal up to rounding: BLAS may sum in another order when other tests change its thread count meanwhile.
    for (a, b) in zip(one.model.coefficients, two.model.coefficients) { #expect(relativelyClose(a, b, 1e-10)) }
    #expect(one.model.columns == two.model.columns)
    #expect(one.fingerprint.xxh64 == two.fingerprint.xxh64)
    let a = temporaryFile("", name: "a.csv")
    let b = temporaryFile("", name: "b.csv")
    _ = try ChurnScorer.scoreFile(model: one.model, path: path, output: a, reasons: 2, skipBadRows: false, threads: 1)
    let s2 = try ChurnScorer.scoreFile(
      model: one.model, path: path, output: b, reasons: 2, skipBadRows: false, threads: 2)
    #expect(s2.rows == 90_000)
    #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == Data(contentsOf: URL(fileURLWithPath: b)))
  }

  @Test func errorsInTheSecondHalfNameTheirLineInTheWholeFile() throws {
    var text = aliasedCustomers(rows: 90_000)
    // Break a tenure value on data row 80,000 (line 80,001 of the file).
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    lines[80_000] = lines[80_000].replacingOccurrences(of: ",No,", with: ",No,").replacingOccurrences(
      of: #",(\d+),"free"#, with: ",abc,\"free", options: .regularExpression)
    text = lines.joined(separator: "\n")
    let path = temporaryFile(text)
    var o = ChurnTrainingOptions(target: "churned")
    o.folds = 0
    o.threads = 2
    do {
      _ = try ChurnTrainer.train(path: path, options: o)
      Issue.record("expected an error")
    } catch let e as TabularError {
      #expect(e.line == 80_001)
      #expect(e.message == "column 'tenure': expected a number, found \"abc\"")
    }
  }
}
