/// Products of matrices and vectors, computed by BLAS.
extension Matrix {
  /// The product `op(A) · op(B)` where `op` transposes when asked.
  ///
  /// ```
  /// C = alpha · op(A) · op(B)
  /// ```
  /// - Parameters:
  ///   - transposeA: use `Aᵀ` in place of `A` (default `false`).
  ///   - transposeB: use `Bᵀ` in place of `B` (default `false`).
  ///   - alpha: a scale for the product (default 1).
  /// - Throws: `LinearAlgebraError.dimensionMismatch` when the inner dimensions differ.
  /// - Complexity: O(m·n·k).
  public static func product(
    _ a: Matrix, _ b: Matrix, transposeA: Bool = false, transposeB: Bool = false, alpha: Scalar = 1
  ) throws(LinearAlgebraError) -> Matrix {
    let m = transposeA ? a.columns : a.rows
    let n = transposeB ? b.rows : b.columns
    var c = Matrix(rows: m, columns: n)
    try gemm(alpha: alpha, a, transposeA: transposeA, b, transposeB: transposeB, beta: 0, into: &c)
    return c
  }

  /// General matrix multiply-add in place: `C ← alpha · op(A) · op(B) + beta · C`.
  /// - Throws: `LinearAlgebraError.dimensionMismatch` when the shapes do not fit.
  public static func gemm(
    alpha: Scalar, _ a: Matrix, transposeA: Bool, _ b: Matrix, transposeB: Bool, beta: Scalar,
    into c: inout Matrix
  ) throws(LinearAlgebraError) {
    let m = transposeA ? a.columns : a.rows
    let k = transposeA ? a.rows : a.columns
    let kb = transposeB ? b.columns : b.rows
    let n = transposeB ? b.rows : b.columns
    guard k == kb, c.rows == m, c.columns == n else {
      throw .dimensionMismatch(
        operation: "gemm", expected: "op(A) m×k, op(B) k×n, C m×n",
        found: "op(A) \(m)×\(k), op(B) \(kb)×\(n), C \(c.shapeDescription)")
    }
    if m == 0 || n == 0 { return }
    let m32 = try blasInt(m, "rows of op(A)")
    let n32 = try blasInt(n, "columns of op(B)")
    let k32 = try blasInt(k, "inner dimension")
    if k == 0 {
      for i in c.elements.indices { c.elements[i] *= beta }
      return
    }
    let lda = try blasInt(max(1, a.columns), "lda")
    let ldb = try blasInt(max(1, b.columns), "ldb")
    let ldc = try blasInt(max(1, c.columns), "ldc")
    a.elements.withUnsafeBufferPointer { pa in
      b.elements.withUnsafeBufferPointer { pb in
        c.elements.withUnsafeMutableBufferPointer { pc in
          Scalar._gemm(
            transposeA, transposeB, m32, n32, k32, alpha, pa.baseAddress!, lda, pb.baseAddress!, ldb, beta,
            pc.baseAddress!, ldc)
        }
      }
    }
  }

  /// The matrix-vector product `op(A) · x`.
  /// - Parameter transpose: use `Aᵀ` (default `false`).
  /// - Throws: `LinearAlgebraError.dimensionMismatch` when `x` has the wrong length.
  /// - Complexity: O(rows·columns).
  public func multiplied(by x: Vector<Scalar>, transpose: Bool = false) throws(LinearAlgebraError) -> Vector<Scalar> {
    let inLength = transpose ? rows : columns
    let outLength = transpose ? columns : rows
    guard x.count == inLength else {
      throw .dimensionMismatch(
        operation: transpose ? "Aᵀ·x" : "A·x", expected: "x of length \(inLength)", found: "\(x.count)")
    }
    var y = Vector<Scalar>(count: outLength)
    if outLength == 0 { return y }
    if inLength == 0 { return y }
    let m32 = try blasInt(rows, "rows")
    let n32 = try blasInt(columns, "columns")
    elements.withUnsafeBufferPointer { pa in
      x.elements.withUnsafeBufferPointer { px in
        y.elements.withUnsafeMutableBufferPointer { py in
          Scalar._gemv(transpose, m32, n32, 1, pa.baseAddress!, max(1, n32), px.baseAddress!, 0, py.baseAddress!)
        }
      }
    }
    return y
  }

  /// The Gram matrix `alpha · AᵀA` (columns × columns, both triangles filled), by BLAS `syrk`.
  ///
  /// This is the `YᵀY` precomputation of implicit-feedback ALS and the `XᵀX` of least squares.
  /// - Complexity: O(rows·columns²), about half the work of a general product.
  public func gram(alpha: Scalar = 1) throws(LinearAlgebraError) -> Matrix {
    var c = Matrix(rows: columns, columns: columns)
    if columns == 0 { return c }
    if rows == 0 { return c }
    let n32 = try blasInt(columns, "columns")
    let k32 = try blasInt(rows, "rows")
    elements.withUnsafeBufferPointer { pa in
      c.elements.withUnsafeMutableBufferPointer { pc in
        Scalar._syrkUpperAtA(n32, k32, alpha, pa.baseAddress!, n32, 0, pc.baseAddress!, n32)
      }
    }
    for i in 0..<columns {
      for j in 0..<i { c.elements[i * columns + j] = c.elements[j * columns + i] }
    }
    return c
  }
}

