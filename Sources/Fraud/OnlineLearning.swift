import Foundation
import Modeling

/// Online learning of the additive model's weights from labels as they become known.
///
/// Each labeled transaction updates the weights of the bins it fell in, once its label is known — a transaction
/// row's label after the label delay, a feedback row's at once — never before. The update is a Newton step on
/// the logistic loss, spread over the transaction's bins by their evidence `H` — the curvature `Σ p(1 − p)` of the
/// training history falling in that bin over the last `memory` (per day, as the model stored it), plus the
/// stream's own, all of it fading with time constant `memory`. A bin the history saw often
/// moves little; a bin it rarely saw (where a new pattern shows first) moves fast; and as evidence fades, the
/// model keeps following a pattern that changes.
///
/// The learned weights, the evidence and the labels still waiting are part of every checkpoint.
public final class OnlineLearning {
  /// The model version the weights were learned from (0 when not from a store).
  public internal(set) var baseVersion: Int
  /// The number of labels learned from.
  public internal(set) var learned = 0
  /// The event time of the stream's next registration (`StreamOptions.registerEvery`), not a number until the
  /// first transaction sets it; checkpointed, so that a resumed stream registers at the same times.
  var nextRegistration = Double.nan
  /// The evidence's time constant (seconds).
  public let memory: Double
  let features: Int
  /// Per bin (all features' bins in a row, as the scoring table lays them out): weight, and evidence on a scale
  /// that grows with time — bin `c`'s evidence at time `t` is `evidence[c]·exp(−(t − reference)/memory)`, so all
  /// of it fades at once with one `exp` per label (`reference` is the first label's time, moved forward when the
  /// scale grows large).
  var weights: [Double]
  var evidence: [Double]
  var reference = -Double.infinity
  /// Transaction rows whose label is not known yet: release time, label, bins (`features` bytes each).
  var waitingRelease: [Double] = []
  var waitingLabel: [UInt8] = []
  var waitingBins: [UInt8] = []
  var waitingHead = 0
  /// Recent unlabeled transactions' bins by id, for feedback rows: a ring of `remembered` slots and the slot of
  /// each id (stale when overwritten since).
  static let remembered = 1 << 18
  var ringKeys: [UInt64]
  var ringBins: [UInt8]
  var ringNext = 0
  var slots: [UInt64: Int] = [:]
  /// The table the stream scores with: its weights are the learned ones.
  let table: AdditiveTable

  /// The weights of `estimator`, learned on from now, scored through `table` (built from `estimator`).
  /// - Throws: `CommerceError(.usage)` when the model has no stored evidence (trained before online learning).
  init(estimator: AdditiveFraudEstimator, table: AdditiveTable, memory: Double, baseVersion: Int) throws {
    guard let curvature = estimator.curvature else {
      throw CommerceError(
        .usage, "this fraud model was trained before online learning existed; train it again to learn online")
    }
    self.memory = memory
    self.baseVersion = baseVersion
    self.table = table
    features = estimator.edges.count
    weights = estimator.weights.flatMap { $0 }
    evidence = curvature.flatMap { $0.map { $0 * memory / 86_400 } }
    ringKeys = [UInt64](repeating: 0, count: OnlineLearning.remembered)
    ringBins = [UInt8](repeating: 0, count: OnlineLearning.remembered * features)
  }

  /// The estimator with the learned weights, and as its curvature the evidence now (per day).
  func estimator(from base: AdditiveFraudEstimator, at time: Double) -> AdditiveFraudEstimator {
    var e = base
    var offset = 0
    var curvature: [[Double]] = []
    for j in e.weights.indices {
      let n = e.weights[j].count
      e.weights[j] = Array(weights[offset..<(offset + n)])
      curvature.append(
        (offset..<(offset + n)).map { c in
          evidence(c, at: time) * 86_400 / memory
        })
      offset += n
    }
    e.curvature = curvature
    return e
  }

  /// Labels waiting for their delay.
  public var waiting: Int { waitingRelease.count - waitingHead }

  /// Records a scored transaction with `features`: its label (if it has one) is learned at `release`, else it is
  /// remembered for a feedback row.
  @inline(__always)
  func record(_ f: UnsafePointer<Double>, idHash: UInt64, label: Bool?, release: Double) {
    if let label {
      if waitingHead > 65_536 && waitingHead * 2 > waitingRelease.count {
        waitingRelease.removeFirst(waitingHead)
        waitingLabel.removeFirst(waitingHead)
        waitingBins.removeFirst(waitingHead * features)
        waitingHead = 0
      }
      waitingRelease.append(release)
      waitingLabel.append(label ? 1 : 0)
      for k in 0..<features { waitingBins.append(UInt8(table.bin(k, f[k]))) }
    } else {
      let slot = ringNext
      ringNext = (ringNext + 1) & (OnlineLearning.remembered - 1)
      if ringKeys[slot] != 0, slots[ringKeys[slot]] == slot { slots[ringKeys[slot]] = nil }
      let key = RecentTransactions.normalize(idHash)
      ringKeys[slot] = key
      slots[key] = slot
      for k in 0..<features { ringBins[slot * features + k] = UInt8(table.bin(k, f[k])) }
    }
  }

