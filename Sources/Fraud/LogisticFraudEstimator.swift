/// Logistic regression on standardized stream features: the first fraud estimator family.
public struct LogisticFraudEstimator: Sendable, Equatable {
  /// Intercept, then one coefficient per `FraudFeature` (standardized scale).
  public var coefficients: [Double]
  /// Each feature's training mean and standard deviation.
  public var means: [Double]
  public var sds: [Double]

  /// An estimator with these coefficients on features standardized by `means` and `sds`.
  public init(coefficients: [Double], means: [Double], sds: [Double]) {
    self.coefficients = coefficients
    self.means = means
    self.sds = sds
  }

  /// Whether the sizes fit today's features (a stored model from another feature set does not).
  var isWellFormed: Bool {
    coefficients.count == FraudFeature.count + 1 && means.count == FraudFeature.count
      && sds.count == FraudFeature.count
  }

  /// The same linear predictor on raw features: `η = intercept + Σ slope_k · x_k`, with
  /// `slope_k = β_k / sd_k` and `intercept = β_0 − Σ slope_k · mean_k`, so scoring needs no standardizing.
  func rawScale() -> (slope: [Double], intercept: Double) {
    let s = (0..<FraudFeature.count).map { coefficients[$0 + 1] / sds[$0] }
    return (s, coefficients[0] - (0..<FraudFeature.count).reduce(0.0) { $0 + s[$1] * means[$1] })
  }
}
