import Foundation
import Recommender
import Testing

func entries(_ dir: URL) -> [String] {
  ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
}

/// Issue 10's classes, end to end through the three apps.
@Suite(.serialized) struct ReliabilityTests {
  let dir = temporaryDirectory()
  var store: String { dir.appendingPathComponent("s.sqlite").path }

  func trainAll() throws {
    let r = try run(
      "recommend", ["train", "--interactions", sampleData("ecommerce/interactions.csv"), "--store", store])
    #expect(r.status == 0, "\(r)")
    let c = try run(
      "churn",
      ["train", "--data", sampleData("churn/customers.csv"), "--target", "churned", "--cv", "0", "--store", store])
    #expect(c.status == 0, "\(c)")
  }

  /// 1. `--output` onto a link, a FIFO or a device writes through; onto an input, or empty, is refused before
  /// any work; an interrupted run leaves no temporary file.
  @Test func outputsNeverDestroyWhatIsThere() throws {
    try trainAll()
    // A symbolic link: its target gets the output, the link stays.
    let target = dir.appendingPathComponent("target.csv").path
    try "old\n".write(toFile: target, atomically: false, encoding: .utf8)
    let link = dir.appendingPathComponent("link.csv").path
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
    let viaLink = try run("recommend", ["batch", "--all", "-n", "2", "--output", link, "--store", store])
    #expect(viaLink.status == 0, "\(viaLink)")
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target)
    #expect(try String(contentsOfFile: target, encoding: .utf8).hasPrefix("user_id,rank,item_id,score,source\n"))
    // /dev/stdout: the rows arrive on standard output.
    let toStdout = try run("recommend", ["batch", "--all", "-n", "1", "--output", "/dev/stdout", "--store", store])
    #expect(toStdout.status == 0, "\(toStdout)")
    #expect(toStdout.stdout.hasPrefix("user_id,rank,item_id,score,source\n"))
    var st = stat()
    lstat("/dev/null", &st)
    let nullMode = st.st_mode & S_IFMT
    let churnNull = try run(
      "churn", ["score", sampleData("churn/customers_new.csv"), "--output", "/dev/null", "--store", store])
    #expect(churnNull.status == 0, "\(churnNull)")
    lstat("/dev/null", &st)
    #expect(st.st_mode & S_IFMT == nullMode)
    // A FIFO read by another process.
    let fifo = dir.appendingPathComponent("rows.fifo").path
    #expect(mkfifo(fifo, 0o600) == 0)
    let cat = Process()
    cat.executableURL = URL(fileURLWithPath: "/bin/cat")
    cat.arguments = [fifo]
    let catOut = Pipe()
    cat.standardOutput = catOut
    try cat.run()
    let simulated = try run("fraud", ["simulate", "--days", "2", "--cards", "20", "--output", fifo])
    #expect(simulated.status == 0, "\(simulated)")
    let piped = String(decoding: catOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    cat.waitUntilExit()
    #expect(piped.hasPrefix("transaction_id,timestamp,"))
    lstat(fifo, &st)
    #expect(st.st_mode & S_IFMT == S_IFIFO)

    // Onto an input: refused before any work, the input intact.
    let customers = dir.appendingPathComponent("cn.csv").path
    try FileManager.default.copyItem(atPath: sampleData("churn/customers_new.csv"), toPath: customers)
    let before = try Data(contentsOf: URL(fileURLWithPath: customers))
    let onto = try run("churn", ["score", customers, "--output", customers, "--store", store])
    #expect(onto.status == 64, "\(onto)")
    #expect(onto.stderr.contains("is also the input"))
    #expect(try Data(contentsOf: URL(fileURLWithPath: customers)) == before)
    let users = dir.appendingPathComponent("u.csv").path
    try "user_id\nU-0001\n".write(toFile: users, atomically: false, encoding: .utf8)
    let ontoUsers = try run("recommend", ["batch", "--users", users, "--output", users, "--store", store])
    #expect(ontoUsers.status == 64, "\(ontoUsers)")
    #expect(try String(contentsOfFile: users, encoding: .utf8) == "user_id\nU-0001\n")
    let ontoStore = try run("recommend", ["batch", "--all", "--output", store, "--store", store])
    #expect(ontoStore.status == 64, "\(ontoStore)")
    let design = try run(
      "churn", ["train", "--data", customers, "--target", "churned", "--design-matrix", customers, "--store", store])
    #expect(design.status == 64, "\(design)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: customers)) == before)
    for (tool, args) in [
      ("recommend", ["batch", "--all", "--output", ""]), ("churn", ["score", customers, "--output", ""]),
      ("fraud", ["simulate", "--days", "1", "--output", ""]),
    ] {
      let empty = try run(tool, args + (tool == "fraud" ? [] : ["--store", store]))
      #expect(empty.status == 64, "\(tool): \(empty)")
      #expect(empty.stderr.contains("the output path is empty"), "\(tool): \(empty)")
    }
    let dead = try run(
      "fraud", ["stream", "--dead-letter", customers, "--store", store],
      stdin: try Data(contentsOf: URL(fileURLWithPath: sampleData("fraud/stream.csv"))))
    #expect(dead.status == 0 || dead.status == 64)

    // Stopped by a signal mid-write: no temporary file is left.
    for signal in [SIGINT, SIGTERM] {
      let out = dir.appendingPathComponent("big-\(signal).csv")
      // Through env(1) with default dispositions: a test runner may start children with these signals ignored.
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = [
        "--default-signal=INT,TERM", try productsDirectory().appendingPathComponent("fraud").path, "simulate",
        "--days", "400", "--cards", "20000", "--output", out.path,
      ]
      process.standardError = FileHandle.nullDevice
      try process.run()
      let deadline = Date().addingTimeInterval(20)
      while !entries(dir).contains(where: { $0.hasPrefix("big-\(signal).csv.partial-") }) && Date() < deadline {
        usleep(2000)
      }
      kill(process.processIdentifier, signal)
      process.waitUntilExit()
      #expect(process.terminationReason == .uncaughtSignal)
      #expect(!entries(dir).contains { $0.contains(".partial-") }, "\(entries(dir))")
      #expect(!FileManager.default.fileExists(atPath: out.path))
    }
  }

