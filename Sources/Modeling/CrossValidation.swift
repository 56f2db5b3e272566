/// K-fold cross-validation for any model family.
public enum CrossValidation {
  /// Out-of-fold predictions over stratified folds (`Splits.stratifiedKFold`): each row is predicted by a model
  /// fitted without its fold.
  ///
  /// - Parameter fitAndPredict: fits on the rows `train` and returns the predictions of the rows `test`, in order.
  /// - Throws: `ModelingError` for fewer than two folds or too few rows per class; whatever `fitAndPredict` throws.
  public static func outOfFold(
    labels: [Bool], folds: Int, seed: UInt64, _ fitAndPredict: (_ train: [Int], _ test: [Int]) throws -> [Double]
  ) throws -> [Double] {
    let split = try Splits.stratifiedKFold(labels: labels, folds: folds, seed: seed)
    var predictions = [Double](repeating: 0, count: labels.count)
    for test in split {
      let testSet = Set(test)
      let train = labels.indices.filter { !testSet.contains($0) }
      let p = try fitAndPredict(train, test)
      guard p.count == test.count else {
        throw ModelingError.invalidArgument("a fold returned \(p.count) predictions for \(test.count) rows")
      }
      for (k, i) in test.enumerated() { predictions[i] = p[k] }
    }
    return predictions
  }
}
