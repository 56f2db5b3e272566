import Foundation
import LinearAlgebra
import Modeling
import TabularIO

/// Top-k ranking quality of one recommender (or baseline) on a holdout.
public struct RankingReport: Sendable, Codable, Equatable {
  public var name: String
  public var precision: Double
  public var recall: Double
  public var ndcg: Double
  public var map: Double
  /// Share of the catalog that appears in at least one user's top k.
  public var coverage: Double
  /// Users with at least one held-out interaction.
  public var users: Int
}

extension RankingReport {
  /// The mean of each figure over `reports` (folds of one model), named as the first; `users` is the most of any.
  static func mean(_ reports: [RankingReport]) -> RankingReport {
    let n = Double(max(reports.count, 1))
    func average(_ figure: KeyPath<RankingReport, Double>) -> Double {
      reports.map { $0[keyPath: figure] }.reduce(0, +) / n
    }
    return RankingReport(
      name: reports.first?.name ?? "", precision: average(\.precision), recall: average(\.recall),
      ndcg: average(\.ndcg), map: average(\.map), coverage: average(\.coverage),
      users: reports.map(\.users).max() ?? 0)
  }
}

/// Rating-prediction error on a holdout (explicit feedback).
public struct RatingReport: Sendable, Codable, Equatable {
  public var name: String
  public var rmse: Double
  public var mae: Double
}

extension RatingReport {
  /// The mean RMSE and MAE over `reports` (folds of one model), named as the first.
  static func mean(_ reports: [RatingReport]) -> RatingReport {
    let n = Double(max(reports.count, 1))
    return RatingReport(
      name: reports.first?.name ?? "", rmse: reports.map(\.rmse).reduce(0, +) / n,
      mae: reports.map(\.mae).reduce(0, +) / n)
  }
}

/// The outcome of `recommend evaluate`.
public struct EvaluationReport: Sendable, Codable {
  public var k: Int
  public var trainInteractions: Int
  public var testInteractions: Int
  public var ranking: [RankingReport]
  public var rating: [RatingReport]
  /// What the split could not decide from the data, said to the user (ties at a cut, blank times, test users
  /// without training interactions).
  public var splitNotes: [String] = []
}

/// One held-out interaction: the item's column and the value.
public struct HeldOutInteraction: Sendable, Equatable {
  public var item: Int32
  public var value: Float
}

/// A per-user random holdout of distinct user–item pairs, as a train matrix and each user's test items.
public struct Holdout: Sendable {
  public var train: SparseMatrix
  /// The held-out interactions of each user.
  public var test: [[HeldOutInteraction]]
  public var testCount: Int
  /// Temporal splits: interactions without a time (kept in training), users whose cut fell between interactions
  /// of the same time (decided by item order), the cut-off time of the global split and the test users it left
  /// without training interactions (left out of the test).
  public var blankTimes = 0
  public var tiedCuts = 0
  public var cutoff: Double? = nil
  public var coldUsers = 0

  /// Splits `matrix` (users × items): each user with at least `minimumPerUser` interactions gives
  /// `round(fraction · n)` of them to the test set.
  public init(matrix: SparseMatrix, fraction: Double, minimumPerUser: Int = 5, seed: UInt64) throws {
    let split = try Splits.perUserHoldout(
      users: Holdout.entryUsers(matrix), fraction: fraction, minimumPerUser: minimumPerUser, seed: seed)
    try self.init(matrix: matrix, testEntries: split.test)
  }

