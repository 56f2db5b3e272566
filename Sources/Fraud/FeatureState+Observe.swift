import Foundation

/// One transaction as the engine sees it: ids hashed, optional fields as NaN or nil.
public struct Transaction: Sendable {
  public var idHash: UInt64
  public var time: Double
  public var card: UInt64
  /// 0 when the transaction has no merchant.
  public var merchant: UInt64
  public var amount: Double
  public var lat: Double
  public var lon: Double
  public var label: Bool?

  public init(
    idHash: UInt64, time: Double, card: UInt64, merchant: UInt64, amount: Double, lat: Double = .nan,
    lon: Double = .nan, label: Bool? = nil
  ) {
    self.idHash = idHash
    self.time = time
    self.card = card
    self.merchant = merchant
    self.amount = amount
    self.lat = lat
    self.lon = lon
    self.label = label
  }
}

/// Great-circle distance in kilometres.
@inline(__always)
func haversineKm(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
  let r = Double.pi / 180
  let dlat = (lat2 - lat1) * r
  let dlon = (lon2 - lon1) * r
  let a = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * r) * cos(lat2 * r) * sin(dlon / 2) * sin(dlon / 2)
  return 6371 * 2 * atan2(a.squareRoot(), (1 - a).squareRoot())
}

extension FeatureState {
  /// Makes labels whose release time has come known to the merchant features.
  func releaseLabels(until t: Double) {
    while let (m, day, fraud) = pending.pop(until: t) {
      let slot = Int(m)
      guard merchantHead[slot] != Int32.min, day > merchantHead[slot] - 30, day <= merchantHead[slot] else { continue }
      let b = ((Int(day) % 30) + 30) % 30
      merchantKnown[slot * 30 + b] += 1
      if fraud { merchantFrauds[slot * 30 + b] += 1 }
    }
  }

  /// A label for an earlier transaction (a feedback row): known from now on to the merchant features.
  /// Returns false when the transaction is no longer remembered.
  @discardableResult
  public func applyLabel(transaction idHash: UInt64, fraud: Bool) -> Bool {
    guard let (m, day) = recent.lookup(idHash), m >= 0 else { return false }
    let slot = Int(m)
    guard merchantHead[slot] != Int32.min, day > merchantHead[slot] - 30, day <= merchantHead[slot] else { return true }
    let b = ((Int(day) % 30) + 30) % 30
    merchantKnown[slot * 30 + b] += 1
    if fraud { merchantFrauds[slot * 30 + b] += 1 }
    return true
  }

  /// Whether a transaction with this id was already processed (recently).
  public func hasSeen(_ idHash: UInt64) -> Bool { recent.contains(idHash) }

