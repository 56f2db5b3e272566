import Foundation

/// How report pages write numbers and times in text (tables, facts, captions), the same on every page.
public enum ReportText {
  /// Four significant digits; a dash for NaN, ∞ for infinities.
  public static func number(_ x: Double) -> String {
    guard x.isFinite else { return x.isNaN ? "–" : (x > 0 ? "∞" : "−∞") }
    return String(format: "%.4g", x)
  }

  /// ISO 8601, UTC.
  public static func date(_ d: Date) -> String { ISO8601DateFormatter().string(from: d) }
}
