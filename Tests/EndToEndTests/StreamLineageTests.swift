import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Issue 22, classes 1–4: a learning stream that registers its model, killed at any point, another operator's
/// activations, model changes between runs, and a restart without `--resume`.
extension FraudStreamTests {
  static let learning = ["--learn", "--labels-delay", "1h", "--register-every", "12h", "--checkpoint-every", "300"]

  /// The versions of a store without their creation times: version, active mark, kind, metrics.
  func versions(_ store: String) throws -> [String] {
    let listed = try run("fraud", ["models", "list", "--format", "csv", "--store", store])
    return listed.stdout.split(separator: "\n").dropFirst().map { line in
      var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      fields.remove(at: 4)
      return fields.joined(separator: ",")
    }
  }

  func copy(_ name: String) throws -> String {
    let path = dir.appendingPathComponent(name).path
    try? FileManager.default.removeItem(atPath: path)
    try FileManager.default.copyItem(atPath: store, toPath: path)
    return path
  }

  func learnedCount(_ stderr: String) -> Int {
    guard let line = stderr.split(separator: "\n").first(where: { $0.contains("learned online from") }) else {
      return -1
    }
    return Int(String(line.split(separator: " ")[4])) ?? -1
  }

  func learnedBefore(_ stderr: String) -> Int {
    guard let range = stderr.range(of: "learning continues from the checkpoint (") else { return 0 }
    return Int(stderr[range.upperBound...].prefix { $0.isNumber }) ?? -1
  }

