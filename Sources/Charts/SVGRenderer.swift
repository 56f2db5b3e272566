import Foundation

/// Turns chart values into inline SVG: the only code that writes SVG.
///
/// Every chart is an `<svg role="img">` with a `<title>` and a `<desc>` (its text alternative), a
/// `data-series-count` attribute and one `<g class="series" data-name="…">` per series, so a browser test can count
/// what it draws. Colours are the Okabe–Ito palette, safe for the common colour-vision deficiencies.
public enum SVGRenderer {
  /// Okabe & Ito (2008): orange, sky blue, bluish green, vermillion, blue, reddish purple, yellow, black.
  public static let palette = ["#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2", "#CC79A7", "#F0E442", "#000000"]

  static let margin = (left: 64.0, right: 16.0, top: 34.0, bottom: 48.0)

  // MARK: Charts

  public static func render(_ chart: Chart, id: String) -> String {
    var out = ""
    let w = chart.width
    let h = chart.height
    let plotW = w - margin.left - margin.right
    let legendRows = chart.series.count > 1 ? 1 + (chart.series.count - 1) / 4 : 0
    // The legend's rows sit between the title and the plot, clear of both.
    let top = margin.top + Double(legendRows) * 16 + (legendRows > 0 ? 6 : 0)
    let rotate = rotatesLabels(chart.x)
    let plotH = h - top - margin.bottom - rotate
    let xScale = Scale(axis: chart.x, values: xValues(chart), pixels: (margin.left, margin.left + plotW))
    let yScale = Scale(axis: chart.y, values: yValues(chart), pixels: (top + plotH, top))
    out += svgOpen(id: id, width: w, height: h, title: chart.title, summary: chart.summary, series: chart.series.count)
    out += "<text class=\"title\" x=\"\(f(margin.left))\" y=\"18\">\(escape(chart.title))</text>"
    // Axes and grid.
    out += axis(
      xScale, horizontal: true, at: top + plotH, from: top, title: chart.x.title,
      plotSpan: (margin.left, margin.left + plotW), rotate: rotate)
    out += axis(
      yScale, horizontal: false, at: margin.left, from: margin.left + plotW, title: chart.y.title,
      plotSpan: (top, top + plotH))
    // Guides.
    for g in chart.guides {
      out +=
        "<line class=\"guide\" x1=\"\(f(xScale.pixel(g.from.x)))\" y1=\"\(f(yScale.pixel(g.from.y)))\" x2=\"\(f(xScale.pixel(g.to.x)))\" y2=\"\(f(yScale.pixel(g.to.y)))\"/>"
      if let label = g.label {
        out +=
          "<text class=\"guide-label\" x=\"\(f(xScale.pixel(g.to.x) - 4))\" y=\"\(f(yScale.pixel(g.to.y) + 12))\" text-anchor=\"end\">\(escape(label))</text>"
      }
    }
    // Series.
    let bars = chart.series.indices.filter { chart.series[$0].mark == .bar }
    let band = xScale.bandWidth
    for (k, s) in chart.series.enumerated() {
      let colour = palette[(s.colour ?? k) % palette.count]
      out += "<g class=\"series\" data-name=\"\(escape(s.name))\" data-points=\"\(s.points.count)\">"
      out += "<title>\(escape(s.name))</title>"
      switch s.mark {
      case .line, .step, .linePoints:
        out +=
          "<path fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" d=\"\(path(s.points, xScale, yScale, step: s.mark == .step))\"/>"
        if s.mark == .linePoints {
          for p in s.points {
            out +=
              "<circle cx=\"\(f(xScale.pixel(p.x)))\" cy=\"\(f(yScale.pixel(p.y)))\" r=\"3.5\" fill=\"\(colour)\"/>"
          }
        }
      case .scatter:
        for p in s.points {
          out +=
            "<circle cx=\"\(f(xScale.pixel(p.x)))\" cy=\"\(f(yScale.pixel(p.y)))\" r=\"3\" fill=\"\(colour)\" fill-opacity=\"0.75\"/>"
        }
      case .band:
        let upper = s.points.map { Point($0.x, $0.high ?? $0.y) }
        let lower = s.points.reversed().map { Point($0.x, $0.low ?? $0.y) }
        let outline = path(upper + lower, xScale, yScale, step: false)
        out += "<path fill=\"\(colour)\" fill-opacity=\"0.22\" stroke=\"none\" d=\"\(outline)Z\"/>"
        out +=
          "<path fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" d=\"\(path(s.points, xScale, yScale, step: false))\"/>"
      case .bar:
        let slot = bars.firstIndex(of: k) ?? 0
        let width = band * 0.8 / Double(max(bars.count, 1))
        for p in s.points {
          let x0 = xScale.pixel(p.x) - band * 0.4 + Double(slot) * width
          let base = yScale.pixel(p.low ?? yScale.baseline)
          let top = yScale.pixel(p.y)
          out +=
            "<rect x=\"\(f(x0))\" y=\"\(f(min(base, top)))\" width=\"\(f(max(width - 1, 1)))\" height=\"\(f(max(abs(base - top), 0.5)))\" fill=\"\(colour)\"><title>\(escape(s.name)): \(escape(xScale.label(p.x))) \(number(p.y))</title></rect>"
        }
      }
      out += "</g>"
    }
    // Legend.
    if chart.series.count > 1 {
      for (k, s) in chart.series.enumerated() {
        let colour = palette[(s.colour ?? k) % palette.count]
        let lx = margin.left + Double(k % 4) * (plotW / 4)
        let ly = margin.top + Double(k / 4) * 16
        out += "<rect x=\"\(f(lx))\" y=\"\(f(ly - 9))\" width=\"12\" height=\"10\" fill=\"\(colour)\"/>"
        out += "<text class=\"legend\" x=\"\(f(lx + 16))\" y=\"\(f(ly))\">\(escape(s.name))</text>"
      }
    }
    out += "</svg>"
    return out
  }

