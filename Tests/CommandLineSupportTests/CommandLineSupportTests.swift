import ArgumentParser
import Foundation
import Modeling
import Storage
import Testing

@testable import CommandLineSupport

@Suite struct OutputTableTests {
  let table = OutputTable(
    columns: ["rank", "item_id", "title", "score"],
    rows: [
      [.integer(1), .text("P-7"), .text("Desk lamp, \"brass\""), .number(0.98765, decimals: 3)],
      [.integer(10), .text("P-12"), .missing, .number(0.5, decimals: 3)],
    ])

  @Test func alignedTableRightAlignsNumbers() {
    #expect(
      table.render(.table) == """
        rank  item_id  title               score
           1  P-7      Desk lamp, "brass"  0.988
          10  P-12                         0.500

        """)
  }

  @Test func csvQuotes() {
    #expect(
      table.render(.csv) == "rank,item_id,title,score\n1,P-7,\"Desk lamp, \"\"brass\"\"\",0.988\n10,P-12,,0.500\n")
  }

  @Test func jsonKeepsFullNumbersAndNulls() throws {
    let text = table.render(.json)
    #expect(
      text == """
        [
          {"rank": 1, "item_id": "P-7", "title": "Desk lamp, \\"brass\\"", "score": 0.98765},
          {"rank": 10, "item_id": "P-12", "title": null, "score": 0.5}
        ]

        """)
    let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]]
    #expect(parsed?.count == 2)
    #expect(OutputTable(columns: ["a"]).render(.json) == "[]\n")
  }
}

extension OutputTableTests {
  /// A 1 MB cell: the table shows 95 characters and an ellipsis, CSV and JSON the whole value, and rendering stays
  /// linear (it once trimmed each padded line with a regular expression, quadratic in the line's length).
  @Test func overlongCellsAreShortenedInTablesOnly() throws {
    let huge = String(repeating: "ab ", count: 350_000) + "end"
    let t = OutputTable(columns: ["id", "value"], rows: [[.integer(1), .text(huge)], [.integer(2), .text("short")]])
    let started = Date()
    let text = t.render(.table)
    #expect(Date().timeIntervalSince(started) < 5)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.count == 4)
    let w = OutputTable.maximumCellWidth
    #expect(w == 96)
    #expect(lines[1] == " 1  " + String(huge.prefix(w - 1)) + "…")
    #expect(lines[1].count == 4 + w)
    #expect(lines[2] == " 2  short")
    #expect(t.render(.csv).contains(huge))
    #expect(t.render(.json).contains(huge))
    // Exactly the widest shown value is kept whole; line breaks and tabs show as spaces; trailing blanks go.
    let widest = String(repeating: "x", count: w)
    #expect(OutputTable.shortened(widest) == widest)
    #expect(OutputTable.shortened(widest + "y") == String(repeating: "x", count: w - 1) + "…")
    #expect(OutputTable.shortened("a\nb\tc") == "a b c")
    let blanks = OutputTable(columns: ["a", "b"], rows: [[.text("x"), .text("   ")]])
    #expect(blanks.render(.table) == "a  b\nx\n")
  }
}

@Suite struct StoreOptionsTests {
  @Test func precedenceFlagThenEnvironmentThenDefault() throws {
    let explicit = try StoreOptions.parse(["--store", "/tmp/a.sqlite"])
    #expect(explicit.resolvedPath(environment: ["COMMERCEML_STORE": "/tmp/b.sqlite"]) == "/tmp/a.sqlite")
    let none = try StoreOptions.parse([])
    #expect(none.resolvedPath(environment: ["COMMERCEML_STORE": "/tmp/b.sqlite"]) == "/tmp/b.sqlite")
    #expect(none.resolvedPath(environment: [:]) == "./commerceml.sqlite")
    #expect(none.resolvedPath(environment: ["COMMERCEML_STORE": ""]) == "./commerceml.sqlite")
  }

  @Test func formatOption() throws {
    #expect(try FormatOptions.parse([]).format == .table)
    #expect(try FormatOptions.parse(["--format", "json"]).format == .json)
    #expect(throws: (any Error).self) { _ = try FormatOptions.parse(["--format", "xml"]) }
  }
}

@Suite struct ModelsReportTests {
  let version = ModelVersion(
    name: "churn", version: 3, kind: "churn.logistic-regression", parameters: ["l2": "0.5"],
    metrics: ["roc_auc": 0.84512, "log_loss": 0.41], dataBytes: 977_501, dataHash: "1234567890abcdef",
    codeVersion: "0.1.0", createdAt: Date(timeIntervalSince1970: 1_764_115_200), artifactBytes: 4096, isActive: true)

