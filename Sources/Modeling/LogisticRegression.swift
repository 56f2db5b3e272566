import Foundation
import LinearAlgebra

#if canImport(Glibc)
  import Glibc
#endif

/// A dense design matrix for regression: `rows × columns` Doubles, row-major, column 0 the intercept (all ones).
public struct DesignMatrix: Sendable {
  public var rows: Int
  public var columns: Int
  public var values: [Double]

  /// A design matrix over row-major `values`.
  public init(rows: Int, columns: Int, values: [Double]) {
    precondition(values.count == rows * columns, "design matrix size")
    self.rows = rows
    self.columns = columns
    self.values = values
  }

  /// Only the rows in `indices`.
  public func subset(_ indices: [Int]) -> DesignMatrix {
    var out = [Double](repeating: 0, count: indices.count * columns)
    for (r, i) in indices.enumerated() {
      for c in 0..<columns { out[r * columns + c] = values[i * columns + c] }
    }
    return DesignMatrix(rows: indices.count, columns: columns, values: out)
  }

  /// Only the columns in `keep` (in that order).
  public func selectingColumns(_ keep: [Int]) -> DesignMatrix {
    var out = [Double](repeating: 0, count: rows * keep.count)
    for r in 0..<rows {
      for (k, c) in keep.enumerated() { out[r * keep.count + k] = values[r * columns + c] }
    }
    return DesignMatrix(rows: rows, columns: keep.count, values: out)
  }

  /// Keeps only the columns in `keep` (ascending), compacting the rows in place without a copy.
  public mutating func keepColumnsInPlace(_ keep: [Int]) {
    let width = keep.count
    values.withUnsafeMutableBufferPointer { v in
      for r in 0..<rows {
        for (k, c) in keep.enumerated() { v[r * width + k] = v[r * columns + c] }
      }
    }
    values.removeLast(values.count - rows * width)
    columns = width
  }

  /// `XᵀX` (columns × columns), by BLAS `syrk` on the values in place.
  public func gram() throws(ModelingError) -> Matrix<Double> {
    var g = Matrix<Double>(rows: columns, columns: columns)
    try values.withUnsafeBufferPointer { (v) throws(ModelingError) in
      try g.elements.withUnsafeMutableBufferPointer { (out) throws(ModelingError) in
        try ModelingError.wrapping { () throws(LinearAlgebraError) in
          try RawBLAS.syrkUpperTransposed(
            n: columns, k: rows, alpha: 1, a: v.baseAddress!, lda: columns, beta: 0, c: out.baseAddress!,
            ldc: columns)
        }
      }
    }
    for i in 0..<columns { for j in 0..<i { g.elements[i * columns + j] = g.elements[j * columns + i] } }
    return g
  }
}

/// Binary logistic regression fitted by Newton–IRLS (Cholesky solve, step halving), with optional L2,
/// or L1 / elastic-net penalties by coordinate descent on the IRLS quadratic (as glmnet does).
///
/// The objective minimized is
/// ```
/// −Σ [yᵢ ηᵢ − log(1 + e^ηᵢ)] + (l2/2)·Σⱼ βⱼ² + l1·Σⱼ |βⱼ|,    η = Xβ
/// ```
/// with the intercept (column 0) never penalized. Unpenalized fits give the maximum-likelihood estimates and
/// the usual Wald inference from the inverse Fisher information `(XᵀWX)⁻¹`, as statsmodels' `Logit` does.
public enum LogisticRegression {
  /// Hyperparameters.
  public struct Configuration: Sendable, Equatable, Codable {
    /// L2 penalty (ridge) on every coefficient but the intercept (default 0).
    public var l2 = 0.0
    /// L1 penalty (lasso) on every coefficient but the intercept (default 0).
    public var l1 = 0.0
    /// Newton iterations at most (default 100).
    public var maxIterations = 100
    /// Convergence: relative change of the objective below this (default 1e-10).
    public var tolerance = 1e-10

    /// The defaults (no penalty).
    public init() {}
  }

  /// A fitted model with its inference.
  public struct Fitted: Sendable, Codable {
    /// One coefficient per design column (intercept first).
    public var coefficients: [Double]
    /// Standard errors from the inverse (penalized) Hessian; approximate under a penalty.
    public var standardErrors: [Double]
    /// The covariance matrix (columns × columns, row-major).
    public var covariance: [Double]
    public var logLikelihood: Double
    public var nullLogLikelihood: Double
    public var iterations: Int
    public var converged: Bool
    public var observations: Int

