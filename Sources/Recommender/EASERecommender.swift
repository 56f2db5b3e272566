import Foundation
import LinearAlgebra
import Modeling
import Storage

/// EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019): a closed-form item-item model.
/// With `X` the binarized user × item matrix, `P = (XᵀX + λI)⁻¹` and `B = I − P·diag(1/diag(P))` — the least-squares
/// item-from-items weights with a zero diagonal. A user's scores are `x_u·B`, the sum of the rows of `B` of the items
/// they have.
public enum EASE {
  public struct Configuration: Sendable, Codable, Equatable {
    /// The L2 weight λ on `B`.
    public var lambda: Float = 500
    /// The largest catalogue fitted: the model needs about 12 bytes per item² to fit and register.
    public var maxItems = 20_000
    public var threads = Parallel.processorCount
    /// The most memory the fit may take (the process's address-space headroom or the system's available
    /// memory, as the caller measured it); `nil`: not checked.
    public var memoryLimit: Int? = nil

    public init() {}

    /// Whether a catalogue of `items` fits `memoryLimit`.
    public func fits(items: Int) -> Bool { memoryLimit.map { EASE.memoryEstimate(items: items) <= $0 } ?? true }
  }

  /// Bytes a fit of `items` items holds at its peak, registration included — measured at 12.4 bytes per item²
  /// beside the process's own (3,000 items: 107 MB; 6,000: 426 MB): the weights (4 bytes per item²; the fit
  /// computes them in the Gram matrix's memory), their stored bytes (4) and the record SQLite assembles from
  /// those bytes to write the row (4), and a block of users made dense (4 MiB).
  public static func memoryEstimate(items: Int) -> Int { items * items * (4 + 4 + 4) + items * items / 2 + (4 << 20) }

