import Foundation
import Testing

/// Issue 22 (reliability, round three), end to end through the executables.
@Suite(.serialized) struct Issue22Tests {
  let dir = temporaryDirectory()
  func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

  /// A fraud store trained on the sample history (copied per test from one training).
  func fraudStore(_ name: String = "f.sqlite") throws -> String {
    let store = path(name)
    let r = try run("fraud", ["train", "--data", sampleData("fraud/history.csv"), "--store", store])
    #expect(r.status == 0, "\(r)")
    return store
  }

  var streamHead: Data {
    let lines = try! String(contentsOfFile: sampleData("fraud/stream.csv"), encoding: .utf8).split(separator: "\n")
    return Data((lines.prefix(300).joined(separator: "\n") + "\n").utf8)
  }

  /// 11. Every duration option of every fraud command goes through one parser with a range: zero and tiny
  /// periods, skews that would drop the data, malformed and huge values are usage errors (64) naming the
  /// option — never a trap, a registration per transaction or a silent filter.
  @Test func durationsOutOfRangeAreUsageErrors() throws {
    let store = try fraudStore()
    let streamCases: [([String], String)] = [
      (["--stats-every", "0s"], "--stats-every must be at least 1m"),
      (["--stats-every", "59s"], "--stats-every must be at least 1m"),
      (["--stats-every", "0d"], "--stats-every must be at least 1m"),
      (["--learn", "--register-every", "0.000001s"], "--register-every must be at least 1h"),
      (["--learn", "--register-every", "59m"], "--register-every must be at least 1h"),
      (["--max-clock-skew", "0s"], "--max-clock-skew must be at least 1h"),
      (["--max-clock-skew", "1s"], "--max-clock-skew must be at least 1h"),
      (["--learn", "--learn-memory", "0s"], "--learn-memory must be at least 1h"),
      (["--learn-memory", "1e300d"], "--learn-memory must be a number and a unit"),
      (["--allowed-lateness", "99999d"], "--allowed-lateness must be at most 3650d"),
      (["--labels-delay", "5x"], "--labels-delay must be a number and a unit"),
      (["--labels-delay=-1d"], "--labels-delay must be a number and a unit"),
    ]
    for (arguments, message) in streamCases {
      let r = try run("fraud", ["stream", "--store", store] + arguments, stdin: streamHead)
      #expect(r.status == 64, "\(arguments): \(r)")
      #expect(r.stderr.contains(message), "\(arguments): \(r)")
    }
    let trainCases: [([String], String)] = [
      (["--max-clock-skew", "1s"], "--max-clock-skew must be at least 1h"),
      (["--labels-delay", "0.5"], "--labels-delay must be a number and a unit"),
    ]
    for (arguments, message) in trainCases {
      let r = try run(
        "fraud", ["train", "--data", sampleData("fraud/history.csv"), "--store", store] + arguments)
      #expect(r.status == 64 && r.stderr.contains(message), "\(arguments): \(r)")
      let e = try run(
        "fraud", ["evaluate", "--data", sampleData("fraud/history.csv"), "--store", store] + arguments)
      #expect(e.status == 64, "evaluate \(arguments): \(e)")
    }
    // The smallest periods accepted run and print their periods without a trap.
    let ok = try run("fraud", ["stream", "--stats-every", "1m", "--store", store], stdin: streamHead)
    #expect(ok.status == 0, "\(ok)")
    #expect(ok.stderr.contains("fraud: period 2026-"))
    #expect(
      try run("fraud", ["models", "list", "--store", store, "--format", "csv"]).stdout.split(separator: "\n").count == 2
    )
  }

  /// 11. A clock-skew limit that leaves out most of the history is refused (exit 64, the option and the counts
  /// named), not trained on the remaining sliver; the same history trains with the default limit.
  @Test func trainingRefusesToDropMostOfTheHistory() throws {
    var lines = ["transaction_id,timestamp,card,merchant,merchant_category,country,amount,lat,lon,label"]
    let start = 1_767_225_600.0  // 2026-01-01
    for i in 0..<400 {
      let t = start + Double(i) * 7200
      let date = Date(timeIntervalSince1970: t)
      let f = ISO8601DateFormatter()
      f.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime]
      let fraud = i % 10 == 3
      lines.append(
        "T\(i),\(f.string(from: date)),C\(i % 37),M\(i % 11),online,FR,\(fraud ? 900 + i : 10 + i % 50).5,48.85,2.35,\(fraud ? 1 : 0)"
      )
    }
    let history = path("gaps.csv")
    try (lines.joined(separator: "\n") + "\n").write(toFile: history, atomically: true, encoding: .utf8)
    let store = path("gaps.sqlite")
    let refused = try run("fraud", ["train", "--data", history, "--max-clock-skew", "1h", "--store", store])
    #expect(refused.status == 64, "\(refused)")
    #expect(refused.stderr.contains("were dated more than --max-clock-skew (3600 s) ahead"), "\(refused)")
    #expect(refused.stderr.contains("of 400 transactions"), "\(refused)")
    let listed = try run("fraud", ["models", "list", "--store", store, "--format", "csv"])
    #expect(!listed.stdout.contains("fraud,"), "\(listed)")
    let trained = try run("fraud", ["train", "--data", history, "--max-clock-skew", "3h", "--store", store])
    #expect(trained.status == 0, "\(trained)")
    #expect(trained.stdout.contains("replayed 400 transactions"), "\(trained)")
  }

  /// 15. A fraud model whose scores all tie (a penalty of 1e300) would alert on every transaction: refused with
  /// the alert rate it would give, nothing registered.
  @Test func aModelWhoseScoresTieIsRefused() throws {
    let store = path("tie.sqlite")
    for family in ["logistic", "additive"] {
      let r = try run(
        "fraud",
        ["train", "--data", sampleData("fraud/history.csv"), "--family", family, "--l2", "1e300", "--store", store])
      #expect(r.status == 65, "\(family): \(r)")
      #expect(r.stderr.contains("the alert rate asked for is 0.01"), "\(family): \(r)")
      #expect(r.stderr.contains("lower --l2"), "\(family): \(r)")
    }
    let listed = try run("fraud", ["models", "list", "--store", store, "--format", "csv"])
    #expect(!listed.stdout.contains("fraud,"), "\(listed)")
  }

  /// 23. PSI on a handful of rows is noise: `churn drift` on one customer and a stream period of a few
  /// transactions say so with the count, and flag no shift.
  @Test func driftNeedsAMinimumSample() throws {
    let store = path("c.sqlite")
    let trained = try run(
      "churn",
      ["train", "--data", sampleData("churn/customers.csv"), "--target", "churned", "--cv", "0", "--store", store])
    #expect(trained.status == 0, "\(trained)")
    let all = try String(contentsOfFile: sampleData("churn/customers_new.csv"), encoding: .utf8).split(separator: "\n")
    for count in [1, 5, 99] {
      let file = path("few-\(count).csv")
      try (all.prefix(count + 1).joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
      let r = try run("churn", ["drift", "--data", file, "--store", store, "--format", "csv"])
      #expect(r.status == 0, "\(r)")
      #expect(!r.stdout.contains("major") && !r.stdout.contains("moderate"), "\(count): \(r)")
      #expect(r.stdout.contains("too few (\(count) < 100)"), "\(count): \(r)")
    }
    let enough = try run("churn", ["drift", "--data", sampleData("churn/customers_new.csv"), "--store", store])
    #expect(enough.status == 0 && !enough.stdout.contains("too few"), "\(enough)")
    let fraud = try fraudStore()
    let stream = try run("fraud", ["stream", "--stats-every", "1h", "--store", fraud], stdin: streamHead)
    #expect(stream.status == 0, "\(stream)")
    #expect(!stream.stderr.contains("DRIFT"), "\(stream)")
    #expect(stream.stderr.contains("too few transactions to judge a shift"), "\(stream)")
  }
}

