import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The servers' swift-log backend: one line per event on standard error,
/// `2026-12-03T10:19:09.123Z info recommend: message [key=value …]`, written with a single `write(2)` (lines from
/// threads at once never interleave, nothing is buffered, so a crash loses no line already logged). Cheaper per line
/// than `StreamLogHandler`, which the access log (one line per request) would otherwise make a tenth of a request's
/// cost: the time in UTC without reading the time zone, metadata formatted only when a line is written.
public struct StandardErrorLog: LogHandler {
  public var logLevel: Logger.Level = .info
  public var metadata: Logger.Metadata = [:]
  public var metadataProvider: Logger.MetadataProvider?
  let label: String

  public init(label: String, metadataProvider: Logger.MetadataProvider? = nil) {
    self.label = label
    self.metadataProvider = metadataProvider
  }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  public func log(event: LogEvent) {
    var line: [UInt8] = []
    line.reserveCapacity(160)
    Self.timestamp(into: &line)
    line.append(UInt8(ascii: " "))
    line.append(contentsOf: event.level.rawValue.utf8)
    line.append(UInt8(ascii: " "))
    line.append(contentsOf: label.utf8)
    line.append(contentsOf: ": ".utf8)
    line.append(contentsOf: event.message.description.utf8)
    var all = metadata
    if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
    if let explicit = event.metadata { all.merge(explicit) { _, new in new } }
    if !all.isEmpty {
      line.append(contentsOf: " [".utf8)
      for (i, key) in all.keys.sorted().enumerated() {
        if i > 0 { line.append(UInt8(ascii: " ")) }
        line.append(contentsOf: key.utf8)
        line.append(UInt8(ascii: "="))
        line.append(contentsOf: (all[key]?.description ?? "").utf8)
      }
      line.append(UInt8(ascii: "]"))
    }
    // One line, one event: a message's own line breaks are shown, not written.
    for i in line.indices where line[i] == 0x0A || line[i] == 0x0D { line[i] = UInt8(ascii: " ") }
    line.append(0x0A)
    line.withUnsafeBytes { raw in
      var offset = 0
      while offset < raw.count {
        let n = write(2, raw.baseAddress! + offset, raw.count - offset)
        if n > 0 {
          offset += n
        } else if n < 0 && errno == EINTR {
          continue
        } else {
          return  // standard error is gone or full: the line is dropped, the server keeps serving
        }
      }
    }
  }

  /// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
  static func timestamp(into line: inout [UInt8]) {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    var seconds = now.tv_sec
    var parts = tm()
    gmtime_r(&seconds, &parts)
    func digits(_ value: Int, _ count: Int) {
      var divisor = 1
      for _ in 1..<count { divisor *= 10 }
      var v = value
      while divisor > 0 {
        line.append(UInt8(ascii: "0") &+ UInt8((v / divisor) % 10))
        v %= divisor
        divisor /= 10
      }
    }
    digits(Int(parts.tm_year) + 1900, 4)
    line.append(UInt8(ascii: "-"))
    digits(Int(parts.tm_mon) + 1, 2)
    line.append(UInt8(ascii: "-"))
    digits(Int(parts.tm_mday), 2)
    line.append(UInt8(ascii: "T"))
    digits(Int(parts.tm_hour), 2)
    line.append(UInt8(ascii: ":"))
    digits(Int(parts.tm_min), 2)
    line.append(UInt8(ascii: ":"))
    digits(Int(parts.tm_sec), 2)
    line.append(UInt8(ascii: "."))
    digits(Int(now.tv_nsec) / 1_000_000, 3)
    line.append(UInt8(ascii: "Z"))
  }
}

/// Request ids made by the server: a random prefix per process and a counter (`3f9c2a1b-42`), unique within the
/// process and across restarts without a system call per request.
final class RequestIDs: Sendable {
  private let prefix: String = {
    let hex = String(UInt32.random(in: 0...UInt32.max), radix: 16)
    return String(repeating: "0", count: 8 - hex.count) + hex
  }()
  private let counter = Atomic<Int>(0)

  func next() -> String {
    let n = counter.add(1, ordering: .relaxed).newValue
    return prefix + "-" + String(n)
  }
}

/// `milliseconds` with three decimals (`12.345`), without `String(format:)`.
func millisecondsText(_ duration: Duration) -> String {
  let (seconds, attoseconds) = duration.components
  let micros = max(0, seconds) &* 1_000_000 &+ max(0, attoseconds) / 1_000_000_000_000
  let fraction = micros % 1000
  let padded = fraction < 10 ? "00\(fraction)" : fraction < 100 ? "0\(fraction)" : "\(fraction)"
  return "\(micros / 1000).\(padded)"
}
