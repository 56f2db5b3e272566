/// A file's column names with lookup by name.
public struct Header: Sendable, Equatable {
  /// The names, in field order.
  public let names: [String]
  private let positions: [String: Int]
  /// Names that occur more than once.
  public let duplicates: [String]

  /// A header over `names`; duplicated names are recorded, not rejected, so that only a lookup of
  /// an ambiguous name fails.
  public init(_ names: [String]) {
    self.names = names
    var positions: [String: Int] = [:]
    var duplicates: [String] = []
    for (i, name) in names.enumerated() {
      if positions[name] == nil { positions[name] = i } else if !duplicates.contains(name) { duplicates.append(name) }
    }
    self.positions = positions
    self.duplicates = duplicates
  }

  /// The position of column `name`, or `nil` when absent.
  public func index(of name: String) -> Int? { positions[name] }

  /// The position of column `name`.
  /// - Parameters:
  ///   - role: what the column is for, in the message (e.g. `"--user-column"`).
  ///   - file: the file name for the message.
  /// - Throws: `.schema` listing the columns that exist when `name` is absent, or when it is duplicated.
  public func require(_ name: String, role: String? = nil, file: String) throws(TabularError) -> Int {
    if duplicates.contains(name) {
      throw TabularError(
        .schema, file: file, line: 1, "column '\(Header.shown(name))' appears more than once in the header")
    }
    guard let i = positions[name] else {
      let what = role.map { "\($0) column '\(Header.shown(name))'" } ?? "column '\(Header.shown(name))'"
      throw TabularError(
        .schema, file: file, line: 1,
        "no \(what) in the header; the columns are: \(names.map { "'\(Header.shown($0))'" }.joined(separator: ", "))")
    }
    return i
  }

  /// Throws `.schema` when any column name is duplicated (for readers that use every column).
  public func requireUniqueNames(file: String) throws(TabularError) {
    if let first = duplicates.first {
      throw TabularError(
        .schema, file: file, line: 1, "column '\(Header.shown(first))' appears more than once in the header")
    }
  }
}

/// A mapping from the logical fields an application knows (`card`, `amount`) to a file's column names,
/// parsed from the `--map logical=column,...` syntax.
public struct ColumnMapping: Sendable, Equatable {
  /// Logical name → column name, for the fields that were mapped.
  public private(set) var columns: [String: String]

  /// The identity mapping: every logical field is read from the column of the same name.
  public init() { columns = [:] }

  /// Parses `logical=column,logical=column`.
  ///
  /// Column names may not contain `,` or `=`. Spaces around names are trimmed.
  /// - Parameters:
  ///   - allowed: the logical names the application knows; others are rejected.
  ///   - source: where the text came from, named in errors (the option or request field that gave it).
  /// - Throws: `.usage` for an entry without `=`, an empty name, an unknown or repeated logical name.
  public init(parsing text: String, allowed: [String], source: String) throws(TabularError) {
    columns = [:]
    for entry in text.split(separator: ",", omittingEmptySubsequences: false) {
      let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let trim: (Substring) -> String = { String($0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
      guard parts.count == 2 else {
        throw TabularError(.usage, file: source, "'\(entry)' is not of the form logical=column")
      }
      let logical = trim(parts[0])
      let column = trim(parts[1])
      guard !logical.isEmpty, !column.isEmpty else {
        throw TabularError(.usage, file: source, "'\(entry)' has an empty name; expected logical=column")
      }
      guard allowed.contains(logical) else {
        throw TabularError(
          .usage, file: source,
          "unknown field '\(logical)'; the fields are: \(allowed.joined(separator: ", "))")
      }
      guard columns[logical] == nil else {
        throw TabularError(.usage, file: source, "field '\(logical)' is mapped twice")
      }
      columns[logical] = column
    }
  }

  /// The column name for `logical` (itself when not mapped).
  public func column(for logical: String) -> String { columns[logical] ?? logical }

  /// Positions of the logical fields in `header`.
  /// - Returns: logical name → field position; optional fields absent from the header are left out.
  /// - Throws: `.schema` naming the missing required field and the columns that exist.
  public func resolve(
    required: [String], optional: [String] = [], in header: Header, file: String
  ) throws(TabularError) -> [String: Int] {
    var result: [String: Int] = [:]
    for logical in required {
      let name = column(for: logical)
      let role = name == logical ? nil : "'\(logical)' (mapped to)"
      result[logical] = try header.require(name, role: role, file: file)
    }
    for logical in optional {
      let name = column(for: logical)
      if header.index(of: name) != nil {
        result[logical] = try header.require(name, file: file)
      } else if columns[logical] != nil {
        // Asked for by name: a mapped optional field must exist.
        result[logical] = try header.require(name, role: "'\(logical)' (mapped to)", file: file)
      }
    }
    return result
  }
}

extension Header {
  /// A column name as messages show it: control characters as `\xNN`, so a hostile header cannot move the
  /// terminal's cursor or hide text.
  public static func shown(_ name: String) -> String {
    var out = ""
    for scalar in name.unicodeScalars {
      if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) {
        let hex = Array("0123456789ABCDEF")
        out += "\\x" + String(hex[Int(scalar.value >> 4)]) + String(hex[Int(scalar.value & 15)])
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
    return out
  }
}
