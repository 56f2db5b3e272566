import Foundation
import Modeling
import Storage

/// One hyperparameter trial of `recommend tune`.
public struct TuningTrial: Sendable, Codable {
  public var number: Int
  public var configuration: RecommenderConfiguration
  /// Mean NDCG@k over the validation folds (implicit), or mean validation RMSE (explicit).
  public var score: Double
  /// The mean top-k quality over the folds.
  public var ranking: RankingReport
  /// The mean rating error over the folds (explicit feedback).
  public var rating: RatingReport?
  public var seconds: Double
}

/// The outcome of a search.
public struct TuningResult: Sendable, Codable {
  public var trials: [TuningTrial]
  /// The trial whose settings are registered: the better-scoring of the families' choices.
  public var best: TuningTrial
  /// Each family's choice and why.
  public var families: [FamilyChoice]
  /// What the metric is: `ndcg@10` (higher is better) or `rmse` (lower is better).
  public var metric: String
  public var folds: Int
  /// The best trial's cross-validated figures beside the baselines' on the same folds (popularity; for explicit
  /// feedback also the bias-only rating baseline). Interactions are per fold, on average.
  public var validation: EvaluationReport
}

/// The trial that stands for one family in the final choice.
public struct FamilyChoice: Sendable, Codable {
  /// The family's kind (`recommender.als-implicit`, `recommender.ease`, …).
  public var kind: String
  public var trial: TuningTrial
  /// How it was chosen.
  public var note: String

  /// The family as the tune table names it: `als`, `biased-mf` or `ease`.
  public var family: String {
    switch trial.configuration {
    case .implicitALS: "als"
    case .biasedMF: "biased-mf"
    case .ease: "ease"
    }
  }
}

/// How far one trial is ahead of another over the same folds: the mean of their per-fold loss differences, its
/// standard error across the folds, and whether it is clear — at least 2% of the reference's loss, and above the
/// two-sided 95% Student-t bound for the folds (2.776 standard errors for 5 folds). Folds are the unit because each
/// fold trains its own model: the differences between folds carry the model's own randomness (initial factors,
/// solver), which per-user differences within one model miss. The 2% floor is for what the folds cannot show: they
/// fit on 80% of the data, the registered model on all of it, and smaller edges between neighbouring settings do not
/// carry over (on MovieLens 100K, ALS edges of 0.5–1.8% over the defaults, each clear fold by fold, scored 0.3–1.1%
/// below them on held-out data).
public struct PairedEdge: Sendable, Codable, Equatable {
  /// Mean of (loss of the reference − loss of the challenger) per fold: positive when the challenger is ahead.
  public var mean: Double
  public var standardError: Double
  /// The reference's mean loss per fold.
  public var reference: Double
  public var folds: Int

  /// The smallest edge that counts, as a share of the reference's loss.
  public static let minimumShare = 0.02

  /// Whether the edge is at least `minimumShare` of the reference's loss.
  public var isLargeEnough: Bool { mean >= PairedEdge.minimumShare * abs(reference) }

  public var isClear: Bool {
    folds > 1 && isLargeEnough && mean > PairedEdge.studentT975(degreesOfFreedom: folds - 1) * standardError
  }

  /// The edge of the trial with per-fold losses `challenger` over the one with `reference` (same folds, same order).
  public init(_ reference: [Double], _ challenger: [Double]) {
    precondition(reference.count == challenger.count)
    let n = reference.count
    folds = n
    self.reference = reference.reduce(0, +) / Double(max(n, 1))
    guard n > 1 else {
      mean = 0
      standardError = 0
      return
    }
    var sum = 0.0
    for i in 0..<n { sum += reference[i] - challenger[i] }
    mean = sum / Double(n)
    var squares = 0.0
    for i in 0..<n {
      let d = reference[i] - challenger[i] - mean
      squares += d * d
    }
    standardError = (squares / Double(n - 1) / Double(n)).squareRoot()
  }

