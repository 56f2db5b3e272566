import Foundation

/// A problem with tabular input or output, placed as `file:line:column` where it is known.
///
/// The description reads like a compiler diagnostic:
/// ```
/// customers.csv:12:31: column 'MonthlyCharges': expected a number, found "abc"
/// ```
public struct TabularError: Error, CustomStringConvertible, Equatable, Sendable {
  /// What went wrong, broadly; callers use it to decide whether to skip a row or stop.
  public enum Kind: Sendable, Equatable {
    /// The file could not be opened, read or written.
    case io
    /// The file has no header line (or, for NDJSON, no line at all).
    case empty
    /// A record is malformed: wrong number of fields, bad quoting, invalid UTF-8, a line too long.
    case malformedRecord
    /// A field's value is not of the expected type (a word in a numeric column, a bad timestamp).
    case badValue
    /// The header lacks a column that was asked for, or names one twice.
    case schema
    /// A `--map` argument is not of the form `logical=column,...`.
    case usage
  }

  /// The broad kind of problem.
  public let kind: Kind
  /// The file's path as given, or `<stdin>`.
  public let file: String
  /// 1-based line number, when the problem has a place.
  public let line: Int?
  /// 1-based byte column within the line, when the problem has a place.
  public let column: Int?
  /// What is wrong and what was expected.
  public let message: String
  /// The precise cause, for the few a caller acts on (e.g. a reader of one byte range of a file, for which
  /// an unclosed quote means the range started inside a quoted field).
  public let cause: Cause?

  /// Causes a caller can tell apart without reading the message.
  public enum Cause: Sendable, Equatable {
    /// A quoted field runs to the end of the input without its closing quote.
    case unterminatedQuote
  }

  /// Creates an error; `line` and `column` are 1-based.
  public init(
    _ kind: Kind, file: String, line: Int? = nil, column: Int? = nil, _ message: String, cause: Cause? = nil
  ) {
    self.kind = kind
    self.file = file
    self.line = line
    self.column = column
    self.message = message
    self.cause = cause
  }

  /// `file:line:column: message`, leaving out the parts that are not known.
  public var description: String {
    var place = file
    if let line {
      place += ":\(line)"
      if let column { place += ":\(column)" }
    }
    return "\(place): \(message)"
  }
}

/// Text for a field's bytes in an error message: quoted, with non-printable and non-UTF-8 bytes escaped,
/// and cut at 40 bytes.
public func quotedForMessage(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
  var out = "\""
  var shown = 0
  var i = 0
  let text = Array(bytes.prefix(40))
  let decoded = String(validating: text, as: UTF8.self)
  if let decoded {
    for scalar in decoded.unicodeScalars {
      if scalar.value < 0x20 || scalar.value == 0x7F {
        out += String(format: "\\x%02X", scalar.value)
      } else if scalar == "\"" {
        out += "\\\""
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
    shown = text.count
  } else {
    while i < text.count {
      let b = text[i]
      if b >= 0x20 && b < 0x7F && b != UInt8(ascii: "\"") {
        out.unicodeScalars.append(Unicode.Scalar(b))
      } else {
        out += String(format: "\\x%02X", b)
      }
      i += 1
    }
    shown = text.count
  }
  out += "\""
  if bytes.count > shown { out += "…" }
  return out
}
