import Foundation

/// The features computed for each transaction, from state *before* it.
public enum FraudFeature: Int, CaseIterable, Sendable {
  case logAmount, cardCount1h, cardCount1d, cardCount7d, cardCount30d, cardMean1d, cardMean7d, cardMean30d
  case amountToCardMean, amountZScore, logSecondsSincePrevious, firstUseOfMerchant, newCard
  case logDistanceKm, logSpeedKmh, merchantCount1d, merchantCount7d, merchantCount30d
  case merchantFraudRate1d, merchantFraudRate7d, merchantFraudRate30d, hourSin, hourCos, night, weekend
  case smallCount1d

  /// The name used in reasons and in rules.
  public var name: String {
    [
      "log_amount", "card_count_1h", "card_count_1d", "card_count_7d", "card_count_30d", "card_mean_1d",
      "card_mean_7d", "card_mean_30d", "amount_to_card_mean", "amount_zscore", "log_seconds_since_previous",
      "first_use_of_merchant", "new_card", "log_distance_km", "log_speed_kmh", "merchant_count_1d",
      "merchant_count_7d", "merchant_count_30d", "merchant_fraud_rate_1d", "merchant_fraud_rate_7d",
      "merchant_fraud_rate_30d", "hour_sin", "hour_cos", "night", "weekend", "small_count_1d",
    ][rawValue]
  }

  public static let count = allCases.count
}

/// Values rules can test, in their natural units (not the model's transformed ones).
public struct RuleInputs: Sendable {
  public var amount = 0.0
  public var cardCount1h = 0.0
  public var cardCount1d = 0.0
  public var cardCount30d = 0.0
  public var cardMean30d = 0.0
  public var amountToCardMean = 0.0
  public var secondsSincePrevious = 0.0
  public var distanceKm = 0.0
  public var speedKmh = 0.0
  public var smallCount1d = 0.0
  public var merchantFraudRate7d = 0.0
  public var firstUseOfMerchant = 0.0
  public var hour = 0.0

  /// The rule variables, in the order `RuleSet.value(_:_:)` indexes them.
  public static let names = [
    "amount", "card_count_1h", "card_count_1d", "card_count_30d", "card_mean_30d", "amount_to_card_mean",
    "seconds_since_previous", "distance_km", "speed_kmh", "small_count_1d", "merchant_fraud_rate_7d",
    "first_use_of_merchant", "hour",
  ]
}

/// Bounded per-card and per-merchant state: time buckets, never lists of transactions.
///
/// Per card: last time and place, a running mean and variance of amounts, counts and sums in 6 ten-minute,
/// 24 hourly and 30 daily buckets, small-amount counts in 24 hourly buckets, and the 8 most recent merchants
/// (about 460 bytes). Per merchant: transactions, known labels and known frauds in 30 daily buckets.
/// Cards and merchants idle for more than 30 days are dropped.
public final class FeatureState {
  static let rings = [(buckets: 6, width: 600.0), (buckets: 24, width: 3600.0), (buckets: 30, width: 86_400.0)]
  static let bucketsPerCard = 60
  static let recentMerchants = 8

  // Cards.
  @exclusivity(unchecked) var cardIndex = KeyTable()
  var cardKey = Pool<UInt64>()
  var lastTime = Pool<Double>()
  var lastLat = Pool<Float>()
  var lastLon = Pool<Float>()
  var count = Pool<UInt32>()
  var mean = Pool<Float>()
  var m2 = Pool<Float>()
  var ringCount = Pool<UInt16>()
  var ringSum = Pool<Float>()
  var ringHead = Pool<Int32>()  // 3 per card: the epoch of each ring's newest bucket
  var smallCount = Pool<UInt8>()  // 24 per card, hourly, aligned with ring 1
  var merchants = Pool<UInt32>()
  var merchantNext = Pool<UInt8>()
  @exclusivity(unchecked) var freeCards: [Int32] = []

  // Merchants.
  @exclusivity(unchecked) var merchantIndex = KeyTable()
  var merchantKey = Pool<UInt64>()
  var merchantHead = Pool<Int32>()
  var merchantLast = Pool<Double>()
  var merchantCount = Pool<UInt32>()
  var merchantKnown = Pool<UInt32>()
  var merchantFrauds = Pool<UInt32>()
  @exclusivity(unchecked) var freeMerchants: [Int32] = []

