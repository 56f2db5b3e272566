import Foundation
import Modeling

/// A binned additive model on the stream features: `log-odds = intercept + Σ_j w_j(bin_j(x_j))`, each feature's
/// shape learned from the labeled history (a step where frauds start above some amount, a rise with a terminal's
/// known fraud rate, a dip for a usual amount) rather than a straight line. Fitted by cyclic Newton boosting of
/// the logistic loss without class weights, so the score is a calibrated probability.
public struct AdditiveFraudEstimator: Sendable, Equatable, Codable {
  public var intercept: Double
  /// Per feature: the ascending bin edges (bin k is `[edges[k-1], edges[k])`), then one weight per bin.
  public var edges: [[Double]]
  public var weights: [[Double]]
  /// Per feature and bin: the curvature of the log-likelihood, `Σ p(1 − p)`, of the history's transactions in
  /// that bin per day of history — how much evidence the fit had there, which online learning weighs new labels
  /// against. `nil` in models trained before online learning.
  public var curvature: [[Double]]? = nil

  public init(intercept: Double, edges: [[Double]], weights: [[Double]], curvature: [[Double]]? = nil) {
    self.intercept = intercept
    self.edges = edges
    self.weights = weights
    self.curvature = curvature
  }

  /// Whether the sizes fit today's features.
  var isWellFormed: Bool {
    edges.count == FraudFeature.count && weights.count == FraudFeature.count
      && (curvature.map { c in
        c.count == weights.count && zip(c, weights).allSatisfy { $0.count == $1.count }
          && c.allSatisfy { $0.allSatisfy { $0 >= 0 && $0.isFinite } }
      } ?? true)
      && zip(edges, weights).allSatisfy { $0.count + 1 == $1.count && $0.count <= 255 }
      && edges.allSatisfy { e in zip(e, e.dropFirst()).allSatisfy { $0 < $1 } && e.allSatisfy(\.isFinite) }
      && weights.allSatisfy { $0.allSatisfy(\.isFinite) } && intercept.isFinite
  }

