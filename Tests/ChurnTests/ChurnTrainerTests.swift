import Foundation
import Modeling
import Storage
import StorageSQLite
import TabularIO
import Testing

@testable import Churn

func temporaryFile(_ text: String, name: String = "customers.csv") -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("churn-\(UUID())")
  try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  let path = dir.appendingPathComponent(name).path
  try! text.write(toFile: path, atomically: true, encoding: .utf8)
  return path
}

/// A small labeled file: churn depends on plan and calls; `note` is free text ids; `charges` has a blank.
func smallCustomers(rows: Int = 200, extra: (Int) -> String = { _ in "" }, header: String = "") -> String {
  var text = "id,plan,calls,charges,auto_pay,churned\(header)\n"
  for i in 0..<rows {
    let plan = ["basic", "pro", "max"][i % 3]
    let calls = (i * 7) % 6
    let charges = i == 5 ? " " : String(format: "%.2f", 20 + Double(i % 17) * 3.5)
    let churn = (plan == "basic" && calls > 2) || (i % 11 == 0) ? "Yes" : "No"
    text += "K\(i),\(plan),\(calls),\(charges),\(i % 2 == 0 ? "yes" : "no"),\(churn)\(extra(i))\n"
  }
  return text
}

func trainError(_ text: String, target: String = "churned", skip: Bool = false, time: String? = nil) -> String {
  let path = temporaryFile(text)
  var o = ChurnTrainingOptions(target: target)
  o.folds = 0
  o.skipBadRows = skip
  o.timeColumn = time
  do {
    _ = try ChurnTrainer.train(path: path, options: o)
    return "no error"
  } catch let error as CommerceError {
    // References named as options of their name (`--skip-bad-rows`), as the command line does.
    let text = error.message.rendered { "--" + $0.rawValue.replacingOccurrences(of: "_", with: "-") }
    return text.replacingOccurrences(of: path, with: "F")
  } catch {
    return "\(error)".replacingOccurrences(of: path, with: "F")
  }
}

@Suite struct SchemaInferenceTests {
  @Test func kindsAndNotes() throws {
    var o = ChurnTrainingOptions(target: "churned")
    o.folds = 3
    let report = try ChurnTrainer.train(path: temporaryFile(smallCustomers()), options: o)
    let kinds = Dictionary(uniqueKeysWithValues: report.notes.map { ($0.column, $0.decision) })
    #expect(
      kinds == ["id": "id", "plan": "categorical", "calls": "numeric", "charges": "numeric", "auto_pay": "boolean"])
    let m = report.model
    #expect(m.positive == "Yes" && m.negative == "No" && m.idColumn == "id")
    let charges = m.columns.first { $0.name == "charges" }!
    #expect(charges.hasMissing)
    #expect(m.features.map(\.name).contains("charges (missing)"))
    let plan = m.columns.first { $0.name == "plan" }!
    #expect(plan.levels.count == 2 && ["basic", "pro", "max"].contains(plan.reference))
    #expect(report.validation?.folds == 3)
    #expect(report.validation!.rocAUC > 0.8)
  }

  @Test func rareLevelsArePooledAndIdsExcluded() throws {
    let text = smallCustomers(
      extra: { i in ",\(i < 3 ? "rareA" : i < 6 ? "rareB" : "common\(i % 2)")" }, header: ",segment")
    var o = ChurnTrainingOptions(target: "churned")
    o.folds = 0
    let report = try ChurnTrainer.train(path: temporaryFile(text), options: o)
    let segment = report.model.columns.first { $0.name == "segment" }!
    #expect(Set(segment.pooled) == ["rareA", "rareB"])
    #expect(report.model.features.map(\.name).contains("segment=other"))
  }

  @Test func positiveClassExplicitOrInferred() throws {
    var text = "id,x,left\n"
    for i in 0..<100 { text += "\(i),\(i % 10),\(i % 3 == 0 ? "churned" : "stayed")\n" }
    var o = ChurnTrainingOptions(target: "left")
    o.folds = 0
    #expect(try ChurnTrainer.train(path: temporaryFile(text), options: o).model.positive == "churned")
    o.positive = "stayed"
    #expect(try ChurnTrainer.train(path: temporaryFile(text), options: o).model.positive == "stayed")
    o.positive = "gone"
    #expect(
      throws: CommerceError(.usage, "\(.positive) 'gone' is not a value of 'left' (its values: 'churned', 'stayed')")
    ) { _ = try ChurnTrainer.train(path: temporaryFile(text), options: o) }
  }
}

