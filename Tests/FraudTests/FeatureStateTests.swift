import Foundation
import Modeling
import Storage
import StorageSQLite
import Testing

@testable import Fraud

/// Runs `tx` through `state` and returns its features and rule inputs.
func observe(_ state: FeatureState, _ tx: Transaction, delay: Double? = 7 * 86_400) -> ([Double], RuleInputs) {
  let f = UnsafeMutablePointer<Double>.allocate(capacity: FraudFeature.count)
  defer { f.deallocate() }
  var inputs = RuleInputs()
  state.observe(tx, labelDelay: delay, features: f, rules: &inputs)
  return (Array(UnsafeBufferPointer(start: f, count: FraudFeature.count)), inputs)
}

let t0 = 1_767_225_600.0  // 2026-01-01 00:00:00 UTC, a Thursday

func tx(_ id: UInt64, _ t: Double, card: UInt64 = 10, merchant: UInt64 = 21, amount: Double = 10, label: Bool? = nil)
  -> Transaction
{
  Transaction(idHash: id, time: t, card: card, merchant: merchant, amount: amount, lat: 40.7, lon: -74.0, label: label)
}

@Suite struct FeatureStateTests {
  /// The features' `log(1 + x)` through `log` stays within a few units in the last place of `log1p`.
  @Test func fastLog1pAgreesWithLog1p() {
    var g = SeededGenerator(seed: 1)
    var probes: [Double] = [0, 1e-300, 1e-17, 1e-16, 2.2e-16, 1e-12, 1e-6, 0.5, 1, 2, 1e3, 1e9, 1e300]
    for _ in 0..<20_000 { probes.append(pow(10, g.nextDouble() * 24 - 12)) }
    for x in probes {
      let exact = log1p(x)
      #expect(abs(fastLog1p(x) - exact) <= 4 * exact.ulp, "x = \(x)")
    }
  }

  @Test func windowsCountOnlyEarlierTransactions() {
    let s = FeatureState()
    let (first, r0) = observe(s, tx(1, t0 + 3600))
    #expect(first[FraudFeature.newCard.rawValue] == 1)
    #expect(r0.cardCount1h == 0 && r0.cardCount30d == 0)
    _ = observe(s, tx(2, t0 + 3600 + 60, amount: 30))
    // Two hours later: the 1 h window is empty, the 1 d window holds both.
    let (_, r2) = observe(s, tx(3, t0 + 3 * 3600 + 60, amount: 100))
    #expect(r2.cardCount1h == 0)
    #expect(r2.cardCount1d == 2)
    #expect(r2.cardCount30d == 2)
    #expect(abs(r2.amountToCardMean - 100.0 / 20.0) < 1e-6)
    #expect(abs(r2.secondsSincePrevious - 7200) < 1e-9)
    // Eight days later: out of 1 d and 7 d, still in 30 d.
    let (f3, r3) = observe(s, tx(4, t0 + 8 * 86_400 + 3600))
    #expect(r3.cardCount1d == 0 && r3.cardCount30d == 3)
    #expect(f3[FraudFeature.cardCount7d.rawValue] == 0)
    #expect(f3[FraudFeature.firstUseOfMerchant.rawValue] == 0)
    // A new merchant is a first use; another card is a new card.
    #expect(observe(s, tx(5, t0 + 8 * 86_400 + 3700, merchant: 99)).0[FraudFeature.firstUseOfMerchant.rawValue] == 1)
    #expect(observe(s, tx(6, t0 + 8 * 86_400 + 3800, card: 11)).0[FraudFeature.newCard.rawValue] == 1)
  }

  @Test func impossibleTravelIsFast() {
    let s = FeatureState()
    _ = observe(s, tx(1, t0))
    var far = tx(2, t0 + 1800)
    far.lat = 51.5
    far.lon = -0.13
    let (_, r) = observe(s, far)
    #expect(r.distanceKm > 5500 && r.distanceKm < 5600)
    #expect(r.speedKmh > 10_000)
  }

