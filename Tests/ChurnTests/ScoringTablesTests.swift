import Foundation
import TabularIO
import Testing

@testable import Churn

/// The flat tables scoring reads: the feature encoder's spellings (compared eight bytes at a time) and the reasons
/// field written without arrays.
@Suite struct ScoringTablesTests {
  /// Levels that share their first 8 or 16 bytes and differ only after: each value sets exactly its own
  /// indicator, whatever its length (0–30 bytes) — the word compare, the second word and the byte compare.
  @Test func spellingsThatShareTheirFirstWordsAreToldApart() throws {
    let levels = [
      "abcdefg", "abcdefgh", "abcdefghi", "abcdefghX", "abcdefghijklmnop", "abcdefghijklmnoq", "abcdefghijklmnopq",
      "abcdefghijklmnopr", "abcdefghijklmnopqrstuvwxyz0123", "abcdefghijklmnopqrstuvwxyz0124", "é",
    ]
    let spec = ColumnSpec(
      name: "plan", kind: .categorical, levels: levels, reference: "abcdefghij", pooled: ["abcdefghijklmnopqrs", "zz"],
      hasMissing: true)
    let features = ChurnTrainer.features(for: [spec])
    let encoder = FeatureEncoder(columns: [spec], features: features)
    let out = UnsafeMutablePointer<Double>.allocate(capacity: features.count)
    defer { out.deallocate() }
    func encode(_ text: String?) -> (FeatureEncoder.Outcome, [Double]) {
      out.update(repeating: 9, count: features.count)
      var bytes = Array((text ?? "").utf8)
      let outcome = bytes.withUnsafeMutableBufferPointer { b in
        encoder.encode(column: 0, field: text == nil ? nil : UnsafeBufferPointer(b), into: out)
      }
      return (outcome, Array(UnsafeBufferPointer(start: out, count: features.count)))
    }
    let other = features.firstIndex { $0.role == .other }!
    let missing = features.firstIndex { $0.role == .missing }!
    for (l, level) in levels.enumerated() {
      let (outcome, values) = encode("  \(level)\t")
      guard case .ok = outcome else {
        Issue.record("\(level): \(outcome)")
        continue
      }
      let expected = features.indices.map { k -> Double in
        if case .level(let m) = features[k].role { return m == l ? 1 : 0 }
        return 0
      }
      #expect(values == expected, "\(level)")
    }
    // The reference sets nothing; a pooled level sets `other`; a blank sets only the missing indicator.
    #expect(encode("abcdefghij").1 == [Double](repeating: 0, count: features.count))
    for pooled in ["abcdefghijklmnopqrs", "zz"] {
      #expect(encode(pooled).1 == features.indices.map { $0 == other ? 1 : 0 })
    }
    for blank in [nil, "", "   "] {
      #expect(encode(blank).1 == features.indices.map { $0 == missing ? 1 : 0 })
    }
    // Near misses of every length are unseen, never matched to a level that shares their start.
    for unseen in [
      "abcdefgi", "abcdefghY", "abcdefghijklmnoZ", "abcdefghijklmnopZ", "abcdefghijklmnopqrstuvwxyz0125",
      "abcdef", "abcdefghijklmnopqrstuvwxyz01234", "e", "\u{0}",
    ] {
      guard case .unseenLevel = encode(unseen).0 else {
        Issue.record("\(unseen) was matched")
        continue
      }
    }
  }

  @Test func booleansAreReadByTheirTwoSpellingsOnly() {
    let spec = ColumnSpec(
      name: "paperless", kind: .boolean, trueValue: "Electronic yes", falseValue: "No", modeIsTrue: true)
    let features = ChurnTrainer.features(for: [spec])
    let encoder = FeatureEncoder(columns: [spec], features: features)
    var value = 0.0
    func encode(_ text: String?) -> FeatureEncoder.Outcome {
      var bytes = Array((text ?? "").utf8)
      return bytes.withUnsafeMutableBufferPointer { b in
        encoder.encode(column: 0, field: text == nil ? nil : UnsafeBufferPointer(b), into: &value)
      }
    }
    #expect({ if case .ok = encode("Electronic yes") { return value == 1 } else { return false } }())
    #expect({ if case .ok = encode(" No ") { return value == 0 } else { return false } }())
    // Blank: the mode.
    #expect({ if case .ok = encode(nil) { return value == 1 } else { return false } }())
    for wrong in ["Electronic yeS", "Electronic ye", "no", "No!"] {
      guard case .bad(let expected) = encode(wrong) else {
        Issue.record("\(wrong) was read")
        continue
      }
      #expect(expected == "Electronic yes or No")
    }
  }

  /// The reasons field: names, values (blank as `(missing)`, an interaction's joined by ×) and contributions to
  /// two decimals with their sign, including values too large for hundredths in an integer.
  @Test func reasonTextIsWrittenExactly() throws {
    let text = ReasonText(slots: [(name: "tenure", fields: [1]), (name: "plan × tenure", fields: [2, 1])])
    #expect(
      written(contributions: [0.004, 0.5, 1.234, 2.5, 10.005, 123.456, 1e20, -0.25]) == [
        " +0.00", " +0.50", " +1.23", " +2.50", " +10.01", " +123.46", " +1e+20", " -0.25",
      ])
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("reasons-\(UUID()).csv").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try "id,tenure,plan\nA, 12 ,Gold\nB,,\"Gold, plus\"\n".write(toFile: path, atomically: true, encoding: .utf8)
    let reader = try CSVReader(path: path)
    let outputPath = path + ".out"
    defer { try? FileManager.default.removeItem(atPath: outputPath) }
    let writer = try CSVWriter(path: outputPath)
    while try reader.next() {
      text.write(slots: [1, 0], values: [0.75, 0.1], count: 2, of: reader, to: writer)
      writer.endRow()
    }
    try writer.finish()
    #expect(
      try String(contentsOfFile: outputPath, encoding: .utf8)
        == "plan × tenure=Gold×12 +0.75; tenure=12 +0.10\n\"plan × tenure=Gold, plus×(missing) +0.75; tenure=(missing) +0.10\"\n"
    )
  }

  private func written(contributions: [Double]) -> [String] {
    contributions.map { value in
      let fresh = ReasonText(slots: [])
      fresh.appendContribution(value)
      return String(decoding: fresh.bytes, as: UTF8.self)
    }
  }
}
