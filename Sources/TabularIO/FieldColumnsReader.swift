/// Records given column by column as field texts — a tensor per field, as an Open Inference Protocol request holds
/// them — served as a `RecordReader`, so that they are validated exactly as a file's lines are.
///
/// A column that is `nil` (not given) or a value that is `nil` is an absent field. A record's `line` is its 1-based
/// position; `place(ofField:)` gives that and column 1.
public final class FieldColumnsReader: RecordReader {
  public let header: Header
  public let fileName: String
  public private(set) var line = 0
  public var skippedBytesSink: ((UnsafeBufferPointer<UInt8>) -> Void)? = nil
  /// Not kept (always that of no bytes).
  public var fingerprint: DataFingerprint { DataFingerprint(XXHash64()) }
  public var fieldCount: Int { header.names.count }
  public var hasBufferedLine: Bool { true }
  /// The number of records.
  public let count: Int
  /// Every field's bytes in one block, and per column and row its start and end (-1 for absent).
  private let storage: UnsafeMutablePointer<UInt8>
  private let starts: [Int]
  private let ends: [Int]

  /// Records of `count` rows; `values[column]` holds each row's field text (or nil for an absent one).
  /// - Precondition: every column given holds `count` values.
  public init(columns: [String], values: [[[UInt8]?]?], count: Int, name: String = "request") {
    precondition(values.count == columns.count && values.allSatisfy { ($0?.count ?? count) == count })
    header = Header(columns)
    self.count = count
    fileName = name
    var total = 0
    for column in values { for v in column ?? [] { total += v?.count ?? 0 } }
    let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, total))
    self.storage = storage
    var starts = [Int](repeating: -1, count: columns.count * count)
    var ends = starts
    var at = 0
    for (c, column) in values.enumerated() {
      guard let column else { continue }
      for (row, v) in column.enumerated() {
        guard let v else { continue }
        v.withUnsafeBufferPointer { b in
          if let base = b.baseAddress { (storage + at).initialize(from: base, count: b.count) }
        }
        starts[row * columns.count + c] = at
        at += v.count
        ends[row * columns.count + c] = at
      }
    }
    self.starts = starts
    self.ends = ends
  }

  deinit { storage.deallocate() }

  public func next() throws(TabularError) -> Bool {
    guard line < count else { return false }
    line += 1
    return true
  }

  public func fieldBytes(_ index: Int) -> UnsafeBufferPointer<UInt8>? {
    guard line >= 1, index >= 0, index < header.names.count else { return nil }
    let k = (line - 1) * header.names.count + index
    guard starts[k] >= 0 else { return nil }
    return UnsafeBufferPointer(start: storage + starts[k], count: ends[k] - starts[k])
  }

  public func place(ofField index: Int) -> (line: Int, column: Int) { (line, 1) }

  public func withRawRecord<R>(_ body: (UnsafeBufferPointer<UInt8>?) throws -> R) rethrows -> R { try body(nil) }
}
