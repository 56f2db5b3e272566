import Foundation
import Testing

@testable import Modeling

@Suite struct PopulationStabilityTests {
  @Test func indexOfKnownShares() {
    let e = [0.5, 0.5]
    let a = [0.25, 0.75]
    let expected = (0.25 - 0.5) * log(0.25 / 0.5) + (0.75 - 0.5) * log(0.75 / 0.5)
    #expect(abs(PopulationStability.index(expected: e, actual: a) - expected) < 1e-12)
    #expect(PopulationStability.index(expected: e, actual: e) == 0)
    // An empty bin is floored at 1e-4, not an infinity.
    let floored = PopulationStability.index(expected: e, actual: [0, 1])
    #expect(floored.isFinite && floored > 4)
  }

  @Test func verdictsNeedAMinimumSample() {
    let n = PopulationStability.minimumSample
    #expect(PopulationStability.verdict(5, sample: 1) == .tooFew)
    #expect(PopulationStability.verdict(5, sample: n - 1) == .tooFew)
    #expect(PopulationStability.verdict(5, sample: n) == .major)
    #expect(PopulationStability.verdict(0.25, sample: n) == .major)
    #expect(PopulationStability.verdict(0.2, sample: n) == .moderate)
    #expect(PopulationStability.verdict(0.1, sample: n) == .moderate)
    #expect(PopulationStability.verdict(0.05, sample: 10 * n) == .stable)
  }
}
