import Foundation
import LinearAlgebra
import Modeling
import TabularIO

/// Factors trained elsewhere (Spark MLlib's ALS, by `Scripts/spark/train_als.py`), read from the interchange layout:
///
///     DIR/metadata.json          {"format": "commerceml-als-factors", "rank": 64, "implicit_prefs": true,
///                                 "reg_param": 0.1, "alpha": 1.0, "max_iter": 10, ...}
///     DIR/user_factors/*.csv     id,f0,f1,…,f{rank-1} — a header line, one user per line (Spark's part files)
///     DIR/item_factors/*.csv     id,f0,…               — one item per line
///
/// Ids are the original (string) ids. Every value must be a finite number; every id appears once.
public enum SparkFactorImport {
  /// What `metadata.json` holds.
  public struct Metadata: Codable, Sendable {
    public var format: String
    public var rank: Int
    public var implicitPrefs: Bool
    public var regParam: Double
    public var alpha: Double
    public var maxIter: Int
    public var sparkVersion: String?

    enum CodingKeys: String, CodingKey {
      case format, rank, alpha
      case implicitPrefs = "implicit_prefs"
      case regParam = "reg_param"
      case maxIter = "max_iter"
      case sparkVersion = "spark_version"
    }
  }

  /// The layout's name in `metadata.json`.
  public static let format = "commerceml-als-factors"

  /// Reads the factors in `directory` and joins them to `data` (the interactions they were trained on): a
  /// recommender with the factors, the interactions as each user's seen items and item popularity.
  ///
  /// Without `data` the users and items are the factor files' (in their order), no item counts as seen (nothing
  /// is filtered from recommendations, as Spark's `recommendForAllUsers`) and a user the model does not know gets
  /// the items the average user (the mean of the user factors) scores highest: the version's fallback is
  /// `average-user`, and it cannot be measured against popularity.
  /// - Throws: `CommerceError(.data)` naming the file and what is wrong: a missing or unreadable metadata file, a
  ///   rank out of range or not matching a file's columns, explicit-feedback factors, a value that is not a finite
  ///   number, an id twice, users or items of the interactions without factors (or factors of users or items the
  ///   interactions do not have).
  public static func load(
    directory: String, data: InteractionData?, catalog: ItemCatalog? = nil
  ) throws -> (model: TrainedRecommender, factorsFingerprint: DataFingerprint) {
    let metadataPath = directory + "/metadata.json"
    guard let metadataBytes = FileManager.default.contents(atPath: metadataPath) else {
      throw CommerceError(.data, "\(metadataPath): no such file; is \(directory) a factors directory of train_als.py?")
    }
    let metadata: Metadata
    do {
      metadata = try JSONDecoder().decode(Metadata.self, from: metadataBytes)
    } catch {
      throw CommerceError(.data, "\(metadataPath): not the factors' metadata (\(error))")
    }
    guard metadata.format == format else {
      throw CommerceError(.data, "\(metadataPath): format '\(metadata.format)', expected '\(format)'")
    }
    guard (1...4096).contains(metadata.rank) else {
      throw CommerceError(.data, "\(metadataPath): rank \(metadata.rank) is outside 1…4096")
    }
    guard metadata.implicitPrefs else {
      throw CommerceError(
        .data,
        "\(metadataPath): the factors are of explicit feedback (implicit_prefs false); import implicit ALS factors")
    }
    guard metadata.regParam.isFinite, metadata.alpha.isFinite, metadata.regParam >= 0, metadata.alpha >= 0 else {
      throw CommerceError(.data, "\(metadataPath): reg_param and alpha must be finite and ≥ 0")
    }
    let users = try readFactors(directory + "/user_factors", rank: metadata.rank)
    let items = try readFactors(directory + "/item_factors", rank: metadata.rank)
    let userIDs: [String]
    let itemIDs: [String]
    let userFactors: [Float]
    let itemFactors: [Float]
    if let data {
      userIDs = data.userIDs
      itemIDs = data.itemIDs
      userFactors = try align(users, to: userIDs, what: "users", directory: directory + "/user_factors")
      itemFactors = try align(items, to: itemIDs, what: "items", directory: directory + "/item_factors")
    } else {
      userIDs = fileOrder(users.rows)
      itemIDs = fileOrder(items.rows)
      userFactors = users.values
      itemFactors = items.values
    }
    var configuration = ImplicitALS.Configuration()
    configuration.factors = metadata.rank
    configuration.iterations = metadata.maxIter
    configuration.regularization = Float(metadata.regParam)
    configuration.alpha = Float(metadata.alpha)
    let seen =
      try data?.matrix()
      ?? SparseMatrix(
        rowCount: userIDs.count, columnCount: itemIDs.count,
        rowStart: [Int](repeating: 0, count: userIDs.count + 1), columns: [], values: [])
    let model = FactorRecommender(
      feedback: .implicit,
      factors: FactorModel(
        userFactors: try Matrix(rows: userIDs.count, columns: metadata.rank, elements: userFactors),
        itemFactors: try Matrix(rows: itemIDs.count, columns: metadata.rank, elements: itemFactors)),
      userBias: nil, itemBias: nil, globalMean: 0, regularization: Float(metadata.regParam),
      alpha: Float(metadata.alpha), trainingMeasure: nil)
    var trained = TrainedRecommender(
      configuration: .implicitALS(configuration), userIDs: userIDs, itemIDs: itemIDs, model: model,
      seen: seen, popularity: TrainedRecommender.popularity(of: seen, items: itemIDs.count), catalog: catalog)
    if data == nil {
      // No counts to rank by: the average user's scores stand in for popularity.
      trained.popularity = averageUserScores(users: userFactors, items: itemFactors, rank: metadata.rank)
      trained.fallback = .averageUser
    }
    trained.parametersOverride = [
      "feedback": "implicit", "factors": "\(metadata.rank)", "iterations": "\(metadata.maxIter)",
      "regularization": "\(metadata.regParam)", "alpha": "\(metadata.alpha)",
      "trained_by": "spark-mllib-als" + (metadata.sparkVersion.map { " \($0)" } ?? ""),
    ]
    // The factors' fingerprint: XXH64 of the metadata's and each part file's fingerprints, over all their bytes.
    var hasher = XXHash64()
    var bytes = UInt64(metadataBytes.count)
    hasher.update(Array(metadataBytes))
    for part in users.fingerprints + items.fingerprints {
      hasher.update(Array((part.xxh64 + "\n").utf8))
      bytes += part.byteCount
    }
    var fingerprint = DataFingerprint(hasher)
    fingerprint.byteCount = bytes
    return (trained, fingerprint)
  }

