import Foundation
import LinearAlgebra
import Modeling
import TabularIO

/// The costs of the two kinds of error, for choosing the threshold of least expected cost.
public struct MisclassificationCosts: Sendable, Codable, Equatable {
  /// The cost of a false alarm.
  public var falsePositive: Double
  /// The cost of a missed churner.
  public var falseNegative: Double

  public init(falsePositive: Double, falseNegative: Double) {
    self.falsePositive = falsePositive
    self.falseNegative = falseNegative
  }
}

/// What `churn train` is asked to do.
public struct ChurnTrainingOptions: Sendable {
  public var target: String
  public var positive: String?
  public var idColumn: String?
  public var exclude: [String] = []
  /// A column of record times (e.g. the snapshot date): never a feature, its earliest and latest times are kept
  /// as the training data's time span.
  public var timeColumn: String?
  public var regression = LogisticRegression.Configuration()
  /// Cross-validation folds; 0 or 1 for none.
  public var folds = 5
  public var costs: MisclassificationCosts?
  public var seed: UInt64 = 42
  /// Levels seen fewer times are pooled as `other`.
  public var minimumLevelCount = 10
  public var skipBadRows = false
  /// Threads for reading the file (default: every processor).
  public var threads = ProcessInfo.processInfo.activeProcessorCount
  /// Where to write the final design matrix (original units, after aliasing) with the 0/1 target, for
  /// checking the fit with other tools; `nil` for nowhere.
  public var designMatrixPath: String?
  /// The family: linear, additive, or both compared by cross-validation.
  public var family = ChurnFamily.linear
  public var additive = AdditiveOptions()

  /// Options for predicting `target`.
  public init(target: String) { self.target = target }
}

/// The model families `churn train` fits.
public enum ChurnFamily: String, Sendable, Codable, CaseIterable {
  /// Fit both under the same cross-validation folds and keep the one of lower out-of-fold log loss.
  case auto
  /// Logistic regression, linear in each feature.
  case linear
  /// A penalized generalized additive logistic model with pairwise interactions (`AdditiveChurnModel`).
  case additive
}

/// One family's cross-validated quality, for the side-by-side table of `--model auto`.
public struct FamilyValidation: Sendable, Codable {
  public var family: ChurnFamily
  public var validation: ValidationReport
}

