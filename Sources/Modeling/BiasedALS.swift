import Foundation
import LinearAlgebra

/// Explicit-feedback biased matrix factorization by alternating least squares.
///
/// Predicts a rating as `μ + b_u + b_i + x_uᵀ y_i` and minimizes, over the observed ratings `r_ui`,
/// ```
/// Σ (r_ui − μ − b_u − b_i − x_uᵀy_i)² + λ Σ_u n_u ‖x_u‖² + λ Σ_i n_i ‖y_i‖²
///                                     + λ_b (Σ_u n_u b_u² + Σ_i n_i b_i²)
/// ```
/// with penalties weighted by each user's and item's rating count (ALS-WR, Zhou et al. 2008). Each
/// user's `[x_u, b_u]` (then each item's `[y_i, b_i]`) is an exact `(f+1) × (f+1)` least-squares solve.
public enum BiasedALS {
  /// Hyperparameters.
  public struct Configuration: Sendable, Equatable, Codable {
    /// Latent factors (default 64).
    public var factors = 64
    /// Alternating iterations (default 15).
    public var iterations = 15
    /// λ, the factor penalty per rating (default 0.1).
    public var regularization: Float = 0.1
    /// λ_b, the bias penalty per rating (default 0.1).
    public var biasRegularization: Float = 0.1
    /// Seed of the initial factors.
    public var seed: UInt64 = 42
    /// Threads (default: every processor).
    public var threads = Parallel.processorCount

    /// The defaults.
    public init() {}

    /// Checks every value's range.
    public func validate() throws(ModelingError) {
      guard factors >= 1, factors <= 1024 else { throw .invalidArgument("factors must be 1 to 1024, got \(factors)") }
      guard iterations >= 1 else { throw .invalidArgument("iterations must be at least 1, got \(iterations)") }
      guard regularization.isFinite, regularization > 0 else {
        throw .invalidArgument("regularization must be a finite number > 0, got \(regularization)")
      }
      guard biasRegularization.isFinite, biasRegularization >= 0 else {
        throw .invalidArgument("bias regularization must be a finite number ≥ 0, got \(biasRegularization)")
      }
      guard threads >= 1 else { throw .invalidArgument("threads must be at least 1, got \(threads)") }
    }
  }

  /// A fitted model.
  public struct Fitted: Sendable {
    public var globalMean: Float
    public var factors: FactorModel
    public var userBias: [Float]
    public var itemBias: [Float]

    /// A model from its parts.
    public init(globalMean: Float, factors: FactorModel, userBias: [Float], itemBias: [Float]) {
      self.globalMean = globalMean
      self.factors = factors
      self.userBias = userBias
      self.itemBias = itemBias
    }

    /// The predicted rating of user `u` for item `i`.
    public func predict(user u: Int, item i: Int) -> Float {
      let f = factors.userFactors.columns
      return factors.userFactors.elements.withUnsafeBufferPointer { x in
        factors.itemFactors.elements.withUnsafeBufferPointer { y in
          globalMean + userBias[u] + itemBias[i] + FactorKernels.dot(x.baseAddress! + u * f, y.baseAddress! + i * f, f)
        }
      }
    }
  }

