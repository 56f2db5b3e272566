/// Contract JSON written straight into bytes, for the values a server answers many times a second. It writes
/// exactly what `JSONContract.encoder(pretty: false)` (Modeling) writes for the same value (keys in sorted order, `/` not
/// escaped, the same number and string forms); each type's `writeJSON` is tested byte for byte against it.
public struct JSONWriter: ~Copyable {
  @usableFromInline var bytes: [UInt8] = []

  public init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

  /// Bytes written verbatim: punctuation and keys the caller knows need no escaping.
  @inlinable
  public mutating func raw(_ text: StaticString) {
    text.withUTF8Buffer { bytes.append(contentsOf: $0) }
  }

  public mutating func byte(_ b: UInt8) { bytes.append(b) }

  /// `"key":` for a key made only of characters JSON leaves unescaped.
  public mutating func key(_ text: StaticString) {
    bytes.append(UInt8(ascii: "\""))
    raw(text)
    bytes.append(UInt8(ascii: "\""))
    bytes.append(UInt8(ascii: ":"))
  }

  /// A JSON string, escaped as Foundation's encoder escapes it: `"` and `\`, the control characters as `\b \t \n
  /// \f \r` or `\u00xx`, everything else (DEL, `/`, non-ASCII) as it is.
  public mutating func string(_ text: String) {
    var text = text
    bytes.append(UInt8(ascii: "\""))
    text.withUTF8 { utf8 in
      var start = 0
      for i in 0..<utf8.count {
        let c = utf8[i]
        guard c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") else { continue }
        if start < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i])) }
        start = i + 1
        bytes.append(UInt8(ascii: "\\"))
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(c)
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        default:
          let hex: StaticString = "0123456789abcdef"
          raw("u00")
          hex.withUTF8Buffer { h in
            bytes.append(h[Int(c >> 4)])
            bytes.append(h[Int(c & 0xF)])
          }
        }
      }
      if start < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...])) }
    }
    bytes.append(UInt8(ascii: "\""))
  }

  public mutating func int(_ value: Int) {
    if value >= 0 && value < 10 {
      bytes.append(UInt8(ascii: "0") &+ UInt8(value))
      return
    }
    bytes.append(contentsOf: String(value).utf8)
  }

  public mutating func bool(_ value: Bool) {
    if value { raw("true") } else { raw("false") }
  }

  public mutating func null() { raw("null") }

  /// A finite `Float` in its shortest round-trip form, without a trailing `.0` (as Foundation writes it).
  /// - Precondition: the caller has checked `value.isFinite` (the encoder would have thrown).
  public mutating func float(_ value: Float) { number(value.description) }

  /// A finite `Double` in its shortest round-trip form, without a trailing `.0`.
  public mutating func double(_ value: Double) { number(value.description) }

  private mutating func number(_ text: String) {
    var text = text
    text.withUTF8 { utf8 in
      let n = utf8.count
      if n >= 2 && utf8[n - 2] == UInt8(ascii: ".") && utf8[n - 1] == UInt8(ascii: "0") {
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[..<(n - 2)]))
      } else {
        bytes.append(contentsOf: utf8)
      }
    }
  }

  /// An object of string values with its keys sorted (as the contract sorts a dictionary's keys).
  public mutating func stringObject(_ object: [String: String]) {
    bytes.append(UInt8(ascii: "{"))
    var first = true
    for key in object.keys.sorted() {
      if !first { bytes.append(UInt8(ascii: ",")) }
      first = false
      string(key)
      bytes.append(UInt8(ascii: ":"))
      string(object[key] ?? "")
    }
    bytes.append(UInt8(ascii: "}"))
  }

  /// An array of strings.
  public mutating func strings(_ values: [String]) {
    bytes.append(UInt8(ascii: "["))
    for (i, v) in values.enumerated() {
      if i > 0 { bytes.append(UInt8(ascii: ",")) }
      string(v)
    }
    bytes.append(UInt8(ascii: "]"))
  }

  public consuming func finish() -> [UInt8] { bytes }
}

/// A value that writes its own contract JSON (the same bytes `JSONContract` encodes for it, one line).
public protocol JSONWritable: Encodable {
  func writeJSON(to writer: inout JSONWriter)
}

extension JSONWritable {
  /// The value's one-line contract JSON.
  public func jsonBytes(capacity: Int = 512) -> [UInt8] {
    var writer = JSONWriter(capacity: capacity)
    writeJSON(to: &writer)
    return writer.finish()
  }
}
