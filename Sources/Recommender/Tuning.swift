import Foundation
import Modeling
import Storage

/// One hyperparameter trial of `recommend tune`.
public struct TuningTrial: Sendable, Codable {
  public var number: Int
  public var configuration: RecommenderConfiguration
  /// NDCG@k on the validation split (implicit), or validation RMSE (explicit).
  public var score: Double
  public var seconds: Double
}

/// The outcome of a search.
public struct TuningResult: Sendable, Codable {
  public var trials: [TuningTrial]
  public var best: TuningTrial
  /// What the metric is: `ndcg@10` (higher is better) or `rmse` (lower is better).
  public var metric: String
}

/// The outcome of `recommend tune`: the search, the best settings' quality on the held-out part, and the version
/// registered with them trained on all the data.
public struct TuningOutcome: Sendable, Codable {
  public var search: TuningResult
  public var holdout: EvaluationReport
  public var registered: ModelVersion
  /// Interactions the registered model was trained on.
  public var interactions: Int
}

/// Hyperparameter search on a validation split carved out of the training data only.
///
/// The data is first split as `recommend evaluate` splits it (same fraction and seed), so the test part
/// is never seen; the training part is split again, twice with different seeds, into fit and validation
/// parts, and each trial's score is the mean over the two. The first trial of each family is its default
/// settings (or the ones given); up to half the trials sample
/// the space at random (factors, log-uniform regularization and alpha, iterations; for implicit feedback the
/// families alternate, ALS and EASE with a log-uniform λ, when the catalogue fits EASE's limit); the rest perturb
/// the best so far. Deterministic for a seed.
public enum RecommenderTuning {
  /// Searches, reports the best settings on the held-out part, trains them on all of `data` and registers the
  /// model as a new version of `name` with its validation and holdout figures.
  public static func tune(
    _ data: InteractionData, base: RecommenderConfiguration, trials: Int, testFraction: Double, seed: UInt64, k: Int,
    catalog: ItemCatalog? = nil, store: any ModelRegistry, name: String,
    log: ((TuningTrial) -> Void)? = nil
  ) throws -> TuningOutcome {
    let search = try search(
      data, base: base, trials: trials, testFraction: testFraction, splitSeed: seed, seed: seed, k: k, log: log)
    let best = search.best.configuration
    let holdout = try RecommenderEvaluation.evaluate(
      data, configuration: best, testFraction: testFraction, seed: seed, k: k)
    let model = try TrainedRecommender.train(data, configuration: best, catalog: catalog)
    var metrics = [
      "validation_\(search.metric)": search.best.score, "holdout_ndcg_at_\(k)": holdout.ranking[0].ndcg,
    ]
    if let rating = holdout.rating.first { metrics["holdout_rmse"] = rating.rmse }
    let version = try model.register(in: store, name: name, fingerprint: data.fingerprint, metrics: metrics)
    return TuningOutcome(search: search, holdout: holdout, registered: version, interactions: data.users.count)
  }

  /// Runs `trials` trials; `log` receives each trial.
  public static func search(
    _ data: InteractionData, base: RecommenderConfiguration, trials: Int, testFraction: Double, splitSeed: UInt64,
    seed: UInt64, k: Int, log: ((TuningTrial) -> Void)? = nil
  ) throws -> TuningResult {
    guard trials >= 1 else {
      throw CommerceError(.usage, "\(.trials) must be at least 1, got \(trials)", parameter: .trials)
    }
    let matrix = try data.matrix()
    let outer = try Holdout(matrix: matrix, fraction: testFraction, seed: splitSeed)
    // Two validation splits of the training part, averaged: a steadier choice than one.
    let inners = try [1, 2].map {
      try Holdout(matrix: outer.train, fraction: testFraction, seed: splitSeed &+ UInt64($0))
    }
    guard inners.allSatisfy({ $0.testCount > 0 }) else {
      throw CommerceError(.data, "too few interactions per user to carve out a validation split")
    }
    var g = SeededGenerator(seed: seed)
    var done: [TuningTrial] = []
    let rating = base.feedback == .explicit
    // Implicit feedback searches the families too: ALS, and EASE when the catalogue fits its limit.
    var families = [base]
    if case .implicitALS(let a) = base {
      var e = EASE.Configuration()
      e.threads = a.threads
      if data.itemIDs.count <= e.maxItems { families = [.implicitALS(a), .ease(e)] }
    } else if case .ease(let e) = base, data.itemIDs.count <= e.maxItems {
      var a = ImplicitALS.Configuration()
      a.threads = e.threads
      families = [.implicitALS(a), .ease(e)]
    }
    func better(_ a: Double, _ b: Double) -> Bool { rating ? a < b : a > b }
    for number in 1...trials {
      var c = families.count > 1 ? families[(number - 1) % families.count] : base
      let best = done.min { better($0.score, $1.score) }
      if number <= families.count {
        // Each family's first trial is its default settings (or those given): a known-good anchor that the
        // random draws and the perturbations around the best can only improve on.
      } else if number <= max(families.count, trials / 2) || best == nil {
        sample(&c, &g)
      } else {
        c = best!.configuration
        perturb(&c, &g)
      }
      let started = Date()
      var score = 0.0
      for inner in inners {
        let model = try TrainedRecommender.train(
          matrix: inner.train, userIDs: data.userIDs, itemIDs: data.itemIDs, configuration: c)
        if rating {
          score += try validationRMSE(model, inner) / Double(inners.count)
        } else {
          score +=
            try RecommenderEvaluation.rankingQuality(model, holdout: inner, k: k, threads: c.threads).ndcg
            / Double(inners.count)
        }
      }
      let trial = TuningTrial(
        number: number, configuration: c, score: score, seconds: Date().timeIntervalSince(started))
      done.append(trial)
      log?(trial)
    }
    let best = done.min { better($0.score, $1.score) }!
    return TuningResult(trials: done, best: best, metric: rating ? "rmse" : "ndcg@\(k)")
  }

