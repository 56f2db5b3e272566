import Foundation
import LinearAlgebra

/// Logistic regression with quadratic penalties on blocks of coefficients — the fit of a generalized additive
/// model whose smooth terms are penalized regression splines — with each block's smoothing parameter chosen by
/// restricted maximum likelihood (Laplace approximation), through the generalized Fellner–Schall update of
/// Wood & Fasiolo (2017, Biometrics 73: 1071–1081):
///
/// `λ_j ← (r_j − λ_j·tr(V·S_j)) / (β̂ᵀ·S_j·β̂)`, with `V = (XᵀWX + Σ λ_j S_j)⁻¹` and `r_j` the rank of `S_j`,
///
/// alternated with penalized iteratively reweighted least squares (Newton steps with step halving) at fixed
/// λ until both settle. Inference follows Wood (2017, *Generalized Additive Models*, 2nd ed., §6.10): `V` is the
/// Bayesian covariance of the coefficients, a block's effective degrees of freedom is the trace of its block
/// of `F = V·XᵀWX`.
public enum PenalizedLogisticRegression {
  /// One penalized block: the columns it covers and its penalty matrix (`columns.count²`, row-major).
  public struct Penalty: Sendable {
    public var columns: Range<Int>
    public var matrix: [Double]
    public var rank: Int

    public init(columns: Range<Int>, matrix: [Double], rank: Int) {
      precondition(matrix.count == columns.count * columns.count)
      self.columns = columns
      self.matrix = matrix
      self.rank = rank
    }
  }

  public struct Options: Sendable {
    /// Most smoothing-parameter updates.
    public var maxOuterIterations = 100
    /// Most Newton steps per update (the first fit from zero takes the most).
    public var maxInnerIterations = 50
    /// Convergence of log λ between updates.
    public var lambdaTolerance = 1e-3
    /// Smoothing parameters to use as they are (no selection), in units of the scaled penalties.
    public var fixedLambdas: [Double]? = nil
    /// Above this many rows, smoothing parameters are selected on an evenly spread subsample of this size and
    /// the model is then fitted on every row with them (scaled by the ratio of sizes).
    public var selectionRows = 50_000

    public init() {}
  }

  public struct Fitted: Sendable {
    public var coefficients: [Double]
    /// Per penalty, its smoothing parameter (for the penalty as given, times `scales`).
    public var lambdas: [Double]
    /// Per penalty, the factor its matrix was multiplied by (so that λ = 1 balances it with the data).
    public var scales: [Double]
    /// The Bayesian covariance `V` (p × p, row-major).
    public var covariance: [Double]
    /// Per penalty: effective and reference degrees of freedom (`tr(F)` and `tr(2F − F²)` over its block).
    public var edf: [Double]
    public var referenceDF: [Double]
    /// Effective degrees of freedom of the whole model (parametric columns count one each).
    public var totalEDF: Double
    public var deviance: Double
    public var nullDeviance: Double
    public var converged: Bool
    public var outerIterations: Int
  }

