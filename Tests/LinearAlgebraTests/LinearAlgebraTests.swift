import Foundation
import Testing

@testable import LinearAlgebra

private func close<T: BinaryFloatingPoint>(_ a: [T], _ b: [T], tolerance: T = 1e-5) -> Bool {
  a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
}

@Suite struct MatrixProductTests {
  // A is 2×3, B is 3×2: worked by hand.
  let a = try! Matrix<Double>([[1, 2, 3], [4, 5, 6]])
  let b = try! Matrix<Double>([[7, 8], [9, 10], [11, 12]])

  @Test func nonSquareProduct() throws {
    let c = try Matrix.product(a, b)
    #expect(c.rows == 2 && c.columns == 2)
    #expect(close(c.elements, [58, 64, 139, 154]))
  }

  @Test func productInOtherOrderIsThreeByThree() throws {
    let c = try Matrix.product(b, a)
    #expect(c.rows == 3 && c.columns == 3)
    #expect(close(c.elements, [39, 54, 69, 49, 68, 87, 59, 82, 105]))
  }

  @Test func transposedOperands() throws {
    // Aᵀ·A (3×3) by hand.
    let ata = try Matrix.product(a, a, transposeA: true)
    #expect(close(ata.elements, [17, 22, 27, 22, 29, 36, 27, 36, 45]))
    // A·Aᵀ (2×2).
    let aat = try Matrix.product(a, a, transposeB: true)
    #expect(close(aat.elements, [14, 32, 32, 77]))
    // Aᵀ·Bᵀ is 3×3 = (B·A)ᵀ.
    let atbt = try Matrix.product(a, b, transposeA: true, transposeB: true)
    #expect(close(atbt.elements, try Matrix.product(b, a).transposed.elements))
  }

  @Test func floatProductMatchesDouble() throws {
    let af = try Matrix<Float>([[1, 2, 3], [4, 5, 6]])
    let bf = try Matrix<Float>([[7, 8], [9, 10], [11, 12]])
    #expect(close(try Matrix.product(af, bf).elements, [58, 64, 139, 154]))
  }

  @Test func gemmAccumulates() throws {
    var c = try Matrix<Double>([[1, 1], [1, 1]])
    try Matrix.gemm(alpha: 2, a, transposeA: false, b, transposeB: false, beta: -1, into: &c)
    #expect(close(c.elements, [115, 127, 277, 307]))
  }

  @Test func mismatchedShapesThrow() {
    #expect(throws: LinearAlgebraError.self) { try Matrix.product(a, a) }
    var c = Matrix<Double>(rows: 3, columns: 3)
    #expect(throws: LinearAlgebraError.self) {
      try Matrix.gemm(alpha: 1, a, transposeA: false, b, transposeB: false, beta: 0, into: &c)
    }
  }

  @Test func matrixVector() throws {
    let y = try a.multiplied(by: [1, 0, -1])
    #expect(close(y.elements, [-2, -2]))
    let z = try a.multiplied(by: [1, 2], transpose: true)
    #expect(close(z.elements, [9, 12, 15]))
    #expect(throws: LinearAlgebraError.self) { try a.multiplied(by: [1, 2]) }
  }

  @Test func gramMatrixFillsBothTriangles() throws {
    let g = try a.gram()
    #expect(close(g.elements, [17, 22, 27, 22, 29, 36, 27, 36, 45]))
    let gf = try Matrix<Float>([[1, 2, 3], [4, 5, 6]]).gram(alpha: 0.5)
    #expect(close(gf.elements, [8.5, 11, 13.5, 11, 14.5, 18, 13.5, 18, 22.5]))
  }

  @Test func dotAndAxpy() throws {
    let x: Vector<Double> = [1, 2, 3]
    var y: Vector<Double> = [4, 5, 6]
    #expect(try x.dot(y) == 32)
    try y.add(x, scaledBy: 2)
    #expect(y.elements == [6, 9, 12])
    #expect(throws: LinearAlgebraError.self) { try x.dot([1, 2]) }
    #expect(throws: LinearAlgebraError.self) { try y.add([1]) }
  }

  @Test func constructionChecksShapes() {
    #expect(throws: LinearAlgebraError.self) { try Matrix<Double>([[1, 2], [3]]) }
    #expect(throws: LinearAlgebraError.self) { try Matrix<Double>(rows: 2, columns: 2, elements: [1, 2, 3]) }
  }

  @Test func emptyShapes() throws {
    let e = Matrix<Double>(rows: 0, columns: 3)
    let p = try Matrix.product(e, b)
    #expect(p.rows == 0 && p.columns == 2)
    let z = try Matrix.product(Matrix<Double>(rows: 2, columns: 0), Matrix<Double>(rows: 0, columns: 2))
    #expect(z.elements == [0, 0, 0, 0])
  }

  @Test func sizeCheckIsInOnePlace() throws {
    #expect(throws: LinearAlgebraError.dimensionTooLarge(name: "n", value: Int(Int32.max) + 1)) {
      _ = try blasInt(Int(Int32.max) + 1, "n")
    }
    #expect(throws: LinearAlgebraError.self) { _ = try blasInt(-1, "n") }
    #expect(try blasInt(7, "n") == 7)
  }
}

