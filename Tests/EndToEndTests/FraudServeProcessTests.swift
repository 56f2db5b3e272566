import AsyncHTTPClient
import Foundation
import Fraud
import Synchronization
import Testing

/// Handbook-profile transactions, a store trained on their first 18 days, and `fraud stream`'s decisions for the
/// next 100,000: made once for the suite.
final class HandbookFixture: @unchecked Sendable {
  static let map =
    "transaction_id=TRANSACTION_ID,timestamp=TX_DATETIME,card=CUSTOMER_ID,merchant=TERMINAL_ID,amount=TX_AMOUNT,label=TX_FRAUD"
  let dir = temporaryDirectory()
  /// The stream's lines (no header), split into fields.
  let rows: [[Substring]]
  let header: [String]
  /// `fraud stream`'s output for `rows`: id, score, decision, reasons.
  let reference: [(id: String, score: Double, decision: String, reasons: String)]
  let trainedStore: String
  let streamFile: String

  static let shared: HandbookFixture = try! HandbookFixture()

  init() throws {
    trainedStore = dir.appendingPathComponent("trained.sqlite").path
    streamFile = dir.appendingPathComponent("stream.csv").path
    let trainedStore = self.trainedStore
    let streamFile = self.streamFile
    let all = dir.appendingPathComponent("all.csv").path
    let simulated = try run(
      "fraud",
      [
        "simulate", "--profile", "handbook", "--seed", "7", "--cards", "5000", "--terminals", "10000", "--days", "30",
        "--output", all,
      ])
    guard simulated.status == 0 else { throw PipelinedHTTP.Failure(description: "\(simulated)") }
    let lines = try String(contentsOfFile: all, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: true)
    header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    let day = header.firstIndex(of: "TX_TIME_DAYS")!
    var history = [String(lines[0])]
    var stream: [Substring] = []
    for line in lines.dropFirst() {
      let fields = line.split(separator: ",", omittingEmptySubsequences: false)
      if Int(fields[day])! < 18 {
        history.append(String(line))
      } else if stream.count < 100_000 {
        stream.append(line)
      }
    }
    let rows = stream.map { $0.split(separator: ",", omittingEmptySubsequences: false) }
    self.rows = rows
    let historyFile = dir.appendingPathComponent("history.csv").path
    try (history.joined(separator: "\n") + "\n").write(toFile: historyFile, atomically: true, encoding: .utf8)
    try ([String(lines[0])] + stream.map(String.init)).joined(separator: "\n").appending("\n").write(
      toFile: dir.appendingPathComponent("stream.csv").path, atomically: true, encoding: .utf8)
    let trained = try run(
      "fraud",
      ["train", "--data", historyFile, "--map", Self.map, "--labels-delay", "7d", "--store", trainedStore])
    guard trained.status == 0 else { throw PipelinedHTTP.Failure(description: "\(trained)") }
    let copy = dir.appendingPathComponent("reference.sqlite").path
    try FileManager.default.copyItem(atPath: trainedStore, toPath: copy)
    let streamed = try run(
      "fraud", ["stream", "--map", Self.map, "--store", copy],
      stdin: try Data(contentsOf: URL(fileURLWithPath: streamFile)))
    guard streamed.status == 0 else { throw PipelinedHTTP.Failure(description: "\(streamed)") }
    reference = streamed.stdout.split(separator: "\n").dropFirst().map { line in
      let f = line.split(separator: ",", omittingEmptySubsequences: false)
      return (String(f[0]), Double(f[1])!, String(f[2]), String(f[3]))
    }
  }

  /// A copy of the trained store for one test.
  func freshStore() throws -> String {
    let path = temporaryDirectory().appendingPathComponent("store.sqlite").path
    try FileManager.default.copyItem(atPath: trainedStore, toPath: path)
    return path
  }

  /// Row `k` as a JSON object keyed by the file's columns (the amount a JSON number, the rest strings).
  func json(_ k: Int) -> String {
    let fields = rows[k]
    var parts: [String] = []
    for (i, name) in header.enumerated() {
      parts.append(name == "TX_AMOUNT" ? "\"\(name)\":\(fields[i])" : "\"\(name)\":\"\(fields[i])\"")
    }
    return "{" + parts.joined(separator: ",") + "}"
  }

