/// An open-addressing hash table from non-zero 64-bit keys (already hashes) to 32-bit slots:
/// linear probing, power-of-two capacity, tombstones for removal. Much cheaper per lookup than a
/// `Dictionary` for the stream's three lookups per transaction.
struct KeyTable {
  private(set) var keys: [UInt64]
  private(set) var values: [Int32]
  private(set) var count = 0
  private var used = 0  // live entries and tombstones
  private var mask: Int
  static let tombstone: UInt64 = 1

  init(capacity: Int = 1024) {
    var c = 16
    while c < capacity * 2 { c <<= 1 }
    keys = [UInt64](repeating: 0, count: c)
    values = [Int32](repeating: 0, count: c)
    mask = c - 1
  }

  /// Keys 0 and 1 are reserved: map them elsewhere.
  @inline(__always)
  static func normalize(_ key: UInt64) -> UInt64 { key < 2 ? key &+ 2 : key }

  @inline(__always)
  static func spread(_ key: UInt64) -> Int {
    Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20)
  }

  subscript(key: UInt64) -> Int32? {
    get {
      let k = KeyTable.normalize(key)
      var i = KeyTable.spread(k) & mask
      while true {
        let found = keys[i]
        if found == k { return values[i] }
        if found == 0 { return nil }
        i = (i + 1) & mask
      }
    }
    set {
      if let newValue { insert(key, newValue) } else { remove(key) }
    }
  }

  mutating func insert(_ key: UInt64, _ value: Int32) {
    if (used + 1) * 4 > keys.count * 3 { grow() }
    let k = KeyTable.normalize(key)
    var i = KeyTable.spread(k) & mask
    var firstTombstone = -1
    while true {
      let found = keys[i]
      if found == k {
        values[i] = value
        return
      }
      if found == 0 { break }
      if found == KeyTable.tombstone && firstTombstone < 0 { firstTombstone = i }
      i = (i + 1) & mask
    }
    if firstTombstone >= 0 {
      i = firstTombstone
    } else {
      used += 1
    }
    keys[i] = k
    values[i] = value
    count += 1
  }

  mutating func remove(_ key: UInt64) {
    let k = KeyTable.normalize(key)
    var i = KeyTable.spread(k) & mask
    while true {
      let found = keys[i]
      if found == 0 { return }
      if found == k {
        keys[i] = KeyTable.tombstone
        count -= 1
        return
      }
      i = (i + 1) & mask
    }
  }

  private mutating func grow() {
    let oldKeys = keys
    let oldValues = values
    let capacity = count * 4 > keys.count ? keys.count * 2 : keys.count
    keys = [UInt64](repeating: 0, count: capacity)
    values = [Int32](repeating: 0, count: capacity)
    mask = capacity - 1
    count = 0
    used = 0
    for (k, v) in zip(oldKeys, oldValues) where k > 1 { insert(k, v) }
  }

  /// Every live (key, value) pair (keys as normalized).
  var entries: [(UInt64, Int32)] { zip(keys, values).filter { $0.0 > 1 }.map { ($0.0, $0.1) } }
}
