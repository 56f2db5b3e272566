import Foundation
import LinearAlgebra
import Synchronization
import Testing

@testable import Modeling

@Suite struct ParallelTests {
  struct Stop: Error, Equatable { var chunk: Int }

  @Test(arguments: [1, 2, 4])
  func everyIndexOnceInChunks(threads: Int) {
    let seen = Mutex([Int](repeating: 0, count: 1000))
    Parallel.forEachChunk(count: 1000, threads: threads, chunk: 64) { range, worker in
      #expect(worker >= 0 && worker < threads)
      #expect(range.count == 64 || range.upperBound == 1000)
      seen.withLock { for i in range { $0[i] += 1 } }
    }
    #expect(seen.withLock { $0 } == [Int](repeating: 1, count: 1000))
  }

  @Test(arguments: [1, 2])
  func aThrowingBodyStopsTheLoopAndRethrows(threads: Int) {
    let started = Atomic<Int>(0)
    #expect(throws: Stop(chunk: 3)) {
      try Parallel.forEachChunk(count: 10_000, threads: threads, chunk: 10) { (range, _) throws(Stop) in
        started.add(1, ordering: .relaxed)
        if range.lowerBound == 30 { throw Stop(chunk: 3) }
        usleep(200)
      }
    }
    // The loop stops at the failure: of 1,000 chunks of 0.2 ms, only those taken before it (4, plus what the
    // other worker takes while the error is recorded) start — far fewer than all, whatever the machine's load.
    #expect(started.load(ordering: .relaxed) < 200)
  }

  /// Two loops at once (as two requests of a server would run), each calling BLAS products big enough for OpenBLAS
  /// to use its own threads, whatever the process's BLAS setting: every product equals the one made alone. The loop
  /// leaves the setting alone, so neither loop can undo the other's.
  @Test func concurrentLoopsCallingBLASAgreeWithSerialProducts() throws {
    let n = 96
    var g = SeededGenerator(seed: 4)
    let a = (0..<(n * n)).map { _ in Float(g.nextInt(below: 9)) - 4 }
    @Sendable func product(_ shift: Int) throws -> [Float] {
      let b = a.map { $0 + Float(shift) }
      var c = [Float](repeating: 0, count: n * n)
      try a.withUnsafeBufferPointer { pa in
        try b.withUnsafeBufferPointer { pb in
          try c.withUnsafeMutableBufferPointer { pc in
            try RawBLAS.gemm(
              transposeA: false, transposeB: false, m: n, n: n, k: n, alpha: 1, a: pa.baseAddress!, lda: n,
              b: pb.baseAddress!, ldb: n, beta: 0, c: pc.baseAddress!, ldc: n)
          }
        }
      }
      return c
    }
    let expected = try (0..<16).map(product)
    let results = Mutex([[Float]](repeating: [], count: 32))
    DispatchQueue.concurrentPerform(iterations: 2) { loop in
      Parallel.forEachChunk(count: 16, threads: 2, chunk: 1) { range, _ in
        let c = try? product(range.lowerBound)
        results.withLock { $0[loop * 16 + range.lowerBound] = c ?? [] }
      }
    }
    let got = results.withLock { $0 }
    for k in 0..<32 { #expect(got[k] == expected[k % 16], "loop \(k / 16), product \(k % 16)") }
  }

  @Test func nothingToDo() throws {
    try Parallel.forEachChunk(count: 0, threads: 2, chunk: 8) { (_, _) throws(Stop) in throw Stop(chunk: 0) }
  }
}
