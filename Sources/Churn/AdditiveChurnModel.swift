import Foundation
import LinearAlgebra
import Modeling

/// A penalized generalized additive logistic model of churn: parametric main effects for categorical and boolean
/// columns (and numbers with few values), a penalized cubic regression spline (P-spline) for each number, and
/// pairwise interactions found on the residuals — tensor products of two numbers, by-level smooths of a number for
/// each level of a categorical or boolean column. Smoothing parameters are chosen by REML (`PenalizedLogisticRegression`).
public struct AdditiveChurnModel: Codable, Sendable, Equatable {
  /// Model features (indices into `ChurnModel.features`) entering as parametric columns, in design order after
  /// the intercept; their coefficients are on the standardized scale, as the linear model's.
  public var parametric: [Int]
  /// Intercept, then one coefficient per parametric feature.
  public var parametricCoefficients: [Double]
  /// Their covariance (the parametric block of the Bayesian covariance).
  public var parametricCovariance: [Double]
  public var smooths: [SmoothTerm]
  /// Factors fitted as random effects (their indicators are parametric columns, ridge-penalized).
  public var factors: [FactorTerm] = []
  /// Numeric columns left out of the model because another one carries the same information, with it.
  public var duplicates: [String: String]
  public var deviance: Double
  public var nullDeviance: Double
  public var totalEDF: Double
  /// The rows the fit saw (a subsample of a large file) and the file's rows.
  public var fittedRows: Int
  public var trainingRows: Int

  public var devianceExplained: Double { nullDeviance > 0 ? 1 - deviance / nullDeviance : 0 }
  /// `deviance + 2·edf`.
  public var aic: Double { deviance + 2 * totalEDF }

  /// The design width: intercept, parametric columns, every smooth's columns.
  var width: Int { 1 + parametric.count + smooths.reduce(0) { $0 + $1.width } }

  /// Writes the design row of a customer whose raw feature values (before standardization) are `raw` into
  /// `out` (`width` values).
  func designRow(
    raw: UnsafePointer<Double>, features: [Feature], into out: UnsafeMutablePointer<Double>
  ) {
    out[0] = 1
    for (k, f) in parametric.enumerated() { out[1 + k] = (raw[f] - features[f].mean) / features[f].sd }
    var offset = 1 + parametric.count
    for term in smooths {
      term.basis(raw: raw, into: out + offset)
      offset += term.width
    }
  }
}

/// A factor fitted as a random effect: its indicators (a range of the parametric columns) under a ridge penalty
/// whose λ REML chooses, reported like a smooth term.
public struct FactorTerm: Codable, Sendable, Equatable {
  public var name: String
  public var column: Int
  /// Its indicators among `AdditiveChurnModel.parametric`.
  public var parametric: Range<Int>
  public var lambda = 0.0
  public var edf = 0.0
  public var referenceDF = 0.0
  public var chiSquared = 0.0
  public var pValue = 1.0
}

/// One smooth term of the additive model.
public struct SmoothTerm: Codable, Sendable, Equatable {
  public enum Kind: String, Codable, Sendable {
    /// `s(x)`: a smooth of one number.
    case main
    /// `ti(x,z)`: the interaction of two numbers beyond their main effects (tensor product of centered bases).
    case tensor
    /// `s(x):level`: the deviation of a number's smooth for the rows of one level (a categorical column's level
    /// or a boolean column's true value), centered within that level.
    case byLevel
  }

  public var kind: Kind
  public var name: String
  /// The input columns (indices into `ChurnModel.columns`): the number, then the second number or the factor.
  public var columns: [Int]
  /// The features giving the raw values: the number's value, then the second number's value or the level's
  /// indicator.
  public var features: [Int]
  /// One basis (two for a tensor product).
  public var bases: [PSpline]
  public var coefficients: [Double] = []
  public var covariance: [Double] = []
  public var lambda = 0.0
  public var edf = 0.0
  public var referenceDF = 0.0
  public var chiSquared = 0.0
  public var pValue = 1.0
  /// The term's mean over the training rows (reasons are measured from it).
  public var meanEffect = 0.0

