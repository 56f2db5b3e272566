import Foundation
import Testing

/// `commerceml`, the one executable the container image holds: it is `recommend`, `churn` or `fraud` by the name it
/// is started under, or by its first argument, and answers exactly as the app's own executable.
@Suite struct MultiCallTests {
  /// A directory with `recommend`, `churn` and `fraud` as symbolic links to `commerceml` (as in the image).
  func linked() throws -> URL {
    let dir = temporaryDirectory()
    let target = try productsDirectory().appendingPathComponent("commerceml").path
    for tool in ["recommend", "churn", "fraud"] {
      try FileManager.default.createSymbolicLink(
        atPath: dir.appendingPathComponent(tool).path, withDestinationPath: target)
    }
    return dir
  }

  func runLinked(_ dir: URL, _ tool: String, _ arguments: [String]) throws -> RunResult {
    try run(executable: dir.appendingPathComponent(tool), arguments)
  }

  @Test(arguments: ["recommend", "churn", "fraud"])
  func answersAsTheAppByItsName(tool: String) throws {
    let dir = try linked()
    defer { try? FileManager.default.removeItem(at: dir) }
    for arguments in [
      ["--help"], ["--version"],
      ["models", "list", "--all", "--store", dir.appendingPathComponent("none.sqlite").path], ["modles"],
    ] {
      let own = try run(tool, arguments)
      let viaLink = try runLinked(dir, tool, arguments)
      let viaArgument = try run("commerceml", [tool] + arguments)
      #expect(viaLink == own, "\(tool) \(arguments): \(viaLink) vs \(own)")
      #expect(viaArgument == own, "commerceml \(tool) \(arguments): \(viaArgument) vs \(own)")
    }
    // A refused option is the app's usage error, exit 64, named as the app.
    let refused = try runLinked(dir, tool, ["models", "list", "--format", "xml"])
    #expect(refused.status == 64, "\(refused)")
    #expect(refused.stderr.hasPrefix("Error:") || refused.stderr.contains("\(tool)"), "\(refused)")
  }

  /// A model trained through one name serves through another, as with the separate executables.
  @Test func trainsAndRecommendsThroughTheLinks() throws {
    let dir = try linked()
    defer { try? FileManager.default.removeItem(at: dir) }
    let store = dir.appendingPathComponent("store.sqlite").path
    let trained = try runLinked(
      dir, "recommend", ["train", "--interactions", sampleData("ecommerce/interactions.csv"), "--store", store])
    #expect(trained.status == 0, "\(trained)")
    let viaLink = try runLinked(dir, "recommend", ["U-0001", "-n", "5", "--format", "json", "--store", store])
    let own = try run("recommend", ["U-0001", "-n", "5", "--format", "json", "--store", store])
    #expect(viaLink.status == 0 && viaLink == own, "\(viaLink) vs \(own)")
  }

  @Test func refusesWhatIsNoTool() throws {
    let bare = try run("commerceml", [])
    #expect(bare.status == 64)
    #expect(bare.stdout.isEmpty)
    #expect(bare.stderr.contains("usage: commerceml recommend|churn|fraud"), "\(bare)")
    let unknown = try run("commerceml", ["train", "--data", "x.csv"])
    #expect(unknown.status == 64)
    #expect(
      unknown.stderr.contains("commerceml: error: unknown tool 'train'; the tools are recommend, churn, fraud"),
      "\(unknown)")
    let help = try run("commerceml", ["--help"])
    #expect(help.status == 0)
    #expect(help.stdout.contains("usage: commerceml recommend|churn|fraud"), "\(help)")
    #expect(help.stderr.isEmpty)
  }
}