  /// Holds out the matrix entries `testEntries` (indices into its entries, ascending); those in `dropped` neither
  /// train nor test; the others train.
  public init(matrix: SparseMatrix, testEntries: [Int], dropped: [Int] = []) throws {
    var isTest = [Bool](repeating: false, count: matrix.nonZeroCount)
    for k in testEntries { isTest[k] = true }
    var isDropped = [Bool](repeating: false, count: dropped.isEmpty ? 0 : matrix.nonZeroCount)
    for k in dropped { isDropped[k] = true }
    var test = [[HeldOutInteraction]](repeating: [], count: matrix.rowCount)
    var rows: [Int32] = []
    var columns: [Int32] = []
    var values: [Float] = []
    let trainCount = matrix.nonZeroCount - testEntries.count - dropped.count
    rows.reserveCapacity(trainCount)
    columns.reserveCapacity(trainCount)
    values.reserveCapacity(trainCount)
    for u in 0..<matrix.rowCount {
      for k in matrix.rowStart[u]..<matrix.rowStart[u + 1] {
        if isTest[k] {
          test[u].append(HeldOutInteraction(item: matrix.columns[k], value: matrix.values[k]))
        } else if !isDropped.isEmpty && isDropped[k] {
          continue
        } else {
          rows.append(Int32(u))
          columns.append(matrix.columns[k])
          values.append(matrix.values[k])
        }
      }
    }
    train = try SparseMatrix(
      rowCount: matrix.rowCount, columnCount: matrix.columnCount, rows: rows, columns: columns, values: values)
    self.test = test
    testCount = testEntries.count
  }

  /// The row of each of the matrix's entries, in entry order.
  static func entryUsers(_ matrix: SparseMatrix) -> [Int] {
    var users: [Int] = []
    users.reserveCapacity(matrix.nonZeroCount)
    for u in 0..<matrix.rowCount {
      for _ in matrix.rowStart[u]..<matrix.rowStart[u + 1] { users.append(u) }
    }
    return users
  }
}

extension Holdout {
  /// The temporal split: each user with at least `minimumPerUser` interactions gives the latest
  /// `round(fraction · n)` of them (by `times`, one per matrix entry in its order; ties by item) to the test set —
  /// the future is never trained on.
  public init(matrix: SparseMatrix, times: [Double], fraction: Double, minimumPerUser: Int = 5) throws {
    precondition(times.count == matrix.nonZeroCount)
    var testEntries: [Int] = []
    var tied = 0
    for u in 0..<matrix.rowCount {
      let entries = Array(matrix.rowStart[u]..<matrix.rowStart[u + 1])
      let n = entries.count
      let count = n >= minimumPerUser ? Int((fraction * Double(n)).rounded()) : 0
      let byTime = entries.sorted { (times[$0], matrix.columns[$0]) < (times[$1], matrix.columns[$1]) }
      if count > 0 && count < n && times[byTime[n - count - 1]] == times[byTime[n - count]] { tied += 1 }
      testEntries += byTime.suffix(count)
    }
    try self.init(matrix: matrix, testEntries: testEntries.sorted())
    tiedCuts = tied
    blankTimes = times.lazy.filter { !$0.isFinite }.count
  }

  /// The global temporal split: one cut-off time for everyone — the interactions after it (the latest
  /// `round(fraction · N)` of all N, moved to the first time after a tie) are the test set, those up to it train,
  /// so that no training interaction is later than any held-out one. Test users without a training interaction
  /// are left out of the test (nothing to recommend from) and counted; interactions without a time train.
  public init(matrix: SparseMatrix, times: [Double], globalFraction fraction: Double) throws {
    precondition(times.count == matrix.nonZeroCount)
    let timed = times.filter(\.isFinite).sorted()
    var cut = Double.infinity
    let count = Int((fraction * Double(timed.count)).rounded())
    var tied = false
    if count > 0 && count < timed.count {
      cut = timed[timed.count - count - 1]
      tied = timed[timed.count - count] == cut
    }
    var testEntries: [Int] = []
    var dropped: [Int] = []
    var cold = 0
    for u in 0..<matrix.rowCount {
      let entries = matrix.rowStart[u]..<matrix.rowStart[u + 1]
      let after = entries.filter { times[$0] > cut && times[$0].isFinite }
      // A user with nothing up to the cut-off has no history to recommend from: out of the test, not trained.
      if after.count == entries.count && !entries.isEmpty {
        cold += 1
        dropped += after
      } else {
        testEntries += after
      }
    }
    try self.init(matrix: matrix, testEntries: testEntries, dropped: dropped)
    blankTimes = times.count - timed.count
    tiedCuts = tied ? 1 : 0
    cutoff = cut.isFinite ? cut : nil
    coldUsers = cold
  }
}

