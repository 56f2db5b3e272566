#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A buffered CSV writer that quotes fields as RFC 4180 requires.
///
/// A field is quoted when it contains the delimiter, a quote, CR or LF, or starts or ends with a space;
/// quotes inside are doubled. Rows end with LF. Numbers are formatted into the buffer without allocation.
///
/// Writing to a path that is (or will be) a regular file is atomic: rows go to a temporary file beside it (beside
/// the target of a symbolic link), renamed over it by `finish()`; a process that dies before then leaves no
/// half-written file, and one stopped by a signal no temporary file (see `OutputFiles`). A path that is not a
/// regular file — a FIFO, `/dev/stdout`, `/dev/null` — is written through, never replaced.
///
/// The per-field methods do not throw: a write failure (a full disk, a closed pipe) is remembered, later
/// writes are dropped, and `flush()` or `finish()` throws it, as C's `ferror` does.
public final class CSVWriter {
  private let fd: Int32
  private let ownsDescriptor: Bool
  private let path: String?
  private let temporaryPath: String?
  private let name: String
  // Hot state, used from one thread at a time: no runtime exclusivity checks.
  @exclusivity(unchecked) private var buffer: UnsafeMutablePointer<UInt8>
  private let capacity: Int
  @exclusivity(unchecked) private var count = 0
  @exclusivity(unchecked) private var fieldsInRow = 0
  private let delimiter: UInt8
  private var finished = false
  /// The first write failure, thrown by the next `flush()` or `finish()`.
  private var failure: TabularError?
  /// The temporary file's token in the signal-cleanup registry.
  private var temporaryToken: Int32 = -1
  /// Called before buffered bytes are written out: a writer whose lines must not reach the output before some
  /// other write is durable (a stream's checkpoint) waits for it here.
  public var beforeWrite: (() -> Void)? = nil

  /// Writes `path`: a regular file through a temporary file beside it, renamed over it by `finish()` (keeping an
  /// existing file's permissions); anything else (a FIFO, a device) directly.
  /// - Throws: `.usage` for an empty path; `.io` for a directory or when the file cannot be created or opened.
  public init(path: String, delimiter: UInt8 = UInt8(ascii: ","), bufferBytes: Int = 1 << 16) throws(TabularError) {
    switch try OutputFiles.destination(of: path) {
    case .regularFile(let target):
      let temporary = target + ".partial-\(getpid())"
      var existing = stat()
      let mode = stat(target, &existing) == 0 ? existing.st_mode & 0o7777 : 0o644
      // Registered before it exists, so that no signal can come between its creation and its registration.
      let token = OutputFiles.registerTemporary(temporary)
      let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
      guard fd >= 0 else {
        let reason = String(cString: strerror(errno))
        OutputFiles.forgetTemporary(token)
        throw TabularError(.io, file: path, "cannot create the output file: \(reason)")
      }
      if mode != 0o644 { fchmod(fd, mode) }
      self.fd = fd
      self.path = target
      self.temporaryPath = temporary
      self.temporaryToken = token
    case .writeThrough:
      let fd = open(path, O_WRONLY | O_CLOEXEC)
      guard fd >= 0 else {
        throw TabularError(.io, file: path, "cannot open for writing: \(String(cString: strerror(errno)))")
      }
      self.fd = fd
      self.path = nil
      self.temporaryPath = nil
    }
    self.ownsDescriptor = true
    self.name = path
    self.delimiter = delimiter
    self.capacity = max(bufferBytes, 256)
    self.buffer = .allocate(capacity: capacity)
  }

  /// Writes to an open descriptor such as standard output (`1`), which it does not close.
  public init(
    fileDescriptor: Int32, name: String = "<stdout>", delimiter: UInt8 = UInt8(ascii: ","), bufferBytes: Int = 1 << 16
  ) {
    self.fd = fileDescriptor
    self.ownsDescriptor = false
    self.path = nil
    self.temporaryPath = nil
    self.name = name
    self.delimiter = delimiter
    self.capacity = max(bufferBytes, 256)
    self.buffer = .allocate(capacity: capacity)
  }

  deinit {
    if ownsDescriptor {
      close(fd)
      if !finished, let temporaryPath { unlink(temporaryPath) }
    }
    OutputFiles.forgetTemporary(temporaryToken)
    buffer.deallocate()
  }

  /// Bytes waiting in the buffer.
  public var bufferedByteCount: Int { count }

  @inline(__always)
  private func ensure(_ n: Int) {
    if count + n > capacity { drain() }
  }

