extension FieldParser {
  /// `YYYY-MM-DD HH:MM:SS` (UTC) for epoch seconds: the layout `parseTimestamp(_:)` reads back.
  public static func formatTimestamp(_ t: Double) -> String {
    // Beyond the years 0000–9999 (or not a number) there is no date to print; never a trapping conversion.
    guard t.isFinite, t >= -62_167_219_200, t < 253_402_300_800 else { return "(no date: \(t))" }
    let seconds = Int(t.rounded(.down))
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let rest = seconds - days * 86_400
    // Civil from days (Howard Hinnant).
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
    func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    let year = y >= 0 && y < 1000 ? String(repeating: "0", count: 4 - String(y).count) + String(y) : String(y)
    return "\(year)-\(two(m))-\(two(d)) \(two(rest / 3600)):\(two(rest % 3600 / 60)):\(two(rest % 60))"
  }
}