@Suite struct ChurnBadInputTests {
  @Test func targetProblems() {
    #expect(
      trainError(smallCustomers(), target: "left")
        == "F:1: no target column 'left' in the header; the columns are: 'id', 'plan', 'calls', 'charges', 'auto_pay', 'churned'"
    )
    #expect(
      trainError("id,x,churned\n1,2,No\n2,3,No\n")
        == "F: the target 'churned' has a single value 'No'; a churn model needs two classes")
    #expect(
      trainError("id,x,churned\n1,2,No\n2,3,Yes\n3,4,Maybe\n")
        == "F: the target 'churned' has more than two values ('No', 'Yes', 'Maybe'); expected two classes such as Yes/No"
    )
    #expect(
      trainError("id,x,churned\n1,2,No\n2,3,\n3,4,Yes\n")
        == "F: the target 'churned' is blank in 1 rows (first: data row 2); fill them or pass --skip-bad-rows")
    #expect(trainError("id,x,churned\n1,2,\n2,3,\n") == "F: the target 'churned' is blank in every row")
    #expect(
      trainError("id,x,churned\n1,2,A\n2,3,B\n")
        == "cannot tell which value of 'churned' means churn ('A' or 'B'); pass --positive VALUE")
  }

  @Test func strayWordInANumericColumn() {
    let text = smallCustomers().replacingOccurrences(of: "K7,pro,1,44.50", with: "K7,pro,1,n/a")
    #expect(text.contains("n/a"))
    #expect(trainError(text) == "F:9:10: column 'charges': expected a number, found \"n/a\"")
    #expect(trainError(text, skip: true) == "no error")
  }

  @Test func fieldCountsHeaderAndEmptyFiles() {
    #expect(trainError("") == "F:1: the file is empty; expected a header line")
    #expect(trainError("id,x,churned\n") == "F:2: the file has a header but no rows")
    #expect(trainError("id,x,churned\n1,2\n") == "F:2:4: expected 3 fields as in the header, found 2")
    #expect(trainError("id,x,churned\n1,2,Yes,9\n") == "F:2:9: expected 3 fields as in the header, found 4")
    #expect(trainError("id,x,x,churned\n1,2,3,Yes\n") == "F:1: column 'x' appears more than once in the header")
  }

  @Test func allMissingAndConstantColumnsAreLeftOutWithANote() throws {
    let text = smallCustomers(extra: { _ in ",,same" }, header: ",empty,const")
    var o = ChurnTrainingOptions(target: "churned")
    o.folds = 0
    let report = try ChurnTrainer.train(path: temporaryFile(text), options: o)
    #expect(report.notes.contains(InferenceNote(column: "empty", decision: "excluded", detail: "blank in every row")))
    #expect(report.notes.contains(InferenceNote(column: "const", decision: "excluded", detail: "constant ('same')")))
  }

  @Test func completeSeparationIsAnErrorQuasiIsAWarning() throws {
    var text = "id,x,flag,churned\n"
    for i in 0..<60 { text += "\(i),\(i),\(i % 2),\(i < 30 ? "No" : "Yes")\n" }
    #expect(
      trainError(text)
        == "F: the classes are completely separated by 'x': the likelihood has no maximum and the coefficients grow without bound; add --l2 (e.g. --l2 1) or --exclude that column"
    )
    var quasi = "id,x,flag,churned\n"
    for i in 0..<80 { quasi += "\(i),\((i * 37) % 11),\(i < 10 ? 1 : 0),\(i < 10 || i % 3 == 0 ? "Yes" : "No")\n" }
    var o = ChurnTrainingOptions(target: "churned")
    o.folds = 0
    let report = try ChurnTrainer.train(path: temporaryFile(quasi), options: o)
    let expected: CommerceError.Message =
      "quasi-complete separation: every customer with 'flag' is in one class, so its coefficient has no finite estimate and its standard error is meaningless; add \(.l2) (e.g. \(.l2) 1) for a finite estimate"
    #expect(report.warnings == [expected])
    o.regression.l2 = 1
    #expect(try ChurnTrainer.train(path: temporaryFile(quasi), options: o).warnings.isEmpty)
  }
}