  /// 2. One far-future transaction neither silences the stream nor enters the training state; a real jump
  /// (confirmed by the next transaction) is followed; late transactions are counted as late.
  @Test func oneFarFutureDateDoesNotMoveTheClock() throws {
    let lines = try String(contentsOfFile: sampleData("fraud/stream.csv"), encoding: .utf8)
      .split(separator: "\n").map(String.init)
    let header = lines[0]
    var body = Array(lines[1...200])
    let typo = "X" + body[50].replacingOccurrences(of: "2026-", with: "2062-")
    body.insert(typo, at: 51)  // line 53 of the input
    let input = ([header] + body).joined(separator: "\n") + "\n"
    let dead = dir.appendingPathComponent("dead-future.csv").path
    let r = try run("fraud", ["stream", "--store", store, "--dead-letter", dead], stdin: Data(input.utf8))
    #expect(r.status == 0, "\(r)")
    #expect(r.stdout.split(separator: "\n").count == 1 + 200)
    #expect(r.stderr.contains("<stdin>:53: transaction dated more than the allowed clock skew"), "\(r)")
    #expect(r.stderr.contains("fraud: 1 malformed lines skipped (1 dated too far ahead of the stream)"), "\(r)")
    #expect(try String(contentsOfFile: dead, encoding: .utf8) == header + "\n" + typo + "\n")

    // A genuine jump: two transactions a week ahead agree, and the stream follows them.
    #expect(body[0..<50].allSatisfy { $0.contains(",2026-01-29 ") })
    let jumped = lines[250...251].map { $0.replacingOccurrences(of: ",2026-01-29 ", with: ",2026-02-05 ") }
    let later = lines[260...263].map { $0.replacingOccurrences(of: ",2026-01-29 ", with: ",2026-02-05 ") }
    let jumpInput = ([header] + body[0..<50] + jumped + later).joined(separator: "\n") + "\n"
    let j = try run(
      "fraud", ["stream", "--store", dir.appendingPathComponent("j.sqlite").path], stdin: Data(jumpInput.utf8))
    #expect(j.status == 0, "\(j)")
    #expect(j.stdout.split(separator: "\n").count == 1 + 50 + 2 + 4, "\(j)")
    #expect(!j.stderr.contains("skipped"), "\(j)")

    // Late transactions are late, not malformed.
    let old = lines[301...303].map { $0.replacingOccurrences(of: ",2026-01-29 ", with: ",2026-01-01 ") }
    let lateInput = ([header] + body[0..<20] + old).joined(separator: "\n") + "\n"
    let l = try run(
      "fraud", ["stream", "--store", dir.appendingPathComponent("l.sqlite").path], stdin: Data(lateInput.utf8))
    #expect(l.status == 0, "\(l)")
    #expect(l.stderr.contains("fraud: 3 late transactions skipped"), "\(l)")
    #expect(!l.stderr.contains("malformed"), "\(l)")

    // In training, a far-future date at the end of the history is reported and left out of the state.
    var history = try String(contentsOfFile: sampleData("fraud/history.csv"), encoding: .utf8)
    let last = history.split(separator: "\n").last!
    history += last.replacingOccurrences(of: "T", with: "X").replacingOccurrences(of: "2026-", with: "2062-") + "\n"
    let historyPath = dir.appendingPathComponent("history-typo.csv").path
    try history.write(toFile: historyPath, atomically: false, encoding: .utf8)
    let trained = try run(
      "fraud", ["train", "--data", historyPath, "--store", dir.appendingPathComponent("t.sqlite").path])
    #expect(trained.status == 0, "\(trained)")
    #expect(trained.stderr.contains("1 transactions dated far ahead of the history were left out"), "\(trained)")
    let streamed = try run(
      "fraud", ["stream", "--store", dir.appendingPathComponent("t.sqlite").path],
      stdin: try Data(contentsOf: URL(fileURLWithPath: sampleData("fraud/stream.csv"))))
    #expect(streamed.status == 0)
    #expect(!streamed.stderr.contains("late"), "\(streamed.stderr.prefix(500))")
    #expect(streamed.stdout.split(separator: "\n").count == lines.count)
  }