/// 5. An output onto the store's own files — the store, its write-ahead log, shared memory or journal, whether
/// they exist now or not, by any spelling of the path — is refused before any work, in every command that
/// writes one; the store still serves afterwards.
@Suite(.serialized) struct OutputsOntoTheStoreTests {
  let dir = temporaryDirectory()

  @Test func everyOutputRefusesTheStoresCompanions() throws {
    let store = dir.appendingPathComponent("s.sqlite").path
    try trainEveryApp(into: store)
    let listing = ["models", "list", "--all", "--format", "csv", "--store", store]
    let before = try run("recommend", listing)
    let spellings = [
      store, store + "-wal", store + "-shm", store + "-journal",
      dir.appendingPathComponent("./s.sqlite-wal").path,
      dir.appendingPathComponent("sub/../s.sqlite-shm").path,
    ]
    try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
    let link = dir.appendingPathComponent("link-to-journal").path
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: store + "-journal")
    for output in spellings + [link] {
      let commands: [(String, [String], Data?)] = [
        ("churn", ["score", sampleData("churn/customers_new.csv"), "--output", output], nil),
        ("recommend", ["batch", "--all", "--output", output], nil),
        (
          "churn",
          ["train", "--data", sampleData("churn/customers.csv"), "--target", "churned", "--design-matrix", output],
          nil
        ),
        ("fraud", ["stream", "--dead-letter", output], Data("transaction_id,timestamp\nbad\n".utf8)),
        ("fraud", ["stream", "--stats-file", output], Data("transaction_id,timestamp\nbad\n".utf8)),
        ("churn", ["report", "--output", output], nil),
        ("recommend", ["report", "--interactions", sampleData("ecommerce/interactions.csv"), "--output", output], nil),
        ("fraud", ["report", "--data", sampleData("fraud/history.csv"), "--output", output], nil),
      ]
      for (tool, arguments, stdin) in commands {
        let r = try run(tool, arguments + ["--store", store], stdin: stdin)
        #expect(r.status == 64, "\(tool) \(arguments): \(r)")
        #expect(r.stderr.contains("is also the input"), "\(tool) \(arguments): \(r)")
        #expect(!r.stderr.contains("scored") && !r.stderr.contains("wrote"), "worked first: \(r)")
      }
    }
    // Nothing of the store was touched, and it serves.
    #expect(try run("recommend", listing) == before)
    #expect(!FileManager.default.fileExists(atPath: store + "-journal"))
    let served = try run("recommend", ["U-0001", "-n", "2", "--store", store])
    #expect(served.status == 0, "\(served)")
    // Outputs elsewhere in the same directory are fine.
    let fine = try run(
      "churn",
      [
        "score", sampleData("churn/customers_new.csv"), "--output", dir.appendingPathComponent("s.sqlite.csv").path,
        "--store", store,
      ])
    #expect(fine.status == 0, "\(fine)")
  }
}

