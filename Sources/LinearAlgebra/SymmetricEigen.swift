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
    // The lower triangle mirrored: the buffer is then the whole symmetric matrix, the same read column-major.
    for i in 0..<n { for j in 0..<i { a[j * n + i] = a[i * n + j] } }
    let info = a.withUnsafeMutableBufferPointer { pa in
      w.withUnsafeMutableBufferPointer { pw in SymmetricEigen.dsyevd(n32, pa.baseAddress!, pw.baseAddress!) }
    }
    if info < 0 { throw .invalidArgument(routine: "dsyevd", position: Int(-info)) }
    if info > 0 { throw .notConverged(routine: "dsyevd") }
    values = w
    // dsyevd leaves vector k in column k of a column-major matrix: a[k * n + i]; transpose to row-major.
    for i in 0..<n { for j in 0..<i { a.swapAt(i * n + j, j * n + i) } }
    vectors = a
  }

  /// LAPACK `dsyevd` (eigenvalues and vectors, column-major, lower triangle) by its entry point in libopenblas:
  /// a workspace query, then the decomposition; returns `info`.
  private static func dsyevd(_ n: Int32, _ a: UnsafeMutablePointer<Double>, _ w: UnsafeMutablePointer<Double>)
    -> Int32
  {
    var jobz = CChar(UInt8(ascii: "V"))
    var uplo = CChar(UInt8(ascii: "L"))
    var order = n
    var info: blasint = 0
    var workSize = 0.0
    var iworkSize: blasint = 0
    var query: blasint = -1
    dsyevd_(&jobz, &uplo, &order, a, &order, w, &workSize, &query, &iworkSize, &query, &info, 1, 1)
    if info != 0 { return info }
    var lwork = blasint(workSize.rounded(.up))
    var liwork = max(iworkSize, 1)
    var work = [Double](repeating: 0, count: Int(max(lwork, 1)))
    var iwork = [blasint](repeating: 0, count: Int(liwork))
    lwork = max(lwork, 1)
    dsyevd_(&jobz, &uplo, &order, a, &order, w, &work, &lwork, &iwork, &liwork, &info, 1, 1)
    return info
  }
}