@Suite struct ScoringTests {
  func model() throws -> ChurnModel {
    var o = ChurnTrainingOptions(target: "churned")
    o.folds = 0
    return try ChurnTrainer.train(path: temporaryFile(smallCustomers()), options: o).model
  }

  func score(_ text: String, reasons: Int = 2, skip: Bool = false) throws -> (String, ScoreSummary) {
    let m = try model()
    let out = temporaryFile("", name: "scores.csv")
    let writer = try CSVWriter(path: out)
    let summary = try ChurnScorer.score(
      model: m, input: try CSVReader(path: temporaryFile(text)), writer: writer, reasons: reasons, skipBadRows: skip)
    try writer.finish()
    return (try String(contentsOfFile: out, encoding: .utf8), summary)
  }

  @Test func columnsInAnyOrderWithReasons() throws {
    let (text, summary) = try score(
      "churned,auto_pay,calls,extra,plan,charges,id\nNo,no,5,x,basic,99,Z1\nNo,yes,0,y,max,20,Z2\n")
    let lines = text.split(separator: "\n")
    #expect(lines[0] == "id,churn_probability,churn,decile,reasons")
    #expect(lines[1].hasPrefix("Z1,0.") && lines[2].hasPrefix("Z2,0."))
    let p1 = Double(lines[1].split(separator: ",")[1])!
    let p2 = Double(lines[2].split(separator: ",")[1])!
    #expect(p1 > p2)
    #expect(lines[1].contains("plan=basic +") && lines[1].contains("calls=5 +"))
    #expect(summary.rows == 2)
  }

  /// One customer scored through `ChurnModel.score(fields:)` gets the CSV loop's probability, decision, decile
  /// and reasons; an absent column and a bad value are errors naming the column.
  @Test func oneCustomerAsTheCSVLoopScoresIt() throws {
    let m = try model()
    let (text, _) = try score("id,plan,calls,charges,auto_pay\nZ1,basic,5,99,no\nZ2,platinum,0, ,yes\n", reasons: 3)
    let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
    let customers: [[String: String]] = [
      ["plan": "basic", "calls": "5", "charges": "99", "auto_pay": "no", "ignored": "x"],
      ["plan": "platinum", "calls": "0", "charges": " ", "auto_pay": "yes"],
    ]
    for (k, fields) in customers.enumerated() {
      let prediction = try m.score(fields: fields, reasons: 3)
      #expect(abs(prediction.probability - Double(lines[k + 1][1])!) < 5e-7)
      #expect(prediction.churn == (lines[k + 1][2] == "1"))
      #expect(prediction.decile == Int(lines[k + 1][3])!)
      let reasons = prediction.reasons.map {
        "\($0.column)=\($0.value.isEmpty ? "(missing)" : $0.value) \($0.contribution >= 0 ? "+" : "-")\(String(format: "%.2f", abs($0.contribution)))"
      }
      #expect(reasons.joined(separator: "; ") == String(lines[k + 1][4]))
      #expect(ChurnReason.text(prediction.reasons) == String(lines[k + 1][4]))
      #expect(prediction.reasons.map(\.contribution) == prediction.reasons.map(\.contribution).sorted(by: >))
    }
    #expect(try m.score(fields: customers[1]).unseenLevels == ["plan"])
    #expect(try m.score(fields: customers[0], threshold: 1.0).churn == false)
    #expect(try m.score(fields: customers[0], reasons: 0).reasons.isEmpty)
    #expect(
      throws: CommerceError(
        .data, "the customer has no value for 'charges'; the model needs: 'plan', 'calls', 'charges', 'auto_pay'")
    ) { _ = try m.score(fields: ["plan": "basic", "calls": "5", "auto_pay": "no"]) }
    #expect(throws: CommerceError(.data, "'calls': expected a number, found 'many'")) {
      _ = try m.score(fields: ["plan": "basic", "calls": "many", "charges": "1", "auto_pay": "no"])
    }
  }

  @Test func unseenLevelsAreCountedNotFatal() throws {
    let (_, summary) = try score(
      "id,plan,calls,charges,auto_pay\nA,platinum,1,30,yes\nB,pro,1,30,no\nC,platinum,2,,yes\n")
    #expect(summary.unseenLevels == ["plan": 2])
    #expect(summary.rows == 3)
  }

  @Test func missingColumnFailsBeforeAnyOutput() throws {
    #expect(throws: TabularError.self) { _ = try score("id,plan,calls,auto_pay\nA,pro,1,yes\n") }
    do {
      _ = try score("id,plan,calls,auto_pay\nA,pro,1,yes\n")
    } catch let e as TabularError {
      #expect(e.message.hasPrefix("the model needs column 'charges', missing from the header"))
    }
  }

  @Test func badValuesStopOrAreSkipped() throws {
    let bad = "id,plan,calls,charges,auto_pay\nA,pro,1,30,yes\nB,pro,lots,30,yes\nC,pro,1,30,maybe\nD,pro,1,30,no\n"
    #expect(throws: TabularError.self) { _ = try score(bad) }
    let (text, summary) = try score(bad, skip: true)
    #expect(summary.skippedRows == 2 && summary.rows == 2)
    #expect(text.split(separator: "\n").count == 3)
  }

  @Test func decilesRunFromHighestRisk() throws {
    let m = try model()
    #expect(m.decile(0.999) == 1)
    #expect(m.decile(0.0001) == 10)
  }
}

