import Foundation
import Storage
import StorageSQLite
import Testing

@Suite struct ModelsCommandTests {
  /// A store holding two churn versions and one recommender version.
  func populatedStore() throws -> (URL, String) {
    let dir = temporaryDirectory()
    let path = dir.appendingPathComponent("models.sqlite").path
    let store = try ModelStore(path: path, create: true)
    for auc in [0.81, 0.84] {
      _ = try store.register(
        NewModelVersion(
          name: "churn", kind: "churn.logistic-regression", parameters: ["l2": "0"], metrics: ["roc_auc": auc],
          dataBytes: 100, dataHash: "abc", parts: ["model": [1]]))
    }
    _ = try store.register(
      NewModelVersion(
        name: "recommender", kind: "recommender.als-implicit", metrics: ["ndcg_at_10": 0.44], dataBytes: 5,
        dataHash: "def", parts: ["factors": [2]]))
    return (dir, path)
  }

  /// `models copy` moves every version with its number and fields, makes the source's active version active in the
  /// target, can run again, copies one version alone, and refuses a different version under a taken number.
  @Test func copyKeepsVersionsAndTheirFields() throws {
    let (dir, path) = try populatedStore()
    let source = try ModelStore(path: path, create: false)
    try source.promote("churn", version: 1)
    let target = dir.appendingPathComponent("copy.sqlite").path
    let copied = try run("churn", ["models", "copy", "--from", path, "--to", target])
    #expect(copied.status == 0, "\(copied.stderr)")
    #expect(
      copied.stdout
        == "churn version 1: copied\nchurn version 2: copied\nchurn: version 1 is active in \(target)\n")
    let copy = try ModelStore(path: target, create: false)
    #expect(try copy.list(name: "churn") == source.list(name: "churn"))
    #expect(try copy.loadPart("churn", version: 2, part: "model") == [1])
    #expect(try copy.list(name: "recommender").isEmpty)
    let again = try run("churn", ["models", "copy", "--from", path, "--to", target])
    #expect(
      again.status == 0 && again.stdout.hasPrefix("churn version 1: already there\nchurn version 2: already there\n"))
    // One version alone, of another model.
    let one = try run(
      "recommend", ["models", "copy", "--from", path, "--to", target, "--model", "recommender", "--version", "1"])
    #expect(one.status == 0 && one.stdout.hasPrefix("recommender version 1: copied\n"))
    #expect(try copy.active("recommender").version == 1)
    // A different version 1 in the target: refused, nothing copied.
    let other = dir.appendingPathComponent("other.sqlite").path
    _ = try ModelStore(path: other, create: true).register(
      NewModelVersion(
        name: "churn", kind: "churn.logistic-regression", dataBytes: 1, dataHash: "zzz", parts: ["model": [9]]))
    let refused = try run("churn", ["models", "copy", "--from", path, "--to", other])
    #expect(refused.status != 0 && refused.stderr.contains("already holds a different version 1 of 'churn'"))
    #expect(try ModelStore(path: other, create: false).list(name: "churn").count == 1)
    // A source without the model, or without the version.
    let missing = try run("fraud", ["models", "copy", "--from", path, "--to", target])
    #expect(missing.status != 0 && missing.stderr.contains("no model named 'fraud'"))
    let noVersion = try run("churn", ["models", "copy", "--from", path, "--to", target, "--version", "9"])
    #expect(noVersion.status != 0 && noVersion.stderr.contains("has no version 9"))
    let noSource = try run(
      "churn", ["models", "copy", "--from", dir.appendingPathComponent("none.sqlite").path, "--to", target])
    #expect(noSource.status != 0 && noSource.stderr.contains("no model store here"))
  }

  @Test(arguments: ["recommend", "churn", "fraud"])
  func helpAndVersion(tool: String) throws {
    let help = try run(tool, ["--help"])
    #expect(help.status == 0)
    #expect(help.stdout.contains("USAGE: \(tool) <subcommand>"))
    #expect(help.stdout.contains("models"))
    let version = try run(tool, ["--version"])
    #expect(version == RunResult(status: 0, stdout: "CommerceML 0.1.0\n", stderr: ""))
  }

  @Test func listOnAFreshStoreIsEmptyWithANote() throws {
    let dir = temporaryDirectory()
    let result = try run("recommend", ["models", "list"], directory: dir)
    #expect(
      result
        == RunResult(
          status: 0, stdout: "name  version  active  kind  created  data_bytes  metrics\n",
          stderr: "recommend: no model store at ./commerceml.sqlite yet\n"))
    // Listing did not create a store.
    #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("commerceml.sqlite").path))
  }

  @Test func listShowsOnlyThisAppsModelsUnlessAll() throws {
    let (_, path) = try populatedStore()
    let churn = try run("churn", ["models", "list", "--store", path, "--format", "csv"])
    #expect(churn.status == 0)
    let lines = churn.stdout.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
    #expect(lines.count == 3)
    #expect(lines[1][0] == "churn" && lines[1][1] == "2" && lines[1][2] == "*" && lines[1][6] == "roc_auc=0.84")
    #expect(lines[2][1] == "1" && lines[2][2] == "")
    let all = try run(
      "fraud", ["models", "list", "--all", "--format", "json"], environment: ["COMMERCEML_STORE": path])
    let objects = try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as! [[String: Any]]
    #expect(objects.count == 3)
    let none = try run("fraud", ["models", "list", "--store", path])
    #expect(none.stdout == "name  version  active  kind  created  data_bytes  metrics\n")
  }

  @Test func showPromoteRollback() throws {
    let (_, path) = try populatedStore()
    let show = try run("churn", ["models", "show", "1", "--store", path, "--format", "csv"])
    #expect(show.status == 0)
    #expect(show.stdout.contains("\nversion,1\nactive,no\n"))
    #expect(show.stdout.contains("\nmetric.roc_auc,0.81\n"))
    let promote = try run("churn", ["models", "promote", "1", "--store", path])
    #expect(promote == RunResult(status: 0, stdout: "churn: version 1 is now active\n", stderr: ""))
    let active = try run("churn", ["models", "show", "--store", path, "--format", "csv"])
    #expect(active.stdout.contains("\nversion,1\nactive,yes\n"))
    let back = try run("churn", ["models", "rollback", "--store", path])
    #expect(back == RunResult(status: 0, stdout: "churn: rolled back from version 1 to version 2\n", stderr: ""))
    let again = try run("churn", ["models", "rollback", "--store", path])
    #expect(again == RunResult(status: 0, stdout: "churn: rolled back from version 2 to version 1\n", stderr: ""))
    let first = try run("churn", ["models", "rollback", "--store", path])
    #expect(
      first
        == RunResult(
          status: 1, stdout: "",
          stderr: "churn: error: model 'churn' has no earlier active version to roll back to (version 1 is the first)\n"
        ))
    let other = try run("recommend", ["models", "show", "--model", "recommender", "--store", path, "--format", "json"])
    #expect(
      other.status == 0 && other.stdout.contains("{\"field\": \"kind\", \"value\": \"recommender.als-implicit\"}"))
  }

  @Test func errorsAreOneLineWithExitCodes() throws {
    let (dir, path) = try populatedStore()
    let missingModel = try run("fraud", ["models", "show", "--store", path])
    #expect(
      missingModel == RunResult(status: 1, stdout: "", stderr: "fraud: error: no model named 'fraud' in the store\n"))
    let noVersion = try run("churn", ["models", "promote", "9", "--store", path])
    #expect(noVersion == RunResult(status: 1, stdout: "", stderr: "churn: error: model 'churn' has no version 9\n"))
    let badVersion = try run("churn", ["models", "promote", "0", "--store", path])
    #expect(badVersion.status == 64 && badVersion.stderr.hasPrefix("Error: versions start at 1; got 0\n"))
    let noStore = try run("churn", ["models", "show", "--store", dir.appendingPathComponent("nope.sqlite").path])
    #expect(noStore.status == 1 && noStore.stderr.contains("no model store here"))
    let textFile = dir.appendingPathComponent("notes.txt")
    try Data(String(repeating: "not a database ", count: 20).utf8).write(to: textFile)
    let notStore = try run("churn", ["models", "list", "--store", textFile.path])
    #expect(
      notStore
        == RunResult(
          status: 69, stdout: "",
          stderr: "churn: error: \(textFile.path): not a CommerceML model store (the file is not a SQLite database)\n"))
    let badFormat = try run("churn", ["models", "list", "--format", "xml", "--store", path])
    #expect(badFormat.status == 64)
  }
}
