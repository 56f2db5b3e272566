import Foundation
import Testing

/// `recommend import --spark-factors` on small factor directories written here in the interchange layout: a good one
/// serves exactly the dot products of its factors with seen items filtered, and every malformed one is refused
/// with a message naming the file and what is wrong, registering nothing.
@Suite struct SparkImportTests {
  let dir = temporaryDirectory()

  /// Writes `interactions.csv` and a factors directory; `edit` changes the files' text before writing.
  func layout(
    rank: Int = 2, metadata: String? = nil, users: String? = nil, items: String? = nil
  ) throws -> (factors: String, interactions: String) {
    let factors = dir.appendingPathComponent("factors-\(UUID())")
    for sub in ["user_factors", "item_factors"] {
      try FileManager.default.createDirectory(
        at: factors.appendingPathComponent(sub), withIntermediateDirectories: true)
    }
    let meta =
      metadata
        ?? """
        {"format": "commerceml-als-factors", "rank": \(rank), "implicit_prefs": true, "reg_param": 0.1, "alpha": 1.0,
         "max_iter": 10, "spark_version": "4.0.0"}
        """
    try meta.write(to: factors.appendingPathComponent("metadata.json"), atomically: true, encoding: .utf8)
    try (users ?? "id,f0,f1\nu1,1.0,0.0\nu2,0.0,1.0\n").write(
      to: factors.appendingPathComponent("user_factors/part-00000.csv"), atomically: true, encoding: .utf8)
    try (items ?? "id,f0,f1\na,0.9,0.1\nb,0.5,0.5\nc,0.1,2.0\n").write(
      to: factors.appendingPathComponent("item_factors/part-00000.csv"), atomically: true, encoding: .utf8)
    let interactions = dir.appendingPathComponent("interactions-\(UUID()).csv").path
    try "user_id,item_id\nu1,a\nu2,b\nu2,c\n".write(toFile: interactions, atomically: true, encoding: .utf8)
    return (factors.path, interactions)
  }

