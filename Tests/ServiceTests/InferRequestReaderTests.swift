import Foundation
import Testing

@testable import Service

/// The one-pass infer request reader: the same value as JSONDecoder for every body it accepts, nil for every body
/// it leaves to JSONDecoder.
@Suite struct InferRequestReaderTests {
  func fast(_ json: String) -> V2.InferRequest? {
    Array(json.utf8).withUnsafeBytes { V2.readInferRequest($0) }
  }

  func fast(bytes: [UInt8]) -> V2.InferRequest? { bytes.withUnsafeBytes { V2.readInferRequest($0) } }

  func slow(_ json: String) -> V2.InferRequest? {
    try? JSONDecoder().decode(V2.InferRequest.self, from: Data(json.utf8))
  }

  /// A request in one canonical text (sorted keys), to compare two readings.
  func canonical(_ r: V2.InferRequest) -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys]
    return String(decoding: (try? e.encode(r)) ?? Data(), as: UTF8.self)
  }

  func agrees(_ json: String) {
    let a = fast(json)
    let b = slow(json)
    #expect(a != nil, "declined: \(json)")
    #expect(b != nil, "JSONDecoder refused: \(json)")
    if let a, let b { #expect(canonical(a) == canonical(b), "\(json)") }
  }

  @Test func readsAKnownBody() throws {
    let r = try #require(
      fast(
        #"{"id": "req-7", "parameters": {"n": 3, "reasons": true, "tag": "x"}, "inputs": [{"name": "user_id", "shape": [3], "datatype": "BYTES", "data": ["A-1", "B-2", "stranger"]}, {"name": "tenure", "shape": [1, 2], "datatype": "FP64", "parameters": {"content_type": "np"}, "data": [[1.5, -2e3]]}]}"#
      ))
    #expect(r.id == "req-7")
    #expect(r.parameters == ["n": .number(3), "reasons": .flag(true), "tag": .text("x")])
    #expect(r.inputs.count == 2)
    #expect(r.inputs[0].name == "user_id" && r.inputs[0].shape == [3] && r.inputs[0].datatype == "BYTES")
    #expect(r.inputs[0].data == [.text("A-1"), .text("B-2"), .text("stranger")])
    #expect(r.inputs[0].parameters == nil)
    #expect(r.inputs[1].shape == [1, 2] && r.inputs[1].parameters == ["content_type": .text("np")])
    #expect(r.inputs[1].data == [.nested([.number(1.5), .number(-2000)])])
  }

  @Test func agreesWithJSONDecoderOnTheBodiesClientsSend() {
    let bodies = [
      #"{"inputs": []}"#,
      #"  {  "inputs" : [ ] }  "#,
      "{\n\t\"inputs\":\r\n[{\"name\":\"a\",\"shape\":[2],\"datatype\":\"FP64\",\"data\":[1,2]}]\n}\n",
      #"{"inputs": [{"name": "a", "shape": [4], "datatype": "FP64", "data": [-0, 0.5, 1e2, 1.25E-3]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [3], "datatype": "FP64", "data": [123456789012345678901234567890, 1.7976931348623157e308, 2.2250738585072014e-308]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [2], "datatype": "FP64", "data": [0.1, 0.30000000000000004]}]}"#,
      #"{"inputs": [{"name": "b", "shape": [2], "datatype": "BOOL", "data": [true, false]}]}"#,
      #"{"inputs": [{"name": "m", "shape": [3], "datatype": "BYTES", "data": ["x", 2, true]}]}"#,
      #"{"inputs": [{"name": "n", "shape": [2, 2], "datatype": "FP32", "data": [[1, 2], [3, [4]]]}]}"#,
      #"{"inputs": [{"name": "s", "shape": [4], "datatype": "BYTES", "data": ["\"q\" \\ \/ \b\f\n\r\t", "caf\u00e9", "😀 \ud83d\ude00", "Grüße, 東京"]}]}"#,
      #"{"inputs": [{"name": "s", "shape": [1], "datatype": "BYTES", "data": ["\u0000\u001f"]}]}"#,
      #"{"id": null, "parameters": null, "inputs": [{"name": "a", "shape": [0], "datatype": "FP64", "parameters": null, "data": null}]}"#,
      #"{"id": "", "inputs": [{"name": "", "shape": [], "datatype": "", "data": []}]}"#,
      #"{"inputs": [{"name": "a", "shape": [-1, 0, 8999999999999999], "datatype": "X", "data": [1]}]}"#,
      #"{"extra": {"deep": [1, {"x": null}, "s", true], "n": null}, "inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "unknown": [[], {}], "data": [3]}], "outputs": [{"name": "p"}]}"#,
      #"{"inputs": [{"data": ["later"], "datatype": "BYTES", "shape": [1], "name": "a"}], "id": "last"}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "datatype": "BYTES", "data": ["x"]}, {"name": "b", "shape": [1], "datatype": "FP64", "data": [2]}]}"#,
      #"{"parameters": {"n": 10, "f": 0.5, "s": "text", "b": false, "list": [1, "two"]}, "inputs": []}"#,
      #"{"inputs": [{"name": "k\u0065y", "shape": [1], "datatype": "BYTES", "data": ["v"]}], "\u0069d": "escaped key"}"#,
    ]
    for body in bodies { agrees(body) }
  }

  @Test func agreesWithJSONDecoderOnGeneratedBodies() {
    var rng = SplitMix(seed: 20_261_204)
    for _ in 0..<400 {
      let body = generatedBody(&rng)
      agrees(body)
    }
  }

  @Test func leavesEverythingElseToJSONDecoder() {
    let declined: [String] = [
      "", " ", "null", "[]", #""inputs""#, "{", "{}", #"{"inputs": null}"#, #"{"inputs": {}}"#,
      #"{"inputs": [],}"#, #"{"inputs": []} x"#, #"{'inputs': []}"#, #"{"inputs": [] "id": "x"}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64"}, ]}"#,
      #"{"inputs": [{"shape": [1], "datatype": "FP64", "data": [1]}]}"#,
      #"{"inputs": [{"name": "a", "datatype": "FP64", "data": [1]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "data": [1]}]}"#,
      #"{"inputs": [{"name": 1, "shape": [1], "datatype": "FP64", "data": [1]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1.0], "datatype": "FP64", "data": [1]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1e1], "datatype": "FP64", "data": [1]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [10000000000000000], "datatype": "FP64", "data": [1]}]}"#,
      #"{"inputs": [{"name": "a", "shape": "1", "datatype": "FP64", "data": [1]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [null]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [{}]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": 1}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [01]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [1.]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [.5]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [+1]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [-]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [1e]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [NaN]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [1e400]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [1e-400]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [tru]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "datatype": "BYTES", "data": ["\ud800"]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "datatype": "BYTES", "data": ["\udc00"]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "datatype": "BYTES", "data": ["\ud800\u0041"]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "datatype": "BYTES", "data": ["\x"]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "datatype": "BYTES", "data": ["\u12"]}]}"#,
      #"{"inputs": [{"name": "a", "shape": [1], "datatype": "BYTES", "data": ["open]}]}"#,
      "{\"inputs\": [{\"name\": \"a\", \"shape\": [1], \"datatype\": \"BYTES\", \"data\": [\"tab\there\"]}]}",
      #"{"inputs": [], "inputs": []}"#,
      #"{"id": "a", "id": "b", "inputs": []}"#,
      #"{"inputs": [{"name": "a", "name": "b", "shape": [1], "datatype": "FP64", "data": [1]}]}"#,
      #"{"id": 7, "inputs": []}"#,
      #"{"parameters": {"n": null}, "inputs": []}"#,
      #"{"parameters": [], "inputs": []}"#,
      "\u{FEFF}{\"inputs\": []}",
      #"{"x": "#, #"{"x": nul, "inputs": []}"#,
    ]
    for body in declined { #expect(fast(body) == nil, "accepted: \(body)") }
    // Invalid UTF-8 in a string, in a key and in a skipped member.
    let valid = Array(#"{"inputs": [{"name": "a", "shape": [1], "datatype": "BYTES", "data": ["xy"]}]}"#.utf8)
    #expect(fast(bytes: valid) != nil)
    for bad: [UInt8] in [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80]] {
      var body = valid
      let at = body.firstIndex(of: UInt8(ascii: "x"))!
      body.replaceSubrange(at..<(at + 1), with: bad)
      #expect(fast(bytes: body) == nil, "accepted \(bad)")
    }
    // Nesting beyond 64 levels (the body, inputs, the input and its data are four), in data and in a skipped member:
    // declined, without exhausting the stack.
    let deep = String(repeating: "[", count: 100_000)
    #expect(fast(#"{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": \#(deep)"#) == nil)
    #expect(fast(#"{"skip": \#(deep)"#) == nil)
    let nested = String(repeating: "[", count: 58) + "1" + String(repeating: "]", count: 58)
    agrees(#"{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [\#(nested)]}]}"#)
  }

  /// A random body: ids and names with escapes and non-ASCII text, numbers in every JSON form, nested data,
  /// unknown members, random spacing and member order.
  func generatedBody(_ rng: inout SplitMix) -> String {
    func space(_ rng: inout SplitMix) -> String { ["", " ", "\n", "\t ", "\r\n  "][rng.below(5)] }
    func text(_ rng: inout SplitMix) -> String {
      let pieces = ["a", "Z", "0", "-", "é", "東", "😀", "\\\"", "\\\\", "\\n", "\\u00e9", "\\ud83d\\ude00", "\\/", " "]
      return "\"" + (0..<rng.below(6)).map { _ in pieces[rng.below(pieces.count)] }.joined() + "\""
    }
    func number(_ rng: inout SplitMix) -> String {
      switch rng.below(6) {
      case 0: return String(rng.below(1000) - 500)
      case 1: return String(Double(rng.below(1_000_000)) / 1000)
      case 2: return "\(rng.below(9) + 1).\(rng.below(1000))e\(["", "+", "-"][rng.below(3)])\(rng.below(300))"
      case 3: return "-0.\(String(repeating: "0", count: rng.below(5)))\(rng.below(99) + 1)"
      case 4: return "\(Double(bitPattern: 0x3FF0_0000_0000_0000 | UInt64(rng.below(1 << 30)) << 20))"
      default: return "\(rng.below(1 << 30))E\(rng.below(20))"
      }
    }
    func value(_ rng: inout SplitMix, depth: Int) -> String {
      switch rng.below(depth > 2 ? 3 : 4) {
      case 0: return number(&rng)
      case 1: return text(&rng)
      case 2: return rng.below(2) == 0 ? "true" : "false"
      default:
        return "[" + (0..<rng.below(4)).map { _ in space(&rng) + value(&rng, depth: depth + 1) }.joined(separator: ",")
          + "]"
      }
    }
    func skipped(_ rng: inout SplitMix) -> String {
      ["null", "{}", "{\"k\": [null, {\"z\": 1}]}", "[]", "\"s\"", "12.5"][rng.below(6)]
    }
    func object(_ members: [String], _ rng: inout SplitMix) -> String {
      var m = members
      for i in stride(from: m.count - 1, to: 0, by: -1) { m.swapAt(i, rng.below(i + 1)) }
      return "{" + space(&rng) + m.joined(separator: "," + space(&rng)) + space(&rng) + "}"
    }
    func input(_ rng: inout SplitMix) -> String {
      let datatype = ["BYTES", "FP64", "FP32", "INT64", "BOOL"][rng.below(5)]
      let n = rng.below(6)
      let data: String
      switch datatype {
      case "BYTES": data = (0..<n).map { _ in text(&rng) }.joined(separator: ",")
      case "BOOL": data = (0..<n).map { _ in rng.below(2) == 0 ? "true" : "false" }.joined(separator: ",")
      default:
        data = (0..<n).map { _ in rng.below(8) == 0 ? value(&rng, depth: 0) : number(&rng) }.joined(separator: ",")
      }
      var members = [
        "\"name\":\(space(&rng))\(text(&rng))", "\"shape\": [\(n)]", "\"datatype\": \"\(datatype)\"",
        "\"data\": [\(data)]",
      ]
      if rng.below(3) == 0 {
        members.append("\"parameters\": {\"content_type\": \(text(&rng)), \"x\": \(number(&rng))}")
      }
      if rng.below(4) == 0 { members.append("\"unknown\": \(skipped(&rng))") }
      return object(members, &rng)
    }
    var members = ["\"inputs\": [" + (0..<rng.below(4)).map { _ in input(&rng) }.joined(separator: ", ") + "]"]
    if rng.below(2) == 0 { members.append("\"id\": \(rng.below(5) == 0 ? "null" : text(&rng))") }
    if rng.below(2) == 0 { members.append("\"parameters\": {\"n\": \(rng.below(50)), \"flag\": true}") }
    if rng.below(3) == 0 { members.append("\"outputs\": \(skipped(&rng))") }
    return space(&rng) + object(members, &rng) + space(&rng)
  }
}

/// SplitMix64: a small seeded generator for the generated bodies.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