  // MARK: Heat maps

  public static func render(_ map: HeatMap, id: String) -> String {
    var out = ""
    let legendW = 70.0
    let plotW = map.width - margin.left - margin.right - legendW
    let plotH = map.height - margin.top - margin.bottom
    let flat = map.values.flatMap { $0 }.filter(\.isFinite)
    let lo = flat.min() ?? 0
    let hi = flat.max() ?? 1
    let limit = max(abs(lo), abs(hi), 1e-12)
    func colour(_ v: Double) -> String {
      map.diverging ? diverging(v / limit) : sequential(hi > lo ? (v - lo) / (hi - lo) : 0.5)
    }
    let xs = Scale(axis: map.x, values: edges(map.xValues), pixels: (margin.left, margin.left + plotW), exact: true)
    let ys = Scale(axis: map.y, values: edges(map.yValues), pixels: (margin.top + plotH, margin.top), exact: true)
    out += svgOpen(id: id, width: map.width, height: map.height, title: map.title, summary: map.summary, series: 1)
    out += "<text class=\"title\" x=\"\(f(margin.left))\" y=\"18\">\(escape(map.title))</text>"
    let xe = edges(map.xValues)
    let ye = edges(map.yValues)
    out +=
      "<g class=\"series\" data-name=\"\(escape(map.valueLabel))\" data-points=\"\(map.xValues.count * map.yValues.count)\">"
    for (j, row) in map.values.enumerated() where j < map.yValues.count {
      for (i, v) in row.enumerated() where i < map.xValues.count {
        let x0 = xs.pixel(xe[i])
        let x1 = xs.pixel(xe[i + 1])
        let y0 = ys.pixel(ye[j + 1])
        let y1 = ys.pixel(ye[j])
        out +=
          "<rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(max(x1 - x0, 0.5)))\" height=\"\(f(max(y1 - y0, 0.5)))\" fill=\"\(v.isFinite ? colour(v) : "#ffffff")\"><title>\(number(map.xValues[i])), \(number(map.yValues[j])): \(number(v))</title></rect>"
      }
    }
    out += "</g>"
    out += axis(
      xs, horizontal: true, at: margin.top + plotH, from: nil, title: map.x.title,
      plotSpan: (margin.left, margin.left + plotW))
    out += axis(
      ys, horizontal: false, at: margin.left, from: nil, title: map.y.title, plotSpan: (margin.top, margin.top + plotH))
    // Colour legend: a bar of 10 steps from the lowest to the highest value (or −limit to +limit).
    let lx = margin.left + plotW + 18
    let (a, b) = map.diverging ? (-limit, limit) : (lo, hi)
    for k in 0..<10 {
      let v = a + (b - a) * (Double(k) + 0.5) / 10
      let y = margin.top + plotH - Double(k + 1) * plotH / 10
      out += "<rect x=\"\(f(lx))\" y=\"\(f(y))\" width=\"14\" height=\"\(f(plotH / 10 + 0.5))\" fill=\"\(colour(v))\"/>"
    }
    out += "<text class=\"tick\" x=\"\(f(lx + 18))\" y=\"\(f(margin.top + 8))\">\(number(b))</text>"
    out += "<text class=\"tick\" x=\"\(f(lx + 18))\" y=\"\(f(margin.top + plotH))\">\(number(a))</text>"
    out += "<text class=\"axis-title\" x=\"\(f(lx))\" y=\"\(f(margin.top - 6))\">\(escape(map.valueLabel))</text>"
    out += "</svg>"
    return out
  }

