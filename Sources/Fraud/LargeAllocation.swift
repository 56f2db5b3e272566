#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Zeroed memory for large tables probed at random (card records, indexes, remembered ids).
///
/// From 2 MiB up: an anonymous mapping (zero pages from the kernel, so untouched parts cost nothing),
/// 2 MiB aligned and marked for transparent huge pages where the system offers them, so random probes do not
/// also miss the TLB. Smaller: an ordinary 64-byte aligned allocation, zeroed. Free with `freeTable`.
func allocateTable(byteCount: Int) -> UnsafeMutableRawPointer {
  let huge = 2 << 20
  guard byteCount >= huge else {
    let p = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
    p.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1))
    return p
  }
  let size = (byteCount + huge - 1) / huge * huge
  guard let raw = mmap(nil, size + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
    raw != MAP_FAILED
  else { fatalError("out of memory: cannot map \(size) bytes for the stream state") }
  // Keep the 2 MiB aligned part; give back the slack before and after it.
  let address = Int(bitPattern: raw)
  let aligned = (address + huge - 1) / huge * huge
  if aligned > address { munmap(raw, aligned - address) }
  let tail = address + size + huge - (aligned + size)
  if tail > 0 { munmap(UnsafeMutableRawPointer(bitPattern: aligned + size), tail) }
  let p = UnsafeMutableRawPointer(bitPattern: aligned)!
  #if os(Linux)
    _ = madvise(p, size, MADV_HUGEPAGE)
  #endif
  return p
}

/// Frees what `allocateTable(byteCount:)` returned for the same `byteCount`.
func freeTable(_ p: UnsafeMutableRawPointer, byteCount: Int) {
  let huge = 2 << 20
  if byteCount >= huge {
    munmap(p, (byteCount + huge - 1) / huge * huge)
  } else {
    p.deallocate()
  }
}
