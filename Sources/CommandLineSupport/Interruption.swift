import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A stop request from SIGTERM or SIGINT, for a command that must end cleanly (a stream checkpointing
/// what it processed). Readers see it through `CSVReader.Options.stopRequested`: they finish the records
/// already buffered and then report the end of input instead of reading more.
///
/// This is the process layer's concern, kept out of the readers; a long-running service uses
/// swift-service-lifecycle's signal handling instead.
public enum Interruption {
  /// Set from the signal handler: a lock-free atomic store is async-signal-safe.
  static let flag = Atomic<Int>(0)

  /// Whether a stop was asked for.
  public static var requested: Bool { flag.load(ordering: .relaxed) != 0 }

  /// Asks readers to stop.
  public static func request() { flag.store(1, ordering: .relaxed) }

  /// Installs handlers for SIGTERM and SIGINT that call `request()`, without SA_RESTART, so that a read
  /// blocked on a pipe or terminal returns at once.
  public static func installHandlers() {
    // Initialize the global before a handler can touch it (lazy initialization is not signal-safe).
    _ = flag.load(ordering: .relaxed)
    var action = sigaction()
    #if canImport(Glibc)
      action.__sigaction_handler.sa_handler = { _ in Interruption.flag.store(1, ordering: .relaxed) }
    #else
      action.__sigaction_u.__sa_handler = { _ in Interruption.flag.store(1, ordering: .relaxed) }
    #endif
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0
    sigaction(SIGTERM, &action, nil)
    sigaction(SIGINT, &action, nil)
  }
}
