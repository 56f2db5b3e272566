import Foundation

/// The curves behind a binary classifier's evaluation, computed once from labels and scores: ROC and
/// precision–recall points (thinned with their shape kept), a threshold sweep, score histograms by class and the
/// reliability (calibration) bins. The text commands print them (`--format json`) and the reports draw them.
public struct ClassifierCurves: Sendable, Codable, Equatable {
  public struct CurvePoint: Sendable, Codable, Equatable {
    public var x: Double
    public var y: Double
    /// The lowest score counted positive at this point.
    public var threshold: Double

    public init(x: Double, y: Double, threshold: Double) {
      self.x = x
      self.y = y
      self.threshold = threshold
    }
  }

  public struct SweepRow: Sendable, Codable, Equatable {
    public var threshold: Double
    public var precision: Double
    public var recall: Double
    public var f1: Double
    /// Share of all scored rows at or above the threshold.
    public var alertRate: Double
  }

  public struct ReliabilityBin: Sendable, Codable, Equatable {
    public var lower: Double
    public var upper: Double
    public var count: Int
    public var meanPredicted: Double
    public var observedRate: Double
  }

  /// ROC: false-positive rate (x) against true-positive rate (y), from (0,0) to (1,1).
  public var roc: [CurvePoint]
  /// Precision–recall: recall (x) against precision (y), from the highest score down.
  public var precisionRecall: [CurvePoint]
  /// Precision, recall, F1 and alert rate at thresholds 0.01, 0.02, …, 0.99.
  public var sweep: [SweepRow]
  /// Counts of positives and negatives in 20 score bins of width 0.05 over [0, 1].
  public var positivesByScore: [Int]
  public var negativesByScore: [Int]
  /// Ten bins of width 0.1: mean score and observed positive rate.
  public var reliability: [ReliabilityBin]

  /// Points kept on a curve at most.
  public static let curvePoints = 200

  /// - Precondition: `labels.count == scores.count`; scores are probabilities (outside [0, 1] they fall in the end
  ///   bins).
  public init(labels: [Bool], scores: [Double]) {
    precondition(labels.count == scores.count, "one label per score")
    let order = ClassificationMetrics.descendingOrder(scores)
    let positives = labels.lazy.filter { $0 }.count
    let negatives = labels.count - positives
    // (0, 0): nothing counted positive, just above the highest score.
    var roc = [CurvePoint(x: 0, y: 0, threshold: (order.first.map { scores[$0] } ?? 1).nextUp)]
    var pr = [CurvePoint]()
    var tp = 0
    var fp = 0
    var i = 0
    while i < order.count {
      let s = scores[order[i]]
      while i < order.count && scores[order[i]] == s {
        if labels[order[i]] { tp += 1 } else { fp += 1 }
        i += 1
      }
      roc.append(
        CurvePoint(
          x: negatives > 0 ? Double(fp) / Double(negatives) : 0, y: positives > 0 ? Double(tp) / Double(positives) : 0,
          threshold: s))
      pr.append(
        CurvePoint(
          x: positives > 0 ? Double(tp) / Double(positives) : 0, y: Double(tp) / Double(tp + fp), threshold: s))
    }
    self.roc = CurveThinning.thin(roc, limit: Self.curvePoints)
    precisionRecall = CurveThinning.thin(pr, limit: Self.curvePoints)
    // Histograms and reliability in one pass.
    var pos = [Int](repeating: 0, count: 20)
    var neg = [Int](repeating: 0, count: 20)
    var binCount = [Int](repeating: 0, count: 10)
    var binSum = [Double](repeating: 0, count: 10)
    var binPositive = [Int](repeating: 0, count: 10)
    for (y, s) in zip(labels, scores) {
      let h = min(19, max(0, Int(s * 20)))
      if y { pos[h] += 1 } else { neg[h] += 1 }
      let b = min(9, max(0, Int(s * 10)))
      binCount[b] += 1
      binSum[b] += s
      if y { binPositive[b] += 1 }
    }
    positivesByScore = pos
    negativesByScore = neg
    reliability = (0..<10).map { b in
      ReliabilityBin(
        lower: Double(b) / 10, upper: Double(b + 1) / 10, count: binCount[b],
        meanPredicted: binCount[b] > 0 ? binSum[b] / Double(binCount[b]) : 0,
        observedRate: binCount[b] > 0 ? Double(binPositive[b]) / Double(binCount[b]) : 0)
    }
    // The sweep from the 20-bin histogram would be coarse: count exactly, walking the sorted scores once.
    var sweep = [SweepRow]()
    var k = 0
    tp = 0
    fp = 0
    for step in stride(from: 99, through: 1, by: -1) {
      let t = Double(step) / 100
      while k < order.count && scores[order[k]] >= t {
        if labels[order[k]] { tp += 1 } else { fp += 1 }
        k += 1
      }
      let precision = tp + fp > 0 ? Double(tp) / Double(tp + fp) : 0
      let recall = positives > 0 ? Double(tp) / Double(positives) : 0
      let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
      sweep.append(
        SweepRow(
          threshold: t, precision: precision, recall: recall, f1: f1,
          alertRate: labels.isEmpty ? 0 : Double(tp + fp) / Double(labels.count)))
    }
    self.sweep = sweep.reversed()
  }
}

/// Thins a curve of many points to what a chart can show, its shape kept: Ramer–Douglas–Peucker simplification in
/// the unit square of the points' own ranges, the tolerance doubled until at most `limit` points remain; the first
/// and last points always stay.
public enum CurveThinning {
  public static func thin(_ points: [ClassifierCurves.CurvePoint], limit: Int, tolerance: Double = 0.001)
    -> [ClassifierCurves.CurvePoint]
  {
    let keep = indices(xs: points.map(\.x), ys: points.map(\.y), limit: limit, tolerance: tolerance)
    return keep.map { points[$0] }
  }

  /// The indices kept of a curve through (`xs[k]`, `ys[k]`).
  public static func indices(xs: [Double], ys: [Double], limit: Int, tolerance: Double = 0.001) -> [Int] {
    let n = xs.count
    guard n > limit, n > 2 else { return Array(0..<n) }
    let sx = max((xs.max() ?? 1) - (xs.min() ?? 0), 1e-300)
    let sy = max((ys.max() ?? 1) - (ys.min() ?? 0), 1e-300)
    var tol = tolerance
    while true {
      var keep = [Bool](repeating: false, count: n)
      keep[0] = true
      keep[n - 1] = true
      var kept = 2
      var stack = [(0, n - 1)]
      while let (lo, hi) = stack.popLast(), kept <= limit {
        guard hi > lo + 1 else { continue }
        let (ax, ay) = (xs[lo] / sx, ys[lo] / sy)
        let (dx, dy) = (xs[hi] / sx - ax, ys[hi] / sy - ay)
        let length = max((dx * dx + dy * dy).squareRoot(), 1e-300)
        var worst = -1.0
        var at = lo
        for k in (lo + 1)..<hi {
          let distance = abs(dy * (xs[k] / sx - ax) - dx * (ys[k] / sy - ay)) / length
          if distance > worst {
            worst = distance
            at = k
          }
        }
        if worst > tol {
          keep[at] = true
          kept += 1
          stack.append((lo, at))
          stack.append((at, hi))
        }
      }
      if kept <= limit { return (0..<n).filter { keep[$0] } }
      tol *= 2
    }
  }
}
