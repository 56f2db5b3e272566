import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A one-line progress bar on standard error, drawn only when standard error is a terminal
/// (so logs and pipes stay clean), redrawn at most ten times a second.
public final class ProgressBar {
  private let label: String
  private let total: Int
  private let enabled: Bool
  private var lastDraw = 0.0
  private let started = Date()

  /// A bar for `total` steps, e.g. `ProgressBar(label: "scoring", total: rows)`.
  /// - Parameter forceEnabled: draw even when stderr is not a terminal (for tests); `nil` decides by `isatty`.
  public init(label: String, total: Int, forceEnabled: Bool? = nil) {
    self.label = label
    self.total = max(total, 1)
    self.enabled = forceEnabled ?? (isatty(STDERR_FILENO) == 1)
  }

  /// Whether the bar draws at all.
  public var isEnabled: Bool { enabled }

  /// The text of the bar at `done` steps, e.g. `scoring [#########-----------]  45%  1.2s`.
  public func render(_ done: Int, elapsed: Double) -> String {
    let fraction = min(max(Double(done) / Double(total), 0), 1)
    let width = 20
    let filled = Int((fraction * Double(width)).rounded(.down))
    let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
    return String(format: "%@ [%@] %3d%%  %.1fs", label, bar, Int((fraction * 100).rounded(.down)), elapsed)
  }

  /// Moves the bar to `done` steps.
  public func update(_ done: Int) {
    guard enabled else { return }
    let now = Date().timeIntervalSince(started)
    guard now - lastDraw >= 0.1 || done >= total else { return }
    lastDraw = now
    FileHandle.standardError.write(Data(("\r" + render(done, elapsed: now)).utf8))
  }

  /// Clears the bar's line.
  public func finish() {
    guard enabled else { return }
    FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
  }
}

/// Writes a line to standard error (diagnostics, progress of training).
public func printError(_ text: String) {
  FileHandle.standardError.write(Data((text + "\n").utf8))
}
