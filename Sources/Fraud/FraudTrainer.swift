import Foundation
import Modeling
import TabularIO

/// How `fraud train` chooses its thresholds.
public enum ThresholdTarget: Sendable {
  /// Review the top `rate` share of transactions; decline the top tenth of those.
  case alertRate(Double)
  /// Review from the lowest score with at least this precision on the history; decline from (1 + p)/2.
  case minimumPrecision(Double)
}

/// The estimator families `fraud train` fits.
public enum FraudFamily: String, Sendable, CaseIterable, Codable {
  /// A binned additive model (one learned shape per feature), calibrated (the default).
  case additive
  /// Logistic regression with balanced class weights (the first family).
  case logistic
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
  /// On the history's last two weeks: the share of transactions the review threshold alerts on, and the share
  /// of those alerts that were frauds — what to expect of the thresholds going forward.
  public var recentAlertRate = 0.0
  public var recentPrecision = 0.0
  public var fingerprint: DataFingerprint
  /// Lines left out of the history because their time was more than the allowed clock skew ahead of the history
  /// before them (and the next transaction did not confirm it): messages naming each line.
  public var outliers: [String] = []
  /// Transactions whose id was already seen (a replayed line), skipped as the stream skips them.
  public var duplicates = 0
  /// The first and the last transaction time of the history the model was fitted on (seconds since the epoch).
  public var historySpan: ClosedRange<Double>? = nil
}

