#if canImport(Glibc)
  import Glibc
#endif

/// Memory for large tables probed at random (card records, remembered ids): 64-byte aligned, and from
/// 2 MiB up aligned to 2 MiB and marked for transparent huge pages where the system offers them, so random
/// probes do not also miss the TLB. Free with `deallocate()`.
func allocateTable(byteCount: Int) -> UnsafeMutableRawPointer {
  let huge = 2 << 20
  guard byteCount >= huge else { return .allocate(byteCount: max(byteCount, 1), alignment: 64) }
  let p = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: huge)
  #if canImport(Glibc)
    _ = madvise(p, (byteCount + huge - 1) / huge * huge, MADV_HUGEPAGE)
  #endif
  return p
}
