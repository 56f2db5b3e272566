import Testing

@testable import Modeling

/// The faster paths of issue 23 give exactly what the plain ones gave.
@Suite struct FastSelectionTests {
  /// Random rows (ties, −∞ marks, NaN, every length around the sixteen-score blocks): the block-skipping selection
  /// returns what the plain heap selection returns with −∞ excluded.
  @Test func agreesWithThePlainSelection() {
    var g = SeededGenerator(seed: 23)
    for trial in 0..<400 {
      let n = [0, 1, 5, 15, 16, 17, 31, 33, 100, 1000][trial % 10]
      let k = [1, 3, 10, 40][trial % 4]
      var scores = [Float](repeating: 0, count: n)
      for i in 0..<n {
        switch g.nextInt(below: 20) {
        case 0: scores[i] = -.infinity
        case 1: scores[i] = .nan
        case 2, 3: scores[i] = 0.5  // ties
        case 4: scores[i] = .infinity
        default: scores[i] = Float(g.nextDouble() * 2 - 1)
        }
      }
      let plain = scores.withUnsafeBufferPointer { s in TopK.select(s, k: k, excluded: { s[$0] == -.infinity }) }
      let fast = scores.withUnsafeBufferPointer { TopK.selectSkippingNegativeInfinity($0, k: k) }
      #expect(plain.map(\.index) == fast.map(\.index), "n \(n) k \(k)")
      #expect(plain.map(\.score) == fast.map(\.score), "n \(n) k \(k)")
    }
  }

  @Test func ascendingScoresReplaceTheWeakestEveryTime() {
    // Every block holds a better score: the careful path runs on each one.
    let scores = (0..<100).map(Float.init)
    let top = scores.withUnsafeBufferPointer { TopK.selectSkippingNegativeInfinity($0, k: 3) }
    #expect(top.map(\.index) == [99, 98, 97])
    #expect(scores.withUnsafeBufferPointer { TopK.selectSkippingNegativeInfinity($0, k: 0) }.isEmpty)
    let allExcluded = [Float](repeating: -.infinity, count: 40)
    #expect(allExcluded.withUnsafeBufferPointer { TopK.selectSkippingNegativeInfinity($0, k: 5) }.isEmpty)
  }
}

@Suite struct TransposeAndRelabelTests {
  /// A CSR matrix whose rows are not sorted by column transposes into sorted rows, and back.
  @Test func transposeSortsEveryRow() throws {
    let m = try SparseMatrix(
      rowCount: 2, columnCount: 4, rowStart: [0, 3, 5], columns: [3, 0, 2, 1, 0], values: [1, 2, 3, 4, 5])
    let t = m.transposed()
    #expect(t.rowStart == [0, 2, 3, 4, 5])
    #expect(t.columns == [0, 1, 1, 0, 0])
    #expect(t.values == [2, 5, 4, 3, 1])
    let back = t.transposed()
    #expect(back.rowStart == [0, 3, 5] && back.columns == [0, 2, 3, 0, 1] && back.values == [2, 3, 1, 5, 4])
    let empty = try SparseMatrix(rowCount: 0, columnCount: 3, rowStart: [0], columns: [], values: [])
    #expect(empty.transposed().rowStart == [0, 0, 0, 0])
  }

  /// Relabeling gives the matrix the COO constructor would build from the renamed entries, and its transpose.
  @Test func relabeledAgreesWithTheCoordinateBuild() throws {
    var g = SeededGenerator(seed: 7)
    var rows: [Int32] = []
    var columns: [Int32] = []
    var values: [Float] = []
    for _ in 0..<3000 {
      rows.append(Int32(g.nextInt(below: 90)))
      columns.append(Int32(g.nextInt(below: 40)))
      values.append(Float(1 + g.nextInt(below: 5)))
    }
    let m = try SparseMatrix(rowCount: 100, columnCount: 45, rows: rows, columns: columns, values: values)
    let (byRow, byColumn, rowOrder, columnOrder) = ImplicitALS.relabeledByActivity(m, alpha: 2)
    var newRow = [Int32](repeating: 0, count: 100)
    for (new, old) in rowOrder.enumerated() { newRow[old] = Int32(new) }
    var newColumn = [Int32](repeating: 0, count: 45)
    for (new, old) in columnOrder.enumerated() { newColumn[old] = Int32(new) }
    var r2: [Int32] = []
    var c2: [Int32] = []
    var v2: [Float] = []
    for r in 0..<m.rowCount {
      for k in m.rowStart[r]..<m.rowStart[r + 1] {
        r2.append(newRow[r])
        c2.append(newColumn[Int(m.columns[k])])
        v2.append(m.values[k] * 2)
      }
    }
    let expected = try SparseMatrix(rowCount: 100, columnCount: 45, rows: r2, columns: c2, values: v2)
    #expect(byRow == expected)
    #expect(byColumn == expected.transposed())
    // Rows by descending count (ties by old index); so are columns.
    let counts = rowOrder.map { m.rowStart[$0 + 1] - m.rowStart[$0] }
    #expect(zip(counts, counts.dropFirst()).allSatisfy { $0 >= $1 })
  }
}
