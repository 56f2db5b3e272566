/// A sparse matrix in compressed sparse row (CSR) form with `Float` values.
///
/// Row `r`'s entries are `columns[rowStart[r]..<rowStart[r + 1]]` with the same range of `values`,
/// columns ascending. Used for user × item interactions (and its transpose, item × user).
public struct SparseMatrix: Sendable, Equatable {
  /// Number of rows.
  public let rowCount: Int
  /// Number of columns.
  public let columnCount: Int
  /// `rowCount + 1` offsets into `columns` and `values`.
  public var rowStart: [Int]
  /// Column of each stored entry.
  public var columns: [Int32]
  /// Value of each stored entry.
  public var values: [Float]

  /// Number of stored entries.
  public var nonZeroCount: Int { columns.count }

  /// Builds a matrix from coordinate triplets; entries at the same (row, column) are summed.
  /// - Throws: `.invalidArgument` for an index out of range, `.lengthMismatch` for arrays of different lengths.
  /// - Complexity: O(n + rows + columns), by counting sort.
  public init(
    rowCount: Int, columnCount: Int, rows: [Int32], columns: [Int32], values: [Float]
  ) throws(ModelingError) {
    guard rows.count == columns.count else {
      throw .lengthMismatch(what: "sparse matrix columns", expected: rows.count, found: columns.count)
    }
    guard rows.count == values.count else {
      throw .lengthMismatch(what: "sparse matrix values", expected: rows.count, found: values.count)
    }
    for (r, c) in zip(rows, columns) where r < 0 || Int(r) >= rowCount || c < 0 || Int(c) >= columnCount {
      throw .invalidArgument("entry (\(r), \(c)) is outside a \(rowCount)×\(columnCount) matrix")
    }
    self.rowCount = rowCount
    self.columnCount = columnCount
    // Sort by column first (counting sort), then stably by row: rows end up with ascending columns.
    let byColumn = SparseMatrix.countingOrder(keys: columns, keyCount: columnCount)
    var rowCounts = [Int](repeating: 0, count: rowCount + 1)
    for r in rows { rowCounts[Int(r) + 1] += 1 }
    for i in 0..<rowCount { rowCounts[i + 1] += rowCounts[i] }
    var next = rowCounts
    var sortedColumns = [Int32](repeating: 0, count: rows.count)
    var sortedValues = [Float](repeating: 0, count: rows.count)
    for k in byColumn {
      let r = Int(rows[k])
      sortedColumns[next[r]] = columns[k]
      sortedValues[next[r]] = values[k]
      next[r] += 1
    }
    // Sum duplicates in place.
    var start = [Int](repeating: 0, count: rowCount + 1)
    var write = 0
    for r in 0..<rowCount {
      start[r] = write
      var k = rowCounts[r]
      while k < rowCounts[r + 1] {
        let c = sortedColumns[k]
        var v = sortedValues[k]
        k += 1
        while k < rowCounts[r + 1] && sortedColumns[k] == c {
          v += sortedValues[k]
          k += 1
        }
        sortedColumns[write] = c
        sortedValues[write] = v
        write += 1
      }
    }
    start[rowCount] = write
    sortedColumns.removeLast(sortedColumns.count - write)
    sortedValues.removeLast(sortedValues.count - write)
    self.rowStart = start
    self.columns = sortedColumns
    self.values = sortedValues
  }

  /// A matrix from its CSR arrays, taken as they are: checked for shape, for row starts that never decrease and for
  /// columns in `0..<columnCount` (what every reader of the matrix relies on), not for ascending columns.
  public init(rowCount: Int, columnCount: Int, rowStart: [Int], columns: [Int32], values: [Float]) throws(ModelingError)
  {
    guard rowCount >= 0, columnCount >= 0, columnCount <= Int(Int32.max), rowStart.count == rowCount + 1,
      rowStart.first == 0, rowStart.last == columns.count, columns.count == values.count,
      zip(rowStart, rowStart.dropFirst()).allSatisfy({ $0 <= $1 }),
      columns.allSatisfy({ $0 >= 0 && Int($0) < columnCount })
    else { throw .invalidArgument("inconsistent CSR arrays for a \(rowCount)×\(columnCount) matrix") }
    self.init(unchecked: rowCount, columnCount, rowStart, columns, values)
  }

  /// A matrix from CSR arrays its caller built consistent.
  init(unchecked rowCount: Int, _ columnCount: Int, _ rowStart: [Int], _ columns: [Int32], _ values: [Float]) {
    self.rowCount = rowCount
    self.columnCount = columnCount
    self.rowStart = rowStart
    self.columns = columns
    self.values = values
  }

  static func countingOrder(keys: [Int32], keyCount: Int) -> [Int] {
    var counts = [Int](repeating: 0, count: keyCount + 1)
    for k in keys { counts[Int(k) + 1] += 1 }
    for i in 0..<keyCount { counts[i + 1] += counts[i] }
    var order = [Int](repeating: 0, count: keys.count)
    for (i, k) in keys.enumerated() {
      order[counts[Int(k)]] = i
      counts[Int(k)] += 1
    }
    return order
  }

  /// The transpose (item × user from user × item), columns ascending in every row (whatever their order here): one
  /// counting scatter.
  public func transposed() -> SparseMatrix {
    var counts = [Int](repeating: 0, count: columnCount + 1)
    var tColumns = [Int32](repeating: 0, count: columns.count)
    var tValues = [Float](repeating: 0, count: columns.count)
    counts.withUnsafeMutableBufferPointer { counts in
      columns.withUnsafeBufferPointer { columns in
        values.withUnsafeBufferPointer { values in
          rowStart.withUnsafeBufferPointer { rowStart in
            tColumns.withUnsafeMutableBufferPointer { tColumns in
              tValues.withUnsafeMutableBufferPointer { tValues in
                for c in columns { counts[Int(c) + 1] += 1 }
                for i in 0..<columnCount { counts[i + 1] += counts[i] }
                // counts[c] is column c's next free slot while scattering; afterwards it is column c + 1's start,
                // so shifting back by one restores the starts.
                for r in 0..<rowCount {
                  for k in rowStart[r]..<rowStart[r + 1] {
                    let c = Int(columns[k])
                    let w = counts[c]
                    tColumns[w] = Int32(truncatingIfNeeded: r)
                    tValues[w] = values[k]
                    counts[c] = w + 1
                  }
                }
                var i = columnCount
                while i > 0 {
                  counts[i] = counts[i - 1]
                  i -= 1
                }
                counts[0] = 0
              }
            }
          }
        }
      }
    }
    return SparseMatrix(unchecked: columnCount, rowCount, counts, tColumns, tValues)
  }

  /// The stored columns of row `r`.
  public func columns(ofRow r: Int) -> ArraySlice<Int32> { columns[rowStart[r]..<rowStart[r + 1]] }
  /// The stored values of row `r`.
  public func values(ofRow r: Int) -> ArraySlice<Float> { values[rowStart[r]..<rowStart[r + 1]] }
}
