/// Column means and standard deviations of training data, to put features on a common scale:
///
/// ```
/// z = (x − mean) / scale
/// ```
///
/// The scale is the population standard deviation (divided by n, as scikit-learn's `StandardScaler`);
/// a column whose deviation is 0 (or tiny) gets the scale its `ConstantColumns` rule gives, so that
/// standardizing never divides by zero.
public struct Standardization: Sendable, Equatable {
  /// What scale a column with (near) zero deviation gets.
  public enum ConstantColumns: Sendable {
    /// Scale 1 when the deviation is exactly 0 (the column is only centered).
    case unitScale
    /// At least this scale (e.g. 1e-9).
    case minimumScale(Double)
  }

  /// The mean of each column.
  public var means: [Double]
  /// The scale of each column (standard deviation, or the constant-column rule's).
  public var scales: [Double]

  /// Fits the columns `columns` of `rowCount` rows stored row-major with `stride` values per row.
  ///
  /// Means and scales are indexed from 0 for `columns.lowerBound`. Sums run row by row in order, so the
  /// result is the same bit for bit on every run.
  /// - Complexity: two passes over the data, O(rowCount · columns.count).
  public init(
    rows: UnsafeBufferPointer<Double>, rowCount n: Int, stride: Int, columns: Range<Int>,
    constantColumns: ConstantColumns
  ) {
    let width = columns.count
    var means = [Double](repeating: 0, count: width)
    var variances = [Double](repeating: 0, count: width)
    if n > 0, let base = rows.baseAddress {
      precondition(rows.count >= n * stride && columns.upperBound <= stride, "rows do not hold the columns asked for")
      for i in 0..<n {
        let row = base + i * stride + columns.lowerBound
        for j in 0..<width { means[j] += row[j] }
      }
      for j in 0..<width { means[j] /= Double(n) }
      for i in 0..<n {
        let row = base + i * stride + columns.lowerBound
        for j in 0..<width {
          let dev = row[j] - means[j]
          variances[j] += dev * dev
        }
      }
    }
    let count = Double(max(n, 1))
    self.means = means
    self.scales = variances.map { v in
      let sd = (v / count).squareRoot()
      switch constantColumns {
      case .unitScale: return sd > 0 ? sd : 1
      case .minimumScale(let floor): return max(sd, floor)
      }
    }
  }

  /// `(x − mean) / scale` of column `k`.
  @inlinable
  public func standardized(_ x: Double, column k: Int) -> Double { (x - means[k]) / scales[k] }

  /// Standardizes the columns `columns` of `rowCount` row-major rows in place.
  public func apply(to rows: UnsafeMutableBufferPointer<Double>, rowCount n: Int, stride: Int, columns: Range<Int>) {
    guard n > 0, let base = rows.baseAddress else { return }
    precondition(columns.count == means.count, "one mean per column")
    for i in 0..<n {
      let row = base + i * stride + columns.lowerBound
      for j in 0..<columns.count { row[j] = (row[j] - means[j]) / scales[j] }
    }
  }
}