  /// 4 and 5. Bad lines of every kind, every 500 rows among 60,000 valid transactions: each valid one answered
  /// once with the clean run's output, each bad one reported once and dead-lettered byte for byte, exit 0.
  @Test(arguments: ["csv", "jsonl"])
  func badLinesCostOnlyThemselves(format: String) throws {
    let simulated = try run(
      "fraud", ["simulate", "--days", "60", "--cards", "2000", "--merchants", "300", "--seed", "11"]
    ).stdout
    var valid = simulated.split(separator: "\n").map(String.init)
    let header = valid.removeFirst()
    valid = Array(valid.prefix(60_000))
    #expect(valid.count == 60_000)
    let columns = header.split(separator: ",").map(String.init)
    func encode(_ line: String) -> String {
      guard format == "jsonl" else { return line }
      let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      let pairs = zip(columns, fields).map { "\"\($0)\":\"\($1)\"" }
      return "{" + pairs.joined(separator: ",") + "}"
    }
    let bad: [[UInt8]] = [
      Array("\"unterminated,2026-01-05 10:00:00,C12,M34,online,US,10.5,40.0,-74.0,0".utf8),
      Array(("T-long," + String(repeating: "9", count: 100_000)).utf8),
      Array("T-nul,2026-01-05 10:00:00,C1\u{0},M1,online,US,10.5,40.0,-74.0,0".utf8),
      Array("T-amount,2026-01-05 10:00:00,C1,M1,online,US,lots,40.0,-74.0,0".utf8),
      Array("T-few,2026-01-05".utf8),
      Array("T-utf8,2026-01-05 10:00:00,C".utf8) + [0xFF] + Array(",M1,online,US,10.5,40.0,-74.0,0".utf8),
      Array("{\"transaction_id\": \"open".utf8),
    ]
    var cleanInput = Data((format == "csv" ? header + "\n" : "").utf8)
    var dirtyInput = cleanInput
    var badLines: [Int] = []
    var expectedDead = Data((format == "csv" ? header + "\n" : "").utf8)
    var line = format == "csv" ? 1 : 0
    for (k, tx) in valid.enumerated() {
      let bytes = Data((encode(tx) + "\n").utf8)
      cleanInput.append(bytes)
      dirtyInput.append(bytes)
      line += 1
      if k % 500 == 499 {
        let b = Data(bad[(k / 500) % bad.count] + [0x0A])
        dirtyInput.append(b)
        line += 1
        badLines.append(line)
        expectedDead.append(b)
      }
    }
    // One 10 MB line as well.
    let huge = Data(Array(("T-huge," + String(repeating: "x", count: 10 << 20)).utf8) + [0x0A])
    dirtyInput.append(huge)
    badLines.append(line + 1)
    expectedDead.append(huge)
    let clean = try run(
      "fraud", ["stream", "--format", format, "--store", dir.appendingPathComponent("c-\(format).sqlite").path],
      stdin: cleanInput)
    #expect(clean.status == 0)
    let deadPath = dir.appendingPathComponent("dead-\(format).txt").path
    let dirty = try run(
      "fraud",
      [
        "stream", "--format", format, "--store", dir.appendingPathComponent("d-\(format).sqlite").path,
        "--dead-letter", deadPath,
      ], stdin: dirtyInput)
    #expect(dirty.status == 0)
    #expect(dirty.stdout == clean.stdout)
    let reported = dirty.stderr.split(separator: "\n").compactMap { message -> Int? in
      guard message.hasPrefix("fraud: <stdin>:") else { return nil }
      return Int(message.dropFirst("fraud: <stdin>:".count).prefix { $0.isNumber })
    }
    #expect(reported == badLines)
    #expect(dirty.stderr.contains("fraud: \(badLines.count) malformed lines skipped"))
    #expect(try Data(contentsOf: URL(fileURLWithPath: deadPath)) == expectedDead)
  }