/// A stream's statistics file is written at the end: it is refused at the start when it is the file read on
/// standard input, the file the decisions go to, or the dead-letter file, as the dead-letter file is when it is the
/// decisions' file. Nothing is read or written then; a statistics file elsewhere is written.
@Suite(.serialized) struct StreamOutputsTests {
  let dir = temporaryDirectory()

  @Test func statisticsAndDeadLettersNeverLandOnTheStreamsOwnFiles() throws {
    let store = dir.appendingPathComponent("f.sqlite").path
    let trained = try run("fraud", ["train", "--data", sampleData("fraud/history.csv"), "--store", store])
    #expect(trained.status == 0, "\(trained)")
    let input = dir.appendingPathComponent("in.csv").path
    try FileManager.default.copyItem(atPath: sampleData("fraud/stream.csv"), toPath: input)
    let original = try Data(contentsOf: URL(fileURLWithPath: input))
    let fraud = try productsDirectory().appendingPathComponent("fraud").path
    func shell(_ line: String) throws -> RunResult {
      try run(executable: URL(fileURLWithPath: "/bin/sh"), ["-c", line], directory: dir)
    }
    let cases = [
      ("'\(fraud)' stream --store f.sqlite --stats-file in.csv < in.csv > out.csv", "standard input"),
      ("'\(fraud)' stream --store f.sqlite --stats-file out.csv < in.csv > out.csv", "standard output"),
      ("'\(fraud)' stream --store f.sqlite --dead-letter out.csv < in.csv > out.csv", "standard output"),
      (
        "'\(fraud)' stream --store f.sqlite --stats-file d.csv --dead-letter d.csv < in.csv > out.csv",
        "the input 'd.csv'"
      ),
    ]
    for (line, named) in cases {
      let r = try shell(line)
      #expect(r.status == 64, "\(line): \(r)")
      #expect(r.stderr.contains(named) && r.stderr.contains("another file"), "\(line): \(r)")
      #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == original)
      let out = (try? Data(contentsOf: dir.appendingPathComponent("out.csv"))) ?? Data()
      #expect(out.isEmpty, "\(line) wrote decisions before refusing")
    }
    // No checkpoint was written by the refused runs: a plain run needs neither --resume nor --fresh, and writes
    // its statistics beside its decisions.
    let fine = try shell("'\(fraud)' stream --store f.sqlite --stats-file stats.json < in.csv > out.csv")
    #expect(fine.status == 0, "\(fine)")
    let stats = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("stats.json")))
    let transactions = (stats as? [String: Any])?["transactions"] as? Int
    let decided =
      try String(contentsOfFile: dir.appendingPathComponent("out.csv").path, encoding: .utf8)
      .split(separator: "\n").count - 1
    #expect(transactions == decided && decided > 0)
  }
}

