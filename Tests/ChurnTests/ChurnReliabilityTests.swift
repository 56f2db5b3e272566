import Foundation
import Modeling
import Testing

@testable import Churn

/// Issue 10, classes 9 and 10: ids decided exactly, labels read as training reads them, empty files refused.
@Suite struct ChurnReliabilityTests {
  /// A column with 10,000 levels over 30,000 rows repeats values: it is not an id, wherever it stands; the
  /// real id column is.
  @Test(arguments: [1, 2])
  func aRepeatingColumnIsNeverTakenForAnId(threads: Int) throws {
    var text = "zipcode,customer_id,calls,churned\n"
    for i in 0..<30_000 {
      text += "Z\((i * 7919) % 10_000),C\(i),\(i % 7),\(i % 5 == 0 || i % 7 == 6 ? "Yes" : "No")\n"
    }
    var o = ChurnTrainingOptions(target: "churned")
    o.folds = 0
    o.threads = threads
    let report = try ChurnTrainer.train(path: temporaryFile(text), options: o)
    #expect(report.model.idColumn == "customer_id")
    let zip = try #require(report.notes.first { $0.column == "zipcode" })
    #expect(zip.decision != "id")
    #expect(report.notes.contains { $0.column == "customer_id" && $0.decision == "id" })
  }

  func model() throws -> ChurnModel {
    var o = ChurnTrainingOptions(target: "churned")
    o.folds = 0
    return try ChurnTrainer.train(path: temporaryFile(smallCustomers()), options: o).model
  }

  @Test func otherSpellingsOfTheClassesAreReadAsTrainingReadThem() throws {
    let m = try model()
    #expect(m.positive == "Yes" && m.negative == "No")
    let rows = smallCustomers().split(separator: "\n").dropFirst().map(String.init)
    func evaluate(_ spell: (String) -> String) throws -> ChurnEvaluation {
      let text =
        "id,plan,calls,charges,auto_pay,churned\n"
        + rows.map { row in
          var fields = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
          fields[5] = spell(fields[5])
          return fields.joined(separator: ",")
        }.joined(separator: "\n") + "\n"
      return try ChurnEvaluation.run(model: m, path: temporaryFile(text), skipBadRows: false)
    }
    let reference = try evaluate { $0 }
    for spell in [{ (s: String) in s.lowercased() }, { $0 == "Yes" ? "1" : "0" }, { $0 == "Yes" ? "TRUE" : "false" }] {
      let other = try evaluate(spell)
      #expect(abs(other.report.rocAUC - reference.report.rocAUC) < 1e-12)
      #expect(other.report.confusion == reference.report.confusion)
    }
    // Values that are neither class are refused with their count.
    #expect {
      _ = try evaluate { $0 == "No" ? "Maybe" : $0 }
    } throws: { error in
      let text = "\(error)"
      return (error as? CommerceError)?.kind == .data && text.contains("neither 'Yes' nor 'No'")
        && text.contains("'Maybe' (\(rows.filter { $0.hasSuffix(",No") }.count))")
    }
  }

  @Test func driftOnAFileWithoutRowsIsRefused() throws {
    let m = try model()
    #expect(throws: CommerceError.self) {
      _ = try ChurnDrift.run(
        model: m, path: temporaryFile("id,plan,calls,charges,auto_pay,churned\n"), skipBadRows: false)
    }
  }
}
