import CPlatform

/// Small dense kernels on factor vectors (length `n`, usually 16–256), written with SIMD so that the
/// per-interaction work of ALS runs without a BLAS call per vector.
public enum FactorKernels {
  /// `y[i] = Σ_k a[i·n + k]·x[k]` for the `rows` rows of the row-major `a` (every item's score against one user's
  /// factors): AVX2 with FMA where the processor has it, SSE2 otherwise, four rows at a time, each in a fixed order
  /// of summation (one process gives the same scores for the same inputs every time).
  @inlinable
  public static func rowDots(
    _ a: UnsafePointer<Float>, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Int, n: Int
  ) {
    cml_row_dots(a, x, y, rows, n)
  }

  /// `Σ a[i]·b[i]`.
  @inlinable @inline(__always)
  public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc0 = SIMD8<Float>()
    var acc1 = SIMD8<Float>()
    var i = 0
    while i + 16 <= n {
      let a0 = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
      let b0 = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
      let a1 = UnsafeRawPointer(a + i + 8).loadUnaligned(as: SIMD8<Float>.self)
      let b1 = UnsafeRawPointer(b + i + 8).loadUnaligned(as: SIMD8<Float>.self)
      acc0 += a0 * b0
      acc1 += a1 * b1
      i += 16
    }
    if i + 8 <= n {
      acc0 +=
        UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
        * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
      i += 8
    }
    var s = (acc0 + acc1).sum()
    while i < n {
      s += a[i] * b[i]
      i += 1
    }
    return s
  }

  /// `y ← y + alpha·x`.
  @inlinable @inline(__always)
  public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    let a = SIMD8<Float>(repeating: alpha)
    var i = 0
    while i + 8 <= n {
      let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
      let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(y + i).storeBytes(of: yv + a * xv, as: SIMD8<Float>.self)
      i += 8
    }
    while i < n {
      y[i] += alpha * x[i]
      i += 1
    }
  }

  /// `dst ← src` for `n` floats, inline (no call per vector; independent loads for memory-level parallelism).
  @inlinable @inline(__always)
  public static func copy(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
      UnsafeMutableRawPointer(dst + i).storeBytes(
        of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
      i += 8
    }
    while i < n {
      dst[i] = src[i]
      i += 1
    }
  }

  /// `y ← A·x` for a square row-major `n × n` matrix `A`.
  @inlinable @inline(__always)
  public static func matvec(
    _ a: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int
  ) {
    for r in 0..<n { y[r] = dot(a + r * n, x, n) }
  }
}