  /// Writes the buffer out, remembering a failure instead of throwing it.
  private func drain() {
    do { try flush() } catch { failure = failure ?? error }
    count = 0
  }

  @inline(__always)
  private func separate() {
    if fieldsInRow > 0 {
      ensure(1)
      buffer[count] = delimiter
      count += 1
    }
    fieldsInRow += 1
  }

  private func append(_ bytes: UnsafeBufferPointer<UInt8>) {
    var offset = 0
    while offset < bytes.count {
      if count == capacity { drain() }
      let n = min(capacity - count, bytes.count - offset)
      (buffer + count).update(from: bytes.baseAddress! + offset, count: n)
      count += n
      offset += n
    }
  }

  private func appendText(_ text: String) {
    var text = text
    text.withUTF8 { append($0) }
  }

  /// Whether one of the eight bytes of `w` is the delimiter, a quote, a line feed or a carriage return.
  @inline(__always)
  private func hasSpecial(_ w: UInt64) -> Bool {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let high: UInt64 = 0x8080_8080_8080_8080
    // A zero byte in `v` (exactly: the expression is nonzero if and only if some byte of `v` is zero).
    @inline(__always) func hasZero(_ v: UInt64) -> Bool { (v &- ones) & ~v & high != 0 }
    return hasZero(w ^ (UInt64(delimiter) &* ones)) || hasZero(w ^ (0x22 &* ones)) || hasZero(w ^ (0x0A &* ones))
      || hasZero(w ^ (0x0D &* ones))
  }

  /// Whether `bytes` hold the delimiter, a quote, a line feed or a carriage return: eight bytes at a time.
  @inline(__always)
  private func containsSpecial(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = bytes.baseAddress else { return false }
    var i = 0
    let n = bytes.count
    while i + 8 <= n {
      if hasSpecial(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) { return true }
      i += 8
    }
    while i < n {
      let c = base[i]
      if c == delimiter || c == 0x22 || c == 0x0A || c == 0x0D { return true }
      i += 1
    }
    return false
  }

  /// Writes one field from its bytes, quoting when needed.
  public func writeField(bytes: UnsafeBufferPointer<UInt8>) {
    separate()
    let n = bytes.count
    if n >= 4 && n <= 16 && capacity - count >= 16, let base = bytes.baseAddress,
      base[0] != 0x20 && base[n - 1] != 0x20
    {
      // A short field (an id, a code, a decision) in two words, which overlap when it is shorter than both:
      // checked for the bytes that need quoting and copied without a call.
      let raw = UnsafeRawPointer(base)
      let out = UnsafeMutableRawPointer(buffer + count)
      if n >= 8 {
        let head = raw.loadUnaligned(as: UInt64.self)
        let tail = raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        if !hasSpecial(head) && !hasSpecial(tail) {
          out.storeBytes(of: head, as: UInt64.self)
          out.storeBytes(of: tail, toByteOffset: n - 8, as: UInt64.self)
          count += n
          return
        }
      } else {
        let head = raw.loadUnaligned(as: UInt32.self)
        let tail = raw.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
        if !hasSpecial(UInt64(head) | UInt64(tail) << 32) {
          out.storeBytes(of: head, as: UInt32.self)
          out.storeBytes(of: tail, toByteOffset: n - 4, as: UInt32.self)
          count += n
          return
        }
      }
    }
    var needsQuotes = false
    if let first = bytes.first, let last = bytes.last, first == 0x20 || last == 0x20 { needsQuotes = true }
    if !needsQuotes { needsQuotes = containsSpecial(bytes) }
    if !needsQuotes {
      append(bytes)
      return
    }
    ensure(1)
    buffer[count] = 0x22
    count += 1
    for c in bytes {
      ensure(2)
      if c == 0x22 {
        buffer[count] = 0x22
        count += 1
      }
      buffer[count] = c
      count += 1
    }
    ensure(1)
    buffer[count] = 0x22
    count += 1
  }

  /// Writes one text field, quoting when needed.
  public func writeField(_ text: String) {
    var text = text
    text.withUTF8 { writeField(bytes: $0) }
  }

  /// Writes an empty field.
  public func writeEmptyField() { separate() }

  /// Writes an integer field.
  public func writeField(_ value: Int) {
    separate()
    appendInteger(value)
  }

  private func appendInteger(_ value: Int) {
    ensure(21)
    if value == 0 {
      buffer[count] = 48
      count += 1
      return
    }
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
    var magnitude = value.magnitude
    var n = 0
    withUnsafeMutableBytes(of: &digits) { d in
      while magnitude > 0 {
        d[n] = UInt8(48 + magnitude % 10)
        magnitude /= 10
        n += 1
      }
    }
    if value < 0 {
      buffer[count] = UInt8(ascii: "-")
      count += 1
    }
    withUnsafeBytes(of: &digits) { d in
      for k in stride(from: n - 1, through: 0, by: -1) {
        buffer[count] = d[k]
        count += 1
      }
    }
  }

