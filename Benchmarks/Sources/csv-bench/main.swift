// Reads a CSV with TabularIO the way an application does: every field of every record is typed
// (numbers parsed to Double, text validated as UTF-8), and prints the record count, a checksum and seconds.
// Usage: csv-bench FILE
import Foundation
import TabularIO

let path = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "data.csv"
let start = Date()
do {
  let reader = try CSVReader(path: path)
  let columns = reader.header.names.count
  var rows = 0
  var sum = 0.0
  var textBytes = 0
  // Decide each column's type from the first record, as schema inference would.
  var numeric = [Bool](repeating: true, count: columns)
  var first = true
  while try reader.next() {
    if first {
      for c in 0..<columns {
        numeric[c] = reader.withField(c) { b in
          guard let b else { return false }
          if case .invalid = FieldParser.parseDouble(b) { return false }
          return true
        }
      }
      first = false
    }
    for c in 0..<columns {
      if numeric[c] {
        sum += try reader.double(c) ?? 0
      } else {
        if let text = try reader.string(c) { textBytes += text.utf8.count }
      }
    }
    rows += 1
  }
  let seconds = Date().timeIntervalSince(start)
  print("rows=\(rows) sum=\(sum) text_bytes=\(textBytes) seconds=\(String(format: "%.3f", seconds))")
} catch {
  FileHandle.standardError.write(Data("csv-bench: \(error)\n".utf8))
  exit(1)
}
