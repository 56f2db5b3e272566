import LinearAlgebra

/// An error from an estimator, a metric or a split: inputs that cannot give a meaningful answer.
public enum ModelingError: Error, Equatable, CustomStringConvertible, Sendable {
  /// Two inputs that must have one entry per example differ in length.
  case lengthMismatch(what: String, expected: Int, found: Int)
  /// No examples at all.
  case empty(what: String)
  /// A metric that needs both classes got only one (e.g. ROC AUC on all-positive labels).
  case singleClass(what: String)
  /// An argument outside its valid range; the text names it and the range.
  case invalidArgument(String)
  /// A value that must be finite is NaN or infinite.
  case nonFinite(what: String, index: Int)
  /// A linear-algebra call refused its operands (e.g. a size BLAS cannot index).
  case linearAlgebra(LinearAlgebraError)

  public var description: String {
    switch self {
    case .lengthMismatch(let what, let expected, let found):
      return "\(what): expected \(expected) values, found \(found)"
    case .empty(let what): return "\(what): no examples"
    case .singleClass(let what): return "\(what) needs both classes, but the labels hold only one"
    case .invalidArgument(let text): return text
    case .nonFinite(let what, let index): return "\(what): value at position \(index) is not a finite number"
    case .linearAlgebra(let error): return error.description
    }
  }

  /// Runs `body`, a linear-algebra error becoming `.linearAlgebra`.
  @inlinable
  public static func wrapping<T>(_ body: () throws(LinearAlgebraError) -> T) throws(ModelingError) -> T {
    do { return try body() } catch { throw .linearAlgebra(error) }
  }
}
