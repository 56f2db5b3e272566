import CPlatform
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

/// Great-circle distance in kilometres (`table` is `FastMath.sinCosTable`).
@inline(__always)
func haversineKm(
  _ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double, table: UnsafePointer<Double>
) -> Double {
  let r = Double.pi / 180
  let dlat = (lat2 - lat1) * r
  let dlon = (lon2 - lon1) * r
  let sinHalfLat = FastMath.sinCos(dlat / 2, table: table).sin
  let sinHalfLon = FastMath.sinCos(dlon / 2, table: table).sin
  let a =
    sinHalfLat * sinHalfLat + FastMath.sinCos(lat1 * r, table: table).cos * FastMath.sinCos(lat2 * r, table: table).cos
    * sinHalfLon * sinHalfLon
  // The central angle is 2 asin(√a): by its series up to about 1,270 km, else as atan2.
  let s = a.squareRoot()
  return 6371 * 2 * (s < 0.1 ? FastMath.asinSmall(s) : atan2(s, (1 - a).squareRoot()))
}

/// `log(1 + x)` for `x ≥ 0` (and any `x > −1`) through `log`, which is about twice as fast as `log1p` here: the
/// rounding of `1 + x` is corrected by the factor `x / (u − 1)` (Goldberg, "What every computer scientist should
/// know about floating-point arithmetic", theorem 4), so the result stays within a few units in the last place.
@inline(__always)
func fastLog1p(_ x: Double) -> Double {
  let u = 1 + x
  if u == 1 { return x }
  // `1 + x` is exact for most features (whole seconds, amounts of a unit or more): no correction, no division.
  let rounded = u - 1
  return rounded == x ? log(u) : log(u) * (x / rounded)
}

extension FeatureState {
  /// `log1p` of a count (a whole number ≥ 0), looked up below 4096: the same value, without the call.
  @inline(__always)
  func log1pCount(_ x: Double) -> Double {
    if x < 4096 {
      let n = Int(x)
      if Double(n) == x { return log1pOfCounts[n] }
    }
    return fastLog1p(x)
  }

  /// Adds a known label to day `day` of merchant slot `m` when that day is still in its window.
  @inline(__always)
  func addLabel(merchant m: Int32, day: Int32, fraud: Bool) {
    guard m >= 0, Int(m) < merchantTable.slots else { return }
    let r = merchantTable.record(Int(m))
    let head = r.load(fromByteOffset: MerchantLayout.head, as: Int32.self)
    guard head != Int32.min, day > head - 30, day <= head else { return }
    let b = MerchantLayout.bucket(day)
    MerchantLayout.add(r, MerchantLayout.known, bucket: b, 1)
    if fraud { MerchantLayout.add(r, MerchantLayout.frauds, bucket: b, 1) }
  }

  /// Makes labels whose release time has come known to the merchant features.
  @inline(__always)
  func releaseLabels(until t: Double) {
    while let (m, day, fraud) = pending.pop(until: t) { addLabel(merchant: m, day: day, fraud: fraud) }
    // Labels are released about one per transaction: start loading the lines the one two places on will update
    // (its merchant's newest day, that day's buckets and the totals), which are seldom in cache.
    if let (m, day) = pending.upcoming(2), m >= 0, Int(m) < merchantTable.slots {
      let r = merchantTable.record(Int(m))
      let b = MerchantLayout.bucket(day)
      cml_prefetch_write(r + MerchantLayout.head)
      cml_prefetch_write(r + MerchantLayout.known + 4 * b)
      cml_prefetch_write(r + MerchantLayout.frauds + 4 * b)
      cml_prefetch_write(r + MerchantLayout.totals)
    }
  }

  /// A label for an earlier transaction (a feedback row): known from now on to the merchant features.
  /// Returns false when the transaction is no longer remembered.
  @discardableResult
  public func applyLabel(transaction idHash: UInt64, fraud: Bool) -> Bool {
    guard let e = recent.lookup(idHash) else { return false }
    addLabel(merchant: e.merchant, day: e.day, fraud: fraud)
    return true
  }

  /// Starts loading the index cells a transaction will need, a transaction or so before it is observed.
  @inline(__always)
  public func prefetchIndexes(_ tx: Transaction) {
    recent.prefetch(tx.idHash)
    cards.prefetchIndex(tx.card)
    if tx.merchant != 0 { merchantTable.prefetchIndex(tx.merchant) }
  }