/// Replays a labeled history exactly as the stream would and fits the model on the features it produced.
public enum FraudTrainer {
  /// Trains on the CSV at `path`.
  /// - Throws: `TabularError` for bad rows (with line and column) or a history out of time order;
  ///   `CommerceError` for a file without labels or with a single class.
  /// - Parameters:
  ///   - maxClockSkew: a transaction more than this many seconds ahead of the one before is left out as a typo
  ///     (and reported) unless the next transaction confirms the jump, so that one bad date cannot move the
  ///     clock of the state the stream starts from.
  ///   - l2: the ridge penalty of the fit (on standardized features).
  public static func train(
    path: String, mapping: ColumnMapping, labelDelay: Double, rules: RuleSet, target: ThresholdTarget,
    maxClockSkew: Double = 86_400, l2: Double = 1, family: FraudFamily = .additive
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
    var times: [Double] = []
    // The stream's engine replays the history (rules alone scoring: the model is what is being trained), so that
    // the features trained on are exactly those `fraud stream` computes.
    var streamOptions = StreamOptions()
    streamOptions.labelDelay = labelDelay
    streamOptions.checkpointEvery = .max
    let engine = FraudStream(
      model: FraudModel.rulesOnly(RuleSet(rules: []), labelDelay: labelDelay), state: state, states: nil,
      checkpointName: "", options: streamOptions)
    let run = StreamRun(labelDelay: labelDelay)
    let features = run.features
    var last = -Double.infinity
    var outliers: [String] = []
    // A transaction far ahead of the history, waiting for the next one to confirm it (with its line).
    var pending: (transaction: Transaction, line: Int)? = nil
    var duplicates = 0
    func observe(_ tx: Transaction, line: Int) throws {
      if state.hasSeen(tx.idHash) {
        duplicates += 1
        return
      }
      guard let label = tx.label else {
        throw TabularError(
          .badValue, file: path, line: line, column: reader.place(ofField: source.label!).column,
          "column '\(Header.shown(reader.header.names[source.label!]))': the label is blank; training needs every transaction labeled"
        )
      }
      last = tx.time
      _ = try engine.step(run, tx)
      rows.append(contentsOf: UnsafeBufferPointer(start: features, count: f))
      labels.append(label)
      times.append(tx.time)
      if state.processed % 1_000_000 == 0 { state.expire(before: state.watermark) }
    }
    func leaveOutPending() {
      guard let p = pending else { return }
      pending = nil
      outliers.append(
        "\(path):\(p.line): dated more than the allowed clock skew (\(Int(maxClockSkew)) s) ahead of the history before it, and the next transaction does not confirm it; left out as a likely typo"
      )
    }
    var dates = FieldParser.TimestampCache()
    while try reader.next() {
      switch try source.record(reader, dates: &dates) {
      case .label(let id, let fraud):
        state.applyLabel(transaction: id, fraud: fraud)
      case .transaction(let tx, _):
        if last > -.infinity && tx.time > last + maxClockSkew {
          if let p = pending, abs(tx.time - p.transaction.time) <= maxClockSkew {
            // Two transactions agree: the history really jumps ahead.
            pending = nil
            try observe(p.transaction, line: p.line)
            try observe(tx, line: reader.line)
          } else {
            leaveOutPending()
            pending = (tx, reader.line)
          }
          continue
        }
        leaveOutPending()
        if tx.time < last {
          throw TabularError(
            .badValue, file: path, line: reader.line, column: reader.place(ofField: source.time).column,
            "the history is not in time order (this transaction is earlier than the one before); sort it by timestamp")
        }
        try observe(tx, line: reader.line)
      }
    }
    leaveOutPending()
    let n = labels.count
    let frauds = labels.lazy.filter { $0 }.count
    // A clock-skew limit that leaves out a large part of the history trains on what remains as if it were all:
    // refuse, naming the option, rather than register a model of a sliver of the data.
    if outliers.count > 10 && outliers.count * 20 > n + outliers.count {
      throw CommerceError(
        .usage,
        "\(path): \(outliers.count) of \(n + outliers.count) transactions (\(percent(outliers.count, n + outliers.count))) were dated more than \(.maxClockSkew) (\(Int(maxClockSkew)) s) ahead of the one before and left out; training on the rest would ignore most of the history. Raise \(.maxClockSkew) (the default is 1d) or fix the timestamps",
        parameter: .maxClockSkew)
    }
    guard n > 0 else { throw CommerceError(.data, "\(path): no transactions") }
    guard frauds > 0, frauds < n else {
      throw CommerceError(
        .data, "\(path): every transaction has the same label; training needs frauds and genuine ones")
    }
    let estimator: FraudEstimator
    let scores: [Double]
    switch family {
    case .additive:
      var configuration = AdditiveFraudEstimator.Configuration()
      configuration.l2 = max(l2, 1) * 20
      let (fitted, _) = AdditiveFraudEstimator.fit(
        rows: rows, labels: labels, historyDays: ((times.last ?? 0) - (times.first ?? 0)) / 86_400,
        configuration: configuration)
      estimator = .additive(fitted)
      let scorer = Scorer(
        model: FraudModel(
          estimator: estimator, reviewThreshold: 1, declineThreshold: 1, rules: RuleSet(rules: []),
          labelDelay: labelDelay, thresholdRule: ""))
      var reasons: [UInt8] = []
      scores = rows.withUnsafeBufferPointer { r in
        (0..<n).map { i in scorer.score(r.baseAddress! + i * f, RuleInputs(), reasons: &reasons).0 }
      }
    case .logistic:
      (estimator, scores) = try fitLogistic(rows: rows, labels: labels, frauds: frauds, l2: l2)
    }
    rows = []
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
    let deciles = (1..<10).map { k in sorted[min(n - 1, (10 - k) * n / 10)] }
    var model = FraudModel(
      estimator: estimator,
      reviewThreshold: review, declineThreshold: decline, rules: rules, labelDelay: labelDelay, thresholdRule: rule)
    model.scoreDeciles = deciles
    let alerts = scores.lazy.filter { $0 >= review }.count
    // A model whose scores hardly differ cannot rank: its thresholds alert on far more (or fewer) transactions
    // than asked. Refuse it rather than register a model that reviews everything.
    if case .alertRate(let rate) = target {
      let obtained = Double(alerts) / Double(n)
      if sorted.first == sorted.last || obtained > max(3 * rate, rate + 0.05) {
        throw CommerceError(
          .data,
          "\(path): the fitted model's scores \(sorted.first == sorted.last ? "are all equal" : "barely vary") (from \(sorted.last ?? 0) to \(sorted.first ?? 0)): the alert rate asked for is \(rate), its thresholds would alert on \(percent(alerts, n)) of the history. The penalty is too strong or the features carry nothing; lower \(.l2) (now \(l2))",
          parameter: .l2)
      }
    }
    let recent = times.indices.filter { times[$0] >= (times.last ?? 0) - 14 * 86_400 }
    let recentAlerts = recent.filter { scores[$0] >= review }
    var report = FraudTrainingReport(
      model: model, state: state, transactions: n, frauds: frauds,
      trainingAUC: try ClassificationMetrics.rocAUC(labels: labels, scores: scores),
      trainingAveragePrecision: try ClassificationMetrics.averagePrecision(labels: labels, scores: scores),
      alertRate: Double(alerts) / Double(n), fingerprint: reader.fingerprint, outliers: outliers,
      duplicates: duplicates)
    if let first = times.first, let last = times.last, first <= last { report.historySpan = first...last }
    report.recentAlertRate = Double(recentAlerts.count) / Double(max(recent.count, 1))
    report.recentPrecision =
      Double(recentAlerts.filter { labels[$0] }.count) / Double(max(recentAlerts.count, 1))
    return report
  }

  /// Logistic regression on standardized features with balanced class weights and a ridge.
  static func fitLogistic(rows: [Double], labels: [Bool], frauds: Int, l2: Double) throws -> (FraudEstimator, [Double])
  {
    let f = FraudFeature.count
    let n = labels.count
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
    let x = DesignMatrix(rows: n, columns: f + 1, values: design)
    let positiveWeight = Double(n) / (2 * Double(frauds))
    let negativeWeight = Double(n) / (2 * Double(n - frauds))
    var configuration = LogisticRegression.Configuration()
    configuration.l2 = l2
    let fit = try LogisticRegression.fit(
      x, labels: labels, weights: labels.map { $0 ? positiveWeight : negativeWeight }, configuration: configuration)
    return (
      .logistic(LogisticFraudEstimator(coefficients: fit.coefficients, means: means, sds: sds)),
      try fit.probabilities(x)
    )
  }
}

/// `part` of `whole` as a percentage with one decimal (`12.5%`).
func percent(_ part: Int, _ whole: Int) -> String {
  String(format: "%.1f%%", 100 * Double(part) / Double(max(whole, 1)))
}