  /// Learns every waiting label released at or before `time`.
  @inline(__always)
  func release(until time: Double) {
    while waitingHead < waitingRelease.count && waitingRelease[waitingHead] <= time {
      let h = waitingHead
      waitingHead += 1
      let label = waitingLabel[h] != 0
      let release = waitingRelease[h]
      waitingBins.withUnsafeBufferPointer { update(bins: $0.baseAddress! + h * features, label: label, at: release) }
    }
  }

  /// Learns a feedback row's label for a remembered transaction at `time`; false when it is not remembered.
  @discardableResult
  func feedback(_ idHash: UInt64, fraud: Bool, at time: Double) -> Bool {
    let key = RecentTransactions.normalize(idHash)
    guard let slot = slots[key], ringKeys[slot] == key else { return false }
    slots[key] = nil
    ringKeys[slot] = 0
    ringBins.withUnsafeBufferPointer { update(bins: $0.baseAddress! + slot * features, label: fraud, at: time) }
    return true
  }

  /// One update for the transaction with `bins` and `label`, at `time`: each bin's weight is a Gaussian belief of
  /// precision `H` (its evidence, at least `prior`); the observation's Laplace update moves the log-odds by
  /// `g · Σ 1/H` with `g = (y − p) / (1 + p(1 − p) Σ 1/H)`, each bin by its share `g / H`, and adds `p(1 − p)` to
  /// each bin's evidence.
  func update(bins: UnsafePointer<UInt8>, label: Bool, at time: Double) {
    let growth = scale(at: time)
    var eta = table.intercept
    var spread = 0.0
    for k in 0..<features {
      let c = table.weightStart(k) + Int(bins[k])
      eta += weights[c]
      spread += 1 / (evidence[c] / growth + OnlineLearning.prior)
    }
    let p = 1 / (1 + exp(-eta))
    let curvature = p * (1 - p)
    let g = ((label ? 1 : 0) - p) / (1 + curvature * spread)
    for k in 0..<features {
      let c = table.weightStart(k) + Int(bins[k])
      weights[c] += g / (evidence[c] / growth + OnlineLearning.prior)
      evidence[c] += curvature * growth
      table.weights[c] = weights[c]
    }
    learned += 1
  }

  /// The evidence scale at `time`, `exp((time − reference)/memory)`; the first call sets the reference, and when
  /// the scale passes 1e100 the evidence is brought to `time` and the reference moves there.
  @inline(__always)
  func scale(at time: Double) -> Double {
    if reference == -.infinity { reference = time }
    let growth = exp(max(0, time - reference) / memory)
    guard growth > 1e100 else { return growth }
    for c in evidence.indices { evidence[c] /= growth }
    reference = time
    return 1
  }

  /// Bin `c`'s evidence at `time`.
  func evidence(_ c: Int, at time: Double) -> Double {
    reference == -.infinity ? evidence[c] : evidence[c] * exp(-max(0, time - reference) / memory)
  }

  /// The least precision of a bin's weight (the fit's penalty keeps a bin of no evidence from moving further).
  static let prior = 1.0

  /// Puts the learned weights into the scoring table.
  func install() {
    for c in weights.indices { table.weights[c] = weights[c] }
  }
}

extension OnlineLearning {
  /// 2 adds the next registration time after the remembered transactions; 1 is still read.
  static let formatVersion: UInt32 = 2

  /// Appends the learning state to `w`.
  func encode(into w: inout BinaryWriter) {
    w.write(OnlineLearning.formatVersion)
    w.write(Int64(baseVersion))
    w.write(Int64(learned))
    w.write(memory)
    w.write(UInt64(features))
    w.write(array: weights)
    w.write(array: evidence)
    w.write(reference)
    w.write(array: Array(waitingRelease[waitingHead...]))
    w.write(array: Array(waitingLabel[waitingHead...]))
    w.write(array: Array(waitingBins[(waitingHead * features)...]))
    w.write(UInt64(ringNext))
    w.write(array: ringKeys)
    w.write(array: ringBins)
    w.write(nextRegistration)
  }

