import COpenBLAS

/// The eigen-decomposition `A = Q·diag(values)·Qᵀ` of a symmetric `Double` matrix, by LAPACK `dsyevd`.
public struct SymmetricEigen: Sendable {
  /// Eigenvalues in ascending order.
  public let values: [Double]
  /// The eigenvectors as columns of a row-major `n × n` matrix: vector `k` is `vectors[i * n + k]`, i = 0..<n.
  public let vectors: [Double]
  public let n: Int

  /// Decomposes the symmetric `matrix` (only its lower triangle is read).
  /// - Throws: `LinearAlgebraError.dimensionMismatch` for a non-square matrix, `.notConverged` when LAPACK fails.
  public init(_ matrix: Matrix<Double>) throws(LinearAlgebraError) {
    guard matrix.rows == matrix.columns else {
      throw .dimensionMismatch(
        operation: "SymmetricEigen", expected: "a square matrix", found: "\(matrix.rows) × \(matrix.columns)")
    }
    n = matrix.rows
    var a = matrix.elements
    var w = [Double](repeating: 0, count: n)
    if n == 0 {
      values = []
      vectors = []
      return
    }
    let n32 = try blasInt(n, "n")
    let info = a.withUnsafeMutableBufferPointer { pa in
      w.withUnsafeMutableBufferPointer { pw in
        LAPACKE_dsyevd(
          LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "L")), n32, pa.baseAddress!, n32,
          pw.baseAddress!)
      }
    }
    if info < 0 { throw .invalidArgument(routine: "dsyevd", position: Int(-info)) }
    if info > 0 { throw .notConverged(routine: "dsyevd") }
    values = w
    vectors = a
  }
}
