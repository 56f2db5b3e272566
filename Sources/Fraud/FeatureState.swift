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

  /// The rule variables, in the order rules index them (`RuleSet.inputOffsets`).
  public static let names = [
    "amount", "card_count_1h", "card_count_1d", "card_count_30d", "card_mean_30d", "amount_to_card_mean",
    "seconds_since_previous", "distance_km", "speed_kmh", "small_count_1d", "merchant_fraud_rate_7d",
    "first_use_of_merchant", "hour",
  ]
}

/// The bucket of epoch `e` in a ring of `n` buckets (`e` mod `n`, also for epochs before 1970).
@inline(__always)
func ringBucket(_ e: Int, _ n: Int) -> Int {
  let r = e % n
  return r < 0 ? r + n : r
}

/// Where each field of a card's record lives (byte offsets; the record is `stride` bytes).
///
/// Fields read for every transaction of the card come first; each ring keeps its counts before its sums.
enum CardLayout {
  static let key = 0  // UInt64
  static let lastTime = 8  // Double
  static let lastLat = 16  // Float
  static let lastLon = 20  // Float
  static let count = 24  // UInt32
  static let mean = 28  // Float
  static let m2 = 32  // Float
  static let head = 36  // 3 × Int32: the epoch of each ring's newest bucket
  static let merchantNext = 48  // UInt8
  static let merchants = 64  // 8 × UInt32: the most recent merchants' tags
  /// Ring `r` (0: 10 minutes, 1: hours, 2: days): its buckets, the offsets of its UInt16 counts and its Float sums.
  @inline(__always)
  static func ring(_ r: Int) -> (n: Int, counts: Int, sums: Int) {
    r == 0 ? (6, 52, 96) : r == 1 ? (24, 128, 200) : (30, 296, 356)
  }
  static let small = 176  // 24 × UInt8: small-amount counts, hourly, aligned with ring 1
  /// Totals kept as buckets are added to and cleared: ring 1's counts (UInt32), the small-amount counts
  /// (UInt16) and ring 2's counts (UInt32).
  static let dayTotal = 120
  static let smallTotal = 124
  static let monthTotal = 476
  static let stride = 480
}

/// Where each field of a merchant's record lives (byte offsets).
enum MerchantLayout {
  static let key = 0  // UInt64
  static let last = 8  // Double
  static let head = 16  // Int32: the newest day
  static let count = 24  // 30 × UInt32: transactions per day (day e in bucket e mod 30)
  static let known = 144  // 30 × UInt32: labels known per day
  static let frauds = 264  // 30 × UInt32: frauds known per day
  /// The three columns' totals over the 30 days, kept as days are added to and cleared: UInt32 each.
  static let totals = 384
  static let stride = 400

  /// Adds `delta` to bucket `b` of `column` and to the column's total.
  @inline(__always)
  static func add(_ m: UnsafeMutableRawPointer, _ column: Int, bucket b: Int, _ delta: UInt32) {
    FeatureState.add(m, UInt32.self, at: column + 4 * b, delta)
    FeatureState.add(m, UInt32.self, at: totals + 4 * ((column - count) / 120), delta)
  }

  /// The 30-day total of `column`.
  @inline(__always)
  static func total(_ m: UnsafeMutableRawPointer, _ column: Int) -> UInt32 {
    m.load(fromByteOffset: totals + 4 * ((column - count) / 120), as: UInt32.self)
  }

  /// The bucket of day `day`.
  @inline(__always)
  static func bucket(_ day: Int32) -> Int { ringBucket(Int(day), 30) }
}

/// Bounded per-card and per-merchant state: time buckets, never lists of transactions.
///
/// Per card, one 480-byte record: last time and place, a running mean and variance of amounts, counts and
/// sums in 6 ten-minute, 24 hourly and 30 daily buckets, small-amount counts in 24 hourly buckets, and the 8
/// most recent merchants. Per merchant: transactions, known labels and known frauds in 30 daily buckets.
/// Cards and merchants idle for more than 30 days are dropped.
public final class FeatureState {
  static let recentMerchants = 8

  let cards: RecordTable
  let merchantTable: RecordTable

  /// Labels waiting for their release time: (release time, merchant slot, day of the transaction, fraud).
  let pending: PendingLabels
  /// At least the last 262,144 transactions by id hash: merchant slot and day, for late labels and for
  /// skipping replays.
  let recent: RecentTransactions
  /// The newest transaction time seen.
  @exclusivity(unchecked) public internal(set) var watermark = -Double.infinity
  /// Transactions processed.
  @exclusivity(unchecked) public internal(set) var processed = 0
  /// The online learning a stream checkpoints with the state (nil when the stream does not learn).
  @exclusivity(unchecked) public internal(set) var learning: OnlineLearning? = nil
  /// The decisions a server gave, for retries (nil outside a server).
  @exclusivity(unchecked) var decisions: DecisionMemory? = nil
  /// A learning state read from a checkpoint, until a learning stream takes it up.
  @exclusivity(unchecked) public internal(set) var savedLearning: OnlineLearning.Decoded? = nil