    /// `σ(xᵀβ)` for one design row.
    public func probability(_ row: UnsafePointer<Double>) -> Double {
      var eta = 0.0
      for c in 0..<coefficients.count { eta += coefficients[c] * row[c] }
      return LogisticRegression.sigmoid(eta)
    }

    /// Probabilities for every row of `design` (one BLAS matrix-vector product, then the sigmoid).
    public func probabilities(_ design: DesignMatrix) throws(ModelingError) -> [Double] {
      try LogisticRegression.linearPredictor(design, coefficients).map(LogisticRegression.sigmoid)
    }
  }

  /// `1 / (1 + e^−η)`, stable for large |η|.
  @inlinable
  public static func sigmoid(_ eta: Double) -> Double {
    eta >= 0 ? 1 / (1 + exp(-eta)) : exp(eta) / (1 + exp(eta))
  }

  /// `log(1 + e^η)`, stable.
  @inlinable
  static func softplus(_ eta: Double) -> Double { eta > 0 ? eta + log1p(exp(-eta)) : log1p(exp(eta)) }

  static func logLikelihood(_ eta: [Double], _ y: [Bool], _ weights: [Double]? = nil) -> Double {
    var ll = 0.0
    if let weights {
      for i in eta.indices { ll += weights[i] * ((y[i] ? eta[i] : 0) - softplus(eta[i])) }
    } else {
      for i in eta.indices { ll += (y[i] ? eta[i] : 0) - softplus(eta[i]) }
    }
    return ll
  }

  public static func linearPredictor(_ x: DesignMatrix, _ beta: [Double]) throws(ModelingError) -> [Double] {
    var eta = [Double](repeating: 0, count: x.rows)
    try x.values.withUnsafeBufferPointer { (xv) throws(ModelingError) in
      try beta.withUnsafeBufferPointer { (b) throws(ModelingError) in
        try eta.withUnsafeMutableBufferPointer { (e) throws(ModelingError) in
          try ModelingError.wrapping { () throws(LinearAlgebraError) in
            try RawBLAS.gemv(
              transpose: false, m: x.rows, n: x.columns, alpha: 1, a: xv.baseAddress!, lda: x.columns,
              x: b.baseAddress!, beta: 0, y: e.baseAddress!)
          }
        }
      }
    }
    return eta
  }

  /// `XᵀWX` accumulated over blocks of rows (no n × p copy) by BLAS `syrk`.
  static func weightedGram(_ x: DesignMatrix, _ w: [Double]) throws(ModelingError) -> [Double] {
    let p = x.columns
    var h = [Double](repeating: 0, count: p * p)
    let block = 32_768
    var scaled = [Double](repeating: 0, count: min(block, max(x.rows, 1)) * p)
    try x.values.withUnsafeBufferPointer { (xv) throws(ModelingError) in
      try scaled.withUnsafeMutableBufferPointer { (sv) throws(ModelingError) in
        try h.withUnsafeMutableBufferPointer { (hv) throws(ModelingError) in
          var start = 0
          while start < x.rows {
            let n = min(block, x.rows - start)
            for r in 0..<n {
              let s = w[start + r].squareRoot()
              let src = xv.baseAddress! + (start + r) * p
              let dst = sv.baseAddress! + r * p
              for c in 0..<p { dst[c] = s * src[c] }
            }
            try ModelingError.wrapping { () throws(LinearAlgebraError) in
              try RawBLAS.syrkUpperTransposed(
                n: p, k: n, alpha: 1, a: sv.baseAddress!, lda: p, beta: 1, c: hv.baseAddress!, ldc: p)
            }
            start += n
          }
        }
      }
    }
    for i in 0..<p { for j in 0..<i { h[i * p + j] = h[j * p + i] } }
    return h
  }

  static func transposeTimes(_ x: DesignMatrix, _ r: [Double]) throws(ModelingError) -> [Double] {
    var out = [Double](repeating: 0, count: x.columns)
    try x.values.withUnsafeBufferPointer { (xv) throws(ModelingError) in
      try r.withUnsafeBufferPointer { (rv) throws(ModelingError) in
        try out.withUnsafeMutableBufferPointer { (o) throws(ModelingError) in
          try ModelingError.wrapping { () throws(LinearAlgebraError) in
            try RawBLAS.gemv(
              transpose: true, m: x.rows, n: x.columns, alpha: 1, a: xv.baseAddress!, lda: x.columns,
              x: rv.baseAddress!, beta: 0, y: o.baseAddress!)
          }
        }
      }
    }
    return out
  }

