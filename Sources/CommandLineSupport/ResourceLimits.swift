import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// What memory this process may still take: the address-space limit (`ulimit -v`) less what it has mapped, and
/// the memory the system has available — read before work whose size is known in advance, so that a refusal is
/// a message with its remedy rather than a crash or a library that waits forever for memory.
public enum ResourceLimits {
  /// The work buffer OpenBLAS reserves for its first call (and waits for forever when it cannot map it).
  public static let blasReserve = 128 << 20

  /// Whether OpenBLAS's buffer is mapped already (taken at start under a limit): it is then part of what the
  /// process has mapped, not still to come.
  static let blasBufferTaken = Mutex<Bool>(false)

  /// Bytes the address-space limit leaves to this process, or `nil` when there is no limit.
  public static func addressSpaceHeadroom() -> Int? {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_AS.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
    let mapped = statusKilobytes("VmSize:", file: "/proc/self/status").map { $0 * 1024 } ?? 0
    return max(0, Int(clamping: limit.rlim_cur) - mapped)
  }

  /// The system's available memory (`MemAvailable`), or `nil` where it cannot be read.
  public static func memoryAvailable() -> Int? {
    statusKilobytes("MemAvailable:", file: "/proc/meminfo").map { $0 * 1024 }
  }

  /// The most a command may still allocate: the smaller of the address-space headroom (less OpenBLAS's buffer)
  /// and the available memory; `nil` when neither is known.
  public static func usableBytes() -> Int? {
    let reserve = blasBufferTaken.withLock { $0 } ? 0 : blasReserve
    let headroom = addressSpaceHeadroom().map { max(0, $0 - reserve) }
    switch (headroom, memoryAvailable()) {
    case (let h?, let a?): return min(h, a)
    case (let h?, nil): return h
    case (nil, let a?): return a
    case (nil, nil): return nil
    }
  }

  /// The refusal for a command that calls BLAS when the address-space limit leaves less than OpenBLAS's buffer
  /// and some room to work, or `nil` when there is room.
  static func blasRefusal(tool: String) -> String? {
    guard let headroom = addressSpaceHeadroom() else { return nil }
    // Asked of the kernel, not only computed: map (without touching) the buffer and some room, then give it back.
    if canMap(blasReserve + (64 << 20)) { return nil }
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_AS.rawValue), &limit)
    let needed = (Int(clamping: limit.rlim_cur) - headroom + blasReserve + (64 << 20)) / 1024
    return
      "\(tool): error: the address-space limit (ulimit -v \(Int(clamping: limit.rlim_cur) / 1024)) leaves this process \(headroom >> 20) MiB; OpenBLAS reserves a \(blasReserve >> 20) MiB work buffer at its first call and cannot work in less: raise the limit to at least ulimit -v \(needed), or lift it"
  }

  /// Whether `bytes` of address space can be mapped now (nothing is touched, and it is unmapped at once).
  static func canMap(_ bytes: Int) -> Bool {
    guard let p = mmap(nil, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0), p != MAP_FAILED
    else {
      // The refusal was asked for: its ENOMEM must not make a later, unrelated abort look like a refused
      // allocation (the out-of-memory handler goes by errno).
      errno = 0
      return false
    }
    munmap(p, bytes)
    return true
  }

  private static func statusKilobytes(_ key: String, file: String) -> Int? {
    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(key) {
      return Int(line.dropFirst(key.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
    }
    return nil
  }
}