  /// The 97.5% quantile of Student's t (1 to 19 degrees of freedom, as tables give it to three decimals; the normal
  /// quantile beyond).
  static func studentT975(degreesOfFreedom df: Int) -> Double {
    let table = [
      12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
      2.120, 2.110, 2.101, 2.093,
    ]
    return df >= 1 && df <= table.count ? table[df - 1] : 1.960
  }
}

/// The outcome of `recommend tune`: the search, and the version registered with the best settings trained on all
/// the data.
public struct TuningOutcome: Sendable, Codable {
  public var search: TuningResult
  public var registered: ModelVersion
  /// Interactions the registered model was trained on.
  public var interactions: Int
}

/// Hyperparameter search by per-user k-fold cross-validation of the data given.
///
/// Each user's interactions (users with at least 5) are dealt at random to `folds` folds; a trial trains on all
/// folds but one, scores NDCG@k (implicit) or RMSE (explicit) on the one left out, for each fold in turn, and its
/// score is the mean. Every interaction is validated once, so the choice rests on all the data, not on one random
/// share. The first trial of each family is its default settings (or the ones given). For implicit feedback the
/// trials alternate between the families, ALS and — when the catalogue fits its limit — EASE. EASE's single λ is
/// searched deterministically on log λ (`nextLambda`), so that it does not depend on the seed; ALS samples its space
/// at random in the first half of the run (factors, log-uniform regularization and alpha, iterations) and perturbs
/// its best so far in the second. Each family then puts forward one trial — ALS its best only when its edge over its
/// defaults is clear fold by fold (`PairedEdge`), else its defaults; EASE the trial nearest the smoothed peak of its λ curve — and
/// the better-scoring of them is registered. Deterministic for a seed.
public enum RecommenderTuning {
  public static let defaultFolds = 5

  /// Searches, trains the best settings on all of `data` and registers the model as a new version of `name` with
  /// its cross-validated figures.
  public static func tune(
    _ data: InteractionData, base: RecommenderConfiguration, alternative: RecommenderConfiguration? = nil,
    trials: Int, folds: Int = defaultFolds, seed: UInt64,
    k: Int, catalog: ItemCatalog? = nil, store: any ModelRegistry, name: String,
    log: ((TuningTrial) -> Void)? = nil
  ) throws -> TuningOutcome {
    let search = try search(
      data, base: base, alternative: alternative, trials: trials, folds: folds, seed: seed, k: k, log: log)
    let model = try TrainedRecommender.train(data, configuration: search.best.configuration, catalog: catalog)
    var metrics = [
      "validation_\(search.metric)": search.best.score, "validation_ndcg_at_\(k)": search.best.ranking.ndcg,
      "validation_folds": Double(folds),
    ]
    if let rating = search.best.rating { metrics["validation_rmse"] = rating.rmse }
    let version = try model.register(
      in: store, name: name, fingerprint: data.fingerprint, metrics: metrics, trials: search.trials,
      timeSpan: data.timeSpan)
    return TuningOutcome(search: search, registered: version, interactions: data.users.count)
  }

