import Foundation
import Modeling

/// A little-endian binary encoding of plain values and blocks of memory, for state snapshots.
/// (Hosts are little-endian; `FeatureState.encoded()` refuses to build elsewhere.)
struct BinaryWriter {
  var bytes: [UInt8] = []

  mutating func write<T: BitwiseCopyable>(_ v: T) { withUnsafeBytes(of: v) { bytes.append(contentsOf: $0) } }

  /// A count, then the raw bytes.
  mutating func write(block: UnsafeRawBufferPointer) {
    write(UInt64(block.count))
    bytes.append(contentsOf: block)
  }

  /// A count of elements, then their bytes.
  mutating func write<T: BitwiseCopyable>(array: [T]) {
    write(UInt64(array.count))
    array.withUnsafeBytes { bytes.append(contentsOf: $0) }
  }

  /// `count` bytes as `fill` stores them from the pointer it is given (unaligned stores), with no count before
  /// them: one append for a table of records instead of one per field.
  mutating func write(rawBytes count: Int, _ fill: (UnsafeMutableRawPointer) -> Void) {
    let start = bytes.count
    bytes.append(contentsOf: repeatElement(0, count: count))
    bytes.withUnsafeMutableBytes { fill($0.baseAddress! + start) }
  }

  /// A count of elements, then their bytes, as `fill` writes them into room for up to `capacity` and returns how
  /// many it wrote (the same bytes as `write(array:)` of those elements, without building the array).
  mutating func write<T: BitwiseCopyable>(
    _: T.Type, capacity: Int, _ fill: (UnsafeMutablePointer<T>) -> Int
  ) {
    let countAt = bytes.count
    write(UInt64(0))
    let start = bytes.count
    let room = capacity * MemoryLayout<T>.stride
    bytes.append(contentsOf: repeatElement(0, count: room))
    let n = bytes.withUnsafeMutableBytes { raw in
      let n = fill((raw.baseAddress! + start).bindMemory(to: T.self, capacity: capacity))
      precondition(n >= 0 && n <= capacity)
      raw.storeBytes(of: UInt64(n), toByteOffset: countAt, as: UInt64.self)
      return n
    }
    bytes.removeLast(room - n * MemoryLayout<T>.stride)
  }
}

/// Reads what `BinaryWriter` wrote; every read is checked against the remaining bytes.
struct BinaryReader {
  let bytes: UnsafeRawBufferPointer
  var offset = 0

  struct Damaged: Error {}

  mutating func read<T: BitwiseCopyable>(_: T.Type) throws -> T {
    guard MemoryLayout<T>.size <= bytes.count - offset else { throw Damaged() }
    defer { offset += MemoryLayout<T>.size }
    return bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
  }

  mutating func readBlock() throws -> UnsafeRawBufferPointer {
    let n = try read(UInt64.self)
    guard n <= UInt64(bytes.count - offset) else { throw Damaged() }
    defer { offset += Int(n) }
    return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + Int(n))])
  }

  mutating func readArray<T: BitwiseCopyable>(_: T.Type) throws -> [T] {
    let n = try read(UInt64.self)
    let size = UInt64(MemoryLayout<T>.stride)
    guard n <= UInt64(bytes.count - offset) / size else { throw Damaged() }
    let count = Int(n)
    let result = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
      UnsafeMutableRawBufferPointer(buffer).copyMemory(
        from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count * Int(size))]))
      initialized = count
    }
    offset += count * Int(size)
    return result
  }
}

extension FeatureState {
  static let formatVersion: UInt32 = 3

  /// The whole state as bytes (for checkpoints and the training snapshot): the card and merchant records as
  /// they are in memory, the waiting labels and the remembered transactions.
  public func encoded() -> [UInt8] {
    var bytes: [UInt8] = []
    encode(into: &bytes)
    return bytes
  }

  /// The tag of the online learning section, after the state's own.
  static let learningTag: UInt32 = 0x4E52_454C
  /// The tag of a server's remembered decisions section.
  static let decisionsTag: UInt32 = 0x5343_4544

