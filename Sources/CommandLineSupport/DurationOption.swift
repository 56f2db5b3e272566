import ArgumentParser
import Foundation

/// The one parser of duration options (`7d`, `12h`, `30m`, `45s`, `1.5d`, `5ms`), each with the range of values that
/// makes sense for it.
///
/// Every duration a command takes goes through `DurationOption.parse`, so that `0s` where a period must be
/// positive, a millionth of a second where a registration period is meant, or `1e300d` are refused with the
/// option's name and its range, never turned into a trap, a runaway loop or a filter that drops the data.
public struct DurationOption: Sendable, Equatable {
  /// The option's flag, for messages (`--register-every`).
  public var flag: String
  /// The smallest value accepted, in seconds.
  public var minimum: Double
  /// The largest value accepted, in seconds.
  public var maximum: Double
  /// Why the minimum is what it is, said when a smaller value is refused.
  public var why: String

  /// A duration option accepting `minimum...maximum` seconds.
  public init(_ flag: String, minimum: Double, maximum: Double = 10 * 365 * 86_400, why: String) {
    self.flag = flag
    self.minimum = minimum
    self.maximum = maximum
    self.why = why
  }

  /// The seconds `text` names.
  /// - Throws: `ValidationError` naming the option, the text and the accepted range.
  public func parse(_ text: String) throws -> Double {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let malformed = ValidationError(
      "\(flag) must be a number and a unit: digits with at most one point, then ms, s, m, h or d (e.g. 7d, 1.5h, 5ms), got '\(text)'"
    )
    // Milliseconds (`5ms`) for the short budgets of a server; every other unit is one letter.
    let milliseconds = trimmed.hasSuffix("ms")
    guard let unit = trimmed.last, let factor = milliseconds ? 0.001 : Self.units[unit] else {
      throw malformed
    }
    let number = trimmed.dropLast(milliseconds ? 2 : 1)
    guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }), let value = Double(number),
      value.isFinite
    else {
      throw malformed
    }
    let seconds = value * factor
    guard seconds >= minimum else {
      throw ValidationError("\(flag) must be at least \(Self.describe(minimum)) (\(why)), got '\(text)'")
    }
    guard seconds <= maximum else {
      throw ValidationError("\(flag) must be at most \(Self.describe(maximum)), got '\(text)'")
    }
    return seconds
  }

  static let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]

  /// `seconds` in the largest unit that divides it (`0s`, `90s`, `1h`, `3650d`).
  public static func describe(_ seconds: Double) -> String {
    if seconds == 0 { return "0s" }
    for (unit, size) in [("d", 86_400.0), ("h", 3600), ("m", 60)]
    where seconds.truncatingRemainder(dividingBy: size) == 0 {
      return "\(Int(seconds / size))\(unit)"
    }
    return seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
  }
}