/// How `evaluate` holds interactions out.
public enum HoldoutSplit: String, Sendable, Codable, CaseIterable {
  /// A random share of each user's interactions.
  case random
  /// Each user's latest interactions by timestamp (other users' later interactions may still train).
  case time
  /// One cut-off time for everyone: the latest interactions of all are held out, and nothing later trains.
  case globalTime = "global-time"
}

/// Offline evaluation: a holdout, the model's top-k quality beside a popularity baseline, and for explicit
/// feedback the rating error beside a bias-only baseline.
public enum RecommenderEvaluation {
  /// Precision, recall, NDCG, MAP at `k` and coverage of `recommended` against the holdout.
  static func ranking(
    name: String, recommended: [[Int]], users: [Int], holdout: Holdout, k: Int, itemCount: Int
  ) throws -> RankingReport {
    try ranking(
      name: name, recommended: recommended, users: users,
      relevant: { Set(holdout.test[$0].map { Int($0.item) }) }, k: k, itemCount: itemCount)
  }

  /// Precision, recall, NDCG, MAP at `k` and coverage of `recommended[i]` against `relevant(users[i])`.
  static func ranking(
    name: String, recommended: [[Int]], users: [Int], relevant items: (Int) -> Set<Int>, k: Int, itemCount: Int
  ) throws -> RankingReport {
    var p = 0.0
    var r = 0.0
    var n = 0.0
    var m = 0.0
    var covered = Set<Int>()
    for (idx, u) in users.enumerated() {
      let relevant = items(u)
      p += try RankingMetrics.precision(at: k, recommended: recommended[idx], relevant: relevant)
      r += try RankingMetrics.recall(at: k, recommended: recommended[idx], relevant: relevant)
      n += try RankingMetrics.ndcg(at: k, recommended: recommended[idx], relevant: relevant)
      m += try RankingMetrics.averagePrecision(at: k, recommended: recommended[idx], relevant: relevant)
      covered.formUnion(recommended[idx])
    }
    let count = Double(max(users.count, 1))
    return RankingReport(
      name: name, precision: p / count, recall: r / count, ndcg: n / count, map: m / count,
      coverage: Double(covered.count) / Double(max(itemCount, 1)), users: users.count)
  }

  /// The ranking quality of a trained model on `holdout` (no baselines).
  public static func rankingQuality(
    _ model: TrainedRecommender, holdout: Holdout, k: Int, threads: Int
  ) throws -> RankingReport {
    let users = holdout.test.indices.filter { !holdout.test[$0].isEmpty }
    let recommended = try RankedScoring.top(model.model, users: users, seen: holdout.train, k: k, threads: threads)
      .map { $0.map(\.index) }
    return try ranking(
      name: model.kind, recommended: recommended, users: users, holdout: holdout, k: k,
      itemCount: model.itemIDs.count)
  }

  /// The smallest round number (two significant digits) that holds out one interaction of a user with `most`:
  /// above one half over `most` (a half rounds to even, so to none).
  static func leastFraction(most: Int) -> Double {
    let f = 0.5 / Double(max(most, 1))
    let step = pow(10, (log10(f)).rounded(.down) - 1)
    var up = (f / step).rounded(.up) * step
    if up * Double(most) <= 0.5 { up += step }
    return up
  }