  /// Classes 8 and 11: absurd amounts are malformed, never approved; small wrong outputs fixed.
  @Test func smallerWrongOutputs() throws {
    try trainAll()
    let lines = try String(contentsOfFile: sampleData("fraud/stream.csv"), encoding: .utf8)
      .split(separator: "\n").map(String.init)
    func amount(_ line: String, _ value: String) -> String {
      var f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      f[0] = "A" + f[0]
      f[6] = value
      return f.joined(separator: ",")
    }
    let absurd = [lines[0], lines[1], amount(lines[2], "1e50"), amount(lines[3], "1e15"), lines[4]]
    let a = try run("fraud", ["stream", "--store", store], stdin: Data((absurd.joined(separator: "\n") + "\n").utf8))
    #expect(a.status == 0, "\(a)")
    #expect(a.stdout.split(separator: "\n").count == 1 + 2)
    #expect(a.stderr.contains("<stdin>:3:") && a.stderr.contains("expected an amount of at most 1e9"), "\(a)")
    #expect(a.stderr.contains("fraud: 2 malformed lines skipped"), "\(a)")

    // A named model that does not exist is an error; only the default name falls back to rules, with a note.
    let typo = try run("fraud", ["stream", "--model", "frud", "--store", store], stdin: Data((lines[0] + "\n").utf8))
    #expect(typo.status == 1 && typo.stderr.contains("no fraud model 'frud'"), "\(typo)")

    // simulate: no fraud at a share of 0; four-digit years.
    let none = try run("fraud", ["simulate", "--days", "20", "--cards", "300", "--fraud-share", "0"])
    #expect(none.status == 0)
    #expect(none.stdout.split(separator: "\n").dropFirst().allSatisfy { $0.hasSuffix(",0") })
    #expect(none.stderr.contains(", 0 fraudulent"), "\(none.stderr)")
    let early = try run("fraud", ["simulate", "--days", "1", "--cards", "5", "--start", "0999-01-01"])
    #expect(early.stdout.split(separator: "\n")[1].split(separator: ",")[1].hasPrefix("0999-01-01 "))

    // train skips a repeated transaction id, as the stream does.
    var history = try String(contentsOfFile: sampleData("fraud/history.csv"), encoding: .utf8)
      .split(separator: "\n").map(String.init)
    history.insert(history[100], at: 101)
    let historyPath = dir.appendingPathComponent("dup.csv").path
    try (history.joined(separator: "\n") + "\n").write(toFile: historyPath, atomically: false, encoding: .utf8)
    let dup = try run(
      "fraud", ["train", "--data", historyPath, "--store", dir.appendingPathComponent("d.sqlite").path])
    #expect(dup.status == 0, "\(dup)")
    #expect(dup.stderr.contains("1 transactions repeat an earlier id and were skipped"), "\(dup)")
    #expect(dup.stdout.contains("replayed \(history.count - 2) transactions"), "\(dup)")

    // Standard output that cannot be written is an error in every app.
    for (tool, args) in [
      ("recommend", ["U-0001", "--store", store]), ("recommend", ["models", "list", "--store", store]),
      ("churn", ["score", sampleData("churn/customers_new.csv"), "--store", store]),
      ("fraud", ["simulate", "--days", "1", "--cards", "5"]),
    ] {
      let process = Process()
      process.executableURL = try productsDirectory().appendingPathComponent(tool)
      process.arguments = args
      process.standardOutput = FileHandle(forWritingAtPath: "/dev/full")
      process.standardError = FileHandle.nullDevice
      try process.run()
      process.waitUntilExit()
      #expect(process.terminationStatus == 66, "\(tool) \(args)")
    }

    // recommend evaluate prints one JSON document; item columns named like ours are prefixed.
    let json = try run(
      "recommend",
      [
        "evaluate", "--interactions", sampleData("ecommerce/interactions.csv"), "--value-column", "quantity",
        "--feedback", "explicit", "--iterations", "3", "--format", "json",
      ])
    #expect(json.status == 0, "\(json)")
    let document = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
    #expect((document?["ranking"] as? [Any])?.count == 2)
    #expect((document?["rating"] as? [Any])?.count == 2)
    let items = dir.appendingPathComponent("items.csv").path
    try "item_id,rank,score,source,title\nP-0001,1,2,3,First\n".write(toFile: items, atomically: false, encoding: .utf8)
    let withItems = dir.appendingPathComponent("items.sqlite").path
    #expect(
      try run(
        "recommend",
        ["train", "--interactions", sampleData("ecommerce/interactions.csv"), "--items", items, "--store", withItems]
      ).status == 0)
    // The JSON is the contract's (`RecommendationList`): item columns named like ours keep their names, inside
    // each item's metadata object; the table prefixes them.
    let shown = try run("recommend", ["U-0001", "-n", "3", "--format", "json", "--store", withItems])
    let list = try JSONDecoder().decode(RecommendationList.self, from: Data(shown.stdout.utf8))
    let keys = try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any]
    let first = (keys?["items"] as? [[String: Any]])?.first
    #expect(Set(first?.keys.map { $0 } ?? []) == ["rank", "item_id", "score", "metadata"], "\(shown)")
    let columns = ["rank", "score", "source", "title"]
    #expect(list.metadataColumns == columns)
    #expect(list.items.count == 3 && Set(list.items[0].metadata.keys) == Set(columns))
    #expect(list.model.version == 1 && list.model.name == "recommender" && list.source == .model)
    let table = try run("recommend", ["U-0001", "-n", "3", "--store", withItems])
    #expect(table.stdout.hasPrefix("rank  item_id  item_rank  item_score  item_source  title"), "\(table)")
  }

  /// Class 12: command-line traps.
  @Test func commandLineTraps() throws {
    try trainAll()
    for typo in ["modles", "Train", "simlar", "evalute"] {
      let r = try run("recommend", [typo, "--store", store])
      #expect(r.status == 64, "\(typo): \(r)")
      #expect(r.stderr.contains("did you mean"), "\(typo): \(r)")
      #expect(r.stderr.contains("recommend user \(typo)"), "\(typo): \(r)")
    }
    let meant = try run("recommend", ["user", "modles", "--store", store])
    #expect(meant.status == 0 && meant.stdout.contains("popularity"), "\(meant)")
    #expect(try run("recommend", ["U-0001", "-n", "2", "--store", store]).status == 0)
    let bogus = try run("recommend", ["--bogus"])
    #expect(bogus.status == 64 && bogus.stderr.contains("unknown option '--bogus'"), "\(bogus)")
    // A negative number after an option is its value (and then checked), not another option.
    let negative = try run("churn", ["score", sampleData("churn/customers_new.csv"), "--threshold", "-1"])
    #expect(negative.status == 64 && negative.stderr.contains("--threshold must be in [0, 1]"), "\(negative)")
    for decimals in ["-1", "13"] {
      let r = try run("churn", ["score", sampleData("churn/customers_new.csv"), "--decimals", decimals])
      #expect(r.status == 64 && r.stderr.contains("--decimals must be 0 to 12, got \(decimals)"), "\(r)")
    }
    let l2 = try run(
      "churn", ["train", "--data", sampleData("churn/customers.csv"), "--target", "churned", "--l2", "-2"])
    #expect(l2.status == 64 && l2.stderr.contains("--l1 and --l2 must be ≥ 0"), "\(l2)")
  }

  /// Class 12: a store this user cannot write is still served read-only.
  @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
  func aReadOnlyStoreIsServed() throws {
    try trainAll()
    let shared = URL(fileURLWithPath: "/tmp/commerceml-ro-\(UUID())")
    try FileManager.default.createDirectory(at: shared, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: shared) }
    chmod(shared.path, 0o1777)
    let readOnly = shared.appendingPathComponent("s.sqlite").path
    try FileManager.default.copyItem(atPath: store, toPath: readOnly)
    chmod(readOnly, 0o444)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
    process.arguments = [
      "--reuid=65534", "--regid=65534", "--clear-groups",
      try productsDirectory().appendingPathComponent("recommend").path,
      "U-0001", "-n", "2", "--store", readOnly,
    ]
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    #expect(text.hasPrefix("rank  item_id"))
  }

  /// Class 7: with a process limit, more threads than can be started fall back to fewer instead of spinning.
  @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
  func aProcessLimitDoesNotHang() throws {
    let shared = URL(fileURLWithPath: "/tmp/commerceml-limit-\(UUID())")
    try FileManager.default.createDirectory(at: shared, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: shared) }
    chmod(shared.path, 0o1777)
    let data = shared.appendingPathComponent("interactions.csv").path
    try FileManager.default.copyItem(atPath: sampleData("ecommerce/interactions.csv"), toPath: data)
    chmod(data, 0o644)
    let recommend = try productsDirectory().appendingPathComponent("recommend").path
    for (limit, command) in [
      (20, "train --interactions \(data) --threads 64 --store \(shared.path)/s.sqlite"),
      (3, "evaluate --interactions \(data) --iterations 3 --threads 64"),
    ] {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
      process.arguments = [
        "--reuid=65534", "--regid=65534", "--clear-groups", "/bin/bash", "-c",
        "ulimit -u \(limit) && exec \(recommend) \(command)",
      ]
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      try process.run()
      let deadline = Date().addingTimeInterval(120)
      while process.isRunning && Date() < deadline { usleep(20_000) }
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
      process.waitUntilExit()
      #expect(process.terminationReason == .exit && process.terminationStatus == 0, "ulimit -u \(limit): \(command)")
    }
  }

  /// Class 3: first trainings started together on a store that does not exist yet all land; a store location
  /// that cannot be opened fails before any training.
  @Test func trainingsAtOnceOnANewStoreAllLand() throws {
    for trial in 0..<3 {
      let path = dir.appendingPathComponent("together-\(trial).sqlite").path
      let commands: [(String, [String])] = [
        ("recommend", ["train", "--interactions", sampleData("ecommerce/interactions.csv"), "--iterations", "3"]),
        ("recommend", ["train", "--interactions", sampleData("ecommerce/interactions.csv"), "--model", "second"]),
        ("churn", ["train", "--data", sampleData("churn/customers.csv"), "--target", "churned", "--cv", "0"]),
        ("fraud", ["train", "--data", sampleData("fraud/history.csv")]),
      ]
      let processes = try commands.map { tool, args -> Process in
        let p = Process()
        p.executableURL = try productsDirectory().appendingPathComponent(tool)
        p.arguments = args + ["--store", path]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        return p
      }
      for p in processes { try p.run() }
      for p in processes { p.waitUntilExit() }
      #expect(processes.map(\.terminationStatus) == [0, 0, 0, 0], "trial \(trial)")
      let listed = try run("recommend", ["models", "list", "--all", "--format", "csv", "--store", path])
      #expect(listed.stdout.split(separator: "\n").count == 1 + 4, "\(listed)")
    }
    let started = Date()
    let nowhere = try run(
      "recommend",
      ["train", "--interactions", sampleData("ecommerce/interactions.csv"), "--store", "/nonexistent/dir/s.sqlite"])
    #expect(nowhere.status == 66, "\(nowhere)")
    #expect(nowhere.stderr.contains("cannot create the store: no such directory /nonexistent/dir"), "\(nowhere)")
    #expect(!nowhere.stderr.contains("iteration"), "trained before failing: \(nowhere)")
    #expect(Date().timeIntervalSince(started) < 10)
  }
}