  /// Rows `range` as one request body: an object for one row, else an array.
  func body(_ range: Range<Int>, forceArray: Bool = false) -> Data {
    if range.count == 1 && !forceArray { return Data(json(range.lowerBound).utf8) }
    return Data(("[" + range.map(json).joined(separator: ",") + "]").utf8)
  }

  /// Requests of `size` transactions covering `range`.
  func requests(_ range: Range<Int>, size: Int) -> [(method: String, path: String, body: Data)] {
    stride(from: range.lowerBound, to: range.upperBound, by: size).map {
      ("POST", "/v1/transactions", body($0..<min($0 + size, range.upperBound)))
    }
  }
}

/// The decisions of one answer of `/v1/transactions`.
func decisions(_ answer: PipelinedHTTP.Answer) throws -> [FraudDecision] {
  if answer.body.first == UInt8(ascii: "[") { return try JSONDecoder().decode([FraudDecision].self, from: answer.body) }
  return [try JSONDecoder().decode(FraudDecision.self, from: answer.body)]
}

/// Whether `d` is what `fraud stream` wrote for the same transaction (the score to the stream's 6+ decimals).
func agrees(_ d: FraudDecision, _ r: (id: String, score: Double, decision: String, reasons: String)) -> Bool {
  d.transactionID == r.id && d.decision == r.decision && d.reasons.joined(separator: ";") == r.reasons
    && abs((d.score ?? -1) - r.score) <= 1e-6
}

/// Issue 25: `fraud serve` as a process, compared with `fraud stream` on the same handbook transactions.
@Suite(.serialized) struct FraudServeProcessTests {
  let fixture = HandbookFixture.shared

  func serve(_ store: String, _ extra: [String] = []) throws -> ServerProcess {
    try ServerProcess(
      "fraud", ["serve", "--store", store, "--map", HandbookFixture.map, "--checkpoint-every", "1000000"] + extra)
  }

  func state(_ server: ServerProcess) throws -> [String: Any] {
    let answer = try PipelinedHTTP.send(port: server.port, [("GET", "/v1/state", Data())])
    return try JSONSerialization.jsonObject(with: answer[0].body) as! [String: Any]
  }

  /// 100,000 transactions in requests of 1, 7 (each sent twice) and 100 give the stream's decisions and scores; the
  /// retries answer identically and leave the state as if sent once; SIGTERM exits 0.
  @Test func sameDecisionsAsTheStreamInRequestsOf1And7And100() throws {
    let n = fixture.rows.count
    #expect(n == 100_000)
    for size in [1, 7, 100] {
      let store = try fixture.freshStore()
      let server = try serve(store)
      defer { server.stop() }
      let before = try state(server)["transactions"] as! Int
      var requests = fixture.requests(0..<n, size: size)
      if size == 7 { requests = requests.flatMap { [$0, $0] } }
      let answers = try PipelinedHTTP.send(port: server.port, requests)
      #expect(answers.count == requests.count)
      var served: [FraudDecision] = []
      for (k, a) in answers.enumerated() {
        #expect(a.status == 200, "request \(k): \(String(decoding: a.body, as: UTF8.self))")
        if size == 7 && k % 2 == 1 {
          #expect(a.body == answers[k - 1].body, "the retry of request \(k / 2) answered differently")
          #expect(a.headers["x-replayed"] == nil)
          continue
        }
        served += try decisions(a)
      }
      #expect(served.count == n)
      var differing = 0
      for (d, r) in zip(served, fixture.reference) where !agrees(d, r) {
        if differing < 5 { Issue.record("size \(size): \(d) differs from the stream's \(r)") }
        differing += 1
      }
      #expect(differing == 0, "size \(size): \(differing) decisions differ")
      #expect(try state(server)["transactions"] as! Int == before + n, "size \(size)")
      #expect(server.signalAndWait(SIGTERM, seconds: 30) == 0, "\(server.stderr)")
      #expect(server.stderr.contains("checkpoint written after \(before + n) transactions"))
    }
  }

