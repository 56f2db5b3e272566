import ArgumentParser
import Foundation

/// How a command prints a table of results.
public enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
  /// Aligned columns for people.
  case table
  /// RFC 4180 CSV with a header line.
  case csv
  /// A JSON array of objects, one per row, numbers as numbers.
  case json
}

/// The `--format table|csv|json` option.
public struct FormatOptions: ParsableArguments {
  @Option(name: .long, help: "Output format: table, csv or json.")
  public var format: OutputFormat = .table

  public init() {}
}

/// One cell of an output table.
public enum Cell: Equatable, Sendable {
  case text(String)
  case integer(Int)
  /// A number shown with `decimals` digits in tables and CSV, in full in JSON.
  case number(Double, decimals: Int)
  case bool(Bool)
  /// An empty cell (`null` in JSON).
  case missing

  var plain: String {
    switch self {
    case .text(let s): return s
    case .integer(let i): return String(i)
    case .number(let x, let decimals): return x.isFinite ? String(format: "%.\(decimals)f", x) : "\(x)"
    case .bool(let b): return b ? "yes" : "no"
    case .missing: return ""
    }
  }

  var json: String {
    switch self {
    case .text(let s): return jsonString(s)
    case .integer(let i): return String(i)
    case .number(let x, _): return x.isFinite ? "\(x)" : "null"
    case .bool(let b): return b ? "true" : "false"
    case .missing: return "null"
    }
  }

  var isNumeric: Bool {
    switch self {
    case .integer, .number: return true
    default: return false
    }
  }
}

/// A JSON string literal for `s`.
func jsonString(_ s: String) -> String {
  var out = "\""
  for scalar in s.unicodeScalars {
    switch scalar {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    case "\r": out += "\\r"
    case "\t": out += "\\t"
    default:
      if scalar.value < 0x20 {
        out += String(format: "\\u%04x", scalar.value)
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
  }
  return out + "\""
}

/// A table of results: named columns and rows of cells, rendered as aligned text, CSV or JSON.
public struct OutputTable: Equatable, Sendable {
  /// The column names (also the JSON keys).
  public var columns: [String]
  /// The rows; each has one cell per column.
  public var rows: [[Cell]]

  /// A table with `columns` and no rows yet.
  public init(columns: [String], rows: [[Cell]] = []) {
    self.columns = columns
    self.rows = rows
  }

  /// The most characters a table cell shows.
  public static let maximumCellWidth = 96

  /// `text` as a table shows it: line breaks and tabs as spaces, and cut to `maximumCellWidth` characters with an
  /// ellipsis when longer.
  static func shortened(_ text: String) -> String {
    func shown(_ c: Character) -> Character { c.isNewline || c == "\t" ? " " : c }
    var out = ""
    var index = text.startIndex
    var count = 0
    while index < text.endIndex {
      let next = text.index(after: index)
      if count == maximumCellWidth - 1 && next != text.endIndex { return out + "…" }
      out.append(shown(text[index]))
      count += 1
      index = next
    }
    return out
  }

  /// Renders the table; the text ends with a newline (an empty JSON array is `[]`).
  public func render(_ format: OutputFormat) -> String {
    switch format {
    case .table:
      // Overlong cells are shortened with an ellipsis (CSV and JSON keep them whole), and every step is linear in
      // the cell's length: a 1 MB value prints as quickly as a short one.
      let header = columns.map(OutputTable.shortened)
      let body = rows.map { $0.map { OutputTable.shortened($0.plain) } }
      var widths = header.map(\.count)
      for row in body { for (i, text) in row.enumerated() { widths[i] = max(widths[i], text.count) } }
      let numericColumn = columns.indices.map { i in
        !rows.isEmpty && rows.allSatisfy { $0[i].isNumeric || $0[i] == .missing }
      }
      func line(_ cells: [String]) -> String {
        var out = ""
        for (i, text) in cells.enumerated() {
          if i > 0 { out += "  " }
          let pad = String(repeating: " ", count: widths[i] - text.count)
          out += numericColumn[i] ? pad + text : text + pad
        }
        while let last = out.unicodeScalars.last, last.properties.isWhitespace { out.unicodeScalars.removeLast() }
        return out
      }
      var out = line(header) + "\n"
      for row in body { out += line(row) + "\n" }
      return out
    case .csv:
      func field(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
          ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
      }
      var out = columns.map(field).joined(separator: ",") + "\n"
      for row in rows { out += row.map { field($0.plain) }.joined(separator: ",") + "\n" }
      return out
    case .json:
      if rows.isEmpty { return "[]\n" }
      let objects = rows.map { row in
        "  {" + zip(columns, row).map { "\(jsonString($0)): \($1.json)" }.joined(separator: ", ") + "}"
      }
      return "[\n" + objects.joined(separator: ",\n") + "\n]\n"
    }
  }
}
