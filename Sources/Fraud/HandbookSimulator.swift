import Foundation
import Modeling
import TabularIO

/// Settings of the handbook profile: the transaction simulator of *Reproducible Machine Learning for Credit Card
/// Fraud Detection — Practical Handbook* (Le Borgne, Siblini, Lebichot, Bontempi), chapter "Transaction data
/// simulator", with its defaults.
public struct HandbookConfiguration: Sendable {
  public var customers = 5_000
  public var terminals = 10_000
  public var days = 183
  /// A customer uses the terminals within this distance on the 100 × 100 grid.
  public var radius = 5.0
  public var seed: UInt64 = 42
  /// Seconds since the epoch of the first day's midnight (UTC); default 2018-04-01.
  public var start: Double = 1_522_540_800
  /// Scenario 1: every transaction above this amount is fraud.
  public var amountThreshold = 220.0
  /// Scenario 2: terminals compromised each day, and for how many days all their transactions are fraud.
  public var compromisedTerminalsPerDay = 2
  public var terminalCompromiseDays = 28
  /// Scenario 3: customers compromised each day, for how many days, the share of their transactions defrauded
  /// then, and the factor on those amounts.
  public var compromisedCustomersPerDay = 3
  public var customerCompromiseDays = 14
  public var customerFraudShare = 1.0 / 3.0
  public var amountFactor = 5.0
  /// From this day on (when set), scenario 1's threshold is `changedThreshold`: amounts the history before it
  /// never saw defrauded are — a pattern change, for testing online learning.
  public var changeDay: Int? = nil
  public var changedThreshold = 150.0

  /// The handbook's defaults.
  public init() {}
}

/// Generates the handbook's simulated transactions:
///
/// - customers and terminals uniformly on a 100 × 100 grid; a customer uses the terminals within `radius`;
/// - per customer, a mean amount drawn from U(5, 100) (standard deviation half of it) and a mean number of
///   transactions per day from U(0, 4); each day a Poisson number of transactions at times drawn around noon
///   (normal, σ 20,000 s, those outside the day dropped), amounts normal (a negative one redrawn from
///   U(0, 2·mean)), at a terminal drawn among the customer's;
/// - fraud scenario 1: every amount above `amountThreshold`; scenario 2: each day `compromisedTerminalsPerDay`
///   terminals, all of whose transactions in the next `terminalCompromiseDays` days are fraud; scenario 3: each
///   day `compromisedCustomersPerDay` customers, a `customerFraudShare` of whose transactions in the next
///   `customerCompromiseDays` days are fraud with the amount multiplied by `amountFactor`; from `changeDay` on
///   (when set), scenario 1's threshold is `changedThreshold`.
///
/// Columns as the handbook's: `TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_TIME_SECONDS,
/// TX_TIME_DAYS,TX_FRAUD,TX_FRAUD_SCENARIO`, in time order. Deterministic for a seed (not the handbook's NumPy
/// stream: the same distributions, other draws).
public enum HandbookSimulator {
  struct Row {
    var seconds: Int
    var customer: Int32
    var terminal: Int32
    var amount: Double
    var scenario: Int8
  }

