import Dispatch
import Foundation
import Logging
import Modeling
import NIOCore
import NIOPosix
import Synchronization

/// Running a server from a synchronous command line.
public enum Serve {
  private static let logging = Mutex(false)

  private static let installEventLoopExecutor: Void = {
    _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
  }()

  /// Sends every log line (the access log included) to standard error, once per process.
  public static func bootstrapLogging() {
    let first = logging.withLock { done -> Bool in
      defer { done = true }
      return !done
    }
    if first {
      LoggingSystem.bootstrap(
        { label, provider in StandardErrorLog(label: label, metadataProvider: provider) }, metadataProvider: nil)
    }
  }

  /// A logger for `label` on standard error.
  public static func logger(_ label: String) -> Logger {
    bootstrapLogging()
    return Logger(label: label)
  }

  /// The token in `path` (its first line, without surrounding white space).
  /// - Throws: `CommerceError(.usage)` when the file cannot be read or holds no token; the token is never shown.
  public static func token(fromFile path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
      throw CommerceError(.usage, "\(path): cannot read the token file")
    }
    let token = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    guard !token.isEmpty else { throw CommerceError(.usage, "\(path): the token file is empty") }
    guard token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
      throw CommerceError(.usage, "\(path): a token is printable ASCII without spaces")
    }
    return token
  }

  /// Runs `server` until it stops (SIGTERM or SIGINT), blocking this thread; prints `listening on URL` on standard
  /// output once it accepts connections.
  public static func blocking<Loaded: Sendable>(_ server: CommerceServer<Loaded>) throws {
    // Swift concurrency runs on the event loop threads themselves: no hop to another pool and back for each request
    // (a fifth of a small request's cost on two cores). Work that blocks (the store, big batches) is `offloaded` to
    // Dispatch. Installed once per process, from the main thread, before the server starts.
    installEventLoopExecutor
    let done = DispatchSemaphore(value: 0)
    let failure = Mutex<(any Error)?>(nil)
    let host = server.options.host
    Task {
      do {
        try await server.run { port in
          // Written at once (not through stdout's buffer), so that a script waiting for the line sees it.
          let line = "listening on http://\(host.contains(":") ? "[\(host)]" : host):\(port)\n"
          FileHandle.standardOutput.write(Data(line.utf8))
        }
      } catch {
        failure.withLock { $0 = error }
      }
      done.signal()
    }
    done.wait()
    if let error = failure.withLock({ $0 }) { throw error }
  }
}
