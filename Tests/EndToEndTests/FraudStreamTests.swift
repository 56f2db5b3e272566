import Foundation
import Testing

/// Runs `fraud` with a pipe on standard input; the test writes lines and reads output lines as they come.
final class LiveProcess {
  let process = Process()
  let input = Pipe()
  let output = Pipe()
  let errors = Pipe()
  var buffered = Data()

  init(_ arguments: [String]) throws {
    process.executableURL = try productsDirectory().appendingPathComponent("fraud")
    process.arguments = arguments
    process.standardInput = input
    process.standardOutput = output
    process.standardError = errors
    try process.run()
  }

  func write(_ text: String) { try? input.fileHandleForWriting.write(contentsOf: Data(text.utf8)) }

  /// Reads until `count` output lines have arrived (they are flushed when the stream waits for input).
  func readLines(_ count: Int) -> [String] {
    while buffered.filter({ $0 == 0x0A }).count < count {
      let chunk = output.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      buffered.append(chunk)
    }
    return String(decoding: buffered, as: UTF8.self).split(separator: "\n").map(String.init)
  }

  func finish() -> (status: Int32, stdout: String, stderr: String) {
    try? input.fileHandleForWriting.close()
    let rest = output.fileHandleForReading.readDataToEndOfFile()
    let err = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (
      process.terminationStatus, String(decoding: buffered + rest, as: UTF8.self), String(decoding: err, as: UTF8.self)
    )
  }
}

@Suite(.serialized) struct FraudStreamTests {
  let dir = temporaryDirectory()
  var store: String { dir.appendingPathComponent("f.sqlite").path }

  /// History (days 1–10) and a later stream (days 11–14) from the simulator.
  func data() throws -> (history: String, stream: [String], header: String) {
    let all = try run("fraud", ["simulate", "--days", "14", "--cards", "150", "--merchants", "40", "--seed", "5"])
      .stdout
    let lines = all.split(separator: "\n").map(String.init)
    let header = lines[0]
    let cut = lines.firstIndex { $0.contains(",2026-01-11 ") }!
    let history = dir.appendingPathComponent("history.csv").path
    try (([header] + lines[1..<cut]).joined(separator: "\n") + "\n").write(
      toFile: history, atomically: true, encoding: .utf8)
    return (history, Array(lines[cut...]), header)
  }

  func train(_ history: String) throws {
    let trained = try run("fraud", ["train", "--data", history, "--store", store])
    #expect(trained.status == 0, "\(trained)")
  }

  @Test func resumedAfterKillGivesTheSameOutputAsAnUninterruptedRun() throws {
    let (history, stream, header) = try data()
    try train(history)
    let input = ([header] + stream).joined(separator: "\n") + "\n"
    // The uninterrupted run, from a copy of the store (so the checkpoint below starts clean).
    let copy = dir.appendingPathComponent("copy.sqlite").path
    try FileManager.default.copyItem(atPath: store, toPath: copy)
    let whole = try run("fraud", ["stream", "--store", copy], stdin: Data(input.utf8))
    #expect(whole.status == 0)
    let expected = whole.stdout.split(separator: "\n").map(String.init)
    #expect(expected.count == stream.count + 1)
    // Feed 250 transactions, wait for their output, kill -9 (checkpoints every 100: state after 200).
    let live = try LiveProcess(["stream", "--store", store, "--checkpoint-every", "100"])
    live.write(([header] + stream[0..<250]).joined(separator: "\n") + "\n")
    let seen = live.readLines(251)
    #expect(Array(seen.prefix(251)) == Array(expected.prefix(251)))
    kill(live.process.processIdentifier, SIGKILL)
    live.process.waitUntilExit()
    // Resume and replay everything: the 200 covered transactions are skipped, the rest match.
    let resumed = try run("fraud", ["stream", "--resume", "--store", store], stdin: Data(input.utf8))
    #expect(resumed.status == 0)
    #expect(resumed.stderr.contains("fraud: resuming after "))
    #expect(resumed.stderr.contains("200 transactions already processed were skipped"))
    let after = resumed.stdout.split(separator: "\n").map(String.init)
    #expect(Array(after.dropFirst()) == Array(expected.dropFirst(201)))
  }

