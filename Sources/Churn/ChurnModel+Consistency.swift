import Modeling

extension ChurnModel {
  /// Checks that the model's parts agree in size and range — what scoring indexes by — so that a model decoded from
  /// a damaged or hand-edited store fails with a message instead of trapping on a customer's row.
  ///
  /// - Throws: `ModelingError.invalidArgument` naming the first part that disagrees.
  public func checkConsistency() throws(ModelingError) {
    func fail(_ text: String) -> ModelingError { .invalidArgument(text) }
    for (k, f) in features.enumerated() {
      guard columns.indices.contains(f.column) else {
        throw fail("feature \(k) ('\(f.name)') reads column \(f.column) of \(columns.count)")
      }
      if case .level(let l) = f.role, !columns[f.column].levels.indices.contains(l) {
        throw fail(
          "feature '\(f.name)' is level \(l) of '\(columns[f.column].name)', which has \(columns[f.column].levels.count)"
        )
      }
      guard f.mean.isFinite, f.sd.isFinite, f.sd > 0 else {
        throw fail("feature '\(f.name)' has mean \(f.mean) and standard deviation \(f.sd)")
      }
    }
    guard threshold.isFinite, scoreDeciles.allSatisfy(\.isFinite) else {
      throw fail("the decision threshold or a decile edge is not a finite number")
    }
    guard let additive else {
      guard coefficients.count == features.count + 1, coefficients.allSatisfy(\.isFinite) else {
        throw fail("\(coefficients.count) coefficients for \(features.count) features and the intercept")
      }
      return
    }
    guard additive.parametric.allSatisfy(features.indices.contains),
      additive.parametricCoefficients.count == additive.parametric.count + 1,
      additive.parametricCoefficients.allSatisfy(\.isFinite)
    else {
      throw fail(
        "\(additive.parametricCoefficients.count) parametric coefficients for \(additive.parametric.count) parametric features (of \(features.count)) and the intercept"
      )
    }
    for term in additive.smooths {
      let needs = (bases: term.kind == .tensor ? 2 : 1, features: term.kind == .main ? 1 : 2)
      guard term.bases.count == needs.bases, term.features.count >= needs.features,
        term.features.allSatisfy(features.indices.contains), !term.columns.isEmpty,
        term.columns.allSatisfy(columns.indices.contains)
      else { throw fail("the term '\(term.name)' has \(term.bases.count) bases and \(term.features.count) features") }
      for basis in term.bases {
        guard basis.count >= 4, basis.lower.isFinite, basis.upper.isFinite, basis.lower < basis.upper,
          basis.center.count == basis.count, basis.center.allSatisfy(\.isFinite),
          basis.center.indices.contains(basis.pivot), basis.center[basis.pivot] != 0,
          (basis.warp ?? []).allSatisfy(\.isFinite),
          zip(basis.warp ?? [], (basis.warp ?? []).dropFirst()).allSatisfy({ $0 <= $1 })
        else { throw fail("a basis of the term '\(term.name)' is inconsistent") }
      }
      guard term.coefficients.count == term.width, term.coefficients.allSatisfy(\.isFinite), term.meanEffect.isFinite
      else {
        throw fail("the term '\(term.name)' has \(term.coefficients.count) coefficients for \(term.width) columns")
      }
    }
  }
}
