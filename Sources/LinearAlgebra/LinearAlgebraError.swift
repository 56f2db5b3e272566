/// An error from a linear-algebra operation: a shape that does not fit, a size BLAS cannot index,
/// or a matrix that LAPACK could not factor.
public enum LinearAlgebraError: Error, Equatable, CustomStringConvertible, Sendable {
  /// Two operands' shapes do not fit the operation, e.g. `3×2 · 3×2`.
  case dimensionMismatch(operation: String, expected: String, found: String)
  /// A dimension or leading dimension above `Int32.max`, which BLAS and LAPACK cannot index.
  case dimensionTooLarge(name: String, value: Int)
  /// Cholesky factorization failed: the leading minor of the given order is not positive definite.
  case notPositiveDefinite(order: Int, minor: Int)
  /// LAPACK rejected an argument (a negative `info`): a bug in the caller, reported rather than trapped.
  case invalidArgument(routine: String, position: Int)
  /// An iterative LAPACK routine (an eigen-decomposition) did not converge.
  case notConverged(routine: String)

  public var description: String {
    switch self {
    case .dimensionMismatch(let operation, let expected, let found):
      return "\(operation): dimension mismatch, expected \(expected), found \(found)"
    case .dimensionTooLarge(let name, let value):
      return "\(name) = \(value) exceeds the largest size BLAS can index (\(Int32.max))"
    case .notPositiveDefinite(let order, let minor):
      return
        "the \(order)×\(order) matrix is not positive definite (leading minor of order \(minor) is not positive)"
    case .invalidArgument(let routine, let position):
      return "\(routine): argument \(position) was rejected by LAPACK"
    case .notConverged(let routine):
      return "\(routine) did not converge"
    }
  }
}

/// Converts a Swift `Int` to the `Int32` that BLAS and LAPACK take, throwing when it does not fit.
///
/// Every conversion of a size for the C layer goes through this one function.
@inlinable
func blasInt(_ value: Int, _ name: @autoclosure () -> String) throws(LinearAlgebraError) -> Int32 {
  guard value >= 0, value <= Int(Int32.max) else {
    throw .dimensionTooLarge(name: name(), value: value)
  }
  return Int32(truncatingIfNeeded: value)
}
