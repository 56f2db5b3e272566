/// The escapes of a JSON string (RFC 8259 §7), decoded in one place for every JSON reader of the project (the
/// NDJSON reader, the JSON records reader and the infer request reader); each says a failure in its own words.
public enum JSONEscape {
  /// Why an escape could not be decoded, with the byte offset to name.
  public enum Failure: Error, Equatable, Sendable {
    /// The bytes end right after the backslash.
    case cutShort
    /// `\u` without four hex digits after it (the offset of the first digit).
    case hexDigits(at: Int)
    /// A surrogate without its pair: a high one not followed by an escaped low one, or a low one alone (the
    /// offset after its four digits).
    case loneSurrogate(at: Int)
    /// A letter JSON does not escape (its offset).
    case unknown(UInt8, at: Int)
  }

  /// Decodes the escape whose backslash is at `i`: appends its UTF-8 bytes to `out` and moves `i` past it.
  @inlinable
  public static func decode(_ bytes: UnsafeRawBufferPointer, at i: inout Int, into out: inout [UInt8]) throws(Failure) {
    guard i + 1 < bytes.count else { throw .cutShort }
    let letter = bytes[i + 1]
    i += 2
    switch letter {
    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(letter)
    case UInt8(ascii: "b"): out.append(0x08)
    case UInt8(ascii: "f"): out.append(0x0C)
    case UInt8(ascii: "n"): out.append(0x0A)
    case UInt8(ascii: "r"): out.append(0x0D)
    case UInt8(ascii: "t"): out.append(0x09)
    case UInt8(ascii: "u"):
      guard var code = hex4(bytes, i) else { throw .hexDigits(at: i) }
      i += 4
      if (0xD800..<0xDC00).contains(code) {
        guard i + 6 <= bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u"),
          let low = hex4(bytes, i + 2), (0xDC00..<0xE000).contains(low)
        else { throw .loneSurrogate(at: i) }
        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        i += 6
      }
      guard let scalar = Unicode.Scalar(code) else { throw .loneSurrogate(at: i) }
      appendUTF8(scalar, to: &out)
    default:
      throw .unknown(letter, at: i - 1)
    }
  }

  /// Four hex digits at `p` as a number, or nil.
  @inlinable
  static func hex4(_ bytes: UnsafeRawBufferPointer, _ p: Int) -> UInt32? {
    guard p >= 0, p + 4 <= bytes.count else { return nil }
    var v: UInt32 = 0
    for k in 0..<4 {
      let c = bytes[p + k]
      let d: UInt32
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
      case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
      case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
      default: return nil
      }
      v = v << 4 | d
    }
    return v
  }

  /// `scalar` in UTF-8, without building a String.
  @inlinable
  static func appendUTF8(_ scalar: Unicode.Scalar, to out: inout [UInt8]) {
    let v = scalar.value
    switch v {
    case 0..<0x80:
      out.append(UInt8(v))
    case 0x80..<0x800:
      out.append(UInt8(0xC0 | v >> 6))
      out.append(UInt8(0x80 | v & 0x3F))
    case 0x800..<0x10000:
      out.append(UInt8(0xE0 | v >> 12))
      out.append(UInt8(0x80 | v >> 6 & 0x3F))
      out.append(UInt8(0x80 | v & 0x3F))
    default:
      out.append(UInt8(0xF0 | v >> 18))
      out.append(UInt8(0x80 | v >> 12 & 0x3F))
      out.append(UInt8(0x80 | v >> 6 & 0x3F))
      out.append(UInt8(0x80 | v & 0x3F))
    }
  }
}
