import Foundation
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

  @Test func nothingToDo() throws {
    try Parallel.forEachChunk(count: 0, threads: 2, chunk: 8) { (_, _) throws(Stop) in throw Stop(chunk: 0) }
  }
}
