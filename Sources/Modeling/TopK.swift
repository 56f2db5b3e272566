/// Selection of the `k` highest scores without sorting everything.
public enum TopK {
  /// The `k` highest-scoring indices, best first; ties go to the lower index. NaN scores and indices
  /// for which `excluded` is true are skipped.
  ///
  /// - Parameters:
  ///   - scores: one score per candidate.
  ///   - k: how many to keep (fewer come back when fewer candidates qualify).
  ///   - excluded: candidates to leave out (e.g. items a user already has).
  /// - Complexity: O(n log k), with no allocation beyond the result.
  @inlinable
  public static func select<S: BinaryFloatingPoint>(
    _ scores: UnsafeBufferPointer<S>, k: Int, excluded: (Int) -> Bool = { _ in false }
  ) -> [(index: Int, score: S)] {
    guard k > 0 else { return [] }
    // A min-heap of the best k so far; the root is the weakest kept.
    var heap: [(index: Int, score: S)] = []
    heap.reserveCapacity(min(k, scores.count))
    for i in 0..<scores.count {
      let s = scores[i]
      if s.isNaN { continue }
      if heap.count == k {
        let root = heap[0]
        if !(s > root.score || (s == root.score && i < root.index)) { continue }
      }
      if excluded(i) { continue }
      if heap.count < k {
        heap.append((i, s))
        siftUp(&heap)
      } else {
        heap[0] = (i, s)
        siftDown(&heap)
      }
    }
    heap.sort { TopK.weaker($1, $0) }
    return heap
  }

  /// The `k` highest-scoring indices of an array, best first (see the buffer form).
  @inlinable
  public static func select<S: BinaryFloatingPoint>(
    _ scores: [S], k: Int, excluded: (Int) -> Bool = { _ in false }
  ) -> [(index: Int, score: S)] {
    scores.withUnsafeBufferPointer { select($0, k: k, excluded: excluded) }
  }

  /// The `k` highest scores of `scores`, best first, ties to the lower index, leaving out NaN and `-infinity` (the
  /// mark of a candidate to exclude): the same as `select(scores, k: k, excluded: { scores[$0] == -.infinity })`,
  /// but once `k` are kept, sixteen scores at a time are compared with the weakest kept (a loop the compiler
  /// vectorizes) and skipped together when none beats it — most of a long row is read at memory speed.
  public static func selectSkippingNegativeInfinity(_ scores: UnsafeBufferPointer<Float>, k: Int) -> [(
    index: Int, score: Float
  )] {
    guard k > 0, let base = scores.baseAddress else { return [] }
    let n = scores.count
    var heap: [(index: Int, score: Float)] = []
    heap.reserveCapacity(min(k, n))
    // Candidates come in ascending index, so a score equal to the weakest kept never replaces it (its index is
    // higher): only a strictly higher score enters a full heap.
    @inline(__always) func offer(_ i: Int, _ s: Float) {
      if heap.count < k {
        if s.isNaN || s == -.infinity { return }
        heap.append((i, s))
        siftUp(&heap)
        return
      }
      guard s > heap[0].score else { return }
      heap[0] = (i, s)
      siftDown(&heap)
    }
    var i = 0
    while i < n && heap.count < k {
      offer(i, base[i])
      i += 1
    }
    var threshold = heap.isEmpty ? Float.infinity : heap[0].score
    while i + 16 <= n {
      // `x <= threshold` fails for a better score and for NaN (which the careful path skips).
      var beaten: UInt32 = 0
      for j in 0..<16 { beaten |= base[i + j] <= threshold ? 0 : 1 }
      if beaten != 0 {
        for j in 0..<16 { offer(i + j, base[i + j]) }
        threshold = heap[0].score
      }
      i += 16
    }
    while i < n {
      offer(i, base[i])
      i += 1
    }
    heap.sort { TopK.weaker($1, $0) }
    return heap
  }

  /// Whether `a` ranks below `b`: a lower score, or the same score at a higher index.
  @usableFromInline @inline(__always)
  static func weaker<S: BinaryFloatingPoint>(_ a: (index: Int, score: S), _ b: (index: Int, score: S)) -> Bool {
    a.score < b.score || (a.score == b.score && a.index > b.index)
  }

  /// Restores the min-heap (weakest at the root) after an append.
  @usableFromInline @inline(__always)
  static func siftUp<S: BinaryFloatingPoint>(_ heap: inout [(index: Int, score: S)]) {
    var c = heap.count - 1
    while c > 0 {
      let p = (c - 1) / 2
      guard weaker(heap[c], heap[p]) else { break }
      heap.swapAt(c, p)
      c = p
    }
  }

  /// Restores the min-heap after its root was replaced.
  @usableFromInline @inline(__always)
  static func siftDown<S: BinaryFloatingPoint>(_ heap: inout [(index: Int, score: S)]) {
    let k = heap.count
    var p = 0
    while true {
      let l = 2 * p + 1
      let r = l + 1
      var m = p
      if l < k && weaker(heap[l], heap[m]) { m = l }
      if r < k && weaker(heap[r], heap[m]) { m = r }
      if m == p { break }
      heap.swapAt(p, m)
      p = m
    }
  }
}