  /// With --learn, labels sent to /v1/labels between the transactions give the decisions (so the learned weights)
  /// and the count of labels learned of `fraud stream --learn` with the same labels as rows of its input.
  @Test func labelsLearnAsTheStreamLearns() throws {
    let n = 30_000
    let lag = 500
    let id = fixture.header.firstIndex(of: "TRANSACTION_ID")!
    let label = fixture.header.firstIndex(of: "TX_FRAUD")!
    // The stream's input: transaction rows without their label, and a label row for each `lag` rows later.
    let columns = fixture.header + ["TYPE"]
    var lines = [columns.joined(separator: ",")]
    var requests: [(method: String, path: String, body: Data)] = []
    func unlabeled(_ k: Int) -> [Substring] {
      var f = fixture.rows[k]
      f[label] = ""
      return f
    }
    var batch: [Int] = []
    func flush() {
      guard !batch.isEmpty else { return }
      let objects = batch.map { k -> String in
        let f = unlabeled(k)
        return "{"
          + fixture.header.enumerated().filter { $0.element != "TX_FRAUD" }.map {
            "\"\($0.element)\":\"\(f[$0.offset])\""
          }
          .joined(separator: ",") + "}"
      }
      requests.append(("POST", "/v1/transactions", Data(("[" + objects.joined(separator: ",") + "]").utf8)))
      batch.removeAll()
    }
    for k in 0..<(n + lag) {
      if k < n {
        lines.append((unlabeled(k) + ["transaction"]).joined(separator: ","))
        batch.append(k)
      }
      if k >= lag {
        let j = k - lag
        let row = fixture.rows[j]
        var fields = [Substring](repeating: "", count: columns.count)
        fields[id] = row[id]
        fields[label] = row[label]
        fields[columns.count - 1] = "label"
        lines.append(fields.joined(separator: ","))
        flush()
        requests.append(
          ("POST", "/v1/labels", Data("{\"TRANSACTION_ID\":\"\(row[id])\",\"fraud\":\(row[label])}".utf8)))
      }
    }
    flush()
    let map = HandbookFixture.map + ",type=TYPE"
    let streamStore = try fixture.freshStore()
    let streamed = try run(
      "fraud", ["stream", "--learn", "--map", map, "--store", streamStore],
      stdin: Data((lines.joined(separator: "\n") + "\n").utf8))
    #expect(streamed.status == 0, "\(streamed.stderr)")
    let reference = streamed.stdout.split(separator: "\n").dropFirst().map { line in
      let f = line.split(separator: ",", omittingEmptySubsequences: false)
      return (String(f[0]), Double(f[1])!, String(f[2]), String(f[3]))
    }
    #expect(reference.count == n)
    let server = try ServerProcess(
      "fraud", ["serve", "--learn", "--store", try fixture.freshStore(), "--map", map])
    defer { server.stop() }
    let answers = try PipelinedHTTP.send(port: server.port, requests)
    #expect(answers.count == requests.count)
    var served: [FraudDecision] = []
    var learned = 0
    for (a, r) in zip(answers, requests) {
      #expect(a.status == 200, "\(String(decoding: a.body, as: UTF8.self))")
      if r.path == "/v1/labels" {
        let o = try JSONSerialization.jsonObject(with: a.body) as! [String: Any]
        learned += o["learned"] as! Int
      } else {
        served += try decisions(a)
      }
    }
    #expect(served.count == n)
    var differing = 0
    for (d, r) in zip(served, reference) where !agrees(d, r) {
      if differing < 5 { Issue.record("\(d) differs from the learning stream's \(r)") }
      differing += 1
    }
    #expect(differing == 0)
    let status = try state(server)
    // The stream says how many labels it learned from; the server counts the same (feedback labels only here).
    let said = streamed.stderr.split(separator: "\n").first { $0.contains("learned online from") }
    #expect(learned > 0)
    #expect(status["labels_learned"] as? Int == learned)
    #expect(said?.contains("\(learned)") == true, "\(streamed.stderr)")
    #expect(server.signalAndWait(SIGTERM, seconds: 30) == 0)
  }

