import Dispatch
import Foundation
import Logging
import Storage
import Synchronization

#if os(Linux)
  /// glibc's `malloc_trim` (not in the Glibc module's headers).
  @_silgen_name("malloc_trim") private func mallocTrim(_ pad: Int) -> Int32
#endif

/// Runs blocking work (store reads, model loads) on a thread of its own, never on Swift's cooperative pool.
func offloaded<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
  try await withCheckedThrowingContinuation { continuation in
    DispatchQueue.global(qos: .userInitiated).async {
      continuation.resume(with: Result { try work() })
    }
  }
}

/// `work` where the request runs (an event loop thread) when it is small, on Dispatch when it is `heavy` (a big body
/// to decode, a batch to score), so that it does not hold up the loop's other connections.
func running<T: Sendable>(heavy: Bool, _ work: @escaping @Sendable () throws -> T) async throws -> T {
  heavy ? try await offloaded(work) : try work()
}

/// Bodies above this many bytes, or batches above this many entries, are decoded and scored off the event loop.
let heavyBodyBytes = 64 << 10
let heavyEntries = 64

/// The active version of one model name, held in memory for every request, and replaced when another process
/// promotes or rolls back: `refresh()` reads the store's activation stamp (one query) and, when it changed, loads
/// the new version completely before it replaces the old one. A version that fails to load is logged and counted,
/// and the old one keeps serving. Registered versions asked for by number are loaded on demand, a few kept.
public final class HotModel<Loaded: Sendable>: Sendable {
  /// What serves now.
  public struct Current: Sendable {
    public let model: Loaded
    public let version: ModelVersion
    let activation: Activation
  }

  public let name: String
  let store: any ModelRegistry
  let load: @Sendable (ModelVersion) throws -> Loaded
  let metrics: ServiceMetrics
  let logger: Logger
  private let state = Mutex<Current?>(nil)
  /// Versions loaded by number (most recently used last), at most `keptVersions`.
  private let byNumber = Mutex<[(version: ModelVersion, model: Loaded)]>([])
  let keptVersions = 3
  /// One load at a time (a slow load is not started twice by the poller).
  private let loading = Mutex(false)
  /// The last failure of a poll (reading the activation, or loading the version it names), logged once until it
  /// changes or a poll succeeds.
  private let pollFailure = Mutex<String?>(nil)

  /// Whether `failure` differs from the last one logged (and remembers it).
  private func isNewFailure(_ failure: String) -> Bool {
    pollFailure.withLock { last in
      defer { last = failure }
      return last != failure
    }
  }

  public init(
    store: any ModelRegistry, name: String, metrics: ServiceMetrics, logger: Logger,
    load: @escaping @Sendable (ModelVersion) throws -> Loaded
  ) {
    self.store = store
    self.name = name
    self.metrics = metrics
    self.logger = logger
    self.load = load
  }

  /// What serves now, if a version is loaded.
  public var current: Current? { state.withLock { $0 } }

  /// Loads the active version if it changed since the last look (or nothing is loaded yet). Blocking: call it off
  /// the cooperative pool. Returns whether a new version now serves.
  @discardableResult
  public func refresh() -> Bool {
    let acquired = loading.withLock { busy -> Bool in
      if busy { return false }
      busy = true
      return true
    }
    guard acquired else { return false }
    defer { loading.withLock { $0 = false } }
    let stamp: Activation?
    do {
      stamp = try store.activation(name)
    } catch {
      // Polled 4 times a second: a failure is logged when it starts or changes, not at every poll.
      if isNewFailure("activation: \(error)") {
        logger.error("cannot read the activation of model '\(name)' (logged again when the error changes): \(error)")
      }
      return false
    }
    guard let stamp else { return false }
    if let now = current, now.activation == stamp {
      pollFailure.withLock { $0 = nil }
      return false
    }
    do {
      let version = try store.version(name, stamp.version)
      let started = ContinuousClock.now
      let model = try load(version)
      state.withLock { $0 = Current(model: model, version: version, activation: stamp) }
      pollFailure.withLock { $0 = nil }
      metrics.modelLoaded(name: name, version: version.version, seconds: (ContinuousClock.now - started).seconds)
      // The load's transient copies (each part read, then copied into aligned memory) go back to the system
      // instead of staying in the allocator's free lists as resident memory.
      #if os(Linux)
        _ = mallocTrim(0)
      #endif
      logger.info("serving model '\(name)' version \(version.version) (\(version.kind))")
      return true
    } catch {
      metrics.modelLoadFailed(name: name)
      guard isNewFailure("version \(stamp.id): \(error)") else { return false }
      logger.error(
        "model '\(name)' version \(stamp.version) failed to load; \(current.map { "version \($0.version.version) keeps serving" } ?? "nothing is served"): \(error)"
      )
      return false
    }
  }

  /// Version `number` of this name: the serving one, one kept from an earlier request, or loaded now. Blocking.
  public func version(_ number: Int) throws -> (version: ModelVersion, model: Loaded) {
    if let now = current, now.version.version == number { return (now.version, now.model) }
    if let kept = byNumber.withLock({ list -> (ModelVersion, Loaded)? in
      guard let k = list.firstIndex(where: { $0.version.version == number }) else { return nil }
      let entry = list.remove(at: k)
      list.append(entry)
      return (entry.version, entry.model)
    }) {
      return kept
    }
    let version = try store.version(name, number)
    let model = try load(version)
    byNumber.withLock { list in
      list.removeAll { $0.version.version == number }
      list.append((version, model))
      if list.count > keptVersions { list.removeFirst(list.count - keptVersions) }
    }
    return (version, model)
  }
}

extension Duration {
  var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
