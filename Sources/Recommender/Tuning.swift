import Foundation
import Modeling

/// One hyperparameter trial of `recommend tune`.
public struct TuningTrial: Sendable {
  public var number: Int
  public var configuration: RecommenderConfiguration
  /// NDCG@k on the validation split (implicit), or validation RMSE (explicit).
  public var score: Double
  public var seconds: Double
}

/// The outcome of a search.
public struct TuningResult: Sendable {
  public var trials: [TuningTrial]
  public var best: TuningTrial
  /// What the metric is: `ndcg@10` (higher is better) or `rmse` (lower is better).
  public var metric: String
}

/// Hyperparameter search on a validation split carved out of the training data only.
///
/// The data is first split as `recommend evaluate` splits it (same fraction and seed), so the test part
/// is never seen; the training part is split again, twice with different seeds, into fit and validation
/// parts, and each trial's score is the mean over the two. Half the trials sample
/// the space at random (factors, log-uniform regularization and alpha, iterations); the rest perturb the
/// best so far. Deterministic for a seed.
public enum RecommenderTuning {
  /// Runs `trials` trials; `log` receives a line per trial.
  public static func search(
    _ data: InteractionData, base: RecommenderConfiguration, trials: Int, testFraction: Double, splitSeed: UInt64,
    seed: UInt64, k: Int, log: ((TuningTrial) -> Void)? = nil
  ) throws -> TuningResult {
    guard trials >= 1 else {
      throw CommerceError(.usage, "\(.trials) must be at least 1, got \(trials)", parameter: .trials)
    }
    let matrix = try SparseMatrix(
      rowCount: data.userIDs.count, columnCount: data.itemIDs.count, rows: data.users, columns: data.items,
      values: data.values)
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
    let explicit = base.feedback == .explicit
    func better(_ a: Double, _ b: Double) -> Bool { explicit ? a < b : a > b }
    for number in 1...trials {
      var c = base
      let best = done.min { better($0.score, $1.score) }
      if number <= max(1, trials / 2) || best == nil {
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
        if explicit {
          score += try validationRMSE(model, inner) / Double(inners.count)
        } else {
          let threads = c.implicit.threads
          score +=
            try RecommenderEvaluation.rankingQuality(model, holdout: inner, k: k, threads: threads).ndcg
            / Double(inners.count)
        }
      }
      let trial = TuningTrial(
        number: number, configuration: c, score: score, seconds: Date().timeIntervalSince(started))
      done.append(trial)
      log?(trial)
    }
    let best = done.min { better($0.score, $1.score) }!
    return TuningResult(trials: done, best: best, metric: explicit ? "rmse" : "ndcg@\(k)")
  }

  static let factorChoices = [32, 48, 64, 96, 128]
  static let iterationChoices = [10, 15, 20, 30]

  static func logUniform(_ lo: Double, _ hi: Double, _ g: inout SeededGenerator) -> Float {
    Float(exp(log(lo) + (log(hi) - log(lo)) * g.nextDouble()))
  }

  static func sample(_ c: inout RecommenderConfiguration, _ g: inout SeededGenerator) {
    let factors = factorChoices[g.nextInt(below: factorChoices.count)]
    let iterations = iterationChoices[g.nextInt(below: iterationChoices.count)]
    c.implicit.factors = factors
    c.implicit.iterations = iterations
    c.implicit.regularization = logUniform(0.1, 100, &g)
    c.implicit.alpha = logUniform(0.1, 30, &g)
    c.explicit.factors = factors
    c.explicit.iterations = iterations
    c.explicit.regularization = logUniform(0.02, 0.5, &g)
    c.explicit.biasRegularization = logUniform(0.001, 1, &g)
  }

  static func perturb(_ c: inout RecommenderConfiguration, _ g: inout SeededGenerator) {
    func scale(_ v: Float) -> Float { v * Float(exp((g.nextDouble() - 0.5) * 1.2)) }
    if let at = factorChoices.firstIndex(of: c.implicit.factors) {
      let step = g.nextInt(below: 3) - 1
      let f = factorChoices[min(max(at + step, 0), factorChoices.count - 1)]
      c.implicit.factors = f
      c.explicit.factors = f
    }
    c.implicit.regularization = scale(c.implicit.regularization)
    c.implicit.alpha = scale(c.implicit.alpha)
    c.explicit.regularization = scale(c.explicit.regularization)
    c.explicit.biasRegularization = scale(c.explicit.biasRegularization)
    if g.nextInt(below: 3) == 0 {
      let it = iterationChoices[g.nextInt(below: iterationChoices.count)]
      c.implicit.iterations = it
      c.explicit.iterations = it
    }
  }

  static func validationRMSE(_ model: TrainedRecommender, _ holdout: Holdout) throws -> Double {
    var actual: [Double] = []
    var predicted: [Double] = []
    let f = model.factors.userFactors.columns
    for u in holdout.test.indices {
      for (item, value) in holdout.test[u] {
        let i = Int(item)
        var p = model.globalMean + (model.userBias?[u] ?? 0) + (model.itemBias?[i] ?? 0)
        for d in 0..<f {
          p += model.factors.userFactors.elements[u * f + d] * model.factors.itemFactors.elements[i * f + d]
        }
        actual.append(Double(value))
        predicted.append(Double(p))
      }
    }
    return try RegressionMetrics.rmse(actual: actual, predicted: predicted)
  }
}