  /// kill -9 under load, restart with --resume, the client re-sends what it had no answer for and what came after
  /// the last checkpoint: every decision equals the stream's, and the state counted each transaction once.
  @Test func crashUnderLoadThenResume() throws {
    let n = fixture.rows.count
    let size = 5
    let store = try fixture.freshStore()
    let first = try ServerProcess(
      "fraud", ["serve", "--store", store, "--map", HandbookFixture.map, "--checkpoint-every", "5000"])
    defer { first.stop() }
    let base = try state(first)["transactions"] as! Int
    let requests = fixture.requests(0..<n, size: size)
    let partial = Mutex<[PipelinedHTTP.Answer]>([])
    let port = first.port
    let client = Thread { partial.withLock { $0 = (try? PipelinedHTTP.send(port: port, requests)) ?? [] } }
    client.start()
    // Kill once a few checkpoints have been written, while requests are still being sent.
    let started = Date()
    while Date().timeIntervalSince(started) < 60 {
      usleep(100_000)
      if first.stderr.components(separatedBy: "POST /v1/transactions").count > requests.count / 4 { break }
    }
    kill(first.process.processIdentifier, SIGKILL)
    first.process.waitUntilExit()
    while !client.isFinished { usleep(10_000) }
    let before = partial.withLock { $0 }
    #expect(before.count < requests.count, "the server was killed after the load ended")
    var answered: [FraudDecision] = []
    for a in before {
      #expect(a.status == 200)
      answered += try decisions(a)
    }
    let second = try ServerProcess(
      "fraud", ["serve", "--resume", "--store", store, "--map", HandbookFixture.map, "--checkpoint-every", "5000"])
    defer { second.stop() }
    #expect(second.stderr.contains("resuming after"))
    let checkpointed = try state(second)["transactions"] as! Int - base
    #expect(
      checkpointed > 0 && checkpointed <= answered.count, "checkpoint at \(checkpointed), \(answered.count) answered")
    let from = min(answered.count, checkpointed)
    let after = try PipelinedHTTP.send(port: second.port, fixture.requests(from..<n, size: size))
    var resent: [FraudDecision] = []
    for a in after {
      #expect(a.status == 200)
      resent += try decisions(a)
    }
    let all = Array(answered[0..<from]) + resent
    #expect(all.count == n)
    var differing = 0
    for (d, r) in zip(all, fixture.reference) where !agrees(d, r) {
      if differing < 5 { Issue.record("\(d) differs from the stream's \(r)") }
      differing += 1
    }
    #expect(differing == 0)
    // Those answered before the crash and sent again agree with their first answers too.
    for k in from..<answered.count { #expect(answered[k] == all[k], "transaction \(k)") }
    #expect(try state(second)["transactions"] as! Int == base + n, "a transaction counted twice or lost")
    #expect(second.signalAndWait(SIGTERM, seconds: 30) == 0)
  }

  /// With a tiny --deadline under concurrent load, fallback answers are given, counted in the metrics, remembered
  /// for retries, and every transaction still entered the state once.
  @Test func overloadFallsBackAndLosesNothing() throws {
    let store = try fixture.freshStore()
    // The four connections race each other, so one may fall days behind the others on a loaded machine: the clock
    // rules are widened here so that none of their transactions is refused as late or far ahead (the engine's test
    // aFallbackTheClockRulesRefuseIsWhatItsRetryGets covers a fallback the clock rules refuse).
    let server = try serve(
      store,
      ["--deadline", "0.1ms", "--on-overload", "decline", "--allowed-lateness", "60d", "--max-clock-skew", "60d"])
    defer { server.stop() }
    let base = try state(server)["transactions"] as! Int
    let connections = 4
    let per = 5_000
    let results = Mutex<[[PipelinedHTTP.Answer]]>(Array(repeating: [], count: connections))
    let port = server.port
    // Each connection sends its own interleaved share of the transactions, one per request.
    let threads = (0..<connections).map { c in
      Thread {
        let mine = stride(from: c, to: connections * per, by: connections).map {
          (method: "POST", path: "/v1/transactions", body: HandbookFixture.shared.body($0..<($0 + 1)))
        }
        let answers = (try? PipelinedHTTP.send(port: port, mine)) ?? []
        results.withLock { $0[c] = answers }
      }
    }
    for t in threads { t.start() }
    for t in threads { while !t.isFinished { usleep(10_000) } }
    var fallbacks: [FraudDecision] = []
    var total = 0
    for answers in results.withLock({ $0 }) {
      #expect(answers.count == per)
      for a in answers {
        #expect(a.status == 200)
        let d = try decisions(a)[0]
        total += 1
        if d.reasons == ["OVERLOAD"] {
          #expect(d.decision == "decline" && d.score == nil)
          fallbacks.append(d)
        }
      }
    }
    #expect(total == connections * per)
    #expect(!fallbacks.isEmpty, "a 0.1 ms deadline under load gave no fallback")
    let metrics = String(
      decoding: try PipelinedHTTP.send(port: port, [("GET", "/metrics", Data())])[0].body, as: UTF8.self)
    #expect(metrics.contains("commerceml_fraud_overload_fallbacks_total \(fallbacks.count)"), "\(fallbacks.count)")
    #expect(try state(server)["transactions"] as! Int == base + total, "a transaction lost or entered twice")
    // A fallback answer is the transaction's answer: its retry gets it again, and the state does not move.
    let ids = Set(fallbacks.prefix(50).map(\.transactionID))
    let indexes = (0..<(connections * per)).filter { ids.contains(String(fixture.rows[$0][0])) }
    let again = try PipelinedHTTP.send(
      port: port, indexes.map { ("POST", "/v1/transactions", fixture.body($0..<($0 + 1))) })
    for a in again {
      let d = try decisions(a)[0]
      // (Remembered, or past the tiny deadline again: the same fallback either way.)
      #expect(d.reasons == ["OVERLOAD"] && d.decision == "decline" && d.score == nil)
    }
    #expect(try state(server)["transactions"] as! Int == base + total)
    #expect(server.signalAndWait(SIGTERM, seconds: 30) == 0)
  }

