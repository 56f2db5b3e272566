import Foundation
import Modeling

/// What to do with a transaction.
public enum Decision: Int, Comparable, Codable, Sendable {
  case approve = 0
  case review = 1
  case decline = 2

  public var name: String { String(describing: staticName) }

  /// The name as static text (written without building a string).
  public var staticName: StaticString {
    switch self {
    case .approve: "approve"
    case .review: "review"
    case .decline: "decline"
    }
  }

  public static func < (a: Decision, b: Decision) -> Bool { a.rawValue < b.rawValue }
}

/// A rule: when every condition holds, the transaction gets at least `decision`, with reason `code`.
///
/// Rules files are JSON:
/// ```json
/// {"rules": [
///   {"code": "AMOUNT_SPIKE", "decision": "review",
///    "when": [{"value": "amount_to_card_mean", "op": ">", "than": 5}, {"value": "card_count_30d", "op": ">=", "than": 3}]}
/// ]}
/// ```
/// Values are those of `RuleInputs.names`; operators `>`, `>=`, `<`, `<=`, `==`, `!=`.
public struct Rule: Codable, Sendable, Equatable {
  public struct Condition: Codable, Sendable, Equatable {
    public var value: String
    public var op: String
    public var than: Double
  }

  public var code: String
  public var decision: String
  public var when: [Condition]
}

/// A checked set of rules, ready to evaluate without string work per transaction.
public struct RuleSet: Codable, Sendable, Equatable {
  public var rules: [Rule]

  /// The built-in rules used when no rules file is given.
  public static let standard = RuleSet(rules: [
    Rule(code: "IMPOSSIBLE_TRAVEL", decision: "review", when: [.init(value: "speed_kmh", op: ">", than: 1000)]),
    Rule(
      code: "AMOUNT_SPIKE", decision: "review",
      when: [
        .init(value: "amount_to_card_mean", op: ">", than: 5), .init(value: "card_count_30d", op: ">=", than: 3),
      ]),
    Rule(
      code: "CARD_TESTING", decision: "decline",
      when: [.init(value: "small_count_1d", op: ">=", than: 3), .init(value: "amount", op: ">", than: 50)]),
    Rule(code: "VELOCITY", decision: "review", when: [.init(value: "card_count_1h", op: ">=", than: 8)]),
  ])

  static let operators = [">", ">=", "<", "<=", "==", "!="]

  /// Rules read from a JSON file (see `Rule`).
  /// - Throws: `CommerceError(.usage)` naming the file and the problem.
  public static func load(path: String) throws -> RuleSet {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CommerceError(.usage, "\(path): cannot read the rules file")
    }
    let set: RuleSet
    do {
      set = try JSONDecoder().decode(RuleSet.self, from: data)
    } catch {
      throw CommerceError(
        .usage, "\(path): not a rules file (expected {\"rules\": [{\"code\", \"decision\", \"when\"}]}): \(error)")
    }
    try set.validate(file: path)
    return set
  }

  /// Checks names, operators and decisions.
  public func validate(file: String) throws {
    for rule in rules {
      guard ["approve", "review", "decline"].contains(rule.decision) else {
        throw CommerceError(
          .usage, "\(file): rule \(rule.code): decision '\(rule.decision)' is not approve, review or decline")
      }
      guard !rule.when.isEmpty else { throw CommerceError(.usage, "\(file): rule \(rule.code) has no conditions") }
      for c in rule.when {
        guard RuleInputs.names.contains(c.value) else {
          throw CommerceError(
            .usage,
            "\(file): rule \(rule.code): unknown value '\(c.value)'; the values are: \(RuleInputs.names.joined(separator: ", "))"
          )
        }
        guard RuleSet.operators.contains(c.op) else {
          throw CommerceError(.usage, "\(file): rule \(rule.code): unknown operator '\(c.op)'; use > >= < <= == !=")
        }
      }
    }
  }

  /// The byte offset in `RuleInputs` of each rule variable, in the order of `RuleInputs.names`.
  static let inputOffsets: [Int] = {
    let paths: [KeyPath<RuleInputs, Double>] = [
      \.amount, \.cardCount1h, \.cardCount1d, \.cardCount30d, \.cardMean30d, \.amountToCardMean,
      \.secondsSincePrevious, \.distanceKm, \.speedKmh, \.smallCount1d, \.merchantFraudRate7d,
      \.firstUseOfMerchant, \.hour,
    ]
    precondition(paths.count == RuleInputs.names.count)
    return paths.map { MemoryLayout<RuleInputs>.offset(of: $0)! }
  }()

  /// Rules compiled to indices (of `RuleInputs.names` and `operators`).
  struct Compiled {
    var conditions: [[(Int, UInt8, Double)]]
    var decisions: [Decision]
    var codes: [String]
  }

  func compiled() -> Compiled {
    Compiled(
      conditions: rules.map { r in
        r.when.map { c in
          (RuleInputs.names.firstIndex(of: c.value)!, UInt8(RuleSet.operators.firstIndex(of: c.op)!), c.than)
        }
      },
      decisions: rules.map { Decision(rawValue: ["approve", "review", "decline"].firstIndex(of: $0.decision)!)! },
      codes: rules.map(\.code))
  }
}

/// Compiled rules flattened for the stream, in memory read without bounds checks or reference counting: the
/// conditions of rule r are `start[r] ..< start[r + 1]`, each the byte offset of its variable in `RuleInputs`, its
/// operator (of `RuleSet.operators`) and its threshold.
final class RuleTable: @unchecked Sendable {
  // Immutable after init; shared read-only between copies of the scorer.
  let count: Int
  let start: UnsafeMutablePointer<Int>
  let offset: UnsafeMutablePointer<Int>
  let op: UnsafeMutablePointer<UInt8>
  let than: UnsafeMutablePointer<Double>
  let decisions: UnsafeMutablePointer<Decision>
  /// Each rule's code, as bytes.
  let codes: [[UInt8]]

  init(_ rules: RuleSet.Compiled) {
    count = rules.conditions.count
    let total = rules.conditions.reduce(0) { $0 + $1.count }
    start = .allocate(capacity: count + 1)
    offset = .allocate(capacity: max(total, 1))
    op = .allocate(capacity: max(total, 1))
    than = .allocate(capacity: max(total, 1))
    decisions = .allocate(capacity: max(count, 1))
    var c = 0
    for (r, conditions) in rules.conditions.enumerated() {
      start[r] = c
      decisions[r] = rules.decisions[r]
      for (value, o, t) in conditions {
        offset[c] = RuleSet.inputOffsets[value]
        op[c] = o
        than[c] = t
        c += 1
      }
    }
    start[count] = c
    codes = rules.codes.map { Array($0.utf8) }
  }

  deinit {
    start.deallocate()
    offset.deallocate()
    op.deallocate()
    than.deallocate()
    decisions.deallocate()
  }

  /// Whether every condition of rule `r` holds for the inputs at `inputs`.
  @inline(__always)
  func matches(_ r: Int, _ inputs: UnsafeRawPointer) -> Bool {
    for c in start[r]..<start[r &+ 1] {
      let v = inputs.load(fromByteOffset: offset[c], as: Double.self)
      let t = than[c]
      let ok: Bool
      switch op[c] {
      case 0: ok = v > t
      case 1: ok = v >= t
      case 2: ok = v < t
      case 3: ok = v <= t
      case 4: ok = v == t
      default: ok = v != t
      }
      if !ok { return false }
    }
    return true
  }
}