  @Test func labelsBecomeKnownOnlyAfterTheDelay() {
    let s = FeatureState()
    _ = observe(s, tx(1, t0, card: 1, label: true))
    _ = observe(s, tx(2, t0 + 60, card: 2, label: false))
    // One day later the labels are not known yet (delay 7 d).
    let (before, _) = observe(s, tx(3, t0 + 86_400, card: 3, label: false))
    #expect(before[FraudFeature.merchantFraudRate30d.rawValue] == 0)
    #expect(before[FraudFeature.merchantCount30d.rawValue] == log1p(2))
    // Eight days later: one fraud among the three known labels.
    let (after, _) = observe(s, tx(4, t0 + 9 * 86_400, card: 4))
    #expect(abs(after[FraudFeature.merchantFraudRate30d.rawValue] - 1.0 / 3.0) < 1e-12)
    // A feedback label is known at once.
    #expect(s.applyLabel(transaction: 4, fraud: true))
    let (fed, _) = observe(s, tx(5, t0 + 9 * 86_400 + 60, card: 5))
    #expect(abs(fed[FraudFeature.merchantFraudRate30d.rawValue] - 2.0 / 4.0) < 1e-12)
    #expect(!s.applyLabel(transaction: 999, fraud: true))
  }

  @Test func encodedStateContinuesExactly() throws {
    let a = FeatureState()
    var g = UInt64(7)
    for k in 0..<500 {
      g = g &* 6_364_136_223_846_793_005 &+ 1
      _ = observe(
        a,
        tx(
          UInt64(k + 1), t0 + Double(k) * 300, card: g % 40 + 1, merchant: g % 9 + 1, amount: Double(g % 100) + 1,
          label: k % 17 == 0))
    }
    let b = try FeatureState(decoding: a.encoded())
    #expect(b.cardCount == a.cardCount && b.processed == a.processed && b.watermark == a.watermark)
    // The waiting labels and remembered transactions come back as they were: encoded again, the same bytes.
    #expect(b.pending.count == 500 && b.recent.count == 500)
    #expect(b.encoded() == a.encoded())
    for k in 500..<700 {
      let next = tx(
        UInt64(k + 1), t0 + Double(k) * 300, card: UInt64(k % 40 + 1), merchant: UInt64(k % 9 + 1), amount: 12)
      #expect(observe(a, next).0 == observe(b, next).0)
    }
    #expect(b.hasSeen(1) == a.hasSeen(1))
    #expect(throws: CommerceError.self) { _ = try FeatureState(decoding: Array(a.encoded().dropLast(3))) }
    #expect(throws: CommerceError.self) { _ = try FeatureState(decoding: [1, 2, 3]) }
    // A snapshot of another format version is refused with a way out.
    var other = a.encoded()
    other[0] = 2
    do {
      _ = try FeatureState(decoding: other)
      Issue.record("a version 2 snapshot was accepted")
    } catch {
      #expect("\(error)".contains("train the model again, or stream without resume"))
      #expect((error as? CommerceError)?.kind == .data)
      #expect((error as? CommerceError)?.message.segments.contains(.reference(.resume)) == true)
    }
  }

  /// The kept totals always equal the sums of their buckets: every card's day, small-amount and month counts
  /// and every merchant's 30-day columns, through late transactions, labels, idle gaps and a bucket wrapping.
  @Test func keptTotalsEqualTheirBuckets() {
    let s = FeatureState()
    var g = UInt64(11)
    var t = t0
    for k in 0..<20_000 {
      g = g &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      t += Double(g >> 52)  // 0 to 68 minutes apart
      if k % 5000 == 4999 { t += 3 * 86_400 }  // idle gaps
      let late = k % 97 == 0 ? -Double((g >> 40) % 80_000) : 0
      _ = observe(
        s,
        tx(
          UInt64(k + 1), t + late, card: (g >> 20) % 50 + 1, merchant: (g >> 30) % 7 + 1, amount: Double(g % 7),
          label: k % 3 == 0 ? (g % 5 == 0) : nil), delay: 3 * 86_400)
      if k % 11 == 0 { s.applyLabel(transaction: UInt64(k / 2 + 1), fraud: k % 4 == 0) }
    }
    // One card, 70,000 transactions in one ten-minute bucket: its hourly bucket wraps around 65,536.
    for k in 0..<70_000 { _ = observe(s, tx(UInt64(1_000_000 + k), t + 1, card: 999, amount: 1)) }
    func sum<T: FixedWidthInteger>(_ r: UnsafeMutableRawPointer, _ o: Int, _ n: Int, _: T.Type) -> Int {
      (0..<n).reduce(0) { $0 + Int(r.load(fromByteOffset: o + MemoryLayout<T>.size * $1, as: T.self)) }
    }
    for slot in s.cards.liveSlots {
      let c = s.cards.record(slot)
      #expect(Int(c.load(fromByteOffset: CardLayout.dayTotal, as: UInt32.self)) == sum(c, 128, 24, UInt16.self))
      #expect(Int(c.load(fromByteOffset: CardLayout.smallTotal, as: UInt16.self)) == sum(c, 176, 24, UInt8.self))
      #expect(Int(c.load(fromByteOffset: CardLayout.monthTotal, as: UInt32.self)) == sum(c, 296, 30, UInt16.self))
    }
    for slot in s.merchantTable.liveSlots {
      let m = s.merchantTable.record(slot)
      for column in [MerchantLayout.count, MerchantLayout.known, MerchantLayout.frauds] {
        #expect(Int(MerchantLayout.total(m, column)) == sum(m, column, 30, UInt32.self))
      }
    }
    let wrapped = s.cards.record(s.cards.find(999)!)
    #expect(wrapped.load(fromByteOffset: CardLayout.dayTotal, as: UInt32.self) == 70_000 - 65_536)
  }

