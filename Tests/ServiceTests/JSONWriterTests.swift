import Foundation
import Modeling
import Testing

@testable import Recommender
@testable import Service
@testable import Storage
@testable import TabularIO

/// The hand-written JSON of the hot responses must be the contract's bytes: what `JSONContract` encodes for the same
/// value, byte for byte, on awkward strings and numbers.
@Suite struct JSONWriterTests {
  /// Strings JSON escapes differently: quotes, backslashes, every control character, DEL, slash, non-ASCII (composed
  /// and decomposed), emoji, empty.
  static let awkward: [String] = [
    "", "plain", "quote\"d", "back\\slash", "a/b", "tab\tnew\nline\r", "\u{7F}del", "é", "e\u{301}", "日本語", "🛒",
    "<script>&amp;</script>", String((0..<32).map { Character(Unicode.Scalar(UInt8($0))) }),
  ]

  static let floats: [Float] = [
    0, -0.0, 1, -1, 0.1, 1e-5, 1e-45, 3.4e38, 123_456_789, 0.333_333_34, 2.5, 1e20, -7.25e-12, 16_777_216,
  ]

  static let doubles: [Double] = [
    0, -0.0, 1, 0.1, 1e-5, 5e-324, 1.7976931348623157e308, 0.30000000000000004, 1e16, 123_456_789, -2.5e-300, 0.75,
  ]

  func contract<T: Encodable>(_ value: T) throws -> String { try JSONContract.text(value, pretty: false) }

  func written(_ body: (inout JSONWriter) -> Void) -> String {
    var w = JSONWriter()
    body(&w)
    return String(decoding: w.finish(), as: UTF8.self)
  }

  @Test func stringsAreEscapedAsTheEncoderEscapesThem() throws {
    for s in Self.awkward {
      #expect(written { $0.string(s) } == (try contract([s])).dropFirst().dropLast(), "\(s.debugDescription)")
    }
  }

  @Test func numbersAreWrittenAsTheEncoderWritesThem() throws {
    for f in Self.floats {
      #expect(written { $0.float(f) } == (try contract([f])).dropFirst().dropLast(), "\(f)")
    }
    for d in Self.doubles {
      #expect(written { $0.double(d) } == (try contract([d])).dropFirst().dropLast(), "\(d)")
    }
    for i in [0, 7, 9, 10, -1, -10, 1234, Int.max, Int.min] {
      #expect(written { $0.int(i) } == (try contract([i])).dropFirst().dropLast(), "\(i)")
    }
  }

  @Test func objectKeysAreSortedAsTheEncoderSortsThem() throws {
    // "é" and "e\u{301}" are one key to Swift (canonically equivalent): the first is kept.
    let object = Dictionary(
      Self.awkward.enumerated().map { ($0.element, "v\($0.offset)") }, uniquingKeysWith: { a, _ in a }
    )
    .merging(["B": "1", "a": "2", "A": "3", "a10": "4", "a9": "5", "_": "6", "Z": "7"]) { a, _ in a }
    #expect(written { $0.stringObject(object) } == (try contract(object)))
    #expect(written { $0.stringObject([:]) } == (try contract([String: String]())))
  }

  /// Every field of a list varied: sources, empty and awkward metadata, ranks, scores.
  @Test func recommendationListsAreTheContractsBytes() throws {
    var lists: [RecommendationList] = []
    for (k, source) in [RecommendationSource.model, .foldedIn, .popularity].enumerated() {
      let columns = k == 0 ? [] : ["title", "genre/sub", "naïve \"q\""]
      let items = (0..<(k * 4)).map { i in
        Recommendation(
          rank: i + 1, itemID: Self.awkward[i % Self.awkward.count], score: Self.floats[i % Self.floats.count],
          metadata: Dictionary(
            uniqueKeysWithValues: columns.enumerated().map { ($0.element, Self.awkward[($0.offset + i) % 13]) }))
      }
      lists.append(
        RecommendationList(
          model: ModelReference(name: "rec\"ommender", version: 10 + k, kind: "recommender.als-implicit"),
          source: source, metadataColumns: columns, items: items))
    }
    for list in lists {
      #expect(String(decoding: list.jsonBytes(), as: UTF8.self) == (try contract(list)))
    }
  }

  @Test func inferResponsesAreTheContractsBytes() throws {
    let outputs = [
      V2.OutputTensor(
        name: "probability", shape: [Self.doubles.count], datatype: "FP64", data: Self.doubles.map { .number($0) }),
      V2.OutputTensor(
        name: "decision", shape: [Self.awkward.count], datatype: "BYTES", data: Self.awkward.map { .text($0) }),
      V2.OutputTensor(
        name: "mixed", shape: [2, 2], datatype: "BYTES",
        data: [.nested([.flag(true), .number(1.5)]), .nested([.flag(false), .nested([.text("x")])])]),
      V2.OutputTensor(name: "empty", shape: [0], datatype: "FP32", data: []),
    ]
    for id in [nil, "", "req-1", "q\"uote"] {
      let response = V2.InferResponse(modelName: "churn", modelVersion: "3", id: id, outputs: outputs)
      #expect(String(decoding: response.jsonBytes(), as: UTF8.self) == (try contract(response)))
    }
  }

  /// A number JSON cannot hold is `null` in the writer (the encoder refuses the whole value).
  @Test func aNonFiniteNumberIsNull() {
    var w = JSONWriter()
    V2.Value.nested([.number(.nan), .number(.infinity), .number(2)]).writeJSON(to: &w)
    #expect(String(decoding: w.finish(), as: UTF8.self) == "[null,null,2]")
  }

  @Test func requestIDsAreUniqueAndShort() {
    let ids = RequestIDs()
    let made = (0..<1000).map { _ in ids.next() }
    #expect(Set(made).count == 1000)
    #expect(made.allSatisfy { $0.utf8.count <= 20 && $0.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F } })
    #expect(RequestIDs().next() != ids.next())
  }

  @Test func millisecondsHaveThreeDecimals() {
    #expect(millisecondsText(.microseconds(12_345)) == "12.345")
    #expect(millisecondsText(.microseconds(5)) == "0.005")
    #expect(millisecondsText(.microseconds(70)) == "0.070")
    #expect(millisecondsText(.seconds(2)) == "2000.000")
    #expect(millisecondsText(.zero) == "0.000")
  }

  @Test func logTimestampsAreUTCWithMilliseconds() throws {
    var line: [UInt8] = []
    StandardErrorLog.timestamp(into: &line)
    let text = String(decoding: line, as: UTF8.self)
    #expect(text.utf8.count == 24)
    #expect(text.hasSuffix("Z"))
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    let date = try #require(formatter.date(from: text))
    #expect(abs(date.timeIntervalSinceNow) < 5)
  }
}
