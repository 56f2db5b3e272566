import Foundation
import Modeling
import TabularIO

/// Settings of the transaction simulator.
public struct SimulationConfiguration: Sendable {
  public var days = 30
  public var cards = 1_000
  public var merchants = 200
  public var seed: UInt64 = 42
  /// Seconds since the epoch of the first day's midnight (UTC); default 2026-01-01.
  public var start: Double = 1_767_225_600
  /// Share of cards that suffer a fraud episode (stolen card, card testing, travel) over the period.
  public var fraudCardShare = 0.02
  /// Share of merchants compromised (their customers' cards are defrauded days later).
  public var compromisedMerchantShare = 0.01

  /// The defaults.
  public init() {}
}

/// One simulated transaction.
struct SimulatedTransaction {
  var time: Double
  var card: Int
  var merchant: Int
  var amount: Double
  var lat: Double
  var lon: Double
  var fraud: Bool
}

/// What the simulator produced.
public struct SimulationSummary: Sendable, Codable {
  public var transactions: Int
  public var frauds: Int
}

/// The project's own generator of card transactions with labeled fraud patterns:
///
/// - normal spending: each card has a home city, a typical amount and a few favourite merchants;
/// - stolen-card bursts: many large purchases in a few hours at unfamiliar merchants, often abroad and at night;
/// - card testing: several purchases under 2.00 within an hour, then a large one;
/// - impossible travel: a purchase thousands of kilometres from the previous one within the hour;
/// - compromised merchants: cards used there during a breach window are defrauded days later.
///
/// Deterministic for a seed. Rows come out in time order.
public enum FraudSimulator {
  static let cities: [(String, Double, Double)] = [
    ("US", 40.71, -74.01), ("US", 34.05, -118.24), ("US", 41.88, -87.63), ("GB", 51.51, -0.13), ("FR", 48.86, 2.35),
    ("DE", 52.52, 13.40), ("ES", 40.42, -3.70), ("IT", 41.90, 12.50), ("NL", 52.37, 4.90), ("JP", 35.68, 139.69),
    ("BR", -23.55, -46.63), ("IN", 19.08, 72.88), ("AU", -33.87, 151.21), ("CA", 43.65, -79.38),
  ]
  static let categories = [
    "grocery", "restaurant", "fuel", "electronics", "clothing", "travel", "online", "pharmacy", "jewelry", "gaming",
  ]

