import Foundation
import TabularIO

extension V2 {
  /// An infer request read from its JSON bytes in one pass, for the bodies clients send — or nil whenever the body
  /// holds anything this reader does not take exactly as `JSONDecoder` takes it (malformed JSON, a null where a
  /// value is required, a duplicate key, a number out of range, nesting deeper than 64): the caller then decodes
  /// the body with `JSONDecoder`, so an accepted body gives the same value and a refused one the same message.
  /// (`JSONDecoder`'s generic decoding was half of the time of a 100-customer churn request.)
  static func readInferRequest(_ bytes: UnsafeRawBufferPointer) -> InferRequest? {
    guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
    var reader = InferJSONReader(base: base, count: bytes.count)
    guard let request = reader.request() else { return nil }
    reader.skipSpace()
    return reader.index == reader.count ? request : nil
  }
}

/// A JSON reader over bytes for the infer request's shape; every method returns nil (or false) rather than
/// throwing, leaving the message to `JSONDecoder`.
struct InferJSONReader {
  let base: UnsafePointer<UInt8>
  let count: Int
  var index = 0
  var depth = 0
  static let maximumDepth = 64

  init(base: UnsafePointer<UInt8>, count: Int) {
    self.base = base
    self.count = count
  }

  mutating func skipSpace() {
    while index < count {
      switch base[index] {
      case 0x20, 0x09, 0x0A, 0x0D: index += 1
      default: return
      }
    }
  }

  /// The next byte after white space, not consumed.
  mutating func peek() -> UInt8? {
    skipSpace()
    return index < count ? base[index] : nil
  }

  mutating func consume(_ byte: UInt8) -> Bool {
    guard peek() == byte else { return false }
    index += 1
    return true
  }

  mutating func literal(_ word: StaticString) -> Bool {
    let n = word.utf8CodeUnitCount
    guard count - index >= n else { return false }
    for k in 0..<n where base[index + k] != word.utf8Start[k] { return false }
    index += n
    return true
  }

  /// The members of an object, each key given to `member`, which reads its value (false: give up). Duplicate keys
  /// give up (JSONDecoder's choice between them is its own).
  mutating func object(_ member: (inout InferJSONReader, String) -> Bool) -> Bool {
    guard consume(UInt8(ascii: "{")), depth < Self.maximumDepth else { return false }
    depth += 1
    defer { depth -= 1 }
    var seen: Set<String> = []
    if consume(UInt8(ascii: "}")) { return true }
    while true {
      guard let key = string(), seen.insert(key).inserted, consume(UInt8(ascii: ":")), member(&self, key) else {
        return false
      }
      if consume(UInt8(ascii: ",")) { continue }
      return consume(UInt8(ascii: "}"))
    }
  }

  /// The elements of an array, each read by `element` (false: give up).
  mutating func array(_ element: (inout InferJSONReader) -> Bool) -> Bool {
    guard consume(UInt8(ascii: "[")), depth < Self.maximumDepth else { return false }
    depth += 1
    defer { depth -= 1 }
    if consume(UInt8(ascii: "]")) { return true }
    while true {
      guard element(&self) else { return false }
      if consume(UInt8(ascii: ",")) { continue }
      return consume(UInt8(ascii: "]"))
    }
  }

  /// `null`, consumed.
  mutating func null() -> Bool {
    guard peek() == UInt8(ascii: "n") else { return false }
    return literal("null")
  }

  mutating func string() -> String? {
    guard consume(UInt8(ascii: "\"")) else { return nil }
    let start = index
    while index < count {
      let b = base[index]
      if b == UInt8(ascii: "\"") {
        let text = String(validating: UnsafeBufferPointer(start: base + start, count: index - start), as: UTF8.self)
        index += 1
        return text
      }
      if b == UInt8(ascii: "\\") { return escapedString(from: start) }
      guard b >= 0x20 else { return nil }
      index += 1
    }
    return nil
  }

  /// The rest of a string holding escapes, from its first byte.
  private mutating func escapedString(from start: Int) -> String? {
    var bytes = Array(UnsafeBufferPointer(start: base + start, count: index - start))
    let all = UnsafeRawBufferPointer(start: base, count: count)
    while index < count {
      let b = base[index]
      if b == UInt8(ascii: "\"") {
        index += 1
        return String(validating: bytes, as: UTF8.self)
      }
      if b == UInt8(ascii: "\\") {
        do throws(JSONEscape.Failure) { try JSONEscape.decode(all, at: &index, into: &bytes) } catch { return nil }
        continue
      }
      guard b >= 0x20 else { return nil }
      bytes.append(b)
      index += 1
    }
    return nil
  }

