import ArgumentParser
import Testing

@testable import CommandLineSupport

@Suite struct DurationOptionTests {
  let period = DurationOption("--every", minimum: 60, maximum: 30 * 86_400, why: "too short a period")
  let delay = DurationOption("--delay", minimum: 0, why: "no sooner than the transaction")

  @Test func unitsAndFractions() throws {
    #expect(try period.parse("90s") == 90)
    #expect(try period.parse("1m") == 60)
    #expect(try period.parse("1.5h") == 5400)
    #expect(try period.parse("7d") == 604_800)
    #expect(try period.parse(" 2h ") == 7200)
    #expect(try delay.parse("0s") == 0)
    #expect(try delay.parse("0d") == 0)
    #expect(abs(try delay.parse("5ms") - 0.005) < 1e-15)
    #expect(abs(try delay.parse("2.5ms") - 0.0025) < 1e-15)
    #expect(throws: (any Error).self) { try delay.parse("ms") }
  }

  /// The range's ends are in, a hair outside is out, with the option, the range and why in the message.
  @Test func rangeEnds() throws {
    #expect(try period.parse("60s") == 60)
    #expect(try period.parse("30d") == 30 * 86_400)
    #expect(throws: ValidationError.self) { try period.parse("59.9s") }
    #expect(throws: ValidationError.self) { try period.parse("0s") }
    #expect(throws: ValidationError.self) { try period.parse("0.000001s") }
    #expect(throws: ValidationError.self) { try period.parse("30.01d") }
    do {
      _ = try period.parse("0s")
      Issue.record("0s accepted")
    } catch let error as ValidationError {
      #expect(error.message == "--every must be at least 1m (too short a period), got '0s'")
    }
    do {
      _ = try period.parse("31d")
      Issue.record("31d accepted")
    } catch let error as ValidationError {
      #expect(error.message == "--every must be at most 30d, got '31d'")
    }
    // The default maximum is ten years: a duration of 1e300 days never becomes infinity downstream.
    #expect(throws: ValidationError.self) { try delay.parse("3651d") }
    #expect(try delay.parse("3650d") == 3650 * 86_400)
  }

  @Test(arguments: ["", "d", "7", "7w", "-1d", "+1d", "1e3s", "nan s", "infd", "1..5h", "7 d", "0x10s", "١d"])
  func malformed(text: String) {
    #expect(throws: ValidationError.self) { try delay.parse(text) }
    do {
      _ = try delay.parse(text)
    } catch let error as ValidationError {
      // What is accepted, said whole: an exponent or a sign is refused as not of the form, not as out of range.
      #expect(
        error.message
          == "--delay must be a number and a unit: digits with at most one point, then ms, s, m, h or d (e.g. 7d, 1.5h, 5ms), got '\(text)'"
      )
    } catch {
      Issue.record("\(error)")
    }
  }

  @Test func describe() {
    #expect(DurationOption.describe(0) == "0s")
    #expect(DurationOption.describe(90) == "90s")
    #expect(DurationOption.describe(3600) == "1h")
    #expect(DurationOption.describe(5400) == "90m")
    #expect(DurationOption.describe(86_400 * 3650) == "3650d")
    #expect(DurationOption.describe(0.5) == "0.5s")
  }
}
