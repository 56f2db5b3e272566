import Foundation
import Modeling
import Testing

@testable import Fraud

/// The stream's table-and-series sine, cosine, arcsine, floor and distance against the C library's.
@Suite struct FastMathTests {
  let table = UnsafePointer(FastMath.sinCosTable)

  /// Within 1.2e-16 (half a unit in the last place of 1) of `sin` and `cos` over the arguments the features
  /// use (angles of a day, latitudes, half differences of longitudes) and far beyond, at the table's knots and
  /// half-way between them, and exactly the C library's past ±8 and for not-a-number.
  @Test func sineAndCosineAgreeWithTheCLibrary() {
    var g = SeededGenerator(seed: 7)
    var probes: [Double] = [0, -0.0, 1e-300, 1e-10, .pi / 2, .pi, -.pi, 2 * .pi, 7.999_999, -7.999_999]
    for j in -325...325 {
      probes.append(Double(j) * .pi / 128)
      probes.append((Double(j) + 0.5) * .pi / 128)
      probes.append(Double(j) * .pi / 128 + 1e-9)
    }
    for _ in 0..<50_000 { probes.append((g.nextDouble() * 2 - 1) * 8) }
    for x in probes {
      let (s, c) = FastMath.sinCos(x, table: table)
      #expect(abs(s - sin(x)) <= 1.2e-16, "sin(\(x)): \(s) against \(sin(x))")
      #expect(abs(c - cos(x)) <= 1.2e-16, "cos(\(x)): \(c) against \(cos(x))")
    }
    for x in [8.0, -8.0, 100_000.0, -1e9, 1e300, .infinity] {
      let (s, c) = FastMath.sinCos(x, table: table)
      #expect(s.bitPattern == sin(x).bitPattern && c.bitPattern == cos(x).bitPattern, "x = \(x)")
    }
    let (s, c) = FastMath.sinCos(.nan, table: table)
    #expect(s.isNaN && c.isNaN)
  }

  /// The series' arcsine within two units in the last place of `asin` on [0, 0.1).
  @Test func arcsineSeriesAgreesWithTheCLibrary() {
    var g = SeededGenerator(seed: 8)
    var probes: [Double] = [0, 1e-300, 1e-12, 0.05, 0.0999999999]
    for _ in 0..<50_000 { probes.append(g.nextDouble() * 0.1) }
    for x in probes where x < 0.1 {
      let exact = asin(x)
      #expect(abs(FastMath.asinSmall(x) - exact) <= 2 * max(exact.ulp, Double.leastNormalMagnitude), "x = \(x)")
    }
  }

  /// The floor of whole numbers, values just off them, and both signs, as `Foundation.floor`.
  @Test func floorAgreesWithTheCLibrary() {
    var g = SeededGenerator(seed: 9)
    var probes: [Double] = [0, -0.0, 0.5, -0.5, 1, -1, 1 - 1e-16, -1 + 1e-16, 1e15 + 0.5, -1e15 - 0.5, 4e18, -4e18]
    for _ in 0..<20_000 { probes.append((g.nextDouble() * 2 - 1) * 1e12) }
    for _ in 0..<20_000 { probes.append(Double(Int(g.nextDouble() * 2e6) - 1_000_000) / 4) }
    for x in probes { #expect(FastMath.floor(x) == Int(Foundation.floor(x)), "x = \(x)") }
  }

  /// The distance through the fast functions within a millionth of a metre (relative 1e-12 beyond) of the same
  /// haversine formula through the C library, from a metre apart to antipodes, across the date line and the poles.
  @Test func distanceAgreesWithTheCLibrarysHaversine() {
    func reference(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
      let r = Double.pi / 180
      let dlat = (lat2 - lat1) * r
      let dlon = (lon2 - lon1) * r
      let a = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * r) * cos(lat2 * r) * sin(dlon / 2) * sin(dlon / 2)
      return 6371 * 2 * atan2(a.squareRoot(), (1 - a).squareRoot())
    }
    var g = SeededGenerator(seed: 10)
    var pairs: [(Double, Double, Double, Double)] = [
      (40.7, -74.0, 40.7, -74.0), (40.7, -74.0, 40.700009, -74.0), (40.7, -74.0, 51.5, -0.13),
      (0, 179.9, 0, -179.9), (89.9, 0, 89.9, 180), (-90, 0, 90, 0), (0, 0, 0, 180), (35.7, 139.7, -23.6, -46.6),
    ]
    for _ in 0..<20_000 {
      let lat = g.nextDouble() * 180 - 90
      let lon = g.nextDouble() * 360 - 180
      let spread = pow(10, g.nextDouble() * 5 - 4)  // 0.0001° to 10°, and now and then the whole globe
      let far = g.nextDouble() < 0.1
      pairs.append(
        (
          lat, lon, far ? g.nextDouble() * 180 - 90 : max(-90, min(90, lat + (g.nextDouble() * 2 - 1) * spread)),
          far ? g.nextDouble() * 360 - 180 : lon + (g.nextDouble() * 2 - 1) * spread
        ))
    }
    for (lat1, lon1, lat2, lon2) in pairs {
      let exact = reference(lat1, lon1, lat2, lon2)
      let fast = haversineKm(lat1, lon1, lat2, lon2, table: table)
      #expect(abs(fast - exact) <= max(1e-9, exact * 1e-12), "(\(lat1), \(lon1)) to (\(lat2), \(lon2))")
    }
  }
}