  /// `B` (items × items, row-major, single precision) for `matrix` (users × items; any value above 0 counts as 1).
  static func fit(_ matrix: SparseMatrix, configuration c: Configuration) throws -> [Float] {
    let n = matrix.columnCount
    guard n <= c.maxItems else {
      throw CommerceError(
        .usage,
        "EASE holds items² weights: \(n) items need about \(formatBytes(memoryEstimate(items: n))) while fitting, above the \(c.maxItems)-item limit (\(.maxItems)); use the ALS family for a catalogue this large (\(.algorithm) als)",
        parameter: .maxItems)
    }
    guard c.lambda > 0, c.lambda.isFinite else {
      throw CommerceError(.usage, "\(.lambda) must be positive, got \(c.lambda)", parameter: .lambda)
    }
    // Memory known in advance is checked before the work: a refused allocation would end the process.
    if let limit = c.memoryLimit, memoryEstimate(items: n) > limit {
      let fitting = Int((Double(max(limit - (4 << 20), 0)) / 12.5).squareRoot())
      throw CommerceError(
        .usage,
        "EASE on \(n) items needs about \(formatBytes(memoryEstimate(items: n))) to fit and register, and this process can take about \(formatBytes(limit)) (its address-space limit, ulimit -v, or the memory available): use the ALS family (\(.algorithm) als), give it more memory, or set \(.maxItems) \(fitting) to refuse such catalogues at once",
        parameter: .maxItems)
    }
    // XᵀX over blocks of users made dense, by BLAS syrk, in single precision: the counts are whole numbers (exact
    // below 2²⁴), and the factorization and inverse in single precision take half the time of double with EASE's
    // weights agreeing to 1e-6 (measured against numpy in float64, EASETests).
    var gram = [Float](repeating: 0, count: n * n)
    // Users in blocks of about a million cells (4 MiB): beside the Gram matrix, the fit's only other buffer.
    let block = max(1, min(matrix.rowCount, (1 << 20) / max(n, 1)))
    var dense = [Float](repeating: 0, count: block * n)
    var start = 0
    while start < matrix.rowCount {
      let rows = min(block, matrix.rowCount - start)
      for r in 0..<rows {
        for (c, v) in zip(matrix.columns(ofRow: start + r), matrix.values(ofRow: start + r)) where v > 0 {
          dense[r * n + Int(c)] = 1
        }
      }
      try dense.withUnsafeBufferPointer { d in
        try gram.withUnsafeMutableBufferPointer { g in
          try RawBLAS.syrkUpperTransposed(
            n: n, k: rows, alpha: 1, a: d.baseAddress!, lda: n, beta: 1, c: g.baseAddress!, ldc: n)
        }
      }
      for r in 0..<rows { for c in matrix.columns(ofRow: start + r) { dense[r * n + Int(c)] = 0 } }
      start += rows
    }
    dense = []
    for i in 0..<n {
      for j in 0..<i { gram[i * n + j] = gram[j * n + i] }
      gram[i * n + i] += c.lambda
    }
    // P = (XᵀX + λI)⁻¹ in the Gram matrix's own memory (no factor or inverse beside it), then
    // B = I − P·diag(1/diag(P)), in place: the fit holds one items × items buffer.
    var b = gram
    gram = []
    try b.withUnsafeMutableBufferPointer { p in try RawBLAS.invertSymmetricPositiveDefinite(n: n, p.baseAddress!) }
    let diagonal = (0..<n).map { b[$0 * n + $0] }
    b.withUnsafeMutableBufferPointer { p in
      for i in 0..<n {
        let row = p.baseAddress! + i * n
        for j in 0..<n { row[j] = -row[j] / diagonal[j] }
        row[i] = 0
      }
    }
    // Weights that vanish (a penalty so large that every weight is below float precision) make every item score
    // the same: the model would serve arbitrary items. Refuse it rather than register it.
    var largest: Float = 0
    var finite = true
    for w in b {
      if !w.isFinite { finite = false }
      largest = max(largest, abs(w))
    }
    guard finite else {
      throw CommerceError(
        .data, "the EASE weights are not finite numbers with \(.lambda) \(c.lambda); a larger \(.lambda) usually helps",
        parameter: .lambda)
    }
    guard largest > 1e-10 else {
      throw CommerceError(
        .usage,
        "with \(.lambda) \(c.lambda) the EASE weights vanish (the largest is \(largest)): every item would score the same. Lower \(.lambda) (the default is 500; about the number of users is typical)",
        parameter: .lambda)
    }
    return b
  }

  public static func formatBytes(_ bytes: Int) -> String {
    bytes >= 1 << 30
      ? String(format: "%.1f GiB", Double(bytes) / Double(1 << 30))
      : String(format: "%.0f MiB", Double(bytes) / 1_048_576)
  }
}

/// The EASE family in memory: its weights and, for ranking, the training histories.
struct EASERecommender: RecommenderModel {
  static let kind = "recommender.ease"

  enum Part {
    /// `B`, items × items, single precision, row-major: row `i` is what having item `i` adds to every item.
    static let weights = "ease_weights"
  }

  struct Meta: Codable {
    var lambda: Float
  }

  var weights: [Float]
  var history: SparseMatrix
  var lambda: Float

  var kind: String { Self.kind }
  var itemCount: Int { history.columnCount }
  var trainingMeasure: TrainingProgress.Measure? { nil }
  var metaFields: any Encodable { Meta(lambda: lambda) }

  static func parameters(_ c: EASE.Configuration) -> [String: String] {
    ["feedback": "implicit", "algorithm": "ease", "lambda": "\(c.lambda)"]
  }