  @Test func aGoodLayoutServesItsDotProducts() throws {
    let (factors, interactions) = try layout()
    let store = dir.appendingPathComponent("good.sqlite").path
    let imported = try run(
      "recommend", ["import", "--spark-factors", factors, "--interactions", interactions, "--store", store])
    #expect(imported.status == 0, "\(imported.stderr)")
    #expect(
      imported.stdout.hasPrefix(
        "registered recommender version 1 (recommender.als-implicit from Spark, 2 users, 3 items, rank 2)"))
    // u1 = (1, 0): b scores 0.5, c 0.1; a was seen.
    let u1 = try run("recommend", ["u1", "--store", store, "--format", "csv"])
    #expect(u1.stdout == "rank,item_id,score,source\n1,b,0.5000,model\n2,c,0.1000,model\n", "\(u1)")
    let shown = try run("recommend", ["models", "show", "--store", store, "--format", "csv"])
    #expect(shown.stdout.contains("param.trained_by,spark-mllib-als 4.0.0"), "\(shown.stdout)")
    let unknown = try run("recommend", ["nobody", "--store", store, "--format", "csv"])
    #expect(unknown.status == 0 && unknown.stdout.contains(",popularity\n"))
  }

  @Test func withoutInteractionsNothingIsSeenAndUnknownUsersGetTheAverageUser() throws {
    let (factors, _) = try layout()
    let store = dir.appendingPathComponent("bare.sqlite").path
    let imported = try run("recommend", ["import", "--spark-factors", factors, "--store", store])
    #expect(imported.status == 0, "\(imported.stderr)")
    #expect(imported.stdout.contains("2 users, 3 items, rank 2"), "\(imported.stdout)")
    #expect(imported.stderr.contains("imported without --interactions"), "\(imported.stderr)")
    // Nothing was seen: u1 = (1, 0) gets every item, a first.
    let u1 = try run("recommend", ["u1", "--store", store, "--format", "csv"])
    #expect(u1.stdout == "rank,item_id,score,source\n1,a,0.9000,model\n2,b,0.5000,model\n3,c,0.1000,model\n", "\(u1)")
    // The average user is (0.5, 0.5): c 1.05, then a and b at 0.5 (ties by catalogue order).
    let unknown = try run("recommend", ["nobody", "--store", store, "--format", "csv"])
    #expect(
      unknown.stdout
        == "rank,item_id,score,source\n1,c,1.0500,average-user\n2,a,0.5000,average-user\n3,b,0.5000,average-user\n",
      "\(unknown)")
    #expect(unknown.stderr.contains("average user"), "\(unknown.stderr)")
    let json = try run("recommend", ["nobody", "--store", store, "--format", "json"])
    #expect(json.stdout.contains("\"source\" : \"average-user\""), "\(json.stdout)")
    let users = dir.appendingPathComponent("batch-users.txt").path
    try "user_id\nu2\nnobody\n".write(toFile: users, atomically: true, encoding: .utf8)
    let out = dir.appendingPathComponent("batch.csv").path
    let batch = try run("recommend", ["batch", "--users", users, "-n", "1", "--output", out, "--store", store])
    #expect(batch.status == 0, "\(batch.stderr)")
    #expect(
      try String(contentsOfFile: out, encoding: .utf8)
        == "user_id,rank,item_id,score,source\nu2,1,c,2.000000,model\nnobody,1,c,1.050000,average-user\n")
    #expect(batch.stderr.contains("1 users are not in the model and got the average user's top items"), "\(batch)")
    // It cannot be measured against popularity: refused with the reason, by measure and by evaluate --registered.
    let later = dir.appendingPathComponent("later.csv").path
    try "user_id,item_id\nu1,b\n".write(toFile: later, atomically: true, encoding: .utf8)
    for arguments in [["measure"], ["evaluate", "--registered"]] {
      let measured = try run("recommend", arguments + ["--interactions", later, "--store", store])
      #expect(measured.status == 64, "\(arguments): \(measured)")
      #expect(measured.stderr.contains("was imported without interactions"), "\(measured.stderr)")
    }
  }

  @Test func evaluateRegisteredMeasuresTheVersionAsMeasureDoes() throws {
    let (factors, interactions) = try layout()
    let store = dir.appendingPathComponent("measured.sqlite").path
    let imported = try run(
      "recommend", ["import", "--spark-factors", factors, "--interactions", interactions, "--store", store])
    #expect(imported.status == 0, "\(imported.stderr)")
    // u1 (seen a) ranks b first, u2 (seen b, c) has only a left: both find their held-out item at rank 1.
    let later = dir.appendingPathComponent("held-out.csv").path
    try "user_id,item_id\nu1,b\nu2,a\nstranger,a\n".write(toFile: later, atomically: true, encoding: .utf8)
    let evaluated = try run(
      "recommend", ["evaluate", "--registered", "--interactions", later, "--store", store, "--format", "json"])
    let measured = try run("recommend", ["measure", "--interactions", later, "--store", store, "--format", "json"])
    #expect(evaluated.status == 0 && measured.status == 0, "\(evaluated.stderr) \(measured.stderr)")
    #expect(evaluated.stdout == measured.stdout)
    let document = try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any]
    let quality = document?["quality"] as? [[String: Any]] ?? []
    let model = quality.first { $0["name"] as? String == "model" }
    #expect(abs((model?["ndcg"] as? Double ?? -1) - 1) < 1e-9, "\(quality)")
    #expect(document?["unknown_users"] as? Int == 1)
    let table = try run("recommend", ["evaluate", "--registered", "--interactions", later, "--store", store])
    #expect(table.status == 0 && table.stdout.hasPrefix("model"), "\(table)")
    #expect(table.stdout.contains("1.0000"))
    // The options of a split do not apply to a registered version; --version needs --registered.
    let split = try run(
      "recommend", ["evaluate", "--registered", "--split", "time", "--interactions", later, "--store", store])
    #expect(split.status == 64 && split.stderr.contains("--test-fraction and --split do not apply"), "\(split)")
    let version = try run("recommend", ["evaluate", "--version", "1", "--interactions", later, "--store", store])
    #expect(version.status == 64 && version.stderr.contains("give --registered"), "\(version)")
    let missing = try run(
      "recommend", ["evaluate", "--registered", "--version", "7", "--interactions", later, "--store", store])
    #expect(missing.status != 0 && missing.stderr.contains("7"), "\(missing)")
  }

  @Test(arguments: [
    ("metadata", "no such file"),
    ("format", "format 'other', expected 'commerceml-als-factors'"),
    ("rank", "1 factor columns, but the metadata's rank is 2"),
    ("explicit", "explicit feedback"),
    ("nan", "expected a finite number"),
    ("duplicate", "id 'u1' appears twice"),
    ("missing user", "1 users of the interactions have no factors (e.g. 'u2')"),
    ("extra item", "1 items have factors but no interactions (e.g. 'z')"),
    ("short row", "expected 3 fields as in the header"),
  ])
  func malformedLayoutsAreRefused(damage: String, says: String) throws {
    var (factors, interactions) = try layout()
    switch damage {
    case "metadata": try FileManager.default.removeItem(atPath: factors + "/metadata.json")
    case "format":
      (factors, interactions) = try layout(
        metadata:
          #"{"format": "other", "rank": 2, "implicit_prefs": true, "reg_param": 0.1, "alpha": 1, "max_iter": 1}"#)
    case "rank": (factors, interactions) = try layout(users: "id,f0\nu1,1\nu2,0\n")
    case "explicit":
      (factors, interactions) = try layout(
        metadata:
          #"{"format": "commerceml-als-factors", "rank": 2, "implicit_prefs": false, "reg_param": 0.1, "alpha": 1, "max_iter": 1}"#
      )
    case "nan": (factors, interactions) = try layout(users: "id,f0,f1\nu1,NaN,0\nu2,0,1\n")
    case "duplicate": (factors, interactions) = try layout(users: "id,f0,f1\nu1,1,0\nu1,0,1\n")
    case "missing user": (factors, interactions) = try layout(users: "id,f0,f1\nu1,1,0\n")
    case "extra item": (factors, interactions) = try layout(items: "id,f0,f1\na,1,0\nb,1,0\nc,1,0\nz,0,0\n")
    case "short row": (factors, interactions) = try layout(users: "id,f0,f1\nu1,1\nu2,0,1\n")
    default: Issue.record("unknown damage \(damage)")
    }
    let store = dir.appendingPathComponent("bad-\(UUID()).sqlite").path
    let result = try run(
      "recommend", ["import", "--spark-factors", factors, "--interactions", interactions, "--store", store])
    #expect(result.status != 0 && result.stderr.contains(says), "\(damage): \(result.stderr)")
    #expect(
      try run("recommend", ["models", "list", "--store", store, "--format", "csv"]).stdout.split(separator: "\n").count
        <= 1)
  }
}