  /// Runs `trials` trials; `log` receives each trial.
  public static func search(
    _ data: InteractionData, base: RecommenderConfiguration, alternative: RecommenderConfiguration? = nil,
    trials: Int, folds: Int = defaultFolds, seed: UInt64, k: Int, log: ((TuningTrial) -> Void)? = nil
  ) throws -> TuningResult {
    guard trials >= 1 else {
      throw CommerceError(.usage, "\(.trials) must be at least 1, got \(trials)", parameter: .trials)
    }
    guard (2...20).contains(folds) else {
      throw CommerceError(.usage, "\(.folds) must be between 2 and 20, got \(folds)", parameter: .folds)
    }
    guard k >= 1 else { throw CommerceError(.usage, "\(.cutoff) must be at least 1, got \(k)", parameter: .cutoff) }
    let matrix = try data.matrix()
    let parts = try Splits.perUserKFold(
      users: Holdout.entryUsers(matrix), folds: folds, minimumPerUser: max(5, folds), seed: seed)
    guard parts.allSatisfy({ !$0.isEmpty }) else {
      throw CommerceError(
        .data, "too few interactions to cross-validate: \(folds) folds need users with at least \(max(5, folds)) each")
    }
    let holdouts = try parts.map { try Holdout(matrix: matrix, testEntries: $0) }
    let rating = base.feedback == .explicit
    let baselines = try holdouts.map { try RecommenderEvaluation.baselines($0, k: k, ratings: rating) }
    var g = SeededGenerator(seed: seed)
    var done: [TuningTrial] = []
    // Implicit feedback searches the families too: ALS, and EASE when the catalogue fits its limit.
    // The other family comes with the same options as the base (every option train takes reaches every family
    // tune tries: EASE's --lambda and --max-items, ALS's factors, alpha, …); without one given, its defaults.
    var families = [base]
    if case .implicitALS(let a) = base {
      var e = EASE.Configuration()
      e.threads = a.threads
      if case .ease(let given)? = alternative { e = given }
      if data.itemIDs.count <= e.maxItems && e.fits(items: data.itemIDs.count) {
        families = [.implicitALS(a), .ease(e)]
      }
    } else if case .ease(let e) = base, data.itemIDs.count <= e.maxItems {
      var a = ImplicitALS.Configuration()
      a.threads = e.threads
      if case .implicitALS(let given)? = alternative { a = given }
      families = [.implicitALS(a), .ease(e)]
    }
    func better(_ a: Double, _ b: Double) -> Bool { rating ? a < b : a > b }
    var active = Array(families.indices)
    var turn = 0
    // Each trial's loss per fold (minus the fold's NDCG, or its mean squared error): the folds are shared, so two
    // trials compare fold by fold.
    var foldLosses: [[Double]] = []
    for number in 1...trials {
      var chosen: RecommenderConfiguration?
      while chosen == nil, !active.isEmpty {
        let family = active[turn % active.count]
        var c = families[family]
        let own = done.filter { $0.configuration.kind == c.kind }
        if case .ease(var e) = c {
          guard let lambda = nextLambda(after: lambdaPoints(own), start: e.lambda, better: better) else {
            // Converged: the other families take the remaining trials.
            active.removeAll { $0 == family }
            continue
          }
          e.lambda = lambda
          c = .ease(e)
        } else if let best = own.min(by: { better($0.score, $1.score) }) {
          // A family's first trial is its default settings (or those given): a known-good anchor that the random
          // draws and the perturbations around the best can only improve on.
          if number <= trials / 2 {
            sample(&c, &g)
          } else {
            c = best.configuration
            perturb(&c, &g)
          }
        }
        chosen = c
        turn += 1
      }
      guard let c = chosen else { break }
      let started = Date()
      var rankings: [RankingReport] = []
      var ratings: [RatingReport] = []
      var losses: [Double] = []
      for holdout in holdouts {
        let model = try TrainedRecommender.train(
          matrix: holdout.train, userIDs: data.userIDs, itemIDs: data.itemIDs, configuration: c)
        let quality = try RecommenderEvaluation.quality(model, holdout: holdout, k: k, threads: c.threads)
        rankings.append(quality.ranking)
        if let r = quality.rating { ratings.append(r) }
        losses.append(rating ? quality.rating.map { $0.rmse * $0.rmse } ?? 0 : -quality.ranking.ndcg)
      }
      foldLosses.append(losses)
      let ranking = RankingReport.mean(rankings)
      let ratingMean = ratings.isEmpty ? nil : RatingReport.mean(ratings)
      if rating && ratingMean == nil {
        throw CommerceError(.usage, "a \(ranking.name) model does not predict ratings")
      }
      let trial = TuningTrial(
        number: number, configuration: c, score: ratingMean?.rmse ?? ranking.ndcg, ranking: ranking,
        rating: ratingMean, seconds: Date().timeIntervalSince(started))
      done.append(trial)
      log?(trial)
    }
    // Each family's choice. ALS (or biased MF): its best trial when its edge over the family's first (its defaults)
    // is clear fold by fold, else the defaults — the best of many random draws is ahead partly by chance. EASE: the trial
    // nearest the smoothed peak of its λ curve. The chosen: the better-scoring choice.
    // (A family without a trial — `--trials 1` — has no choice.)
    let choices = families.compactMap { family -> (index: Int, choice: FamilyChoice)? in
      let own = done.indices.filter { done[$0].configuration.kind == family.kind }
      guard let first = own.first else { return nil }
      let top = own.min { better(done[$0].score, done[$1].score) }!
      func figure(_ x: Double) -> String { String(format: "%.4f", x) }
      if case .ease = family {
        // Every trial of `own` is an EASE trial: its points are in `own`'s order.
        let pick = easeChoice(lambdaPoints(own.map { done[$0] }), better: better).map { own[$0] } ?? top
        let note =
          pick == top
          ? "its best-scoring λ"
          : "the λ nearest the peak of the quadratic fitted to validation score against log λ, steadier than its best-scoring point (trial \(done[top].number), \(figure(done[top].score)))"
        return (pick, FamilyChoice(kind: family.kind, trial: done[pick], note: note))
      }
      if top == first {
        return (first, FamilyChoice(kind: family.kind, trial: done[first], note: "its defaults score best"))
      }
      let edge = PairedEdge(foldLosses[first], foldLosses[top])
      let gap = figure(abs(done[top].score - done[first].score))
      let se = figure(edge.standardError)
      if edge.isClear {
        return (
          top,
          FamilyChoice(
            kind: family.kind, trial: done[top],
            note:
              "\(gap) ahead of its defaults (trial \(done[first].number)), clearly: at least 2% and beyond the 95% bound of the fold-by-fold difference (standard error \(se))"
          )
        )
      }
      return (
        first,
        FamilyChoice(
          kind: family.kind, trial: done[first],
          note:
            "its defaults: its best (trial \(done[top].number), \(figure(done[top].score))) is \(gap) ahead, \(!edge.isLargeEnough ? "less than 2%" : "within the 95% bound of the fold-by-fold difference (standard error \(se))"): not a clear gain"
        )
      )
    }
    let best = done[choices.map(\.index).min { better(done[$0].score, done[$1].score) }!]
    let validation = EvaluationReport(
      k: k, trainInteractions: holdouts.map(\.train.nonZeroCount).reduce(0, +) / folds,
      testInteractions: holdouts.map(\.testCount).reduce(0, +) / folds,
      ranking: [best.ranking, RankingReport.mean(baselines.map(\.ranking))],
      rating: [best.rating, rating ? RatingReport.mean(baselines.compactMap(\.rating)) : nil].compactMap { $0 })
    return TuningResult(
      trials: done, best: best, families: choices.map(\.choice),
      metric: rating ? "rmse" : "ndcg@\(k)", folds: folds, validation: validation)
  }