/// Issue 22, classes 17, 18, 21 and 23: invented ids, contradictory column roles, simulator values that training
/// rejects, pipes read twice, and the smaller messages.
@Suite(.serialized) struct Issue22InputTests {
  let dir = temporaryDirectory()
  func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

  func churnStore() throws -> String {
    let store = path("c.sqlite")
    if FileManager.default.fileExists(atPath: store) { return store }
    let r = try run(
      "churn",
      ["train", "--data", sampleData("churn/customers.csv"), "--target", "churned", "--cv", "0", "--store", store])
    #expect(r.status == 0, "\(r)")
    return store
  }

  /// 17. A file without the model's id column is scored with its rows numbered under `row`, never under the id's
  /// name, and the command says so; with the id column the ids are written as before.
  @Test func rowNumbersAreNeverPassedOffAsIds() throws {
    let store = try churnStore()
    let lines = try String(contentsOfFile: sampleData("churn/customers_new.csv"), encoding: .utf8)
      .split(separator: "\n").prefix(4)
    let noID = lines.map { $0.split(separator: ",", maxSplits: 1)[1] }.joined(separator: "\n") + "\n"
    let file = path("noid.csv")
    try noID.write(toFile: file, atomically: true, encoding: .utf8)
    for output in [nil, path("scores.csv")] {
      let r = try run("churn", ["score", file, "--store", store] + (output.map { ["--output", $0] } ?? []))
      #expect(r.status == 0, "\(r)")
      let text = try output.map { try String(contentsOfFile: $0, encoding: .utf8) } ?? r.stdout
      let rows = text.split(separator: "\n")
      #expect(rows.first?.hasPrefix("row,churn_probability,") == true, "\(text)")
      #expect(rows.dropFirst().map { $0.split(separator: ",")[0] } == ["1", "2", "3"])
      #expect(r.stderr.contains("has no 'customer_id' column (the model's id): the output numbers the rows"), "\(r)")
    }
    let withID = try run("churn", ["score", sampleData("churn/customers_new.csv"), "--store", store])
    #expect(withID.stdout.hasPrefix("customer_id,churn_probability,"))
    #expect(!withID.stderr.contains("numbers the rows"))
  }

