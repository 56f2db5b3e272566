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

func trainError(_ text: String, target: String = "churned", skip: Bool = false) -> String {
  let path = temporaryFile(text)
  var o = ChurnTrainingOptions(target: target)
  o.folds = 0
  o.skipBadRows = skip
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
