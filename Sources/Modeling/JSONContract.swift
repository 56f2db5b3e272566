import Foundation

/// The one JSON encoding of results: every app's `--format json` and every HTTP body write their `Codable` values
/// through it (snake_case keys declared by the types, keys sorted, so that the same value prints the same bytes).
public enum JSONContract {
  /// An encoder of the contract; `pretty` indents (the command line), otherwise one line (HTTP bodies).
  public static func encoder(pretty: Bool) -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting =
      pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    encoder.nonConformingFloatEncodingStrategy = .throw
    return encoder
  }

  /// `value` as contract JSON text, ending with a newline when `pretty`.
  public static func text<T: Encodable>(_ value: T, pretty: Bool = true) throws -> String {
    String(decoding: try encoder(pretty: pretty).encode(value), as: UTF8.self) + (pretty ? "\n" : "")
  }
}