  /// Cell edges around centres: midpoints, the outer ones mirrored.
  static func edges(_ centres: [Double]) -> [Double] {
    guard centres.count > 1 else { return [(centres.first ?? 0) - 0.5, (centres.first ?? 0) + 0.5] }
    var e = [centres[0] - (centres[1] - centres[0]) / 2]
    for k in 1..<centres.count { e.append((centres[k - 1] + centres[k]) / 2) }
    e.append(centres[centres.count - 1] + (centres[centres.count - 1] - centres[centres.count - 2]) / 2)
    return e
  }

  /// Sequential: light yellow to dark blue (viridis-like stops, legible in grey).
  static func sequential(_ t: Double) -> String {
    let stops: [(Double, Double, Double)] = [(253, 231, 37), (94, 201, 98), (33, 145, 140), (59, 82, 139), (68, 1, 84)]
    return interpolate(stops, min(max(t, 0), 1))
  }

  /// Diverging around 0: blue (negative) – white – orange (positive).
  static func diverging(_ t: Double) -> String {
    let stops: [(Double, Double, Double)] = [(0, 114, 178), (247, 247, 247), (230, 159, 0)]
    return interpolate(stops, (min(max(t, -1), 1) + 1) / 2)
  }

  static func interpolate(_ stops: [(Double, Double, Double)], _ t: Double) -> String {
    let position = t * Double(stops.count - 1)
    let k = min(Int(position), stops.count - 2)
    let u = position - Double(k)
    let (a, b) = (stops[k], stops[k + 1])
    func c(_ x: Double, _ y: Double) -> Int { Int((x + (y - x) * u).rounded()) }
    return String(format: "#%02x%02x%02x", c(a.0, b.0), c(a.1, b.1), c(a.2, b.2))
  }

  // MARK: Pieces

  static func svgOpen(id: String, width: Double, height: Double, title: String, summary: String, series: Int) -> String
  {
    "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"\(escape(id))\" class=\"chart\" role=\"img\" aria-labelledby=\"\(escape(id))-t \(escape(id))-d\" viewBox=\"0 0 \(f(width)) \(f(height))\" width=\"\(f(width))\" height=\"\(f(height))\" data-series-count=\"\(series)\"><title id=\"\(escape(id))-t\">\(escape(title))</title><desc id=\"\(escape(id))-d\">\(escape(summary))</desc>"
  }

  static func xValues(_ chart: Chart) -> [Double] {
    chart.series.flatMap { $0.points.map(\.x) } + chart.guides.flatMap { [$0.from.x, $0.to.x] }
  }