  /// The ids of `rows` in the order they were read.
  static func fileOrder(_ rows: [String: Int]) -> [String] {
    var ids = [String](repeating: "", count: rows.count)
    for (id, r) in rows { ids[r] = id }
    return ids
  }

  /// Each item's score for the average user: the mean of the user factor rows, times each item's factors.
  static func averageUserScores(users: [Float], items: [Float], rank: Int) -> [Float] {
    let userCount = users.count / rank
    var mean = [Double](repeating: 0, count: rank)
    for u in 0..<userCount {
      for f in 0..<rank { mean[f] += Double(users[u * rank + f]) }
    }
    for f in 0..<rank { mean[f] /= Double(max(userCount, 1)) }
    return (0..<(items.count / rank)).map { i in
      var score = 0.0
      for f in 0..<rank { score += mean[f] * Double(items[i * rank + f]) }
      return Float(score)
    }
  }

  /// Every id's factors, from the part files of one directory (`*.csv`, in name order).
  static func readFactors(
    _ directory: String, rank: Int
  ) throws -> (rows: [String: Int], values: [Float], fingerprints: [DataFingerprint]) {
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".csv") }.sorted()
    } catch {
      throw CommerceError(.data, "\(directory): no such directory of factor files")
    }
    guard !names.isEmpty else { throw CommerceError(.data, "\(directory): no .csv part files") }
    var rows: [String: Int] = [:]
    var values: [Float] = []
    /// The row each file starts at, to name the file of an id's first appearance.
    var fileStarts: [(row: Int, name: String)] = []
    var fingerprints: [DataFingerprint] = []
    for name in names {
      fileStarts.append((rows.count, name))
      let path = directory + "/" + name
      let reader = try CSVReader(path: path)
      guard reader.header.names.count == rank + 1 else {
        throw CommerceError(
          .data,
          "\(path): \(reader.header.names.count - 1) factor columns, but the metadata's rank is \(rank)")
      }
      while try reader.next() {
        guard let idBytes = reader.fieldBytes(0), idBytes.count > 0 else {
          throw reader.error(atField: 0, "an empty id")
        }
        let id = String(decoding: idBytes, as: UTF8.self)
        if let first = rows[id] {
          let file = fileStarts.last { $0.row <= first }!.name
          throw reader.error(atField: 0, "id '\(id)' appears twice (also in \(file)); ids must be unique")
        }
        rows[id] = rows.count
        for f in 1...rank {
          guard
            case .value(let v) = FieldParser.parseDouble(
              reader.fieldBytes(f) ?? UnsafeBufferPointer(start: nil, count: 0)),
            v.isFinite, abs(v) <= Double(Float.greatestFiniteMagnitude)
          else {
            throw reader.error(atField: f, "expected a finite number")
          }
          values.append(Float(v))
        }
      }
      fingerprints.append(reader.fingerprint)
    }
    return (rows, values, fingerprints)
  }

  /// The factor rows in the order of `order` (the interactions' ids).
  static func align(
    _ factors: (rows: [String: Int], values: [Float], fingerprints: [DataFingerprint]), to order: [String],
    what: String, directory: String
  ) throws -> [Float] {
    let rank = factors.rows.isEmpty ? 0 : factors.values.count / factors.rows.count
    let row = factors.rows
    let missing = order.filter { row[$0] == nil }
    guard missing.isEmpty else {
      throw CommerceError(
        .data,
        "\(directory): \(missing.count) \(what) of the interactions have no factors (e.g. '\(missing[0])'); import the factors trained on these interactions"
      )
    }
    if factors.rows.count != order.count {
      let known = Set(order)
      let extra = factors.rows.filter { !known.contains($0.key) }.sorted { $0.value < $1.value }.map(\.key)
      throw CommerceError(
        .data,
        "\(directory): \(extra.count) \(what) have factors but no interactions (e.g. '\(extra[0])'); give the interactions the factors were trained on"
      )
    }
    var out = [Float](repeating: 0, count: order.count * rank)
    out.withUnsafeMutableBufferPointer { destination in
      factors.values.withUnsafeBufferPointer { source in
        for (k, id) in order.enumerated() {
          let r = row[id]!
          for f in 0..<rank { destination[k * rank + f] = source[r * rank + f] }
        }
      }
    }
    return out
  }
}