  /// 18. One role per column: the target excluded or named the id, the id excluded, a repeating id column — each a
  /// usage error before any fit, nothing registered.
  @Test func contradictoryColumnRolesAreRefused() throws {
    let store = path("roles.sqlite")
    let cases: [([String], String)] = [
      (["--exclude", "churned"], "'churned' is the --target and cannot be excluded too"),
      (["--exclude", "region,churned"], "'churned' is the --target and cannot be excluded too"),
      (["--id-column", "churned"], "'churned' is the --target and cannot be the --id-column too"),
      (["--id-column", "customer_id", "--exclude", "customer_id"], "'customer_id' is the --id-column"),
      (["--id-column", "contract"], "column 'contract' given as --id-column repeats values (3 distinct in 3000 rows)"),
      (["--id-column", "tenure_months"], "column 'tenure_months' given as --id-column repeats values"),
    ]
    for (extra, message) in cases {
      let r = try run(
        "churn",
        ["train", "--data", sampleData("churn/customers.csv"), "--target", "churned", "--cv", "0", "--store", store]
          + extra)
      #expect(r.status == 64, "\(extra): \(r)")
      #expect(r.stderr.contains(message), "\(extra): \(r)")
      #expect(r.stdout.isEmpty, "\(extra): \(r)")
    }
    #expect(
      try run("churn", ["models", "list", "--store", store, "--format", "csv"]).stdout.split(separator: "\n").count <= 1
    )
    // A unique id column given explicitly still works.
    let ok = try run(
      "churn",
      [
        "train", "--data", sampleData("churn/customers.csv"), "--target", "churned", "--cv", "0", "--id-column",
        "customer_id", "--store", store,
      ])
    #expect(ok.status == 0, "\(ok)")
  }

  /// 21. The simulator writes only what training reads: amounts and dates in range, a change day inside the
  /// simulation, thresholds not negative.
  @Test func simulatorValuesStayReadable() throws {
    let cases: [([String], String)] = [
      (["--profile", "handbook", "--amount-factor", "1e300"], "--amount-factor must be above 0 and at most 1000"),
      (["--profile", "handbook", "--amount-factor", "0"], "--amount-factor must be above 0"),
      (["--start", "9999-12-30"], "runs past 9999-12-31"),
      (["--profile", "handbook", "--start", "9999-09-01"], "runs past 9999-12-31"),
      (
        ["--profile", "handbook", "--days", "30", "--change-day", "30"],
        "--change-day must be a day of the simulation, 0 to 29"
      ),
      (["--profile", "handbook", "--change-day", "200"], "0 to 182 (--days is 183)"),
      (["--profile", "handbook", "--amount-threshold", "-5"], "--amount-threshold must be 0 to 1,000,000"),
      (["--profile", "handbook", "--change-day", "3", "--changed-threshold", "-1"], "--changed-threshold must be 0"),
    ]
    for (arguments, message) in cases {
      let r = try run("fraud", ["simulate"] + arguments)
      #expect(r.status == 64, "\(arguments): \(r)")
      #expect(r.stderr.contains(message), "\(arguments): \(r)")
      #expect(r.stdout.isEmpty)
    }
    // The edges that are accepted give files that train reads.
    let file = path("edge.csv")
    let edge = try run(
      "fraud",
      [
        "simulate", "--profile", "handbook", "--days", "20", "--cards", "300", "--terminals", "400", "--amount-factor",
        "1000", "--start", "9999-12-01", "--change-day", "19", "--output", file,
      ])
    #expect(edge.status == 0, "\(edge)")
    let trained = try run(
      "fraud",
      [
        "train", "--data", file, "--map",
        "transaction_id=TRANSACTION_ID,timestamp=TX_DATETIME,card=CUSTOMER_ID,merchant=TERMINAL_ID,amount=TX_AMOUNT,label=TX_FRAUD",
        "--store", path("edge.sqlite"),
      ])
    #expect(trained.status == 0, "\(trained)")
  }

  /// 23. Pipes are read once: `churn train --data /dev/stdin` and `churn drift --data` of a FIFO work as on a file,
  /// and a bad row in a pipe is placed at the name the user gave.
  @Test func pipesAreReadOnce() throws {
    let customers = try Data(contentsOf: URL(fileURLWithPath: sampleData("churn/customers.csv")))
    let store = path("pipe.sqlite")
    let piped = try run(
      "churn", ["train", "--data", "/dev/stdin", "--target", "churned", "--cv", "0", "--store", store], stdin: customers
    )
    #expect(piped.status == 0, "\(piped)")
    let fromFile = try run(
      "churn",
      ["train", "--data", sampleData("churn/customers.csv"), "--target", "churned", "--cv", "0", "--store", store])
    #expect(piped.stdout == fromFile.stdout.replacingOccurrences(of: "version 2", with: "version 1"))
    let drift = try run(
      "churn", ["drift", "--data", "/dev/stdin", "--store", store],
      stdin: try Data(contentsOf: URL(fileURLWithPath: sampleData("churn/customers_new.csv"))))
    #expect(drift.status == 0 && drift.stdout.contains("churn_probability"), "\(drift)")
    var bad = String(decoding: customers, as: UTF8.self)
    bad += "C999999,Month-to-month,abc,20.5,100.0,1,Mailed check,No,None,South,0,No\n"
    let refused = try run(
      "churn", ["train", "--data", "/dev/stdin", "--target", "churned", "--cv", "0", "--store", store],
      stdin: Data(bad.utf8))
    #expect(refused.status == 65, "\(refused)")
    #expect(refused.stderr.contains("/dev/stdin:3002:"), "\(refused)")
    #expect(!refused.stderr.contains("commerceml-input"), "\(refused)")
  }

  /// 23. A test fraction too small for any user is blamed on the fraction, with the least that works; values
  /// beyond what ALS fits are bad data (65) as the README says; promoting the active version changes nothing
  /// and says so, and a rollback never goes from a version to itself.
  @Test func smallerMessagesSayWhatIsWrong() throws {
    let tiny = try run(
      "recommend", ["evaluate", "--interactions", sampleData("ecommerce/interactions.csv"), "--test-fraction", "0.01"])
    #expect(tiny.status == 64, "\(tiny)")
    #expect(tiny.stderr.contains("--test-fraction 0.01 holds out round(0.01 × n)"), "\(tiny)")
    #expect(tiny.stderr.contains("use a fraction of at least 0.013"), "\(tiny)")
    #expect(!tiny.stderr.contains("no user has 5"))
    let least = try run(
      "recommend", ["evaluate", "--interactions", sampleData("ecommerce/interactions.csv"), "--test-fraction", "0.013"])
    #expect(least.status == 0, "\(least)")
    let store = path("r.sqlite")
    let alpha = try run(
      "recommend",
      [
        "train", "--interactions", sampleData("ecommerce/interactions.csv"), "--value-column", "quantity", "--alpha",
        "1e20", "--store", store,
      ])
    #expect(alpha.status == 65 && alpha.stderr.contains("beyond the 1e7 single-precision factors fit"), "\(alpha)")
    for _ in 0..<2 {
      #expect(
        try run("recommend", ["train", "--interactions", sampleData("ecommerce/interactions.csv"), "--store", store])
          .status == 0)
    }
    let again = try run("recommend", ["models", "promote", "2", "--store", store])
    #expect(
      again.status == 0 && again.stdout == "recommender: version 2 is already active; nothing changed\n", "\(again)")
    let back = try run("recommend", ["models", "rollback", "--store", store])
    #expect(back.stdout == "recommender: rolled back from version 2 to version 1\n", "\(back)")
    let none = try run("recommend", ["models", "rollback", "--store", store])
    #expect(none.status == 1 && none.stderr.contains("no earlier active version"), "\(none)")
  }
}

