import Testing

@testable import Fraud

/// The remembered decisions in a snapshot: the packed table equals the field-by-field layout the format defines,
/// and reads back to the same decisions.
@Suite struct DecisionMemoryTests {
  /// Three per generation, seven given: the older table holds three, the newer one (the first three dropped).
  func memory() -> (DecisionMemory, [UInt64: RememberedDecision]) {
    let m = DecisionMemory(generation: 3)
    let texts = [m.intern([]), m.intern(Array("AMOUNT_HIGH".utf8)), m.intern(Array("NEW_MERCHANT; OVERLOAD".utf8))]
    var given: [UInt64: RememberedDecision] = [:]
    for k in 0..<7 {
      let key = UInt64(k) &* 0x9E37_79B9_7F4A_7C15
      let d = RememberedDecision(
        score: k == 4 ? .nan : 0.125 * Double(k) - 1e-300, version: k == 2 ? -1 : Int32(k + 10),
        reasons: texts[k % 3], decision: UInt8(k % 3), fallback: k == 4 ? 1 : 0)
      m.insert(key, d)
      if k >= 3 { given[key] = d }
    }
    return (m, given)
  }

  @Test func thePackedTableIsTheFieldByFieldLayout() throws {
    let (m, _) = memory()
    #expect(m.newer.count == 1 && m.older.count == 3)
    var packed = BinaryWriter(bytes: [])
    m.encode(into: &packed)
    var reference = BinaryWriter(bytes: [])
    reference.write(UInt64(3))
    reference.write(UInt64(m.reasonTexts.count))
    for t in m.reasonTexts { reference.write(array: t) }
    for table in [m.newer, m.older] {
      reference.write(UInt64(table.count))
      for (key, d) in table {
        reference.write(key)
        reference.write(d.score)
        reference.write(d.version)
        reference.write(d.reasons)
        reference.write(d.decision)
        reference.write(d.fallback)
      }
    }
    #expect(packed.bytes == reference.bytes)
    #expect(packed.bytes.count == 8 + 8 + (8 + 0) + (8 + 11) + (8 + 22) + 2 * 8 + 4 * DecisionMemory.entryBytes)
  }

  @Test func itReadsBackAndATruncatedOneIsDamaged() throws {
    let (m, given) = memory()
    var w = BinaryWriter(bytes: [])
    m.encode(into: &w)
    let back = try w.bytes.withUnsafeBytes { raw in
      var r = BinaryReader(bytes: raw)
      let back = try DecisionMemory.decode(&r)
      #expect(r.offset == raw.count)
      return back
    }
    #expect(back.generation == 3 && back.count == 4 && back.reasonTexts == m.reasonTexts)
    for (key, d) in given {
      let read = try #require(back.lookup(key))
      #expect(read.version == d.version && read.reasons == d.reasons && read.decision == d.decision)
      #expect(read.fallback == d.fallback && read.score.bitPattern == d.score.bitPattern)
      #expect(back.reasons(read) == m.reasons(d))
    }
    // Cut inside the last entry: refused, not read short.
    let cut = Array(w.bytes.dropLast(5))
    #expect(throws: BinaryReader.Damaged.self) {
      try cut.withUnsafeBytes { raw in
        var r = BinaryReader(bytes: raw)
        _ = try DecisionMemory.decode(&r)
      }
    }
  }
}
