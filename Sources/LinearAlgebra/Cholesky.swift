import Foundation

/// The Cholesky factorization `A = L·Lᵀ` of a symmetric positive-definite matrix, by LAPACK `potrf`.
///
/// Factor once, then solve `A·x = b` for as many right-hand sides as needed at O(n²) each.
/// Only the lower triangle of `A` is read.
public struct CholeskyFactorization<Scalar: BLASScalar>: Sendable {
  /// The order `n` of the factored matrix.
  public let order: Int
  /// The factor `L` in the lower triangle (row-major); the upper triangle is left as it was.
  public let factor: Matrix<Scalar>

  /// Factors `matrix`.
  /// - Throws: `LinearAlgebraError.dimensionMismatch` for a non-square matrix,
  ///   `LinearAlgebraError.notPositiveDefinite` when a leading minor is not positive.
  /// - Complexity: O(n³/3).
  public init(_ matrix: Matrix<Scalar>) throws(LinearAlgebraError) {
    guard matrix.rows == matrix.columns else {
      throw .dimensionMismatch(operation: "Cholesky", expected: "a square matrix", found: matrix.shapeDescription)
    }
    let n = matrix.rows
    var a = matrix
    if n > 0 {
      let n32 = try blasInt(n, "order")
      let info = a.elements.withUnsafeMutableBufferPointer { pa in Scalar._potrfLower(n32, pa.baseAddress!, n32) }
      if info > 0 { throw .notPositiveDefinite(order: n, minor: Int(info)) }
      if info < 0 { throw .invalidArgument(routine: "potrf", position: Int(-info)) }
    }
    order = n
    factor = a
  }

  /// Solves `A·x = b` with the factored `A`.
  /// - Throws: `LinearAlgebraError.dimensionMismatch` when `b` is not of length `n`.
  public func solve(_ b: Vector<Scalar>) throws(LinearAlgebraError) -> Vector<Scalar> {
    guard b.count == order else {
      throw .dimensionMismatch(operation: "Cholesky solve", expected: "b of length \(order)", found: "\(b.count)")
    }
    var x = b
    if order == 0 { return x }
    let n32 = try blasInt(order, "order")
    let info = factor.elements.withUnsafeBufferPointer { pa in
      x.elements.withUnsafeMutableBufferPointer { pb in
        Scalar._potrsLower(n32, 1, pa.baseAddress!, n32, pb.baseAddress!, 1)
      }
    }
    if info < 0 { throw .invalidArgument(routine: "potrs", position: Int(-info)) }
    return x
  }

  /// Solves `A·X = B` for every column of `B` at once.
  /// - Throws: `LinearAlgebraError.dimensionMismatch` when `B` does not have `n` rows.
  public func solve(_ b: Matrix<Scalar>) throws(LinearAlgebraError) -> Matrix<Scalar> {
    guard b.rows == order else {
      throw .dimensionMismatch(
        operation: "Cholesky solve", expected: "B with \(order) rows", found: b.shapeDescription)
    }
    var x = b
    if order == 0 || b.columns == 0 { return x }
    let n32 = try blasInt(order, "order")
    let nrhs = try blasInt(b.columns, "right-hand sides")
    let info = factor.elements.withUnsafeBufferPointer { pa in
      x.elements.withUnsafeMutableBufferPointer { pb in
        Scalar._potrsLower(n32, nrhs, pa.baseAddress!, n32, pb.baseAddress!, nrhs)
      }
    }
    if info < 0 { throw .invalidArgument(routine: "potrs", position: Int(-info)) }
    return x
  }

  /// The inverse `A⁻¹` (for covariance matrices: standard errors are the square roots of its diagonal), by LAPACK
  /// `potri` from the factor (a third of the work of solving against the identity).
  public func inverse() throws(LinearAlgebraError) -> Matrix<Scalar> {
    var a = factor
    if order == 0 { return a }
    let n32 = try blasInt(order, "order")
    let info = a.elements.withUnsafeMutableBufferPointer { p in Scalar._potriLower(n32, p.baseAddress!, n32) }
    if info < 0 { throw .invalidArgument(routine: "potri", position: Int(-info)) }
    if info > 0 { throw .notPositiveDefinite(order: order, minor: Int(info)) }
    // potri fills the lower triangle: mirror it.
    a.elements.withUnsafeMutableBufferPointer { p in
      for i in 0..<order { for j in (i + 1)..<order { p[i * order + j] = p[j * order + i] } }
    }
    return a
  }

  /// `log det A = 2 · Σ log Lᵢᵢ`.
  public var logDeterminant: Scalar {
    var s: Scalar = 0
    for i in 0..<order { s += Scalar(log(Double(factor[i, i]))) }
    return 2 * s
  }
}

/// Solves the symmetric positive-definite system `A·x = b` in one call.
/// - Throws: as `CholeskyFactorization.init` and `solve`.
public func solveSymmetricPositiveDefinite<Scalar: BLASScalar>(
  _ a: Matrix<Scalar>, _ b: Vector<Scalar>
) throws(LinearAlgebraError) -> Vector<Scalar> {
  try CholeskyFactorization(a).solve(b)
}