  @Test func sigtermCheckpointsEverythingProcessed() throws {
    let (history, stream, header) = try data()
    try train(history)
    let live = try LiveProcess(["stream", "--store", store, "--checkpoint-every", "1000000"])
    live.write(([header] + stream[0..<120]).joined(separator: "\n") + "\n")
    _ = live.readLines(121)
    kill(live.process.processIdentifier, SIGTERM)
    let ended = live.finish()
    #expect(ended.status == 0)
    let resumed = try run(
      "fraud", ["stream", "--resume", "--store", store],
      stdin: Data((([header] + stream[0..<130]).joined(separator: "\n") + "\n").utf8))
    #expect(resumed.stderr.contains("fraud: 120 transactions already processed were skipped"))
    #expect(resumed.stdout.split(separator: "\n").count == 1 + 10)
  }

  /// `--learn`: learned weights change the scores once labels are known (never before: with a delay longer than
  /// the stream the output is the unlearned one), are checkpointed, and a resumed stream continues learning
  /// exactly where it stopped; `--register-every` registers learned versions that `models rollback` undoes.
  @Test func learningOnlineCheckpointsResumesAndRegisters() throws {
    let (history, stream, header) = try data()
    try train(history)
    let input = ([header] + stream).joined(separator: "\n") + "\n"
    func copyStore(_ name: String) throws -> String {
      let path = dir.appendingPathComponent(name).path
      try FileManager.default.copyItem(atPath: store, toPath: path)
      return path
    }
    let plain = try run("fraud", ["stream", "--store", try copyStore("p.sqlite")], stdin: Data(input.utf8))
    #expect(plain.status == 0)
    let never = try run(
      "fraud", ["stream", "--learn", "--labels-delay", "100d", "--store", try copyStore("n.sqlite")],
      stdin: Data(input.utf8))
    #expect(never.status == 0, "\(never)")
    #expect(never.stdout == plain.stdout)
    #expect(
      never.stderr.contains("fraud: learned online from 0 labels (\(stream.count) labels still waiting"), "\(never)")
    let whole = try run(
      "fraud", ["stream", "--learn", "--labels-delay", "1h", "--store", try copyStore("w.sqlite")],
      stdin: Data(input.utf8))
    #expect(whole.status == 0, "\(whole)")
    #expect(whole.stdout != plain.stdout)
    let learnedLine = try #require(whole.stderr.split(separator: "\n").first { $0.contains("learned online from") })
    let learnedCount = Int(String(learnedLine.split(separator: " ")[4]))!
    #expect(learnedCount > stream.count / 2)
    // The same stream in two runs, the second resuming: identical output, learning continued.
    let split = try copyStore("s.sqlite")
    let first = try run(
      "fraud", ["stream", "--learn", "--labels-delay", "1h", "--store", split],
      stdin: Data((([header] + stream[..<300]).joined(separator: "\n") + "\n").utf8))
    #expect(first.status == 0)
    let second = try run(
      "fraud", ["stream", "--resume", "--learn", "--labels-delay", "1h", "--store", split], stdin: Data(input.utf8))
    #expect(second.status == 0, "\(second)")
    #expect(second.stderr.contains("fraud: learning continues from the checkpoint ("), "\(second)")
    #expect(second.stderr.contains("fraud: 300 transactions already processed were skipped"))
    let expected = whole.stdout.split(separator: "\n").map(String.init)
    let got =
      first.stdout.split(separator: "\n").map(String.init)
      + second.stdout.split(separator: "\n").dropFirst().map(String.init)
    #expect(got == expected)
    // Resumed without --learn: the learned weights are set aside, with a note, and the scores are the model's.
    let unlearned = try run("fraud", ["stream", "--resume", "--store", split], stdin: Data("\(header)\n".utf8))
    #expect(unlearned.stderr.contains("without --learn they are not used"), "\(unlearned)")
    // Registering every simulated day: versions 2, 3, … of the same model, learned from version 1.
    let registering = try copyStore("r.sqlite")
    let registered = try run(
      "fraud", ["stream", "--learn", "--labels-delay", "1h", "--register-every", "1d", "--store", registering],
      stdin: Data(input.utf8))
    #expect(registered.status == 0, "\(registered)")
    #expect(registered.stdout == whole.stdout)
    #expect(registered.stderr.contains("; registered versions 2, 3, 4"), "\(registered.stderr)")
    let list = try run("fraud", ["models", "list", "--store", registering])
    #expect(list.stdout.contains("fraud.additive"), "\(list)")
    let shown = try run("fraud", ["models", "show", "--format", "json", "--store", registering])
    #expect(shown.stdout.contains("learned_online_from_version"), "\(shown)")
    // Each learned version names the one it learned from: the active (4) learned from 3.
    let shownCSV = try run("fraud", ["models", "show", "--format", "csv", "--store", registering])
    #expect(shownCSV.stdout.contains("param.learned_online_from_version,3\n"), "\(shownCSV)")
    // A stream on the newest learned version scores with its weights; rolled back, with the one before.
    let rollback = try run("fraud", ["models", "rollback", "--store", registering])
    #expect(rollback.status == 0, "\(rollback)")
    let onRolledBack = try run(
      "fraud", ["stream", "--learn", "--labels-delay", "1h", "--resume", "--store", registering],
      stdin: Data("\(header)\n".utf8))
    #expect(onRolledBack.stderr.contains("came from version"), "\(onRolledBack)")
    // Usage errors.
    let noLearn = try run("fraud", ["stream", "--register-every", "1d", "--store", registering], stdin: Data())
    #expect(noLearn.status == 64 && noLearn.stderr.contains("--register-every needs --learn"), "\(noLearn)")
    let badMemory = try run("fraud", ["stream", "--learn", "--learn-memory", "0d", "--store", registering])
    #expect(badMemory.status == 64 && badMemory.stderr.contains("--learn-memory must be at least 1h"), "\(badMemory)")
    let logistic = dir.appendingPathComponent("l.sqlite").path
    #expect(try run("fraud", ["train", "--data", history, "--family", "logistic", "--store", logistic]).status == 0)
    let refused = try run("fraud", ["stream", "--learn", "--store", logistic], stdin: Data(input.utf8))
    #expect(refused.status == 64, "\(refused)")
    #expect(refused.stderr.contains("this model is a logistic regression: train it with the additive family"))
  }

  /// The stream reads one line ahead when it is buffered; fed one line at a time it cannot. Both must give
  /// the same output, with replays right behind the held transaction, a feedback label for it, a late line,
  /// and a replayed id carrying a later time (which must not move the newest time seen).
  @Test func readingAheadGivesTheSameOutputAsLineByLine() throws {
    let (history, stream, header) = try data()
    try train(history)
    var lines = stream[0..<60].map { $0 + "," }
    func field(_ line: String, _ k: Int) -> String {
      String(line.split(separator: ",", omittingEmptySubsequences: false)[k])
    }
    lines.insert(lines[40].replacingOccurrences(of: field(lines[40], 1), with: "2026-01-20 00:00:00"), at: 41)
    lines.insert(
      lines[30].replacingOccurrences(of: field(lines[30], 0), with: "T-late").replacingOccurrences(
        of: field(lines[30], 1), with: "2026-01-08 00:00:00"), at: 31)
    lines.insert(field(lines[20], 0) + ",,,,,,,,,1,label", at: 21)
    lines.insert(lines[10], at: 11)
    let text = ([header + ",type"] + lines).joined(separator: "\n") + "\n"
    let atOnce = try run("fraud", ["stream", "--store", store], stdin: Data(text.utf8))
    #expect(atOnce.status == 0)
    #expect(atOnce.stderr.contains("fraud: 2 transactions already processed were skipped"))
    #expect(atOnce.stderr.contains("fraud: 1 late transactions skipped"))
    #expect(!atOnce.stderr.contains("malformed"))
    #expect(atOnce.stdout.split(separator: "\n").count == 1 + 60)
    let live = try LiveProcess(["stream", "--fresh", "--store", store])
    for line in [header + ",type"] + lines {
      live.write(line + "\n")
      usleep(5_000)
    }
    let oneByOne = live.finish()
    #expect(oneByOne.status == 0)
    #expect(oneByOne.stdout == atOnce.stdout)
    #expect(oneByOne.stderr.contains("fraud: 2 transactions already processed were skipped"))
    #expect(oneByOne.stderr.contains("fraud: 1 late transactions skipped"))
  }

  @Test func malformedLinesAreReportedAndTheStreamGoesOn() throws {
    let (history, stream, header) = try data()
    try train(history)
    var lines = [header] + stream[0..<20]
    lines.insert("T-bad-1,2026-01-11 10:00:00,C1,M1,grocery,US,lots,40.7,-74.0,0", at: 3)  // line 4: bad amount
    lines.insert("T-bad-2,not a time,C1,M1,grocery,US,12.00,40.7,-74.0,0", at: 5)  // line 6: bad time
    lines.insert("T-bad-3,2026-01-11 10:00:00,C1", at: 7)  // line 8: too few fields
    lines.insert("", at: 9)  // line 10: empty
    lines.insert("T-bad-5,2000-01-01 00:00:00,C1,M1,grocery,US,12.00,40.7,-74.0,0", at: 11)  // line 12: too late
    var bytes = Data((lines.joined(separator: "\n") + "\n").utf8)
    bytes.append(contentsOf: Array("T-bad-6,2026-01-11 10:00:00,C".utf8) + [0xFF, 0xFE])
    bytes.append(contentsOf: Array(",M1,grocery,US,12.00,40.7,-74.0,0\n".utf8))  // line 27: invalid UTF-8 card
    bytes.append(contentsOf: Array("T-bad-7,99999999999999999,C1,M1,grocery,US,12.00,40.7,-74.0,0\n".utf8))  // 28
    let dead = dir.appendingPathComponent("dead.csv").path
    let result = try run("fraud", ["stream", "--store", store, "--dead-letter", dead], stdin: bytes)
    #expect(result.status == 0)
    #expect(result.stdout.split(separator: "\n").count == 1 + 20)
    let errors = result.stderr.split(separator: "\n").map(String.init)
    #expect(errors.contains { $0.hasPrefix("fraud: <stdin>:4:") && $0.contains("column 'amount': expected a number") })
    #expect(errors.contains { $0.hasPrefix("fraud: <stdin>:6:") && $0.contains("expected a timestamp") })
    #expect(errors.contains { $0.hasPrefix("fraud: <stdin>:8:") && $0.contains("expected 10 fields") })
    #expect(errors.contains { $0.hasPrefix("fraud: <stdin>:10:") })
    #expect(errors.contains { $0.hasPrefix("fraud: <stdin>:12:") && $0.contains("allowed lateness") })
    #expect(errors.contains { $0.hasPrefix("fraud: <stdin>:27:") && $0.contains("invalid UTF-8") })
    #expect(errors.contains { $0.hasPrefix("fraud: <stdin>:28:") && $0.contains("a time in the years 1 to 9999") })
    #expect(errors.contains("fraud: 6 malformed lines skipped"))
    #expect(errors.contains("fraud: 1 late transactions skipped"))
    // The dead-letter file is the header once, then every rejected line's bytes exactly, in input order.
    let deadBytes = try Data(contentsOf: URL(fileURLWithPath: dead))
    var expected = Data((header + "\n").utf8)
    for k in [3, 5, 7, 9, 11] { expected.append(Data((lines[k] + "\n").utf8)) }
    expected.append(contentsOf: Array("T-bad-6,2026-01-11 10:00:00,C".utf8) + [0xFF, 0xFE])
    expected.append(contentsOf: Array(",M1,grocery,US,12.00,40.7,-74.0,0\n".utf8))
    expected.append(contentsOf: Array("T-bad-7,99999999999999999,C1,M1,grocery,US,12.00,40.7,-74.0,0\n".utf8))
    #expect(deadBytes == expected)
    // Replaying it appends, without a second header.
    let again = try run("fraud", ["stream", "--fresh", "--store", store, "--dead-letter", dead], stdin: deadBytes)
    #expect(again.status == 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: dead)) == expected + expected.dropFirst(header.utf8.count + 1))
  }

  @Test func withoutAModelRulesDecideAndSaySoOnce() throws {
    let (_, stream, header) = try data()
    let result = try run(
      "fraud", ["stream", "--store", store],
      stdin: Data((([header] + stream[0..<50]).joined(separator: "\n") + "\n").utf8))
    #expect(result.status == 0)
    #expect(result.stderr == "fraud: no fraud model 'fraud' in \(store); deciding by rules only\n")
    #expect(result.stdout.split(separator: "\n").count == 51)
    #expect(result.stdout.hasPrefix("transaction_id,score,decision,reasons\n"))
  }
}