@Suite struct CholeskyTests {
  // A = L·Lᵀ with L = [[2,0,0],[6,1,0],[-8,5,3]] (the textbook example).
  let spd = try! Matrix<Double>([[4, 12, -16], [12, 37, -43], [-16, -43, 98]])

  @Test func factorIsTheKnownOne() throws {
    let c = try CholeskyFactorization(spd)
    #expect(close([c.factor[0, 0], c.factor[1, 0], c.factor[1, 1]], [2, 6, 1]))
    #expect(close([c.factor[2, 0], c.factor[2, 1], c.factor[2, 2]], [-8, 5, 3]))
    #expect(abs(c.logDeterminant - 2 * (log(2.0) + log(1.0) + log(3.0))) < 1e-12)
  }

  @Test func solvesKnownSystem() throws {
    // x = [1, 2, 3] gives b = A·x.
    let b: Vector<Double> = [4 + 24 - 48, 12 + 74 - 129, -16 - 86 + 294]
    let x = try solveSymmetricPositiveDefinite(spd, b)
    #expect(close(x.elements, [1, 2, 3], tolerance: 1e-10))
  }

  @Test func asymmetricRightHandSidesSolveByColumn() throws {
    // Two right-hand sides as columns: x1 = [1,2,3], x2 = [1,0,0].
    let b = try Matrix<Double>([[-20, 4], [-43, 12], [192, -16]])
    let x = try CholeskyFactorization(spd).solve(b)
    #expect(close(x.elements, [1, 1, 2, 0, 3, 0], tolerance: 1e-10))
  }

  @Test func inverseTimesMatrixIsIdentity() throws {
    let inv = try CholeskyFactorization(spd).inverse()
    let i = try Matrix.product(spd, inv)
    #expect(close(i.elements, Matrix<Double>.identity(3).elements, tolerance: 1e-9))
  }

  /// The in-place inverse (EASE's: no factor or inverse beside the matrix) agrees with the factorization's, in
  /// both precisions, on a matrix whose triangles would differ if the layout were mixed up.
  @Test func inPlaceInverseMatchesTheFactorizations() throws {
    var a = spd.elements
    try a.withUnsafeMutableBufferPointer { try RawBLAS.invertSymmetricPositiveDefinite(n: 3, $0.baseAddress!) }
    let expected = try CholeskyFactorization(spd).inverse().elements
    #expect(close(a, expected, tolerance: 1e-12))
    #expect(a[1] == a[3] && a[2] == a[6] && a[5] == a[7])
    var f = spd.elements.map { Float($0) }
    try f.withUnsafeMutableBufferPointer { try RawBLAS.invertSymmetricPositiveDefinite(n: 3, $0.baseAddress!) }
    #expect(close(f.map { Double($0) }, expected, tolerance: 1e-5))
    var bad: [Double] = [1, 2, 2, 1]
    #expect(throws: LinearAlgebraError.notPositiveDefinite(order: 2, minor: 2)) {
      try bad.withUnsafeMutableBufferPointer { try RawBLAS.invertSymmetricPositiveDefinite(n: 2, $0.baseAddress!) }
    }
  }

  @Test func floatSolve() throws {
    let a = try Matrix<Float>([[4, 1], [1, 3]])
    let x = try solveSymmetricPositiveDefinite(a, [1, 2])
    #expect(close(x.elements, [1.0 / 11, 7.0 / 11]))
  }

  @Test func notPositiveDefiniteThrows() throws {
    let a = try Matrix<Double>([[1, 2], [2, 1]])
    #expect(throws: LinearAlgebraError.notPositiveDefinite(order: 2, minor: 2)) {
      _ = try CholeskyFactorization(a)
    }
    let zero = Matrix<Double>(rows: 2, columns: 2)
    #expect(throws: LinearAlgebraError.notPositiveDefinite(order: 2, minor: 1)) {
      _ = try CholeskyFactorization(zero)
    }
  }

  @Test func nonSquareAndWrongRightHandSideThrow() throws {
    #expect(throws: LinearAlgebraError.self) { _ = try CholeskyFactorization(Matrix<Double>(rows: 2, columns: 3)) }
    let c = try CholeskyFactorization(spd)
    #expect(throws: LinearAlgebraError.self) { _ = try c.solve([1, 2] as Vector<Double>) }
    #expect(throws: LinearAlgebraError.self) { _ = try c.solve(Matrix<Double>(rows: 2, columns: 1)) }
  }

  @Test func errorMessagesNameTheProblem() {
    let e = LinearAlgebraError.notPositiveDefinite(order: 3, minor: 2)
    #expect(e.description.contains("not positive definite"))
    #expect(e.description.contains("order 2"))
  }
}