  static func yValues(_ chart: Chart) -> [Double] {
    var v = chart.guides.flatMap { [$0.from.y, $0.to.y] }
    for s in chart.series {
      for p in s.points {
        v.append(p.y)
        if let l = p.low { v.append(l) }
        if let h = p.high { v.append(h) }
      }
      if s.mark == .bar, chart.y.scale == .linear { v.append(0) }
    }
    return v
  }

  static func path(_ points: [Point], _ xs: Scale, _ ys: Scale, step: Bool) -> String {
    var d = ""
    var previous: (Double, Double)? = nil
    for p in points where p.x.isFinite && p.y.isFinite {
      let x = xs.pixel(p.x)
      let y = ys.pixel(p.y)
      if let (_, py) = previous {
        if step { d += "L\(f(x)) \(f(py))" }
        d += "L\(f(x)) \(f(y))"
      } else {
        d += "M\(f(x)) \(f(y))"
      }
      previous = (x, y)
    }
    return d
  }

  /// Extra room under the plot for category labels turned 40° (long or many labels), 0 when they stay level.
  static func rotatesLabels(_ axis: Axis) -> Double {
    guard case .categories(let names) = axis.scale else { return 0 }
    let longest = names.map(\.count).max() ?? 0
    guard longest * names.count > 90 || longest > 10 else { return 0 }
    return Double(min(longest, 28)) * 4.6
  }

  static func axis(
    _ s: Scale, horizontal: Bool, at position: Double, from gridEnd: Double?, title: String,
    plotSpan: (Double, Double), rotate: Double = 0
  ) -> String {
    var out = "<g class=\"axis\">"
    if horizontal {
      out +=
        "<line class=\"domain\" x1=\"\(f(plotSpan.0))\" y1=\"\(f(position))\" x2=\"\(f(plotSpan.1))\" y2=\"\(f(position))\"/>"
    } else {
      out +=
        "<line class=\"domain\" x1=\"\(f(position))\" y1=\"\(f(plotSpan.0))\" x2=\"\(f(position))\" y2=\"\(f(plotSpan.1))\"/>"
    }
    let ticks = s.ticks()
    let every = horizontal && s.isCategorical ? max(1, ticks.count / 12) : 1
    for (k, t) in ticks.enumerated() {
      let p = s.pixel(t)
      if horizontal {
        if let g = gridEnd, !s.isCategorical {
          out += "<line class=\"grid\" x1=\"\(f(p))\" y1=\"\(f(position))\" x2=\"\(f(p))\" y2=\"\(f(g))\"/>"
        }
        out +=
          "<line class=\"tick-mark\" x1=\"\(f(p))\" y1=\"\(f(position))\" x2=\"\(f(p))\" y2=\"\(f(position + 4))\"/>"
        if rotate > 0 {
          let text = s.label(t)
          let shown = text.count > 28 ? String(text.prefix(27)) + "…" : text
          out +=
            "<text class=\"tick\" transform=\"translate(\(f(p + 3)) \(f(position + 10))) rotate(-40)\" text-anchor=\"end\">\(escape(shown))<title>\(escape(text))</title></text>"
        } else if k % every == 0 {
          out +=
            "<text class=\"tick\" x=\"\(f(p))\" y=\"\(f(position + 16))\" text-anchor=\"middle\">\(escape(s.label(t)))</text>"
        }
      } else {
        if let g = gridEnd {
          out += "<line class=\"grid\" x1=\"\(f(position))\" y1=\"\(f(p))\" x2=\"\(f(g))\" y2=\"\(f(p))\"/>"
        }
        out +=
          "<text class=\"tick\" x=\"\(f(position - 6))\" y=\"\(f(p + 4))\" text-anchor=\"end\">\(escape(s.label(t)))</text>"
      }
    }
    if horizontal {
      out +=
        "<text class=\"axis-title\" x=\"\(f((plotSpan.0 + plotSpan.1) / 2))\" y=\"\(f(position + 36 + rotate))\" text-anchor=\"middle\">\(escape(title))</text>"
    } else {
      let mid = (plotSpan.0 + plotSpan.1) / 2
      out +=
        "<text class=\"axis-title\" transform=\"translate(14 \(f(mid))) rotate(-90)\" text-anchor=\"middle\">\(escape(title))</text>"
    }
    return out + "</g>"
  }