  /// Fits the model to `ratings` (users × items).
  /// - Parameter progress: called after each iteration with the training RMSE.
  public static func fit(
    _ ratings: SparseMatrix, configuration c: Configuration,
    progress: ((_ iteration: Int, _ rmse: Double, _ seconds: Double) -> Void)? = nil
  ) throws(ModelingError) -> Fitted {
    try c.validate()
    guard ratings.nonZeroCount > 0 else { throw .empty(what: "explicit ALS ratings") }
    let f = c.factors
    var g = SeededGenerator(seed: c.seed)
    var users = Matrix<Float>(rows: ratings.rowCount, columns: f)
    var items = Matrix<Float>(rows: ratings.columnCount, columns: f)
    for k in users.elements.indices { users.elements[k] = Float(g.nextGaussian() * 0.1) }
    for k in items.elements.indices { items.elements[k] = Float(g.nextGaussian() * 0.1) }
    var userBias = [Float](repeating: 0, count: ratings.rowCount)
    var itemBias = [Float](repeating: 0, count: ratings.columnCount)
    let mean = Float(ratings.values.reduce(0.0) { $0 + Double($1) } / Double(ratings.nonZeroCount))
    let byItem = ratings.transposed()
    for iteration in 1...c.iterations {
      let started = Date()
      try solve(ratings, &users, &userBias, items, itemBias, mean, c)
      try solve(byItem, &items, &itemBias, users, userBias, mean, c)
      if let progress {
        let fitted = Fitted(
          globalMean: mean, factors: FactorModel(userFactors: users, itemFactors: items), userBias: userBias,
          itemBias: itemBias)
        var se = 0.0
        for u in 0..<ratings.rowCount {
          for k in ratings.rowStart[u]..<ratings.rowStart[u + 1] {
            let e = Double(ratings.values[k] - fitted.predict(user: u, item: Int(ratings.columns[k])))
            se += e * e
          }
        }
        progress(iteration, (se / Double(ratings.nonZeroCount)).squareRoot(), Date().timeIntervalSince(started))
      }
    }
    return Fitted(
      globalMean: mean, factors: FactorModel(userFactors: users, itemFactors: items), userBias: userBias,
      itemBias: itemBias)
  }

  /// Solves `[x, b]` for every row of `ratings` given the other side's factors and biases.
  static func solve(
    _ ratings: SparseMatrix, _ target: inout Matrix<Float>, _ targetBias: inout [Float], _ fixed: Matrix<Float>,
    _ fixedBias: [Float], _ mean: Float, _ c: Configuration
  ) throws(ModelingError) {
    let f = c.factors
    let n = f + 1
    try target.elements.withUnsafeMutableBufferPointer { (xb) throws(ModelingError) in
      try targetBias.withUnsafeMutableBufferPointer { (bb) throws(ModelingError) in
        let xp = UnsafeSendable(xb.baseAddress!)
        let bp = UnsafeSendable(bb.baseAddress!)
        try Parallel.forEachChunk(count: ratings.rowCount, threads: c.threads, chunk: 64) {
          (range, _) throws(ModelingError) in
          var a = [Double](repeating: 0, count: n * n)
          var rhs = [Double](repeating: 0, count: n)
          var z = [Double](repeating: 0, count: n)
          for u in range {
            let lo = ratings.rowStart[u]
            let hi = ratings.rowStart[u + 1]
            let count = Double(hi - lo)
            if hi == lo {
              for k in 0..<f { xp.value[u * f + k] = 0 }
              bp.value[u] = 0
              continue
            }
            for k in 0..<(n * n) { a[k] = 0 }
            for k in 0..<n { rhs[k] = 0 }
            for e in lo..<hi {
              let i = Int(ratings.columns[e])
              let t = Double(ratings.values[e] - mean - fixedBias[i])
              fixed.elements.withUnsafeBufferPointer { y in
                let yi = y.baseAddress! + i * f
                for r in 0..<f {
                  let yr = Double(yi[r])
                  rhs[r] += t * yr
                  for s in r..<f { a[r * n + s] += yr * Double(yi[s]) }
                  a[r * n + f] += yr
                }
              }
              rhs[f] += t
              a[f * n + f] += 1
            }
            for r in 0..<n { for s in 0..<r { a[r * n + s] = a[s * n + r] } }
            for d in 0..<f { a[d * n + d] += Double(c.regularization) * count }
            a[f * n + f] += Double(c.biasRegularization) * count
            do {
              let m = try Matrix<Double>(rows: n, columns: n, elements: a)
              let sol = try CholeskyFactorization(m).solve(Vector(rhs))
              for k in 0..<n { z[k] = sol[k] }
            } catch {
              throw .invalidArgument("biased ALS solve for row \(u): \(error)")
            }
            for k in 0..<f { xp.value[u * f + k] = Float(z[k]) }
            bp.value[u] = Float(z[f])
          }
        }
      }
    }
  }
}
