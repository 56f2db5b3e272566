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

  static func value(_ inputs: RuleInputs, _ index: Int) -> Double {
    switch index {
    case 0: return inputs.amount
    case 1: return inputs.cardCount1h
    case 2: return inputs.cardCount1d
    case 3: return inputs.cardCount30d
    case 4: return inputs.cardMean30d
    case 5: return inputs.amountToCardMean
    case 6: return inputs.secondsSincePrevious
    case 7: return inputs.distanceKm
    case 8: return inputs.speedKmh
    case 9: return inputs.smallCount1d
    case 10: return inputs.merchantFraudRate7d
    case 11: return inputs.firstUseOfMerchant
    default: return inputs.hour
    }
  }

  /// Rules compiled to indices.
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