  /// `log1p(n)` for n = 0..<4096 (computed once per process).
  nonisolated(unsafe) static let log1pTable: UnsafeMutablePointer<Double> = {
    let p = UnsafeMutablePointer<Double>.allocate(capacity: 4096)
    for n in 0..<4096 { p[n] = log1p(Double(n)) }
    return p
  }()
  let log1pOfCounts = FeatureState.log1pTable
  let sinCosTable = FastMath.sinCosTable

  /// Empty state.
  public convenience init() {
    self.init(
      cards: RecordTable(stride: CardLayout.stride), merchants: RecordTable(stride: MerchantLayout.stride),
      recent: RecentTransactions(generation: 1 << 18))
  }

  init(
    cards: RecordTable, merchants: RecordTable, recent: RecentTransactions, pending: PendingLabels = PendingLabels()
  ) {
    self.cards = cards
    self.merchantTable = merchants
    self.recent = recent
    self.pending = pending
  }

  /// Cards currently held.
  public var cardCount: Int { cards.count }
  /// Merchants currently held.
  public var merchantCountHeld: Int { merchantTable.count }

  /// Bytes of state per card held now: the record plus this card's share of the index.
  public var bytesPerActiveCard: Int {
    cardCount == 0
      ? FeatureState.bytesPerCard : FeatureState.bytesPerCard + cards.indexCapacity * 8 / cardCount
  }

  /// Bytes of state per card (the record, without its index entry).
  public static var bytesPerCard: Int { CardLayout.stride }

  /// The slot of `key`'s card, a fresh record when the card is new.
  @inline(__always)
  func cardSlot(_ key: UInt64) -> Int {
    if let s = cards.find(key) { return s }
    let slot = cards.add(key)
    let r = cards.record(slot)
    r.storeBytes(of: -Double.infinity, toByteOffset: CardLayout.lastTime, as: Double.self)
    r.storeBytes(of: Float.nan, toByteOffset: CardLayout.lastLat, as: Float.self)
    r.storeBytes(of: Float.nan, toByteOffset: CardLayout.lastLon, as: Float.self)
    for k in 0..<3 { r.storeBytes(of: Int32.min, toByteOffset: CardLayout.head + 4 * k, as: Int32.self) }
    return slot
  }

  @inline(__always)
  func merchantSlot(_ key: UInt64) -> Int {
    if let s = merchantTable.find(key) { return s }
    let slot = merchantTable.add(key)
    let r = merchantTable.record(slot)
    r.storeBytes(of: -Double.infinity, toByteOffset: MerchantLayout.last, as: Double.self)
    r.storeBytes(of: Int32.min, toByteOffset: MerchantLayout.head, as: Int32.self)
    return slot
  }

  /// Moves ring `r` of card record `c` forward to `epoch`, clearing the buckets it passes.
  @inline(__always)
  func advanceCard(_ c: UnsafeMutableRawPointer, ring r: Int, to epoch: Int32) {
    let head = c.load(fromByteOffset: CardLayout.head + 4 * r, as: Int32.self)
    guard epoch > head else { return }
    let ring = CardLayout.ring(r)
    let n = ring.n
    if head == Int32.min || Int(epoch) - Int(head) >= n {
      // The whole ring is older than its window.
      (c + ring.counts).initializeMemory(as: UInt16.self, repeating: 0, count: n)
      (c + ring.sums).initializeMemory(as: Float.self, repeating: 0, count: n)
      if r == 1 {
        (c + CardLayout.small).initializeMemory(as: UInt8.self, repeating: 0, count: n)
        c.storeBytes(of: 0, toByteOffset: CardLayout.dayTotal, as: UInt32.self)
        c.storeBytes(of: 0, toByteOffset: CardLayout.smallTotal, as: UInt16.self)
      } else if r == 2 {
        c.storeBytes(of: 0, toByteOffset: CardLayout.monthTotal, as: UInt32.self)
      }
    } else {
      var b = ringBucket(Int(epoch), n)
      for _ in 0..<Int(epoch - head) {
        let cleared = UInt32(c.load(fromByteOffset: ring.counts + 2 * b, as: UInt16.self))
        c.storeBytes(of: 0, toByteOffset: ring.counts + 2 * b, as: UInt16.self)
        c.storeBytes(of: 0, toByteOffset: ring.sums + 4 * b, as: Float.self)
        if r == 1 {
          let small = UInt16(c.load(fromByteOffset: CardLayout.small + b, as: UInt8.self))
          c.storeBytes(of: 0, toByteOffset: CardLayout.small + b, as: UInt8.self)
          FeatureState.add(c, UInt32.self, at: CardLayout.dayTotal, 0 &- cleared)
          FeatureState.add(c, UInt16.self, at: CardLayout.smallTotal, 0 &- small)
        } else if r == 2 {
          FeatureState.add(c, UInt32.self, at: CardLayout.monthTotal, 0 &- cleared)
        }
        b = b == 0 ? n - 1 : b - 1
      }
    }
    c.storeBytes(of: epoch, toByteOffset: CardLayout.head + 4 * r, as: Int32.self)
  }