  public var width: Int { kind == .tensor ? bases[0].width * bases[1].width : bases[0].width }

  /// The penalty matrix on the term's columns and its rank.
  func penalty() throws(ModelingError) -> (matrix: [Double], rank: Int) {
    switch kind {
    case .main, .byLevel:
      return (try bases[0].penalty(), bases[0].count - 2)
    case .tensor:
      let (a, b) = (bases[0].width, bases[1].width)
      let sa = try bases[0].penalty()
      let sb = try bases[1].penalty()
      let m = a * b
      var s = [Double](repeating: 0, count: m * m)
      // S_a ⊗ I_b + I_a ⊗ S_b (columns ordered a-major).
      for i in 0..<a {
        for k in 0..<a where sa[i * a + k] != 0 {
          for j in 0..<b { s[(i * b + j) * m + (k * b + j)] += sa[i * a + k] }
        }
      }
      for i in 0..<a {
        for j in 0..<b {
          for l in 0..<b where sb[j * b + l] != 0 { s[(i * b + j) * m + (i * b + l)] += sb[j * b + l] }
        }
      }
      return (s, m - 1)
    }
  }

  /// The term's basis at a customer's raw feature values, `width` values into `out`.
  @inline(__always)
  func basis(raw: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
    basis(raw[features[0]], features.count > 1 ? raw[features[1]] : 0, into: out)
  }

  /// The term's basis at `x` and (tensor) `z` or (by-level) the level's 0/1 indicator.
  @inline(__always)
  func basis(_ x: Double, _ z: Double, into out: UnsafeMutablePointer<Double>) {
    switch kind {
    case .main:
      bases[0].constrained(x, into: out)
    case .byLevel:
      bases[0].constrained(x, into: out)
      if z == 0 { for k in 0..<width { out[k] = 0 } }
    case .tensor:
      let (a, b) = (bases[0].width, bases[1].width)
      withUnsafeTemporaryAllocation(of: Double.self, capacity: a + b) { buffer in
        let bx = buffer.baseAddress!
        let bz = bx + a
        bases[0].constrained(x, into: bx)
        bases[1].constrained(z, into: bz)
        for i in 0..<a { for j in 0..<b { out[i * b + j] = bx[i] * bz[j] } }
      }
    }
  }

  /// The coefficients on the unconstrained B-spline basis (`Z·γ`; for a tensor product `Z_x·Γ·Z_zᵀ`, row-major
  /// `count_x × count_z`): with them a term's effect needs only the 4 (or 4 × 4) basis functions that are nonzero
  /// at the value, which is how scoring evaluates it.
  ///
  /// - Throws: when the term's parts disagree in size (a damaged or hand-edited stored model).
  public func unconstrainedCoefficients() throws(ModelingError) -> [Double] {
    guard bases.count == (kind == .tensor ? 2 : 1) || (kind != .tensor && !bases.isEmpty) else {
      throw .invalidArgument("the term '\(name)' has \(bases.count) bases")
    }
    return try ModelingError.wrapping { () throws(LinearAlgebraError) in
      let zx = try Matrix(rows: bases[0].count, columns: bases[0].width, elements: bases[0].constraint)
      switch kind {
      case .main, .byLevel:
        return try zx.multiplied(by: Vector(coefficients)).elements
      case .tensor:
        let zz = try Matrix(rows: bases[1].count, columns: bases[1].width, elements: bases[1].constraint)
        let gamma = try Matrix(rows: bases[0].width, columns: bases[1].width, elements: coefficients)
        return try Matrix.product(try Matrix.product(zx, gamma), zz, transposeB: true).elements
      }
    }
  }

