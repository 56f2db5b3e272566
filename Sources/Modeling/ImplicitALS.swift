import CPlatform
import Foundation
import LinearAlgebra

/// Implicit-feedback matrix factorization by alternating least squares (Hu, Koren & Volinsky 2008).
///
/// Every observed user–item value `v` is a preference of 1 with confidence `c = 1 + alpha·v`; unobserved
/// pairs are preferences of 0 with confidence 1. ALS minimizes
/// ```
/// Σ_{u,i} c_ui (p_ui − x_uᵀy_i)² + λ (Σ_u ‖x_u‖² + Σ_i ‖y_i‖²)
/// ```
/// alternating exact or conjugate-gradient solves of each user's and item's `f × f` normal equations,
/// which cost `O(|C_u|·f)` per CG step thanks to the shared `YᵀY` (computed once per half-iteration).
public enum ImplicitALS {
  /// How each user's and item's least-squares system is solved.
  public enum Solver: Sendable, Equatable, Codable {
    /// Conjugate gradient warm-started from the previous factors, `steps` steps per solve (Takács et al. 2011).
    case conjugateGradient(steps: Int)
    /// Exact Cholesky solve of the normal equations (`O(|C_u|·f² + f³)` per solve).
    case cholesky
  }

  /// Hyperparameters.
  public struct Configuration: Sendable, Equatable, Codable {
    /// Latent factors per user and item (default 64).
    public var factors = 64
    /// Alternating iterations (default 15).
    public var iterations = 15
    /// L2 penalty λ on every factor vector (default 20: about right for counts and ratings used as
    /// confidences on data of MovieLens's density; `recommend tune` searches it).
    public var regularization: Float = 20
    /// Confidence scale: `c = 1 + alpha·value` (default 1).
    public var alpha: Float = 1
    /// The per-vector solver (default conjugate gradient with 3 steps).
    public var solver = Solver.conjugateGradient(steps: 3)
    /// Seed of the initial factors.
    public var seed: UInt64 = 42
    /// Threads (default: every processor).
    public var threads = Parallel.processorCount
    /// Compute the training loss after every iteration (costs about one extra CG step).
    public var computeLoss = true

    /// The defaults.
    public init() {}

    /// Checks every value's range.
    public func validate() throws(ModelingError) {
      guard factors >= 1, factors <= 1024 else { throw .invalidArgument("factors must be 1 to 1024, got \(factors)") }
      guard iterations >= 1 else { throw .invalidArgument("iterations must be at least 1, got \(iterations)") }
      guard regularization.isFinite, regularization >= 0 else {
        throw .invalidArgument("regularization must be a finite number ≥ 0, got \(regularization)")
      }
      guard alpha.isFinite, alpha >= 0 else {
        throw .invalidArgument("alpha must be a finite number ≥ 0, got \(alpha)")
      }
      if case .conjugateGradient(let steps) = solver, steps < 1 {
        throw .invalidArgument("conjugate-gradient steps must be at least 1, got \(steps)")
      }
      guard threads >= 1 else { throw .invalidArgument("threads must be at least 1, got \(threads)") }
    }
  }

  /// What one iteration reports: its number (from 1), the loss per user–item cell, and seconds taken.
  public struct IterationReport: Sendable {
    public var iteration: Int
    public var loss: Double?
    public var seconds: Double
  }