@Suite struct ThreadBudgetTests {
  @Test func neverMoreThanTheProcessorsNorFewerThanOne() {
    #expect(ThreadBudget.usable(0) == 1)
    #expect(ThreadBudget.usable(-5) == 1)
    #expect(ThreadBudget.usable(1) == 1)
    #expect(ThreadBudget.usable(1_000) == ThreadBudget.processors)
    #expect(ThreadBudget.startable(3) == 3)
    BLASThreads.set(64)
    #expect(BLASThreads.current <= ThreadBudget.processors)
    BLASThreads.set(1)
  }

  /// The pool of OpenBLAS work buffers grows only as far as the caller allows, one buffer per agreement, and a
  /// buffer given back serves the next caller (a product after taking them still computes).
  @Test func workBuffersAreTakenOnlyWhileAllowed() {
    #expect(BLASThreads.takeBuffers(2) { true } == 2)
    #expect(BLASThreads.takeBuffers(3) { false } == 0)
    var asked = 0
    #expect(
      BLASThreads.takeBuffers(4) {
        asked += 1
        return asked <= 2
      } == 2)
    #expect(asked == 3)
    let a: [Float] = [1, 2, 3, 4]
    var c = [Float](repeating: 0, count: 4)
    a.withUnsafeBufferPointer { pa in
      c.withUnsafeMutableBufferPointer { pc in
        Float._gemm(false, false, 2, 2, 2, 1, pa.baseAddress!, 2, pa.baseAddress!, 2, 0, pc.baseAddress!, 2)
      }
    }
    #expect(c == [7, 10, 15, 22])
  }
}

@Suite struct SymmetricEigenTests {
  // [[2,1,0],[1,2,0],[0,0,5]]: eigenvalues 1, 3, 5 with vectors (1,-1,0)/√2, (1,1,0)/√2, (0,0,1).
  @Test func knownDecomposition() throws {
    // Only the lower triangle is read: the upper one holds values that would change the answer.
    let a = try Matrix<Double>([[2, 99, -7], [1, 2, 42], [0, 0, 5]])
    let e = try SymmetricEigen(a)
    #expect(close(e.values, [1, 3, 5], tolerance: 1e-12))
    let s = 1 / 2.0.squareRoot()
    let expected: [[Double]] = [[s, -s, 0], [s, s, 0], [0, 0, 1]]
    for k in 0..<3 {
      let v = (0..<3).map { e.vectors[$0 * 3 + k] }
      // Vectors are defined up to sign.
      let sign: Double = v[0] * expected[k][0] + v[1] * expected[k][1] + v[2] * expected[k][2] < 0 ? -1 : 1
      #expect(close(v.map { $0 * sign }, expected[k], tolerance: 1e-12))
    }
  }

  @Test func reconstructsALargerMatrix() throws {
    // A = Q·diag(λ)·Qᵀ for a 7 × 7 symmetric matrix with distinct entries.
    let n = 7
    var rows = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
    for i in 0..<n { for j in 0...i { rows[i][j] = Double((i + 1) * (j + 2) % 11) + (i == j ? 20 : 0) } }
    for i in 0..<n { for j in (i + 1)..<n { rows[i][j] = rows[j][i] } }
    let e = try SymmetricEigen(try Matrix<Double>(rows))
    #expect(zip(e.values, e.values.dropFirst()).allSatisfy { $0 <= $1 })
    for i in 0..<n {
      for j in 0..<n {
        var sum = 0.0
        for k in 0..<n { sum += e.vectors[i * n + k] * e.values[k] * e.vectors[j * n + k] }
        #expect(abs(sum - rows[i][j]) < 1e-10)
      }
    }
  }

  @Test func emptyAndNonSquare() throws {
    #expect(try SymmetricEigen(Matrix<Double>(rows: 0, columns: 0)).values.isEmpty)
    #expect(throws: LinearAlgebraError.self) { _ = try SymmetricEigen(Matrix<Double>(rows: 2, columns: 3)) }
  }
}

@Suite struct OneBLASTests {
  /// BLAS and LAPACK come from one library: this process (which calls both) maps one file whose name says BLAS or
  /// LAPACK, and it is OpenBLAS — so `openblas_set_num_threads` governs every BLAS thread.
  @Test func theProcessMapsOneOpenBLAS() throws {
    // Use both, so that nothing is loaded lazily after the check.
    _ = try CholeskyFactorization(try Matrix<Double>([[4, 2], [2, 3]])).inverse()
    _ = try SymmetricEigen(try Matrix<Double>([[2, 1], [1, 2]]))
    // Read to the end (a /proc file reports size 0, so a read sized by the file would get nothing).
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/maps"))
    let maps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
    try handle.close()
    #expect(maps.contains("/"), "nothing read from /proc/self/maps")
    let files = Set(
      maps.split(separator: "\n").compactMap { line -> String? in
        guard let path = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(5).first else {
          return nil
        }
        let name = path.split(separator: "/").last.map(String.init) ?? ""
        return name.lowercased().contains("blas") || name.lowercased().contains("lapack") ? String(path) : nil
      })
    #expect(files.count == 1, "BLAS/LAPACK libraries mapped: \(files.sorted())")
    #expect(files.allSatisfy { $0.contains("openblas") }, "\(files.sorted())")
  }
}
