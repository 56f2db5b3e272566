import Foundation
import LinearAlgebra
import Modeling
import Storage

/// The matrix-factorization families: implicit ALS and explicit biased MF. A score is `x_uᵀy_i`, plus
/// `μ + b_u + b_i` for the explicit family.
struct FactorRecommender: RecommenderModel {
  static let implicitKind = "recommender.als-implicit"
  static let explicitKind = "recommender.biased-mf-explicit"

  /// The family's stored parts.
  enum Part {
    static let userFactors = "user_factors"
    static let itemFactors = "item_factors"
    /// `YᵀY`, for folding in a new user without reading every item's factors twice.
    static let itemGram = "item_gram"
    static let userBias = "user_bias"
    static let itemBias = "item_bias"
  }

  /// The family's fields of the `meta` part.
  struct Meta: Codable {
    var factors: Int
    var globalMean: Float
    var regularization: Float
    var alpha: Float
  }

  var feedback: Feedback
  var factors: FactorModel
  /// Per-user and per-item biases and the global mean (explicit feedback only).
  var userBias: [Float]?
  var itemBias: [Float]?
  var globalMean: Float
  var regularization: Float
  var alpha: Float
  var trainingMeasure: TrainingProgress.Measure?

  var kind: String { feedback == .implicit ? Self.implicitKind : Self.explicitKind }
  var itemCount: Int { factors.itemFactors.rows }
  var metaFields: any Encodable {
    Meta(factors: factors.userFactors.columns, globalMean: globalMean, regularization: regularization, alpha: alpha)
  }

  static func parameters(_ c: ImplicitALS.Configuration) -> [String: String] {
    let solver: String
    switch c.solver {
    case .conjugateGradient(let steps): solver = "cg(\(steps))"
    case .cholesky: solver = "cholesky"
    }
    return [
      "feedback": "implicit", "factors": "\(c.factors)", "iterations": "\(c.iterations)",
      "regularization": "\(c.regularization)", "alpha": "\(c.alpha)", "solver": solver, "seed": "\(c.seed)",
    ]
  }

  static func parameters(_ c: BiasedALS.Configuration) -> [String: String] {
    [
      "feedback": "explicit", "factors": "\(c.factors)", "iterations": "\(c.iterations)",
      "regularization": "\(c.regularization)", "bias_regularization": "\(c.biasRegularization)",
      "seed": "\(c.seed)",
    ]
  }

  /// The largest value single-precision factors fit reliably (confidences, ratings).
  static let largestValue = 1e7

  static func fit(
    _ matrix: SparseMatrix, configuration c: ImplicitALS.Configuration, progress: ((TrainingProgress) -> Void)?
  ) throws -> FactorRecommender {
    let largest = Double(matrix.values.max() ?? 0)
    guard Double(c.alpha) * largest <= largestValue else {
      // Values beyond what the model can fit: bad input data for these settings (exit 65, as for ratings).
      throw CommerceError(
        .data,
        "the largest confidence 1 + alpha·value would be \(String(format: "%g", Double(c.alpha) * largest)) (alpha \(c.alpha), value \(largest)), beyond the 1e7 single-precision factors fit; rescale the \(.valueColumn) values (e.g. by log1p) or lower \(.alpha)",
        parameter: .alpha)
    }
    var last: TrainingProgress.Measure? = nil
    let model = try ImplicitALS.fit(matrix, configuration: c) { report in
      last = report.loss.map { .loss($0) }
      progress?(
        TrainingProgress(iteration: report.iteration, iterations: c.iterations, measure: last, seconds: report.seconds))
    }
    return FactorRecommender(
      feedback: .implicit, factors: model, userBias: nil, itemBias: nil, globalMean: 0,
      regularization: c.regularization, alpha: c.alpha, trainingMeasure: last)
  }