  /// Fits user and item factors to `interactions` (users × items, values ≥ 0).
  ///
  /// - Parameters:
  ///   - interactions: user × item values (counts, ratings, weights); zeros are treated as present with confidence 1.
  ///   - progress: called after each iteration.
  /// - Returns: the factors; `x_uᵀ y_i` ranks items for user `u`.
  /// - Complexity: per iteration `O(nnz·f·(steps + 1) + (users + items)·f²·steps)` with CG.
  public static func fit(
    _ interactions: SparseMatrix, configuration: Configuration, progress: ((IterationReport) -> Void)? = nil
  ) throws(ModelingError) -> FactorModel {
    try configuration.validate()
    guard interactions.nonZeroCount > 0 else { throw .empty(what: "implicit ALS interactions") }
    let f = configuration.factors
    var g = SeededGenerator(seed: configuration.seed)
    var users = Matrix<Float>(rows: interactions.rowCount, columns: f)
    var items = Matrix<Float>(rows: interactions.columnCount, columns: f)
    for k in users.elements.indices { users.elements[k] = Float(g.nextDouble()) * 0.01 }
    for k in items.elements.indices { items.elements[k] = Float(g.nextDouble()) * 0.01 }
    // Relabel users and items by descending activity: the rows gathered most often sit together in memory.
    let (byUser, byItem, userOrder, itemOrder) = relabeledByActivity(interactions, alpha: configuration.alpha)
    let cells = Double(interactions.rowCount) * Double(interactions.columnCount)
    // One scratch per worker for the whole fit: its buffers grow to the largest block once and are reused by
    // every half-iteration (allocated anew each half, the item side's first block — the most popular items, with
    // every interaction's factors gathered — was mapped, zeroed and unmapped ten times in five iterations).
    let scratch = (0..<configuration.threads).map { _ in WorkerScratch() }
    for iteration in 1...configuration.iterations {
      let started = Date()
      var loss = try solveHalf(
        byUser, solving: &users, fixed: items, configuration, scratch: scratch,
        computeLoss: configuration.computeLoss)
      _ = try solveHalf(byItem, solving: &items, fixed: users, configuration, scratch: scratch, computeLoss: false)
      if configuration.computeLoss {
        // The loss after the user half, completed with the item penalty of that moment's items.
        loss = loss.map { $0 / cells }
      }
      progress?(IterationReport(iteration: iteration, loss: loss, seconds: Date().timeIntervalSince(started)))
    }
    return FactorModel(userFactors: unpermute(users, userOrder), itemFactors: unpermute(items, itemOrder))
  }

  /// The matrix with rows and columns renumbered by descending count, values scaled by `alpha`, its transpose,
  /// and the old index of each new row and column.
  static func relabeledByActivity(_ m: SparseMatrix, alpha: Float) -> (
    byRow: SparseMatrix, byColumn: SparseMatrix, rowOrder: [Int], columnOrder: [Int]
  ) {
    var columnCounts = [Int](repeating: 0, count: m.columnCount)
    for c in m.columns { columnCounts[Int(c)] += 1 }
    let rowOrder = (0..<m.rowCount).sorted {
      let a = m.rowStart[$0 + 1] - m.rowStart[$0]
      let b = m.rowStart[$1 + 1] - m.rowStart[$1]
      return a != b ? a > b : $0 < $1
    }
    let columnOrder = (0..<m.columnCount).sorted {
      columnCounts[$0] != columnCounts[$1] ? columnCounts[$0] > columnCounts[$1] : $0 < $1
    }
    var newColumn = [Int32](repeating: 0, count: m.columnCount)
    for (new, old) in columnOrder.enumerated() { newColumn[old] = Int32(new) }
    // Rows gathered in the new order with their columns renamed (not yet ascending within a row); two transposes
    // then order every row's columns, each a counting scatter. No entry repeats, so nothing is summed.
    var rowStart = [Int](repeating: 0, count: m.rowCount + 1)
    var columns = [Int32](repeating: 0, count: m.nonZeroCount)
    var values = [Float](repeating: 0, count: m.nonZeroCount)
    var write = 0
    for (new, old) in rowOrder.enumerated() {
      for k in m.rowStart[old]..<m.rowStart[old + 1] {
        columns[write] = newColumn[Int(m.columns[k])]
        values[write] = m.values[k] * alpha
        write += 1
      }
      rowStart[new + 1] = write
    }
    let gathered = SparseMatrix(unchecked: m.rowCount, m.columnCount, rowStart, columns, values)
    let byColumn = gathered.transposed()
    return (byColumn.transposed(), byColumn, rowOrder, columnOrder)
  }

  /// Factors back in the original order: row `order[k]` of the result is row `k` of `m`.
  static func unpermute(_ m: Matrix<Float>, _ order: [Int]) -> Matrix<Float> {
    var out = Matrix<Float>(rows: m.rows, columns: m.columns)
    let f = m.columns
    for (k, old) in order.enumerated() {
      for d in 0..<f { out.elements[old * f + d] = m.elements[k * f + d] }
    }
    return out
  }

