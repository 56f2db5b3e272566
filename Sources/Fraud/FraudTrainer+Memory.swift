import Foundation

#if canImport(Glibc)
  import Glibc
#endif

extension FraudTrainer {
  /// Bytes training on the history at `path` holds at its peak, from the file's size and the length of its first
  /// lines: per transaction its features twice (the replay's rows and the fit's copy), its label, time and
  /// scores, and the fit's bins — an estimate (a few tens of percent either way), for refusing a history that cannot
  /// fit before the replay rather than failing an allocation in the middle of it.
  public static func memoryEstimate(path: String) -> Int? {
    var st = stat()
    guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size > 0 else { return nil }
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    let sample = handle.readData(ofLength: 1 << 16)
    let lines = sample.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    guard lines > 1 else { return nil }
    let rows = Int(st.st_size) / max(1, sample.count / lines)
    let perRow = FraudFeature.count * (8 + 8 + 1) + 64
    return rows * perRow + (64 << 20)
  }
}
