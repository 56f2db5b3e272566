/// A dense, row-major matrix of `Float` or `Double`.
///
/// Element `(i, j)` is stored at `elements[i * columns + j]`. Rows are contiguous, so a row can be
/// handed to BLAS as a vector and a block of rows as a sub-matrix.
public struct Matrix<Scalar: BLASScalar>: Equatable, Sendable {
  /// Number of rows.
  public let rows: Int
  /// Number of columns.
  public let columns: Int
  /// The elements, row after row (`rows × columns` of them).
  public var elements: [Scalar]

  /// A `rows × columns` matrix filled with `value` (zero by default).
  public init(rows: Int, columns: Int, repeating value: Scalar = 0) {
    precondition(rows >= 0 && columns >= 0, "matrix dimensions must not be negative")
    self.rows = rows
    self.columns = columns
    self.elements = [Scalar](repeating: value, count: rows * columns)
  }

  /// A matrix over existing row-major elements.
  /// - Throws: `LinearAlgebraError.dimensionMismatch` when `elements.count != rows * columns`.
  public init(rows: Int, columns: Int, elements: [Scalar]) throws(LinearAlgebraError) {
    guard rows >= 0, columns >= 0, elements.count == rows * columns else {
      throw .dimensionMismatch(
        operation: "Matrix(rows:columns:elements:)", expected: "\(rows * columns) elements",
        found: "\(elements.count)")
    }
    self.rows = rows
    self.columns = columns
    self.elements = elements
  }

  /// A matrix from an array of equally long rows, as written on paper.
  /// - Throws: `LinearAlgebraError.dimensionMismatch` when the rows differ in length.
  public init(_ rowArrays: [[Scalar]]) throws(LinearAlgebraError) {
    let columns = rowArrays.first?.count ?? 0
    var elements: [Scalar] = []
    elements.reserveCapacity(rowArrays.count * columns)
    for (index, row) in rowArrays.enumerated() {
      guard row.count == columns else {
        throw .dimensionMismatch(
          operation: "Matrix(rows)", expected: "\(columns) columns", found: "\(row.count) in row \(index)")
      }
      elements.append(contentsOf: row)
    }
    self.rows = rowArrays.count
    self.columns = columns
    self.elements = elements
  }

  /// The `n × n` identity matrix.
  public static func identity(_ n: Int) -> Matrix {
    var m = Matrix(rows: n, columns: n)
    for i in 0..<n { m.elements[i * n + i] = 1 }
    return m
  }

  /// Element `(row, column)`.
  @inlinable
  public subscript(row: Int, column: Int) -> Scalar {
    get { elements[row * columns + column] }
    set { elements[row * columns + column] = newValue }
  }

  /// A copy of row `i`.
  public func row(_ i: Int) -> [Scalar] {
    Array(elements[(i * columns)..<((i + 1) * columns)])
  }

  /// The transpose, as a new row-major matrix.
  public var transposed: Matrix {
    var t = Matrix(rows: columns, columns: rows)
    for i in 0..<rows {
      for j in 0..<columns { t.elements[j * rows + i] = elements[i * columns + j] }
    }
    return t
  }

  /// The shape as text, e.g. `3×2`, for error messages.
  public var shapeDescription: String { "\(rows)×\(columns)" }
}