  /// The term's effect on the log-odds at `x` and `z`, and its standard error.
  public func effect(_ x: Double, _ z: Double = 1) -> (value: Double, standardError: Double) {
    let w = width
    return withUnsafeTemporaryAllocation(of: Double.self, capacity: w) { buffer in
      let b = buffer.baseAddress!
      basis(x, z, into: b)
      var value = 0.0
      for k in 0..<w { value += b[k] * coefficients[k] }
      var variance = 0.0
      for i in 0..<w where b[i] != 0 {
        for j in 0..<w where b[j] != 0 { variance += b[i] * covariance[i * w + j] * b[j] }
      }
      return (value, max(variance, 0).squareRoot())
    }
  }
}

/// Settings of the additive fit.
public struct AdditiveOptions: Sendable {
  /// Basis functions per smooth of one number (REML keeps only the wiggliness the data support).
  public var basisSize = 20
  /// Basis functions per number in a tensor product or by-level smooth.
  public var interactionBasisSize = 8
  /// Most interaction pairs (each listed by `churn train`).
  public var interactions = 10
  /// A pair is kept only when its score statistic's standardized excess over its degrees of freedom is at least
  /// this (noise pairs score about 0).
  public var interactionThreshold = 2.0
  /// Above this many rows the model is fitted on an evenly spread subsample of this size.
  public var fitRows = 100_000
  /// Numbers with fewer distinct values than this stay linear.
  public var minimumDistinct = 5
  /// Whether each number's knots are placed on its values or its quantile scale by the lower AIC of its smooth
  /// alone (else always on its values).
  public var chooseKnotScale = true
  /// Factors with more levels than this are not tried in interactions.
  public var maximumInteractionLevels = 12

  public init() {}
}

/// Fitting the additive model on an encoded training design.
enum AdditiveFit {
  /// The data the additive model is built from: rows of the encoded (standardized, intercept first) design `x`,
  /// read back in raw units on demand — the training file is not copied, and a subsample holds only its indices.
  struct Data {
    let x: DesignMatrix
    /// The rows of `x` this data set holds, and their labels.
    var index: [Int]
    var labels: [Bool]
    let features: [Feature]
    let columns: [ColumnSpec]

    init(x: DesignMatrix, labels: [Bool], features: [Feature], columns: [ColumnSpec]) {
      self.x = x
      index = Array(0..<x.rows)
      self.labels = labels
      self.features = features
      self.columns = columns
    }

    var rows: Int { index.count }

    /// Feature `k`'s raw value in row `i`.
    @inline(__always)
    func raw(_ i: Int, _ k: Int) -> Double {
      x.values[index[i] * x.columns + 1 + k] * features[k].sd + features[k].mean
    }

    /// Every feature's raw value in row `i`, into `out`.
    @inline(__always)
    func raw(_ i: Int, into out: UnsafeMutablePointer<Double>) {
      x.values.withUnsafeBufferPointer { v in
        let row = v.baseAddress! + index[i] * x.columns + 1
        for k in 0..<features.count { out[k] = row[k] * features[k].sd + features[k].mean }
      }
    }

    /// Only the rows in `indices` (positions in this data set).
    func subset(_ indices: [Int]) -> Data {
      var d = self
      d.index = indices.map { index[$0] }
      d.labels = indices.map { labels[$0] }
      return d
    }

    func values(_ feature: Int) -> [Double] { (0..<rows).map { raw($0, feature) } }
  }

  /// The main-effects structure: which numbers get a smooth, which are duplicates, the rest parametric.
  static func mainTerms(_ d: Data, options o: AdditiveOptions) -> (
    parametric: [Int], smooths: [SmoothTerm], duplicates: [String: String]
  ) {
    var parametric: [Int] = []
    var smooths: [SmoothTerm] = []
    var duplicates: [String: String] = [:]
    var smoothed: [(feature: Int, values: [Double])] = []
    for (k, feature) in d.features.enumerated() {
      guard feature.role == .value, d.columns[feature.column].kind == .numeric else {
        parametric.append(k)
        continue
      }
      let values = d.values(k)
      let distinct = Set(values).count
      guard distinct >= o.minimumDistinct else {
        parametric.append(k)
        continue
      }
      if let twin = smoothed.first(where: { abs(correlation($0.values, values)) > 0.999 }) {
        duplicates[d.columns[feature.column].name] = d.columns[d.features[twin.feature].column].name
        continue
      }
      smoothed.append((k, values))
      let count = min(o.basisSize, max(4, distinct))
      var basis = PSpline(values: values, count: count)
      if o.chooseKnotScale {
        // Knots equally spaced on the values or on their quantile scale: whichever fits the number alone better
        // (a skewed number bends where its values are dense; another where they are few).
        let warped = PSpline(values: values, count: count, warped: true)
        if univariateDeviance(values, labels: d.labels, basis: warped)
          < univariateDeviance(values, labels: d.labels, basis: basis)
        {
          basis = warped
        }
      }
      smooths.append(
        SmoothTerm(
          kind: .main, name: "s(\(d.columns[feature.column].name))", columns: [feature.column], features: [k],
          bases: [basis]))
    }
    return (parametric, smooths, duplicates)
  }