/// Issue 22, classes 7, 13 and 15: recommender families under one name, decided before the work; every option
/// reaching every family tune tries; degenerate models refused; overflowing values placed.
@Suite(.serialized) struct Issue22ModelTests {
  let dir = temporaryDirectory()
  func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

  /// 7. ALS and EASE versions live under one name (serving and rollback follow each version's kind); a family of
  /// the other feedback is refused before the data is read.
  @Test func familiesShareANameAndRefusalsComeFirst() throws {
    let store = path("mix.sqlite")
    let interactions = sampleData("ecommerce/interactions.csv")
    let als = try run("recommend", ["train", "--interactions", interactions, "--store", store])
    #expect(als.status == 0, "\(als)")
    let ease = try run("recommend", ["train", "--interactions", interactions, "--algorithm", "ease", "--store", store])
    #expect(ease.status == 0 && ease.stdout.contains("version 2 (recommender.ease"), "\(ease)")
    let served = try run("recommend", ["U-0001", "-n", "3", "--store", store, "--format", "csv"])
    #expect(served.status == 0, "\(served)")
    #expect(try run("recommend", ["models", "rollback", "--store", store]).status == 0)
    let back = try run("recommend", ["U-0001", "-n", "3", "--store", store, "--format", "csv"])
    #expect(back.status == 0 && back.stdout != served.stdout, "\(back)")
    let explicit = try run(
      "recommend",
      [
        "train", "--interactions", interactions, "--value-column", "quantity", "--feedback", "explicit", "--store",
        store,
      ])
    #expect(explicit.status == 64, "\(explicit)")
    #expect(explicit.stderr.contains("learned from implicit feedback"), "\(explicit)")
    #expect(!explicit.stderr.contains("rows,"), "read the data first: \(explicit)")
    let tune = try run(
      "recommend",
      [
        "tune", "--interactions", interactions, "--value-column", "quantity", "--feedback", "explicit", "--trials", "1",
        "--store", store,
      ])
    #expect(tune.status == 64 && !tune.stderr.contains("trial 1"), "searched first: \(tune)")
    // Another app's model name is refused as well, before the work.
    #expect(
      try run(
        "churn",
        [
          "train", "--data", sampleData("churn/customers.csv"), "--target", "churned", "--cv", "0",
          "--name", "shop", "--store", store,
        ]
      ).status == 0)
    let onChurn = try run("recommend", ["train", "--interactions", interactions, "--model", "shop", "--store", store])
    #expect(onChurn.status == 64 && onChurn.stderr.contains("not a recommender's"), "\(onChurn)")
  }

  /// 13. The options train takes reach every family tune tries: EASE's --lambda shows in its trial.
  @Test func tunePassesEveryOptionToEveryFamily() throws {
    let r = try run(
      "recommend",
      [
        "tune", "--interactions", sampleData("ecommerce/interactions.csv"), "--trials", "2", "--lambda", "123",
        "--factors", "16", "--store", path("tune.sqlite"),
      ])
    #expect(r.status == 0, "\(r)")
    #expect(r.stderr.contains("--algorithm ease --lambda 123"), "\(r.stderr)")
    #expect(r.stderr.contains("--factors 16"), "\(r.stderr)")
    let tiny = try run(
      "recommend",
      [
        "tune", "--interactions", sampleData("ecommerce/interactions.csv"), "--trials", "2", "--max-items", "10",
        "--store", path("tune2.sqlite"),
      ])
    #expect(tiny.status == 0 && !tiny.stderr.contains("--algorithm ease"), "EASE tried above --max-items: \(tiny)")
  }

  /// 15. Degenerate models are refused: EASE weights that vanish under a huge --lambda; churn's overflowing values
  /// are placed at their file:line:column.
  @Test func degenerateModelsAreRefused() throws {
    let store = path("deg.sqlite")
    for lambda in ["1e30", "1e20"] {
      let r = try run(
        "recommend",
        [
          "train", "--interactions", sampleData("ecommerce/interactions.csv"), "--algorithm", "ease", "--lambda",
          lambda,
          "--store", store,
        ])
      #expect(r.status == 64 && r.stderr.contains("the EASE weights vanish"), "\(lambda): \(r)")
    }
    var lines = try String(contentsOfFile: sampleData("churn/customers.csv"), encoding: .utf8).split(separator: "\n")
      .map(String.init)
    var fields = lines[40].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    fields[3] = "1e308"
    lines[40] = fields.joined(separator: ",")
    let file = path("huge.csv")
    try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
    let column = fields[0..<3].map(\.count).reduce(0, +) + 3 + 1
    let churn = try run("churn", ["train", "--data", file, "--target", "churned", "--cv", "0", "--store", store])
    #expect(churn.status == 65, "\(churn)")
    #expect(
      churn.stderr.contains(
        "huge.csv:41:\(column): column 'monthly_charges': \"1e308\" is beyond what the model can fit"), "\(churn)")
    #expect(
      try run("recommend", ["models", "list", "--all", "--store", store]).stdout.split(separator: "\n").count <= 1)
  }
}