  /// 1. Killed with SIGKILL at many points — before the first checkpoint, between checkpoints, at one, right
  /// after each registration and a line later — and resumed on the whole stream (the upstream replays it), the
  /// stream gives every later line exactly as an uninterrupted run, registers the same versions (no period
  /// twice), and learns from the same labels in all.
  @Test func killedAnywhereALearningStreamResumesAsIfUninterrupted() throws {
    let (history, stream, header) = try data()
    try train(history)
    let input = ([header] + stream).joined(separator: "\n") + "\n"
    let uninterruptedStore = try copy("u.sqlite")
    let whole = try run(
      "fraud", ["stream", "--store", uninterruptedStore] + Self.learning, stdin: Data(input.utf8))
    #expect(whole.status == 0, "\(whole)")
    let expected = whole.stdout.split(separator: "\n").map(String.init)
    #expect(expected.count == stream.count + 1)
    let expectedVersions = try versions(uninterruptedStore)
    #expect(expectedVersions.count >= 6, "\(expectedVersions)")
    let totalLearned = learnedCount(whole.stderr)
    #expect(totalLearned > stream.count / 2)
    // Where registrations happen: the first transaction at or after each 12-hour boundary.
    var registrationPoints: [Int] = []
    var lastPeriod = ""
    for (i, line) in stream.enumerated() {
      let time = line.split(separator: ",")[1]
      let period = String(time.prefix(11)) + (Int(time.dropFirst(11).prefix(2))! < 12 ? "am" : "pm")
      if i > 0 && period != lastPeriod { registrationPoints.append(i + 1) }
      lastPeriod = period
    }
    #expect(registrationPoints.count >= 5)
    var points = [150, 299, 300, 301, 450, 600, 601]
    for p in registrationPoints.prefix(4) { points += [p, p + 1, p + 7] }
    for k in Set(points).sorted() where k < stream.count - 10 {
      let store = try copy("k\(k).sqlite")
      let live = try LiveProcess(["stream", "--store", store] + Self.learning)
      live.write(([header] + stream[..<k]).joined(separator: "\n") + "\n")
      let seen = live.readLines(k + 1)
      #expect(seen.count == k + 1, "kill at \(k): saw \(seen.count) lines")
      #expect(Array(seen) == Array(expected.prefix(k + 1)), "kill at \(k): lines before the kill differ")
      kill(live.process.processIdentifier, SIGKILL)
      _ = live.finish()
      let resumed = try run("fraud", ["stream", "--resume", "--store", store] + Self.learning, stdin: Data(input.utf8))
      #expect(resumed.status == 0, "kill at \(k): \(resumed)")
      let lines = resumed.stdout.split(separator: "\n").dropFirst().map(String.init)
      let skipped = expected.count - 1 - lines.count
      #expect(skipped <= k, "kill at \(k): \(skipped) skipped")
      let later = Array(expected.suffix(lines.count))
      let differing = zip(lines, later).filter { $0 != $1 }.count
      #expect(lines.count == later.count && differing == 0, "kill at \(k): \(differing) later lines differ")
      let got = try versions(store)
      #expect(got == expectedVersions, "kill at \(k): versions differ: \(got) against \(expectedVersions)")
      #expect(
        learnedBefore(resumed.stderr) + learnedCount(resumed.stderr) == totalLearned,
        "kill at \(k): \(resumed.stderr)")
      #expect(!resumed.stderr.contains("starts again"), "kill at \(k): \(resumed.stderr)")
    }
  }

  /// 3. An operator's promotion while a stream learns and registers: the stream says so, registers its later
  /// versions inactive, and the operator's version stays active; a rollback made meanwhile likewise.
  @Test func aLearningStreamNeverUndoesAnotherActivation() throws {
    let (history, stream, header) = try data()
    try train(history)
    // A second training: version 2, then the operator promotes version 1 back while the stream runs.
    for (operatorCommand, expectedActive) in [(["models", "promote", "1"], 1), (["models", "rollback"], 1)] {
      let store = try copy("op-\(operatorCommand[1]).sqlite")
      #expect(try run("fraud", ["train", "--data", history, "--store", store]).status == 0)
      let live = try LiveProcess(["stream", "--store", store] + Self.learning)
      let half = stream.count / 2
      live.write(([header] + stream[..<half]).joined(separator: "\n") + "\n")
      _ = live.readLines(half + 1)
      let before = try versions(store)
      let activeBefore = before.first { $0.contains(",*,") }
      #expect(activeBefore != nil && !activeBefore!.hasPrefix("fraud,2,"), "the stream registered nothing: \(before)")
      let op = try run("fraud", operatorCommand + ["--store", store])
      #expect(op.status == 0, "\(op)")
      let activated = try versions(store).first { $0.contains(",*,") }!
      live.write(stream[half...].joined(separator: "\n") + "\n")
      let (status, _, stderr) = live.finish()
      #expect(status == 0, "\(stderr)")
      #expect(stderr.contains("was made active by someone else while this stream learned"), "\(stderr)")
      let after = try versions(store)
      #expect(after.count > before.count, "no later registration: \(after)")
      #expect(after.first { $0.contains(",*,") } == activated, "\(operatorCommand): the stream took over: \(after)")
      if operatorCommand[1] == "promote" { #expect(activated.hasPrefix("fraud,\(expectedActive),")) }
    }
  }

  /// 2. After a rollback (or a promotion of another version of the same bins) the labels waiting in the
  /// checkpoint are learned from under the version now active, with their count said; after a new training
  /// whose bins differ they are kept too, re-binned (each old bin at its middle), and that is said.
  @Test func waitingLabelsSurviveAModelChange() throws {
    let (history, stream, header) = try data()
    try train(history)
    let store = try copy("w.sqlite")
    let options = ["--learn", "--labels-delay", "2d", "--register-every", "12h"]
    let first = try run(
      "fraud", ["stream", "--store", store] + options,
      stdin: Data((([header] + stream[..<600]).joined(separator: "\n") + "\n").utf8))
    #expect(first.status == 0, "\(first)")
    let waitingLine = try #require(first.stderr.split(separator: "\n").first { $0.contains("labels still waiting") })
    let waiting = Int(waitingLine.split(separator: "(")[1].split(separator: " ")[0])!
    #expect(waiting > 100, "\(first.stderr)")
    #expect(try run("fraud", ["models", "rollback", "--store", store]).status == 0)
    let second = try run(
      "fraud", ["stream", "--resume", "--store", store] + options, stdin: Data((header + "\n").utf8))
    #expect(second.status == 0, "\(second)")
    #expect(
      second.stderr.contains("the checkpoint's \(waiting) labels waiting for their delay and"), "\(second.stderr)")
    #expect(second.stderr.contains("are learned from under the new version"), "\(second.stderr)")
    // Still waiting at the end of this (empty) run: none were lost.
    #expect(second.stderr.contains("(\(waiting) labels still waiting for their delay)"), "\(second.stderr)")
    // A new training on other data (other bins): the count that cannot be learned is said.
    let shorter = dir.appendingPathComponent("shorter.csv").path
    let lines = try String(contentsOfFile: history, encoding: .utf8).split(separator: "\n")
    try (lines.prefix(lines.count * 2 / 3).joined(separator: "\n") + "\n").write(
      toFile: shorter, atomically: true, encoding: .utf8)
    #expect(try run("fraud", ["train", "--data", shorter, "--store", store]).status == 0)
    let third = try run(
      "fraud", ["stream", "--resume", "--store", store] + options, stdin: Data((header + "\n").utf8))
    #expect(third.status == 0, "\(third)")
    #expect(third.stderr.contains("the checkpoint's \(waiting) labels waiting for their delay"), "\(third.stderr)")
    #expect(
      third.stderr.contains(
        "which the active version does not share: they are learned from under the new version's bins"),
      "\(third.stderr)")
    #expect(third.stderr.contains("(\(waiting) labels still waiting for their delay)"), "none lost: \(third.stderr)")
  }

  /// 4. A store holding a checkpoint is not started afresh silently: without --resume the stream refuses
  /// (exit 64, the checkpoint's size named, both ways on named); --fresh starts from the training snapshot and
  /// says the checkpoint will be replaced; the checkpoint is untouched by the refusal.
  @Test func aCheckpointIsNeverOverwrittenSilently() throws {
    let (history, stream, header) = try data()
    try train(history)
    let store = try copy("c.sqlite")
    let input = ([header] + stream[..<500]).joined(separator: "\n") + "\n"
    #expect(try run("fraud", ["stream", "--store", store], stdin: Data(input.utf8)).status == 0)
    for extra in [[String](), ["--learn"], ["--checkpoint-every", "10"]] {
      let refused = try run("fraud", ["stream", "--store", store] + extra, stdin: Data(input.utf8))
      #expect(refused.status == 64, "\(refused)")
      #expect(refused.stderr.contains("the store holds a checkpoint of this stream ("), "\(refused)")
      #expect(refused.stderr.contains("--resume") && refused.stderr.contains("--fresh"), "\(refused)")
      #expect(refused.stdout.isEmpty)
    }
    let resumed = try run("fraud", ["stream", "--resume", "--store", store], stdin: Data(input.utf8))
    #expect(resumed.stderr.contains("500 transactions already processed were skipped"), "\(resumed)")
    let sequence = try #require(resumed.stderr.split(separator: "\n").first { $0.contains("resuming after") })
      .split(separator: " ")[3]
    let fresh = try run("fraud", ["stream", "--fresh", "--store", store], stdin: Data(input.utf8))
    #expect(fresh.status == 0, "\(fresh)")
    #expect(fresh.stderr.contains("the checkpoint of \(sequence) transactions is replaced"), "\(fresh)")
    #expect(fresh.stdout.split(separator: "\n").count == 501)
    let both = try run("fraud", ["stream", "--fresh", "--resume", "--store", store], stdin: Data(input.utf8))
    #expect(both.status == 64 && both.stderr.contains("--resume or --fresh, not both"), "\(both)")
    // Another model name has its own checkpoint: no refusal there.
    #expect(try run("fraud", ["train", "--data", history, "--model", "other", "--store", store]).status == 0)
    let other = try run("fraud", ["stream", "--model", "other", "--store", store], stdin: Data(input.utf8))
    #expect(other.status == 0, "\(other)")
  }
}
