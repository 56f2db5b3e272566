import AsyncHTTPClient
import Foundation
import NIOCore
import Recommender
import Synchronization
import Testing

/// A server process started on a free loopback port, stopped (SIGKILL if need be) by `stop()`.
final class ServerProcess: @unchecked Sendable {
  let process = Process()
  let port: Int
  let errorFile: URL

  init(_ tool: String, _ arguments: [String]) throws {
    process.executableURL = try productsDirectory().appendingPathComponent(tool)
    process.arguments = arguments + ["--port", "0"]
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "COMMERCEML_STORE")
    process.environment = env
    let out = Pipe()
    process.standardOutput = out
    errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("serve-err-\(UUID())")
    _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
    process.standardError = try FileHandle(forWritingTo: errorFile)
    try process.run()
    // The first line says where it listens.
    var line = Data()
    while !line.contains(0x0A) {
      guard let chunk = try out.fileHandleForReading.read(upToCount: 1), !chunk.isEmpty else { break }
      line.append(chunk)
    }
    let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard text.hasPrefix("listening on http://127.0.0.1:"), let port = Int(text.split(separator: ":").last ?? "")
    else {
      process.terminate()
      process.waitUntilExit()
      let log = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
      throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "no port: '\(text)' \(log)"])
    }
    self.port = port
  }

  var stderr: String { (try? String(contentsOf: errorFile, encoding: .utf8)) ?? "" }

  func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

  /// Sends `signal` and waits up to `seconds` for the exit; the exit status, or nil when it did not end.
  func signalAndWait(_ signal: Int32, seconds: Double) -> Int32? {
    kill(process.processIdentifier, signal)
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    return process.isRunning ? nil : process.terminationStatus
  }

  func stop() {
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
    try? FileManager.default.removeItem(at: errorFile)
  }
}

/// What the load of `hotReloadUnderRequests` shares between its workers.
final class LoadState: Sendable {
  let stop = Atomic(false)
  let failures = Mutex<[String]>([])
  let done = Atomic(0)
}

/// Issue 24: `recommend serve` as a process, with a real HTTP client on a loopback port.
@Suite(.serialized) struct ServeProcessTests {
  let dir = temporaryDirectory()
  var store: String { dir.appendingPathComponent("store.sqlite").path }

  func train(_ extra: [String] = []) throws {
    let r = try run(
      "recommend",
      [
        "train", "--interactions", sampleData("ecommerce/interactions.csv"), "--items",
        sampleData("ecommerce/items.csv"),
        "--iterations", "5", "--store", store,
      ] + extra)
    #expect(r.status == 0, "\(r)")
  }

  static func get(_ client: HTTPClient, _ url: String, headers: [(String, String)] = []) async throws -> (
    status: Int, body: Data
  ) {
    var request = HTTPClientRequest(url: url)
    for (k, v) in headers { request.headers.add(name: k, value: v) }
    let response = try await client.execute(request, timeout: .seconds(10))
    let body = try await response.body.collect(upTo: 16 << 20)
    return (Int(response.status.code), Data(body.readableBytesView))
  }