  static let factorChoices = [32, 48, 64, 96, 128]
  static let iterationChoices = [10, 15, 20, 30]

  static func logUniform(_ lo: Double, _ hi: Double, _ u: Double) -> Float {
    Float(exp(log(lo) + (log(hi) - log(lo)) * u))
  }

  /// Draws a point of the family's space. Every family draws the same numbers (factors, iterations and four
  /// uniforms), so that a search's sequence does not depend on the family.
  static func sample(_ c: inout RecommenderConfiguration, _ g: inout SeededGenerator) {
    let factors = factorChoices[g.nextInt(below: factorChoices.count)]
    let iterations = iterationChoices[g.nextInt(below: iterationChoices.count)]
    let u = (0..<4).map { _ in g.nextDouble() }
    switch c {
    case .implicitALS(var a):
      a.factors = factors
      a.iterations = iterations
      a.regularization = logUniform(0.1, 100, u[0])
      a.alpha = logUniform(0.1, 30, u[1])
      c = .implicitALS(a)
    case .biasedMF(var b):
      b.factors = factors
      b.iterations = iterations
      b.regularization = logUniform(0.02, 0.5, u[2])
      b.biasRegularization = logUniform(0.001, 1, u[3])
      c = .biasedMF(b)
    case .ease(var e):
      e.lambda = logUniform(10, 5000, u[0])
      c = .ease(e)
    }
  }

  /// Moves one step from `c`: factors to a neighbouring choice, penalties scaled by up to e^±0.6, and one time in
  /// three a new iteration count.
  static func perturb(_ c: inout RecommenderConfiguration, _ g: inout SeededGenerator) {
    let factors: Int
    switch c {
    case .implicitALS(let a): factors = a.factors
    case .biasedMF(let b): factors = b.factors
    case .ease: factors = factorChoices[0]
    }
    var newFactors = factors
    if let at = factorChoices.firstIndex(of: factors) {
      let step = g.nextInt(below: 3) - 1
      newFactors = factorChoices[min(max(at + step, 0), factorChoices.count - 1)]
    }
    let scales = (0..<4).map { _ in Float(exp((g.nextDouble() - 0.5) * 1.2)) }
    let iterations = g.nextInt(below: 3) == 0 ? iterationChoices[g.nextInt(below: iterationChoices.count)] : nil
    switch c {
    case .implicitALS(var a):
      a.factors = newFactors
      a.regularization *= scales[0]
      a.alpha *= scales[1]
      if let iterations { a.iterations = iterations }
      c = .implicitALS(a)
    case .biasedMF(var b):
      b.factors = newFactors
      b.regularization *= scales[2]
      b.biasRegularization *= scales[3]
      if let iterations { b.iterations = iterations }
      c = .biasedMF(b)
    case .ease(var e):
      e.lambda *= scales[0]
      c = .ease(e)
    }
  }

  static func validationRMSE(_ model: TrainedRecommender, _ holdout: Holdout) throws -> Double {
    guard let predictions = model.predictions(holdout, users: Array(holdout.test.indices)) else {
      throw CommerceError(.usage, "a \(model.kind) model does not predict ratings")
    }
    return try RegressionMetrics.rmse(
      actual: predictions.map(\.actual), predicted: predictions.map(\.predicted))
  }
}