  /// Writes a number with exactly `decimals` digits after the point (0 to 12), rounded half away from zero.
  /// Non-finite values are written as `nan`, `inf` or `-inf`.
  public func writeField(_ value: Double, decimals: Int) {
    separate()
    guard value.isFinite else {
      let text = value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf")
      appendText(text)
      return
    }
    let decimals = min(max(decimals, 0), 12)
    let scaled = (abs(value) * FieldParser.powersOfTen[decimals]).rounded(.toNearestOrAwayFromZero)
    guard scaled < 9.0e18 else {
      appendText("\(value)")
      return
    }
    let units = UInt64(scaled)
    // Six decimals, the common case, divide by a constant (a multiplication) rather than by a variable.
    let (whole, fraction) =
      decimals == 6
      ? units.quotientAndRemainder(dividingBy: 1_000_000)
      : units.quotientAndRemainder(dividingBy: UInt64(FieldParser.powersOfTen[decimals]))
    var frac = fraction
    if value < 0 && units != 0 {
      ensure(1)
      buffer[count] = UInt8(ascii: "-")
      count += 1
    }
    appendInteger(Int(whole))
    if decimals > 0 {
      ensure(decimals + 1)
      buffer[count] = UInt8(ascii: ".")
      count += 1
      var k = decimals
      while k > 0 {
        k -= 1
        buffer[count + k] = UInt8(48 + frac % 10)
        frac /= 10
      }
      count += decimals
    }
  }

  /// Ends the current row.
  public func endRow() {
    ensure(1)
    buffer[count] = 0x0A
    count += 1
    fieldsInRow = 0
  }

  /// Writes bytes exactly as given (whole lines copied from an input, such as a dead-letter file's), between rows.
  public func writeRaw(_ bytes: UnsafeBufferPointer<UInt8>) {
    precondition(fieldsInRow == 0, "writeRaw between the fields of a row")
    append(bytes)
  }

  /// Writes bytes exactly as given, between rows.
  public func writeRaw(_ bytes: [UInt8]) { bytes.withUnsafeBufferPointer { writeRaw($0) } }

  /// Writes a whole row of text fields.
  public func writeRow(_ fields: [String]) {
    for f in fields { writeField(f) }
    endRow()
  }

  /// Writes the buffered bytes to the descriptor.
  /// - Throws: `.io` when the write fails (a full disk, a closed pipe).
  public func flush() throws(TabularError) {
    if let failure {
      count = 0
      throw failure
    }
    if count > 0, let beforeWrite { beforeWrite() }
    var offset = 0
    while offset < count {
      let n = write(fd, buffer + offset, count - offset)
      if n < 0 {
        if errno == EINTR { continue }
        let reason = String(cString: strerror(errno))
        count = 0
        throw TabularError(.io, file: name, "write failed: \(reason)")
      }
      offset += n
    }
    count = 0
  }

  /// Appends the bytes of the file at `path` (e.g. rows another writer produced in parallel).
  public func append(contentsOfFile path: String) throws(TabularError) {
    try flush()
    let source = open(path, O_RDONLY | O_CLOEXEC)
    guard source >= 0 else { throw TabularError(.io, file: path, "cannot open: \(String(cString: strerror(errno)))") }
    defer { close(source) }
    while true {
      let n = read(source, buffer, capacity)
      if n < 0 {
        if errno == EINTR { continue }
        throw TabularError(.io, file: path, "read failed: \(String(cString: strerror(errno)))")
      }
      if n == 0 { break }
      count = n
      try flush()
    }
  }

  /// Flushes; for a regular file, syncs the temporary file and renames it over the destination. Until this
  /// succeeds the destination is untouched, and the temporary file is removed when the writer goes away.
  public func finish() throws(TabularError) {
    try flush()
    if let path, let temporaryPath {
      guard fsync(fd) == 0 else {
        throw TabularError(.io, file: path, "fsync failed: \(String(cString: strerror(errno)))")
      }
      guard rename(temporaryPath, path) == 0 else {
        throw TabularError(.io, file: path, "cannot move the output into place: \(String(cString: strerror(errno)))")
      }
      OutputFiles.forgetTemporary(temporaryToken)
      temporaryToken = -1
    }
    finished = true
  }
}
