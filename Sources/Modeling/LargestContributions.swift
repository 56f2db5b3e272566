/// Picks the reasons behind a score: the largest contributions to a linear predictor.
public enum LargestContributions {
  /// Calls `body(index, value)` for up to `limit` of the largest values of `values[0..<count]` that are
  /// above `minimum`, largest first; on equal values the lower index comes first. Each index is given
  /// once: a chosen value is overwritten with `-infinity` (the buffer is scratch space).
  ///
  /// Repeated selection: no sort and no allocation, O(limit · count), for the handful of reasons a score
  /// shows.
  @inlinable
  public static func select(
    _ values: UnsafeMutablePointer<Double>, count: Int, limit: Int, above minimum: Double,
    _ body: (Int, Double) throws -> Void
  ) rethrows {
    for _ in 0..<min(limit, count) {
      var best = -1
      var bestValue = minimum
      for k in 0..<count where values[k] > bestValue {
        best = k
        bestValue = values[k]
      }
      if best < 0 { return }
      try body(best, bestValue)
      values[best] = -.infinity
    }
  }
}