  @Test func listRow() {
    #expect(
      ModelsReport.list([version]).render(.csv)
        == "name,version,active,kind,created,data_bytes,metrics\nchurn,3,*,churn.logistic-regression,2025-11-26T00:00:00Z,977501,log_loss=0.41 roc_auc=0.84512\n"
    )
  }

  @Test func showFields() {
    let text = ModelsReport.show(version).render(.csv)
    #expect(
      text == """
        field,value
        name,churn
        version,3
        active,yes
        kind,churn.logistic-regression
        created,2025-11-26T00:00:00Z
        code_version,0.1.0
        data_bytes,977501
        data_xxh64,1234567890abcdef
        artifact_bytes,4096
        param.l2,0.5
        metric.log_loss,0.41
        metric.roc_auc,0.84512

        """)
  }

  /// Points in time (metrics named `*_time`, epoch seconds) show as timestamps to the second, not as 1.70001e+09;
  /// a fraction of a second is kept; other metrics keep six significant digits, and a time out of range stays a number.
  @Test func timeMetricsShowAsTimestamps() {
    var timed = version
    timed.metrics = [
      "first_interaction_time": 1_700_000_000, "history_end_time": 1_767_225_599.25, "roc_auc": 0.84512,
      "last_interaction_time": 1e300,
    ]
    let text = ModelsReport.show(timed).render(.csv)
    #expect(text.contains("metric.first_interaction_time,2023-11-14T22:13:20Z\n"))
    #expect(text.contains("metric.history_end_time,2025-12-31T23:59:59.250Z\n"))
    #expect(text.contains("metric.last_interaction_time,1e+300\n"))
    #expect(text.contains("metric.roc_auc,0.84512\n"))
    #expect(
      ModelsReport.list([timed]).render(.csv).contains(
        "first_interaction_time=2023-11-14T22:13:20Z history_end_time=2025-12-31T23:59:59.250Z last_interaction_time=1e+300 roc_auc=0.84512"
      ))
  }
}

@Suite struct ProgressAndErrorsTests {
  @Test func progressBarText() {
    let bar = ProgressBar(label: "scoring", total: 200, forceEnabled: false)
    #expect(!bar.isEnabled)
    #expect(bar.render(90, elapsed: 1.25) == "scoring [#########-----------]  45%  1.2s")
    #expect(bar.render(500, elapsed: 3) == "scoring [####################] 100%  3.0s")
  }

  @Test func exitCodes() {
    #expect(StoreError.noModel(name: "x").exitCode == 1)
    #expect(StoreError.notAStore(path: "p", reason: "r").exitCode == 69)
    // Memory the store's library could not get is the system refusing a resource, not a damaged store.
    #expect(StoreError.outOfMemory(path: "p").exitCode == 71)
    #expect(StoreError.outOfMemory(path: "p").commandLineMessage.hasPrefix("p: out of memory:"))
    #expect(CommandFailure("no").exitCode == 1)
    #expect(CommerceError(.usage, "x").exitCode == 64)
    #expect(CommerceError(.data, "x").exitCode == 65)
    #expect(CommerceError(.notFound, "x").exitCode == 1)
    #expect(CommerceError(.noModel, "x").exitCode == 1)
  }

  @Test func domainErrorsNameOptionsAsTheCommandLineDoes() {
    let error = CommerceError(.usage, "\(.count) must be at least 1, got 0; see \(.includeSeen)", parameter: .count)
    #expect(error.commandLineMessage == "-n must be at least 1, got 0; see --include-seen")
    #expect(error.description == "count must be at least 1, got 0; see include_seen")
    #expect(error.parameter == .count)
    let train = CommerceError(.noModel, "no model; train first: \(.trainChurn)")
    #expect(train.commandLineMessage == "no model; train first: churn train --data FILE --target COLUMN")
    // Every reference the domains use names its flag (or command).
    let flags: [(CommerceError.Reference, String)] = [
      (.count, "-n"), (.cutoff, "-k"), (.modelName, "--model"), (.trials, "--trials"),
      (.includeSeen, "--include-seen"), (.history, "--history"), (.strict, "--strict"), (.feedback, "--feedback"),
      (.target, "--target"), (.positive, "--positive"), (.exclude, "--exclude"), (.idColumn, "--id-column"),
      (.skipBadRows, "--skip-bad-rows"), (.l2, "--l2"), (.columnMap, "--map"), (.resume, "--resume"),
      (.trainRecommender, "recommend train --interactions FILE"), (.trainFraud, "fraud train --data FILE"),
    ]
    for (reference, flag) in flags { #expect(CommandLineNames.name(reference) == flag) }
    // A reference without a flag of its own is shown as an option of its name.
    let other = CommerceError(.usage, "bad \(CommerceError.Reference(rawValue: "max_items"))")
    #expect(other.commandLineMessage == "bad --max-items")
    // Text and references are kept apart, and adjacent text is one segment.
    #expect(error.message.segments.count == 3)
    #expect(CommerceError(.data, "a \(1) b").message.segments == [.text("a 1 b")])
  }
}
