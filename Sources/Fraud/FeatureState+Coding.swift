import Foundation
import Storage

/// A little-endian binary encoding of arrays, for state snapshots.
struct BinaryWriter {
  var bytes: [UInt8] = []

  /// A pool's values as raw memory (hosts are little-endian; big-endian hosts swap through `write(_: [T])`).
  mutating func write<T: FixedWidthInteger>(_ pool: Pool<T>) {
    #if _endian(little)
      write(UInt64(pool.count))
      bytes.append(contentsOf: UnsafeRawBufferPointer(start: pool.base, count: pool.count * MemoryLayout<T>.size))
    #else
      write(pool.array)
    #endif
  }

  mutating func write(_ pool: Pool<Float>) {
    #if _endian(little)
      write(UInt64(pool.count))
      bytes.append(contentsOf: UnsafeRawBufferPointer(start: pool.base, count: pool.count * 4))
    #else
      write(pool.array)
    #endif
  }

  mutating func write(_ pool: Pool<Double>) {
    #if _endian(little)
      write(UInt64(pool.count))
      bytes.append(contentsOf: UnsafeRawBufferPointer(start: pool.base, count: pool.count * 8))
    #else
      write(pool.array)
    #endif
  }

  mutating func write<T: FixedWidthInteger>(_ v: T) {
    withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
  }
  mutating func write(_ v: Double) { write(v.bitPattern) }
  mutating func write<T: FixedWidthInteger>(_ a: [T]) {
    write(UInt64(a.count))
    bytes.append(contentsOf: ArtifactCoding.bytes(a))
  }
  mutating func write(_ a: [Float]) {
    write(UInt64(a.count))
    bytes.append(contentsOf: ArtifactCoding.bytes(a))
  }
  mutating func write(_ a: [Double]) {
    write(UInt64(a.count))
    bytes.append(contentsOf: ArtifactCoding.bytes(a))
  }
  mutating func write(_ a: [Bool]) { write(a.map { UInt8($0 ? 1 : 0) }) }
}

/// Reads what `BinaryWriter` wrote; every read is checked against the remaining bytes.
struct BinaryReader {
  let bytes: [UInt8]
  var offset = 0

  struct Damaged: Error {}

  mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
    guard n >= 0, offset + n <= bytes.count else { throw Damaged() }
    defer { offset += n }
    return bytes[offset..<(offset + n)]
  }
  mutating func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
    guard let v = ArtifactCoding.integers(Array(try take(MemoryLayout<T>.size)), as: T.self)?.first else {
      throw Damaged()
    }
    return v
  }
  mutating func readDouble() throws -> Double { Double(bitPattern: try read(UInt64.self)) }
  mutating func readArray<T: FixedWidthInteger>(_: T.Type) throws -> [T] {
    let n = Int(try read(UInt64.self))
    guard n <= bytes.count else { throw Damaged() }
    guard let v = ArtifactCoding.integers(Array(try take(n * MemoryLayout<T>.size)), as: T.self) else {
      throw Damaged()
    }
    return v
  }
  mutating func readFloats() throws -> [Float] { try readArray(UInt32.self).map(Float.init(bitPattern:)) }
  mutating func readDoubles() throws -> [Double] { try readArray(UInt64.self).map(Double.init(bitPattern:)) }
  mutating func readBools() throws -> [Bool] { try readArray(UInt8.self).map { $0 != 0 } }
}

extension FeatureState {
  static let formatVersion: UInt32 = 1