@Suite struct EvaluationAndDriftTests {
  @Test func evaluateOnTrainingDataAndDrift() throws {
    var o = ChurnTrainingOptions(target: "churned")
    o.folds = 0
    let path = temporaryFile(smallCustomers())
    let model = try ChurnTrainer.train(path: path, options: o).model
    let e = try ChurnEvaluation.run(model: model, path: path, skipBadRows: false)
    #expect(e.report.confusion.total == 200)
    #expect(e.calibration.map(\.customers).reduce(0, +) == 200)
    #expect(e.report.rocAUC > 0.8)
    // Same data: no drift. Shifted plans: drift on plan and on the score.
    let same = try ChurnDrift.run(model: model, path: path, skipBadRows: false)
    #expect(same.allSatisfy { $0.flag == "stable" })
    let shifted = temporaryFile(smallCustomers().replacingOccurrences(of: ",max,", with: ",basic,"))
    let drift = try ChurnDrift.run(model: model, path: shifted, skipBadRows: false)
    #expect(drift.first { $0.name == "plan" }!.flag == "major")
    #expect(drift.first { $0.name == "calls" }!.flag == "stable")
    #expect(abs(ChurnDrift.psi(expected: [0.5, 0.5], actual: [0.5, 0.5])) < 1e-12)
    #expect(abs(ChurnDrift.psi(expected: [0.5, 0.5], actual: [0.25, 0.75]) - 0.25 * log(3.0)) < 1e-12)
  }

  /// Training: 300 customers, plans basic/pro/max 98 each, 3 `legacy` and 3 `trial` (rare: pooled as other).
  func customersWithRarePlans(
    rows: Int = 300, plan: (Int) -> String? = { _ in nil }, autoPay: (Int) -> String? = { _ in nil }
  )
    -> String
  {
    var text = "id,plan,calls,auto_pay,churned\n"
    for i in 0..<rows {
      let given = i < 6 ? (i < 3 ? "legacy" : "trial") : ["basic", "pro", "max"][i % 3]
      let calls = (i * 7) % 6
      let churn = (given == "basic" && calls > 2) || (i % 11 == 0) ? "Yes" : "No"
      text += "K\(i),\(plan(i) ?? given),\(calls),\(autoPay(i) ?? (i % 2 == 0 ? "yes" : "no")),\(churn)\n"
    }
    return text
  }