@Suite struct FraudCommandTests {
  @Test func trainAndEvaluateOnSampleData() throws {
    let dir = temporaryDirectory()
    let store = dir.appendingPathComponent("s.sqlite").path
    let trained = try run("fraud", ["train", "--data", sampleData("fraud/history.csv"), "--store", store])
    #expect(trained.status == 0)
    #expect(trained.stdout.hasPrefix("replayed 27161 transactions (336 frauds)"))
    let evaluated = try run(
      "fraud",
      [
        "evaluate", "--data", sampleData("fraud/history.csv"), "--from", "2026-01-22", "--format", "csv", "--store",
        store,
      ])
    #expect(evaluated.status == 0)
    let rows = evaluated.stdout.split(separator: "\n").map { $0.split(separator: ",") }
    #expect(rows[0] == ["scorer", "roc_auc", "average_precision", "card_precision@100", "alert_rate"])
    #expect(rows.map { $0[0] } == ["scorer", "model", "rules only", "amount-only logistic regression"])
    let model = Double(rows[1][2])!
    #expect(model > Double(rows[2][2])! + 0.2 && model > Double(rows[3][2])! + 0.2)
    #expect(trained.stdout.contains("on the history's last two weeks: alert rate "))
    // The default family is recorded as its kind; a logistic model trained next to it is another version.
    #expect(try run("fraud", ["models", "list", "--store", store]).stdout.contains("fraud.additive"))
    let logistic = try run(
      "fraud", ["train", "--data", sampleData("fraud/history.csv"), "--family", "logistic", "--store", store])
    #expect(logistic.status == 0, "\(logistic)")
    let kinds = try run("fraud", ["models", "list", "--format", "csv", "--store", store]).stdout
    #expect(kinds.contains(",fraud.logistic-regression,") && kinds.contains(",fraud.additive,"), "\(kinds)")
    // The table form adds the model's reliability table and Brier score, and the handbook protocol its card rule.
    let table = try run(
      "fraud",
      [
        "evaluate", "--data", sampleData("fraud/history.csv"), "--from", "2026-01-22", "--days", "3", "--protocol",
        "handbook", "--store", store,
      ])
    #expect(table.status == 0, "\(table)")
    #expect(table.stdout.contains("over 3 days"), "\(table)")
    #expect(table.stdout.contains("reliability of the model's score (Brier "), "\(table)")
    #expect(table.stdout.contains("band         transactions  mean_score  observed_rate"), "\(table)")
    // Monitoring per day of event time: the sample stream's first days, then the same stream with every amount
    // multiplied by 50 — its score distribution moves and is flagged.
    let stream = try String(contentsOfFile: sampleData("fraud/stream.csv"), encoding: .utf8)
    let monitored = try run("fraud", ["stream", "--stats-every", "1d", "--store", store], stdin: Data(stream.utf8))
    let periods = monitored.stderr.split(separator: "\n").filter { $0.hasPrefix("fraud: period 2026-") }
    #expect(periods.count >= 5, "\(monitored.stderr)")
    #expect(periods.first?.hasPrefix("fraud: period 2026-01-29 00:00:00: ") == true)
    let counted = periods.compactMap { line in Int(line.split(separator: " ")[4]) }.reduce(0, +)
    #expect(counted == stream.split(separator: "\n").count - 1)
    #expect(!monitored.stderr.contains("DRIFT"))
    let lines = stream.split(separator: "\n").map(String.init)
    let shifted =
      [lines[0]]
      + lines.dropFirst().map { line -> String in
        var f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        f[0] = "S" + f[0]
        f[1] = f[1].replacingOccurrences(of: "2026-01-", with: "2026-02-").replacingOccurrences(
          of: "2026-02-0", with: "2026-02-1")
        f[6] = String(format: "%.2f", Double(f[6])! * 50)
        return f.joined(separator: ",")
      }
    let drifted = try run(
      "fraud", ["stream", "--fresh", "--stats-every", "1d", "--max-clock-skew", "30d", "--store", store],
      stdin: Data((shifted.joined(separator: "\n") + "\n").utf8))
    #expect(drifted.stderr.contains("DRIFT (PSI above 0.25)"), "\(drifted.stderr.prefix(800))")
  }