/// Trains churn models: schema inference, encoding, aliasing and separation checks, the fit, cross-validation.
public enum ChurnTrainer {
  /// Reads `path` twice (inference, then encoding) and fits the model.
  public static func train(path: String, options o: ChurnTrainingOptions) throws -> ChurnTrainingReport {
    if let designPath = o.designMatrixPath { try OutputFiles.refuseOverwriting(designPath, inputs: [path]) }
    let schema = try inferSchema(path: path, options: o)
    let data = try encode(path: path, schema: schema, options: o)
    let (x, labels, features) = (data.x, data.labels, data.features)
    let n = x.rows
    let penalized = o.regression.l1 > 0 || o.regression.l2 > 0
    let additiveData =
      o.family == .linear
      ? nil
      : AdditiveFit.Data(
        x: x, labels: labels, features: features, columns: schema.specs)

    // Out-of-fold scores of each family asked for, under the same folds.
    var families: [ChurnFamily] = o.family == .auto ? [.linear, .additive] : [o.family]
    var outOfFold: [ChurnFamily: [Double]] = [:]
    // With the family chosen automatically, one that cannot be fitted on this data (a design too small or too
    // collinear for the additive model's unpenalized part, say) drops out with its reason, and the other is
    // registered; asked for by name, its failure is the error.
    var dropped: [(ChurnFamily, String)] = []
    func dropOut(_ family: ChurnFamily, _ error: Error) throws {
      // Only a fit the data leaves without a solution falls back; a usage error is the user's to see.
      let numeric = error is LinearAlgebraError || (error as? CommerceError)?.kind == .data
      guard o.family == .auto, families.count == 2, numeric else { throw error }
      families.removeAll { $0 == family }
      outOfFold[family] = nil
      dropped.append((family, "\(error)"))
    }
    if o.folds >= 2 {
      for family in families {
        do {
          outOfFold[family] = try CrossValidation.outOfFold(labels: labels, folds: o.folds, seed: o.seed) {
            train, test in
            switch family {
            case .additive:
              let d = additiveData!
              let model = try AdditiveFit.train(d.subset(train), options: o.additive)
              return AdditiveFit.probabilities(model, d.subset(test))
            default:
              // A rare indicator can be constant within a fold: fit each fold on its own non-aliased columns.
              var foldX = x.subset(train)
              let foldAliased = Set(try LogisticRegression.aliasedColumns(foldX))
              let keep = (0..<x.columns).filter { !foldAliased.contains($0) }
              if !foldAliased.isEmpty { foldX = foldX.selectingColumns(keep) }
              let foldFit = try LogisticRegression.fit(
                foldX, labels: train.map { labels[$0] }, configuration: o.regression)
              return try foldFit.probabilities(x.subset(test).selectingColumns(keep))
            }
          }
        } catch {
          try dropOut(family, error)
        }
      }
    }
    var comparison: [FamilyValidation] = []
    if o.family == .auto, o.folds >= 2, families.count == 2 {
      for family in families {
        let oof = outOfFold[family]!
        let t = Evaluation.chooseThreshold(labels: labels, probabilities: oof, costs: o.costs)
        comparison.append(
          FamilyValidation(
            family: family,
            validation: try Evaluation.report(labels: labels, probabilities: oof, threshold: t, folds: o.folds)))
      }
    }

    // The final fit of each family still in the running.
    var linearFit: (LogisticRegression.Fitted, [CommerceError.Message])? = nil
    var additiveModel: AdditiveChurnModel? = nil
    if families.contains(.linear) {
      do { linearFit = try fitWithDiagnostics(data, path: path, options: o) } catch { try dropOut(.linear, error) }
    }
    if families.contains(.additive) {
      do {
        additiveModel = try AdditiveFit.train(additiveData!, options: o.additive)
      } catch {
        try dropOut(.additive, error)
      }
    }
    var choice: String? = nil
    var family = o.family
    if o.family == .auto {
      if let (gone, reason) = dropped.first, let kept = families.first {
        family = kept
        comparison = []
        choice =
          "registered the \(kept.rawValue) model: the \(gone.rawValue) model could not be fitted on this data (\(reason))"
      } else if comparison.count == 2 {
        let (l, a) = (comparison[0].validation.logLoss, comparison[1].validation.logLoss)
        family = a < l ? .additive : .linear
        choice = String(
          format: "registered the %@ model: its cross-validated log loss is lower (%.4f against %.4f)",
          family.rawValue, min(a, l), max(a, l))
      } else {
        let linearAIC = 2 * Double(x.columns) - 2 * linearFit!.0.logLikelihood
        let additiveAIC = additiveModel!.aic
        family = additiveAIC < linearAIC ? .additive : .linear
        choice = String(
          format: "registered the %@ model: without cross-validation, by AIC (%.2f against %.2f)",
          family.rawValue, min(linearAIC, additiveAIC), max(linearAIC, additiveAIC))
      }
      families = [family]
    }

    let inSample: [Double]
    let summary: FitSummary
    var warnings: [CommerceError.Message] = []
    var coefficients: [Double]
    switch family {
    case .additive:
      let model = additiveModel!
      inSample = AdditiveFit.probabilities(model, additiveData!)
      summary = try additiveSummary(model, features: features, observations: n)
      coefficients = [model.parametricCoefficients[0]]
    default:
      let (fitted, w) = linearFit!
      warnings = w
      inSample = try fitted.probabilities(x)
      summary = try coefficientSummary(fitted, features: features, observations: n, penalized: penalized)
      coefficients = fitted.coefficients
    }
    if schema.badTimes > 0, let column = schema.timeColumn {
      warnings.append(
        "\(path): \(schema.badTimes == 1 ? "1 row has" : "\(schema.badTimes) rows have") a time in '\(column)' that does not read as one; \(schema.badTimes == 1 ? "it is" : "they are") fitted but left out of the time span"
      )
    }

    // Cross-validation of the chosen family and the threshold.
    var validation: ValidationReport? = nil
    var threshold: Double
    var rule = o.costs == nil ? "maximum F1" : "minimum expected cost"
    if let oof = outOfFold[family] {
      threshold = Evaluation.chooseThreshold(labels: labels, probabilities: oof, costs: o.costs)
      rule += " on out-of-fold scores"
      validation = try Evaluation.report(labels: labels, probabilities: oof, threshold: threshold, folds: o.folds)
    } else {
      threshold = Evaluation.chooseThreshold(labels: labels, probabilities: inSample, costs: o.costs)
      rule += " on training scores"
    }

    // Reference distributions of the training scores.
    let sorted = RadixSort.sorted(inSample)
    let scoreDeciles = (1..<10).map { sorted[min(sorted.count - 1, $0 * sorted.count / 10)] }
    var shares = [Double](repeating: 0, count: 10)
    for s in inSample { shares[min(9, Int(s * 10))] += 1 }
    var metrics: [String: Double] = [:]
    if let v = validation {
      metrics = [
        "cv_roc_auc": v.rocAUC, "cv_pr_auc": v.prAUC, "cv_log_loss": v.logLoss, "cv_brier": v.brier,
        "cv_f1": v.confusion.f1, "cv_precision": v.confusion.precision, "cv_recall": v.confusion.recall,
        "cv_accuracy": v.confusion.accuracy,
      ]
    }
    metrics["threshold"] = threshold
    metrics["log_likelihood"] = summary.logLikelihood
    metrics["pseudo_r2"] = summary.pseudoR2
    let additive = family == .additive ? additiveModel : nil
    if let additive {
      metrics["deviance_explained"] = additive.devianceExplained
      metrics["edf"] = additive.totalEDF
    }
    var model = ChurnModel(
      target: o.target, positive: schema.positive, negative: schema.negative, idColumn: schema.idColumn,
      columns: schema.specs,
      features: features, coefficients: coefficients, threshold: threshold, thresholdRule: rule,
      scoreDeciles: scoreDeciles, scoreShares: shares.map { $0 / Double(n) }, metrics: metrics, trainingRows: n)
    model.additive = additive
    return ChurnTrainingReport(
      model: model, notes: schema.notes, aliased: data.aliasedNames, warnings: warnings, summary: summary,
      validation: validation,
      skippedRows: schema.skip.count, fingerprint: schema.fingerprint, family: family, comparison: comparison,
      choice: choice, timeColumn: schema.timeColumn, timeSpan: schema.timeSpan)
  }