  /// Computes the features of `tx` from the state before it, writes them to `features`
  /// (`FraudFeature.count` values) and `rules`, then adds `tx` to the state.
  ///
  /// - Parameter labelDelay: when `tx` carries a label, it becomes known to the merchant features this many
  ///   seconds after the transaction (`nil`: the label is ignored here).
  public func observe(
    _ tx: Transaction, labelDelay: Double?, features f: UnsafeMutablePointer<Double>, rules: inout RuleInputs
  ) {
    let t = tx.time
    if t > watermark { watermark = t }
    releaseLabels(until: watermark)
    let slot = cardSlot(tx.card)
    let epochs = (Int32((t / 600).rounded(.down)), Int32((t / 3600).rounded(.down)), Int32((t / 86_400).rounded(.down)))
    advanceCard(slot, ring: 0, to: epochs.0)
    advanceCard(slot, ring: 1, to: epochs.1)
    advanceCard(slot, ring: 2, to: epochs.2)
    let base = slot * FeatureState.bucketsPerCard
    var c1h = 0.0
    var c1d = 0.0
    var s1d = 0.0
    var c7d = 0.0
    var s7d = 0.0
    var c30d = 0.0
    var s30d = 0.0
    var small = 0.0
    for k in 0..<6 { c1h += Double(ringCount[base + k]) }
    for k in 0..<24 {
      c1d += Double(ringCount[base + 6 + k])
      s1d += Double(ringSum[base + 6 + k])
      small += Double(smallCount[slot * 24 + k])
    }
    for k in 0..<30 {
      c30d += Double(ringCount[base + 30 + k])
      s30d += Double(ringSum[base + 30 + k])
    }
    // The last 7 days: buckets head, head − 1, … (bucket of day e is e mod 30), one division only.
    var day7 = ((Int(ringHead[slot * 3 + 2]) % 30) + 30) % 30
    for _ in 0..<7 {
      c7d += Double(ringCount[base + 30 + day7])
      s7d += Double(ringSum[base + 30 + day7])
      day7 = day7 == 0 ? 29 : day7 - 1
    }
    let history = Double(count[slot])
    let runningMean = Double(mean[slot])
    let sd = history >= 2 ? (Double(m2[slot]) / (history - 1)).squareRoot() : 0
    let previous = lastTime[slot]
    let dt = previous.isFinite ? max(0, t - previous) : 30 * 86_400
    var distance = 0.0
    var speed = 0.0
    if !tx.lat.isNaN, !tx.lon.isNaN, !lastLat[slot].isNaN, previous.isFinite {
      distance = haversineKm(Double(lastLat[slot]), Double(lastLon[slot]), tx.lat, tx.lon)
      speed = distance / max(dt / 3600, 1.0 / 60)
    }
    let merchantTag = UInt32(truncatingIfNeeded: tx.merchant | 1)
    var firstUse = 1.0
    for k in 0..<FeatureState.recentMerchants where merchants[slot * FeatureState.recentMerchants + k] == merchantTag {
      firstUse = 0
    }
    if history == 0 { firstUse = 0 }
    var m1 = 0.0
    var m7 = 0.0
    var m30 = 0.0
    var r1 = 0.0
    var r7 = 0.0
    var r30 = 0.0
    var mSlot: Int32 = -1
    let day = epochs.2
    if tx.merchant != 0 {
      let ms = merchantSlot(tx.merchant)
      mSlot = Int32(ms)
      advanceMerchant(ms, to: day)
      var k1 = 0.0
      var f1 = 0.0
      var k7 = 0.0
      var f7 = 0.0
      var k30 = 0.0
      var f30 = 0.0
      var b = ((Int(merchantHead[ms]) % 30) + 30) % 30
      for age in 0..<30 {
        let n = Double(merchantCount[ms * 30 + b])
        let known = Double(merchantKnown[ms * 30 + b])
        let frauds = Double(merchantFrauds[ms * 30 + b])
        m30 += n
        k30 += known
        f30 += frauds
        if age < 7 {
          m7 += n
          k7 += known
          f7 += frauds
        }
        if age == 0 {
          m1 += n
          k1 += known
          f1 += frauds
        }
        b = b == 0 ? 29 : b - 1
      }
      r1 = k1 > 0 ? f1 / k1 : 0
      r7 = k7 > 0 ? f7 / k7 : 0
      r30 = k30 > 0 ? f30 / k30 : 0
    }
    let secondsOfDay = t - (t / 86_400).rounded(.down) * 86_400
    let hour = secondsOfDay / 3600
    let weekday = (Int((t / 86_400).rounded(.down)) + 4) % 7  // 1970-01-01 was a Thursday (4)
    let ratio = runningMean > 0 ? min(tx.amount / runningMean, 100) : 0
    let z = sd > 0 ? max(-50, min(50, (tx.amount - runningMean) / sd)) : 0
    f[FraudFeature.logAmount.rawValue] = log1p(max(tx.amount, 0))
    f[FraudFeature.cardCount1h.rawValue] = log1p(c1h)
    f[FraudFeature.cardCount1d.rawValue] = log1p(c1d)
    f[FraudFeature.cardCount7d.rawValue] = log1p(c7d)
    f[FraudFeature.cardCount30d.rawValue] = log1p(c30d)
    f[FraudFeature.cardMean1d.rawValue] = c1d > 0 ? log1p(s1d / c1d) : 0
    f[FraudFeature.cardMean7d.rawValue] = c7d > 0 ? log1p(s7d / c7d) : 0
    f[FraudFeature.cardMean30d.rawValue] = c30d > 0 ? log1p(s30d / c30d) : 0
    f[FraudFeature.amountToCardMean.rawValue] = ratio
    f[FraudFeature.amountZScore.rawValue] = z
    f[FraudFeature.logSecondsSincePrevious.rawValue] = log1p(dt)
    f[FraudFeature.firstUseOfMerchant.rawValue] = firstUse
    f[FraudFeature.newCard.rawValue] = history == 0 ? 1 : 0
    f[FraudFeature.logDistanceKm.rawValue] = log1p(distance)
    f[FraudFeature.logSpeedKmh.rawValue] = log1p(speed)
    f[FraudFeature.merchantCount1d.rawValue] = log1p(m1)
    f[FraudFeature.merchantCount7d.rawValue] = log1p(m7)
    f[FraudFeature.merchantCount30d.rawValue] = log1p(m30)
    f[FraudFeature.merchantFraudRate1d.rawValue] = r1
    f[FraudFeature.merchantFraudRate7d.rawValue] = r7
    f[FraudFeature.merchantFraudRate30d.rawValue] = r30
    f[FraudFeature.hourSin.rawValue] = sin(2 * Double.pi * hour / 24)
    f[FraudFeature.hourCos.rawValue] = cos(2 * Double.pi * hour / 24)
    f[FraudFeature.night.rawValue] = hour < 6 ? 1 : 0
    f[FraudFeature.weekend.rawValue] = weekday == 5 || weekday == 6 ? 1 : 0
    f[FraudFeature.smallCount1d.rawValue] = log1p(small)
    rules.amount = tx.amount
    rules.cardCount1h = c1h
    rules.cardCount1d = c1d
    rules.cardCount30d = c30d
    rules.cardMean30d = c30d > 0 ? s30d / c30d : 0
    rules.amountToCardMean = ratio
    rules.secondsSincePrevious = previous.isFinite ? dt : .infinity
    rules.distanceKm = distance
    rules.speedKmh = speed
    rules.smallCount1d = small
    rules.merchantFraudRate7d = r7
    rules.firstUseOfMerchant = firstUse
    rules.hour = hour

    // Update the card with this transaction.
    for r in 0..<3 {
      let n = r == 0 ? 6 : r == 1 ? 24 : 30
      let epoch = r == 0 ? epochs.0 : r == 1 ? epochs.1 : epochs.2
      let head = ringHead[slot * 3 + r]
      guard epoch > head - Int32(n) else { continue }  // too late for this ring
      let b = ((Int(epoch) % n) + n) % n
      let offset = base + (r == 0 ? 0 : r == 1 ? 6 : 30) + b
      ringCount[offset] &+= 1
      ringSum[offset] += Float(tx.amount)
      if r == 1 && tx.amount < 2 { smallCount[slot * 24 + b] &+= 1 }
    }
    let newCount = count[slot] + 1
    let delta = Float(tx.amount) - mean[slot]
    mean[slot] += delta / Float(newCount)
    m2[slot] += delta * (Float(tx.amount) - mean[slot])
    count[slot] = newCount
    if t >= previous {
      lastTime[slot] = t
      if !tx.lat.isNaN && !tx.lon.isNaN {
        lastLat[slot] = Float(tx.lat)
        lastLon[slot] = Float(tx.lon)
      }
    }
    if tx.merchant != 0 && firstUse != 0 || history == 0 {
      let k = Int(merchantNext[slot])
      merchants[slot * FeatureState.recentMerchants + k] = merchantTag
      merchantNext[slot] = UInt8((k + 1) % FeatureState.recentMerchants)
    }
    if mSlot >= 0 {
      let ms = Int(mSlot)
      if day > merchantHead[ms] - 30 {
        merchantCount[ms * 30 + ((Int(day) % 30) + 30) % 30] += 1
      }
      if t > merchantLast[ms] { merchantLast[ms] = t }
      if let label = tx.label, let labelDelay { pending.push(t + labelDelay, mSlot, day, label) }
    }
    recent.insert(tx.idHash, merchant: mSlot, day: day)
    processed += 1
  }
}
