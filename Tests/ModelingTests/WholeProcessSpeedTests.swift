import Testing

@testable import Modeling

/// The faster paths of issue 23 give exactly what the plain ones gave.
@Suite struct FastSelectionTests {
  /// Offers `scores` in tiles of the given widths (the last repeated), excluding `excluded`.
  static func tiled(_ scores: [Float], k: Int, excluded: [Int32], widths: [Int]) -> (
    finite: Bool, top: [(index: Int, score: Float)]
  ) {
    var heap: [(index: Int, score: Float)] = []
    var cursor = 0
    var start = 0
    var finite = true
    var w = 0
    repeat {
      let end = min(scores.count, start + max(1, widths[min(w, widths.count - 1)]))
      let tileFinite = scores[start..<end].withUnsafeBufferPointer { tile in
        excluded.withUnsafeBufferPointer {
          TopK.accumulateFinite(tile, firstIndex: start, k: k, excluding: $0, cursor: &cursor, into: &heap)
        }
      }
      finite = finite && tileFinite
      start = end
      w += 1
    } while start < scores.count
    TopK.sortBestFirst(&heap)
    return (finite, heap)
  }

  /// Random finite rows (ties, every length around the sixteen-score blocks, random excluded items, random tile
  /// widths): the tiled block-skipping selection returns what the plain heap selection returns.
  @Test func agreesWithThePlainSelection() {
    var g = SeededGenerator(seed: 23)
    for trial in 0..<600 {
      let n = [0, 1, 5, 15, 16, 17, 31, 33, 100, 1000][trial % 10]
      let k = [1, 3, 10, 40][trial % 4]
      var scores = [Float](repeating: 0, count: n)
      var excludedSet = Set<Int>()
      for i in 0..<n {
        switch g.nextInt(below: 20) {
        case 0, 1: excludedSet.insert(i)
        case 2, 3: scores[i] = 0.5  // ties
        case 4: scores[i] = -.greatestFiniteMagnitude
        default: scores[i] = Float(g.nextDouble() * 2 - 1)
        }
        if case 0 = g.nextInt(below: 4), i > 0 { scores[i] = scores[i - 1] }  // a tie with the previous one
      }
      // An excluded item past the row, as a stale seen item would be, is harmless.
      let excluded = excludedSet.sorted().map { Int32($0) } + (trial % 3 == 0 ? [Int32(n + 3)] : [])
      let widths = [[n + 1], [1], [16], [7, 40, 3], [17]][trial % 5]
      let plain = scores.withUnsafeBufferPointer { TopK.select($0, k: k, excluded: { excludedSet.contains($0) }) }
      let (finite, fast) = Self.tiled(scores, k: k, excluded: excluded, widths: widths)
      #expect(finite)
      #expect(plain.map(\.index) == fast.map(\.index), "n \(n) k \(k) widths \(widths)")
      #expect(plain.map(\.score) == fast.map(\.score), "n \(n) k \(k) widths \(widths)")
    }
  }

  @Test func ascendingScoresReplaceTheWeakestEveryTime() {
    // Every block holds a better score: the careful path runs on each one.
    let scores = (0..<100).map(Float.init)
    #expect(Self.tiled(scores, k: 3, excluded: [98], widths: [33]).top.map(\.index) == [99, 97, 96])
    #expect(Self.tiled(scores, k: 0, excluded: [], widths: [100]).top.isEmpty)
    let all = (0..<40).map { Int32($0) }
    #expect(Self.tiled([Float](repeating: 1, count: 40), k: 5, excluded: all, widths: [16]).top.isEmpty)
  }

  /// A NaN or an infinity anywhere (even at an excluded item, even with `k` = 0) is reported, whatever the tiles.
  @Test func reportsEveryNonFiniteScore() {
    for n in [1, 15, 16, 17, 40] {
      let clean = (0..<n).map { Float($0) - 7.5 }
      #expect(Self.tiled(clean, k: 3, excluded: [], widths: [16]).finite)
      #expect(clean.withUnsafeBufferPointer { TopK.allFinite($0) })
      for position in 0..<n {
        for bad in [Float.nan, .infinity, -.infinity] {
          var scores = clean
          scores[position] = bad
          for (k, widths) in [(3, [n]), (1, [5]), (0, [16]), (40, [16])] {
            #expect(
              !Self.tiled(scores, k: k, excluded: [Int32(position)], widths: widths).finite,
              "n \(n) at \(position): \(bad), k \(k)")
          }
          #expect(!scores.withUnsafeBufferPointer { TopK.allFinite($0) }, "n \(n) at \(position): \(bad)")
        }
      }
    }
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

  /// CSR arrays taken as they are must still be readable: shape, row starts that never decrease, columns in range.
  @Test func csrArraysAreChecked() throws {
    let ok = try SparseMatrix(
      rowCount: 2, columnCount: 3, rowStart: [0, 2, 3], columns: [2, 0, 1], values: [1, 2, 3])
    #expect(ok.nonZeroCount == 3)
    let bad: [(rowStart: [Int], columns: [Int32], values: [Float], why: String)] = [
      ([0, 2, 3], [2, 0, 3], [1, 2, 3], "a column past the end"),
      ([0, 2, 3], [2, -1, 1], [1, 2, 3], "a negative column"),
      ([0, 3, 2], [2, 0, 1], [1, 2, 3], "row starts that decrease"),
      ([0, 2, 3], [2, 0, 1], [1, 2], "fewer values than columns"),
      ([1, 2, 3], [2, 0, 1], [1, 2, 3], "a first start that is not 0"),
      ([0, 3], [2, 0, 1], [1, 2, 3], "too few row starts"),
    ]
    for b in bad {
      #expect(throws: ModelingError.self, "\(b.why)") {
        _ = try SparseMatrix(rowCount: 2, columnCount: 3, rowStart: b.rowStart, columns: b.columns, values: b.values)
      }
    }
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