  static func penalty(_ beta: [Double], _ c: Configuration) -> Double {
    var s = 0.0
    for j in 1..<beta.count { s += 0.5 * c.l2 * beta[j] * beta[j] + c.l1 * abs(beta[j]) }
    return s
  }

  /// Fits `labels` on `design` (column 0 must be the intercept).
  /// - Parameter weights: a weight per example (e.g. to balance rare positives); `nil` for all 1.
  /// - Throws: `.empty`, `.lengthMismatch`, `.singleClass`, `.invalidArgument` for bad penalties, bad weights or a
  ///   singular information matrix (aliased columns must be removed first; see `aliasedColumns`).
  public static func fit(
    _ design: DesignMatrix, labels: [Bool], weights: [Double]? = nil, configuration c: Configuration = Configuration()
  ) throws(ModelingError) -> Fitted {
    guard design.rows > 0 else { throw .empty(what: "logistic regression") }
    guard labels.count == design.rows else {
      throw .lengthMismatch(what: "logistic regression labels", expected: design.rows, found: labels.count)
    }
    guard c.l1 >= 0, c.l2 >= 0, c.l1.isFinite, c.l2.isFinite else {
      throw .invalidArgument("penalties must be finite numbers ≥ 0 (l1 \(c.l1), l2 \(c.l2))")
    }
    if let weights {
      guard weights.count == design.rows else {
        throw .lengthMismatch(what: "logistic regression weights", expected: design.rows, found: weights.count)
      }
      for (i, w) in weights.enumerated() where !(w.isFinite && w >= 0) { throw .nonFinite(what: "weights", index: i) }
    }
    let positives = labels.lazy.filter { $0 }.count
    guard positives > 0, positives < labels.count else { throw .singleClass(what: "logistic regression") }
    let n = design.rows
    let p = design.columns
    var weightedPositives = 0.0
    var weightTotal = 0.0
    for i in 0..<n {
      let w = weights?[i] ?? 1
      weightTotal += w
      if labels[i] { weightedPositives += w }
    }
    let rate = weightedPositives / weightTotal
    let nullLL = weightedPositives * log(rate) + (weightTotal - weightedPositives) * log(1 - rate)
    var beta = [Double](repeating: 0, count: p)
    beta[0] = log(rate / (1 - rate))
    var eta = try linearPredictor(design, beta)
    var objective = -logLikelihood(eta, labels, weights) + penalty(beta, c)
    var converged = false
    var iterations = 0
    while iterations < c.maxIterations {
      iterations += 1
      var w = [Double](repeating: 0, count: n)
      var resid = [Double](repeating: 0, count: n)
      for i in 0..<n {
        let pr = sigmoid(eta[i])
        let sw = weights?[i] ?? 1
        w[i] = max(sw * pr * (1 - pr), 1e-12)
        resid[i] = sw * ((labels[i] ? 1 : 0) - pr)
      }
      var next: [Double]
      if c.l1 > 0 {
        next = coordinateDescent(design, labels, eta: eta, w: w, beta: beta, c, sampleWeights: weights)
      } else {
        var h = try weightedGram(design, w)
        var g = try transposeTimes(design, resid)
        for j in 1..<p {
          h[j * p + j] += c.l2
          g[j] -= c.l2 * beta[j]
        }
        let step: Vector<Double>
        do {
          step = try solveSymmetricPositiveDefinite(try Matrix(rows: p, columns: p, elements: h), Vector(g))
        } catch {
          throw .invalidArgument(
            "the information matrix is singular (\(error)); remove aliased columns or add an L2 penalty")
        }
        next = (0..<p).map { beta[$0] + step[$0] }
      }
      // Step halving until the objective does not increase.
      var t = 1.0
      var candidate = next
      var candidateEta = try linearPredictor(design, candidate)
      var candidateObjective = -logLikelihood(candidateEta, labels, weights) + penalty(candidate, c)
      var halvings = 0
      while !(candidateObjective <= objective + 1e-12 * abs(objective)) && halvings < 30 {
        t /= 2
        candidate = (0..<p).map { beta[$0] + t * (next[$0] - beta[$0]) }
        candidateEta = try linearPredictor(design, candidate)
        candidateObjective = -logLikelihood(candidateEta, labels, weights) + penalty(candidate, c)
        halvings += 1
      }
      let change = objective - candidateObjective
      let maxStep = zip(candidate, beta).map { abs($0 - $1) }.max() ?? 0
      if candidateObjective <= objective + 1e-12 * abs(objective) {
        beta = candidate
        eta = candidateEta
        objective = candidateObjective
      }
      if abs(change) <= c.tolerance * (abs(objective) + c.tolerance) || maxStep < 1e-10 {
        converged = true
        break
      }
    }
    // Inference at the solution: the inverse of the (penalized) Hessian.
    var w = [Double](repeating: 0, count: n)
    for i in 0..<n {
      let pr = sigmoid(eta[i])
      w[i] = (weights?[i] ?? 1) * pr * (1 - pr)
    }
    var h = try weightedGram(design, w)
    for j in 1..<p { h[j * p + j] += c.l2 }
    var covariance = [Double](repeating: .nan, count: p * p)
    if let factor = try? CholeskyFactorization(try Matrix(rows: p, columns: p, elements: h)),
      let inverse = try? factor.inverse()
    {
      covariance = inverse.elements
    }
    let se = (0..<p).map { covariance[$0 * p + $0].squareRoot() }
    return Fitted(
      coefficients: beta, standardErrors: se, covariance: covariance,
      logLikelihood: logLikelihood(eta, labels, weights),
      nullLogLikelihood: nullLL, iterations: iterations, converged: converged, observations: n)
  }