  /// Writes the simulated transactions as CSV with a header:
  /// `transaction_id,timestamp,card,merchant,merchant_category,country,amount,lat,lon,label`.
  public static func generate(_ c: SimulationConfiguration, to writer: CSVWriter) throws -> SimulationSummary {
    guard c.days >= 1, c.cards >= 1, c.merchants >= 2 else {
      throw CommerceError(.usage, "simulate needs at least 1 day, 1 card and 2 merchants")
    }
    var g = SeededGenerator(seed: c.seed)
    // Merchants: a city, a category, a popularity.
    let merchantCity = (0..<c.merchants).map { _ in g.nextInt(below: cities.count) }
    let merchantCategory = (0..<c.merchants).map { _ in g.nextInt(below: categories.count) }
    let merchantWeight = (0..<c.merchants).map { _ in exp(g.nextGaussian()) }
    var byCity = [[Int]](repeating: [], count: cities.count)
    for m in 0..<c.merchants { byCity[merchantCity[m]].append(m) }
    let allMerchants = Array(0..<c.merchants)
    func pick(_ pool: [Int], _ g: inout SeededGenerator) -> Int {
      let pool = pool.isEmpty ? allMerchants : pool
      var total = 0.0
      for m in pool { total += merchantWeight[m] }
      var r = g.nextDouble() * total
      for m in pool {
        r -= merchantWeight[m]
        if r <= 0 { return m }
      }
      return pool[pool.count - 1]
    }
    var rows: [SimulatedTransaction] = []
    let horizon = Double(c.days) * 86_400
    // Compromised merchants and their breach windows.
    var breaches: [(merchant: Int, from: Double, to: Double)] = []
    for m in 0..<c.merchants where g.nextDouble() < c.compromisedMerchantShare {
      let from = g.nextDouble() * horizon * 0.7
      breaches.append((m, from, from + 3 * 86_400))
    }
    for card in 0..<c.cards {
      let home = g.nextInt(below: cities.count)
      let typical = exp(3 + 0.8 * g.nextGaussian())
      let rate = 0.3 + 2.5 * g.nextDouble()
      var favourites: [Int] = []
      for _ in 0..<(3 + g.nextInt(below: 6)) { favourites.append(pick(byCity[home], &g)) }
      var times: [Double] = []
      var t = g.nextDouble() * 86_400 / rate
      while t < horizon {
        // Daytime-heavy: shift night-time draws into the day most of the time.
        var when = t
        let hour = (when.truncatingRemainder(dividingBy: 86_400)) / 3600
        if (hour < 7 || hour > 22) && g.nextDouble() < 0.8 { when += 9 * 3600 }
        if when < horizon { times.append(when) }
        t += -log(max(g.nextDouble(), 1e-12)) * 86_400 / rate
      }
      times.sort()
      var lastMerchant = favourites[0]
      for time in times {
        let m = g.nextDouble() < 0.8 ? favourites[g.nextInt(below: favourites.count)] : pick(byCity[home], &g)
        lastMerchant = m
        let city = cities[merchantCity[m]]
        rows.append(
          SimulatedTransaction(
            time: c.start + time, card: card, merchant: m,
            amount: max(0.5, typical * exp(0.5 * g.nextGaussian())), lat: city.1 + 0.05 * g.nextGaussian(),
            lon: city.2 + 0.05 * g.nextGaussian(), fraud: false))
        // A card used at a merchant during its breach is defrauded days later.
        for b in breaches where b.merchant == m && time >= b.from && time <= b.to && g.nextDouble() < 0.5 {
          let when = time + (1 + 6 * g.nextDouble()) * 86_400
          guard when < horizon else { continue }
          let far = cities[g.nextInt(below: cities.count)]
          for k in 0..<(1 + g.nextInt(below: 3)) {
            let m2 = pick(byCity[cities.firstIndex { $0 == far }!], &g)
            rows.append(
              SimulatedTransaction(
                time: c.start + when + Double(k) * 600 * g.nextDouble(), card: card, merchant: m2,
                amount: typical * (3 + 5 * g.nextDouble()), lat: far.1, lon: far.2, fraud: true))
          }
        }
      }
      _ = lastMerchant
      guard g.nextDouble() < c.fraudCardShare, let firstTime = times.first else { continue }
      let onset = firstTime + g.nextDouble() * max(0, horizon - firstTime - 86_400)
      switch g.nextInt(below: 3) {
      case 0:
        // Stolen card: a burst of large purchases at unfamiliar merchants, often abroad, often at night.
        let abroad = g.nextDouble() < 0.6 ? g.nextInt(below: cities.count) : home
        let night = g.nextDouble() < 0.6
        var when = onset - onset.truncatingRemainder(dividingBy: 86_400) + (night ? 2 : 14) * 3600
        for _ in 0..<(4 + g.nextInt(below: 10)) {
          let m = pick(byCity[abroad], &g)
          let city = cities[abroad]
          rows.append(
            SimulatedTransaction(
              time: c.start + when, card: card, merchant: m, amount: typical * (2 + 8 * g.nextDouble()),
              lat: city.1, lon: city.2, fraud: true))
          when += 300 + 1800 * g.nextDouble()
        }
      case 1:
        // Card testing: small amounts, then a large one.
        var when = onset
        let city = cities[home]
        for _ in 0..<(3 + g.nextInt(below: 4)) {
          rows.append(
            SimulatedTransaction(
              time: c.start + when, card: card, merchant: pick(allMerchants, &g), amount: 0.5 + 1.4 * g.nextDouble(),
              lat: city.1, lon: city.2, fraud: true))
          when += 60 + 600 * g.nextDouble()
        }
        rows.append(
          SimulatedTransaction(
            time: c.start + when, card: card, merchant: pick(allMerchants, &g),
            amount: typical * (5 + 10 * g.nextDouble()),
            lat: city.1, lon: city.2, fraud: true))
      default:
        // Impossible travel: far away within the hour of a genuine purchase.
        let far = cities[(home + 1 + g.nextInt(below: cities.count - 1)) % cities.count]
        let farIndex = cities.firstIndex { $0 == far }!
        for k in 0..<(1 + g.nextInt(below: 3)) {
          rows.append(
            SimulatedTransaction(
              time: c.start + onset + 600 + Double(k) * 900, card: card, merchant: pick(byCity[farIndex], &g),
              amount: typical * (1.5 + 4 * g.nextDouble()), lat: far.1, lon: far.2, fraud: true))
        }
      }
    }
    rows.sort { $0.time < $1.time || ($0.time == $1.time && $0.card < $1.card) }
    writer.writeRow([
      "transaction_id", "timestamp", "card", "merchant", "merchant_category", "country", "amount", "lat", "lon",
      "label",
    ])
    var frauds = 0
    for (k, r) in rows.enumerated() {
      writer.writeField("T\(String(k + 1))")
      writer.writeField(FieldParser.formatTimestamp(r.time))
      writer.writeField("C\(String(r.card + 1))")
      writer.writeField("M\(String(r.merchant + 1))")
      writer.writeField(categories[merchantCategory[r.merchant]])
      writer.writeField(nearestCountry(r.lat, r.lon))
      writer.writeField(r.amount, decimals: 2)
      writer.writeField(r.lat, decimals: 4)
      writer.writeField(r.lon, decimals: 4)
      writer.writeField(r.fraud ? 1 : 0)
      writer.endRow()
      if r.fraud { frauds += 1 }
    }
    try writer.flush()
    return SimulationSummary(transactions: rows.count, frauds: frauds)
  }

  static func nearestCountry(_ lat: Double, _ lon: Double) -> String {
    var best = cities[0]
    var bestD = Double.infinity
    for city in cities {
      let d = (city.1 - lat) * (city.1 - lat) + (city.2 - lon) * (city.2 - lon)
      if d < bestD {
        bestD = d
        best = city
      }
    }
    return best.0
  }
}
