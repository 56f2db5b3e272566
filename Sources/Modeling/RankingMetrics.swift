#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Top-k ranking metrics for one user's recommendations, with binary relevance.
///
/// `recommended` is the ranked list (best first); `relevant` the held-out items. Only the first `k`
/// recommendations count. Average them over users for the usual mean metrics.
public enum RankingMetrics {
  static func hits(_ recommended: [Int], _ relevant: Set<Int>, _ k: Int) -> [Bool] {
    recommended.prefix(k).map { relevant.contains($0) }
  }

  static func check(_ k: Int) throws(ModelingError) {
    guard k > 0 else { throw .invalidArgument("k must be at least 1, got \(k)") }
  }

  /// `|top-k ∩ relevant| / k`.
  public static func precision(at k: Int, recommended: [Int], relevant: Set<Int>) throws(ModelingError) -> Double {
    try check(k)
    return Double(hits(recommended, relevant, k).lazy.filter { $0 }.count) / Double(k)
  }

  /// `|top-k ∩ relevant| / |relevant|` (0 when nothing is relevant).
  public static func recall(at k: Int, recommended: [Int], relevant: Set<Int>) throws(ModelingError) -> Double {
    try check(k)
    guard !relevant.isEmpty else { return 0 }
    return Double(hits(recommended, relevant, k).lazy.filter { $0 }.count) / Double(relevant.count)
  }

  /// Normalized discounted cumulative gain:
  /// ```
  /// DCG@k  = Σ_{i<k} rel_i / log2(i + 2)
  /// NDCG@k = DCG@k / IDCG@k,   IDCG@k the DCG of min(k, |relevant|) hits in a row
  /// ```
  public static func ndcg(at k: Int, recommended: [Int], relevant: Set<Int>) throws(ModelingError) -> Double {
    try check(k)
    guard !relevant.isEmpty else { return 0 }
    var dcg = 0.0
    for (i, hit) in hits(recommended, relevant, k).enumerated() where hit { dcg += 1 / log2(Double(i + 2)) }
    var idcg = 0.0
    for i in 0..<min(k, relevant.count) { idcg += 1 / log2(Double(i + 2)) }
    return dcg / idcg
  }

  /// Average precision at k: the mean of precision@i over the ranks `i ≤ k` that hold a relevant item,
  /// divided by `min(k, |relevant|)` (the usual MAP@k of recommender evaluation).
  public static func averagePrecision(at k: Int, recommended: [Int], relevant: Set<Int>) throws(ModelingError)
    -> Double
  {
    try check(k)
    guard !relevant.isEmpty else { return 0 }
    var found = 0
    var sum = 0.0
    for (i, hit) in hits(recommended, relevant, k).enumerated() where hit {
      found += 1
      sum += Double(found) / Double(i + 1)
    }
    return sum / Double(min(k, relevant.count))
  }
}