  /// Fits `x` (column 0 the intercept) to `labels` with `penalties` on disjoint column blocks.
  public static func fit(
    _ x: DesignMatrix, labels: [Bool], penalties: [Penalty], options o: Options = Options()
  ) throws -> Fitted {
    let n = x.rows
    let p = x.columns
    precondition(labels.count == n && n > 0)
    let positives = Double(labels.lazy.filter { $0 }.count)
    let mean = min(max(positives / Double(n), 1e-6), 1 - 1e-6)
    let nullDeviance = -2 * (positives * log(mean) + (Double(n) - positives) * log(1 - mean))
    // Penalties scaled to the data: ‖S_j‖ matched to ‖(XᵀX)_jj‖ / n times the rows (so λ ≈ 1 is moderate).
    let gram = try LogisticRegression.weightedGram(x, [Double](repeating: 0.25, count: n))
    var scales: [Double] = []
    for pen in penalties {
      var g = 0.0
      var s = 0.0
      for (a, i) in pen.columns.enumerated() {
        for (b, j) in pen.columns.enumerated() {
          g += gram[i * p + j] * gram[i * p + j]
          s += pen.matrix[a * pen.columns.count + b] * pen.matrix[a * pen.columns.count + b]
        }
      }
      scales.append(s > 0 ? (g / s).squareRoot() : 1)
    }
    var beta = [Double](repeating: 0, count: p)
    beta[0] = log(mean / (1 - mean))
    var lambdas = o.fixedLambdas ?? [Double](repeating: 1, count: penalties.count)
    var converged = true
    var outer = 0
    if o.fixedLambdas == nil {
      // Selection, on a subsample of a large file.
      var xs = x
      var ys = labels
      var ratio = 1.0
      if n > o.selectionRows {
        let step = Double(n) / Double(o.selectionRows)
        let rows = (0..<o.selectionRows).map { Int(Double($0) * step) }
        xs = x.subset(rows)
        ys = rows.map { labels[$0] }
        ratio = Double(n) / Double(rows.count)
      }
      let state = State(x: xs, y: ys, penalties: penalties, scales: scales)
      converged = false
      var previous = beta
      for iteration in 1...o.maxOuterIterations {
        outer = iteration
        // One Newton step per update of λ (the "performance iteration"): the Hessian it factors also gives V.
        let v = try state.newtonStep(&beta, lambdas: lambdas)
        // Converged when the last update of λ moved no customer's log-odds by more than 1e-3: a λ still creeping
        // toward a term's null space (or oscillating there) no longer changes the fit.
        if iteration > 1 {
          let delta = try LogisticRegression.linearPredictor(xs, zip(beta, previous).map { $0 - $1 })
          if delta.allSatisfy({ abs($0) < 1e-3 }) {
            converged = true
            break
          }
        }
        previous = beta
        var change = 0.0
        for (j, pen) in penalties.enumerated() {
          let m = pen.columns.count
          var trace = 0.0
          var quadratic = 0.0
          for (a, i) in pen.columns.enumerated() {
            for (b, k) in pen.columns.enumerated() {
              let s = scales[j] * pen.matrix[a * m + b]
              trace += v[k * p + i] * s
              quadratic += beta[i] * s * beta[k]
            }
          }
          let numerator = max(Double(pen.rank) - lambdas[j] * trace, 1e-10)
          let updated = min(max(numerator / max(quadratic, 1e-12), 1e-8), 1e8)
          // A λ past 1e5 before and after has flattened its term onto the penalty's null space (a straight line
          // for a spline): more changes nothing, so it does not hold up convergence.
          if !(updated > 1e5 && lambdas[j] > 1e5) { change = max(change, abs(log(updated / lambdas[j]))) }
          lambdas[j] = updated
        }
        if change < o.lambdaTolerance {
          converged = true
          break
        }
      }
      if ratio != 1 { lambdas = lambdas.map { $0 * ratio } }
    }
    // The final fit on every row at the chosen λ, and its inference.
    let state = State(x: x, y: labels, penalties: penalties, scales: scales)
    let innerConverged = try state.newton(&beta, lambdas: lambdas, maxIterations: o.maxInnerIterations)
    let (v, h) = try state.inverseHessianAndGram(beta, lambdas: lambdas)
    // F = V·XᵀWX: its block traces are the effective degrees of freedom.
    var f = [Double](repeating: 0, count: p * p)
    try v.withUnsafeBufferPointer { (pv) throws(ModelingError) in
      try h.withUnsafeBufferPointer { (ph) throws(ModelingError) in
        try f.withUnsafeMutableBufferPointer { (pf) throws(ModelingError) in
          try ModelingError.wrapping { () throws(LinearAlgebraError) in
            try RawBLAS.gemm(
              transposeA: false, transposeB: false, m: p, n: p, k: p, alpha: 1, a: pv.baseAddress!, lda: p,
              b: ph.baseAddress!, ldb: p, beta: 0, c: pf.baseAddress!, ldc: p)
          }
        }
      }
    }
    var edf: [Double] = []
    var referenceDF: [Double] = []
    var penalized = Set<Int>()
    for pen in penalties {
      var e = 0.0
      var ff = 0.0
      for i in pen.columns {
        penalized.insert(i)
        e += f[i * p + i]
        for k in pen.columns { ff += f[i * p + k] * f[k * p + i] }
      }
      edf.append(e)
      referenceDF.append(min(max(2 * e - ff, e), Double(pen.columns.count)))
    }
    var total = 0.0
    for i in 0..<p { total += penalized.contains(i) ? f[i * p + i] : 1 }
    let eta = try LogisticRegression.linearPredictor(x, beta)
    let deviance = -2 * LogisticRegression.logLikelihood(eta, labels)
    return Fitted(
      coefficients: beta, lambdas: lambdas, scales: scales, covariance: v, edf: edf, referenceDF: referenceDF,
      totalEDF: total, deviance: deviance, nullDeviance: nullDeviance, converged: converged && innerConverged,
      outerIterations: outer)
  }