  /// The hand-placed fields of the card and merchant records neither overlap nor leave their record.
  @Test func recordLayoutsDoNotOverlap() {
    func check(_ fields: [(String, Int, Int)], stride: Int) {
      let sorted = fields.sorted { $0.1 < $1.1 }
      for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(a.1 + a.2 <= b.1, "\(a.0) overlaps \(b.0)") }
      #expect(sorted.last.map { $0.1 + $0.2 <= stride } == true)
    }
    let rings = (0..<3).map { CardLayout.ring($0) }
    check(
      [
        ("key", CardLayout.key, 8), ("lastTime", CardLayout.lastTime, 8), ("lastLat", CardLayout.lastLat, 4),
        ("lastLon", CardLayout.lastLon, 4), ("count", CardLayout.count, 4), ("mean", CardLayout.mean, 4),
        ("m2", CardLayout.m2, 4), ("head", CardLayout.head, 12), ("merchantNext", CardLayout.merchantNext, 1),
        ("merchants", CardLayout.merchants, 4 * FeatureState.recentMerchants), ("small", CardLayout.small, 24),
        ("dayTotal", CardLayout.dayTotal, 4), ("smallTotal", CardLayout.smallTotal, 2),
        ("monthTotal", CardLayout.monthTotal, 4),
      ]
        + rings.enumerated().flatMap { r, ring in
          [("counts\(r)", ring.counts, 2 * ring.n), ("sums\(r)", ring.sums, 4 * ring.n)]
        },
      stride: CardLayout.stride)
    check(
      [
        ("key", MerchantLayout.key, 8), ("last", MerchantLayout.last, 8), ("head", MerchantLayout.head, 4),
        ("count", MerchantLayout.count, 120), ("known", MerchantLayout.known, 120),
        ("frauds", MerchantLayout.frauds, 120), ("totals", MerchantLayout.totals, 12),
      ], stride: MerchantLayout.stride)
    #expect(CardLayout.ring(1).n == 24)  // the small-amount counts are aligned with ring 1
  }

  @Test func idleCardsExpire() {
    let s = FeatureState()
    _ = observe(s, tx(1, t0, card: 1))
    _ = observe(s, tx(2, t0 + 40 * 86_400, card: 2))
    s.expire(before: s.watermark)
    #expect(s.cardCount == 1)
    #expect(observe(s, tx(3, t0 + 40 * 86_400 + 1, card: 1)).0[FraudFeature.newCard.rawValue] == 1)
    #expect(FeatureState.bytesPerCard <= 512)
  }

  @Test func stateStaysWithin512BytesPerCard() {
    let s = FeatureState()
    for k in 1...20_000 {
      _ = observe(s, tx(UInt64(k), t0 + Double(k), card: UInt64(k) &* 0x9E37_79B9_7F4A_7C15))
      if k % 997 == 0 { #expect(s.bytesPerActiveCard <= 512, "at \(k) cards") }
    }
    #expect(s.cardCount == 20_000)
  }
}