  /// The parametric part of an additive model as the linear model's coefficient table (original and standardized
  /// scales), with the fit's statistics (log-likelihood `−deviance/2`, AIC `deviance + 2·edf`).
  static func additiveSummary(_ a: AdditiveChurnModel, features: [Feature], observations n: Int) throws -> FitSummary {
    let rows = try coefficientRows(
      a.parametricCoefficients, covariance: a.parametricCovariance, features: a.parametric.map { features[$0] })
    let ll = -a.deviance / 2
    let llNull = -a.nullDeviance / 2
    return FitSummary(
      observations: n, converged: true, iterations: 0, logLikelihood: ll, nullLogLikelihood: llNull,
      pseudoR2: 1 - ll / llNull,
      llrPValue: Distributions.chiSquaredSurvival(2 * (ll - llNull), degreesOfFreedom: max(a.totalEDF - 1, 1)),
      aic: a.aic, penalized: true, coefficients: rows)
  }

  /// Fits the linear model, checking for separation first (unpenalized fits only) and warning of signs of it
  /// and of non-convergence after.
  static func fitWithDiagnostics(
    _ data: EncodedTrainingData, path: String, options o: ChurnTrainingOptions
  ) throws -> (LogisticRegression.Fitted, [CommerceError.Message]) {
    let (x, labels, features) = (data.x, data.labels, data.features)
    let penalized = o.regression.l1 > 0 || o.regression.l2 > 0
    // Separation (unpenalized fits only): complete separation has no fit at all; quasi-complete separation
    // leaves some coefficients without a finite estimate, which is reported (as R's glm warns) and fitted on.
    var warnings: [CommerceError.Message] = []
    if !penalized {
      switch separation(x, labels, features) {
      case .complete(let name):
        throw CommerceError(
          .data,
          "\(path): the classes are completely separated by '\(name)': the likelihood has no maximum and the coefficients grow without bound; add \(.l2) (e.g. \(.l2) 1) or \(.exclude) that column"
        )
      case .quasiComplete(let name):
        warnings.append(
          "quasi-complete separation: every customer with '\(name)' is in one class, so its coefficient has no finite estimate and its standard error is meaningless; add \(.l2) (e.g. \(.l2) 1) for a finite estimate"
        )
      case .none:
        break
      }
    }
    let fitted = try LogisticRegression.fit(x, labels: labels, configuration: o.regression)
    if !penalized {
      let inSample = try fitted.probabilities(x)
      let extreme = inSample.lazy.filter { $0 < 1e-10 || $0 > 1 - 1e-10 }.count
      if extreme > 0 && warnings.isEmpty {
        let worst = (1..<fitted.coefficients.count).max { abs(fitted.coefficients[$0]) < abs(fitted.coefficients[$1]) }!
        warnings.append(
          "fitted probabilities of 0 or 1 occurred for \(extreme) customers, a sign of (quasi-)complete separation (largest coefficient: '\(features[worst - 1].name)'); add \(.l2) (e.g. \(.l2) 1)"
        )
      }
      if !fitted.converged {
        warnings.append(
          "the fit did not converge in \(o.regression.maxIterations) iterations; add \(.l2) (e.g. \(.l2) 1)")
      }
    }
    return (fitted, warnings)
  }

