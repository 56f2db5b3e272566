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

  /// Renders the table; the text ends with a newline (an empty JSON array is `[]`).
  public func render(_ format: OutputFormat) -> String {
    switch format {
    case .table:
      var widths = columns.map(\.count)
      for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.plain.count) } }
      let numericColumn = columns.indices.map { i in
        !rows.isEmpty && rows.allSatisfy { $0[i].isNumeric || $0[i] == .missing }
      }
      func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, text in
          let pad = String(repeating: " ", count: widths[i] - text.count)
          return numericColumn[i] ? pad + text : text + pad
        }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
      }
      var out = line(columns) + "\n"
      for row in rows { out += line(row.map(\.plain)) + "\n" }
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