  /// Starts loading the card and merchant records a transaction will need (after `prefetchIndexes`).
  @inline(__always)
  public func prefetchRecords(_ tx: Transaction) {
    cards.prefetchRecord(tx.card)
    if tx.merchant != 0 { merchantTable.prefetchRecord(tx.merchant) }
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
    let c = cards.record(cardSlot(tx.card))
    let dayNumber = FastMath.floor(t / 86_400)
    let epochs = (Int32(FastMath.floor(t / 600)), Int32(FastMath.floor(t / 3600)), Int32(dayNumber))
    advanceCard(c, ring: 0, to: epochs.0)
    advanceCard(c, ring: 1, to: epochs.1)
    advanceCard(c, ring: 2, to: epochs.2)
    let (r0, r1, r2) = (CardLayout.ring(0), CardLayout.ring(1), CardLayout.ring(2))
    @inline(__always) func count(_ o: Int, _ k: Int) -> Int { Int(c.load(fromByteOffset: o + 2 * k, as: UInt16.self)) }
    @inline(__always) func sum(_ o: Int, _ k: Int) -> Double {
      Double(c.load(fromByteOffset: o + 4 * k, as: Float.self))
    }
    /// The sum of `n` (a multiple of 2) bucket sums from offset `o`, in two independent chains. (Float bucket
    /// sums added in Double are exact in any order unless their magnitudes span over 29 binary orders.)
    @inline(__always) func sums(_ o: Int, _ n: Int) -> Double {
      var a = 0.0
      var b = 0.0
      for k in stride(from: 0, to: n, by: 2) {
        a += sum(o, k)
        b += sum(o, k + 1)
      }
      return a + b
    }
    // Counts are whole numbers (the day and month totals are kept as buckets change), amounts are added in two
    // chains.
    var hourCount = 0
    for k in 0..<6 { hourCount += count(r0.counts, k) }
    let dayCount = Int(c.load(fromByteOffset: CardLayout.dayTotal, as: UInt32.self))
    let smallCount = Int(c.load(fromByteOffset: CardLayout.smallTotal, as: UInt16.self))
    let monthCount = Int(c.load(fromByteOffset: CardLayout.monthTotal, as: UInt32.self))
    // The last 7 days: buckets head, head − 1, … (bucket of day e is e mod 30), one division only.
    var weekCount = 0
    var s7d = 0.0
    var day7 = ringBucket(Int(c.load(fromByteOffset: CardLayout.head + 8, as: Int32.self)), 30)
    for _ in 0..<7 {
      weekCount += count(r2.counts, day7)
      s7d += sum(r2.sums, day7)
      day7 = day7 == 0 ? 29 : day7 - 1
    }
    let c1h = Double(hourCount)
    let c1d = Double(dayCount)
    let c7d = Double(weekCount)
    let c30d = Double(monthCount)
    let small = Double(smallCount)
    let s1d = sums(r1.sums, 24)
    let s30d = sums(r2.sums, 30)
    let cardTransactions = c.load(fromByteOffset: CardLayout.count, as: UInt32.self)
    let cardMean = c.load(fromByteOffset: CardLayout.mean, as: Float.self)
    let cardM2 = c.load(fromByteOffset: CardLayout.m2, as: Float.self)
    let history = Double(cardTransactions)
    let runningMean = Double(cardMean)
    let sd = history >= 2 ? (Double(cardM2) / (history - 1)).squareRoot() : 0
    let previous = c.load(fromByteOffset: CardLayout.lastTime, as: Double.self)
    let previousLat = c.load(fromByteOffset: CardLayout.lastLat, as: Float.self)
    let previousLon = c.load(fromByteOffset: CardLayout.lastLon, as: Float.self)
    let dt = previous.isFinite ? max(0, t - previous) : 30 * 86_400
    var distance = 0.0
    var speed = 0.0
    if !tx.lat.isNaN, !tx.lon.isNaN, !previousLat.isNaN, previous.isFinite {
      distance = haversineKm(Double(previousLat), Double(previousLon), tx.lat, tx.lon, table: sinCosTable)
      speed = distance / max(dt / 3600, 1.0 / 60)
    }
    let merchantTag = UInt32(truncatingIfNeeded: tx.merchant | 1)
    var firstUse = 1.0
    for k in 0..<FeatureState.recentMerchants
    where c.load(fromByteOffset: CardLayout.merchants + 4 * k, as: UInt32.self) == merchantTag {
      firstUse = 0
    }
    if history == 0 { firstUse = 0 }
    var m1 = 0.0
    var m7 = 0.0
    var m30 = 0.0
    var rate1 = 0.0
    var rate7 = 0.0
    var rate30 = 0.0
    var mSlot: Int32 = -1
    let day = epochs.2
    var merchantRecord: UnsafeMutableRawPointer? = nil
    if tx.merchant != 0 {
      let ms = merchantSlot(tx.merchant)
      mSlot = Int32(ms)
      let m = merchantTable.record(ms)
      merchantRecord = m
      advanceMerchant(m, to: day)
      // Whole numbers, added as integers (exact): the newest day and the 7 newest (which may wrap around the
      // ring); the 30-day totals are kept as days are added and cleared.
      @inline(__always) func total(_ column: Int, _ range: Range<Int>) -> Int {
        var sum = 0
        for k in range { sum += Int(m.load(fromByteOffset: column + 4 * k, as: UInt32.self)) }
        return sum
      }
      @inline(__always) func week(_ column: Int, _ newest: Int) -> Int {
        newest >= 6
          ? total(column, (newest - 6)..<(newest + 1))
          : total(column, 0..<(newest + 1)) + total(column, (newest + 24)..<30)
      }
      let b = MerchantLayout.bucket(m.load(fromByteOffset: MerchantLayout.head, as: Int32.self))
      let n1 = total(MerchantLayout.count, b..<(b + 1))
      let n7 = week(MerchantLayout.count, b)
      // The fraud rates look at the newest days whose labels can be known: the day (and the week) ending
      // `labelDelay` before today, as a bank sees its terminals' risk — not the last days, whose labels have not
      // arrived, nor only the whole month, which keeps a terminal "risky" for weeks after its frauds ended.
      let delayInDays = (labelDelay ?? 0) / 86_400
      let delayDays = delayInDays >= 22 ? 22 : delayInDays > 0 ? Int(delayInDays) : 0
      // Those days' buckets: `delayDays` (at most 22) before the newest, then back one at a time, wrapping.
      var known = b - delayDays
      if known < 0 { known += 30 }
      @inline(__always) func at(_ column: Int, _ bucket: Int) -> Int {
        Int(m.load(fromByteOffset: column + 4 * bucket, as: UInt32.self))
      }
      let k1 = at(MerchantLayout.known, known)
      let f1 = at(MerchantLayout.frauds, known)
      var k7 = k1
      var f7 = f1
      for _ in 1..<7 {
        known = known == 0 ? 29 : known - 1
        k7 += at(MerchantLayout.known, known)
        f7 += at(MerchantLayout.frauds, known)
      }
      let n30 = Int(MerchantLayout.total(m, MerchantLayout.count))
      let k30 = Int(MerchantLayout.total(m, MerchantLayout.known))
      let f30 = Int(MerchantLayout.total(m, MerchantLayout.frauds))
      m1 = Double(n1)
      m7 = Double(n7)
      m30 = Double(n30)
      rate1 = k1 > 0 ? Double(f1) / Double(k1) : 0
      rate7 = k7 > 0 ? Double(f7) / Double(k7) : 0
      rate30 = k30 > 0 ? Double(f30) / Double(k30) : 0
    }
    let secondsOfDay = t - Double(dayNumber) * 86_400
    let hour = secondsOfDay / 3600
    let weekday = (dayNumber + 4) % 7  // 1970-01-01 was a Thursday (4)
    let ratio = runningMean > 0 ? min(tx.amount / runningMean, 100) : 0
    let z = sd > 0 ? max(-50, min(50, (tx.amount - runningMean) / sd)) : 0
    f[FraudFeature.logAmount.rawValue] = fastLog1p(max(tx.amount, 0))
    f[FraudFeature.cardCount1h.rawValue] = log1pCount(c1h)
    f[FraudFeature.cardCount1d.rawValue] = log1pCount(c1d)
    f[FraudFeature.cardCount7d.rawValue] = log1pCount(c7d)
    f[FraudFeature.cardCount30d.rawValue] = log1pCount(c30d)
    f[FraudFeature.cardMean1d.rawValue] = c1d > 0 ? fastLog1p(s1d / c1d) : 0
    f[FraudFeature.cardMean7d.rawValue] = c7d > 0 ? fastLog1p(s7d / c7d) : 0
    f[FraudFeature.cardMean30d.rawValue] = c30d > 0 ? fastLog1p(s30d / c30d) : 0
    f[FraudFeature.amountToCardMean.rawValue] = ratio
    f[FraudFeature.amountZScore.rawValue] = z
    f[FraudFeature.logSecondsSincePrevious.rawValue] = fastLog1p(dt)
    f[FraudFeature.firstUseOfMerchant.rawValue] = firstUse
    f[FraudFeature.newCard.rawValue] = history == 0 ? 1 : 0
    f[FraudFeature.logDistanceKm.rawValue] = fastLog1p(distance)
    f[FraudFeature.logSpeedKmh.rawValue] = fastLog1p(speed)
    f[FraudFeature.merchantCount1d.rawValue] = log1pCount(m1)
    f[FraudFeature.merchantCount7d.rawValue] = log1pCount(m7)
    f[FraudFeature.merchantCount30d.rawValue] = log1pCount(m30)
    f[FraudFeature.merchantFraudRate1d.rawValue] = rate1
    f[FraudFeature.merchantFraudRate7d.rawValue] = rate7
    f[FraudFeature.merchantFraudRate30d.rawValue] = rate30
    let (hourSin, hourCos) = FastMath.sinCos(2 * Double.pi * hour / 24, table: sinCosTable)
    f[FraudFeature.hourSin.rawValue] = hourSin
    f[FraudFeature.hourCos.rawValue] = hourCos
    f[FraudFeature.night.rawValue] = hour < 6 ? 1 : 0
    f[FraudFeature.weekend.rawValue] = weekday == 5 || weekday == 6 ? 1 : 0
    f[FraudFeature.smallCount1d.rawValue] = log1pCount(small)
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
    rules.merchantFraudRate7d = rate7
    rules.firstUseOfMerchant = firstUse
    rules.hour = hour

    // Update the card with this transaction.
    for r in 0..<3 {
      let ring = CardLayout.ring(r)
      let n = ring.n
      let epoch = r == 0 ? epochs.0 : r == 1 ? epochs.1 : epochs.2
      let head = c.load(fromByteOffset: CardLayout.head + 4 * r, as: Int32.self)
      guard epoch > head - Int32(n) else { continue }  // too late for this ring
      let b = ringBucket(Int(epoch), n)
      let so = ring.sums + 4 * b
      // A total follows its buckets exactly, down to a bucket wrapping around.
      let count = FeatureState.add(c, UInt16.self, at: ring.counts + 2 * b, 1)
      let counted: UInt32 = count == 0 ? 0 &- 65_535 : 1
      c.storeBytes(of: c.load(fromByteOffset: so, as: Float.self) + Float(tx.amount), toByteOffset: so, as: Float.self)
      if r == 1 {
        FeatureState.add(c, UInt32.self, at: CardLayout.dayTotal, counted)
        if tx.amount < 2 {
          let small = FeatureState.add(c, UInt8.self, at: CardLayout.small + b, 1)
          FeatureState.add(c, UInt16.self, at: CardLayout.smallTotal, small == 0 ? 0 &- 255 : 1)
        }
      } else if r == 2 {
        FeatureState.add(c, UInt32.self, at: CardLayout.monthTotal, counted)
      }
    }
    let newCount = cardTransactions + 1
    let delta = Float(tx.amount) - cardMean
    let newMean = cardMean + delta / Float(newCount)
    c.storeBytes(of: newMean, toByteOffset: CardLayout.mean, as: Float.self)
    c.storeBytes(of: cardM2 + delta * (Float(tx.amount) - newMean), toByteOffset: CardLayout.m2, as: Float.self)
    c.storeBytes(of: newCount, toByteOffset: CardLayout.count, as: UInt32.self)
    if t >= previous {
      c.storeBytes(of: t, toByteOffset: CardLayout.lastTime, as: Double.self)
      if !tx.lat.isNaN && !tx.lon.isNaN {
        c.storeBytes(of: Float(tx.lat), toByteOffset: CardLayout.lastLat, as: Float.self)
        c.storeBytes(of: Float(tx.lon), toByteOffset: CardLayout.lastLon, as: Float.self)
      }
    }
    if tx.merchant != 0 && firstUse != 0 || history == 0 {
      let k = Int(c.load(fromByteOffset: CardLayout.merchantNext, as: UInt8.self))
      c.storeBytes(of: merchantTag, toByteOffset: CardLayout.merchants + 4 * k, as: UInt32.self)
      c.storeBytes(
        of: UInt8((k + 1) % FeatureState.recentMerchants), toByteOffset: CardLayout.merchantNext, as: UInt8.self)
    }
    if let m = merchantRecord {
      if day > m.load(fromByteOffset: MerchantLayout.head, as: Int32.self) - 30 {
        MerchantLayout.add(m, MerchantLayout.count, bucket: MerchantLayout.bucket(day), 1)
      }
      if t > m.load(fromByteOffset: MerchantLayout.last, as: Double.self) {
        m.storeBytes(of: t, toByteOffset: MerchantLayout.last, as: Double.self)
      }
      if let label = tx.label, let labelDelay { pending.push(t + labelDelay, mSlot, day, label) }
    }
    recent.insert(tx.idHash, merchant: mSlot, day: day)
    processed += 1
  }
}