  /// The fit's statistics and its coefficient table on the original and the standardized scale.
  static func coefficientSummary(
    _ fitted: LogisticRegression.Fitted, features: [Feature], observations n: Int, penalized: Bool
  ) throws -> FitSummary {
    let p = fitted.coefficients.count
    let rows = try coefficientRows(fitted.coefficients, covariance: fitted.covariance, features: features)
    let llr = 2 * (fitted.logLikelihood - fitted.nullLogLikelihood)
    return FitSummary(
      observations: n, converged: fitted.converged, iterations: fitted.iterations,
      logLikelihood: fitted.logLikelihood, nullLogLikelihood: fitted.nullLogLikelihood,
      pseudoR2: 1 - fitted.logLikelihood / fitted.nullLogLikelihood,
      llrPValue: Distributions.chiSquaredSurvival(llr, degreesOfFreedom: Double(p - 1)),
      aic: 2 * Double(p) - 2 * fitted.logLikelihood, penalized: penalized, coefficients: rows)
  }

  /// The coefficient table: `coefficients` (intercept, then one per feature of `features`, on the standardized
  /// scale) and their `covariance`, back on the original units (estimate, standard error, z, p-value, 95% interval,
  /// odds ratio) and as fitted.
  static func coefficientRows(_ coefficients: [Double], covariance: [Double], features: [Feature]) throws
    -> [CoefficientRow]
  {
    let p = coefficients.count
    var transform = [Double](repeating: 0, count: p * p)
    transform[0] = 1
    for j in 1..<p {
      transform[0 * p + j] = -features[j - 1].mean / features[j - 1].sd
      transform[j * p + j] = 1 / features[j - 1].sd
    }
    let t = try Matrix<Double>(rows: p, columns: p, elements: transform)
    let cov = try Matrix<Double>(rows: p, columns: p, elements: covariance)
    let covOriginal = try Matrix.product(try Matrix.product(t, cov), t, transposeB: true)
    let original = try t.multiplied(by: Vector(coefficients))
    var rows: [CoefficientRow] = []
    for j in 0..<p {
      let est = original[j]
      let se = covOriginal[j, j].squareRoot()
      let z = est / se
      rows.append(
        CoefficientRow(
          name: j == 0 ? "intercept" : features[j - 1].name, estimate: est, standardError: se, z: z,
          pValue: Distributions.twoSidedNormalPValue(z), lower: est - Distributions.z975 * se,
          upper: est + Distributions.z975 * se, oddsRatio: exp(est), standardizedEstimate: coefficients[j],
          standardizedError: covariance[j * p + j].squareRoot()))
    }
    return rows
  }