  /// `X_users·B_tile`, one BLAS product per tile of items' columns of `B`; the users' dense histories are built
  /// once.
  func rankingScores(
    users: ArraySlice<Int>, tile: Int, buffer: UnsafeMutableBufferPointer<Float>,
    _ body: (Range<Int>, UnsafeMutableBufferPointer<Float>) throws -> Void
  ) throws {
    let n = itemCount
    let tile = max(1, tile)
    guard buffer.count >= users.count * min(tile, n) else {
      throw ModelingError.invalidArgument("a score buffer of \(buffer.count) for \(users.count) users × \(tile) items")
    }
    var block = [Float](repeating: 0, count: users.count * n)
    for (r, u) in users.enumerated() {
      for (c, v) in zip(history.columns(ofRow: u), history.values(ofRow: u)) where v > 0 { block[r * n + Int(c)] = 1 }
    }
    try block.withUnsafeBufferPointer { x in
      try weights.withUnsafeBufferPointer { b in
        var start = 0
        while start < n {
          let range = start..<min(n, start + tile)
          let scores = UnsafeMutableBufferPointer(rebasing: buffer[0..<(users.count * range.count)])
          try RawBLAS.gemm(
            transposeA: false, transposeB: false, m: users.count, n: range.count, k: n, alpha: 1, a: x.baseAddress!,
            lda: n, b: b.baseAddress! + start, ldb: n, beta: 0, c: scores.baseAddress!, ldc: range.count)
          try body(range, scores)
          start = range.upperBound
        }
      }
    }
  }

  func predict(user u: Int, item i: Int) -> Float? { nil }

  func parts() throws -> [String: [UInt8]] { [Part.weights: ArtifactCoding.bytes(weights)] }
}

/// A stored EASE model, read on demand: a user's scores read only the rows of `B` of the items they have.
struct EASEServing: RecommenderServing {
  let model: ServingModel
  let meta: EASERecommender.Meta

  init(_ model: ServingModel) throws {
    self.model = model
    meta = try model.familyMeta(EASERecommender.Meta.self)
    guard meta.lambda > 0, meta.lambda.isFinite,
      try model.reader.size(EASERecommender.Part.weights) == model.meta.items * model.meta.items * 4
    else { throw model.corrupt(EASERecommender.Part.weights) }
  }

  var items: Int { model.meta.items }
  var historyNeedsValues: Bool { false }

  func row(_ i: Int) throws -> [Float] {
    try model.reader.readFloats(EASERecommender.Part.weights, offset: i * items, count: items)
  }

  func scores(user u: Int) throws -> [Float] { try scores(history: try model.seenItems(user: u), values: []) }

  func scores(history rows: [Int], values: [Float]) throws -> [Float] {
    var scores = [Float](repeating: 0, count: items)
    // Each item once, in a fixed order: the same history sums to the same scores in every process.
    for i in Set(rows).sorted() {
      let r = try row(i)
      for k in 0..<items { scores[k] += r[k] }
    }
    return scores
  }

  /// Item `i`'s weights toward every item: what having `i` adds to each one's score.
  func similarities(to i: Int) throws -> [Float] { try row(i) }

  func load() throws -> any RecommenderModel {
    let weights = try model.reader.readAllFloats(EASERecommender.Part.weights)
    guard weights.count == items * items else { throw model.corrupt(EASERecommender.Part.weights) }
    let r = model.reader
    guard let so = ArtifactCoding.integers(try r.readAll(RecommenderPart.seenOffsets), as: UInt64.self),
      let si = ArtifactCoding.integers(try r.readAll(RecommenderPart.seenItems), as: UInt32.self),
      so.count == model.meta.users + 1, si.allSatisfy({ Int($0) < items }),
      zip(so, so.dropFirst()).allSatisfy({ $0 <= $1 }), so.last.map({ $0 <= UInt64(si.count) }) == true,
      let history = try? SparseMatrix(
        rowCount: model.meta.users, columnCount: items, rowStart: so.map { Int($0) },
        columns: si.map { Int32(bitPattern: $0) }, values: [Float](repeating: 1, count: si.count))
    else { throw model.corrupt(RecommenderPart.seenItems) }
    return EASERecommender(weights: weights, history: history, lambda: meta.lambda)
  }
}
