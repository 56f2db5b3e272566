import Foundation

/// A report as data: sections of text, facts, tables and charts. `render()` makes one self-contained HTML file:
/// inline CSS and SVG, no script, nothing fetched, laid out for the screen and for paper.
public struct Page: Sendable, Codable, Equatable {
  public var title: String
  public var subtitle: String
  public var sections: [Section]

  public init(title: String, subtitle: String, sections: [Section]) {
    self.title = title
    self.subtitle = subtitle
    self.sections = sections
  }

  /// Every chart of the page, in order (small multiples included): what a test checks the browser drew.
  public var charts: [Chart] {
    func collect(_ b: Block) -> [Chart] {
      switch b {
      case .chart(let c): return [c]
      case .grid(let blocks): return blocks.flatMap(collect)
      default: return []
      }
    }
    return sections.flatMap { $0.blocks.flatMap(collect) }
  }

  public var heatMaps: [HeatMap] {
    func collect(_ b: Block) -> [HeatMap] {
      switch b {
      case .heatMap(let h): return [h]
      case .grid(let blocks): return blocks.flatMap(collect)
      default: return []
      }
    }
    return sections.flatMap { $0.blocks.flatMap(collect) }
  }

  public func render() -> String {
    var out = """
      <!DOCTYPE html>
      <html lang="en"><head><meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>\(SVGRenderer.escape(title))</title>
      <style>\(Page.style)</style></head><body>
      <header><h1>\(SVGRenderer.escape(title))</h1><p class="subtitle">\(SVGRenderer.escape(subtitle))</p></header>
      <nav><ol>
      """
    for (k, s) in sections.enumerated() {
      out += "<li><a href=\"#s\(k + 1)\">\(SVGRenderer.escape(s.title))</a></li>"
    }
    out += "</ol></nav>\n"
    var counter = 0
    for (k, s) in sections.enumerated() {
      out += "<section id=\"s\(k + 1)\"><h2>\(SVGRenderer.escape(s.title))</h2>\n"
      for b in s.blocks { out += render(b, &counter) }
      out += "</section>\n"
    }
    out +=
      "<footer>Written by CommerceML. Every number here is also printed by a text command.</footer></body></html>\n"
    return out
  }

  func render(_ block: Block, _ counter: inout Int) -> String {
    switch block {
    case .text(let t): return "<p>\(SVGRenderer.escape(t))</p>\n"
    case .note(let t): return "<p class=\"note\">\(SVGRenderer.escape(t))</p>\n"
    case .facts(let pairs):
      var out = "<dl class=\"facts\">"
      for fact in pairs {
        out += "<dt>\(SVGRenderer.escape(fact.label))</dt><dd>\(SVGRenderer.escape(fact.value))</dd>"
      }
      return out + "</dl>\n"
    case .table(let t): return t.render()
    case .chart(let c):
      counter += 1
      return
        "<figure>\(SVGRenderer.render(c, id: "chart\(counter)"))<figcaption>\(SVGRenderer.escape(c.summary))</figcaption></figure>\n"
    case .heatMap(let h):
      counter += 1
      return
        "<figure>\(SVGRenderer.render(h, id: "chart\(counter)"))<figcaption>\(SVGRenderer.escape(h.summary))</figcaption></figure>\n"
    case .grid(let blocks):
      var out = "<div class=\"grid\">"
      for b in blocks { out += render(b, &counter) }
      return out + "</div>\n"
    }
  }

  static let style = """
    body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;margin:0 auto;max-width:1180px;padding:0 20px 40px}
    header{border-bottom:2px solid #0072B2;margin-bottom:8px}h1{font-size:24px;margin:18px 0 2px}
    .subtitle{color:#555;margin:0 0 10px}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:3px;margin-top:28px}
    nav ol{columns:3;font-size:13px;padding-left:20px}a{color:#0072B2}
    dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:3px 16px;margin:8px 0}dt{font-weight:600;color:#333}dd{margin:0}
    table{border-collapse:collapse;margin:8px 0 14px;font-size:13px}th,td{border-bottom:1px solid #e3e3e3;padding:3px 9px;text-align:right}
    th{background:#f4f6f8;font-weight:600}td:first-child,th:first-child{text-align:left}caption{text-align:left;font-weight:600;padding:4px 0}
    figure{margin:8px 0 16px;display:inline-block;vertical-align:top}figcaption{font-size:12px;color:#555;max-width:560px}
    .grid{display:flex;flex-wrap:wrap;gap:4px 18px}.note{color:#6b4e00;background:#fff8e5;padding:6px 10px;border-left:3px solid #E69F00}
    svg.chart{font-size:11px;background:#fff}svg .title{font-size:13px;font-weight:600}svg .axis-title{font-size:11px;fill:#333}
    svg .tick{fill:#444}svg .grid{stroke:#ececec}svg .domain,svg .tick-mark{stroke:#888}svg .guide{stroke:#777;stroke-dasharray:4 3}
    svg .guide-label{fill:#555;font-size:10px}svg .legend{fill:#222}
    footer{margin-top:30px;color:#777;font-size:12px}
    @media print{body{max-width:none;padding:0}nav{display:none}section{break-inside:avoid-page}figure{break-inside:avoid}h2{break-after:avoid}}
    """
}

public struct Section: Sendable, Codable, Equatable {
  public var title: String
  public var blocks: [Block]

  public init(_ title: String, _ blocks: [Block]) {
    self.title = title
    self.blocks = blocks
  }
}

public enum Block: Sendable, Codable, Equatable {
  case text(String)
  /// A caveat shown highlighted.
  case note(String)
  /// Label–value pairs (the model card).
  case facts([Fact])
  case table(Table)
  case chart(Chart)
  case heatMap(HeatMap)
  /// Small multiples: blocks side by side, wrapping.
  case grid([Block])

  public static func facts(_ pairs: [(String, String)]) -> Block { .facts(pairs.map { Fact($0.0, $0.1) }) }
}

public struct Fact: Sendable, Codable, Equatable {
  public var label: String
  public var value: String
  public init(_ label: String, _ value: String) {
    self.label = label
    self.value = value
  }
}

/// A table of text cells with a caption.
public struct Table: Sendable, Codable, Equatable {
  public var caption: String
  public var columns: [String]
  public var rows: [[String]]

  public init(caption: String, columns: [String], rows: [[String]]) {
    self.caption = caption
    self.columns = columns
    self.rows = rows
  }

  func render() -> String {
    var out = "<table><caption>\(SVGRenderer.escape(caption))</caption><thead><tr>"
    for c in columns { out += "<th>\(SVGRenderer.escape(c))</th>" }
    out += "</tr></thead><tbody>"
    for r in rows {
      out += "<tr>"
      for c in r { out += "<td>\(SVGRenderer.escape(c))</td>" }
      out += "</tr>"
    }
    return out + "</tbody></table>\n"
  }
}