  enum Separation {
    case none
    /// The feature's values alone split the two classes.
    case complete(String)
    /// One value of an indicator occurs in a single class only.
    case quasiComplete(String)
  }

  /// A feature that alone separates the classes: a number whose ranges for the two classes do not overlap
  /// (complete), or an indicator one of whose values occurs in only one class (quasi-complete).
  static func separation(_ x: DesignMatrix, _ y: [Bool], _ features: [Feature]) -> Separation {
    let p = x.columns
    // One row-major pass: per column, the value range of each class and the first two distinct values
    // with their class counts.
    var minPos = [Double](repeating: .infinity, count: p)
    var maxPos = [Double](repeating: -.infinity, count: p)
    var minNeg = [Double](repeating: .infinity, count: p)
    var maxNeg = [Double](repeating: -.infinity, count: p)
    var first = [Double](repeating: .nan, count: p)
    var second = [Double](repeating: .nan, count: p)
    var moreThanTwo = [Bool](repeating: false, count: p)
    var counts = [Int](repeating: 0, count: 4 * p)  // (first,pos) (first,neg) (second,pos) (second,neg)
    x.values.withUnsafeBufferPointer { v in
      for i in 0..<x.rows {
        let row = v.baseAddress! + i * p
        let positive = y[i]
        for j in 1..<p {
          let value = row[j]
          if positive {
            if value < minPos[j] { minPos[j] = value }
            if value > maxPos[j] { maxPos[j] = value }
          } else {
            if value < minNeg[j] { minNeg[j] = value }
            if value > maxNeg[j] { maxNeg[j] = value }
          }
          if moreThanTwo[j] { continue }
          if value == first[j] {
            counts[4 * j + (positive ? 0 : 1)] += 1
          } else if value == second[j] {
            counts[4 * j + (positive ? 2 : 3)] += 1
          } else if first[j].isNaN {
            first[j] = value
            counts[4 * j + (positive ? 0 : 1)] += 1
          } else if second[j].isNaN {
            second[j] = value
            counts[4 * j + (positive ? 2 : 3)] += 1
          } else {
            moreThanTwo[j] = true
          }
        }
      }
    }
    var quasi: String? = nil
    for j in 1..<p {
      if maxNeg[j] < minPos[j] || maxPos[j] < minNeg[j] { return .complete(features[j - 1].name) }
      if quasi == nil && !moreThanTwo[j] && !second[j].isNaN {
        // An indicator: quasi-complete when one of its values occurs in a single class.
        let c = counts[(4 * j)..<(4 * j + 4)].map { $0 }
        if c[0] == 0 || c[1] == 0 || c[2] == 0 || c[3] == 0 { quasi = features[j - 1].name }
      }
    }
    return quasi.map { .quasiComplete($0) } ?? .none
  }
}

extension ColumnSpec {
  /// Makes the column numeric: the median of `values` for imputation, and deciles and shares (ten bins,
  /// then missing) for drift.
  mutating func setNumeric(values: [Double], missing: Int, rows: Int) {
    kind = .numeric
    let v = RadixSort.sorted(values)
    median = v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
    driftEdges = (1..<10).map { v[min(v.count - 1, $0 * v.count / 10)] }
    var shares = [Double](repeating: 0, count: 11)
    for x in v { shares[driftBin(x, driftEdges)] += 1 }
    shares[10] = Double(missing)
    driftShares = shares.map { $0 / Double(rows) }
    driftSample = DriftStatistics.sketch(sorted: v)
    driftCount = v.count
    driftDeviation = DriftStatistics.populationDeviation(v)
  }
}

/// The drift bin of a number: 0…9 by the training deciles.
func driftBin(_ x: Double, _ edges: [Double]) -> Int {
  var bin = 0
  for e in edges where x > e { bin += 1 }
  return bin
}

func format(_ x: Double) -> String { String(format: "%.6g", x) }
