import COpenBLAS
import Foundation
import Synchronization

/// A floating-point type BLAS and LAPACK work on: `Float` (the `s` routines) or `Double` (the `d` routines).
///
/// The requirements are the raw routines on unsafe pointers with `Int32` sizes, always row-major.
/// They are internal plumbing for this module's typed operations; use those instead.
public protocol BLASScalar: BinaryFloatingPoint, Sendable where Self.RawSignificand: FixedWidthInteger {
  static func _gemm(
    _ transA: Bool, _ transB: Bool, _ m: Int32, _ n: Int32, _ k: Int32, _ alpha: Self,
    _ a: UnsafePointer<Self>, _ lda: Int32, _ b: UnsafePointer<Self>, _ ldb: Int32, _ beta: Self,
    _ c: UnsafeMutablePointer<Self>, _ ldc: Int32)
  static func _gemv(
    _ trans: Bool, _ m: Int32, _ n: Int32, _ alpha: Self, _ a: UnsafePointer<Self>, _ lda: Int32,
    _ x: UnsafePointer<Self>, _ beta: Self, _ y: UnsafeMutablePointer<Self>)
  static func _syrkUpperAtA(
    _ n: Int32, _ k: Int32, _ alpha: Self, _ a: UnsafePointer<Self>, _ lda: Int32, _ beta: Self,
    _ c: UnsafeMutablePointer<Self>, _ ldc: Int32)
  static func _dot(_ n: Int32, _ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>) -> Self
  static func _axpy(_ n: Int32, _ alpha: Self, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>)
  static func _potrfLower(_ n: Int32, _ a: UnsafeMutablePointer<Self>, _ lda: Int32) -> Int32
  static func _potrsLower(
    _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Self>, _ lda: Int32, _ b: UnsafeMutablePointer<Self>,
    _ ldb: Int32
  ) -> Int32
  /// The inverse from a lower Cholesky factor, in place (lower triangle).
  static func _potriLower(_ n: Int32, _ a: UnsafeMutablePointer<Self>, _ lda: Int32) -> Int32
  /// `potrf` then `potri` of a symmetric buffer in place, column-major upper (no transposed copy); 0, or LAPACK's
  /// info of the step that failed.
  static func _invertColumnUpper(_ n: Int32, _ a: UnsafeMutablePointer<Self>) -> Int32
}

/// Calls a LAPACK routine of the form `xpotrf(uplo, n, a, lda, info)` with `uplo = "U"` (column-major upper, which
/// is row-major lower), by its Fortran entry point in libopenblas; returns `info`.
@inline(__always)
private func lapackTriangular<Scalar>(
  _ routine: (
    UnsafePointer<CChar>?, UnsafePointer<blasint>?, UnsafeMutablePointer<Scalar>?, UnsafePointer<blasint>?,
    UnsafeMutablePointer<blasint>?, Int
  ) -> Void,
  _ n: Int32, _ a: UnsafeMutablePointer<Scalar>, _ lda: Int32
) -> Int32 {
  var uplo = CChar(UInt8(ascii: "U"))
  var order = n
  var leading = lda
  var info: blasint = 0
  routine(&uplo, &order, a, &leading, &info, 1)
  return info
}

@inline(__always)
private func cblasTranspose(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

extension Float: BLASScalar {
  public static func _gemm(
    _ transA: Bool, _ transB: Bool, _ m: Int32, _ n: Int32, _ k: Int32, _ alpha: Float,
    _ a: UnsafePointer<Float>, _ lda: Int32, _ b: UnsafePointer<Float>, _ ldb: Int32, _ beta: Float,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int32
  ) {
    cblas_sgemm(
      CblasRowMajor, cblasTranspose(transA), cblasTranspose(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
  }
  public static func _gemv(
    _ trans: Bool, _ m: Int32, _ n: Int32, _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int32,
    _ x: UnsafePointer<Float>, _ beta: Float, _ y: UnsafeMutablePointer<Float>
  ) {
    cblas_sgemv(CblasRowMajor, cblasTranspose(trans), m, n, alpha, a, lda, x, 1, beta, y, 1)
  }
  public static func _syrkUpperAtA(
    _ n: Int32, _ k: Int32, _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int32, _ beta: Float,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int32
  ) {
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, n, k, alpha, a, lda, beta, c, ldc)
  }
  public static func _dot(_ n: Int32, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
    cblas_sdot(n, x, 1, y, 1)
  }
  public static func _axpy(_ n: Int32, _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
    cblas_saxpy(n, alpha, x, 1, y, 1)
  }
  public static func _potrfLower(_ n: Int32, _ a: UnsafeMutablePointer<Float>, _ lda: Int32) -> Int32 {
    // Row-major lower is column-major upper: the factor U = Lᵀ of A = UᵀU, in place.
    lapackTriangular(spotrf_, n, a, lda)
  }
  public static func _invertColumnUpper(_ n: Int32, _ a: UnsafeMutablePointer<Float>) -> Int32 {
    let info = lapackTriangular(spotrf_, n, a, n)
    if info != 0 { return info }
    return lapackTriangular(spotri_, n, a, n)
  }
  public static func _potriLower(_ n: Int32, _ a: UnsafeMutablePointer<Float>, _ lda: Int32) -> Int32 {
    lapackTriangular(spotri_, n, a, lda)
  }
  public static func _potrsLower(
    _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Float>, _ lda: Int32, _ b: UnsafeMutablePointer<Float>,
    _ ldb: Int32
  ) -> Int32 {
    // potrs is two triangular solves: L·Y = B, then Lᵀ·X = Y (row-major, so no transposed copy of B).
    cblas_strsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, n, nrhs, 1, a, lda, b, ldb)
    cblas_strsm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, n, nrhs, 1, a, lda, b, ldb)
    return 0
  }
}