  /// A pixel coordinate with one decimal (enough on screen and paper, and short).
  static func f(_ x: Double) -> String {
    guard x.isFinite else { return "0" }
    let r = (x * 10).rounded() / 10
    return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
  }

  /// A data value for labels and tooltips: four significant digits.
  public static func number(_ x: Double) -> String {
    guard x.isFinite else { return x.isNaN ? "–" : (x > 0 ? "∞" : "−∞") }
    if x == x.rounded() && abs(x) < 1e9 { return String(Int(x)) }
    return String(format: "%.4g", x)
  }

  public static func escape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for c in s {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default: out.append(c)
      }
    }
    return out
  }
}

/// Maps data to pixels along one axis, with round ticks.
struct Scale {
  let axis: Axis
  let lo: Double
  let hi: Double
  let p0: Double
  let p1: Double

  init(axis: Axis, values: [Double], pixels: (Double, Double), exact: Bool = false) {
    self.axis = axis
    p0 = pixels.0
    p1 = pixels.1
    switch axis.scale {
    case .categories(let names):
      lo = -0.5
      hi = Double(max(names.count, 1)) - 0.5
    case .logarithmic:
      let positive = values.filter { $0 > 0 && $0.isFinite }
      let a = axis.range?.lowerBound ?? positive.min() ?? 1
      let b = axis.range?.upperBound ?? positive.max() ?? 10
      lo = floor(log10(max(a, 1e-300)))
      hi = max(ceil(log10(max(b, 1e-300))), lo + 1)
    case .linear:
      let finite = values.filter(\.isFinite)
      var a = axis.range?.lowerBound ?? finite.min() ?? 0
      var b = axis.range?.upperBound ?? finite.max() ?? 1
      if a == b {
        a -= 0.5
        b += 0.5
      }
      if axis.range == nil && !exact {
        let step = Scale.niceStep((b - a) / 5)
        a = floor(a / step) * step
        b = ceil(b / step) * step
      }
      lo = a
      hi = b
    }
  }

  var isCategorical: Bool {
    if case .categories = axis.scale { return true }
    return false
  }

  /// A category's width in pixels (1 unit of a linear axis otherwise).
  var bandWidth: Double { abs(p1 - p0) / max(hi - lo, 1e-300) }

  /// Where bars stand: 0 on a linear axis that holds it, else the bottom.
  var baseline: Double {
    if case .logarithmic = axis.scale { return pow(10, lo) }
    return lo <= 0 && hi >= 0 ? 0 : lo
  }

  func pixel(_ v: Double) -> Double {
    var t: Double
    if case .logarithmic = axis.scale {
      t = (log10(max(v, pow(10, lo))) - lo) / (hi - lo)
    } else {
      t = (v - lo) / (hi - lo)
    }
    t = min(max(t, -0.05), 1.05)
    return p0 + (p1 - p0) * t
  }

  static func niceStep(_ raw: Double) -> Double {
    guard raw > 0, raw.isFinite else { return 1 }
    let e = pow(10, floor(log10(raw)))
    let m = raw / e
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * e
  }

  func ticks() -> [Double] {
    switch axis.scale {
    case .categories(let names): return names.indices.map(Double.init)
    case .logarithmic: return stride(from: lo, through: hi, by: 1).map { pow(10, $0) }
    case .linear:
      let step = Scale.niceStep((hi - lo) / 5)
      var t = (lo / step).rounded(.up) * step
      var out = [Double]()
      while t <= hi + step * 1e-9 {
        out.append(abs(t) < step * 1e-9 ? 0 : t)
        t += step
      }
      return out
    }
  }

  func label(_ v: Double) -> String {
    switch axis.scale {
    case .categories(let names):
      let k = Int(v.rounded())
      return k >= 0 && k < names.count ? names[k] : ""
    case .logarithmic, .linear:
      if axis.percent { return SVGRenderer.number((v * 1000).rounded() / 10) + "%" }
      return SVGRenderer.number(v)
    }
  }
}