  /// For 200 users the route's recommendations are `recommend batch`'s (one run for all), and for every tenth
  /// they equal `recommend USER --format json`'s whole (one run each: the debug build's start-up made 200 of those
  /// seven minutes of the suite).
  @Test func theRouteAgreesWithTheCommandLine() async throws {
    try train()
    let server = try ServerProcess("recommend", ["serve", "--store", store])
    defer { server.stop() }
    let client = HTTPClient.shared
    var users = (1...199).map { String(format: "U-%04d", $0) }
    users.append("someone-new")
    let usersFile = dir.appendingPathComponent("users.csv").path
    try (["user_id"] + users).joined(separator: "\n").appending("\n").write(
      toFile: usersFile, atomically: true, encoding: .utf8)
    let batchFile = dir.appendingPathComponent("batch.csv").path
    let batch = try run(
      "recommend", ["batch", "--users", usersFile, "-n", "5", "--output", batchFile, "--store", store])
    #expect(batch.status == 0, "\(batch)")
    // user_id,rank,item_id,score,source
    var batched: [String: [(rank: Int, item: String, score: Double, source: String)]] = [:]
    for line in try String(contentsOfFile: batchFile, encoding: .utf8).split(separator: "\n").dropFirst() {
      let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      batched[f[0], default: []].append((Int(f[1])!, f[2], Double(f[3])!, f[4]))
    }
    #expect(batched.count == users.count)
    for (k, user) in users.enumerated() {
      let (status, body) = try await Self.get(client, server.url("/v1/users/\(user)/recommendations?n=5"))
      #expect(status == 200, "\(user)")
      let served = try JSONDecoder().decode(RecommendationList.self, from: body)
      let rows = batched[user] ?? []
      #expect(rows.count == served.items.count, "\(user)")
      for (item, row) in zip(served.items, rows) {
        #expect(item.rank == row.rank && item.itemID == row.item && served.source.rawValue == row.source, "\(user)")
        #expect(abs(Double(item.score) - row.score) <= 1e-5 * max(1, abs(row.score)), "\(user)")
      }
      if k % 10 == 0 || user == "someone-new" {
        let cli = try run("recommend", [user, "-n", "5", "--format", "json", "--store", store])
        #expect(
          served == (try JSONDecoder().decode(RecommendationList.self, from: Data(cli.stdout.utf8))), "\(user)")
      }
    }
    #expect(server.signalAndWait(SIGTERM, seconds: 15) == 0)
  }

  /// Another process trains, promotes and rolls back while requests run: none fails, and each change serves within
  /// a second of the command that made it.
  @Test func hotReloadUnderRequests() async throws {
    try train()
    let server = try ServerProcess("recommend", ["serve", "--store", store])
    defer { server.stop() }
    let client = HTTPClient.shared
    let state = LoadState()
    let load = Task {
      await withTaskGroup(of: Void.self) { group in
        for worker in 0..<4 {
          group.addTask {
            var k = 0
            while !state.stop.load(ordering: .relaxed) && k < 5000 {
              k += 1
              let user = String(format: "U-%04d", 1 + (worker * 131 + k) % 800)
              do {
                let (status, _) = try await ServeProcessTests.get(
                  client, server.url("/v1/users/\(user)/recommendations?n=5"))
                if status != 200 { state.failures.withLock { $0.append("\(user): \(status)") } }
              } catch {
                state.failures.withLock { $0.append("\(user): \(error)") }
              }
              state.done.add(1, ordering: .relaxed)
            }
          }
        }
      }
    }
    func servedVersion() async throws -> Int {
      let (_, body) = try await Self.get(client, server.url("/v1/model"))
      return (try JSONSerialization.jsonObject(with: body) as? [String: Any])?["version"] as? Int ?? -1
    }
    func waitFor(_ version: Int) async throws -> Double {
      let start = Date()
      while try await servedVersion() != version && Date().timeIntervalSince(start) < 5 {
        try await Task.sleep(for: .milliseconds(20))
      }
      return Date().timeIntervalSince(start)
    }
    #expect(try await servedVersion() == 1)
    try train(["--factors", "16"])
    #expect(try await waitFor(2) < 1.0)
    #expect(try run("recommend", ["models", "rollback", "--store", store]).status == 0)
    #expect(try await waitFor(1) < 1.0)
    #expect(try run("recommend", ["models", "promote", "2", "--store", store]).status == 0)
    #expect(try await waitFor(2) < 1.0)
    state.stop.store(true, ordering: .relaxed)
    await load.value
    #expect(state.done.load(ordering: .relaxed) > 100)
    #expect(state.failures.withLock { $0 }.isEmpty, "\(state.failures.withLock { $0.prefix(5) })")
    #expect(server.signalAndWait(SIGTERM, seconds: 15) == 0)
  }

  /// SIGTERM with requests in flight: they finish, the process exits 0, and then nothing listens; SIGHUP does not
  /// end it.
  @Test func sigtermDrainsAndSighupIsIgnored() async throws {
    try train()
    let server = try ServerProcess("recommend", ["serve", "--store", store, "--grace", "10"])
    defer { server.stop() }
    let client = HTTPClient.shared
    #expect(server.signalAndWait(SIGHUP, seconds: 0.3) == nil)
    #expect(try await Self.get(client, server.url("/healthz")).status == 200)
    // Batches of 800 users each take a while: start several, then SIGTERM while they run.
    let users = (1...800).map { String(format: "\"U-%04d\"", $0) }.joined(separator: ",")
    let inFlight = Task {
      try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<8 {
          group.addTask {
            var request = HTTPClientRequest(url: server.url("/v1/recommendations/batch"))
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: #"{"users": [\#(users)], "n": 20}"#))
            let response = try await client.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 64 << 20)
            return Int(response.status.code)
          }
        }
        var statuses: [Int] = []
        for try await s in group { statuses.append(s) }
        return statuses
      }
    }
    try await Task.sleep(for: .milliseconds(100))
    let status = server.signalAndWait(SIGTERM, seconds: 15)
    let statuses = try await inFlight.value
    #expect(status == 0, "\(server.stderr)")
    #expect(statuses == [Int](repeating: 200, count: 8))
    await #expect(throws: (any Error).self) { _ = try await Self.get(client, server.url("/healthz")) }
  }

  /// With --token-file, the routes need the token; health does not; the token is never logged.
  @Test func aTokenFileGuardsTheRoutes() async throws {
    try train()
    let tokenFile = dir.appendingPathComponent("token").path
    try "tok-\(UUID().uuidString)\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
    let token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    let server = try ServerProcess("recommend", ["serve", "--store", store, "--token-file", tokenFile])
    defer { server.stop() }
    let client = HTTPClient.shared
    #expect(try await Self.get(client, server.url("/v1/model")).status == 401)
    #expect(
      try await Self.get(client, server.url("/v1/model"), headers: [("Authorization", "Bearer \(token)")]).status == 200
    )
    #expect(try await Self.get(client, server.url("/healthz")).status == 200)
    #expect(server.signalAndWait(SIGINT, seconds: 15) == 0)
    #expect(!server.stderr.contains(token))
    let empty = dir.appendingPathComponent("empty").path
    try "\n".write(toFile: empty, atomically: true, encoding: .utf8)
    let refused = try run("recommend", ["serve", "--store", store, "--token-file", empty, "--port", "0"])
    #expect(refused.status == 64 && refused.stderr.contains("the token file is empty"), "\(refused)")
  }
}

