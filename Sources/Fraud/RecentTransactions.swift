import CPlatform

/// One remembered transaction: its id hash, its merchant's slot (−1 for none) and its day.
struct RecentEntry: Equatable {
  var key: UInt64
  var merchant: Int32
  var day: Int32
}

/// The most recent transactions by id hash, for late labels and for skipping replays.
///
/// Two generations of open-addressing tables (linear probing, at most half full): new ids go into the newer
/// one; when it holds `generation` ids, the older one is emptied and becomes the newer. So at least the last
/// `generation` transactions are always remembered (at most twice as many), with no per-id removal.
final class RecentTransactions {
  let generation: Int
  @exclusivity(unchecked) private var newer: UnsafeMutablePointer<RecentEntry>
  @exclusivity(unchecked) private var older: UnsafeMutablePointer<RecentEntry>
  private let mask: Int
  @exclusivity(unchecked) private(set) var newerCount = 0
  @exclusivity(unchecked) private(set) var olderCount = 0

  init(generation: Int) {
    precondition(generation >= 1)
    self.generation = generation
    var c = 16
    while c < generation * 2 { c <<= 1 }
    mask = c - 1
    let bytes = c * MemoryLayout<RecentEntry>.stride
    newer = allocateTable(byteCount: bytes).bindMemory(to: RecentEntry.self, capacity: c)
    older = allocateTable(byteCount: bytes).bindMemory(to: RecentEntry.self, capacity: c)
    // Zeroed memory: every cell empty (key 0).
  }

  deinit {
    freeTable(UnsafeMutableRawPointer(newer), byteCount: (mask + 1) * MemoryLayout<RecentEntry>.stride)
    freeTable(UnsafeMutableRawPointer(older), byteCount: (mask + 1) * MemoryLayout<RecentEntry>.stride)
  }

  /// Transactions remembered now.
  var count: Int { newerCount + olderCount }

  /// Key 0 marks an empty cell: map it elsewhere.
  @inline(__always)
  static func normalize(_ key: UInt64) -> UInt64 { key == 0 ? 1 : key }

  @inline(__always)
  private func home(_ k: UInt64) -> Int { Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> 24) & mask }

  @inline(__always)
  private func probe(_ table: UnsafeMutablePointer<RecentEntry>, _ k: UInt64) -> Int {
    var i = home(k)
    while table[i].key != 0 && table[i].key != k { i = (i + 1) & mask }
    return i
  }

  /// Starts loading the cells where a lookup of `key` begins, in both generations: the cache line of its home cell
  /// and the next one, where a probe from a cell near the end of its line goes on (four cells to a line; without it,
  /// that second line was the stream's most frequent wait).
  @inline(__always)
  func prefetch(_ key: UInt64) {
    let i = home(RecentTransactions.normalize(key))
    let next = ((i | 3) &+ 1) & mask
    cml_prefetch_write(newer + i)
    cml_prefetch(older + i)
    cml_prefetch_write(newer + next)
    cml_prefetch(older + next)
  }

  @inline(__always)
  func lookup(_ key: UInt64) -> RecentEntry? {
    let k = RecentTransactions.normalize(key)
    let i = probe(newer, k)
    if newer[i].key == k { return newer[i] }
    let j = probe(older, k)
    return older[j].key == k ? older[j] : nil
  }

  @inline(__always)
  func contains(_ key: UInt64) -> Bool { lookup(key) != nil }

  /// Remembers `key` (replacing what the newer generation held for it).
  @inline(__always)
  func insert(_ key: UInt64, merchant: Int32, day: Int32) {
    let k = RecentTransactions.normalize(key)
    var i = probe(newer, k)
    if newer[i].key != k {
      if newerCount == generation {
        swap(&newer, &older)
        olderCount = newerCount
        newer.update(repeating: RecentEntry(key: 0, merchant: 0, day: 0), count: mask + 1)
        newerCount = 0
        i = probe(newer, k)
      }
      newerCount += 1
    }
    newer[i] = RecentEntry(key: k, merchant: merchant, day: day)
  }

  /// The entries of each generation (for snapshots), in table order.
  var entries: (newer: [RecentEntry], older: [RecentEntry]) {
    func live(_ newer: Bool, _ count: Int) -> [RecentEntry] {
      guard count > 0 else { return [] }
      return [RecentEntry](unsafeUninitializedCapacity: count) { buffer, initialized in
        initialized = copyLive(newer: newer, into: buffer.baseAddress!)
      }
    }
    return (live(true, newerCount), live(false, olderCount))
  }

  /// Copies the entries of the newer (or older) generation, in table order, to `destination` (room for
  /// `newerCount` or `olderCount` of them); returns how many.
  func copyLive(newer isNewer: Bool, into destination: UnsafeMutablePointer<RecentEntry>) -> Int {
    let table = isNewer ? newer : older
    let room = isNewer ? newerCount : olderCount
    var n = 0
    for i in 0...mask where table[i].key != 0 {
      precondition(n < room, "a generation holds more entries than its count")
      (destination + n).initialize(to: table[i])
      n += 1
    }
    return n
  }

  /// A table holding these generations; nil when they do not fit `generation`.
  static func restore(generation: Int, newer: [RecentEntry], older: [RecentEntry]) -> RecentTransactions? {
    guard newer.count <= generation, older.count <= generation else { return nil }
    let r = RecentTransactions(generation: generation)
    for (entries, table) in [(older, r.older), (newer, r.newer)] {
      for e in entries {
        guard e.key != 0 else { return nil }
        let i = r.probe(table, e.key)
        guard table[i].key == 0 else { return nil }
        table[i] = e
      }
    }
    r.newerCount = newer.count
    r.olderCount = older.count
    return r
  }
}