  /// The deviance of the target modelled by one number alone as an unpenalized regression spline of
  /// `knotScaleBasis` functions on `basis`'s knot scale (infinite when the fit fails): both scales spend the same
  /// degrees of freedom, so the lower deviance is the better placement, at a fraction of a penalized fit's cost.
  static func univariateDeviance(_ values: [Double], labels: [Bool], basis: PSpline) -> Double {
    let small = PSpline(
      lower: basis.lower, upper: basis.upper, count: min(knotScaleBasis, basis.count), centeredOn: values,
      warp: basis.warp)
    let w = small.width + 1
    var x = [Double](repeating: 0, count: values.count * w)
    x.withUnsafeMutableBufferPointer { out in
      for (i, v) in values.enumerated() {
        out[i * w] = 1
        small.constrained(v, into: out.baseAddress! + i * w + 1)
      }
    }
    guard
      let fitted = try? LogisticRegression.fit(
        DesignMatrix(rows: values.count, columns: w, values: x), labels: labels),
      fitted.logLikelihood.isFinite
    else { return .infinity }
    return -2 * fitted.logLikelihood
  }

  /// Basis functions of the regression splines that choose a number's knot scale.
  static let knotScaleBasis = 8

  static func correlation(_ a: [Double], _ b: [Double]) -> Double {
    let n = Double(a.count)
    let ma = a.reduce(0, +) / n
    let mb = b.reduce(0, +) / n
    var sab = 0.0
    var saa = 0.0
    var sbb = 0.0
    for i in a.indices {
      sab += (a[i] - ma) * (b[i] - mb)
      saa += (a[i] - ma) * (a[i] - ma)
      sbb += (b[i] - mb) * (b[i] - mb)
    }
    return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : 0
  }

  /// The design matrix of `terms` on `d`.
  static func design(_ d: Data, parametric: [Int], smooths: [SmoothTerm]) -> DesignMatrix {
    let model = AdditiveChurnModel(
      parametric: parametric, parametricCoefficients: [], parametricCovariance: [], smooths: smooths, factors: [],
      duplicates: [:], deviance: 0, nullDeviance: 0, totalEDF: 0, fittedRows: 0, trainingRows: 0)
    let w = model.width
    var values = [Double](repeating: 0, count: d.rows * w)
    values.withUnsafeMutableBufferPointer { v in
      withUnsafeTemporaryAllocation(of: Double.self, capacity: max(d.features.count, 1)) { raw in
        for i in 0..<d.rows {
          d.raw(i, into: raw.baseAddress!)
          model.designRow(raw: raw.baseAddress!, features: d.features, into: v.baseAddress! + i * w)
        }
      }
    }
    return DesignMatrix(rows: d.rows, columns: w, values: values)
  }

