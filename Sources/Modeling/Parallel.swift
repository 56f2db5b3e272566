import Dispatch
import LinearAlgebra
import Synchronization

/// Runs work over `0..<count` on up to `threads` threads, handing out chunks of `chunk` indices.
///
/// BLAS calls inside run with the process's BLAS thread count, which this never changes (two loops or two requests
/// at once would race on it): a command that parallelizes with its own threads sets OpenBLAS to one thread once,
/// when it starts (`BLASThreads`).
public enum Parallel {
  /// The number of processors online.
  public static var processorCount: Int { max(1, System.activeProcessorCount) }

  /// Calls `body(range, worker)` for consecutive chunks of `0..<count`; `worker` is in `0..<threads`.
  ///
  /// When `body` throws, the chunks not yet started are skipped and the first error is rethrown once
  /// every worker has stopped (a body that cannot throw makes this call non-throwing).
  public static func forEachChunk<E: Error>(
    count: Int, threads: Int, chunk: Int, _ body: (Range<Int>, Int) throws(E) -> Void
  ) throws(E) {
    guard count > 0 else { return }
    let workers = max(1, min(ThreadBudget.usable(threads), (count + chunk - 1) / chunk))
    if workers == 1 {
      var start = 0
      while start < count {
        try body(start..<min(count, start + chunk), 0)
        start += chunk
      }
      return
    }
    let next = Atomic<Int>(0)
    let failure = Mutex<E?>(nil)
    withoutActuallyEscaping(body) { body in
      let box = UnsafeSendable(body)
      DispatchQueue.concurrentPerform(iterations: workers) { worker in
        while true {
          let start = next.add(chunk, ordering: .relaxed).oldValue
          if start >= count { break }
          do throws(E) {
            try box.value(start..<min(count, start + chunk), worker)
          } catch {
            failure.withLock { first in if first == nil { first = error } }
            next.store(count, ordering: .relaxed)
            break
          }
        }
      }
    }
    if let error = failure.withLock({ $0 }) { throw error }
  }
}

/// Wraps a value for a closure run on another thread; the caller guarantees the sharing is safe.
public struct UnsafeSendable<T>: @unchecked Sendable {
  public let value: T
  public init(_ value: T) { self.value = value }
}

enum System {
  static var activeProcessorCount: Int {
    #if canImport(Glibc)
      return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    #else
      return 1
    #endif
  }
}

#if canImport(Glibc)
  import Glibc
#endif