/// Issue 22, classes 16, 19 and 20: the automatic family falls back to the one that fits; temporal splits say
/// what the data leaves undecided and offer one cut-off for everyone; evaluation windows are checked.
@Suite(.serialized) struct Issue22EvaluationTests {
  let dir = temporaryDirectory()
  func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

  /// 16. On 30 customers, and on a file where each customer appears 8 times with a random postcode, the additive
  /// fit's Hessian is singular (more unpenalized directions than the data pins down) where the linear model drops
  /// its aliased columns: it is damped instead of failing, so auto compares both and either family fits by name.
  @Test func theAdditiveFitsWhereTheLinearDoes() throws {
    let lines = try String(contentsOfFile: sampleData("churn/customers.csv"), encoding: .utf8).split(separator: "\n")
    let small = path("c30.csv")
    try (lines.prefix(31).joined(separator: "\n") + "\n").write(toFile: small, atomically: true, encoding: .utf8)
    var repeated = [lines[0] + ",postcode"]
    var g = UInt64(7)
    for line in lines.dropFirst().prefix(150) {
      for k in 0..<8 {
        g = g &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let f = line.split(separator: ",", maxSplits: 1)
        repeated.append("\(f[0])-\(k),\(f[1]),\(10_000 + Int(g >> 33) % 90_000)")
      }
    }
    let copies = path("repeated.csv")
    try (repeated.joined(separator: "\n") + "\n").write(toFile: copies, atomically: true, encoding: .utf8)
    let store = path("auto.sqlite")
    for file in [small, copies] {
      let auto = try run("churn", ["train", "--data", file, "--target", "churned", "--store", store])
      #expect(auto.status == 0, "\(file): \(auto)")
      #expect(auto.stdout.contains("its cross-validated log loss is lower"), "both compared: \(auto)")
      for family in ["additive", "linear"] {
        let r = try run("churn", ["train", "--data", file, "--target", "churned", "--model", family, "--store", store])
        #expect(r.status == 0, "\(file) \(family): \(r)")
      }
    }
  }