  /// The data and penalties of one fit, with its working buffers.
  struct State {
    let x: DesignMatrix
    let y: [Bool]
    let penalties: [Penalty]
    let scales: [Double]

    /// `Σ λ_j·scale_j·S_j` added into the `p × p` matrix `h`.
    func addPenalty(_ h: inout [Double], lambdas: [Double]) {
      let p = x.columns
      for (j, pen) in penalties.enumerated() {
        let m = pen.columns.count
        let c = lambdas[j] * scales[j]
        for (a, i) in pen.columns.enumerated() {
          for (b, k) in pen.columns.enumerated() { h[i * p + k] += c * pen.matrix[a * m + b] }
        }
      }
    }

    /// `Sλ·β` subtracted from `g` (the penalty's gradient), block by block.
    func subtractPenaltyGradient(_ g: inout [Double], _ beta: [Double], lambdas: [Double]) {
      for (j, pen) in penalties.enumerated() {
        let m = pen.columns.count
        let c = lambdas[j] * scales[j]
        for (a, i) in pen.columns.enumerated() {
          var sum = 0.0
          for (b, k) in pen.columns.enumerated() { sum += pen.matrix[a * m + b] * beta[k] }
          g[i] -= c * sum
        }
      }
    }

    func penaltyValue(_ beta: [Double], lambdas: [Double]) -> Double {
      var total = 0.0
      for (j, pen) in penalties.enumerated() {
        let m = pen.columns.count
        var q = 0.0
        for (a, i) in pen.columns.enumerated() {
          for (b, k) in pen.columns.enumerated() { q += beta[i] * pen.matrix[a * m + b] * beta[k] }
        }
        total += lambdas[j] * scales[j] * q
      }
      return total
    }

    func penalizedDeviance(_ beta: [Double], lambdas: [Double]) throws(ModelingError) -> Double {
      let eta = try LogisticRegression.linearPredictor(x, beta)
      return -2 * LogisticRegression.logLikelihood(eta, y) + penaltyValue(beta, lambdas: lambdas)
    }

