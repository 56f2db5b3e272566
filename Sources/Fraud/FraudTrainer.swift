import Modeling
import TabularIO

/// How `fraud train` chooses its thresholds.
public enum ThresholdTarget: Sendable {
  /// Review the top `rate` share of transactions; decline the top tenth of those.
  case alertRate(Double)
  /// Review from the lowest score with at least this precision on the history; decline from (1 + p)/2.
  case minimumPrecision(Double)
}

/// What `fraud train` reports.
///
/// Not `Sendable`: it holds the live `FeatureState` (a class mutated by one stream at a time); send its
/// encoded bytes, not the state, to another thread.
public struct FraudTrainingReport {
  public var model: FraudModel
  public var state: FeatureState
  public var transactions: Int
  public var frauds: Int
  public var trainingAUC: Double
  public var trainingAveragePrecision: Double
  public var alertRate: Double
  public var fingerprint: DataFingerprint
}

/// Replays a labeled history exactly as the stream would and fits the model on the features it produced.
public enum FraudTrainer {
  /// Trains on the CSV at `path`.
  /// - Throws: `TabularError` for bad rows (with line and column) or a history out of time order;
  ///   `CommerceError` for a file without labels or with a single class.
  public static func train(
    path: String, mapping: ColumnMapping, labelDelay: Double, rules: RuleSet, target: ThresholdTarget
  ) throws -> FraudTrainingReport {
    let reader = try CSVReader(path: path)
    let source = try TransactionSource(header: reader.header, mapping: mapping, file: path)
    guard source.hasLabels else {
      throw CommerceError(
        .data, "\(path): no label column; training needs labeled history (map it with \(.columnMap) label=COLUMN)")
    }
    let state = FeatureState()
    let f = FraudFeature.count
    var rows: [Double] = []
    var labels: [Bool] = []
    let features = UnsafeMutablePointer<Double>.allocate(capacity: f)
    defer { features.deallocate() }
    var inputs = RuleInputs()
    var last = -Double.infinity
    while try reader.next() {
      switch try source.record(reader) {
      case .label(let id, let fraud):
        state.applyLabel(transaction: id, fraud: fraud)
      case .transaction(let tx, _):
        if tx.time < last {
          throw TabularError(
            .badValue, file: path, line: reader.line, column: reader.place(ofField: source.time).column,
            "the history is not in time order (this transaction is earlier than the one before); sort it by timestamp")
        }
        last = tx.time
        guard let label = tx.label else {
          throw reader.error(atField: source.label!, "the label is blank; training needs every transaction labeled")
        }
        state.observe(tx, labelDelay: labelDelay, features: features, rules: &inputs)
        rows.append(contentsOf: UnsafeBufferPointer(start: features, count: f))
        labels.append(label)
        if state.processed % 1_000_000 == 0 { state.expire(before: state.watermark) }
      }
    }
    let n = labels.count
    let frauds = labels.lazy.filter { $0 }.count
    guard n > 0 else { throw CommerceError(.data, "\(path): no transactions") }
    guard frauds > 0, frauds < n else {
      throw CommerceError(
        .data, "\(path): every transaction has the same label; training needs frauds and genuine ones")
    }
    // Standardize, then fit with balanced class weights and a small ridge for stability.
    let scaling = rows.withUnsafeBufferPointer {
      Standardization(rows: $0, rowCount: n, stride: f, columns: 0..<f, constantColumns: .minimumScale(1e-9))
    }
    let means = scaling.means
    let sds = scaling.scales
    var design = [Double](repeating: 0, count: n * (f + 1))
    for i in 0..<n {
      design[i * (f + 1)] = 1
      for k in 0..<f { design[i * (f + 1) + k + 1] = (rows[i * f + k] - means[k]) / sds[k] }
    }
    rows = []
    let x = DesignMatrix(rows: n, columns: f + 1, values: design)
    let positiveWeight = Double(n) / (2 * Double(frauds))
    let negativeWeight = Double(n) / (2 * Double(n - frauds))
    var configuration = LogisticRegression.Configuration()
    configuration.l2 = 1
    let fit = try LogisticRegression.fit(
      x, labels: labels, weights: labels.map { $0 ? positiveWeight : negativeWeight }, configuration: configuration)
    let scores = fit.probabilities(x)
    let sorted = scores.sorted(by: >)
    var review: Double
    var decline: Double
    var rule: String
    switch target {
    case .alertRate(let rate):
      review = sorted[min(n - 1, max(0, Int(Double(n) * rate) - 1))]
      decline = sorted[min(n - 1, max(0, Int(Double(n) * rate / 10) - 1))]
      rule = "alert rate \(rate) on the history (decline: the top tenth of alerts)"
    case .minimumPrecision(let p):
      let order = scores.indices.sorted { scores[$0] > scores[$1] }
      var tp = 0
      review = 1
      decline = 1
      for (k, i) in order.enumerated() {
        if labels[i] { tp += 1 }
        let precision = Double(tp) / Double(k + 1)
        if precision >= p { review = scores[i] }
        if precision >= (1 + p) / 2 { decline = scores[i] }
      }
      rule = "precision ≥ \(p) on the history (decline: ≥ \((1 + p) / 2))"
    }
    decline = max(decline, review)
    let model = FraudModel(
      estimator: .logistic(LogisticFraudEstimator(coefficients: fit.coefficients, means: means, sds: sds)),
      reviewThreshold: review, declineThreshold: decline, rules: rules, labelDelay: labelDelay, thresholdRule: rule)
    let alerts = scores.lazy.filter { $0 >= review }.count
    return FraudTrainingReport(
      model: model, state: state, transactions: n, frauds: frauds,
      trainingAUC: try ClassificationMetrics.rocAUC(labels: labels, scores: scores),
      trainingAveragePrecision: try ClassificationMetrics.averagePrecision(labels: labels, scores: scores),
      alertRate: Double(alerts) / Double(n), fingerprint: reader.fingerprint)
  }
}