  /// 19. Temporal splits: all times equal is refused; blank times and ties at a user's cut are reported; the
  /// global split holds out everything after one cut-off, so no training interaction is later than a test one.
  @Test func temporalSplitsSayWhatTheyCannotDecide() throws {
    let interactions = try String(contentsOfFile: sampleData("ecommerce/interactions.csv"), encoding: .utf8)
      .split(separator: "\n").map(String.init)
    let same = path("same.csv")
    try
      ([interactions[0]]
      + interactions.dropFirst().map { line in
        var f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        f[3] = "2026-01-01T00:00:00Z"
        return f.joined(separator: ",")
      }).joined(separator: "\n").appending("\n").write(toFile: same, atomically: true, encoding: .utf8)
    for split in ["time", "global-time"] {
      let r = try run(
        "recommend", ["evaluate", "--interactions", same, "--timestamp-column", "timestamp", "--split", split])
      #expect(r.status == 65 && r.stderr.contains("every interaction has the same time"), "\(split): \(r)")
    }
    let blanks = path("blanks.csv")
    try
      ([interactions[0]]
      + interactions.dropFirst().enumerated().map { i, line in
        guard i % 3 == 0 else { return line }
        var f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        f[3] = ""
        return f.joined(separator: ",")
      }).joined(separator: "\n").appending("\n").write(toFile: blanks, atomically: true, encoding: .utf8)
    let blank = try run(
      "recommend", ["evaluate", "--interactions", blanks, "--timestamp-column", "timestamp", "--split", "time"])
    #expect(blank.status == 0, "\(blank)")
    #expect(blank.stderr.contains("interactions have no time: the temporal split cannot place them"), "\(blank)")
    let global = try run(
      "recommend",
      [
        "evaluate", "--interactions", sampleData("ecommerce/interactions.csv"), "--timestamp-column", "timestamp",
        "--split", "global-time",
      ])
    #expect(global.status == 0, "\(global)")
    #expect(global.stderr.contains("one cut-off for everyone: interactions after 2"), "\(global)")
  }

  /// 20. Evaluation windows: one the file does not reach, empty, or --days 0 are usage errors saying where the
  /// data is; a window inside the model's training history is flagged; an in-sample baseline is named so.
  @Test func evaluationWindowsAreChecked() throws {
    let store = path("fe.sqlite")
    let history = sampleData("fraud/history.csv")
    let all = try String(contentsOfFile: history, encoding: .utf8).split(separator: "\n")
    let early = path("early.csv")
    try (all.prefix(all.count * 2 / 3).joined(separator: "\n") + "\n").write(
      toFile: early, atomically: true, encoding: .utf8)
    #expect(try run("fraud", ["train", "--data", early, "--store", store]).status == 0)
    for (window, code, message) in [
      (["--from", "2025-01-01", "--days", "5"], 64, "no transaction falls in the evaluated window"),
      (["--from", "2030-01-01"], 64, "the file's transactions run from 2026-01-01"),
      (["--from", "2026-01-10", "--days", "0"], 64, "--days must be at least 1"),
      (["--days", "3"], 64, "--days counts from --from"),
    ] {
      let r = try run("fraud", ["evaluate", "--data", history, "--store", store] + window)
      #expect(r.status == Int32(code) && r.stderr.contains(message), "\(window): \(r)")
    }
    let inside = try run("fraud", ["evaluate", "--data", history, "--from", "2026-01-05", "--store", store])
    #expect(inside.status == 0, "\(inside)")
    #expect(inside.stderr.contains("within fraud version 1's training history"), "\(inside)")
    let later = try run("fraud", ["evaluate", "--data", history, "--from", "2026-01-24", "--store", store])
    #expect(later.status == 0 && !later.stderr.contains("training history"), "\(later)")
    let fromStart = try run("fraud", ["evaluate", "--data", history, "--store", store])
    #expect(fromStart.stdout.contains("amount-only logistic regression (in-sample)"), "\(fromStart)")
  }
}