  @Test func mappingAndLabelErrors() throws {
    let dir = temporaryDirectory()
    let store = dir.appendingPathComponent("s.sqlite").path
    let noLabels = try run("fraud", ["train", "--data", sampleData("fraud/stream.csv"), "--store", store])
    #expect(noLabels.status == 65 && noLabels.stderr.contains("no label column"))
    let badMap = try run(
      "fraud", ["train", "--data", sampleData("fraud/history.csv"), "--map", "colour=x", "--store", store])
    #expect(badMap.status == 64 && badMap.stderr.contains("unknown field 'colour'"))
    let missing = try run(
      "fraud", ["train", "--data", sampleData("fraud/history.csv"), "--map", "card=CUSTOMER_ID", "--store", store])
    #expect(missing.status == 65 && missing.stderr.contains("CUSTOMER_ID"))
    let noModel = try run("fraud", ["evaluate", "--data", sampleData("fraud/history.csv"), "--store", store])
    // The failed trainings above opened (created) the store first; it holds no model yet.
    #expect(noModel.status == 1 && noModel.stderr.contains("no fraud model 'fraud'"), "\(noModel)")
    let badDelay = try run("fraud", ["train", "--data", "x.csv", "--labels-delay", "7w"])
    #expect(badDelay.status == 64)
    // A bad --map for JSON lines is a usage error before any input is read (it once reached a try!).
    for format in ["jsonl", "csv"] {
      let junk = try run(
        "fraud", ["stream", "--format", format, "--map", "junk", "--store", store], stdin: Data("{}\n".utf8))
      #expect(
        junk
          == RunResult(
            status: 64, stdout: "", stderr: "fraud: error: --map: 'junk' is not of the form logical=column\n"),
        "\(junk)")
    }
  }
}