extension Vector {
  /// The dot product `xᵀy`.
  /// - Throws: `LinearAlgebraError.dimensionMismatch` when the lengths differ.
  public func dot(_ other: Vector) throws(LinearAlgebraError) -> Scalar {
    guard count == other.count else {
      throw .dimensionMismatch(operation: "dot", expected: "length \(count)", found: "\(other.count)")
    }
    if count == 0 { return 0 }
    let n32 = try blasInt(count, "length")
    return elements.withUnsafeBufferPointer { px in
      other.elements.withUnsafeBufferPointer { py in Scalar._dot(n32, px.baseAddress!, py.baseAddress!) }
    }
  }

  /// `self ← alpha · x + self` (BLAS `axpy`).
  /// - Throws: `LinearAlgebraError.dimensionMismatch` when the lengths differ.
  public mutating func add(_ x: Vector, scaledBy alpha: Scalar = 1) throws(LinearAlgebraError) {
    guard count == x.count else {
      throw .dimensionMismatch(operation: "axpy", expected: "length \(count)", found: "\(x.count)")
    }
    if count == 0 { return }
    let n32 = try blasInt(count, "length")
    x.elements.withUnsafeBufferPointer { px in
      elements.withUnsafeMutableBufferPointer { py in Scalar._axpy(n32, alpha, px.baseAddress!, py.baseAddress!) }
    }
  }
}

/// BLAS on raw row-major buffers, for hot loops that work on blocks of rows of larger matrices.
///
/// Sizes are checked and converted to `Int32` here, like every other entry to BLAS.
public enum RawBLAS {
  /// `C ← alpha · op(A) · op(B) + beta · C` on row-major buffers with leading dimensions `lda`, `ldb`, `ldc`.
  @inlinable
  public static func gemm<Scalar: BLASScalar>(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Scalar, a: UnsafePointer<Scalar>, lda: Int,
    b: UnsafePointer<Scalar>, ldb: Int, beta: Scalar, c: UnsafeMutablePointer<Scalar>, ldc: Int
  ) throws(LinearAlgebraError) {
    if m == 0 || n == 0 { return }
    Scalar._gemm(
      transposeA, transposeB, try blasInt(m, "m"), try blasInt(n, "n"), try blasInt(k, "k"), alpha, a,
      try blasInt(lda, "lda"), b, try blasInt(ldb, "ldb"), beta, c, try blasInt(ldc, "ldc"))
  }
}

extension RawBLAS {
  /// `y ← alpha · op(A) · x + beta · y` for a row-major `m × n` buffer `A` with leading dimension `lda`.
  @inlinable
  public static func gemv<Scalar: BLASScalar>(
    transpose: Bool, m: Int, n: Int, alpha: Scalar, a: UnsafePointer<Scalar>, lda: Int, x: UnsafePointer<Scalar>,
    beta: Scalar, y: UnsafeMutablePointer<Scalar>
  ) throws(LinearAlgebraError) {
    if m == 0 || n == 0 { return }
    Scalar._gemv(transpose, try blasInt(m, "m"), try blasInt(n, "n"), alpha, a, try blasInt(lda, "lda"), x, beta, y)
  }
}

extension RawBLAS {
  /// `C ← alpha · AᵀA + beta · C` (upper triangle of the `n × n` buffer `C`) for a row-major `k × n` buffer `A`.
  @inlinable
  public static func syrkUpperTransposed<Scalar: BLASScalar>(
    n: Int, k: Int, alpha: Scalar, a: UnsafePointer<Scalar>, lda: Int, beta: Scalar, c: UnsafeMutablePointer<Scalar>,
    ldc: Int
  ) throws(LinearAlgebraError) {
    if n == 0 || k == 0 { return }
    Scalar._syrkUpperAtA(
      try blasInt(n, "n"), try blasInt(k, "k"), alpha, a, try blasInt(lda, "lda"), beta, c, try blasInt(ldc, "ldc"))
  }
}

extension RawBLAS {
  /// Replaces the symmetric positive-definite row-major `n × n` buffer `a` by its inverse, in place: LAPACK
  /// `potrf` and `potri` on the buffer as it is (a symmetric matrix is its own transpose, so no row-major copy is
  /// made), then the other triangle mirrored. The only memory used is `a`'s.
  /// - Throws: `.notPositiveDefinite` when a leading minor is not positive; `.lapack` for another failure.
  public static func invertSymmetricPositiveDefinite<Scalar: BLASScalar>(
    n: Int, _ a: UnsafeMutablePointer<Scalar>
  ) throws(LinearAlgebraError) {
    if n == 0 { return }
    let info = Scalar._invertColumnUpper(try blasInt(n, "n"), a)
    if info > 0 { throw .notPositiveDefinite(order: n, minor: Int(info)) }
    if info < 0 { throw .invalidArgument(routine: "potrf/potri", position: Int(-info)) }
    // Column-major upper is row-major lower: copy each row's lower part to the upper triangle.
    for i in 0..<n {
      for j in 0..<i { a[j * n + i] = a[i * n + j] }
    }
  }
}