  static func fit(
    _ matrix: SparseMatrix, configuration c: BiasedALS.Configuration, progress: ((TrainingProgress) -> Void)?
  ) throws -> FactorRecommender {
    let largest = Double(matrix.values.lazy.map { abs($0) }.max() ?? 0)
    guard largest <= largestValue else {
      throw CommerceError(
        .data,
        "ratings reach \(largest), beyond the 1e7 single-precision factors fit; rescale the \(.valueColumn) values",
        parameter: .valueColumn)
    }
    var last: TrainingProgress.Measure? = nil
    let fitted = try BiasedALS.fit(matrix, configuration: c) { iteration, rmse, seconds in
      last = .rmse(rmse)
      progress?(TrainingProgress(iteration: iteration, iterations: c.iterations, measure: last, seconds: seconds))
    }
    return FactorRecommender(
      feedback: .explicit, factors: fitted.factors, userBias: fitted.userBias, itemBias: fitted.itemBias,
      globalMean: fitted.globalMean, regularization: c.regularization, alpha: ImplicitALS.Configuration().alpha,
      trainingMeasure: last)
  }

  func rankingScores(
    users: ArraySlice<Int>, tile: Int, buffer: UnsafeMutableBufferPointer<Float>,
    _ body: (Range<Int>, UnsafeMutableBufferPointer<Float>) throws -> Void
  ) throws {
    try Self.rankingScores(
      userFactors: factors.userFactors.elements, itemFactors: factors.itemFactors.elements,
      f: factors.userFactors.columns, itemBias: itemBias, users: users, tile: tile, buffer: buffer, body)
  }

  /// `X_users·Y_tileᵀ (+ b_i)`, one BLAS product per tile of items; the users' factors are gathered once.
  static func rankingScores(
    userFactors: [Float], itemFactors: [Float], f: Int, itemBias: [Float]?, users: ArraySlice<Int>, tile: Int,
    buffer: UnsafeMutableBufferPointer<Float>, _ body: (Range<Int>, UnsafeMutableBufferPointer<Float>) throws -> Void
  ) throws {
    let itemCount = f == 0 ? 0 : itemFactors.count / f
    let tile = max(1, tile)
    guard buffer.count >= users.count * min(tile, itemCount) else {
      throw ModelingError.invalidArgument("a score buffer of \(buffer.count) for \(users.count) users × \(tile) items")
    }
    var block = [Float](repeating: 0, count: users.count * f)
    for (r, u) in users.enumerated() {
      for d in 0..<f { block[r * f + d] = userFactors[u * f + d] }
    }
    try block.withUnsafeBufferPointer { b in
      try itemFactors.withUnsafeBufferPointer { y in
        var start = 0
        while start < itemCount {
          let range = start..<min(itemCount, start + tile)
          let n = range.count
          let scores = UnsafeMutableBufferPointer(rebasing: buffer[0..<(users.count * n)])
          if f == 0 {
            scores.update(repeating: 0)
          } else {
            try RawBLAS.gemm(
              transposeA: false, transposeB: true, m: users.count, n: n, k: f, alpha: 1, a: b.baseAddress!, lda: f,
              b: y.baseAddress! + start * f, ldb: f, beta: 0, c: scores.baseAddress!, ldc: n)
          }
          if let itemBias {
            for r in 0..<users.count {
              let row = scores.baseAddress! + r * n
              for i in 0..<n { row[i] += itemBias[start + i] }
            }
          }
          try body(range, scores)
          start = range.upperBound
        }
      }
    }
  }

  func predict(user u: Int, item i: Int) -> Float? {
    guard let userBias, let itemBias else { return nil }
    return BiasedALS.Fitted(globalMean: globalMean, factors: factors, userBias: userBias, itemBias: itemBias)
      .predict(user: u, item: i)
  }