  /// The bin of `value` among `edges`.
  static func bin(_ value: Double, _ edges: [Double]) -> Int {
    var lo = 0
    var hi = edges.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if value >= edges[mid] { lo = mid + 1 } else { hi = mid }
    }
    return lo
  }

  /// Settings of the fit.
  public struct Configuration: Sendable {
    /// Most bins per feature (at most 256: a feature with fewer distinct values gets one per value).
    public var bins = 255
    /// Shrinkage of each Newton step.
    public var learningRate = 0.5
    /// L2 penalty on each bin's step, in units of the Hessian (a bin of few transactions moves little).
    public var l2 = 20.0
    /// Most rounds over the features; the fit stops earlier when the validation loss stops falling.
    public var maxRounds = 60
    /// The most recent share of the history held out to choose the number of rounds.
    public var validationShare = 0.15
    /// Legitimate transactions are kept one in this many (every fraud is kept), each weighing this many: the fit
    /// sees the same loss in expectation on a tenth of the rows. 1 keeps every row.
    public var negativeStride = 4

    public init() {}
  }

  /// Fits to `rows` (`n × FraudFeature.count`, in time order) and `labels`: the number of rounds is chosen on the
  /// most recent `validationShare` of the history, then the model is refitted on all of it with that many.
  /// `historyDays` (the history's span) scales the stored curvature to a day.
  static func fit(rows: [Double], labels: [Bool], historyDays: Double = 1, configuration c: Configuration) -> (
    AdditiveFraudEstimator, rounds: Int
  ) {
    let f = FraudFeature.count
    let n = labels.count
    // Bins from quantiles of each feature.
    var edges: [[Double]] = []
    for j in 0..<f {
      let step = max(1, n / 200_000)
      var sample: [Double] = []
      sample.reserveCapacity(n / step + 1)
      var i = 0
      while i < n {
        sample.append(rows[i * f + j])
        i += step
      }
      sample.sort()
      var distinct: [Double] = []
      for v in sample where distinct.last != v { distinct.append(v) }
      edges.append(binEdges(sample: sample, distinct: distinct, bins: c.bins))
    }
    // The rows fitted (every fraud, one legitimate transaction in `negativeStride`, in time order) and each one's
    // bin per feature and weight.
    let stride = max(1, c.negativeStride)
    let kept = (0..<n).filter { labels[$0] || $0 % stride == 0 }
    let m = kept.count
    var codes = [UInt8](repeating: 0, count: m * f)
    var keptLabels = [Bool](repeating: false, count: m)
    var weights = [Double](repeating: 1, count: m)
    for (k, i) in kept.enumerated() {
      for j in 0..<f { codes[k * f + j] = UInt8(bin(rows[i * f + j], edges[j])) }
      keptLabels[k] = labels[i]
      weights[k] = labels[i] ? 1 : Double(stride)
    }
    let labels = keptLabels
    let cut = max(1, min(m - 1, Int(Double(m) * (1 - c.validationShare))))
    let trial = boost(
      codes: codes, labels: labels, weights: weights, edges: edges, train: 0..<cut, validation: cut..<m,
      rounds: c.maxRounds, c)
    // Calibration (Platt): the held-out part's log-odds under the model fitted without it, regressed on its labels,
    // give a slope and shift that correct the boosted log-odds' over-confidence; they are applied to the final
    // model's terms.
    var validationEta: [Double] = []
    var validationLabels: [Bool] = []
    var validationWeights: [Double] = []
    for i in cut..<m {
      var eta = trial.model.intercept
      for j in 0..<f { eta += trial.model.weights[j][Int(codes[i * f + j])] }
      validationEta.append(eta)
      validationLabels.append(labels[i])
      validationWeights.append(weights[i])
    }
    let final = boost(
      codes: codes, labels: labels, weights: weights, edges: edges, train: 0..<m, validation: nil,
      rounds: trial.best, c)
    var model = final.model
    if validationLabels.contains(true) && validationLabels.contains(false),
      let platt = try? LogisticRegression.fit(
        DesignMatrix(rows: validationEta.count, columns: 2, values: validationEta.flatMap { [1, $0] }),
        labels: validationLabels, weights: validationWeights),
      platt.coefficients[1].isFinite, platt.coefficients[1] > 0.2, platt.coefficients[1] < 5
    {
      let (b, a) = (platt.coefficients[0], platt.coefficients[1])
      model.intercept = a * model.intercept + b
      model.weights = model.weights.map { $0.map { a * $0 } }
    }
    // The evidence per bin and day under the final model.
    var curvature = model.weights.map { [Double](repeating: 0, count: $0.count) }
    for i in 0..<m {
      var eta = model.intercept
      for j in 0..<f { eta += model.weights[j][Int(codes[i * f + j])] }
      let p = 1 / (1 + exp(-eta))
      for j in 0..<f { curvature[j][Int(codes[i * f + j])] += weights[i] * p * (1 - p) }
    }
    let days = max(historyDays, 1)
    model.curvature = curvature.map { $0.map { $0 / days } }
    return (model, trial.best)
  }

  /// Bin edges for a feature from a sorted sample of its values: one bin per value when there are few, else the
  /// union of three grids — quantiles of all values, quantiles of the values other than the most common one (a
  /// feature that is mostly 0 still gets bins where it is not), and equal widths over the range (so that a rare
  /// tail, where a fraud pattern may start, is cut finely too).
  static func binEdges(sample: [Double], distinct: [Double], bins: Int) -> [Double] {
    guard distinct.count > 1 else { return [] }
    if distinct.count <= bins {
      return (1..<distinct.count).map { (distinct[$0 - 1] + distinct[$0]) / 2 }
    }
    let third = max(2, bins / 3)
    var candidates: [Double] = []
    for k in 1..<third { candidates.append(sample[k * sample.count / third]) }
    // The most common value and the rest.
    var mode = sample[0]
    var best = 0
    var run = 0
    for (i, v) in sample.enumerated() {
      run = i > 0 && sample[i - 1] == v ? run + 1 : 1
      if run > best {
        best = run
        mode = v
      }
    }
    let rest = sample.filter { $0 != mode }
    if rest.count > third { for k in 1..<third { candidates.append(rest[k * rest.count / third]) } }
    let lo = distinct.first!
    let hi = distinct.last!
    for k in 1..<third { candidates.append(lo + (hi - lo) * Double(k) / Double(third)) }
    candidates.sort()
    var edges: [Double] = []
    for v in candidates where v > lo && edges.last.map({ v > $0 }) ?? true { edges.append(v) }
    if edges.count >= bins {
      let keep = bins - 1
      edges = (0..<keep).map { edges[$0 * edges.count / keep] }
    }
    return edges
  }

  /// Cyclic Newton boosting on the rows `train`; with `validation`, also the round of lowest validation log loss.
  static func boost(
    codes: [UInt8], labels: [Bool], weights rowWeights: [Double], edges: [[Double]], train: Range<Int>,
    validation: Range<Int>?, rounds: Int, _ c: Configuration
  ) -> (model: AdditiveFraudEstimator, best: Int) {
    let f = FraudFeature.count
    var positives = 0.0
    var negatives = 0.0
    for i in train { if labels[i] { positives += rowWeights[i] } else { negatives += rowWeights[i] } }
    let prior = log(max(positives, 1) / max(negatives, 1))
    var weights = edges.map { [Double](repeating: 0, count: $0.count + 1) }
    let all = train.lowerBound..<(validation?.upperBound ?? train.upperBound)
    var margin = [Double](repeating: prior, count: all.upperBound)
    var bestLoss = Double.infinity
    var best = 0
    var bestWeights = weights
    var bestShift = 0.0
    var sinceBest = 0
    // Two chunks whatever the machine, run at once when it can: the sums (and so the model) do not depend on the
    // number of processors.
    let threads = 2
    var shift = 0.0
    for round in 1...max(1, rounds) {
      // The intercept's own Newton step, so that the mean probability stays the fraud rate (a calibrated score).
      var gi = 0.0
      var hi = 0.0
      for i in train {
        let p = 1 / (1 + exp(-margin[i]))
        gi += rowWeights[i] * (p - (labels[i] ? 1 : 0))
        hi += rowWeights[i] * p * (1 - p)
      }
      let step0 = hi > 0 ? -gi / hi : 0
      shift += step0
      for i in all { margin[i] += step0 }
      for j in 0..<f {
        let bins = weights[j].count
        // Gradient and Hessian sums per bin over the training rows, in chunks.
        var g = [Double](repeating: 0, count: bins * threads)
        var h = [Double](repeating: 0, count: bins * threads)
        let chunk = (train.count + threads - 1) / threads
        g.withUnsafeMutableBufferPointer { gp in
          h.withUnsafeMutableBufferPointer { hp in
            margin.withUnsafeBufferPointer { mp in
              codes.withUnsafeBufferPointer { cp in
                let (gs, hs, ms, cs) = (
                  UnsafeSendable(gp.baseAddress!), UnsafeSendable(hp.baseAddress!), UnsafeSendable(mp.baseAddress!),
                  UnsafeSendable(cp.baseAddress!)
                )
                DispatchQueue.concurrentPerform(iterations: threads) { t in
                  let lo = train.lowerBound + t * chunk
                  let hi = min(train.upperBound, lo + chunk)
                  guard lo < hi else { return }
                  let gb = gs.value + t * bins
                  let hb = hs.value + t * bins
                  for i in lo..<hi {
                    let p = 1 / (1 + exp(-ms.value[i]))
                    let b = Int(cs.value[i * f + j])
                    let w = rowWeights[i]
                    gb[b] += w * (p - (labels[i] ? 1 : 0))
                    hb[b] += w * p * (1 - p)
                  }
                }
              }
            }
          }
        }
        var step = [Double](repeating: 0, count: bins)
        for b in 0..<bins {
          var gs = 0.0
          var hs = 0.0
          for t in 0..<threads {
            gs += g[t * bins + b]
            hs += h[t * bins + b]
          }
          step[b] = -c.learningRate * gs / (hs + c.l2)
          weights[j][b] += step[b]
        }
        for i in all { margin[i] += step[Int(codes[i * f + j])] }
      }
      guard let validation else { continue }
      var loss = 0.0
      for i in validation {
        let p = min(max(1 / (1 + exp(-margin[i])), 1e-15), 1 - 1e-15)
        loss -= rowWeights[i] * (labels[i] ? log(p) : log(1 - p))
      }
      if loss < bestLoss - 1e-9 {
        bestLoss = loss
        best = round
        bestWeights = weights
        bestShift = shift
        sinceBest = 0
      } else {
        sinceBest += 1
        if sinceBest >= 3 { break }
      }
    }
    if validation == nil {
      best = rounds
      bestWeights = weights
      bestShift = shift
    }
    // Center each feature's shape on its mean over the training rows (the intercept takes the rest): a term is
    // then the feature's contribution against the average transaction, which is what reasons rank.
    var intercept = prior + bestShift
    for j in 0..<f {
      var mean = 0.0
      for i in train { mean += bestWeights[j][Int(codes[i * f + j])] }
      mean /= Double(max(train.count, 1))
      for b in bestWeights[j].indices { bestWeights[j][b] -= mean }
      intercept += mean
    }
    return (AdditiveFraudEstimator(intercept: intercept, edges: edges, weights: bestWeights), max(best, 1))
  }
}