  /// EASE's next λ, searched on log₁₀ λ independently of the seed: the first is `start` (the default, or the one
  /// given); while the best so far is the smallest (largest) λ tried, the next is half a decade below (above) it,
  /// within [1, 10⁵]. Once the best is bracketed, the next is the peak of the quadratic fitted to the trials near the
  /// best (`smoothedPeak`: a validation curve is noisy, its fitted shape much less so), or, when there is none
  /// between the best's neighbours, the midpoint of the wider gap beside the best (toward the better neighbour when
  /// the gaps are equal). `nil` once converged: the peak within 0.02 decade of a λ tried, or the gap below that.
  static func nextLambda(
    after tried: [(lambda: Float, score: Double)], start: Float, better: (Double, Double) -> Bool
  ) -> Float? {
    guard !tried.isEmpty else { return start }
    let points = logPoints(tried, better: better)
    let b = points.indices.max { points[$0].score < points[$1].score }!
    let (lo, hi) = (0.0, 5.0)
    if b == 0, points[0].x > lo + 1e-6 {
      return Float(pow(10, max(points[0].x - 0.5, lo)))
    }
    if b == points.count - 1, points[b].x < hi - 1e-6 {
      return Float(pow(10, min(points[b].x + 0.5, hi)))
    }
    let tolerance = 0.02
    if b > 0, b < points.count - 1, let peak = smoothedPeak(points),
      peak > points[b - 1].x, peak < points[b + 1].x
    {
      if points.contains(where: { abs($0.x - peak) < tolerance }) { return nil }
      return Float(pow(10, peak))
    }
    let left = b > 0 ? points[b].x - points[b - 1].x : 0
    let right = b < points.count - 1 ? points[b + 1].x - points[b].x : 0
    let goRight: Bool
    if abs(left - right) < 1e-4, b > 0, b < points.count - 1 {
      goRight = points[b + 1].score > points[b - 1].score
    } else {
      goRight = right > left
    }
    let gap = goRight ? right : left
    guard gap >= tolerance else { return nil }
    return Float(pow(10, goRight ? points[b].x + gap / 2 : points[b].x - gap / 2))
  }

