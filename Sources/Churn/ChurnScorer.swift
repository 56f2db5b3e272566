import Foundation
import TabularIO

/// What a scoring run did.
public struct ScoreSummary: Sendable {
  public var rows = 0
  public var predictedChurners = 0
  public var skippedRows = 0
  /// Column → count of values never seen in training (scored as the reference level).
  public var unseenLevels: [String: Int] = [:]
}

/// Streams a customer CSV through a model in constant memory: one record in, one line out.
public enum ChurnScorer {
  /// Scores `input`, writing `id,churn_probability,churn,decile,reasons` to `writer`.
  ///
  /// - Parameters:
  ///   - reasons: how many reasons per customer (the largest positive contributions to the log-odds,
  ///     summed over the features of each input column); 0 for none.
  ///   - threshold: overrides the model's decision threshold.
  ///   - skipBadRows: skip (and count) rows with a bad value instead of stopping.
  ///   - onRow: called with each probability and label when the file has the target (for `evaluate`).
  /// - Throws: before any output, when the file lacks a model column; `TabularError` for a bad row.
  public static func score(
    model: ChurnModel, input: CSVReader, writer: CSVWriter?, reasons: Int, threshold: Double? = nil,
    skipBadRows: Bool = false, onRow: ((Double, Bool?) -> Void)? = nil
  ) throws -> ScoreSummary {
    let header = input.header
    try header.requireUniqueNames(file: input.fileName)
    var positions: [Int] = []
    var missingColumns: [String] = []
    for spec in model.columns {
      if let i = header.index(of: spec.name) { positions.append(i) } else { missingColumns.append(spec.name) }
    }
    guard missingColumns.isEmpty else {
      throw TabularError(
        .schema, file: input.fileName, line: 1,
        "the model needs column\(missingColumns.count > 1 ? "s" : "") \(missingColumns.map { "'\($0)'" }.joined(separator: ", ")), missing from the header; the columns are: \(header.names.map { "'\($0)'" }.joined(separator: ", "))"
      )
    }
    let idIndex = model.idColumn.flatMap { header.index(of: $0) }
    let targetIndex = header.index(of: model.target)
    let positiveBytes = Array(model.positive.utf8)
    let encoder = FeatureEncoder(columns: model.columns, features: model.features)
    let cut = threshold ?? model.threshold
    let f = model.features.count
    let raw = UnsafeMutablePointer<Double>.allocate(capacity: max(f, 1))
    defer { raw.deallocate() }
    var perColumn = [Double](repeating: 0, count: model.columns.count)
    var unseen = [Int](repeating: 0, count: model.columns.count)
    var summary = ScoreSummary()
    var order = Array(0..<model.columns.count)
    if let writer {
      try writer.writeRow([model.idColumn ?? "row", "churn_probability", "churn", "decile", "reasons"])
    }
    var rowNumber = 0
    while true {
      let advanced: Result<Bool, TabularError> = Result { () throws(TabularError) in try input.next() }
      if case .failure(let error) = advanced {
        guard skipBadRows, error.kind == .malformedRecord else { throw error }
        summary.skippedRows += 1
        continue
      }
      guard case .success(true) = advanced else { break }
      rowNumber += 1
      var bad: TabularError? = nil
      for (k, c) in positions.enumerated() {
        switch encoder.encode(column: k, field: input.fieldBytes(c), into: raw) {
        case .ok: break
        case .unseenLevel: unseen[k] += 1
        case .bad(let expected):
          bad = input.error(atField: c, "expected \(expected), found \(quoted(input.fieldBytes(c)!))")
        }
        if bad != nil { break }
      }
      if let bad {
        if skipBadRows {
          summary.skippedRows += 1
          continue
        }
        throw bad
      }
      let eta = model.logOdds(raw)
      let p = eta >= 0 ? 1 / (1 + exp(-eta)) : exp(eta) / (1 + exp(eta))
      if let onRow {
        var label: Bool? = nil
        if let targetIndex, let t = input.fieldBytes(targetIndex) {
          let (lo, hi) = FieldParser.trimmed(t)
          if lo < hi { label = FeatureEncoder.equal(UnsafeBufferPointer(rebasing: t[lo..<hi]), positiveBytes) }
        }
        onRow(p, label)
      }
      summary.rows += 1
      let churn = p >= cut
      if churn { summary.predictedChurners += 1 }
      guard let writer else { continue }
      if let idIndex, let id = input.fieldBytes(idIndex) {
        try writer.writeField(bytes: id)
      } else {
        try writer.writeField(rowNumber)
      }
      try writer.writeField(p, decimals: 6)
      try writer.writeField(churn ? 1 : 0)
      try writer.writeField(model.decile(p))
      if reasons > 0 {
        for k in perColumn.indices { perColumn[k] = 0 }
        for (k, feature) in model.features.enumerated() {
          perColumn[feature.column] += model.coefficients[k + 1] * (raw[k] - feature.mean) / feature.sd
        }
        order.sort { perColumn[$0] > perColumn[$1] }
        var text: [UInt8] = []
        var shown = 0
        for c in order where shown < reasons && perColumn[c] > 0.005 {
          if shown > 0 { text.append(contentsOf: "; ".utf8) }
          text.append(contentsOf: model.columns[c].name.utf8)
          text.append(UInt8(ascii: "="))
          if let field = input.fieldBytes(positions[c]) {
            let (lo, hi) = FieldParser.trimmed(field)
            if lo < hi { text.append(contentsOf: field[lo..<hi]) } else { text.append(contentsOf: "(missing)".utf8) }
          }
          text.append(contentsOf: String(format: " +%.2f", perColumn[c]).utf8)
          shown += 1
        }
        try text.withUnsafeBufferPointer { try writer.writeField(bytes: $0) }
      } else {
        try writer.writeEmptyField()
      }
      try writer.endRow()
    }
    for (k, count) in unseen.enumerated() where count > 0 { summary.unseenLevels[model.columns[k].name] = count }
    return summary
  }
}