  /// Adds `delta` (wrapping) to the `T` at `offset` of record `c`; returns the new value.
  @inline(__always)
  @discardableResult
  static func add<T: FixedWidthInteger>(_ c: UnsafeMutableRawPointer, _: T.Type, at offset: Int, _ delta: T) -> T {
    let v = c.load(fromByteOffset: offset, as: T.self) &+ delta
    c.storeBytes(of: v, toByteOffset: offset, as: T.self)
    return v
  }

  /// Moves merchant record `m` forward to `day`, clearing the days it passes.
  @inline(__always)
  func advanceMerchant(_ m: UnsafeMutableRawPointer, to day: Int32) {
    let head = m.load(fromByteOffset: MerchantLayout.head, as: Int32.self)
    guard day > head else { return }
    let steps = head == Int32.min ? 30 : min(30, Int(day) - Int(head))
    for k in 0..<steps {
      let b = ringBucket(Int(day) - k, 30)
      for column in stride(from: MerchantLayout.count, through: MerchantLayout.frauds, by: 120) {
        MerchantLayout.add(m, column, bucket: b, 0 &- m.load(fromByteOffset: column + 4 * b, as: UInt32.self))
      }
    }
    m.storeBytes(of: day, toByteOffset: MerchantLayout.head, as: Int32.self)
  }

  /// Drops cards and merchants idle for more than 30 days before `now`.
  public func expire(before now: Double) {
    let limit = now - 30 * 86_400
    for slot in cards.liveSlots
    where cards.record(slot).load(fromByteOffset: CardLayout.lastTime, as: Double.self) < limit {
      cards.remove(slot: slot)
    }
    for slot in merchantTable.liveSlots
    where merchantTable.record(slot).load(fromByteOffset: MerchantLayout.last, as: Double.self) < limit {
      merchantTable.remove(slot: slot)
    }
  }
}

/// Labels waiting to become known, in arrival order (a ring that doubles when full).
///
/// Release times grow with transaction times, so arrival order is release order up to the allowed
/// lateness; a label behind a later one waits for it, which can only delay it, never reveal it early.
final class PendingLabels {
  struct Label {
    var release: Double
    var merchant: Int32
    var day: Int32
    var fraud: Bool
  }

  /// A ring of `mask + 1` labels (a power of two), the oldest at `head`: pushing and popping touch no array
  /// machinery (uniqueness checks, capacity calls) on the stream's path.
  @exclusivity(unchecked) private var ring: UnsafeMutablePointer<Label>
  @exclusivity(unchecked) private var mask: Int
  @exclusivity(unchecked) private var head = 0
  @exclusivity(unchecked) private(set) var count = 0

  init() {
    mask = 1023
    ring = .allocate(capacity: mask + 1)
  }

  /// Labels in release order (from a checkpoint).
  init(_ labels: [Label]) {
    mask = 1023
    while mask < labels.count { mask = 2 * mask + 1 }
    ring = .allocate(capacity: mask + 1)
    labels.withUnsafeBufferPointer { if let base = $0.baseAddress { ring.initialize(from: base, count: $0.count) } }
    count = labels.count
  }

  deinit { ring.deallocate() }

  @inline(__always)
  func push(_ t: Double, _ m: Int32, _ d: Int32, _ f: Bool) {
    if count > mask { grow() }
    (ring + ((head &+ count) & mask)).initialize(to: Label(release: t, merchant: m, day: d, fraud: f))
    count &+= 1
  }

  /// Doubles the ring, its labels moved to the start of the new one in order.
  private func grow() {
    let bigger = UnsafeMutablePointer<Label>.allocate(capacity: 2 * (mask + 1))
    let first = min(count, mask + 1 - head)
    bigger.moveInitialize(from: ring + head, count: first)
    (bigger + first).moveInitialize(from: ring, count: count - first)
    ring.deallocate()
    ring = bigger
    mask = 2 * (mask + 1) - 1
    head = 0
  }

  /// Removes and returns the oldest label if it is released at or before `t`.
  @inline(__always)
  func pop(until t: Double) -> (Int32, Int32, Bool)? {
    guard count > 0 else { return nil }
    let l = ring[head]
    guard l.release <= t else { return nil }
    head = (head &+ 1) & mask
    count &-= 1
    return (l.merchant, l.day, l.fraud)
  }

  /// The merchant slot and day of the label `k` places behind the next one to be released, if there is one.
  @inline(__always)
  func upcoming(_ k: Int) -> (merchant: Int32, day: Int32)? {
    guard k < count else { return nil }
    let l = ring[(head &+ k) & mask]
    return (l.merchant, l.day)
  }

  /// Calls `body` with each waiting label and its place, oldest (0) first; returns how many there are.
  @inline(__always)
  func forEachWaiting(_ body: (Int, Label) -> Void) -> Int {
    for k in 0..<count { body(k, ring[(head &+ k) & mask]) }
    return count
  }

  /// The waiting labels, oldest first.
  var waiting: [Label] {
    [Label](unsafeUninitializedCapacity: count) { buffer, initialized in
      initialized = forEachWaiting { k, l in (buffer.baseAddress! + k).initialize(to: l) }
    }
  }
}