  func parts() throws -> [String: [UInt8]] {
    var parts: [String: [UInt8]] = [:]
    parts[Part.userFactors] = ArtifactCoding.bytes(factors.userFactors.elements)
    parts[Part.itemFactors] = ArtifactCoding.bytes(factors.itemFactors.elements)
    parts[Part.itemGram] = ArtifactCoding.bytes(try factors.itemFactors.gram().elements)
    if let userBias, let itemBias {
      parts[Part.userBias] = ArtifactCoding.bytes(userBias)
      parts[Part.itemBias] = ArtifactCoding.bytes(itemBias)
    }
    return parts
  }
}

/// A stored factor model, read on demand.
struct FactorServing: RecommenderServing {
  let model: ServingModel
  let meta: FactorRecommender.Meta
  let feedback: Feedback

  init(_ model: ServingModel) throws {
    self.model = model
    meta = try model.familyMeta(FactorRecommender.Meta.self)
    feedback = model.version.kind == FactorRecommender.explicitKind ? .explicit : .implicit
    guard (1...4096).contains(meta.factors), meta.regularization.isFinite, meta.alpha.isFinite,
      meta.globalMean.isFinite
    else { throw model.corrupt(RecommenderPart.meta) }
  }

  var items: Int { model.meta.items }
  var historyNeedsValues: Bool { feedback == .explicit }

  func userBias(_ u: Int) throws -> Float? {
    guard try model.reader.has(FactorRecommender.Part.userBias) else { return nil }
    return ArtifactCoding.floats(try model.reader.read(FactorRecommender.Part.userBias, offset: u * 4, length: 4))?
      .first
  }

  func itemBias() throws -> [Float]? {
    guard try model.reader.has(FactorRecommender.Part.itemBias) else { return nil }
    guard let b = ArtifactCoding.floats(try model.reader.readAll(FactorRecommender.Part.itemBias)), b.count == items
    else { throw model.corrupt(FactorRecommender.Part.itemBias) }
    return b
  }