  @Test func valuesTrainingNeverSawAreTheirOwnBinAndDrift() throws {
    var o = ChurnTrainingOptions(target: "churned")
    o.folds = 0
    let model = try ChurnTrainer.train(path: temporaryFile(customersWithRarePlans()), options: o).model
    let spec = try #require(model.columns.first { $0.name == "plan" })
    #expect(Set(spec.pooled) == ["legacy", "trial"])
    // 29 customers of a plan training never saw, and the rare levels as in training: the new plan is its own bin,
    // not pooled with legacy and trial.
    let file = temporaryFile(customersWithRarePlans(plan: { $0 >= 6 && $0 % 10 == 0 ? "enterprise" : nil }))
    let report = try ChurnDrift.report(model: model, path: file, skipBadRows: false)
    let plan = try #require(report.rows.first { $0.name == "plan" })
    #expect(plan.bins == spec.driftLevels + ["other", ChurnDrift.newValues, "missing"])
    let n = plan.bins.count
    #expect(abs(plan.currentShares[n - 2] - 29.0 / 300) < 1e-12)
    #expect(abs(plan.currentShares[n - 3] - 6.0 / 300) < 1e-12 && abs(plan.referenceShares[n - 3] - 6.0 / 300) < 1e-12)
    #expect(plan.referenceShares[n - 2] == 0 && plan.referenceShares.count == n)
    #expect(abs(plan.psi - ChurnDrift.psi(expected: plan.referenceShares, actual: plan.currentShares)) < 1e-15)
    // As Evidently's chi-squared over the values of both samples: a value with no expected count makes the
    // statistic infinite and p = 0.
    let test = try #require(plan.test)
    #expect(test.test == .chiSquared && test.statistic == .infinity && test.pValue == 0 && test.drifted)
    // The same plans without the new one: the rare levels alone are no drift.
    let same = try ChurnDrift.report(model: model, path: temporaryFile(customersWithRarePlans()), skipBadRows: false)
    let samePlan = try #require(same.rows.first { $0.name == "plan" })
    #expect(samePlan.currentShares[n - 2] == 0 && samePlan.psi < 1e-12 && samePlan.test?.drifted == false)
    // A boolean's value training never saw is not counted as its second value (scoring stops at it, as `churn score`
    // does, unless bad rows are skipped).
    let payFile = temporaryFile(customersWithRarePlans(autoPay: { $0 % 5 == 1 ? "maybe" : nil }))
    #expect(throws: (any Error).self) { _ = try ChurnDrift.report(model: model, path: payFile, skipBadRows: false) }
    let pay = try #require(
      try ChurnDrift.report(model: model, path: payFile, skipBadRows: true).rows.first { $0.name == "auto_pay" })
    #expect(pay.bins == ["yes", "no", ChurnDrift.newValues, "missing"])
    // Rows i % 5 == 1 are odd half the time: 60 maybe, of which 30 would have been no and 30 yes.
    #expect(pay.currentShares.map { ($0 * 300).rounded() } == [120, 120, 60, 0])
    let payTest = try #require(pay.test)
    #expect(payTest.test == .chiSquared && payTest.statistic == .infinity && payTest.drifted)
  }

  @Test func aNewValueAgainstALargeReferenceEntersJensenShannonAsAZeroShare() throws {
    var o = ChurnTrainingOptions(target: "churned")
    o.folds = 0
    let model = try ChurnTrainer.train(path: temporaryFile(customersWithRarePlans(rows: 1500)), options: o).model
    let spec = try #require(model.columns.first { $0.name == "plan" })
    let file = temporaryFile(customersWithRarePlans(rows: 1500, plan: { $0 >= 6 && $0 % 10 == 0 ? "enterprise" : nil }))
    let plan = try #require(
      try ChurnDrift.report(model: model, path: file, skipBadRows: false).rows.first { $0.name == "plan" })
    let test = try #require(plan.test)
    #expect(test.test == .jensenShannon)
    // The counts of both samples per level (reference, levels, other, new), as Evidently keys them.
    func counts(_ text: String) -> [Double] {
      var c = [Double](repeating: 0, count: spec.driftLevels.count + 2)
      for line in text.split(separator: "\n").dropFirst() {
        let p = String(line.split(separator: ",")[1])
        let k = spec.driftLevels.firstIndex(of: p) ?? (spec.pooled.contains(p) ? spec.driftLevels.count : c.count - 1)
        c[k] += 1
      }
      return c
    }
    let reference = counts(customersWithRarePlans(rows: 1500))
    let current = counts(customersWithRarePlans(rows: 1500, plan: { $0 >= 6 && $0 % 10 == 0 ? "enterprise" : nil }))
    #expect(reference.last == 0 && current.last == 149)
    #expect(abs(test.statistic - DriftStatistics.jensenShannon(reference, current)) < 1e-12)
  }

  @Test func storeRoundTripAndErrors() throws {
    var o = ChurnTrainingOptions(target: "churned")
    o.folds = 0
    let path = temporaryFile(smallCustomers())
    let report = try ChurnTrainer.train(path: path, options: o)
    let storePath = (path as NSString).deletingLastPathComponent + "/s.sqlite"
    let store = try ModelStore(path: storePath, create: true)
    #expect(
      throws: CommerceError(
        .noModel, "no churn model 'churn' in \(storePath); train first: \(.trainChurn)")
    ) { _ = try ChurnStore.load(from: store, name: "churn") }
    let v = try ChurnStore.register(report, options: o, in: store, name: "churn")
    #expect(v.kind == "churn.logistic-regression" && v.parameters["target"] == "churned")
    let loaded = try ChurnStore.load(from: store, name: "churn").model
    #expect(loaded.coefficients == report.model.coefficients)
    _ = try store.register(
      NewModelVersion(name: "rec", kind: "recommender.als-implicit", dataBytes: 0, dataHash: "", parts: [:]))
    #expect(
      throws: CommerceError(
        .noModel, "model 'rec' is a recommender.als-implicit model, not a churn model; choose another \(.modelName)",
        parameter: .modelName)
    ) { _ = try ChurnStore.load(from: store, name: "rec") }
    #expect(
      throws: CommerceError(
        .usage,
        "model 'rec' holds recommender.als-implicit versions; train the churn model under another \(.modelName) name",
        parameter: .modelName)
    ) { _ = try ChurnStore.register(report, options: o, in: store, name: "rec") }
  }
}

