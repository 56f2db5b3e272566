/// Seeded ways of dividing examples for validation: shuffles, stratified k-fold, per-user holdout.
public enum Splits {
  /// `0..<count` in a random order fixed by `seed`.
  public static func shuffledIndices(count: Int, seed: UInt64) -> [Int] {
    var g = SeededGenerator(seed: seed)
    var indices = Array(0..<count)
    g.shuffle(&indices)
    return indices
  }

  /// Stratified k-fold: the test indices of each of `folds` folds, every class spread as evenly as possible
  /// (fold sizes and per-class counts differ by at most one).
  ///
  /// Each class's indices are shuffled and dealt to the folds in turn, the deal continuing from class to
  /// class so that fold sizes stay balanced. Indices within a fold are sorted.
  /// - Throws: `.invalidArgument` when `folds < 2` or a class has fewer than `folds` examples.
  public static func stratifiedKFold(labels: [Bool], folds: Int, seed: UInt64) throws(ModelingError) -> [[Int]] {
    guard folds >= 2 else { throw .invalidArgument("cross-validation needs at least 2 folds, got \(folds)") }
    var g = SeededGenerator(seed: seed)
    var positives = labels.indices.filter { labels[$0] }
    var negatives = labels.indices.filter { !labels[$0] }
    for (name, members) in [("positive", positives), ("negative", negatives)] where members.count < folds {
      throw .invalidArgument(
        "\(folds)-fold cross-validation needs at least \(folds) examples of each class; the \(name) class has \(members.count)"
      )
    }
    g.shuffle(&positives)
    g.shuffle(&negatives)
    var result = [[Int]](repeating: [], count: folds)
    var next = 0
    for i in positives + negatives {
      result[next].append(i)
      next = (next + 1) % folds
    }
    return result.map { $0.sorted() }
  }

  /// A per-user random holdout: each user with at least `minimumPerUser` interactions gives
  /// `round(fraction × n)` of them (half to even) to the test set; the others stay in training.
  ///
  /// - Parameters:
  ///   - users: the user of each interaction (any dense or sparse integer ids).
  ///   - fraction: the share held out per user, in `(0, 1)` (e.g. 0.2).
  ///   - minimumPerUser: users with fewer interactions keep all of them for training (e.g. 5).
  /// - Returns: sorted interaction indices for training and for test.
  /// - Throws: `.invalidArgument` for a fraction outside `(0, 1)`.
  public static func perUserHoldout(
    users: [Int], fraction: Double, minimumPerUser: Int, seed: UInt64
  ) throws(ModelingError) -> (train: [Int], test: [Int]) {
    guard fraction > 0, fraction < 1 else {
      throw .invalidArgument("the test fraction must be between 0 and 1 (exclusive), got \(fraction)")
    }
    var byUser: [Int: [Int]] = [:]
    for (i, u) in users.enumerated() { byUser[u, default: []].append(i) }
    var g = SeededGenerator(seed: seed)
    var isTest = [Bool](repeating: false, count: users.count)
    for user in byUser.keys.sorted() {
      var interactions = byUser[user]!
      guard interactions.count >= minimumPerUser else { continue }
      let take = Int((fraction * Double(interactions.count)).rounded(.toNearestOrEven))
      g.shuffle(&interactions)
      for i in interactions.prefix(take) { isTest[i] = true }
    }
    var train: [Int] = []
    var test: [Int] = []
    for i in users.indices { if isTest[i] { test.append(i) } else { train.append(i) } }
    return (train, test)
  }

  /// Per-user k-fold: the test indices of each of `folds` folds. Each user with at least `minimumPerUser`
  /// interactions has them shuffled and dealt to the folds in turn, the deal continuing from user to user (so fold
  /// sizes differ by at most one and a user's share in each fold by at most one); users with fewer interactions are
  /// in no fold (they always train). Every qualifying interaction is in exactly one fold. Indices within a fold are
  /// sorted.
  /// - Throws: `.invalidArgument` when `folds < 2` or `minimumPerUser < folds` (a user would miss a fold).
  public static func perUserKFold(
    users: [Int], folds: Int, minimumPerUser: Int, seed: UInt64
  ) throws(ModelingError) -> [[Int]] {
    guard folds >= 2 else { throw .invalidArgument("cross-validation needs at least 2 folds, got \(folds)") }
    guard minimumPerUser >= folds else {
      throw .invalidArgument(
        "\(folds) folds need users with at least \(folds) interactions; the minimum given is \(minimumPerUser)")
    }
    var byUser: [Int: [Int]] = [:]
    for (i, u) in users.enumerated() { byUser[u, default: []].append(i) }
    var g = SeededGenerator(seed: seed)
    var result = [[Int]](repeating: [], count: folds)
    var next = 0
    for user in byUser.keys.sorted() {
      var interactions = byUser[user]!
      guard interactions.count >= minimumPerUser else { continue }
      g.shuffle(&interactions)
      for i in interactions {
        result[next].append(i)
        next = (next + 1) % folds
      }
    }
    return result.map { $0.sorted() }
  }
}
