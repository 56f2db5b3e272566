import Testing

@testable import TabularIO

/// The one decoder of JSON string escapes, under the three JSON readers.
@Suite struct JSONEscapeTests {
  /// Decodes the escape at the start of `text`: the bytes appended and where the index stops, or the failure.
  func decode(_ text: String) -> Result<([UInt8], Int), JSONEscape.Failure> {
    let bytes = Array(text.utf8)
    return bytes.withUnsafeBytes { raw in
      var i = 0
      var out: [UInt8] = [0x2A]  // appended to, never replaced
      do throws(JSONEscape.Failure) {
        try JSONEscape.decode(raw, at: &i, into: &out)
        return .success((Array(out.dropFirst()), i))
      } catch {
        return .failure(error)
      }
    }
  }

  func decoded(_ text: String) -> [UInt8]? {
    if case .success(let (bytes, _)) = decode(text) { return bytes }
    return nil
  }

  @Test func decodesEverySingleLetterEscape() {
    let cases: [(String, UInt8)] = [
      (#"\""#, 0x22), (#"\\"#, 0x5C), (#"\/"#, 0x2F), (#"\b"#, 0x08), (#"\f"#, 0x0C), (#"\n"#, 0x0A), (#"\r"#, 0x0D),
      (#"\t"#, 0x09),
    ]
    for (text, byte) in cases {
      guard case .success(let (bytes, end)) = decode(text + "rest") else {
        Issue.record("\(text) refused")
        continue
      }
      #expect(bytes == [byte] && end == 2, "\(text)")
    }
  }

  @Test func decodesUnicodeEscapesToUTF8() {
    #expect(decoded(#"\u0041"#) == Array("A".utf8))
    #expect(decoded(#"\u0000"#) == [0])
    #expect(decoded(#"\u00e9"#) == Array("é".utf8))
    #expect(decoded(#"\u00E9"#) == Array("é".utf8))
    #expect(decoded(#"\u07ff"#) == Array("\u{7FF}".utf8))
    #expect(decoded(#"\u0800"#) == Array("\u{800}".utf8))
    #expect(decoded(#"\u6771"#) == Array("東".utf8))
    #expect(decoded(#"\uffff"#) == Array("\u{FFFF}".utf8))
    #expect(decoded(#"\ud83d\ude00"#) == Array("😀".utf8))
    #expect(decoded(#"\uDBFF\uDFFF"#) == Array("\u{10FFFF}".utf8))
    guard case .success(let (_, end)) = decode(#"\ud83d\ude00x"#) else {
      Issue.record("a surrogate pair refused")
      return
    }
    #expect(end == 12)
  }

  @Test func failuresNameTheirPlace() {
    #expect(decode(#"\"#).failure == .cutShort)
    #expect(decode(#"\q"#).failure == .unknown(UInt8(ascii: "q"), at: 1))
    #expect(decode(#"\U0041"#).failure == .unknown(UInt8(ascii: "U"), at: 1))
    #expect(decode(#"\u12"#).failure == .hexDigits(at: 2))
    #expect(decode(#"\u12g4"#).failure == .hexDigits(at: 2))
    #expect(decode(#"\ud83d"#).failure == .loneSurrogate(at: 6))
    #expect(decode(#"\ud83dx"#).failure == .loneSurrogate(at: 6))
    #expect(decode(#"\ud83d\u0041"#).failure == .loneSurrogate(at: 6))
    #expect(decode(#"\ud83d\ud83d"#).failure == .loneSurrogate(at: 6))
    #expect(decode(#"\ude00"#).failure == .loneSurrogate(at: 6))
  }
}

extension Result {
  var failure: Failure? {
    if case .failure(let f) = self { return f }
    return nil
  }
}