  /// Holds out `fraction` of each user's interactions (users with ≥ 5), trains on the rest, and reports.
  public static func evaluate(
    _ data: InteractionData, configuration: RecommenderConfiguration, testFraction: Double, seed: UInt64, k: Int,
    split: HoldoutSplit = .random, progress: ((TrainingProgress) -> Void)? = nil
  ) throws -> EvaluationReport {
    guard k >= 1 else { throw CommerceError(.usage, "\(.cutoff) must be at least 1, got \(k)", parameter: .cutoff) }
    let matrix = try data.matrix()
    let holdout: Holdout
    switch split {
    case .random:
      holdout = try Holdout(matrix: matrix, fraction: testFraction, seed: seed)
    case .time, .globalTime:
      guard let times = data.times else {
        throw CommerceError(
          .usage, "the temporal split needs each interaction's time: name its column (\(.timestampColumn))",
          parameter: .timestampColumn)
      }
      // The combined pairs are sorted by user and item, as the matrix's entries are.
      guard matrix.columns.count == data.items.count,
        zip(matrix.columns, data.items).allSatisfy({ $0 == $1 })
      else { throw CommerceError(.data, "the interactions could not be aligned with their times") }
      if split == .globalTime {
        holdout = try Holdout(matrix: matrix, times: times, globalFraction: testFraction)
      } else {
        holdout = try Holdout(matrix: matrix, times: times, fraction: testFraction)
      }
      if times.allSatisfy({ $0 == times.first }) {
        throw CommerceError(
          .data,
          "every interaction has the same time (\(times.first.map { $0.isFinite ? "\($0)" : "blank" } ?? "none")): a temporal split cannot tell earlier from later; use --split random"
        )
      }
    }
    var notes: [String] = []
    if holdout.blankTimes > 0 {
      notes.append(
        "\(holdout.blankTimes) interactions have no time: the temporal split cannot place them, and they train")
    }
    if split == .time && holdout.tiedCuts > 0 {
      notes.append(
        "for \(holdout.tiedCuts) users the cut between training and test falls between interactions of the same time: which of them is held out is decided by item order"
      )
    }
    if split == .globalTime {
      if let cutoff = holdout.cutoff {
        notes.append(
          "one cut-off for everyone: interactions after \(FieldParser.formatTimestamp(cutoff)) are held out\(holdout.tiedCuts > 0 ? " (the cut falls on a time shared by several interactions; all of them train)" : "")"
        )
      }
      if holdout.coldUsers > 0 {
        notes.append(
          "\(holdout.coldUsers) users have interactions only after the cut-off: with nothing to train on they are left out of the test"
        )
      }
    }
    guard holdout.testCount > 0 else {
      // Say which it is: no user with enough interactions, or a fraction that rounds to none for every user.
      var eligible = 0
      var most = 0
      for u in 0..<matrix.rowCount {
        let n = matrix.rowStart[u + 1] - matrix.rowStart[u]
        if n >= 5 { eligible += 1 }
        most = max(most, n)
      }
      if eligible > 0 {
        throw CommerceError(
          .usage,
          "\(.testFraction) \(testFraction) holds out round(\(testFraction) × n) of each user's n interactions, which is none for every user (\(eligible) users have 5 or more, the most active \(most)); use a fraction of at least \(String(format: "%g", Self.leastFraction(most: most))) (e.g. 0.2)",
          parameter: .testFraction)
      }
      throw CommerceError(
        .data,
        "no user has 5 or more interactions (the most active has \(most)), so nothing can be held out for testing")
    }
    let model = try TrainedRecommender.train(
      matrix: holdout.train, userIDs: data.userIDs, itemIDs: data.itemIDs, configuration: configuration,
      progress: progress)
    let quality = try quality(model, holdout: holdout, k: k, threads: configuration.threads)
    let baselines = try baselines(holdout, k: k, ratings: quality.rating != nil)
    var report = EvaluationReport(
      k: k, trainInteractions: holdout.train.nonZeroCount, testInteractions: holdout.testCount,
      ranking: [quality.ranking, baselines.ranking], rating: [quality.rating, baselines.rating].compactMap { $0 })
    report.splitNotes = notes
    return report
  }

  /// A trained model's top-k quality on `holdout` and, for a family that predicts values, its rating error.
  static func quality(
    _ model: TrainedRecommender, holdout: Holdout, k: Int, threads: Int
  ) throws -> (ranking: RankingReport, rating: RatingReport?) {
    let ranking = try rankingQuality(model, holdout: holdout, k: k, threads: threads)
    let users = holdout.test.indices.filter { !holdout.test[$0].isEmpty }
    guard let predictions = model.predictions(holdout, users: users) else { return (ranking, nil) }
    let actual = predictions.map(\.actual)
    let predicted = predictions.map(\.predicted)
    return (
      ranking,
      RatingReport(
        name: model.kind, rmse: try RegressionMetrics.rmse(actual: actual, predicted: predicted),
        mae: try RegressionMetrics.mae(actual: actual, predicted: predicted))
    )
  }

