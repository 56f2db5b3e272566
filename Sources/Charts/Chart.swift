import Foundation

/// A chart as data: axes, series of marks, reference lines — no pixels. `SVGRenderer` is the one place that turns
/// it into SVG; reports build these values and tests compare their points with the numbers the text commands print.
public struct Chart: Sendable, Codable, Equatable {
  public var title: String
  /// The text alternative: what the chart shows, in a sentence (the SVG's `<desc>` and the figure's caption).
  public var summary: String
  public var x: Axis
  public var y: Axis
  public var series: [Series]
  /// Straight guide lines drawn under the series (a diagonal of no skill, a threshold).
  public var guides: [Guide]
  public var width: Double
  public var height: Double

  public init(
    title: String, summary: String, x: Axis, y: Axis, series: [Series], guides: [Guide] = [], width: Double = 560,
    height: Double = 320
  ) {
    self.title = title
    self.summary = summary
    self.x = x
    self.y = y
    self.series = series
    self.guides = guides
    self.width = width
    self.height = height
  }
}

/// One axis: its label with the unit, its scale and, optionally, a fixed range.
public struct Axis: Sendable, Codable, Equatable {
  public enum Scale: Sendable, Codable, Equatable {
    case linear
    /// Base-10 logarithmic (positive values only).
    case logarithmic
    /// Named categories at 0, 1, 2, …: bars stand on them.
    case categories([String])
  }

  public var label: String
  public var unit: String?
  public var scale: Scale
  /// A fixed range (else the data's, widened to round ticks).
  public var range: ClosedRange<Double>?
  /// Ticks as percentages of 1 (0.25 → 25%).
  public var percent: Bool

  public init(
    _ label: String, unit: String? = nil, scale: Scale = .linear, range: ClosedRange<Double>? = nil,
    percent: Bool = false
  ) {
    self.label = label
    self.unit = unit
    self.scale = scale
    self.range = range
    self.percent = percent
  }

  /// The label with its unit, as the axis shows it.
  public var title: String { unit.map { "\(label) (\($0))" } ?? label }
}

/// A series: its name (the legend's), its mark and its points.
public struct Series: Sendable, Codable, Equatable {
  public enum Mark: String, Sendable, Codable, Equatable {
    /// A polyline through the points in order.
    case line
    /// A step line (empirical curves: precision–recall, cumulative gains).
    case step
    /// Points.
    case scatter
    /// A polyline through the points in order with a marker at each (one legend entry for both).
    case linePoints
    /// Bars from `low` (0 when nil) to `y`; several bar series share a category side by side.
    case bar
    /// A band between `low` and `high` around the line through `y`.
    case band
  }

  public var name: String
  public var mark: Mark
  public var points: [Point]
  /// Palette index (else the series' position).
  public var colour: Int?

  public init(_ name: String, mark: Mark, points: [Point], colour: Int? = nil) {
    self.name = name
    self.mark = mark
    self.points = points
    self.colour = colour
  }
}

/// A point of a series; `low`/`high` are a bar's base or a band's edges.
public struct Point: Sendable, Codable, Equatable {
  public var x: Double
  public var y: Double
  public var low: Double?
  public var high: Double?

  public init(_ x: Double, _ y: Double, low: Double? = nil, high: Double? = nil) {
    self.x = x
    self.y = y
    self.low = low
    self.high = high
  }
}

/// A straight guide line from one data point to another, dashed, with an optional label.
public struct Guide: Sendable, Codable, Equatable {
  public var from: Point
  public var to: Point
  public var label: String?

  public init(from: Point, to: Point, label: String? = nil) {
    self.from = from
    self.to = to
    self.label = label
  }
}

/// A heat map: a value per cell of a grid of x and y values, coloured on a sequential or diverging scale.
public struct HeatMap: Sendable, Codable, Equatable {
  public var title: String
  public var summary: String
  public var x: Axis
  public var y: Axis
  /// Cell centres.
  public var xValues: [Double]
  public var yValues: [Double]
  /// `values[j][i]` at (`xValues[i]`, `yValues[j]`).
  public var values: [[Double]]
  /// The legend's title for the colour.
  public var valueLabel: String
  /// Diverging around 0 (effects) rather than sequential (counts).
  public var diverging: Bool
  public var width: Double
  public var height: Double

  public init(
    title: String, summary: String, x: Axis, y: Axis, xValues: [Double], yValues: [Double], values: [[Double]],
    valueLabel: String, diverging: Bool, width: Double = 420, height: Double = 320
  ) {
    self.title = title
    self.summary = summary
    self.x = x
    self.y = y
    self.xValues = xValues
    self.yValues = yValues
    self.values = values
    self.valueLabel = valueLabel
    self.diverging = diverging
    self.width = width
    self.height = height
  }
}
