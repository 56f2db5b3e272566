import Charts
import Foundation
import Modeling
import TabularIO

/// Writes a report page as one HTML file, atomically.
public func writeReport(_ page: Page, to path: String) throws { try writeAtomically(page.render(), to: path) }

/// Writes `text` to `path` atomically (a temporary file renamed into place): a reader sees the old file or the
/// whole new one.
public func writeAtomically(_ text: String, to path: String) throws {
  do {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
  } catch {
    throw CommerceError(.usage, "cannot write \(path): \(error.localizedDescription)")
  }
}

/// A value as the JSON the text commands print: snake_case keys, sorted, indented, infinities as strings.
public func jsonText<T: Encodable>(_ value: T) throws -> String {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
  encoder.keyEncodingStrategy = .convertToSnakeCase
  encoder.nonConformingFloatEncodingStrategy = .convertToString(
    positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
  return String(decoding: try encoder.encode(value), as: UTF8.self)
}