  /// The baselines on `holdout`: popularity's top-k quality (most users first, without the user's training
  /// items) and, when `ratings`, the bias-only baseline's error on every held-out value.
  static func baselines(
    _ holdout: Holdout, k: Int, ratings: Bool
  ) throws -> (ranking: RankingReport, rating: RatingReport?) {
    let users = holdout.test.indices.filter { !holdout.test[$0].isEmpty }
    var popularity = [Float](repeating: 0, count: holdout.train.columnCount)
    for c in holdout.train.columns { popularity[Int(c)] += 1 }
    let popular = users.map { u -> [Int] in
      let seen = Set(holdout.train.columns(ofRow: u).map { Int($0) })
      return TopK.select(popularity, k: k, excluded: { seen.contains($0) }).map(\.index)
    }
    let ranking = try ranking(
      name: "popularity", recommended: popular, users: users, holdout: holdout, k: k,
      itemCount: holdout.train.columnCount)
    guard ratings else { return (ranking, nil) }
    let biases = BaselineBiases(holdout.train)
    var actual: [Double] = []
    var baseline: [Double] = []
    for u in users {
      for held in holdout.test[u] {
        actual.append(Double(held.value))
        baseline.append(biases.predict(user: u, item: Int(held.item)))
      }
    }
    return (
      ranking,
      RatingReport(
        name: "bias-only baseline", rmse: try RegressionMetrics.rmse(actual: actual, predicted: baseline),
        mae: try RegressionMetrics.mae(actual: actual, predicted: baseline))
    )
  }
}

/// The bias-only rating baseline `μ + b_u + b_i`, fitted by alternating regularized means
/// (as Surprise's `BaselineOnly` with ALS: 10 rounds, item penalty 10, user penalty 15).
struct BaselineBiases {
  var mean: Double
  var user: [Double]
  var item: [Double]

  init(_ ratings: SparseMatrix, rounds: Int = 10, itemPenalty: Double = 10, userPenalty: Double = 15) {
    mean = ratings.values.reduce(0.0) { $0 + Double($1) } / Double(max(ratings.nonZeroCount, 1))
    user = [Double](repeating: 0, count: ratings.rowCount)
    item = [Double](repeating: 0, count: ratings.columnCount)
    for _ in 0..<rounds {
      var sum = [Double](repeating: 0, count: ratings.columnCount)
      var count = [Double](repeating: 0, count: ratings.columnCount)
      for u in 0..<ratings.rowCount {
        for k in ratings.rowStart[u]..<ratings.rowStart[u + 1] {
          let i = Int(ratings.columns[k])
          sum[i] += Double(ratings.values[k]) - mean - user[u]
          count[i] += 1
        }
      }
      for i in item.indices { item[i] = sum[i] / (itemPenalty + count[i]) }
      for u in 0..<ratings.rowCount {
        var s = 0.0
        var n = 0.0
        for k in ratings.rowStart[u]..<ratings.rowStart[u + 1] {
          s += Double(ratings.values[k]) - mean - item[Int(ratings.columns[k])]
          n += 1
        }
        user[u] = s / (userPenalty + n)
      }
    }
  }

  func predict(user u: Int, item i: Int) -> Double { mean + user[u] + item[i] }
}

/// One held-out value beside the model's prediction.
struct HeldOutPrediction {
  var user: Int
  var item: Int
  var actual: Double
  var predicted: Double
}

extension TrainedRecommender {
  /// The model's prediction of every held-out value of `users`, or `nil` for a family that does not predict
  /// values.
  func predictions(_ holdout: Holdout, users: [Int]) -> [HeldOutPrediction]? {
    var out: [HeldOutPrediction] = []
    for u in users {
      for held in holdout.test[u] {
        let (item, value) = (held.item, held.value)
        guard let p = model.predict(user: u, item: Int(item)) else { return nil }
        out.append(HeldOutPrediction(user: u, item: Int(item), actual: Double(value), predicted: Double(p)))
      }
    }
    return out
  }
}