extension Double: BLASScalar {
  public static func _gemm(
    _ transA: Bool, _ transB: Bool, _ m: Int32, _ n: Int32, _ k: Int32, _ alpha: Double,
    _ a: UnsafePointer<Double>, _ lda: Int32, _ b: UnsafePointer<Double>, _ ldb: Int32, _ beta: Double,
    _ c: UnsafeMutablePointer<Double>, _ ldc: Int32
  ) {
    cblas_dgemm(
      CblasRowMajor, cblasTranspose(transA), cblasTranspose(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
  }
  public static func _gemv(
    _ trans: Bool, _ m: Int32, _ n: Int32, _ alpha: Double, _ a: UnsafePointer<Double>, _ lda: Int32,
    _ x: UnsafePointer<Double>, _ beta: Double, _ y: UnsafeMutablePointer<Double>
  ) {
    cblas_dgemv(CblasRowMajor, cblasTranspose(trans), m, n, alpha, a, lda, x, 1, beta, y, 1)
  }
  public static func _syrkUpperAtA(
    _ n: Int32, _ k: Int32, _ alpha: Double, _ a: UnsafePointer<Double>, _ lda: Int32, _ beta: Double,
    _ c: UnsafeMutablePointer<Double>, _ ldc: Int32
  ) {
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, n, k, alpha, a, lda, beta, c, ldc)
  }
  public static func _dot(_ n: Int32, _ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>) -> Double {
    cblas_ddot(n, x, 1, y, 1)
  }
  public static func _axpy(
    _ n: Int32, _ alpha: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>
  ) {
    cblas_daxpy(n, alpha, x, 1, y, 1)
  }
  public static func _potrfLower(_ n: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32) -> Int32 {
    // Row-major lower is column-major upper: the factor U = Lᵀ of A = UᵀU, in place.
    lapackTriangular(dpotrf_, n, a, lda)
  }
  public static func _invertColumnUpper(_ n: Int32, _ a: UnsafeMutablePointer<Double>) -> Int32 {
    let info = lapackTriangular(dpotrf_, n, a, n)
    if info != 0 { return info }
    return lapackTriangular(dpotri_, n, a, n)
  }
  public static func _potriLower(_ n: Int32, _ a: UnsafeMutablePointer<Double>, _ lda: Int32) -> Int32 {
    lapackTriangular(dpotri_, n, a, lda)
  }
  public static func _potrsLower(
    _ n: Int32, _ nrhs: Int32, _ a: UnsafePointer<Double>, _ lda: Int32, _ b: UnsafeMutablePointer<Double>,
    _ ldb: Int32
  ) -> Int32 {
    // potrs is two triangular solves: L·Y = B, then Lᵀ·X = Y (row-major, so no transposed copy of B).
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, n, nrhs, 1, a, lda, b, ldb)
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, n, nrhs, 1, a, lda, b, ldb)
    return 0
  }
}

/// Threads OpenBLAS may use inside one call: one setting for the whole process.
///
/// A process sets it once, when its command starts, and never around a loop or a request (two at once would race
/// on it): to 1 when the command parallelizes with its own threads (`Parallel`), so that OpenBLAS's threads do not
/// compete with ours; to the command's thread count when its work is inside BLAS calls. OpenBLAS's threaded build
/// serializes concurrent multi-threaded calls, so any setting is safe; the policy is about speed.
public enum BLASThreads {
  /// Sets the number of threads OpenBLAS uses: at least 1, and no more than `ThreadBudget.usable` allows (OpenBLAS
  /// spins forever when it cannot start the threads it was told to use).
  public static func set(_ count: Int) {
    openblas_set_num_threads(Int32(clamping: ThreadBudget.usable(min(count, ceiling.withLock { $0 }))))
  }

  private static let ceiling = Mutex<Int>(Int.max)

  /// Caps every later `set` at `count` threads (each OpenBLAS thread that works maps a work buffer of its own).
  public static func limit(to count: Int) {
    ceiling.withLock { $0 = max(1, count) }
    set(count)
  }

