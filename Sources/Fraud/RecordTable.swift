import CPlatform

/// Fixed-size records in one block of memory, found by a 64-bit key: the per-card and per-merchant state.
///
/// A record's first 8 bytes hold its key; the rest is the owner's, read and written through `load` and
/// `storeBytes` at fixed offsets, so one record is a few neighbouring cache lines. The index is an
/// open-addressing table of 8-byte entries (a 32-bit fingerprint of the key and the 32-bit slot) with linear
/// probing and tombstones; a fingerprint match is confirmed against the key in the record.
/// Used from one thread at a time: its properties skip the runtime's exclusivity checks on the hot path.
final class RecordTable {
  /// Bytes per record (a multiple of 8).
  let stride: Int
  @exclusivity(unchecked) private(set) var base: UnsafeMutableRawPointer
  /// Slots allocated, live or free.
  @exclusivity(unchecked) private(set) var slots = 0
  @exclusivity(unchecked) private var capacity: Int
  /// Slots of removed records, reused last-in first-out.
  @exclusivity(unchecked) var free: [Int32] = []
  @exclusivity(unchecked) private var index: UnsafeMutablePointer<UInt64>
  @exclusivity(unchecked) private(set) var indexCapacity: Int
  @exclusivity(unchecked) private var mask: Int
  /// Live records.
  @exclusivity(unchecked) private(set) var count = 0
  @exclusivity(unchecked) private var used = 0  // live entries and tombstones

  static let empty: UInt64 = 0
  static let tombstone: UInt64 = .max

  init(stride: Int, capacity: Int = 64) {
    precondition(stride >= 8 && stride % 8 == 0)
    self.stride = stride
    self.capacity = max(capacity, 16)
    base = allocateTable(byteCount: self.capacity * stride)
    indexCapacity = 32
    while indexCapacity * 3 < self.capacity * 4 { indexCapacity <<= 1 }
    index = allocateTable(byteCount: indexCapacity * 8).bindMemory(to: UInt64.self, capacity: indexCapacity)
    mask = indexCapacity - 1  // zeroed memory: every cell empty
  }

  deinit {
    freeTable(base, byteCount: capacity * stride)
    freeTable(UnsafeMutableRawPointer(index), byteCount: indexCapacity * 8)
  }

  /// The record in `slot`.
  @inline(__always)
  func record(_ slot: Int) -> UnsafeMutableRawPointer { base + slot * stride }

  @inline(__always)
  func key(_ slot: Int) -> UInt64 { record(slot).load(as: UInt64.self) }

  @inline(__always)
  static func fingerprint(_ key: UInt64) -> UInt64 {
    let f = key >> 32
    return f == 0 ? 1 : f == 0xFFFF_FFFF ? 0xFFFF_FFFE : f
  }