@Suite struct FraudInputFormatTests {
  @Test func jsonLinesAndRulesFiles() throws {
    let dir = temporaryDirectory()
    let store = dir.appendingPathComponent("s.sqlite").path
    let rules = dir.appendingPathComponent("rules.json").path
    try #"{"rules": [{"code": "BIG", "decision": "decline", "when": [{"value": "amount", "op": ">", "than": 500}]}]}"#
      .write(toFile: rules, atomically: true, encoding: .utf8)
    let input = """
      {"TX": "a1", "WHEN": "2026-02-01T10:00:00Z", "CARD": "c1", "AMT": 12.5, "SHOP": "m1"}
      {"TX": "a2", "WHEN": "2026-02-01T10:05:00Z", "CARD": "c1", "AMT": 900, "SHOP": "m2"}
      {"TX": "a3", "WHEN": 1769941000, "CARD": "c2", "AMT": 3}
      {"TX": "a4", "WHEN": "2026-02-01T10:07:00Z", "CARD": "c2", "AMT": "lots"}

      """
    let result = try run(
      "fraud",
      [
        "stream", "--format", "jsonl", "--rules", rules, "--store", store, "--map",
        "transaction_id=TX,timestamp=WHEN,card=CARD,amount=AMT,merchant=SHOP",
      ], stdin: Data(input.utf8))
    #expect(result.status == 0, "\(result)")
    #expect(
      result.stdout
        == "transaction_id,score,decision,reasons\na1,0.000000,approve,\na2,0.000000,decline,BIG\na3,0.000000,approve,\n"
    )
    #expect(result.stderr.contains("<stdin>:4:1: column 'AMT': expected a number, found \"lots\""))
    #expect(result.stderr.contains("fraud: 1 malformed lines skipped"))
  }
}