  /// A training and a rollback by another process while transactions arrive: no request fails, the new version
  /// scores within a second and the old one after the rollback, and the state goes on (nothing lost).
  @Test func promoteAndRollbackUnderLoad() throws {
    let store = try fixture.freshStore()
    let server = try serve(store)
    defer { server.stop() }
    let base = try state(server)["transactions"] as! Int
    let port = server.port
    let results = Mutex<[PipelinedHTTP.Answer]>([])
    let stop = Atomic(false)
    let client = Thread {
      var k = 0
      while !stop.load(ordering: .relaxed) && k < 60_000 {
        let requests = HandbookFixture.shared.requests(k..<min(k + 2_000, 60_000), size: 1)
        let answers = (try? PipelinedHTTP.send(port: port, requests)) ?? []
        results.withLock { $0 += answers }
        if answers.count < requests.count { break }
        k += requests.count
      }
    }
    client.start()
    usleep(300_000)
    let history = fixture.dir.appendingPathComponent("history.csv").path
    let trained = try run(
      "fraud", ["train", "--data", history, "--map", HandbookFixture.map, "--labels-delay", "7d", "--store", store])
    #expect(trained.status == 0, "\(trained)")
    usleep(1_500_000)
    let rolled = try run("fraud", ["models", "rollback", "--store", store])
    #expect(rolled.status == 0, "\(rolled)")
    usleep(1_500_000)
    stop.store(true, ordering: .relaxed)
    while !client.isFinished { usleep(10_000) }
    let answers = results.withLock { $0 }
    #expect(answers.allSatisfy { $0.status == 200 }, "non-2xx during promote and rollback")
    let versions = try answers.map { try decisions($0)[0].modelVersion ?? 0 }
    #expect(versions.contains(2), "version 2 never scored")
    #expect(versions.last == 1, "the rollback to version 1 was not followed")
    if let two = versions.firstIndex(of: 2) { #expect(versions[..<two].allSatisfy { $0 == 1 }) }
    #expect(try state(server)["transactions"] as! Int == base + answers.count)
    #expect(server.stderr.contains("scoring with version 2 from now on"))
    #expect(server.signalAndWait(SIGTERM, seconds: 30) == 0)
  }

  /// Options a server cannot run with are refused with their name.
  @Test func badOptionsAreRefused() throws {
    for (arguments, message) in [
      (["--deadline", "5"], "--deadline must be a number and a unit"),
      (["--deadline", "0ms"], "--deadline must be at least 0.0001s"),
      (["--deadline", "2m"], "--deadline must be at most 1m"),
      (["--on-overload", "maybe"], "--on-overload must be approve, review or decline"),
      (["--resume", "--fresh"], "give --resume or --fresh, not both"),
    ] {
      let r = try run("fraud", ["serve", "--store", fixture.trainedStore] + arguments)
      #expect(r.status != 0)
      #expect(r.stderr.contains(message), "\(r)")
    }
    let empty = temporaryDirectory().appendingPathComponent("empty.sqlite").path
    let none = try run("fraud", ["serve", "--store", empty, "--port", "0"])
    #expect(none.status != 0)
    #expect(none.stderr.contains("no model store here"), "\(none)")
  }
}