/// Issue 24: `churn serve` as a process: the route scores the sample customers as `churn score` does.
@Suite(.serialized) struct ChurnServeProcessTests {
  let dir = temporaryDirectory()
  var store: String { dir.appendingPathComponent("store.sqlite").path }

  @Test func theRouteScoresAsChurnScoreDoes() async throws {
    try await routeAgreesWithScore(customers: sampleData("churn/customers.csv"), target: "churned")
  }

  /// On the public Telco file (7,043 customers; `Scripts/test.sh` fetches it and names it in `COMMERCEML_TELCO`,
  /// as its license forbids committing it), both families.
  @Test(
    .enabled(if: ProcessInfo.processInfo.environment["COMMERCEML_TELCO"] != nil), arguments: ["linear", "additive"])
  func theRouteScoresTelcoAsChurnScoreDoes(family: String) async throws {
    let telco = try #require(ProcessInfo.processInfo.environment["COMMERCEML_TELCO"])
    try await routeAgreesWithScore(customers: telco, target: "churn", family: family)
  }

  /// `churn score --decimals 12` and `POST /v1/score` (the CSV body) on the same file: the same ids, probabilities
  /// within 1e-12 (the CSV's twelve decimals), the same decisions.
  func routeAgreesWithScore(customers: String, target: String, family: String = "linear") async throws {
    let store = dir.appendingPathComponent("\(family)-\(UUID()).sqlite").path
    let trained = try run(
      "churn", ["train", "--data", customers, "--target", target, "--model", family, "--cv", "0", "--store", store])
    #expect(trained.status == 0, "\(trained)")
    let scored = try run("churn", ["score", customers, "--reasons", "0", "--decimals", "12", "--store", store])
    #expect(scored.status == 0)
    let expected = scored.stdout.split(separator: "\n").dropFirst().map {
      let f = $0.split(separator: ",", omittingEmptySubsequences: false)
      return (String(f[0]), Double(f[1])!, f[2] == "1")
    }
    let server = try ServerProcess("churn", ["serve", "--store", store])
    defer { server.stop() }
    var request = HTTPClientRequest(url: server.url("/v1/score?reasons=0"))
    request.method = .POST
    request.headers.add(name: "Content-Type", value: "text/csv")
    request.body = .bytes(ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: customers))))
    // A client of its own without a read timeout: in the whole suite, long synchronous tests can hold the
    // cooperative threads that consume the response for minutes, and the shared client's read timeout then fired
    // although the server had answered at once (its access log said 200 in 90 ms). The deadline still bounds it.
    var configuration = HTTPClient.Configuration()
    configuration.timeout = .init(connect: .seconds(10), read: nil)
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    let outcome: Result<(HTTPClientResponse, ByteBuffer), any Error>
    do {
      let answer = try await client.execute(request, timeout: .seconds(600))
      outcome = .success((answer, try await answer.body.collect(upTo: 64 << 20)))
    } catch {
      outcome = .failure(error)
    }
    try await client.shutdown()
    let response: HTTPClientResponse
    let body: ByteBuffer
    switch outcome {
    case .success(let answer): (response, body) = answer
    case .failure(let error):
      // What the server logged (its access log says whether the request arrived), for a failure seen only under load.
      Issue.record("POST /v1/score failed: \(error); the server's log: \(server.stderr)")
      throw error
    }
    #expect(response.status.code == 200)
    struct Answer: Decodable {
      struct Prediction: Decodable {
        var id: String
        var probability: Double
        var decision: String
      }
      var predictions: [Prediction]
    }
    let answer = try JSONDecoder().decode(Answer.self, from: Data(body.readableBytesView))
    #expect(answer.predictions.count == expected.count)
    #expect(expected.count > 100)
    var worst = 0.0
    for (p, e) in zip(answer.predictions, expected) {
      #expect(p.id == e.0)
      worst = max(worst, abs(p.probability - e.1))
      #expect((p.decision == "churn") == e.2, "\(p.id)")
    }
    #expect(worst <= 1e-12, "largest difference \(worst)")
    #expect(server.signalAndWait(SIGTERM, seconds: 15) == 0)
  }
}