  /// The learning state `encode(into:)` wrote.
  static func decode(_ r: inout BinaryReader) throws -> Decoded {
    let format = try r.read(UInt32.self)
    guard format == 1 || format == formatVersion else { throw BinaryReader.Damaged() }
    let base = Int(try r.read(Int64.self))
    let learned = Int(try r.read(Int64.self))
    let memory = try r.read(Double.self)
    let features = Int(try r.read(UInt64.self))
    let weights = try r.readArray(Double.self)
    let evidence = try r.readArray(Double.self)
    let reference = try r.read(Double.self)
    let release = try r.readArray(Double.self)
    let label = try r.readArray(UInt8.self)
    let bins = try r.readArray(UInt8.self)
    let next = Int(try r.read(UInt64.self))
    let keys = try r.readArray(UInt64.self)
    let ring = try r.readArray(UInt8.self)
    let nextRegistration = format >= 2 ? try r.read(Double.self) : .nan
    guard memory > 0, memory.isFinite, features > 0, learned >= 0, evidence.count == weights.count,
      !reference.isNaN, reference < .infinity, label.count == release.count, bins.count == release.count * features,
      keys.count == remembered, ring.count == remembered * features, next >= 0, next < remembered,
      weights.allSatisfy(\.isFinite), evidence.allSatisfy({ $0 >= 0 && $0.isFinite }),
      nextRegistration.isNaN || nextRegistration.isFinite
    else { throw BinaryReader.Damaged() }
    return Decoded(
      baseVersion: base, learned: learned, memory: memory, features: features, weights: weights, evidence: evidence,
      reference: reference, release: release, label: label, bins: bins, ringNext: next, ringKeys: keys, ringBins: ring,
      nextRegistration: nextRegistration)
  }

  /// A decoded learning state, not yet tied to a scoring table.
  public struct Decoded {
    var baseVersion: Int
    var learned: Int
    var memory: Double
    var features: Int
    var weights: [Double]
    var evidence: [Double]
    var reference: Double
    var release: [Double]
    var label: [UInt8]
    var bins: [UInt8]
    var ringNext: Int
    var ringKeys: [UInt64]
    var ringBins: [UInt8]
    var nextRegistration: Double

    /// The version the weights were learned from.
    public var version: Int { baseVersion }
  }

  /// A learning state continuing `saved` on `table`.
  /// - Throws: `CommerceError(.data)` when `saved` does not fit the table's model (another feature set or binning).
  convenience init(
    resuming saved: Decoded, estimator: AdditiveFraudEstimator, table: AdditiveTable, memory: Double
  ) throws {
    guard saved.features == estimator.edges.count,
      saved.weights.count == estimator.weights.reduce(0, { $0 + $1.count })
    else {
      throw CommerceError(.data, "the checkpoint's learned weights do not fit the model's bins")
    }
    try self.init(estimator: estimator, table: table, memory: memory, baseVersion: saved.baseVersion)
    learned = saved.learned
    weights = saved.weights
    evidence = saved.evidence
    reference = saved.reference
    waitingRelease = saved.release
    waitingLabel = saved.label
    waitingBins = saved.bins
    ringNext = saved.ringNext
    ringKeys = saved.ringKeys
    ringBins = saved.ringBins
    nextRegistration = saved.nextRegistration
    slots = [:]
    for (slot, key) in ringKeys.enumerated() where key != 0 { slots[key] = slot }
    install()
  }
}

extension OnlineLearning {
  /// Takes over `saved`'s labels still waiting for their delay and its remembered transactions (for feedback
  /// rows), learned from here on under this learning's weights — for a stream whose scoring version changed (a
  /// rollback, a promotion) to one with the same bins. The caller checks that the bins agree.
  /// - Returns: the number of waiting labels and of remembered transactions taken over.
  /// - Parameter remap: per feature, the bin of this learning's table for each bin of `saved`'s (when the
  ///   binning differs); `nil` when the bins are the same.
  func takeOverWaiting(from saved: Decoded, remap: [[UInt8]]? = nil) -> LearningStart.Waiting {
    guard saved.features == features, remap.map({ $0.count == features }) ?? true else {
      return LearningStart.Waiting(labels: 0, remembered: 0)
    }
    func mapped(_ bins: [UInt8]) -> [UInt8] {
      guard let remap else { return bins }
      var out = bins
      for i in out.indices {
        let row = remap[i % features]
        out[i] = Int(out[i]) < row.count ? row[Int(out[i])] : row.last ?? 0
      }
      return out
    }
    waitingRelease = saved.release
    waitingLabel = saved.label
    waitingBins = mapped(saved.bins)
    waitingHead = 0
    ringNext = saved.ringNext
    ringKeys = saved.ringKeys
    ringBins = mapped(saved.ringBins)
    slots = [:]
    for (slot, key) in ringKeys.enumerated() where key != 0 { slots[key] = slot }
    return LearningStart.Waiting(labels: waitingRelease.count, remembered: slots.count)
  }
}

extension OnlineLearning.Decoded {
  /// Labels waiting for their delay in this saved state.
  public var waiting: Int { release.count }
  /// Transactions remembered for feedback rows.
  public var remembered: Int { ringKeys.lazy.filter { $0 != 0 }.count }
  /// Labels learned from so far.
  public var labelsLearned: Int { learned }
}