  /// Replaces `bytes` with `encoded()`, reusing their memory (checkpoints of a running stream); with
  /// `includeLearning`, followed by the online learning state when there is one.
  public func encode(into bytes: inout [UInt8], includeLearning: Bool = true) {
    #if !_endian(little)
      #error("state snapshots are written in the host's byte order, which must be little-endian")
    #endif
    bytes.removeAll(keepingCapacity: true)
    var w = BinaryWriter(bytes: bytes)
    bytes = []
    w.bytes.reserveCapacity(
      cards.bytes.count + merchantTable.bytes.count + (cards.free.count + merchantTable.free.count) * 4
        + pending.count * 17 + recent.count * MemoryLayout<RecentEntry>.stride + 4096)
    w.write(FeatureState.formatVersion)
    w.write(watermark)
    w.write(UInt64(processed))
    w.write(UInt64(CardLayout.stride))
    w.write(block: cards.bytes)
    w.write(array: cards.free)
    w.write(UInt64(MerchantLayout.stride))
    w.write(block: merchantTable.bytes)
    w.write(array: merchantTable.free)
    // The waiting labels field by field, and the live entries of each generation, straight from their tables.
    let waiting = pending.count
    w.write(Double.self, capacity: waiting) { p in pending.forEachWaiting { k, l in p[k] = l.release } }
    w.write(Int32.self, capacity: waiting) { p in pending.forEachWaiting { k, l in p[k] = l.merchant } }
    w.write(Int32.self, capacity: waiting) { p in pending.forEachWaiting { k, l in p[k] = l.day } }
    w.write(UInt8.self, capacity: waiting) { p in pending.forEachWaiting { k, l in p[k] = l.fraud ? 1 : 0 } }
    w.write(UInt64(recent.generation))
    w.write(RecentEntry.self, capacity: recent.newerCount) { recent.copyLive(newer: true, into: $0) }
    w.write(RecentEntry.self, capacity: recent.olderCount) { recent.copyLive(newer: false, into: $0) }
    if includeLearning, let learning {
      w.write(FeatureState.learningTag)
      learning.encode(into: &w)
    }
    if let decisions {
      w.write(FeatureState.decisionsTag)
      decisions.encode(into: &w)
    }
    bytes = w.bytes
  }

  /// A state restored from `encoded()` bytes.
  /// - Throws: `CommerceError(.data)` when the bytes are damaged or of another format.
  public convenience init(decoding bytes: [UInt8]) throws {
    typealias Decoded = (
      watermark: Double, processed: Int, cards: RecordTable, merchants: RecordTable, pending: PendingLabels,
      recent: RecentTransactions, learning: OnlineLearning.Decoded?, decisions: DecisionMemory?
    )
    let d: Decoded
    do {
      d = try bytes.withUnsafeBytes { raw -> Decoded in
        var r = BinaryReader(bytes: raw)
        guard try r.read(UInt32.self) == FeatureState.formatVersion else { throw BinaryReader.Damaged() }
        let watermark = try r.read(Double.self)
        let processed = Int(try r.read(UInt64.self))
        guard try r.read(UInt64.self) == UInt64(CardLayout.stride),
          let cards = RecordTable.restore(
            stride: CardLayout.stride, bytes: try r.readBlock(), free: try r.readArray(Int32.self)),
          try r.read(UInt64.self) == UInt64(MerchantLayout.stride),
          let merchants = RecordTable.restore(
            stride: MerchantLayout.stride, bytes: try r.readBlock(), free: try r.readArray(Int32.self))
        else { throw BinaryReader.Damaged() }
        let release = try r.readArray(Double.self)
        let merchant = try r.readArray(Int32.self)
        let day = try r.readArray(Int32.self)
        let fraud = try r.readArray(UInt8.self)
        guard merchant.count == release.count, day.count == release.count, fraud.count == release.count else {
          throw BinaryReader.Damaged()
        }
        let pending = PendingLabels(
          (0..<release.count).map {
            PendingLabels.Label(release: release[$0], merchant: merchant[$0], day: day[$0], fraud: fraud[$0] != 0)
          })
        let generation = try r.read(UInt64.self)
        guard generation > 0, generation <= 1 << 30,
          let recent = RecentTransactions.restore(
            generation: Int(generation), newer: try r.readArray(RecentEntry.self),
            older: try r.readArray(RecentEntry.self))
        else { throw BinaryReader.Damaged() }
        // Tagged sections, each at most once, learning first.
        var learning: OnlineLearning.Decoded? = nil
        var decisions: DecisionMemory? = nil
        while r.offset < raw.count {
          let tag = try r.read(UInt32.self)
          if tag == FeatureState.learningTag && learning == nil && decisions == nil {
            learning = try OnlineLearning.decode(&r)
          } else if tag == FeatureState.decisionsTag && decisions == nil {
            decisions = try DecisionMemory.decode(&r)
          } else {
            throw BinaryReader.Damaged()
          }
        }
        return (watermark, processed, cards, merchants, pending, recent, learning, decisions)
      }
    } catch {
      throw CommerceError(
        .data,
        "the saved stream state is damaged or was written by another version of fraud (this one reads state format \(FeatureState.formatVersion)); train the model again, or stream without \(.resume)"
      )
    }
    self.init(cards: d.cards, merchants: d.merchants, recent: d.recent, pending: d.pending)
    watermark = d.watermark
    processed = d.processed
    savedLearning = d.learning
    decisions = d.decisions
  }
}