/// A server that cannot listen says why, with the remedy, and exits without touching the store: a port in use, an
/// address that is not this machine's or not an address at all, for each app; `fraud serve` leaves no checkpoint
/// behind it then, nor when it stops without having taken a transaction or a label.
@Suite(.serialized) struct ListenFailureTests {
  let dir = temporaryDirectory()

  @Test func aServerThatCannotListenSaysWhyAndLeavesTheStoreAsItWas() throws {
    let store = dir.appendingPathComponent("store.sqlite").path
    try trainEveryApp(into: store)
    let listing = ["models", "list", "--all", "--format", "csv", "--store", store]
    let before = try run("fraud", listing)
    let busy = try ServerProcess("recommend", ["serve", "--store", store, "--no-access-log"])
    defer { busy.stop() }
    for tool in ["recommend", "churn", "fraud"] {
      let taken = try run(tool, ["serve", "--store", store, "--port", "\(busy.port)"])
      #expect(taken.status == 71, "\(tool): \(taken)")
      #expect(
        taken.stderr.contains("cannot listen on 127.0.0.1:\(busy.port): the address is in use")
          && taken.stderr.contains("choose another --port (0 picks a free one)"), "\(tool): \(taken)")
      #expect(!taken.stderr.contains("checkpoint written after"), "\(tool): \(taken)")
      let unknown = try run(tool, ["serve", "--store", store, "--host", "999.1.1.1", "--port", "0"])
      #expect(unknown.status == 64, "\(tool): \(unknown)")
      #expect(unknown.stderr.contains("'999.1.1.1' is not an address or a name this machine resolves"), "\(unknown)")
      // 192.0.2.1 (TEST-NET-1) is nobody's address here.
      let foreign = try run(tool, ["serve", "--store", store, "--host", "192.0.2.1", "--port", "0"])
      #expect(foreign.status == 71, "\(tool): \(foreign)")
      #expect(foreign.stderr.contains("the address is not one of this machine's"), "\(foreign)")
    }
    #expect(try run("fraud", listing) == before)
    // No checkpoint came of the failed starts: the server starts without --resume or --fresh, and stopping it
    // before any transaction writes none either.
    for round in 0..<2 {
      let server = try ServerProcess("fraud", ["serve", "--store", store, "--no-access-log"])
      defer { server.stop() }
      #expect(server.signalAndWait(SIGTERM, seconds: 15) == 0, "round \(round): \(server.stderr)")
      #expect(server.stderr.contains("no checkpoint written"), "round \(round): \(server.stderr)")
      #expect(!server.stderr.contains("checkpoint written after"), "round \(round): \(server.stderr)")
    }
  }
}