  /// Fits the terms and fills in their coefficients and inference.
  static func fit(_ d: Data, parametric: [Int], smooths: [SmoothTerm], duplicates: [String: String], trainingRows: Int)
    throws -> AdditiveChurnModel
  {
    let x = design(d, parametric: parametric, smooths: smooths)
    var penalties: [PenalizedLogisticRegression.Penalty] = []
    var offset = 1 + parametric.count
    for term in smooths {
      let (matrix, rank) = try term.penalty()
      penalties.append(.init(columns: offset..<(offset + term.width), matrix: matrix, rank: rank))
      offset += term.width
    }
    // Factors of four or more levels as random effects: a ridge on their indicators, its λ chosen by REML with
    // the smooths' (mgcv's `s(f, bs = "re")`). Many levels, each seen by few customers, no longer each get an
    // unpenalized coefficient.
    var factorPenalties: [PenalizedLogisticRegression.Penalty] = []
    var factors: [FactorTerm] = []
    var j = 0
    while j < parametric.count {
      let column = d.features[parametric[j]].column
      var end = j
      while end < parametric.count && d.features[parametric[end]].column == column
        && d.features[parametric[end]].role != .missing
      {
        end += 1
      }
      let m = end - j
      if d.columns[column].kind == .categorical && m >= 3 {
        var eye = [Double](repeating: 0, count: m * m)
        for a in 0..<m { eye[a * m + a] = 1 }
        factorPenalties.append(.init(columns: (1 + j)..<(1 + end), matrix: eye, rank: m))
        factors.append(FactorTerm(name: "re(\(d.columns[column].name))", column: column, parametric: j..<end))
      }
      j = max(end, j + 1)
    }
    let fitted = try PenalizedLogisticRegression.fit(x, labels: d.labels, penalties: penalties + factorPenalties)
    let p = x.columns
    var terms = smooths
    offset = 1 + parametric.count
    for (j, var term) in terms.enumerated() {
      let w = term.width
      term.coefficients = Array(fitted.coefficients[offset..<(offset + w)])
      var block = [Double](repeating: 0, count: w * w)
      for a in 0..<w { for b in 0..<w { block[a * w + b] = fitted.covariance[(offset + a) * p + offset + b] } }
      term.covariance = block
      term.lambda = fitted.lambdas[j] * fitted.scales[j]
      term.edf = fitted.edf[j]
      term.referenceDF = fitted.referenceDF[j]
      (term.chiSquared, term.pValue) = smoothTest(term.coefficients, block, rank: term.referenceDF)
      // The mean effect over the fitted rows.
      var sum = 0.0
      x.values.withUnsafeBufferPointer { v in
        for i in 0..<x.rows {
          var e = 0.0
          for k in 0..<w { e += v[i * p + offset + k] * term.coefficients[k] }
          sum += e
        }
      }
      term.meanEffect = sum / Double(max(x.rows, 1))
      terms[j] = term
      offset += w
    }
    let q = 1 + parametric.count
    var parametricCovariance = [Double](repeating: 0, count: q * q)
    for a in 0..<q { for b in 0..<q { parametricCovariance[a * q + b] = fitted.covariance[a * p + b] } }
    for (k, var factor) in factors.enumerated() {
      let penalty = smooths.count + k
      let columns = (1 + factor.parametric.lowerBound)..<(1 + factor.parametric.upperBound)
      let w = columns.count
      var block = [Double](repeating: 0, count: w * w)
      for a in 0..<w {
        for b in 0..<w { block[a * w + b] = fitted.covariance[(columns.lowerBound + a) * p + columns.lowerBound + b] }
      }
      factor.lambda = fitted.lambdas[penalty] * fitted.scales[penalty]
      factor.edf = fitted.edf[penalty]
      factor.referenceDF = fitted.referenceDF[penalty]
      (factor.chiSquared, factor.pValue) = smoothTest(
        Array(fitted.coefficients[columns]), block, rank: factor.referenceDF)
      factors[k] = factor
    }
    return AdditiveChurnModel(
      parametric: parametric, parametricCoefficients: Array(fitted.coefficients[0..<q]),
      parametricCovariance: parametricCovariance, smooths: terms, factors: factors, duplicates: duplicates,
      deviance: fitted.deviance, nullDeviance: fitted.nullDeviance, totalEDF: fitted.totalEDF, fittedRows: d.rows,
      trainingRows: trainingRows)
  }

