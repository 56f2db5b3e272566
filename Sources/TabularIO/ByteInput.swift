#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A growable window over a file descriptor's bytes: the readers parse records in place in the window,
/// and ask for more only when a record runs past its end.
///
/// Memory is bounded by the longest record (`maximumRecordBytes`), not the file: consumed bytes are
/// dropped by moving the unconsumed tail to the front before each read. Every byte read is hashed
/// (XXH64) for the data fingerprint.
@usableFromInline final class ByteInput {
  let name: String
  private let fd: Int32
  private let ownsDescriptor: Bool
  @usableFromInline @exclusivity(unchecked) private(set) var buffer: UnsafeMutablePointer<UInt8>
  private(set) var capacity: Int
  /// First byte not yet consumed.
  @exclusivity(unchecked) var start = 0
  /// One past the last valid byte.
  @exclusivity(unchecked) private(set) var end = 0
  /// True once `read` returned 0.
  private(set) var atEOF = false
  let maximumRecordBytes: Int
  private(set) var hasher = XXHash64()
  /// Whether the bytes read are hashed into `hasher` (off for a reader whose fingerprint nobody asks for).
  var fingerprinting = true
  /// Bytes dropped from the front of the window so far: `dropped + i` is the file offset of `buffer[i]`.
  private(set) var dropped = 0
  private let memory: [UInt8]?
  private var memoryOffset = 0

  /// Asked before each read (and after a read interrupted by a signal): when it says `true`, the input
  /// ends there, as at end of file.
  var stopRequested: (@Sendable () -> Bool)? = nil

  /// Bytes left to read before an artificial end of input (for reading one byte range of a file).
  private var remaining = Int.max

  /// Opens `path` for reading, from byte `range.lowerBound` up to `range.upperBound` when a range is given.
  init(path: String, chunkBytes: Int, maximumRecordBytes: Int, range: Range<Int>? = nil) throws(TabularError) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw TabularError(.io, file: path, "cannot open for reading: \(String(cString: strerror(errno)))")
    }
    var st = stat()
    if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
      close(fd)
      throw TabularError(.io, file: path, "is a directory, expected a file")
    }
    self.name = path
    self.fd = fd
    self.ownsDescriptor = true
    self.memory = nil
    self.maximumRecordBytes = max(maximumRecordBytes, 16)
    self.capacity = max(16, min(chunkBytes, self.maximumRecordBytes + 1))
    self.buffer = .allocate(capacity: capacity)
    if let range {
      guard lseek(fd, off_t(range.lowerBound), SEEK_SET) >= 0 else {
        throw TabularError(.io, file: path, "cannot seek: \(String(cString: strerror(errno)))")
      }
      remaining = range.count
    }
  }

  /// Reads an already open descriptor (standard input); the descriptor is not closed.
  init(fileDescriptor: Int32, name: String, chunkBytes: Int, maximumRecordBytes: Int) {
    self.name = name
    self.fd = fileDescriptor
    self.ownsDescriptor = false
    self.memory = nil
    self.maximumRecordBytes = max(maximumRecordBytes, 16)
    self.capacity = max(16, min(chunkBytes, self.maximumRecordBytes + 1))
    self.buffer = .allocate(capacity: capacity)
  }

  /// Reads bytes held in memory (tests, small inputs), in chunks of `chunkBytes` to exercise refills.
  init(bytes: [UInt8], name: String, chunkBytes: Int, maximumRecordBytes: Int) {
    self.name = name
    self.fd = -1
    self.ownsDescriptor = false
    self.memory = bytes
    self.maximumRecordBytes = max(maximumRecordBytes, 16)
    self.capacity = max(16, min(chunkBytes, self.maximumRecordBytes + 1))
    self.buffer = .allocate(capacity: capacity)
  }

  deinit {
    buffer.deallocate()
    if ownsDescriptor { close(fd) }
  }

  /// The fingerprint of all bytes read so far.
  var fingerprint: DataFingerprint { DataFingerprint(hasher) }

  /// Moves the unconsumed bytes `[keepFrom, end)` to the front and reads more after them.
  ///
  /// Returns the distance every position moved left (so callers can shift their saved offsets), or
  /// `nil` at end of input. Grows the window when it is full, up to `maximumRecordBytes`.
  /// - Throws: `.io` on a read error, `.malformedRecord` when one record exceeds `maximumRecordBytes`.
  func refill(keepFrom: Int) throws(TabularError) -> Int? {
    lastLineEnd = -1
    if atEOF { return nil }
    if let stopRequested, stopRequested() {
      // A stop was asked for: what is buffered is still parsed, nothing more is read.
      atEOF = true
      return nil
    }
    let shift = keepFrom
    let kept = end - keepFrom
    if shift > 0 {
      if kept > 0 { memmove(buffer, buffer + keepFrom, kept) }
      dropped += shift
      start -= shift
      end = kept
    }
    if end == capacity {
      guard capacity < maximumRecordBytes + 1 else {
        throw TabularError(
          .malformedRecord, file: name, "a record is longer than \(maximumRecordBytes) bytes (the reader's limit)")
      }
      let newCapacity = min(capacity * 2, maximumRecordBytes + 1)
      let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
      grown.update(from: buffer, count: end)
      buffer.deallocate()
      buffer = grown
      capacity = newCapacity
    }
    while true {
      let room = capacity - end
      var got: Int
      if let memory {
        got = min(room, memory.count - memoryOffset)
        memory.withUnsafeBufferPointer { m in
          (buffer + end).update(from: m.baseAddress! + memoryOffset, count: got)
        }
        memoryOffset += got
      } else {
        got = remaining > 0 ? read(fd, buffer + end, min(room, remaining)) : 0
        if got > 0 { remaining -= got }
        if got < 0 {
          if errno == EINTR {
            if let stopRequested, stopRequested() {
              atEOF = true
              return nil
            }
            continue
          }
          throw TabularError(.io, file: name, "read failed: \(String(cString: strerror(errno)))")
        }
      }
      if got == 0 {
        atEOF = true
        return shift
      }
      if fingerprinting { hasher.update(UnsafeRawBufferPointer(start: buffer + end, count: got)) }
      end += got
      return shift
    }
  }

  /// The offset of the last line end found in the buffer, −1 when unknown (reset by every refill).
  private var lastLineEnd = -1

  /// True when a line end (LF or CR) is buffered at or after `start`, or no more input can come: the next
  /// line can be read without waiting.
  var hasBufferedLine: Bool {
    if memory != nil || atEOF { return true }
    if lastLineEnd >= start { return true }
    // The last line end buffered (searched from the end, once per refill): every line before it is whole.
    var p = end - 1
    while p >= start {
      if buffer[p] == 0x0A || buffer[p] == 0x0D {
        lastLineEnd = p
        return true
      }
      p -= 1
    }
    return false
  }

  /// True when no bytes are waiting and no more can be read without blocking (pipes and terminals).
  var wouldBlock: Bool {
    if memory != nil || atEOF { return false }
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    return poll(&p, 1, 0) == 0
  }
}
