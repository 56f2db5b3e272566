import Foundation
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
    for k in 500..<700 {
      let next = tx(
        UInt64(k + 1), t0 + Double(k) * 300, card: UInt64(k % 40 + 1), merchant: UInt64(k % 9 + 1), amount: 12)
      #expect(observe(a, next).0 == observe(b, next).0)
    }
    #expect(b.hasSeen(1) == a.hasSeen(1))
    #expect(throws: FraudError.self) { _ = try FeatureState(decoding: Array(a.encoded().dropLast(3))) }
    #expect(throws: FraudError.self) { _ = try FeatureState(decoding: [1, 2, 3]) }
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
}

@Suite struct KeyTableTests {
  @Test func insertLookupRemoveGrow() {
    var t = KeyTable(capacity: 4)
    for k in 0..<10_000 { t.insert(UInt64(k) &* 0x9E37_79B9_7F4A_7C15, Int32(k)) }
    #expect(t.count == 10_000)
    for k in stride(from: 0, to: 10_000, by: 2) { t[UInt64(k) &* 0x9E37_79B9_7F4A_7C15] = nil }
    #expect(t.count == 5_000)
    for k in 0..<10_000 {
      #expect(t[UInt64(k) &* 0x9E37_79B9_7F4A_7C15] == (k % 2 == 0 ? nil : Int32(k)))
    }
    t.insert(0, 5)
    t.insert(1, 6)
    #expect(t[0] == 5 && t[1] == 6)
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
}