  /// Wood's (2013) test of a smooth term being zero: `T = βᵀ·V_r⁻·β` with the rank-`r` pseudo-inverse of its
  /// covariance, `r` the reference degrees of freedom rounded (at least 1); p-value from χ² with `r` degrees of
  /// freedom.
  static func smoothTest(_ beta: [Double], _ v: [Double], rank: Double) -> (Double, Double) {
    let w = beta.count
    guard w > 0, let eigen = try? SymmetricEigen(Matrix(rows: w, columns: w, elements: v)) else { return (0, 1) }
    let r = min(w, max(1, Int(rank.rounded())))
    var t = 0.0
    // The r largest eigenvalues (ascending order: the last r).
    for k in (w - r)..<w where eigen.values[k] > 0 {
      var u = 0.0
      for i in 0..<w { u += eigen.vectors[i * w + k] * beta[i] }
      t += u * u / eigen.values[k]
    }
    return (t, Distributions.chiSquaredSurvival(t, degreesOfFreedom: Double(r)))
  }

  /// Candidate interaction pairs ranked on the residuals of `main` (the idea of FAST, Lou et al. 2013): each
  /// column cut into at most 8 bins (quantiles of a number, a factor's levels); per pair, the score statistic of
  /// the cells of its two-way table beyond the two margins, `Σ_cells G²/(H+1) − Σ_rows − Σ_columns + total`,
  /// with `G = Σ (y − p)` and `H = Σ p(1 − p)`, standardized against its degrees of freedom
  /// (`(gain − df)/√(2·df)`). Pairs need a number; the best `limit` at or above `threshold` are returned.
  static func rankPairs(
    _ d: Data, main: AdditiveChurnModel, smoothed: [SmoothTerm], options o: AdditiveOptions
  ) -> [(a: Int, b: Int, score: Double)] {
    // The residual gradient and curvature of the main-effects fit.
    let probabilities = probabilities(main, d)
    var g = [Double](repeating: 0, count: d.rows)
    var h = [Double](repeating: 0, count: d.rows)
    for i in 0..<d.rows {
      let p = probabilities[i]
      g[i] = (d.labels[i] ? 1 : 0) - p
      h[i] = p * (1 - p)
    }
    // Binned columns: numbers by quantiles of their smooth's feature; factors by level.
    struct Binned {
      var column: Int
      var numeric: Bool
      var bins: Int
      var codes: [Int]
    }
    var binned: [Binned] = []
    for term in smoothed where term.kind == .main {
      let values = d.values(term.features[0])
      let sorted = RadixSort.sorted(values)
      var edges: [Double] = []
      for q in 1..<8 {
        let e = sorted[min(sorted.count - 1, q * sorted.count / 8)]
        if edges.last.map({ e > $0 }) ?? true { edges.append(e) }
      }
      let codes = values.map { v in edges.firstIndex { v < $0 } ?? edges.count }
      binned.append(Binned(column: term.columns[0], numeric: true, bins: edges.count + 1, codes: codes))
    }
    for (c, spec) in d.columns.enumerated() where spec.kind != .numeric {
      let indicators = d.features.indices.filter {
        d.features[$0].column == c && d.features[$0].role != .missing
      }
      guard !indicators.isEmpty, indicators.count + 1 <= o.maximumInteractionLevels else { continue }
      var codes = [Int](repeating: 0, count: d.rows)
      for i in 0..<d.rows {
        for (l, k) in indicators.enumerated() where d.raw(i, k) != 0 { codes[i] = l + 1 }
      }
      binned.append(Binned(column: c, numeric: false, bins: indicators.count + 1, codes: codes))
    }
    var ranked: [(a: Int, b: Int, score: Double)] = []
    for i in 0..<binned.count {
      for j in (i + 1)..<binned.count {
        let (a, b) = (binned[i], binned[j])
        guard a.numeric || b.numeric else { continue }
        var cellG = [Double](repeating: 0, count: a.bins * b.bins)
        var cellH = [Double](repeating: 0, count: a.bins * b.bins)
        for r in 0..<d.rows {
          let c = a.codes[r] * b.bins + b.codes[r]
          cellG[c] += g[r]
          cellH[c] += h[r]
        }
        var gain = 0.0
        var rowsG = [Double](repeating: 0, count: a.bins)
        var rowsH = [Double](repeating: 0, count: a.bins)
        var colsG = [Double](repeating: 0, count: b.bins)
        var colsH = [Double](repeating: 0, count: b.bins)
        var totalG = 0.0
        var totalH = 0.0
        for u in 0..<a.bins {
          for v in 0..<b.bins {
            let c = u * b.bins + v
            gain += cellG[c] * cellG[c] / (cellH[c] + 1)
            rowsG[u] += cellG[c]
            rowsH[u] += cellH[c]
            colsG[v] += cellG[c]
            colsH[v] += cellH[c]
            totalG += cellG[c]
            totalH += cellH[c]
          }
        }
        for u in 0..<a.bins { gain -= rowsG[u] * rowsG[u] / (rowsH[u] + 1) }
        for v in 0..<b.bins { gain -= colsG[v] * colsG[v] / (colsH[v] + 1) }
        gain += totalG * totalG / (totalH + 1)
        let df = Double((a.bins - 1) * (b.bins - 1))
        guard df > 0 else { continue }
        let score = (gain - df) / (2 * df).squareRoot()
        if score >= o.interactionThreshold {
          ranked.append((a.numeric ? a.column : b.column, a.numeric ? b.column : a.column, score))
        }
      }
    }
    ranked.sort { $0.score != $1.score ? $0.score > $1.score : ($0.a, $0.b) < ($1.a, $1.b) }
    return Array(ranked.prefix(o.interactions))
  }