  /// The whole state as bytes (for checkpoints and the training snapshot).
  public func encoded() -> [UInt8] {
    var w = BinaryWriter()
    w.bytes.reserveCapacity(
      cardKey.count * (FeatureState.bytesPerCard + 8) + merchantKey.count * 400 + recent.keys.count * 16 + 4096)
    w.write(FeatureState.formatVersion)
    w.write(watermark)
    w.write(UInt64(processed))
    w.write(cardKey)
    w.write(lastTime)
    w.write(lastLat)
    w.write(lastLon)
    w.write(count)
    w.write(mean)
    w.write(m2)
    w.write(ringCount)
    w.write(ringSum)
    w.write(ringHead)
    w.write(smallCount)
    w.write(merchants)
    w.write(merchantNext)
    w.write(freeCards)
    w.write(merchantKey)
    w.write(merchantHead)
    w.write(merchantLast)
    w.write(merchantCount)
    w.write(merchantKnown)
    w.write(merchantFrauds)
    w.write(freeMerchants)
    let waiting = pending.compacted
    w.write(waiting.release)
    w.write(waiting.merchant)
    w.write(waiting.day)
    w.write(waiting.fraud)
    w.write(recent.keys)
    w.write(recent.merchant)
    w.write(recent.day)
    w.write(UInt64(recent.next))
    return w.bytes
  }

  /// A state restored from `encoded()` bytes.
  /// - Throws: `FraudError(.data)` when the bytes are damaged or of another format.
  public convenience init(decoding bytes: [UInt8]) throws {
    self.init()
    var r = BinaryReader(bytes: bytes)
    do {
      guard try r.read(UInt32.self) == FeatureState.formatVersion else { throw BinaryReader.Damaged() }
      watermark = try r.readDouble()
      processed = Int(try r.read(UInt64.self))
      cardKey = Pool(try r.readArray(UInt64.self))
      lastTime = Pool(try r.readDoubles())
      lastLat = Pool(try r.readFloats())
      lastLon = Pool(try r.readFloats())
      count = Pool(try r.readArray(UInt32.self))
      mean = Pool(try r.readFloats())
      m2 = Pool(try r.readFloats())
      ringCount = Pool(try r.readArray(UInt16.self))
      ringSum = Pool(try r.readFloats())
      ringHead = Pool(try r.readArray(Int32.self))
      smallCount = Pool(try r.readArray(UInt8.self))
      merchants = Pool(try r.readArray(UInt32.self))
      merchantNext = Pool(try r.readArray(UInt8.self))
      freeCards = try r.readArray(Int32.self)
      merchantKey = Pool(try r.readArray(UInt64.self))
      merchantHead = Pool(try r.readArray(Int32.self))
      merchantLast = Pool(try r.readDoubles())
      merchantCount = Pool(try r.readArray(UInt32.self))
      merchantKnown = Pool(try r.readArray(UInt32.self))
      merchantFrauds = Pool(try r.readArray(UInt32.self))
      freeMerchants = try r.readArray(Int32.self)
      pending.release = try r.readDoubles()
      pending.merchant = try r.readArray(Int32.self)
      pending.day = try r.readArray(Int32.self)
      pending.fraud = try r.readBools()
      recent.keys = try r.readArray(UInt64.self)
      recent.merchant = try r.readArray(Int32.self)
      recent.day = try r.readArray(Int32.self)
      recent.next = Int(try r.read(UInt64.self))
      let cards = cardKey.count
      guard lastTime.count == cards, count.count == cards, ringCount.count == cards * FeatureState.bucketsPerCard,
        ringHead.count == cards * 3, smallCount.count == cards * 24,
        merchants.count == cards * FeatureState.recentMerchants, merchantCount.count == merchantKey.count * 30,
        recent.merchant.count == recent.keys.count, pending.merchant.count == pending.release.count,
        r.offset == bytes.count
      else { throw BinaryReader.Damaged() }
    } catch {
      throw FraudError(.data, "the saved stream state is damaged or from another version")
    }
    let freeC = Set(freeCards)
    for (slot, key) in cardKey.array.enumerated() where !freeC.contains(Int32(slot)) { cardIndex[key] = Int32(slot) }
    let freeM = Set(freeMerchants)
    for (slot, key) in merchantKey.array.enumerated() where !freeM.contains(Int32(slot)) {
      merchantIndex[key] = Int32(slot)
    }
    for (i, key) in recent.keys.enumerated() { recent.index[key] = Int32(i) }
  }
}