    /// One Newton step on the penalized deviance from `beta`, whose penalized deviance is `current`, halved until
    /// it does not raise it (`beta` is left as it is when no halving does). Returns the Cholesky factor of the
    /// penalized Hessian at the starting `beta` and the penalized deviance after the step.
    func step(_ beta: inout [Double], lambdas: [Double], current: Double) throws -> (
      factor: CholeskyFactorization<Double>, value: Double
    ) {
      let p = x.columns
      let eta = try LogisticRegression.linearPredictor(x, beta)
      var w = [Double](repeating: 0, count: x.rows)
      var r = [Double](repeating: 0, count: x.rows)
      for i in 0..<x.rows {
        let mu = LogisticRegression.sigmoid(eta[i])
        w[i] = max(mu * (1 - mu), 1e-10)
        r[i] = (y[i] ? 1 : 0) - mu
      }
      var h = try LogisticRegression.weightedGram(x, w)
      addPenalty(&h, lambdas: lambdas)
      for i in 0..<p { h[i * p + i] += 1e-9 }
      var g = try LogisticRegression.transposeTimes(x, r)
      subtractPenaltyGradient(&g, beta, lambdas: lambdas)
      let factor = try Self.factorize(h, order: p)
      let direction = try factor.solve(Vector(g)).elements
      var scale = 1.0
      var next = beta
      for _ in 0..<30 {
        for i in 0..<p { next[i] = beta[i] + scale * direction[i] }
        let value = try penalizedDeviance(next, lambdas: lambdas)
        if value <= current + 1e-12 * abs(current) {
          beta = next
          return (factor, value)
        }
        scale /= 2
      }
      return (factor, current)
    }

    /// Newton steps from `beta` until the penalized deviance stops falling. Returns whether it converged.
    @discardableResult
    func newton(_ beta: inout [Double], lambdas: [Double], maxIterations: Int) throws -> Bool {
      var current = try penalizedDeviance(beta, lambdas: lambdas)
      for _ in 0..<maxIterations {
        let value = try step(&beta, lambdas: lambdas, current: current).value
        let improvement = current - value
        current = value
        if improvement < 1e-8 * (abs(current) + 0.1) { return true }
      }
      return false
    }

    /// One Newton step from `beta` (the "performance iteration" of smoothing selection); returns
    /// `V = (XᵀWX + Sλ)⁻¹` at the `beta` it started from.
    func newtonStep(_ beta: inout [Double], lambdas: [Double]) throws -> [Double] {
      try step(&beta, lambdas: lambdas, current: try penalizedDeviance(beta, lambdas: lambdas)).factor.inverse()
        .elements
    }

    /// `V = (XᵀWX + Sλ)⁻¹` and `XᵀWX` at `beta`.
    func inverseHessianAndGram(_ beta: [Double], lambdas: [Double]) throws -> ([Double], [Double]) {
      let p = x.columns
      let eta = try LogisticRegression.linearPredictor(x, beta)
      let w = eta.map { e -> Double in
        let mu = LogisticRegression.sigmoid(e)
        return max(mu * (1 - mu), 1e-10)
      }
      let gram = try LogisticRegression.weightedGram(x, w)
      var h = gram
      addPenalty(&h, lambdas: lambdas)
      for i in 0..<p { h[i * p + i] += 1e-9 }
      let v = try Self.factorize(h, order: p).inverse().elements
      return (v, gram)
    }

    /// The Cholesky factor of the penalized Hessian `h`. A design with fewer rows than unpenalized directions (a
    /// few dozen customers, a factor with many levels) leaves `h` singular where the plain logistic regression
    /// drops its aliased columns: then a ridge of 1e-8, 1e-6, then 1e-4 times the largest diagonal is added to all
    /// of it, damping the step (the step halving keeps each one a descent) instead of failing the fit. A Hessian
    /// that factors as it is is used as it is.
    static func factorize(_ h: [Double], order p: Int) throws -> CholeskyFactorization<Double> {
      let matrix = try Matrix(rows: p, columns: p, elements: h)
      if let factor = try? CholeskyFactorization(matrix) { return factor }
      let largest = max((0..<p).map { abs(h[$0 * p + $0]) }.max() ?? 1, 1e-12)
      for scale in [1e-8, 1e-6, 1e-4] {
        var damped = h
        for i in 0..<p { damped[i * p + i] += scale * largest }
        if let factor = try? CholeskyFactorization(try Matrix(rows: p, columns: p, elements: damped)) {
          return factor
        }
      }
      return try CholeskyFactorization(matrix)
    }
  }
}
