/// A model version's artifact parts held in memory: every part read once from the store (its checksums checked as
/// it is read), then served without the store. Immutable after `init`, so any number of threads read it at once.
public final class InMemoryArtifactReader: ArtifactReader, @unchecked Sendable {
  /// Each part in memory of its own, 16-byte aligned (a part of floats is read in place).
  private let parts: [String: UnsafeMutableRawBufferPointer]
  /// The bytes held, all parts together.
  public let byteCount: Int

  /// The version's name and number, for messages.
  public let name: String
  public let version: Int

  /// Reads every part of the version `reader` reads (version `version` of `name`).
  public init(copying reader: any ArtifactReader, name: String, version: Int) throws {
    var parts: [String: UnsafeMutableRawBufferPointer] = [:]
    var total = 0
    do {
      for part in try reader.partNames() {
        let size = try reader.size(part)
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 16)
        let whole = UnsafeMutableRawBufferPointer(rebasing: memory[0..<size])
        do {
          try reader.copyWhole(part, into: whole)
        } catch {
          memory.deallocate()
          throw error
        }
        // Bound once to Float (the only type it is read as in place); its bytes stay readable as raw memory.
        if size % 4 == 0 { _ = memory.bindMemory(to: Float.self) }
        parts[part] = whole
        total += size
      }
    } catch {
      for memory in parts.values { memory.deallocate() }
      throw error
    }
    self.parts = parts
    self.name = name
    self.version = version
    byteCount = total
  }

  /// Reads version `version` of `name` from `store` whole, in one read transaction.
  public static func load(from store: any ModelRegistry, name: String, version: Int) throws -> InMemoryArtifactReader {
    try store.withArtifactReader(name, version: version) {
      try InMemoryArtifactReader(copying: $0, name: name, version: version)
    }
  }

  deinit {
    for memory in parts.values { memory.deallocate() }
  }

  private func part(_ name: String) throws(StoreError) -> UnsafeMutableRawBufferPointer {
    guard let memory = parts[name] else { throw .noSuchPart(name: self.name, version: version, part: name) }
    return memory
  }

  public func has(_ part: String) throws -> Bool { parts[part] != nil }

  public func size(_ part: String) throws -> Int { try self.part(part).count }

  public func partNames() throws -> [String] { parts.keys.sorted() }

  public func read(_ part: String, offset: Int, length: Int) throws -> [UInt8] {
    let memory = try self.part(part)
    guard offset >= 0, length >= 0, offset <= memory.count, length <= memory.count - offset else {
      throw StoreError.rangeOutOfBounds(part: part, offset: offset, length: length, size: memory.count)
    }
    return Array(UnsafeRawBufferPointer(rebasing: memory[offset..<(offset + length)]))
  }

  public func withBytes<R>(
    _ part: String, offset: Int, length: Int, _ body: (UnsafeRawBufferPointer) throws -> R
  ) throws -> R {
    let memory = try self.part(part)
    guard offset >= 0, length >= 0, offset <= memory.count, length <= memory.count - offset else {
      throw StoreError.rangeOutOfBounds(part: part, offset: offset, length: length, size: memory.count)
    }
    return try body(UnsafeRawBufferPointer(rebasing: memory[offset..<(offset + length)]))
  }

  public func readFloats(_ part: String, offset: Int, count: Int) throws -> [Float] {
    try withFloats(part) { floats in
      guard offset >= 0, count >= 0, offset <= floats.count, count <= floats.count - offset else {
        throw StoreError.rangeOutOfBounds(part: part, offset: offset * 4, length: count * 4, size: floats.count * 4)
      }
      return Array(UnsafeBufferPointer(rebasing: floats[offset..<(offset + count)]))
    }
  }

  /// The part's floats where they lie (little-endian machines; a copy in byte order on others).
  public func withFloats<R>(_ part: String, _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
    let memory = try self.part(part)
    guard memory.count % 4 == 0 else {
      throw StoreError.rangeOutOfBounds(part: part, offset: 0, length: memory.count, size: memory.count)
    }
    #if _endian(little)
      guard let base = memory.baseAddress else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
      return try body(UnsafeBufferPointer(start: base.assumingMemoryBound(to: Float.self), count: memory.count / 4))
    #else
      let floats = (0..<(memory.count / 4)).map {
        Float(bitPattern: UInt32(littleEndian: memory.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
      }
      return try floats.withUnsafeBufferPointer { try body($0) }
    #endif
  }
}