  /// Calls `body` with every item's factors (read in place when the reader holds them in memory), checked for size.
  func withItemFactors<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
    try model.reader.withFloats(FactorRecommender.Part.itemFactors) { y in
      guard y.count == items * meta.factors else { throw model.corrupt(FactorRecommender.Part.itemFactors) }
      return try body(y)
    }
  }

  func allItemFactors() throws -> [Float] { try withItemFactors { Array($0) } }

  /// `Y·x` over item factors already read: one pass, four items at a time, with the processor's widest vectors
  /// (a BLAS call would depend on the process's BLAS threads and kernels, so that a server and the command line
  /// could rank the same user differently in the last bits).
  func itemScores(_ x: [Float], factors y: UnsafeBufferPointer<Float>) -> [Float] {
    let f = meta.factors
    return [Float](unsafeUninitializedCapacity: items) { scores, initialized in
      x.withUnsafeBufferPointer { xb in
        if items > 0 {
          FactorKernels.rowDots(y.baseAddress!, xb.baseAddress!, into: scores.baseAddress!, rows: items, n: f)
        }
      }
      initialized = items
    }
  }

  func scores(user u: Int) throws -> [Float] {
    let x = try model.reader.readFloats(
      FactorRecommender.Part.userFactors, offset: u * meta.factors, count: meta.factors)
    var scores = try withItemFactors { itemScores(x, factors: $0) }
    if let bias = try itemBias() { for i in scores.indices { scores[i] += bias[i] } }
    if feedback == .explicit, let ub = try userBias(u) {
      for i in scores.indices { scores[i] += meta.globalMean + ub }
    }
    return scores
  }

  func scores(history rows: [Int], values: [Float]) throws -> [Float] {
    var scores = try withItemFactors { y in itemScores(try foldIn(rows: rows, values: values, factors: y), factors: y) }
    if feedback == .explicit, let bias = try itemBias() {
      for i in scores.indices { scores[i] += bias[i] + meta.globalMean }
    }
    return scores
  }

  /// Factors for a new user from their history: one regularized least-squares solve against the item factors.
  func foldIn(rows: [Int], values: [Float], factors y: UnsafeBufferPointer<Float>) throws -> [Float] {
    let f = meta.factors
    var a = [Double](repeating: 0, count: f * f)
    var b = [Double](repeating: 0, count: f)
    switch feedback {
    case .implicit:
      // (YᵀY + λI + Σ α·v y yᵀ) x = Σ (1 + α·v) y
      guard let gram = ArtifactCoding.floats(try model.reader.readAll(FactorRecommender.Part.itemGram)),
        gram.count == f * f, gram.allSatisfy({ $0.isFinite }),
        (0..<f).allSatisfy({ d in gram[d * f + d] >= 0 })
      else { throw model.corrupt(FactorRecommender.Part.itemGram) }
      for k in 0..<(f * f) { a[k] = Double(gram[k]) }
      for d in 0..<f { a[d * f + d] += Double(meta.regularization) }
      for (row, v) in zip(rows, values) {
        let w = Double(meta.alpha * v)
        for r in 0..<f {
          let yr = Double(y[row * f + r])
          b[r] += (1 + w) * yr
          for s in 0..<f { a[r * f + s] += w * yr * Double(y[row * f + s]) }
        }
      }
    case .explicit:
      // Σ (r − μ − b_i − xᵀy)² + λ n ‖x‖²
      guard let bias = try itemBias() else { throw model.corrupt(FactorRecommender.Part.itemBias) }
      for (row, v) in zip(rows, values) {
        let t = Double(v - meta.globalMean - bias[row])
        for r in 0..<f {
          let yr = Double(y[row * f + r])
          b[r] += t * yr
          for s in 0..<f { a[r * f + s] += yr * Double(y[row * f + s]) }
        }
      }
      for d in 0..<f { a[d * f + d] += Double(meta.regularization) * Double(rows.count) }
    }
    guard a.allSatisfy({ $0.isFinite }), b.allSatisfy({ $0.isFinite }) else {
      throw model.corrupt(FactorRecommender.Part.itemFactors)
    }
    do {
      let x = try solveSymmetricPositiveDefinite(try Matrix<Double>(rows: f, columns: f, elements: a), Vector(b))
      return x.elements.map { Float($0) }
    } catch {
      throw CommerceError(
        .data,
        "cannot fold in this history: its least-squares system has no unique solution (\(error)); the model's item factors are degenerate for these items — retrain with a larger regularization"
      )
    }
  }

  /// Cosine similarity of item factors.
  func similarities(to i: Int) throws -> [Float] {
    let f = meta.factors
    return try withItemFactors { y in
      var norms = [Float](repeating: 0, count: items)
      for k in 0..<items {
        norms[k] = FactorKernels.dot(y.baseAddress! + k * f, y.baseAddress! + k * f, f).squareRoot()
      }
      let target = Array(y[(i * f)..<((i + 1) * f)])
      var scores = itemScores(target, factors: y)
      for k in scores.indices {
        let d = norms[k] * norms[i]
        scores[k] = d > 0 ? scores[k] / d : 0
      }
      return scores
    }
  }

  func load() throws -> any RecommenderModel {
    let users = model.meta.users
    let x = try model.reader.readAllFloats(FactorRecommender.Part.userFactors)
    guard x.count == users * meta.factors else { throw model.corrupt(FactorRecommender.Part.userFactors) }
    let y = try allItemFactors()
    var userBias: [Float]? = nil
    if try model.reader.has(FactorRecommender.Part.userBias) {
      guard let b = ArtifactCoding.floats(try model.reader.readAll(FactorRecommender.Part.userBias)), b.count == users
      else { throw model.corrupt(FactorRecommender.Part.userBias) }
      userBias = b
    }
    return FactorRecommender(
      feedback: feedback,
      factors: FactorModel(
        userFactors: try Matrix(rows: users, columns: meta.factors, elements: x),
        itemFactors: try Matrix(rows: items, columns: meta.factors, elements: y)),
      userBias: userBias, itemBias: try itemBias(), globalMean: meta.globalMean, regularization: meta.regularization,
      alpha: meta.alpha, trainingMeasure: nil)
  }
}
