/// A growable buffer of plain values addressed by index, without copy-on-write, exclusivity checks or
/// accessor coroutines: the per-card and per-merchant state columns.
final class Pool<T: BitwiseCopyable> {
  private(set) var base: UnsafeMutablePointer<T>
  private(set) var count = 0
  private var capacity: Int

  init(capacity: Int = 64) {
    self.capacity = max(capacity, 16)
    base = .allocate(capacity: self.capacity)
  }

  convenience init(_ values: [T]) {
    self.init(capacity: values.count)
    values.withUnsafeBufferPointer { base.initialize(from: $0.baseAddress!, count: values.count) }
    count = values.count
  }

  deinit { base.deallocate() }

  @inline(__always)
  subscript(i: Int) -> T {
    get { base[i] }
    set { base[i] = newValue }
  }

  func append(_ value: T) {
    if count == capacity { grow() }
    base[count] = value
    count += 1
  }

  func append(repeating value: T, count n: Int) {
    while count + n > capacity { grow() }
    (base + count).initialize(repeating: value, count: n)
    count += n
  }

  private func grow() {
    let bigger = UnsafeMutablePointer<T>.allocate(capacity: capacity * 2)
    bigger.initialize(from: base, count: count)
    base.deallocate()
    base = bigger
    capacity *= 2
  }

  /// A copy of the values.
  var array: [T] { Array(UnsafeBufferPointer(start: base, count: count)) }
}