@Suite struct RecordTableTests {
  @Test func addFindRemoveReuseAndGrow() {
    let t = RecordTable(stride: 16, capacity: 4)
    func key(_ k: Int) -> UInt64 { UInt64(k) &* 0x9E37_79B9_7F4A_7C15 }
    for k in 0..<10_000 {
      let s = t.add(key(k))
      t.record(s).storeBytes(of: UInt64(k), toByteOffset: 8, as: UInt64.self)
    }
    #expect(t.count == 10_000 && t.slots == 10_000)
    for k in stride(from: 0, to: 10_000, by: 2) { t.remove(slot: t.find(key(k))!) }
    #expect(t.count == 5_000 && t.free.count == 5_000)
    for k in 0..<10_000 {
      let s = t.find(key(k))
      #expect((s == nil) == (k % 2 == 0))
      if let s { #expect(t.record(s).load(fromByteOffset: 8, as: UInt64.self) == UInt64(k)) }
    }
    // Freed slots are reused before new ones; keys 0 and all-ones are ordinary keys.
    let reused = t.add(0)
    #expect(reused < 10_000 && t.slots == 10_000)
    _ = t.add(.max)
    #expect(t.find(0) == reused && t.find(.max) != nil && t.find(1) == nil)
    // Keys with the same fingerprint (high 32 bits) are told apart by the key in the record.
    let a = t.add(0x1234_5678_0000_0001)
    let b = t.add(0x1234_5678_0000_0002)
    #expect(t.find(0x1234_5678_0000_0001) == a && t.find(0x1234_5678_0000_0002) == b)
    #expect(t.find(0x1234_5678_0000_0003) == nil)
  }

  @Test func restoreChecksItsInput() throws {
    let t = RecordTable(stride: 8)
    for k in 1...5 { _ = t.add(UInt64(k) << 40) }
    t.remove(slot: 2)
    let copy = try #require(RecordTable.restore(stride: 8, bytes: t.bytes, free: t.free))
    #expect(copy.count == 4 && copy.find(3 << 40) == nil && copy.find(5 << 40) == 4)
    #expect(RecordTable.restore(stride: 8, bytes: t.bytes, free: [7]) == nil)  // out of range
    #expect(RecordTable.restore(stride: 8, bytes: t.bytes, free: [2, 2]) == nil)  // repeated
    let twice: [UInt64] = [5, 6, 5]
    twice.withUnsafeBytes { #expect(RecordTable.restore(stride: 8, bytes: $0, free: []) == nil) }  // one key twice
    twice.withUnsafeBytes { #expect(RecordTable.restore(stride: 8, bytes: $0, free: [2]) != nil) }
    #expect(RecordTable.restore(stride: 16, bytes: t.bytes, free: []) == nil)  // not whole records
  }
}

@Suite struct RecentTransactionsTests {
  @Test func remembersAtLeastOneGeneration() {
    let r = RecentTransactions(generation: 100)
    for k in 1...250 { r.insert(UInt64(k), merchant: Int32(k), day: Int32(k % 7)) }
    // Generations hold 1–100, 101–200, 201–250: the newest two are remembered.
    #expect(r.count == 150)
    #expect(!r.contains(100) && r.contains(101) && r.contains(250) && !r.contains(251))
    #expect(r.lookup(150) == RecentEntry(key: 150, merchant: 150, day: 150 % 7))
    // Key 0 is an ordinary key.
    r.insert(0, merchant: -1, day: 3)
    #expect(r.lookup(0)?.day == 3 && r.count == 151)
    // Inserting a remembered id again replaces it without counting twice.
    r.insert(250, merchant: 9, day: 9)
    #expect(r.lookup(250)?.merchant == 9 && r.count == 151)
  }

  @Test func restoreKeepsMembershipAndRefusesBadInput() throws {
    let empty = RecentTransactions(generation: 8).entries
    #expect(empty.newer.isEmpty && empty.older.isEmpty)
    let r = RecentTransactions(generation: 8)
    for k in 1...13 { r.insert(UInt64(k) * 977, merchant: 1, day: 2) }
    let (newer, older) = r.entries
    let copy = try #require(RecentTransactions.restore(generation: 8, newer: newer, older: older))
    for k in 0...20 { #expect(copy.contains(UInt64(k) * 977) == r.contains(UInt64(k) * 977)) }
    // Both continue alike: the next insert rotates the generations at the same point.
    for k in 14...20 {
      r.insert(UInt64(k) * 977, merchant: 1, day: 2)
      copy.insert(UInt64(k) * 977, merchant: 1, day: 2)
    }
    for k in 0...20 { #expect(copy.contains(UInt64(k) * 977) == r.contains(UInt64(k) * 977)) }
    #expect(RecentTransactions.restore(generation: 4, newer: newer, older: older) == nil)
    #expect(RecentTransactions.restore(generation: 8, newer: newer + [newer[0]], older: []) == nil)
    #expect(
      RecentTransactions.restore(generation: 8, newer: [RecentEntry(key: 0, merchant: 0, day: 0)], older: []) == nil)
  }
}

@Suite struct RulesTests {
  @Test func badRulesFilesAreNamed() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    func load(_ text: String) -> String {
      let path = dir.appendingPathComponent("r.json").path
      try! text.write(toFile: path, atomically: true, encoding: .utf8)
      do {
        _ = try RuleSet.load(path: path)
        return "ok"
      } catch {
        return "\(error)".replacingOccurrences(of: path, with: "F")
      }
    }
    #expect(
      load(#"{"rules": [{"code": "X", "decision": "review", "when": [{"value": "amount", "op": ">", "than": 5}]}]}"#)
        == "ok")
    #expect(
      load(#"{"rules": [{"code": "X", "decision": "block", "when": [{"value": "amount", "op": ">", "than": 5}]}]}"#)
        == "F: rule X: decision 'block' is not approve, review or decline")
    #expect(
      load(#"{"rules": [{"code": "X", "decision": "review", "when": [{"value": "colour", "op": ">", "than": 5}]}]}"#)
        .hasPrefix("F: rule X: unknown value 'colour'"))
    #expect(
      load(#"{"rules": [{"code": "X", "decision": "review", "when": [{"value": "amount", "op": "~", "than": 5}]}]}"#)
        == "F: rule X: unknown operator '~'; use > >= < <= == !=")
    #expect(load("not json").hasPrefix("F: not a rules file"))
  }

  /// Each rule variable is read from its own field, and each operator compares as its name says, at, below and
  /// above its threshold; a rule holds only when all its conditions do, and the decisions and codes follow the rules.
  @Test func compiledRulesReadTheirVariablesAndOperators() {
    var inputs = RuleInputs()
    // Field i holds i + 1, set through its property.
    inputs.amount = 1
    inputs.cardCount1h = 2
    inputs.cardCount1d = 3
    inputs.cardCount30d = 4
    inputs.cardMean30d = 5
    inputs.amountToCardMean = 6
    inputs.secondsSincePrevious = 7
    inputs.distanceKm = 8
    inputs.speedKmh = 9
    inputs.smallCount1d = 10
    inputs.merchantFraudRate7d = 11
    inputs.firstUseOfMerchant = 12
    inputs.hour = 13
    func holds(_ when: [Rule.Condition]) -> Bool {
      let table = RuleTable(RuleSet(rules: [Rule(code: "R", decision: "review", when: when)]).compiled())
      return withUnsafeBytes(of: inputs) { table.matches(0, $0.baseAddress!) }
    }
    for (i, name) in RuleInputs.names.enumerated() {
      let v = Double(i + 1)
      #expect(holds([.init(value: name, op: "==", than: v)]), "\(name)")
      #expect(!holds([.init(value: name, op: "!=", than: v)]), "\(name)")
    }
    let expected: [String: (below: Bool, at: Bool, above: Bool)] = [
      ">": (true, false, false), ">=": (true, true, false), "<": (false, false, true), "<=": (false, true, true),
      "==": (false, true, false), "!=": (true, false, true),
    ]
    for (op, e) in expected {
      // amount is 1: thresholds below, at and above it.
      #expect(holds([.init(value: "amount", op: op, than: 0.5)]) == e.below, "\(op)")
      #expect(holds([.init(value: "amount", op: op, than: 1)]) == e.at, "\(op)")
      #expect(holds([.init(value: "amount", op: op, than: 1.5)]) == e.above, "\(op)")
    }
    #expect(holds([.init(value: "hour", op: ">", than: 12), .init(value: "speed_kmh", op: "<", than: 10)]))
    #expect(!holds([.init(value: "hour", op: ">", than: 12), .init(value: "speed_kmh", op: "<", than: 9)]))
    let two = RuleTable(
      RuleSet(rules: [
        Rule(code: "A", decision: "decline", when: [.init(value: "amount", op: ">", than: 0)]),
        Rule(code: "BB", decision: "review", when: [.init(value: "hour", op: "<", than: 0)]),
      ]).compiled())
    #expect(two.count == 2)
    #expect(two.decisions[0] == .decline && two.decisions[1] == .review)
    #expect(two.codes == [Array("A".utf8), Array("BB".utf8)])
    withUnsafeBytes(of: inputs) { raw in
      #expect(two.matches(0, raw.baseAddress!))
      #expect(!two.matches(1, raw.baseAddress!))
    }
  }
}

@Suite struct FraudStoreTests {
  /// A fraud version missing a part, or with a model that does not decode, is reported as damaged; a state
  /// snapshot of another format says how to go on.
  @Test func damagedVersionsAreNamed() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fraud-store-\(UUID())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let store = try ModelStore(path: dir.appendingPathComponent("s.sqlite").path, create: true)
    func register(_ parts: [String: [UInt8]]) throws {
      _ = try store.register(
        NewModelVersion(name: "fraud", kind: FraudStore.kind, dataBytes: 0, dataHash: "0", parts: parts))
    }
    // No model of that name: the resolve helper's error, with the command that trains one.
    #expect {
      _ = try FraudStore.load(from: store, name: "fraud")
    } throws: { ($0 as? CommerceError)?.kind == .noModel && "\($0)".contains("no fraud model 'fraud'") }
    let f = FraudFeature.count
    let model = try JSONEncoder().encode(
      FraudModel(
        estimator: .logistic(
          LogisticFraudEstimator(
            coefficients: [Double](repeating: 0, count: f + 1), means: [Double](repeating: 0, count: f),
            sds: [Double](repeating: 1, count: f))), reviewThreshold: 0.5, declineThreshold: 0.9, rules: .standard,
        labelDelay: 86_400, thresholdRule: "test"))
    let state = FeatureState().encoded()
    for parts in [["model": Array(model)], ["state": state], ["model": [1, 2, 3], "state": state]] {
      try register(parts)
      #expect {
        _ = try FraudStore.load(from: store, name: "fraud")
      } throws: { "\($0)".contains("model 'fraud' version") && "\($0)".contains("is damaged") }
    }
    var other = state
    other[0] = 9
    try register(["model": Array(model), "state": other])
    #expect {
      _ = try FraudStore.load(from: store, name: "fraud")
    } throws: { "\($0)".contains("train the model again") }
    try register(["model": Array(model), "state": state])
    #expect(try FraudStore.load(from: store, name: "fraud").state.cardCount == 0)
    // A state registered by earlier versions in several parts ("state", "state.1", …) is read back whole.
    let busy = FeatureState()
    for k in 0..<300 { _ = observe(busy, tx(UInt64(k + 1), t0 + Double(k) * 60, card: UInt64(k % 37 + 1))) }
    let encoded = busy.encoded()
    var pieces = ["model": Array(model), "state": Array(encoded.prefix(1000))]
    for k in 1...((encoded.count - 1) / 1000) {
      pieces["state.\(k)"] = Array(encoded[(k * 1000)..<min((k + 1) * 1000, encoded.count)])
    }
    try register(pieces)
    let loaded = try FraudStore.load(from: store, name: "fraud")
    #expect(loaded.state.encoded() == busy.encoded())
  }
}