  /// Solves every row of `solving` given `fixed`; returns the objective's part for these rows (plus the
  /// fixed side's penalty) when asked.
  static func solveHalf(
    _ weights: SparseMatrix, solving target: inout Matrix<Float>, fixed: Matrix<Float>, _ c: Configuration,
    scratch: [WorkerScratch], computeLoss: Bool
  ) throws(ModelingError) -> Double? {
    let f = c.factors
    var gram: Matrix<Float>
    do { gram = try fixed.gram() } catch { throw .invalidArgument("\(error)") }
    for d in 0..<f { gram.elements[d * f + d] += c.regularization }
    let rows = target.rows
    let threads = c.threads
    var lossParts = [Double](repeating: 0, count: threads)
    let block = 32
    try gram.elements.withUnsafeBufferPointer { (yty) throws(ModelingError) in
      try fixed.elements.withUnsafeBufferPointer { (fixedBuffer) throws(ModelingError) in
        try target.elements.withUnsafeMutableBufferPointer { (targetBuffer) throws(ModelingError) in
          try weights.rowStart.withUnsafeBufferPointer { (start) throws(ModelingError) in
            try weights.columns.withUnsafeBufferPointer { (cols) throws(ModelingError) in
              try weights.values.withUnsafeBufferPointer { (vals) throws(ModelingError) in
                try lossParts.withUnsafeMutableBufferPointer { (lossBuffer) throws(ModelingError) in
                  let ctx = SolveContext(
                    f: f, yty: yty.baseAddress!, y: fixedBuffer.baseAddress!, x: targetBuffer.baseAddress!,
                    start: start.baseAddress!, cols: cols.baseAddress!, vals: vals.baseAddress!,
                    loss: lossBuffer.baseAddress!)
                  try Parallel.forEachChunk(count: rows, threads: threads, chunk: block) {
                    (range, worker) throws(ModelingError) in
                    switch c.solver {
                    case .conjugateGradient(let steps):
                      let partial: Double
                      do {
                        partial = try ctx.conjugateGradientBlock(range, steps: steps, scratch: scratch[worker])
                      } catch { throw .invalidArgument("\(error)") }
                      ctx.loss[worker] += partial
                    case .cholesky:
                      let scratch = UnsafeMutablePointer<Float>.allocate(capacity: f * f + f)
                      defer { scratch.deallocate() }
                      for u in range {
                        switch ctx.cholesky(u, scratch: scratch) {
                        case .success(let partial): ctx.loss[worker] += partial
                        case .failure(let e): throw e
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    guard computeLoss else { return nil }
    // Add the penalty of the fixed side: λ Σ ‖y‖².
    var fixedNorm = 0.0
    for v in fixed.elements { fixedNorm += Double(v) * Double(v) }
    return lossParts.reduce(0, +) + Double(c.regularization) * fixedNorm
  }
}

/// Growable buffers owned by one worker thread, reused across the chunks that worker takes and across
/// half-iterations. Never cleared: every use writes before it reads.
final class WorkerScratch: @unchecked Sendable {
  /// Row `k` is the fixed side's factors of the block's `k`-th interaction.
  private(set) var gather = UnsafeMutablePointer<Float>.allocate(capacity: 0)
  private var gatherCapacity = 0
  /// The CG vectors of a block and its per-interaction dot products.
  private(set) var work = UnsafeMutablePointer<Float>.allocate(capacity: 0)
  private var workCapacity = 0

  /// Makes `gather` hold at least `gatherCount` floats and `work` at least `workCount` (contents not kept).
  func reserve(gather gatherCount: Int, work workCount: Int) {
    if gatherCount > gatherCapacity {
      gather.deallocate()
      gatherCapacity = max(gatherCount, gatherCapacity * 2)
      gather = .allocate(capacity: gatherCapacity)
    }
    if workCount > workCapacity {
      work.deallocate()
      workCapacity = max(workCount, workCapacity * 2)
      work = .allocate(capacity: workCapacity)
    }
  }

  deinit {
    gather.deallocate()
    work.deallocate()
  }
}

/// Raw pointers for one half-iteration; each worker writes only its own rows of `x` and its own `loss` slot.
///
/// The rows' systems are `A_u x_u = b_u` with `A_u = YᵀY + λI + Σ w y yᵀ` and `b_u = Σ (1 + w) y`, `w = α·value`.
/// Each row's objective part, `x_uᵀA_u x_u − 2 b_uᵀx_u + Σ (1 + w)`, is tracked through the CG recurrences
/// at no extra cost: `φ(x) = ½xᵀAx − bᵀx` starts at `−½(bᵀx₀ + x₀ᵀr₀)` and falls by `½ α_k r_kᵀr_k` each step.
struct SolveContext: @unchecked Sendable {
  let f: Int
  let yty: UnsafePointer<Float>
  let y: UnsafePointer<Float>
  let x: UnsafeMutablePointer<Float>
  let start: UnsafePointer<Int>
  let cols: UnsafePointer<Int32>
  let vals: UnsafePointer<Float>
  let loss: UnsafeMutablePointer<Double>

  /// CG on a block of consecutive rows in lockstep: the dense `YᵀY·p` products of the whole block are one
  /// matrix product (BLAS); for the sparse corrections each row's `y_i` are first gathered into a
  /// contiguous, cache-resident buffer (one pass of independent loads), which every CG step then reuses.
  /// Returns the rows' objective parts.
  func conjugateGradientBlock(_ range: Range<Int>, steps: Int, scratch: WorkerScratch) throws(LinearAlgebraError)
    -> Double
  {
    let b = range.count
    let first = range.lowerBound
    let total = start[range.upperBound] - start[first]
    scratch.reserve(gather: total * f, work: 3 * b * f + total)
    let buffer = scratch.work
    let r = buffer
    let p = buffer + b * f
    let ap = buffer + 2 * b * f
    let dots = buffer + 3 * b * f
    var rsOld = [Float](repeating: 0, count: b)
    var phi = [Double](repeating: 0, count: b)
    var active = [Bool](repeating: true, count: b)
    var objective = 0.0
    let xBlock = x + first * f
    do {
      let g = scratch.gather
      let base = start[first]
      // Gather: row k of g is y of the k-th interaction of the block.
      // The rows are scattered over `y`: each is asked for a few interactions ahead, so that their loads from memory
      // overlap instead of coming one after another.
      let end = start[range.upperBound]
      let ahead = 8
      let rowBytes = f * MemoryLayout<Float>.stride
      for k in base..<end {
        if k + ahead < end {
          let next = UnsafeRawPointer(y + Int(cols[k + ahead]) * f)
          var offset = 0
          while offset < rowBytes {
            cml_prefetch(next + offset)
            offset += 64
          }
        }
        (g + (k - base) * f).update(from: y + Int(cols[k]) * f, count: f)
      }
      // R = −X·YᵀY  (YᵀY is symmetric, so row-major X·YᵀY needs no transpose).
      try RawBLAS.gemm(
        transposeA: false, transposeB: false, m: b, n: f, k: f, alpha: -1, a: xBlock, lda: f, b: yty, ldb: f,
        beta: 0, c: r, ldc: f)
      for j in 0..<b {
        let u = first + j
        let xu = x + u * f
        let ru = r + j * f
        let lo = start[u] - base
        let hi = start[u + 1] - base
        let n = hi - lo
        if n >= 8 {
          try RawBLAS.gemv(transpose: false, m: n, n: f, alpha: 1, a: g + lo * f, lda: f, x: xu, beta: 0, y: dots + lo)
        } else {
          for k in lo..<hi { dots[k] = FactorKernels.dot(g + k * f, xu, f) }
        }
        var bx = 0.0
        var sumC = 0.0
        for k in lo..<hi {
          let w = vals[base + k]
          let d = dots[k]
          bx += Double(1 + w) * Double(d)
          sumC += Double(1 + w)
          dots[k] = (1 + w) - w * d
        }
        if n >= 8 {
          try RawBLAS.gemv(transpose: true, m: n, n: f, alpha: 1, a: g + lo * f, lda: f, x: dots + lo, beta: 1, y: ru)
        } else {
          for k in lo..<hi { FactorKernels.axpy(dots[k], g + k * f, ru, f) }
        }
        phi[j] = -0.5 * (bx + Double(FactorKernels.dot(xu, ru, f)))
        objective += sumC
        (p + j * f).update(from: ru, count: f)
        rsOld[j] = FactorKernels.dot(ru, ru, f)
        if rsOld[j] < 1e-20 {
          active[j] = false
          (p + j * f).update(repeating: 0, count: f)
        }
      }
      for _ in 0..<steps {
        try RawBLAS.gemm(
          transposeA: false, transposeB: false, m: b, n: f, k: f, alpha: 1, a: p, lda: f, b: yty, ldb: f, beta: 0,
          c: ap, ldc: f)
        var anyActive = false
        for j in 0..<b where active[j] {
          let u = first + j
          let xu = x + u * f
          let pu = p + j * f
          let apu = ap + j * f
          let ru = r + j * f
          let lo = start[u] - base
          let hi = start[u + 1] - base
          let n = hi - lo
          if n >= 8 {
            // Longer rows: BLAS (vectorized for this CPU) for dots = G·p and Ap += Gᵀ(w ∘ dots).
            try RawBLAS.gemv(
              transpose: false, m: n, n: f, alpha: 1, a: g + lo * f, lda: f, x: pu, beta: 0, y: dots + lo)
            for k in lo..<hi { dots[k] *= vals[base + k] }
            try RawBLAS.gemv(
              transpose: true, m: n, n: f, alpha: 1, a: g + lo * f, lda: f, x: dots + lo, beta: 1, y: apu)
          } else {
            for k in lo..<hi { dots[k] = FactorKernels.dot(g + k * f, pu, f) }
            for k in lo..<hi { FactorKernels.axpy(vals[base + k] * dots[k], g + k * f, apu, f) }
          }
          let pAp = FactorKernels.dot(pu, apu, f)
          guard pAp > 0 else {
            active[j] = false
            pu.update(repeating: 0, count: f)
            continue
          }
          let alpha = rsOld[j] / pAp
          FactorKernels.axpy(alpha, pu, xu, f)
          FactorKernels.axpy(-alpha, apu, ru, f)
          phi[j] -= 0.5 * Double(alpha) * Double(rsOld[j])
          let rsNew = FactorKernels.dot(ru, ru, f)
          if rsNew < 1e-20 {
            active[j] = false
            pu.update(repeating: 0, count: f)
            continue
          }
          let beta = rsNew / rsOld[j]
          for d in 0..<f { pu[d] = ru[d] + beta * pu[d] }
          rsOld[j] = rsNew
          anyActive = true
        }
        if !anyActive { break }
      }
      for j in 0..<b { objective += 2 * phi[j] }
      return objective
    }
  }

  /// Exact solve by Cholesky; returns the row's objective part, or an error when the system is not
  /// positive definite.
  func cholesky(_ u: Int, scratch: UnsafeMutablePointer<Float>) -> Result<Double, ModelingError> {
    let a = scratch + f
    let b = scratch
    a.update(from: yty, count: f * f)
    for k in 0..<f { b[k] = 0 }
    var sumC = 0.0
    for k in start[u]..<start[u + 1] {
      let yi = y + Int(cols[k]) * f
      let w = vals[k]
      FactorKernels.axpy(1 + w, yi, b, f)
      sumC += Double(1 + w)
      if w != 0 {
        for r in 0..<f { FactorKernels.axpy(w * yi[r], yi, a + r * f, f) }
      }
    }
    do {
      let m = try Matrix<Float>(rows: f, columns: f, elements: Array(UnsafeBufferPointer(start: a, count: f * f)))
      let solution = try CholeskyFactorization(m).solve(Vector(Array(UnsafeBufferPointer(start: b, count: f))))
      for k in 0..<f { x[u * f + k] = solution[k] }
      // At the exact solution Ax = b, the objective part is Σc − bᵀx.
      let bx = solution.elements.withUnsafeBufferPointer { s in FactorKernels.dot(s.baseAddress!, b, f) }
      return .success(sumC - Double(bx))
    } catch {
      return .failure(.invalidArgument("ALS solve for row \(u): \(error)"))
    }
  }
}

/// Learned factors: row `u` of `userFactors` and row `i` of `itemFactors`; the score of (u, i) is their dot product.
public struct FactorModel: Sendable {
  /// Users × factors.
  public var userFactors: Matrix<Float>
  /// Items × factors.
  public var itemFactors: Matrix<Float>

  /// The model over given factors.
  public init(userFactors: Matrix<Float>, itemFactors: Matrix<Float>) {
    self.userFactors = userFactors
    self.itemFactors = itemFactors
  }
}
