/// A decision given to a transaction, as a server remembers it for the transaction's retries.
struct RememberedDecision: Equatable {
  /// The probability (NaN for a fallback answer given without scoring).
  var score: Double
  /// The version that scored (−1 for rules alone).
  var version: Int32
  /// Where its reasons text is in `DecisionMemory.reasonTexts`.
  var reasons: UInt32
  var decision: UInt8
  /// Whether the answer was the overload fallback.
  var fallback: UInt8
}

/// The decisions a server gave, by transaction id hash, for at least the last `generation` transactions (at most
/// twice as many): two generations of tables, the older dropped when the newer fills, as the state's remembered
/// ids are. A retry of a remembered transaction gets its decision back without touching the state.
///
/// Reasons texts are kept once each (a model has few distinct ones). Checkpointed with the state.
final class DecisionMemory {
  let generation: Int
  private(set) var newer: [UInt64: RememberedDecision] = [:]
  private(set) var older: [UInt64: RememberedDecision] = [:]
  /// Each distinct reasons text once; index 0 is the empty one.
  private(set) var reasonTexts: [[UInt8]] = [[]]
  private var reasonIndex: [[UInt8]: UInt32] = [[]: 0]

  init(generation: Int) {
    precondition(generation >= 1)
    self.generation = generation
    newer.reserveCapacity(min(generation, 1 << 20))
  }

  var count: Int { newer.count + older.count }

  func lookup(_ key: UInt64) -> RememberedDecision? { newer[key] ?? older[key] }

  func insert(_ key: UInt64, _ value: RememberedDecision) {
    if newer[key] == nil && newer.count >= generation {
      older = newer
      newer = [:]
      newer.reserveCapacity(min(generation, 1 << 20))
    }
    newer[key] = value
  }

  /// The index of the reasons text `bytes` (added when new).
  func intern(_ bytes: [UInt8]) -> UInt32 {
    if bytes.isEmpty { return 0 }
    if let k = reasonIndex[bytes] { return k }
    let k = UInt32(reasonTexts.count)
    reasonTexts.append(bytes)
    reasonIndex[bytes] = k
    return k
  }

  func reasons(_ d: RememberedDecision) -> [UInt8] {
    Int(d.reasons) < reasonTexts.count ? reasonTexts[Int(d.reasons)] : []
  }

  func encode(into w: inout BinaryWriter) {
    w.write(UInt64(generation))
    w.write(UInt64(reasonTexts.count))
    for t in reasonTexts { w.write(array: t) }
    for table in [newer, older] {
      w.write(UInt64(table.count))
      // Each entry packed as its fields' own writes would lay them out (key, score, version, reasons, decision,
      // fallback), stored straight into the snapshot: a server's checkpoint stops its decisions while it encodes,
      // and six appends per entry made that 110 ns an entry (13 ms for 120,000 remembered decisions).
      w.write(rawBytes: table.count * DecisionMemory.entryBytes) { p in
        var o = 0
        for (key, d) in table {
          p.storeBytes(of: key, toByteOffset: o, as: UInt64.self)
          p.storeBytes(of: d.score, toByteOffset: o + 8, as: Double.self)
          p.storeBytes(of: d.version, toByteOffset: o + 16, as: Int32.self)
          p.storeBytes(of: d.reasons, toByteOffset: o + 20, as: UInt32.self)
          p.storeBytes(of: d.decision, toByteOffset: o + 24, as: UInt8.self)
          p.storeBytes(of: d.fallback, toByteOffset: o + 25, as: UInt8.self)
          o += DecisionMemory.entryBytes
        }
      }
    }
  }

  /// The bytes of one remembered decision in a snapshot.
  static let entryBytes = 26

  static func decode(_ r: inout BinaryReader) throws -> DecisionMemory {
    let generation = try r.read(UInt64.self)
    guard generation >= 1, generation <= 1 << 30 else { throw BinaryReader.Damaged() }
    let m = DecisionMemory(generation: Int(generation))
    let texts = try r.read(UInt64.self)
    guard texts >= 1, texts <= UInt64(r.bytes.count - r.offset) / 8 else { throw BinaryReader.Damaged() }
    var list: [[UInt8]] = []
    for _ in 0..<Int(texts) { list.append(try r.readArray(UInt8.self)) }
    guard list[0].isEmpty else { throw BinaryReader.Damaged() }
    m.reasonTexts = list
    m.reasonIndex = Dictionary(
      list.enumerated().map { ($0.element, UInt32($0.offset)) }, uniquingKeysWith: { a, _ in a })
    var tables: [[UInt64: RememberedDecision]] = []
    for _ in 0..<2 {
      let n = try r.read(UInt64.self)
      guard n <= generation, n <= UInt64(r.bytes.count - r.offset) / UInt64(entryBytes) else {
        throw BinaryReader.Damaged()
      }
      var table: [UInt64: RememberedDecision] = [:]
      table.reserveCapacity(Int(n))
      for _ in 0..<Int(n) {
        let key = try r.read(UInt64.self)
        let d = RememberedDecision(
          score: try r.read(Double.self), version: try r.read(Int32.self), reasons: try r.read(UInt32.self),
          decision: try r.read(UInt8.self), fallback: try r.read(UInt8.self))
        guard d.decision <= 2, d.fallback <= 1, Int(d.reasons) < list.count else { throw BinaryReader.Damaged() }
        table[key] = d
      }
      tables.append(table)
    }
    m.newer = tables[0]
    m.older = tables[1]
    return m
  }
}