  /// The interaction terms of a pair (number `a`, column `b`): a tensor product for two numbers, one by-level
  /// smooth per level of a factor.
  static func interactionTerms(_ d: Data, a: Int, b: Int, mainTerms: [SmoothTerm], options o: AdditiveOptions)
    -> [SmoothTerm]
  {
    guard let ta = mainTerms.first(where: { $0.kind == .main && $0.columns[0] == a }) else { return [] }
    let xa = d.values(ta.features[0])
    let k = min(o.interactionBasisSize, ta.bases[0].count)
    let nameA = d.columns[a].name
    if let tb = mainTerms.first(where: { $0.kind == .main && $0.columns[0] == b }) {
      let xb = d.values(tb.features[0])
      let kb = min(o.interactionBasisSize, tb.bases[0].count)
      return [
        SmoothTerm(
          kind: .tensor, name: "ti(\(nameA),\(d.columns[b].name))", columns: [a, b],
          features: [ta.features[0], tb.features[0]],
          bases: [
            PSpline(
              lower: ta.bases[0].lower, upper: ta.bases[0].upper, count: k, centeredOn: xa, warp: ta.bases[0].warp),
            PSpline(
              lower: tb.bases[0].lower, upper: tb.bases[0].upper, count: kb, centeredOn: xb, warp: tb.bases[0].warp),
          ])
      ]
    }
    // A factor: one smooth per indicator feature, centered on its level's rows.
    var terms: [SmoothTerm] = []
    for (level, feature) in d.features.enumerated()
    where feature.column == b && feature.role != .missing {
      let rows = (0..<d.rows).filter { d.raw($0, level) != 0 }
      guard rows.count >= 20 else { continue }
      let levelName: String
      switch feature.role {
      case .isTrue: levelName = "\(d.columns[b].name)=\(d.columns[b].trueValue)"
      default: levelName = feature.name
      }
      terms.append(
        SmoothTerm(
          kind: .byLevel, name: "s(\(nameA)):\(levelName)", columns: [a, b], features: [ta.features[0], level],
          bases: [
            PSpline(
              lower: ta.bases[0].lower, upper: ta.bases[0].upper, count: k, centeredOn: rows.map { xa[$0] },
              warp: ta.bases[0].warp)
          ]))
    }
    return terms
  }