@Suite struct PendingLabelsTests {
  /// The ring gives labels back in arrival order across wrap-arounds and growth (from 1,024 slots), only once their
  /// release time has come; `upcoming` looks ahead, `waiting` lists what is left in order, and a ring built from that
  /// list goes on the same way.
  @Test func labelsComeBackInOrderAcrossWrapsAndGrowth() {
    let q = PendingLabels()
    var next = 0
    var popped = 0
    var peak = 0
    var g = SeededGenerator(seed: 11)
    // Push more than pop for a while (the ring grows twice while its head is mid-ring), then drain.
    for step in 0..<6_000 {
      let pushes = step < 4_000 ? Int(g.nextDouble() * 3) : 0
      for _ in 0..<pushes {
        q.push(Double(next), Int32(next), Int32(next % 30), next % 3 == 0)
        next += 1
      }
      #expect(q.count == next - popped)
      if q.count > 2 {
        let ahead = q.upcoming(2)
        #expect(ahead?.merchant == Int32(popped + 2) && ahead?.day == Int32((popped + 2) % 30))
      }
      #expect(q.upcoming(q.count) == nil)
      // Not yet released: nothing comes back.
      #expect(q.pop(until: Double(popped) - 0.5) == nil)
      peak = max(peak, q.count)
      if step % 2 == 0 || step >= 4_000, let (m, d, f) = q.pop(until: Double(popped)) {
        #expect(m == Int32(popped) && d == Int32(popped % 30) && f == (popped % 3 == 0))
        popped += 1
      }
      if step == 3_000 {
        let copy = PendingLabels(q.waiting)
        #expect(copy.waiting.map(\.merchant) == q.waiting.map(\.merchant))
        #expect(copy.waiting.map(\.merchant) == (popped..<next).map { Int32($0) })
        #expect(copy.pop(until: .infinity)?.0 == Int32(popped))
      }
    }
    #expect(next > 3_000 && peak > 1_500)
    while q.pop(until: .infinity) != nil { popped += 1 }
    #expect(popped == next && q.count == 0 && q.waiting.isEmpty)
    #expect(PendingLabels([]).pop(until: .infinity) == nil)
  }
}

