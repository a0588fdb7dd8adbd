import KamSyntax

/// One self-contained HTML page of a script's results (`--format html`): its own CSS, no
/// scripts, fonts, images or links to anything outside the file, readable printed. Tables
/// as tables (numbers right-aligned, health cells in their colour), headings from the
/// script's `# section:` comments, the title from its `# report:` comment.
///
///     kam run monday.kam --format html > review.html
public enum HTMLPage {
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// A table: a header row, then a row per row, each cell as `cellText` writes it (the
    /// writer passes its view text: floats as the terminal shows them); empty for null.
    public static func table(_ t: Table, cellText: (Value) -> String) -> String {
        let numeric = t.columns.map { TableLayout.isNumeric($0) }
        var out = "<table>\n<thead><tr>"
        for (n, num) in zip(t.names, numeric) { out += "<th" + (num ? " class=\"num\"" : "") + ">" + escape(n) + "</th>" }
        out += "</tr></thead>\n<tbody>\n"
        for i in 0..<t.count {
            out += "<tr>"
            for (c, column) in t.columns.enumerated() {
                let v = column.value(at: i)
                var classes: [String] = []
                if numeric[c] { classes.append("num") }
                if v.isNull { classes.append("null") }
                // Health reads at a glance, as on the terminal.
                if t.names[c] == "health", case .string(let s) = v, ["green", "yellow", "red"].contains(s) { classes.append("health " + s) }
                // A sparkline as an inline SVG of the same bars.
                let text = cellText(v)
                let cell = sparklineSVG(text) ?? escape(text)
                out += "<td" + (classes.isEmpty ? "" : " class=\"" + classes.joined(separator: " ") + "\"") + ">" + cell + "</td>"
            }
            out += "</tr>\n"
        }
        out += "</tbody>\n</table>"
        if t.count == 0 { out += "\n<p class=\"empty\">(0 rows)</p>" }
        return out
    }

    static let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// The bars of a `sparkline(...)` text (block characters, a space for a gap) as an
    /// inline SVG, with the text as its title; nil for any other text.
    static func sparklineSVG(_ text: String) -> String? {
        let chars = Array(text)
        guard chars.count >= 2, chars.count <= 400, chars.allSatisfy({ $0 == " " || blocks.contains($0) }), chars.contains(where: { $0 != " " }) else { return nil }
        let bar = 6, gap = 1, height = 18
        var svg = "<svg class=\"spark\" width=\"\(chars.count * (bar + gap))\" height=\"\(height)\" role=\"img\">"
        svg += "<title>" + escape(text) + "</title>"
        for (i, c) in chars.enumerated() {
            guard let level = blocks.firstIndex(of: c) else { continue }
            let h = 2 + level * (height - 2) / 7
            svg += "<rect x=\"\(i * (bar + gap))\" y=\"\(height - h)\" width=\"\(bar)\" height=\"\(h)\"/>"
        }
        return svg + "</svg>"
    }

    /// A figure's drawing, inline, when it is a plain SVG drawing (shapes and text: nothing
    /// that runs, links or loads); else its text, so a page never carries a script.
    public static func figure(_ svg: String, text: String) -> String {
        let lower = svg.lowercased()
        let banned = ["<script", "javascript:", "href", "url(", "<foreignobject", "<image", "<use", "<style", "<iframe", "@import"]
        let safe = lower.hasPrefix("<svg ") && lower.hasSuffix("</svg>") && !banned.contains(where: lower.contains)
            && lower.firstMatch(of: /\son[a-z]+\s*=/) == nil
        return safe ? "<figure>" + svg + "</figure>" : "<pre>" + escape(text) + "</pre>"
    }

    /// A value that is not a table: a paragraph, or preformatted when it has several lines
    /// (a chart drawn in text).
    public static func scalar(_ v: Value) -> String {
        let text = Format.plain(v)
        return text.contains("\n") ? "<pre>" + escape(text) + "</pre>" : "<p class=\"value\">" + escape(text) + "</p>"
    }

    /// The page around the rendered results.
    public static func document(title: String, subtitle: String?, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        \(css)
        </style>
        </head>
        <body>
        <header>
        <h1>\(escape(title))</h1>
        \(subtitle.map { "<p class=\"meta\">" + escape($0) + "</p>" } ?? "")
        </header>
        <main>
        \(body)
        </main>
        </body>
        </html>

        """
    }

    static let css = """
        :root { --ink: #1d232b; --muted: #5f6b7a; --rule: #d8dde3; --band: #f4f6f8;
                --green: #1e7f4f; --green-bg: #e3f4ea; --yellow: #8a6100; --yellow-bg: #fdf3d6;
                --red: #a8262b; --red-bg: #fbe4e4; }
        * { box-sizing: border-box; }
        body { margin: 0 auto; max-width: 1180px; padding: 24px 32px 48px; color: var(--ink);
               font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
        header { border-bottom: 3px solid var(--ink); margin-bottom: 8px; }
        h1 { font-size: 26px; margin: 0 0 4px; }
        .meta { color: var(--muted); margin: 0 0 12px; }
        h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--rule); }
        table { border-collapse: collapse; width: 100%; margin: 4px 0 12px; }
        th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--rule); vertical-align: top; }
        th { background: var(--band); font-weight: 600; white-space: nowrap; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        td.null { color: var(--muted); }
        td.health { font-weight: 600; text-transform: uppercase; font-size: 12px; letter-spacing: .04em; }
        td.green { color: var(--green); background: var(--green-bg); }
        td.yellow { color: var(--yellow); background: var(--yellow-bg); }
        td.red { color: var(--red); background: var(--red-bg); }
        pre { font: 13px/1.3 "DejaVu Sans Mono", Menlo, Consolas, monospace; background: var(--band); padding: 10px; overflow-x: auto; }
        p.value { font-size: 16px; font-weight: 600; }
        svg.spark { display: block; }
        figure { margin: 4px 0 12px; overflow-x: auto; }
        svg.org text { font: 12px system-ui, "DejaVu Sans", sans-serif; fill: var(--ink); }
        svg.org rect.known { fill: var(--green-bg); stroke: var(--green); }
        svg.org rect.unknown { fill: #fff; stroke: #98a2ad; stroke-dasharray: 3 2; }
        svg.org path { fill: none; stroke: #98a2ad; }
        svg.spark rect { fill: #3b5b7a; }
        p.empty { color: var(--muted); }
        @media print {
          body { max-width: none; padding: 0; font-size: 11px; }
          h2 { break-after: avoid; }
          tr { break-inside: avoid; }
          th { background: #eee !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
          td.green, td.yellow, td.red { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
        }
        """
}
