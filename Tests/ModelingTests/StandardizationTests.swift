import Testing

@testable import Modeling

@Suite struct StandardizationTests {
  // Rows (intercept, a, b, c): a has mean 2 and population sd sqrt(2/3); b is constant; c is 0, 0, 3.
  let rows: [Double] = [1, 1, 5, 0, 1, 2, 5, 0, 1, 3, 5, 3]

  @Test func meansAndPopulationDeviations() {
    let s = rows.withUnsafeBufferPointer {
      Standardization(rows: $0, rowCount: 3, stride: 4, columns: 1..<4, constantColumns: .unitScale)
    }
    #expect(s.means == [2, 5, 1])
    #expect(abs(s.scales[0] - (2.0 / 3).squareRoot()) < 1e-15)
    #expect(s.scales[1] == 1)
    #expect(abs(s.scales[2] - 2.0.squareRoot()) < 1e-15)
    var copy = rows
    copy.withUnsafeMutableBufferPointer { s.apply(to: $0, rowCount: 3, stride: 4, columns: 1..<4) }
    // The intercept column is left alone; b is centered only.
    #expect(copy[0] == 1 && copy[4] == 1 && copy[8] == 1)
    #expect(copy[2] == 0 && copy[6] == 0 && copy[10] == 0)
    #expect(abs(copy[1] + (3.0 / 2).squareRoot()) < 1e-12)
    #expect(abs(s.standardized(3, column: 2) - 2 / 2.0.squareRoot()) < 1e-12)
  }

  @Test func minimumScaleForConstantColumns() {
    let s = rows.withUnsafeBufferPointer {
      Standardization(rows: $0, rowCount: 3, stride: 4, columns: 0..<4, constantColumns: .minimumScale(1e-9))
    }
    #expect(s.means[0] == 1 && s.scales[0] == 1e-9 && s.scales[2] == 1e-9)
    let empty = [Double]().withUnsafeBufferPointer {
      Standardization(rows: $0, rowCount: 0, stride: 2, columns: 0..<2, constantColumns: .unitScale)
    }
    #expect(empty.means == [0, 0] && empty.scales == [1, 1])
  }
}

@Suite struct LargestContributionsTests {
  func pick(_ values: [Double], limit: Int, above: Double) -> [Int] {
    var scratch = values
    var out: [Int] = []
    scratch.withUnsafeMutableBufferPointer { buffer in
      LargestContributions.select(buffer.baseAddress!, count: buffer.count, limit: limit, above: above) { k, v in
        #expect(v == values[k])
        out.append(k)
      }
    }
    return out
  }

  @Test func largestFirstTiesByIndexOnlyAboveTheMinimum() {
    #expect(pick([0.1, 0.9, 0.3, 0.9, -2], limit: 3, above: 0) == [1, 3, 2])
    #expect(pick([0.1, 0.9, 0.3, 0.9, -2], limit: 10, above: 0.2) == [1, 3, 2])
    #expect(pick([0.1, 0.2], limit: 2, above: 0.25) == [])
    #expect(pick([], limit: 2, above: 0) == [])
    // More than 64 candidates (the old bit mask's limit): each index still once.
    let many = (0..<100).map { Double($0 % 7) }
    let chosen = pick(many, limit: 20, above: 0)
    #expect(Set(chosen).count == 20 && chosen.allSatisfy { many[$0] >= 5 })
  }
}