  /// Labels waiting for their release time: (release time, merchant slot, day of the transaction, fraud).
  @exclusivity(unchecked) var pending = PendingLabels()
  /// The last 262,144 transactions by id hash: merchant slot and day, for late labels and for skipping replays.
  @exclusivity(unchecked) var recent = RecentTransactions(capacity: 1 << 18)
  /// The newest transaction time seen.
  @exclusivity(unchecked) public internal(set) var watermark = -Double.infinity
  /// Transactions processed.
  @exclusivity(unchecked) public internal(set) var processed = 0

  /// Empty state.
  public init() {}

  /// Cards currently held.
  public var cardCount: Int { cardIndex.count }
  /// Merchants currently held.
  public var merchantCountHeld: Int { merchantIndex.count }

  /// Bytes of state per card held now: the fixed-size part plus this card's share of the hash table.
  public var bytesPerActiveCard: Int {
    cardCount == 0 ? FeatureState.bytesPerCard : FeatureState.bytesPerCard + cardIndex.keys.count * 12 / cardCount
  }

  /// Bytes of state per card (the fixed-size part, without the hash-table entry).
  public static var bytesPerCard: Int {
    8 + 8 + 8 + 4 + 4 + 4 + bucketsPerCard * (2 + 4) + 3 * 4 + 24 + recentMerchants * 4 + 1
  }

  func cardSlot(_ key: UInt64) -> Int {
    if let s = cardIndex[key] { return Int(s) }
    let slot: Int
    if let free = freeCards.popLast() {
      slot = Int(free)
      cardKey[slot] = key
      lastTime[slot] = -.infinity
      lastLat[slot] = .nan
      lastLon[slot] = .nan
      count[slot] = 0
      mean[slot] = 0
      m2[slot] = 0
      for k in 0..<FeatureState.bucketsPerCard {
        ringCount[slot * FeatureState.bucketsPerCard + k] = 0
        ringSum[slot * FeatureState.bucketsPerCard + k] = 0
      }
      for k in 0..<3 { ringHead[slot * 3 + k] = Int32.min }
      for k in 0..<24 { smallCount[slot * 24 + k] = 0 }
      for k in 0..<FeatureState.recentMerchants { merchants[slot * FeatureState.recentMerchants + k] = 0 }
      merchantNext[slot] = 0
    } else {
      slot = cardKey.count
      cardKey.append(key)
      lastTime.append(-.infinity)
      lastLat.append(.nan)
      lastLon.append(.nan)
      count.append(0)
      mean.append(0)
      m2.append(0)
      ringCount.append(repeating: 0, count: FeatureState.bucketsPerCard)
      ringSum.append(repeating: 0, count: FeatureState.bucketsPerCard)
      ringHead.append(repeating: Int32.min, count: 3)
      smallCount.append(repeating: 0, count: 24)
      merchants.append(repeating: 0, count: FeatureState.recentMerchants)
      merchantNext.append(0)
    }
    cardIndex[key] = Int32(slot)
    return slot
  }

  func merchantSlot(_ key: UInt64) -> Int {
    if let s = merchantIndex[key] { return Int(s) }
    let slot: Int
    if let free = freeMerchants.popLast() {
      slot = Int(free)
      merchantKey[slot] = key
      merchantHead[slot] = Int32.min
      merchantLast[slot] = -.infinity
      for k in 0..<30 {
        merchantCount[slot * 30 + k] = 0
        merchantKnown[slot * 30 + k] = 0
        merchantFrauds[slot * 30 + k] = 0
      }
    } else {
      slot = merchantKey.count
      merchantKey.append(key)
      merchantHead.append(Int32.min)
      merchantLast.append(-.infinity)
      merchantCount.append(repeating: 0, count: 30)
      merchantKnown.append(repeating: 0, count: 30)
      merchantFrauds.append(repeating: 0, count: 30)
    }
    merchantIndex[key] = Int32(slot)
    return slot
  }