  /// A number as JSON writes it (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`), finite; `integral` when it
  /// has neither a fraction nor an exponent.
  mutating func number() -> (value: Double, integral: Bool)? {
    skipSpace()
    let start = index
    func digits(_ r: inout InferJSONReader) -> Int {
      let from = r.index
      while r.index < r.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(r.base[r.index]) { r.index += 1 }
      return r.index - from
    }
    if index < count, base[index] == UInt8(ascii: "-") { index += 1 }
    guard index < count else { return nil }
    if base[index] == UInt8(ascii: "0") {
      index += 1
    } else if digits(&self) == 0 {
      return nil
    }
    var integral = true
    if index < count, base[index] == UInt8(ascii: ".") {
      index += 1
      guard digits(&self) > 0 else { return nil }
      integral = false
    }
    if index < count, base[index] | 0x20 == UInt8(ascii: "e") {
      index += 1
      if index < count, base[index] == UInt8(ascii: "+") || base[index] == UInt8(ascii: "-") { index += 1 }
      guard digits(&self) > 0 else { return nil }
      integral = false
    }
    // What follows ("01", "1x") is the caller's to refuse: only a separator or a closing bracket may.
    let length = index - start
    guard length <= 63 else { return nil }
    // strtod reads the number (correctly rounded, as JSONDecoder's reading is) from a terminated copy.
    let value = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer -> Double? in
      guard let p = buffer.baseAddress else { return nil }
      UnsafeMutableRawPointer(p).copyMemory(from: base + start, byteCount: length)
      p[length] = 0
      var end: UnsafeMutablePointer<CChar>? = nil
      errno = 0
      let v = strtod(p, &end)
      // ERANGE: beyond a Double, or below its normal range (the choice of a value there is JSONDecoder's).
      return end == p + length && errno == 0 ? v : nil
    }
    guard let value, value.isFinite else { return nil }
    return (value, integral)
  }

  /// A tensor or parameter value: true/false, a number, a string or an array of them (null gives up: JSONDecoder
  /// refuses it there).
  mutating func value() -> V2.Value? {
    switch peek() {
    case UInt8(ascii: "t"): return literal("true") ? .flag(true) : nil
    case UInt8(ascii: "f"): return literal("false") ? .flag(false) : nil
    case UInt8(ascii: "\""): return string().map { .text($0) }
    case UInt8(ascii: "["):
      var elements: [V2.Value] = []
      guard array({ r in r.value().map { elements.append($0) } != nil }) else { return nil }
      return .nested(elements)
    case .some(let b) where b == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b):
      return number().map { .number($0.value) }
    default: return nil
    }
  }

  /// Any JSON value, skipped (a member the request does not know, which JSONDecoder ignores too).
  mutating func skipValue() -> Bool {
    switch peek() {
    case UInt8(ascii: "{"): return object { r, _ in r.skipValue() }
    case UInt8(ascii: "["): return array { r in r.skipValue() }
    case UInt8(ascii: "n"): return null()
    default: return value() != nil
    }
  }

  mutating func parameters() -> V2.Parameters? {
    var result: V2.Parameters = [:]
    guard object({ r, key in r.value().map { result[key] = $0 } != nil }) else { return nil }
    return result
  }

  /// An optional member: absent stays nil, null is nil, else the value read by `read` (nil from it gives up).
  mutating func optional<T>(_ read: (inout InferJSONReader) -> T?) -> T?? {
    if null() { return .some(nil) }
    guard let v = read(&self) else { return nil }
    return .some(v)
  }

  mutating func input() -> V2.InputTensor? {
    var name: String?
    var shape: [Int]?
    var datatype: String?
    var parameters: V2.Parameters?
    var data: [V2.Value]?
    let read = object { r, key in
      switch key {
      case "name":
        name = r.string()
        return name != nil
      case "datatype":
        datatype = r.string()
        return datatype != nil
      case "shape":
        var dims: [Int] = []
        let ok = r.array { r in
          guard let n = r.number(), n.integral, abs(n.value) < 9e15 else { return false }
          dims.append(Int(n.value))
          return true
        }
        shape = dims
        return ok
      case "parameters":
        guard let p = r.optional({ $0.parameters() }) else { return false }
        parameters = p
        return true
      case "data":
        if r.null() { return true }
        var values: [V2.Value] = []
        values.reserveCapacity(16)
        guard r.array({ r in r.value().map { values.append($0) } != nil }) else { return false }
        data = values
        return true
      default:
        return r.skipValue()
      }
    }
    guard read, let name, let shape, let datatype else { return nil }
    return V2.InputTensor(name: name, shape: shape, datatype: datatype, parameters: parameters, data: data)
  }

  mutating func request() -> V2.InferRequest? {
    var id: String?
    var parameters: V2.Parameters?
    var inputs: [V2.InputTensor]?
    let read = object { r, key in
      switch key {
      case "id":
        guard let v = r.optional({ $0.string() }) else { return false }
        id = v
        return true
      case "parameters":
        guard let p = r.optional({ $0.parameters() }) else { return false }
        parameters = p
        return true
      case "inputs":
        var list: [V2.InputTensor] = []
        guard r.array({ r in r.input().map { list.append($0) } != nil }) else { return false }
        inputs = list
        return true
      default:
        return r.skipValue()
      }
    }
    guard read, let inputs else { return nil }
    return V2.InferRequest(id: id, parameters: parameters, inputs: inputs)
  }
}
