/// A dense vector of `Float` or `Double`: a thin wrapper over a contiguous array.
public struct Vector<Scalar: BLASScalar>: Equatable, Sendable, RandomAccessCollection, MutableCollection,
  ExpressibleByArrayLiteral
{
  /// The elements.
  public var elements: [Scalar]

  /// A vector over `elements`.
  public init(_ elements: [Scalar]) { self.elements = elements }

  /// A vector of `count` copies of `value` (zero by default).
  public init(count: Int, repeating value: Scalar = 0) {
    elements = [Scalar](repeating: value, count: count)
  }

  public init(arrayLiteral elements: Scalar...) { self.elements = elements }

  public var startIndex: Int { 0 }
  public var endIndex: Int { elements.count }

  @inlinable
  public subscript(position: Int) -> Scalar {
    get { elements[position] }
    set { elements[position] = newValue }
  }
}