  /// One IRLS step of the elastic net: cyclic coordinate descent on the weighted least-squares
  /// approximation `½ Σ wᵢ (zᵢ − xᵢᵀβ)² + (l2/2)‖β‖² + l1‖β‖₁` at the current point.
  static func coordinateDescent(
    _ x: DesignMatrix, _ y: [Bool], eta: [Double], w: [Double], beta start: [Double], _ c: Configuration,
    sampleWeights: [Double]? = nil
  ) -> [Double] {
    let n = x.rows
    let p = x.columns
    var beta = start
    // Working residual r = z − η = (y − p) / (p(1 − p)); w carries the sample weights too.
    var r = [Double](repeating: 0, count: n)
    for i in 0..<n { r[i] = (sampleWeights?[i] ?? 1) * ((y[i] ? 1 : 0) - sigmoid(eta[i])) / w[i] }
    var xwx = [Double](repeating: 0, count: p)
    x.values.withUnsafeBufferPointer { xv in
      for i in 0..<n { for j in 0..<p { xwx[j] += w[i] * xv[i * p + j] * xv[i * p + j] } }
      for _ in 0..<50 {
        var maxChange = 0.0
        for j in 0..<p {
          var rho = 0.0
          for i in 0..<n { rho += w[i] * xv[i * p + j] * r[i] }
          rho += xwx[j] * beta[j]
          var updated: Double
          if j == 0 {
            updated = rho / xwx[j]
          } else {
            let shrunk = abs(rho) > c.l1 ? (abs(rho) - c.l1) * (rho > 0 ? 1 : -1) : 0
            updated = shrunk / (xwx[j] + c.l2)
          }
          let delta = updated - beta[j]
          if delta != 0 {
            for i in 0..<n { r[i] -= delta * xv[i * p + j] }
            beta[j] = updated
            maxChange = max(maxChange, abs(delta))
          }
        }
        if maxChange < 1e-9 { break }
      }
    }
    return beta
  }

  /// Columns of `design` that are (numerically) linear combinations of earlier columns, found by a
  /// Cholesky factorization of the correlation-scaled Gram matrix that skips each column whose remaining
  /// variance falls below `tolerance` (as R's `glm` reports aliased coefficients as NA).
  public static func aliasedColumns(_ design: DesignMatrix, tolerance: Double = 1e-9) throws(ModelingError) -> [Int] {
    let p = design.columns
    let g = try design.gram().elements
    var scale = [Double](repeating: 1, count: p)
    for j in 0..<p { scale[j] = g[j * p + j] > 0 ? 1 / g[j * p + j].squareRoot() : 0 }
    var l = [Double](repeating: 0, count: p * p)
    var kept: [Int] = []
    var aliased: [Int] = []
    for j in 0..<p {
      if scale[j] == 0 {
        aliased.append(j)
        continue
      }
      // Solve L v = g_j (restricted to kept columns), residual d = g_jj − ‖v‖².
      var v = [Double](repeating: 0, count: kept.count)
      for (a, ka) in kept.enumerated() {
        var s = g[ka * p + j] * scale[ka] * scale[j]
        for b in 0..<a { s -= l[a * p + b] * v[b] }
        v[a] = s / l[a * p + a]
      }
      let d = 1 - v.reduce(0) { $0 + $1 * $1 }
      if d <= tolerance {
        aliased.append(j)
        continue
      }
      let row = kept.count
      for b in 0..<row { l[row * p + b] = v[b] }
      l[row * p + row] = d.squareRoot()
      kept.append(j)
    }
    return aliased
  }
}
