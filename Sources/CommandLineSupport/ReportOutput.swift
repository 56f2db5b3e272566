import Charts
import Foundation
import Modeling
import TabularIO

/// Writes a report page as one HTML file, atomically (a temporary file renamed into place; a signal removes it).
public func writeReport(_ page: Page, to path: String) throws {
  let html = page.render()
  let url = URL(fileURLWithPath: path)
  do {
    try Data(html.utf8).write(to: url, options: .atomic)
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