@Suite struct IdHashTests {
  /// The hash of ids as the stream reads them — word loads and a tail in 4-, 2- and 1-byte loads — equals the
  /// byte-by-byte definition (so the hashes kept in saved states stay valid), for every length from 1 to 40 with
  /// blanks around; the ASCII flag says whether a byte is 0x80 or above; blank ids have no hash.
  @Test func hashMatchesItsByteByByteDefinition() {
    func reference(_ bytes: [UInt8]) -> UInt64? {
      var lo = 0
      var hi = bytes.count
      while lo < hi, bytes[lo] == 0x20 || bytes[lo] == 0x09 { lo += 1 }
      while hi > lo, bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0x09 { hi -= 1 }
      if lo == hi { return nil }
      var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(hi - lo)
      var i = lo
      while i + 8 <= hi {
        var w: UInt64 = 0
        for k in 0..<8 { w |= UInt64(bytes[i + k]) << (8 * UInt64(k)) }
        h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 31
        i += 8
      }
      var tail: UInt64 = 0
      var shift: UInt64 = 0
      while i < hi {
        tail |= UInt64(bytes[i]) << shift
        shift += 8
        i += 1
      }
      h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
      h ^= h >> 29
      h = h &* 0xBF58_476D_1CE4_E5B9
      h ^= h >> 32
      return h
    }
    var g = SeededGenerator(seed: 12)
    for length in 1...40 {
      for trial in 0..<20 {
        var id = (0..<length).map { _ in UInt8(33 + Int(g.nextDouble() * 90)) }
        let wide = trial % 5 == 0
        if wide { id[Int(g.nextDouble() * Double(length))] = 0xC3 }
        let padded = [0x20] + id + (trial % 2 == 0 ? [0x09, 0x20] : [])
        padded.withUnsafeBufferPointer { b in
          let got = TransactionSource.hashAndASCII(b)
          #expect(got?.hash == reference(padded), "length \(length)")
          #expect(got?.ascii == !wide, "length \(length)")
          #expect(TransactionSource.hash(b) == reference(padded))
        }
      }
    }
    [UInt8]([0x20, 0x09, 0x20]).withUnsafeBufferPointer { #expect(TransactionSource.hashAndASCII($0) == nil) }
    // Fixed values (computed by the definition in Python), so that a change of the definition itself is noticed too.
    let fixed: [(String, UInt64)] = [
      ("T1174932", 0x6720_d9da_4bfb_dfe2), ("C18959", 0xdcc2_c09d_9b78_55ca), (" M346\t", 0xad7c_86a7_7844_5125),
      ("customer-000123456", 0x29b3_e6a7_348e_83da),
    ]
    for (id, value) in fixed {
      Array(id.utf8).withUnsafeBufferPointer { #expect(TransactionSource.hash($0) == value, "\(id)") }
    }
  }
}