  /// Moves card ring `r` forward to `epoch`, clearing the buckets it passes.
  @inline(__always)
  func advanceCard(_ slot: Int, ring r: Int, to epoch: Int32) {
    let head = ringHead[slot * 3 + r]
    guard epoch > head else { return }
    let n = r == 0 ? 6 : r == 1 ? 24 : 30
    let base = slot * FeatureState.bucketsPerCard + (r == 0 ? 0 : r == 1 ? 6 : 30)
    let steps = head == Int32.min ? n : min(n, Int(epoch - head))
    for k in 0..<steps {
      let e = Int(epoch) - k
      let b = ((e % n) + n) % n
      ringCount[base + b] = 0
      ringSum[base + b] = 0
      if r == 1 { smallCount[slot * 24 + b] = 0 }
    }
    ringHead[slot * 3 + r] = epoch
  }

  @inline(__always)
  func advanceMerchant(_ slot: Int, to day: Int32) {
    let head = merchantHead[slot]
    guard day > head else { return }
    let steps = head == Int32.min ? 30 : min(30, Int(day - head))
    for k in 0..<steps {
      let b = (((Int(day) - k) % 30) + 30) % 30
      merchantCount[slot * 30 + b] = 0
      merchantKnown[slot * 30 + b] = 0
      merchantFrauds[slot * 30 + b] = 0
    }
    merchantHead[slot] = day
  }

  /// Drops cards and merchants idle for more than 30 days before `now`.
  public func expire(before now: Double) {
    let limit = now - 30 * 86_400
    for (key, slot) in cardIndex.entries where lastTime[Int(slot)] < limit {
      cardIndex[key] = nil
      freeCards.append(slot)
    }
    for (key, slot) in merchantIndex.entries where merchantLast[Int(slot)] < limit {
      merchantIndex[key] = nil
      freeMerchants.append(slot)
    }
  }
}

/// Labels waiting to become known, in arrival order (a ring buffer).
///
/// Release times grow with transaction times, so arrival order is release order up to the allowed
/// lateness; a label behind a later one waits for it, which can only delay it, never reveal it early.
struct PendingLabels {
  var release: [Double] = []
  var merchant: [Int32] = []
  var day: [Int32] = []
  var fraud: [Bool] = []
  var head = 0

  var count: Int { release.count - head }

  mutating func push(_ t: Double, _ m: Int32, _ d: Int32, _ f: Bool) {
    if head > 4096 && head * 2 > release.count {
      release.removeFirst(head)
      merchant.removeFirst(head)
      day.removeFirst(head)
      fraud.removeFirst(head)
      head = 0
    }
    release.append(t)
    merchant.append(m)
    day.append(d)
    fraud.append(f)
  }

  /// Removes and returns the oldest label if it is released at or before `t`.
  @inline(__always)
  mutating func pop(until t: Double) -> (Int32, Int32, Bool)? {
    guard head < release.count, release[head] <= t else { return nil }
    defer { head += 1 }
    return (merchant[head], day[head], fraud[head])
  }

  /// The waiting labels, oldest first (for checkpoints).
  var compacted: PendingLabels {
    PendingLabels(
      release: Array(release[head...]), merchant: Array(merchant[head...]), day: Array(day[head...]),
      fraud: Array(fraud[head...]), head: 0)
  }
}

/// The most recent transactions by id hash (a bounded table: the oldest are forgotten first).
struct RecentTransactions {
  var index = KeyTable(capacity: 1 << 16)
  var keys: [UInt64]
  var merchant: [Int32]
  var day: [Int32]
  var next = 0
  var filled = 0

  init(capacity: Int) {
    keys = []
    merchant = []
    day = []
    keys.reserveCapacity(min(capacity, 1 << 16))
    self.capacity = capacity
  }

  let capacity: Int

  func contains(_ key: UInt64) -> Bool { index[key] != nil }

  func lookup(_ key: UInt64) -> (merchant: Int32, day: Int32)? {
    guard let i = index[key] else { return nil }
    return (merchant[Int(i)], day[Int(i)])
  }

  mutating func insert(_ key: UInt64, merchant m: Int32, day d: Int32) {
    if keys.count < capacity {
      keys.append(key)
      merchant.append(m)
      day.append(d)
      index[key] = Int32(keys.count - 1)
      return
    }
    index[keys[next]] = nil
    keys[next] = key
    merchant[next] = m
    day[next] = d
    index[key] = Int32(next)
    next = (next + 1) % capacity
  }
}
