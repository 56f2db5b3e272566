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

  /// Offers the candidates `firstIndex, firstIndex + 1, …` with `scores` (one tile of a row) to `heap`, a min-heap
  /// of at most `k` kept (weakest at the root; start from an empty array), leaving out the candidates listed in
  /// `excluded` (ascending; `cursor` is how far earlier tiles went through it, 0 at the start of a row). A row
  /// offered tile after tile in ascending index with the same heap and cursor, then put in order by
  /// `sortBestFirst`, gives what `select(row, k: k, excluded: { excluded.contains($0) })` gives: the `k` highest,
  /// ties to the lower index.
  ///
  /// Once `k` are kept, sixteen scores at a time are compared with the weakest kept (one vector comparison) and
  /// skipped together when none beats it, and the same pass checks that every score is finite.
  ///
  /// - Returns: whether every score of the tile is a finite number; when one is not, `heap` holds no meaningful
  ///   selection (a non-finite score comes from damaged weights, and the caller fails).
  public static func accumulateFinite(
    _ scores: UnsafeBufferPointer<Float>, firstIndex: Int, k: Int, excluding excluded: UnsafeBufferPointer<Int32>,
    cursor: inout Int, into heap: inout [(index: Int, score: Float)]
  ) -> Bool {
    guard let base = scores.baseAddress else { return true }
    guard k > 0 else { return allFinite(scores) }
    let n = scores.count
    var next = cursor
    defer { cursor = next }
    @inline(__always) func isExcluded(_ index: Int) -> Bool {
      while next < excluded.count && Int(excluded[next]) < index { next &+= 1 }
      return next < excluded.count && Int(excluded[next]) == index
    }
    // Candidates come in ascending index, so a score equal to the weakest kept never replaces it (its index is
    // higher): only a strictly higher score enters a full heap.
    @inline(__always) func offer(_ i: Int, _ s: Float) {
      if heap.count < k {
        if isExcluded(firstIndex &+ i) { return }
        heap.append((firstIndex &+ i, s))
        siftUp(&heap)
        return
      }
      guard s > heap[0].score, !isExcluded(firstIndex &+ i) else { return }
      heap[0] = (firstIndex &+ i, s)
      siftDown(&heap)
    }
    var i = 0
    while i < n && heap.count < k {
      guard base[i].isFinite else { return false }
      offer(i, base[i])
      i &+= 1
    }
    // A block is looked at closely when a score beats the weakest kept or is not finite (`x·0` is 0 for a finite
    // `x` and NaN otherwise); nothing but the threshold is carried from block to block.
    var threshold = SIMD16<Float>(repeating: heap.count < k ? Float.infinity : heap[0].score)
    let zero = SIMD16<Float>(repeating: 0)
    let raw = UnsafeRawPointer(base)
    while i &+ 16 <= n {
      let block = raw.loadUnaligned(fromByteOffset: i &* MemoryLayout<Float>.stride, as: SIMD16<Float>.self)
      if any((block .> threshold) .| (block * 0 .!= zero)) {
        for j in 0..<16 {
          guard block[j].isFinite else { return false }
          offer(i &+ j, block[j])
        }
        threshold = SIMD16(repeating: heap[0].score)
      }
      i &+= 16
    }
    while i < n {
      guard base[i].isFinite else { return false }
      offer(i, base[i])
      i &+= 1
    }
    return true
  }

  /// Whether every score is a finite number: `x·0` is 0 for a finite `x` and NaN otherwise, sixteen at a time.
  public static func allFinite(_ scores: UnsafeBufferPointer<Float>) -> Bool {
    guard let base = scores.baseAddress else { return true }
    let raw = UnsafeRawPointer(base)
    var zeros = SIMD16<Float>(repeating: 0)
    var i = 0
    while i &+ 16 <= scores.count {
      zeros += raw.loadUnaligned(fromByteOffset: i &* MemoryLayout<Float>.stride, as: SIMD16<Float>.self) * 0
      i &+= 16
    }
    while i < scores.count {
      if !base[i].isFinite { return false }
      i &+= 1
    }
    return zeros == SIMD16(repeating: 0)
  }

  /// Puts a heap built by `accumulateFinite` in order, best first (ties to the lower index).
  public static func sortBestFirst(_ heap: inout [(index: Int, score: Float)]) {
    heap.sort { TopK.weaker($1, $0) }
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
