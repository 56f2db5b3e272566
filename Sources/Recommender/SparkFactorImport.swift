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
  /// - Throws: `CommerceError(.data)` naming the file and what is wrong: a missing or unreadable metadata file, a
  ///   rank out of range or not matching a file's columns, explicit-feedback factors, a value that is not a finite
  ///   number, an id twice, users or items of the interactions without factors (or factors of users or items the
  ///   interactions do not have).
  public static func load(
    directory: String, data: InteractionData, catalog: ItemCatalog? = nil
  ) throws -> TrainedRecommender {
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
    let userFactors = try align(users, to: data.userIDs, what: "users", directory: directory + "/user_factors")
    let itemFactors = try align(items, to: data.itemIDs, what: "items", directory: directory + "/item_factors")
    var configuration = ImplicitALS.Configuration()
    configuration.factors = metadata.rank
    configuration.iterations = metadata.maxIter
    configuration.regularization = Float(metadata.regParam)
    configuration.alpha = Float(metadata.alpha)
    let matrix = try data.matrix()
    let model = FactorRecommender(
      feedback: .implicit,
      factors: FactorModel(
        userFactors: try Matrix(rows: data.userIDs.count, columns: metadata.rank, elements: userFactors),
        itemFactors: try Matrix(rows: data.itemIDs.count, columns: metadata.rank, elements: itemFactors)),
      userBias: nil, itemBias: nil, globalMean: 0, regularization: Float(metadata.regParam),
      alpha: Float(metadata.alpha), trainingMeasure: nil)
    var trained = TrainedRecommender(
      configuration: .implicitALS(configuration), userIDs: data.userIDs, itemIDs: data.itemIDs, model: model,
      seen: matrix, popularity: TrainedRecommender.popularity(of: matrix, items: data.itemIDs.count),
      catalog: catalog)
    trained.parametersOverride = [
      "feedback": "implicit", "factors": "\(metadata.rank)", "iterations": "\(metadata.maxIter)",
      "regularization": "\(metadata.regParam)", "alpha": "\(metadata.alpha)",
      "trained_by": "spark-mllib-als" + (metadata.sparkVersion.map { " \($0)" } ?? ""),
    ]
    return trained
  }

  /// Every id's factors, from the part files of one directory (`*.csv`, in name order).
  static func readFactors(_ directory: String, rank: Int) throws -> (rows: [String: Int], values: [Float]) {
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
    for name in names {
      fileStarts.append((rows.count, name))
      let path = directory + "/" + name
      let reader = try CSVReader(path: path, options: .unhashed)
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
    }
    return (rows, values)
  }

  /// The factor rows in the order of `order` (the interactions' ids).
  static func align(
    _ factors: (rows: [String: Int], values: [Float]), to order: [String], what: String, directory: String
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