  /// Makes OpenBLAS map its work buffer now, by one product of a size that needs it: under an address-space limit
  /// the buffer is then taken while there is room, instead of at a later call where OpenBLAS would wait for it
  /// forever.
  public static func warmUp() {
    let n: Int32 = 256
    let a = [Double](repeating: 0, count: Int(n * n))
    var c = [Double](repeating: 0, count: Int(n * n))
    a.withUnsafeBufferPointer { pa in
      c.withUnsafeMutableBufferPointer { pc in
        Double._gemm(false, false, n, n, n, 1, pa.baseAddress!, n, pa.baseAddress!, n, 0, pc.baseAddress!, n)
      }
    }
  }

  /// Makes OpenBLAS's pool hold at least `count` free work buffers, for as many calls at once on any threads: takes
  /// `count` together (reusing those the pool holds free, mapping the rest), then gives them back, still mapped.
  /// Each is taken only when `mayTake` agrees (a buffer OpenBLAS cannot map is a wait forever); returns how many
  /// the pool so holds.
  public static func takeBuffers(_ count: Int, mayTake: () -> Bool) -> Int {
    var taken: [UnsafeMutableRawPointer] = []
    for _ in 0..<count {
      guard mayTake(), let buffer = blas_memory_alloc(0) else { break }
      taken.append(buffer)
    }
    for buffer in taken { blas_memory_free(buffer) }
    return taken.count
  }

  /// The number of threads OpenBLAS uses now.
  public static var current: Int { Int(openblas_get_num_threads()) }
}

/// How many threads a parallel loop or BLAS may use: never more than the processors (more cannot help), and never
/// more than the process can start now — a process limit (`ulimit -u`) or a container can refuse new threads, and a
/// pool told to use threads it cannot start may wait for them forever.
public enum ThreadBudget {
  private static let probed = Mutex<[Int: Int]>([:])
  private static let ceiling = Atomic<Int>(Int.max)

  /// Caps every later `usable` at `count` (at least 1): under an address-space limit, the threads that may call
  /// BLAS at once are those OpenBLAS holds a work buffer for.
  public static func limit(to count: Int) { ceiling.store(max(1, count), ordering: .relaxed) }

  /// The processors this process may run on.
  public static var processors: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

  /// `requested` clamped to 1…processors, then to the number of threads (this one included) that can run at once,
  /// found once per count by starting them.
  public static func usable(_ requested: Int) -> Int {
    let wanted = min(max(1, requested), processors, ceiling.load(ordering: .relaxed))
    if wanted == 1 { return 1 }
    if let known = probed.withLock({ $0[wanted] }) { return known }
    let started = startable(wanted - 1) + 1
    probed.withLock { $0[wanted] = started }
    return started
  }

  /// Starts up to `count` threads that wait together, then lets them finish; returns how many started.
  static func startable(_ count: Int) -> Int {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { return 0 }
    defer { close(fds[0]) }
    var threads: [pthread_t] = []
    for _ in 0..<count {
      var thread = pthread_t()
      let readEnd = UnsafeMutableRawPointer(bitPattern: Int(fds[0]) + 1)
      let rc = pthread_create(
        &thread, nil,
        { arg in
          // Waits until the write end is closed (every probe thread is alive at once until then).
          var byte: UInt8 = 0
          _ = read(Int32((arg.map { Int(bitPattern: $0) } ?? 1) - 1), &byte, 1)
          return nil
        }, readEnd)
      guard rc == 0 else { break }
      threads.append(thread)
    }
    close(fds[1])
    for thread in threads { pthread_join(thread, nil) }
    return threads.count
  }
}

/// The CPU kernels OpenBLAS chose.
///
/// OpenBLAS picks its kernels when it loads, from the processor's model; a model newer than the library (an
/// Emerald Rapids Xeon for OpenBLAS 0.3.21) gets the generic `Prescott` kernels — SSE3, several times slower
/// than the AVX2 or AVX-512 ones the processor runs. The environment variable `OPENBLAS_CORETYPE` overrides the
/// choice, but only when set before the library loads: `CommandRunner` restarts the process once with it set.
public enum BLASCore {
  /// The kernels' name (`Haswell`, `SkylakeX`, `Prescott`, …).
  public static var name: String { String(cString: openblas_get_corename()) }

  /// The kernels to ask for when OpenBLAS fell back to generic ones on a processor with AVX2 or AVX-512
  /// (`nil` when its choice stands or `OPENBLAS_CORETYPE` is already set).
  public static func betterCoreType(cpuFlags: () -> Set<String>) -> String? {
    guard getenv("OPENBLAS_CORETYPE") == nil else { return nil }
    guard ["Prescott", "Core2", "Nehalem", "Penryn", "Dunnington", "Atom", "Katmai", "Coppermine"].contains(name)
    else { return nil }
    let flags = cpuFlags()
    if flags.isSuperset(of: ["avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd"]) { return "SkylakeX" }
    if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
    return nil
  }
}