  @inline(__always)
  static func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 24) }

  /// The slot of `key`'s record, or nil.
  @inline(__always)
  func find(_ key: UInt64) -> Int? {
    let fp = RecordTable.fingerprint(key)
    var i = RecordTable.home(key) & mask
    while true {
      let e = index[i]
      if e == RecordTable.empty { return nil }
      if e >> 32 == fp {
        let s = Int(truncatingIfNeeded: e & 0xFFFF_FFFF)
        if self.key(s) == key { return s }
      }
      i = (i + 1) & mask
    }
  }

  /// Starts loading the index cell where a lookup of `key` begins.
  @inline(__always)
  func prefetchIndex(_ key: UInt64) { cml_prefetch(index + (RecordTable.home(key) & mask)) }

  /// Starts loading the record `key` most likely has (the first fingerprint match in its index run),
  /// without waiting for anything: the index cell should already be cached (`prefetchIndex`).
  @inline(__always)
  func prefetchRecord(_ key: UInt64) {
    let fp = RecordTable.fingerprint(key)
    var i = RecordTable.home(key) & mask
    while true {
      let e = index[i]
      if e == RecordTable.empty { return }
      if e >> 32 == fp {
        let r = record(Int(truncatingIfNeeded: e & 0xFFFF_FFFF))
        var o = 0
        while o < stride {
          cml_prefetch_write(r + o)
          o += 64
        }
        return
      }
      i = (i + 1) & mask
    }
  }

  /// Adds a record for `key` (which must not be present) and returns its slot; the bytes after the key are
  /// zero.
  func add(_ key: UInt64) -> Int {
    let slot: Int
    if let f = free.popLast() {
      slot = Int(f)
    } else {
      if slots == capacity { growRecords() }
      slot = slots
      slots += 1
    }
    record(slot).storeBytes(of: key, as: UInt64.self)
    (record(slot) + 8).initializeMemory(as: UInt8.self, repeating: 0, count: stride - 8)
    link(key, slot)
    return slot
  }

  private func link(_ key: UInt64, _ slot: Int) {
    if (used + 1) * 4 > indexCapacity * 3 { rebuildIndex() }
    let fp = RecordTable.fingerprint(key)
    var i = RecordTable.home(key) & mask
    while index[i] != RecordTable.empty && index[i] != RecordTable.tombstone { i = (i + 1) & mask }
    if index[i] == RecordTable.empty { used += 1 }
    index[i] = fp << 32 | UInt64(slot)
    count += 1
  }

  /// Removes the record in `slot` (its slot goes to the free list).
  func remove(slot: Int) {
    let key = self.key(slot)
    let target = RecordTable.fingerprint(key) << 32 | UInt64(slot)
    var i = RecordTable.home(key) & mask
    while index[i] != RecordTable.empty {
      if index[i] == target {
        index[i] = RecordTable.tombstone
        count -= 1
        free.append(Int32(slot))
        return
      }
      i = (i + 1) & mask
    }
  }

  /// The live slots, in index order.
  var liveSlots: [Int] {
    var result: [Int] = []
    result.reserveCapacity(count)
    for i in 0..<indexCapacity where index[i] != RecordTable.empty && index[i] != RecordTable.tombstone {
      result.append(Int(truncatingIfNeeded: index[i] & 0xFFFF_FFFF))
    }
    return result
  }

  private func growRecords() {
    let bigger = allocateTable(byteCount: capacity * 2 * stride)
    bigger.copyMemory(from: base, byteCount: slots * stride)
    freeTable(base, byteCount: capacity * stride)
    base = bigger
    capacity *= 2
  }

  /// Rebuilds the index without tombstones, twice as large when it is over half full of live entries
  /// (it is never more than three quarters full, and a quarter full of live entries after it grows).
  private func rebuildIndex() {
    let live = liveSlots
    if (count + 1) * 2 > indexCapacity {
      freeTable(UnsafeMutableRawPointer(index), byteCount: indexCapacity * 8)
      indexCapacity *= 2
      index = allocateTable(byteCount: indexCapacity * 8).bindMemory(to: UInt64.self, capacity: indexCapacity)
      mask = indexCapacity - 1
    } else {
      index.update(repeating: RecordTable.empty, count: indexCapacity)
    }
    count = 0
    used = 0
    for s in live { link(key(s), s) }
  }

  /// Bytes of the records (live and free slots), for snapshots.
  var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: slots * stride) }

  /// A table holding `bytes` (records of `stride`) with the slots in `free` unused.
  /// Returns nil when the sizes do not fit or a free slot is out of range or repeated.
  static func restore(stride: Int, bytes: UnsafeRawBufferPointer, free: [Int32]) -> RecordTable? {
    guard bytes.count % stride == 0 else { return nil }
    let slots = bytes.count / stride
    let table = RecordTable(stride: stride, capacity: slots)
    if slots > 0 { table.base.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
    table.slots = slots
    var isFree = [Bool](repeating: false, count: slots)
    for f in free {
      guard f >= 0, Int(f) < slots, !isFree[Int(f)] else { return nil }
      isFree[Int(f)] = true
    }
    table.free = free
    for s in 0..<slots where !isFree[s] {
      guard table.find(table.key(s)) == nil else { return nil }
      table.link(table.key(s), s)
    }
    return table
  }
}