  public static func generate(_ c: HandbookConfiguration, to writer: CSVWriter) throws -> SimulationSummary {
    guard c.customers >= 1, c.terminals >= 1, c.days >= 1, c.radius > 0 else {
      throw CommerceError(.usage, "the handbook profile needs at least one customer, terminal and day")
    }
    var g = SeededGenerator(seed: c.seed)
    // Profiles.
    var cx = [Double]()
    var cy = [Double]()
    var mean = [Double]()
    var perDay = [Double]()
    for _ in 0..<c.customers {
      cx.append(g.nextDouble() * 100)
      cy.append(g.nextDouble() * 100)
      mean.append(5 + g.nextDouble() * 95)
      perDay.append(g.nextDouble() * 4)
    }
    var tx = [Double]()
    var ty = [Double]()
    for _ in 0..<c.terminals {
      tx.append(g.nextDouble() * 100)
      ty.append(g.nextDouble() * 100)
    }
    // Each customer's terminals within the radius, found through a grid of cells of the radius' size.
    let cell = c.radius
    let side = Int((100 / cell).rounded(.up)) + 1
    var grid = [[Int32]](repeating: [], count: side * side)
    for t in 0..<c.terminals { grid[Int(tx[t] / cell) * side + Int(ty[t] / cell)].append(Int32(t)) }
    var available = [[Int32]](repeating: [], count: c.customers)
    for k in 0..<c.customers {
      let gx = Int(cx[k] / cell)
      let gy = Int(cy[k] / cell)
      for i in max(0, gx - 1)...min(side - 1, gx + 1) {
        for j in max(0, gy - 1)...min(side - 1, gy + 1) {
          for t in grid[i * side + j] {
            let dx = tx[Int(t)] - cx[k]
            let dy = ty[Int(t)] - cy[k]
            if dx * dx + dy * dy < c.radius * c.radius { available[k].append(t) }
          }
        }
      }
      available[k].sort()
    }
    // Transactions.
    var rows: [Row] = []
    for day in 0..<c.days {
      for k in 0..<c.customers {
        let n = poisson(perDay[k], &g)
        guard n > 0, !available[k].isEmpty else { continue }
        for _ in 0..<n {
          let t = (43_200 + 20_000 * g.nextGaussian()).rounded()
          guard t > 0, t < 86_400 else { continue }
          var amount = mean[k] + mean[k] / 2 * g.nextGaussian()
          if amount < 0 { amount = g.nextDouble() * 2 * mean[k] }
          amount = (amount * 100).rounded() / 100
          let terminal = available[k][g.nextInt(below: available[k].count)]
          rows.append(
            Row(seconds: day * 86_400 + Int(t), customer: Int32(k), terminal: terminal, amount: amount, scenario: 0))
        }
      }
    }
    rows.sort { ($0.seconds, $0.customer, $0.terminal) < ($1.seconds, $1.customer, $1.terminal) }
    // Scenario 1.
    let changeSecond = c.changeDay.map { $0 * 86_400 } ?? Int.max
    for i in rows.indices
    where rows[i].amount > (rows[i].seconds >= changeSecond ? c.changedThreshold : c.amountThreshold) {
      rows[i].scenario = 1
    }
    var byTerminal = [[Int]](repeating: [], count: c.terminals)
    var byCustomer = [[Int]](repeating: [], count: c.customers)
    for (i, r) in rows.enumerated() {
      byTerminal[Int(r.terminal)].append(i)
      byCustomer[Int(r.customer)].append(i)
    }
    func window(_ list: [Int], from day: Int, days: Int) -> [Int] {
      list.filter { rows[$0].seconds >= day * 86_400 && rows[$0].seconds < (day + days) * 86_400 }
    }
    // Scenario 2: compromised terminals.
    for day in 0..<c.days {
      for t in sample(c.compromisedTerminalsPerDay, of: c.terminals, &g) {
        for i in window(byTerminal[t], from: day, days: c.terminalCompromiseDays) { rows[i].scenario = 2 }
      }
    }
    // Scenario 3: compromised customers.
    for day in 0..<c.days {
      for k in sample(c.compromisedCustomersPerDay, of: c.customers, &g) {
        let candidates = window(byCustomer[k], from: day, days: c.customerCompromiseDays)
        let chosen = Int(Double(candidates.count) * c.customerFraudShare)
        for i in sample(chosen, of: candidates.count, &g).map({ candidates[$0] }) {
          rows[i].amount = ((rows[i].amount * c.amountFactor) * 100).rounded() / 100
          rows[i].scenario = 3
        }
      }
    }
    writer.writeRow([
      "TRANSACTION_ID", "TX_DATETIME", "CUSTOMER_ID", "TERMINAL_ID", "TX_AMOUNT", "TX_TIME_SECONDS", "TX_TIME_DAYS",
      "TX_FRAUD", "TX_FRAUD_SCENARIO",
    ])
    var frauds = 0
    for (i, r) in rows.enumerated() {
      writer.writeField(i)
      writer.writeField(FieldParser.formatTimestamp(c.start + Double(r.seconds)))
      writer.writeField(Int(r.customer))
      writer.writeField(Int(r.terminal))
      writer.writeField(r.amount, decimals: 2)
      writer.writeField(r.seconds)
      writer.writeField(r.seconds / 86_400)
      writer.writeField(r.scenario > 0 ? 1 : 0)
      writer.writeField(Int(r.scenario))
      writer.endRow()
      if r.scenario > 0 { frauds += 1 }
    }
    return SimulationSummary(transactions: rows.count, frauds: frauds)
  }

  /// A Poisson draw (Knuth's product of uniforms; the means here are at most 4).
  static func poisson(_ lambda: Double, _ g: inout SeededGenerator) -> Int {
    guard lambda > 0 else { return 0 }
    let limit = exp(-lambda)
    var k = 0
    var p = g.nextDouble()
    while p > limit {
      k += 1
      p *= g.nextDouble()
    }
    return k
  }

  /// `count` distinct indices below `n` (all of them when `count ≥ n`), by a partial Fisher–Yates shuffle.
  static func sample(_ count: Int, of n: Int, _ g: inout SeededGenerator) -> [Int] {
    let k = min(count, n)
    guard k > 0 else { return [] }
    var picked: [Int: Int] = [:]
    var out: [Int] = []
    for i in 0..<k {
      let j = i + g.nextInt(below: n - i)
      let vi = picked[i] ?? i
      let vj = picked[j] ?? j
      out.append(vj)
      picked[j] = vi
    }
    return out
  }
}
