import Foundation
import LinearAlgebra
import Modeling
import TabularIO

/// The training file as the fit sees it: the standardized design matrix (intercept first), the labels, and the
/// features left after dropping aliased ones.
struct EncodedTrainingData {
  var x: DesignMatrix
  var labels: [Bool]
  var features: [Feature]
  /// Features dropped as exact linear combinations of others.
  var aliasedNames: [String]
}

extension ChurnTrainer {
  /// The features of `specs`: a number or boolean as one, a category as one per level (and `other`), each with a
  /// missing indicator when the column had blanks.
  static func features(for specs: [ColumnSpec]) -> [Feature] {
    var features: [Feature] = []
    for (k, spec) in specs.enumerated() {
      switch spec.kind {
      case .numeric: features.append(Feature(name: spec.name, column: k, role: .value, mean: 0, sd: 1))
      case .boolean: features.append(Feature(name: spec.name, column: k, role: .isTrue, mean: 0, sd: 1))
      case .categorical:
        for (l, level) in spec.levels.enumerated() {
          features.append(Feature(name: "\(spec.name)=\(level)", column: k, role: .level(l), mean: 0, sd: 1))
        }
        if !spec.pooled.isEmpty {
          features.append(Feature(name: "\(spec.name)=other", column: k, role: .other, mean: 0, sd: 1))
        }
      }
      if spec.hasMissing {
        features.append(Feature(name: "\(spec.name) (missing)", column: k, role: .missing, mean: 0, sd: 1))
      }
    }
    return features
  }

  /// Pass 2: encodes the rows (both halves at once when pass 1 split the file), standardizes, drops aliased
  /// columns, and writes the design matrix when asked.
  static func encode(path: String, schema s: InferredSchema, options o: ChurnTrainingOptions) throws
    -> EncodedTrainingData
  {
    let (specs, specInput, targetIndex, positive) = (s.specs, s.specInput, s.targetIndex, s.positive)
    let (ranges, skip, row) = (s.ranges, s.skip, s.rows)
    var features = features(for: specs)
    let encoder = FeatureEncoder(columns: specs, features: features)
    let n = row - skip.count
    guard n > 0 else { throw CommerceError(.data, "\(path): every row was skipped") }
    let width = features.count + 1
    var design = [Double](repeating: 0, count: n * width)
    var labels = [Bool](repeating: false, count: n)
    let positiveBytes = Array(positive.utf8)
    let job = EncodeJob(
      encoder: encoder, specInput: specInput, targetIndex: targetIndex, positiveBytes: positiveBytes, skip: skip,
      width: width)
    try design.withUnsafeMutableBufferPointer { d in
      try labels.withUnsafeMutableBufferPointer { l in
        let target = UnsafeSendable((d.baseAddress!, l.baseAddress!))
        let split = ranges.map { r -> (Int, Int) in
          let firstRows = s.firstRangeRows ?? 0
          return (firstRows, firstRows - skip.lazy.filter { $0 < firstRows }.count)
        }
        if let ranges, let split, s.firstRangeRows != nil,
          try ranges.run({ r, second in
            let (rowOffset, outOffset) = second ? split : (0, 0)
            return try job.encode(r, firstSource: rowOffset, firstOut: outOffset, into: target.value)
          }) != nil
        {
          return
        }
        _ = try job.encode(
          try CSVReader(path: path, options: .unhashed), firstSource: 0, firstOut: 0, into: target.value)
      }
    }

    // Standardize every feature column (row-major passes: sums, then squared deviations, then scaling).
    design.withUnsafeMutableBufferPointer { d in
      let scaling = Standardization(
        rows: UnsafeBufferPointer(d), rowCount: n, stride: width, columns: 1..<width, constantColumns: .unitScale)
      for j in 1..<width {
        features[j - 1].mean = scaling.means[j - 1]
        features[j - 1].sd = scaling.scales[j - 1]
      }
      scaling.apply(to: d, rowCount: n, stride: width, columns: 1..<width)
    }
    var x = DesignMatrix(rows: n, columns: width, values: design)
    design = []

    // Aliased columns.
    let aliased = try LogisticRegression.aliasedColumns(x)
    let aliasedNames = aliased.map { features[$0 - 1].name }
    if !aliased.isEmpty {
      let keep = (0..<width).filter { !aliased.contains($0) }
      x.keepColumnsInPlace(keep)
      features = keep.dropFirst().map { features[$0 - 1] }
    }

    if let designPath = o.designMatrixPath {
      let w = try CSVWriter(path: designPath, bufferBytes: 1 << 20)
      w.writeRow(features.map(\.name) + [o.target])
      for i in 0..<n {
        for j in 1..<x.columns {
          w.writeField(x.values[i * x.columns + j] * features[j - 1].sd + features[j - 1].mean, decimals: 12)
        }
        w.writeField(labels[i] ? 1 : 0)
        w.endRow()
      }
      try w.finish()
    }
    return EncodedTrainingData(x: x, labels: labels, features: features, aliasedNames: aliasedNames)
  }
}
