import Foundation
import Testing

/// The result of running one of the built executables.
struct RunResult: Equatable, CustomStringConvertible {
  var status: Int32
  var stdout: String
  var stderr: String
  var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

/// The directory holding the built products (`recommend`, `churn`, `fraud`).
func productsDirectory() throws -> URL {
  let candidates = [
    Bundle.main.bundleURL, URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
    Bundle.main.bundleURL.deletingLastPathComponent(),
  ]
  for dir in candidates where FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("churn").path) {
    return dir
  }
  throw CocoaError(
    .fileNoSuchFile, userInfo: [NSFilePathErrorKey: "churn executable near \(Bundle.main.bundleURL.path)"])
}

/// Runs `tool` with `arguments` (and `stdin` bytes), in `directory`, with the given extra environment.
func run(
  _ tool: String, _ arguments: [String], stdin: Data? = nil, directory: URL? = nil,
  environment: [String: String] = [:]
) throws -> RunResult {
  try run(
    executable: try productsDirectory().appendingPathComponent(tool), arguments, stdin: stdin, directory: directory,
    environment: environment)
}

/// Runs the program at `executable` (a built tool, or a link to one) as `run(_:_:)` runs a tool.
func run(
  executable: URL, _ arguments: [String], stdin: Data? = nil, directory: URL? = nil,
  environment: [String: String] = [:]
) throws -> RunResult {
  let process = Process()
  process.executableURL = executable
  process.arguments = arguments
  var env = ProcessInfo.processInfo.environment
  env.removeValue(forKey: "COMMERCEML_STORE")
  for (k, v) in environment { env[k] = v }
  process.environment = env
  if let directory { process.currentDirectoryURL = directory }
  let outFile = FileManager.default.temporaryDirectory.appendingPathComponent("out-\(UUID())")
  let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("err-\(UUID())")
  FileManager.default.createFile(atPath: outFile.path, contents: nil)
  FileManager.default.createFile(atPath: errFile.path, contents: nil)
  defer {
    try? FileManager.default.removeItem(at: outFile)
    try? FileManager.default.removeItem(at: errFile)
  }
  process.standardOutput = try FileHandle(forWritingTo: outFile)
  process.standardError = try FileHandle(forWritingTo: errFile)
  let input = Pipe()
  process.standardInput = input
  // A command that refuses its options exits before reading its input: writing the rest must not end the test
  // process with SIGPIPE.
  signal(SIGPIPE, SIG_IGN)
  try process.run()
  if let stdin { try? input.fileHandleForWriting.write(contentsOf: stdin) }
  try input.fileHandleForWriting.close()
  process.waitUntilExit()
  return RunResult(
    status: process.terminationStatus,
    stdout: String(decoding: try Data(contentsOf: outFile), as: UTF8.self),
    stderr: String(decoding: try Data(contentsOf: errFile), as: UTF8.self))
}

/// A new empty directory for one test.
func temporaryDirectory() -> URL {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-\(UUID())")
  try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  return dir
}

/// Trains one model of each app on SampleData into `store` (for tests that need a store holding all three).
func trainEveryApp(into store: String) throws {
  let trained = [
    try run("recommend", ["train", "--interactions", sampleData("ecommerce/interactions.csv"), "--store", store]),
    try run(
      "churn",
      ["train", "--data", sampleData("churn/customers.csv"), "--target", "churned", "--cv", "0", "--store", store]),
    try run("fraud", ["train", "--data", sampleData("fraud/history.csv"), "--store", store]),
  ]
  for r in trained { #expect(r.status == 0, "\(r)") }
}