  /// The model's probabilities on `d`, row by row (no design matrix of a large file is built).
  static func probabilities(_ model: AdditiveChurnModel, _ d: Data) -> [Double] {
    let beta = model.parametricCoefficients + model.smooths.flatMap(\.coefficients)
    let w = model.width
    var out = [Double](repeating: 0, count: d.rows)
    withUnsafeTemporaryAllocation(of: Double.self, capacity: max(d.features.count, 1) + w) { buffer in
      let raw = buffer.baseAddress!
      let row = raw + max(d.features.count, 1)
      for i in 0..<d.rows {
        d.raw(i, into: raw)
        model.designRow(raw: raw, features: d.features, into: row)
        var eta = 0.0
        for k in 0..<w { eta += row[k] * beta[k] }
        out[i] = LogisticRegression.sigmoid(eta)
      }
    }
    return out
  }

  /// The whole additive fit: main effects, the interaction search on their residuals, the final fit.
  static func train(_ all: Data, options given: AdditiveOptions) throws -> AdditiveChurnModel {
    let o = given
    var d = all
    if all.rows > o.fitRows {
      let step = Double(all.rows) / Double(o.fitRows)
      d = all.subset((0..<o.fitRows).map { Int(Double($0) * step) })
    }
    let (parametric, mains, duplicates) = mainTerms(d, options: o)
    let main = try fit(d, parametric: parametric, smooths: mains, duplicates: duplicates, trainingRows: all.rows)
    guard o.interactions > 0, !mains.isEmpty else { return main }
    let pairs = rankPairs(d, main: main, smoothed: mains, options: o)
    guard !pairs.isEmpty else { return main }
    var terms = mains
    for pair in pairs { terms += interactionTerms(d, a: pair.a, b: pair.b, mainTerms: mains, options: o) }
    return try fit(d, parametric: parametric, smooths: terms, duplicates: duplicates, trainingRows: all.rows)
  }
}

/// One point of a term's shape: where (`x`, and `y` for a tensor product), the effect on the log-odds and its
/// pointwise 95% interval.
public struct ShapePoint: Sendable, Codable, Equatable {
  public var term: String
  public var x: Double
  public var y: Double?
  public var effect: Double
  public var lower: Double
  public var upper: Double
}

extension AdditiveChurnModel {
  /// The shape of each smooth term (or of the one named `term`) on a grid over its training range: `points`
  /// values of x (a tensor product: `tensorPoints` × `tensorPoints`), as the data a plot is drawn from.
  /// - Throws: `CommerceError(.notFound)` for a name that is no term of the model.
  public func shapes(term: String? = nil, points: Int = 50, tensorPoints: Int = 15) throws -> [ShapePoint] {
    let chosen = term.map { name in smooths.filter { $0.name == name } } ?? smooths
    if let term, chosen.isEmpty {
      throw CommerceError(
        .notFound,
        "no term '\(term)' in the model; its terms are: \(smooths.map { "'\($0.name)'" }.joined(separator: ", "))")
    }
    var out: [ShapePoint] = []
    func grid(_ b: PSpline, _ n: Int) -> [Double] {
      (0..<n).map { b.lower + (b.upper - b.lower) * Double($0) / Double(max(n - 1, 1)) }
    }
    for t in chosen {
      switch t.kind {
      case .main, .byLevel:
        for x in grid(t.bases[0], points) {
          let (e, se) = t.effect(x, 1)
          out.append(
            ShapePoint(
              term: t.name, x: x, y: nil, effect: e, lower: e - Distributions.z975 * se,
              upper: e + Distributions.z975 * se))
        }
      case .tensor:
        for x in grid(t.bases[0], tensorPoints) {
          for y in grid(t.bases[1], tensorPoints) {
            let (e, se) = t.effect(x, y)
            out.append(
              ShapePoint(
                term: t.name, x: x, y: y, effect: e, lower: e - Distributions.z975 * se,
                upper: e + Distributions.z975 * se))
          }
        }
      }
    }
    return out
  }
}