  /// The (λ, score) of each EASE trial among `trials`, in their order.
  static func lambdaPoints(_ trials: [TuningTrial]) -> [(lambda: Float, score: Double)] {
    trials.compactMap { t in
      if case .ease(let e) = t.configuration { (e.lambda, t.score) } else { nil }
    }
  }

  /// The EASE trial to stand for the family: the one nearest the smoothed peak when there is one, else the best.
  static func easeChoice(_ tried: [(lambda: Float, score: Double)], better: (Double, Double) -> Bool) -> Int? {
    guard !tried.isEmpty else { return nil }
    let points = logPoints(tried, better: better)
    let x = tried.map { log10(Double($0.lambda)) }
    guard let peak = smoothedPeak(points), peak > points.first!.x, peak < points.last!.x else {
      return tried.indices.min { better(tried[$0].score, tried[$1].score) }
    }
    return x.indices.min { abs(x[$0] - peak) < abs(x[$1] - peak) }
  }

  /// Trials as (log₁₀ λ, score made higher-is-better), ascending in λ; the first of equal scores counts as best.
  static func logPoints(
    _ tried: [(lambda: Float, score: Double)], better: (Double, Double) -> Bool
  ) -> [(x: Double, score: Double)] {
    let sign = better(1, 0) ? 1.0 : -1.0
    return tried.map { (x: log10(Double($0.lambda)), score: sign * $0.score) }.sorted { $0.x < $1.x }
  }

  /// The peak of the quadratic fitted by least squares to the points within half a decade of the best (at least
  /// three), or `nil` when that quadratic has no maximum.
  static func smoothedPeak(_ points: [(x: Double, score: Double)]) -> Double? {
    guard let best = points.max(by: { $0.score < $1.score }) else { return nil }
    let near = points.filter { abs($0.x - best.x) <= 0.5 + 1e-4 }
    guard near.count >= 3 else { return nil }
    // Centered at the best for conditioning: score ≈ c0 + c1·t + c2·t², t = x − best.x.
    var m = [[Double]](repeating: [Double](repeating: 0, count: 3), count: 3)
    var r = [Double](repeating: 0, count: 3)
    for p in near {
      let t = p.x - best.x
      let basis = [1, t, t * t]
      for i in 0..<3 {
        r[i] += basis[i] * p.score
        for j in 0..<3 { m[i][j] += basis[i] * basis[j] }
      }
    }
    guard let c = solve3(m, r), c[2] < 0 else { return nil }
    return best.x - c[1] / (2 * c[2])
  }

  /// Solves the 3×3 system by Cramer's rule; `nil` when it is singular.
  static func solve3(_ m: [[Double]], _ r: [Double]) -> [Double]? {
    func det(_ a: [[Double]]) -> Double {
      a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
        + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
    }
    let d = det(m)
    guard abs(d) > 1e-12 * max(1, m[0][0] * m[1][1] * m[2][2]) else { return nil }
    return (0..<3).map { column in
      var a = m
      for i in 0..<3 { a[i][column] = r[i] }
      return det(a) / d
    }
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
}