/// `--time-column`: a column of record times that is never a feature, kept as the training data's time span.
@Suite struct TimeColumnTests {
  /// `smallCustomers` with a `seen` column: dates through 2026 in three forms, one blank.
  func withTimes(_ time: (Int) -> String = TimeColumnTests.time) -> String {
    smallCustomers(extra: { "," + time($0) }, header: ",seen")
  }

  static func time(_ i: Int) -> String {
    switch i {
    case 3: return ""
    case 10: return "1767225600"  // 2026-01-01 00:00:00 as epoch seconds: the earliest
    case 20: return "2026-12-31T23:30:00-01:00"  // 2027-01-01 00:30 UTC: the latest
    default: return String(format: "2026-%02d-%02d 12:00:00", i % 12 + 1, i % 28 + 1)
    }
  }

  func options(_ column: String? = "seen") -> ChurnTrainingOptions {
    var o = ChurnTrainingOptions(target: "churned")
    o.folds = 0
    o.timeColumn = column
    return o
  }

  @Test func theSpanIsKeptAndTheColumnIsNoFeature() throws {
    let path = temporaryFile(withTimes())
    let report = try ChurnTrainer.train(path: path, options: options())
    let first = 1_767_225_600.0
    let last = first + 365 * 86400 + 1800
    #expect(report.timeColumn == "seen" && report.timeSpan == first...last)
    #expect(!report.model.columns.map(\.name).contains("seen"))
    #expect(!report.model.features.contains { $0.name.contains("seen") })
    let note = try #require(report.notes.first { $0.column == "seen" })
    #expect(note.decision == "time")
    #expect(
      note.detail.rendered(naming: { "--" + $0.rawValue.replacingOccurrences(of: "_", with: "-") })
        == "--time-column: from 2026-01-01 00:00:00 to 2027-01-01 00:30:00")
    // The same fit as without the column.
    let plain = try ChurnTrainer.train(path: temporaryFile(smallCustomers()), options: options(nil))
    #expect(plain.model.coefficients == report.model.coefficients && plain.timeSpan == nil)
    // Registered as two metrics and a parameter; the card reads them back.
    let store = try ModelStore(path: (path as NSString).deletingLastPathComponent + "/s.sqlite", create: true)
    let v = try ChurnStore.register(report, options: options(), in: store, name: "churn")
    #expect(v.metrics[ChurnStore.firstTimeMetric] == first && v.metrics[ChurnStore.lastTimeMetric] == last)
    #expect(v.parameters["time_column"] == "seen")
    #expect(ChurnReport.timeSpan(v) == "from 2026-01-01 00:00:00 to 2027-01-01 00:30:00 (column seen)")
    let w = try ChurnStore.register(plain, options: options(nil), in: store, name: "churn")
    #expect(w.metrics[ChurnStore.firstTimeMetric] == nil && w.parameters["time_column"] == nil)
    #expect(
      ChurnReport.timeSpan(w)
        == "not recorded: trained without a time column (churn train --time-column COLUMN keeps it)")
    let html = try ChurnReport.build(
      stored: try ChurnStore.load(from: store, name: "churn", version: 1), store: store, data: nil,
      skipBadRows: false
    ).render()
    #expect(html.contains("Time span</dt><dd>from 2026-01-01 00:00:00 to 2027-01-01 00:30:00 (column seen)</dd>"))
  }

  /// Without `--time-column`, a text column of ISO dates or times is left out with a note naming the option, not
  /// fitted as levels (nor taken for the id when unique); a column with one word among the dates, or of epoch
  /// numbers, is not dates and keeps its kind.
  @Test func datesNotNamedAreLeftOutWithANote() throws {
    let plain = try ChurnTrainer.train(path: temporaryFile(smallCustomers()), options: options(nil))
    let naming: (CommerceError.Reference) -> String = { "--" + $0.rawValue.replacingOccurrences(of: "_", with: "-") }
    let forms: [(Int) -> String] = [
      { ["2025-07-31", "2025-08-31", "2025-09-30"][$0 % 3] },  // few dates: would have been 3 levels
      { String(format: "2026-%02d-%02dT%02d:00:00Z", $0 % 12 + 1, $0 % 28 + 1, $0 % 24) },  // unique: the id before
      { $0 == 4 ? " " : String(format: "2026-03-%02d 08:15:00+01:00", $0 % 28 + 1) },  // one blank
    ]
    for form in forms {
      let report = try ChurnTrainer.train(path: temporaryFile(withTimes(form)), options: options(nil))
      let note = try #require(report.notes.first { $0.column == "seen" })
      #expect(note.decision == "excluded")
      #expect(
        note.detail.rendered(naming: naming)
          == "dates or times, never a feature (--time-column seen records their span)")
      #expect(report.model.idColumn == "id" && report.timeSpan == nil)
      #expect(report.model.columns.map(\.name) == plain.model.columns.map(\.name))
      #expect(report.model.coefficients == plain.model.coefficients)
    }
    // Not all dates: a category (with one word among them), numbers (epoch seconds stay numeric).
    let mixed = try ChurnTrainer.train(
      path: temporaryFile(withTimes { $0 % 2 == 0 ? "2025-07-31" : "later" }), options: options(nil))
    #expect(mixed.notes.first { $0.column == "seen" }?.decision == "categorical")
    let epochs = try ChurnTrainer.train(
      path: temporaryFile(withTimes { "\(1_767_225_600 + ($0 % 5) * 86400)" }), options: options(nil))
    #expect(epochs.notes.first { $0.column == "seen" }?.decision == "numeric")
    // Named, the same column is the time column.
    let named = try ChurnTrainer.train(path: temporaryFile(withTimes(forms[0])), options: options())
    #expect(named.notes.first { $0.column == "seen" }?.decision == "time")
    #expect(named.timeSpan == 1_753_920_000...1_759_190_400)
  }

  @Test func aBlankColumnHasNoSpan() throws {
    let report = try ChurnTrainer.train(path: temporaryFile(withTimes { _ in " " }), options: options())
    #expect(report.timeSpan == nil && report.timeColumn == "seen")
    let note = try #require(report.notes.first { $0.column == "seen" })
    #expect(note.detail.rendered(naming: { _ in "--time-column" }) == "--time-column: blank in every row")
    let path = temporaryFile(withTimes { _ in "" })
    let store = try ModelStore(path: (path as NSString).deletingLastPathComponent + "/s.sqlite", create: true)
    let v = try ChurnStore.register(
      try ChurnTrainer.train(path: path, options: options()), options: options(), in: store, name: "churn")
    #expect(ChurnReport.timeSpan(v) == "not recorded: the time column (column seen) was blank in every row")
  }

  @Test func badTimesStopOrAreLeftOutOfTheSpan() throws {
    let text = withTimes { $0 == 7 ? "31/12/2026" : ($0 == 9 ? "inf" : TimeColumnTests.time($0)) }
    let path = temporaryFile(text)
    #expect(
      trainError(text, time: "seen")
        == "F:9:22: column 'seen': expected a timestamp like 2018-04-01 00:00:50, 2018-04-01T00:00:50.250Z or epoch seconds, found \"31/12/2026\""
    )
    var o = options()
    o.skipBadRows = true
    let report = try ChurnTrainer.train(path: path, options: o)
    #expect(report.skippedRows == 0 && report.model.trainingRows == 200)
    let (first, last): (Double, Double) = (1_767_225_600, 1_767_225_600 + 365 * 86400 + 1800)
    #expect(report.timeSpan == first...last)
    #expect(
      report.warnings.map { $0.rendered(naming: { $0.rawValue }) }.contains(
        "\(path): 2 rows have a time in 'seen' that does not read as one; they are fitted but left out of the time span"
      ))
  }

  @Test func theColumnHasOneRole() {
    func error(_ change: (inout ChurnTrainingOptions) -> Void) -> String {
      let path = temporaryFile(withTimes())
      var o = options()
      change(&o)
      do {
        _ = try ChurnTrainer.train(path: path, options: o)
        return "no error"
      } catch let e as CommerceError {
        return e.message.rendered { "--" + $0.rawValue.replacingOccurrences(of: "_", with: "-") }
          .replacingOccurrences(of: path, with: "F")
      } catch {
        return "\(error)".replacingOccurrences(of: path, with: "F")
      }
    }
    #expect(
      error { $0.timeColumn = "when" }
        == "F:1: no time column 'when' in the header; the columns are: 'id', 'plan', 'calls', 'charges', 'auto_pay', 'churned', 'seen'"
    )
    #expect(
      error { $0.timeColumn = "churned" } == "'churned' is the --target and cannot be the --time-column too")
    #expect(
      error {
        $0.timeColumn = "id"
        $0.idColumn = "id"
      } == "'id' is the --id-column and cannot be the --time-column too")
    #expect(
      error { $0.exclude = ["seen"] }
        == "'seen' is the --time-column and is never a feature; do not --exclude it as well")
  }

  @Test func twoHalvesMergeTheirSpansAndPlaceTheFirstBadTime() {
    var a = Collected(stats: [], targetMissingRows: [], rows: 10, lines: 10)
    a.timeSpan = 100...300
    var b = Collected(stats: [], targetMissingRows: [], rows: 5, lines: 5)
    b.timeSpan = 50...200
    b.badTimes = 2
    b.firstBadTime = TabularError(.badValue, file: "f", line: 3, column: 7, "bad")
    b.shiftLines(by: 11)
    a.merge(b)
    #expect(a.timeSpan == 50...300 && a.badTimes == 2 && a.firstBadTime?.line == 14)
    var c = Collected(stats: [], targetMissingRows: [], rows: 1, lines: 1)
    c.merge(Collected(stats: [], targetMissingRows: [], rows: 1, lines: 1))
    #expect(c.timeSpan == nil && c.firstBadTime == nil)
  }
}
