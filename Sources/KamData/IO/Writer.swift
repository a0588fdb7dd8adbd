import KamSyntax

/// Output formats for results.
public enum OutputFormat: String, CaseIterable, Sendable {
    case table, csv, tsv, json, jsonl, markdown
    /// One `column = value` line per field, a blank line between rows: for a wide row.
    case line
    /// One self-contained HTML page of every result (HTMLPage), for a report to share.
    case html
}

/// Renders values for stdout. A table prints as rows; a record or a row as a one-row
/// table; a list as one column named `value`; a scalar as itself.
public struct Writer {
    public var format: OutputFormat
    /// Terminal width for the table format; nil when not writing to a terminal (no truncation).
    public var maxWidth: Int?
    /// How a null shows in a table on the terminal.
    public var nullText = "null"
    /// Thousands separators in tables on the terminal (`:thousands on`).
    public var thousands = false
    /// Maximum rows shown in the table format (nil: all); the rest are summarised.
    public var maxRows: Int?
    /// What the note under a cut table says to do to see every row: the command line's
    /// option, or the REPL's meta command.
    public var seeAll = "--format csv"
    public var color: Bool

    public init(format: OutputFormat, maxWidth: Int? = nil, maxRows: Int? = nil, color: Bool = false) {
        self.format = format
        self.maxWidth = maxWidth
        self.maxRows = maxRows
        self.color = color
    }

    public func render(_ value: Value) -> String {
        if format == .json || format == .jsonl {
            switch value {
            case .list, .record: return JSON.encode(value) + "\n"
            default: break
            }
        }
        switch value {
        case .table(let t): return renderTable(t)
        case .record(let r) where Writer.isFigure(r):
            // A drawing with its text: the page draws it, every other format shows the text.
            if format == .html, case .string(let svg)? = r["svg"], case .string(let text)? = r["text"] { return HTMLPage.figure(svg, text: text) + "\n" }
            return render(r["text"] ?? .null)
        case .record(let r) where Writer.isReport(r): return renderSections(r)
        case .record(let r): return renderTable(Table.fromRecords([r]))
        case .row(let t, let i): return renderTable(t.gather([i]))
        case .list(let items): return renderTable(Table(names: ["value"], columns: [Column.from(items)], count: items.count))
        default: return renderScalar(value)
        }
    }

    public func renderScalar(_ v: Value) -> String {
        switch format {
        case .json, .jsonl: return JSON.encode(v) + "\n"
        case .csv:
            // One field of CSV: quoted when it holds a comma, a quote or a line break.
            var b: [UInt8] = []
            CSVWriter.appendString(Format.plain(v), &b, UInt8(ascii: ","))
            return String(decoding: b, as: UTF8.self) + "\n"
        case .html: return HTMLPage.scalar(v) + "\n"
        // A text of several lines (a chart, an org chart) as a code block, so a wiki keeps its lines.
        case .markdown where Format.plain(v).contains("\n"): return "```\n" + Format.plain(v) + "\n```\n\n"
        // (Text, not markup, as in a table's cells.)
        case .markdown: return Format.plain(v).replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;") + "\n"
        default: return Format.plain(v) + "\n"
        }
    }

    public func renderTable(_ t: Table) -> String {
        switch format {
        case .table: return TableLayout(table: t, maxWidth: maxWidth, maxRows: maxRows, color: color, nullText: nullText, thousands: thousands, seeAll: seeAll).render()
        case .line:
            let width = t.names.map(displayWidth).max() ?? 0
            var out = ""
            for i in 0..<t.count {
                if i > 0 { out += "\n" }
                for (n, c) in zip(t.names, t.columns) {
                    let v = c.value(at: i)
                    out += String(repeating: " ", count: width - displayWidth(n)) + n + " = " + (v.isNull ? nullText : cellText(v)) + "\n"
                }
            }
            return out
        case .csv: return String(decoding: CSVWriter.bytes(t), as: UTF8.self)
        case .tsv: return tsv(t)
        case .json:
            if t.count == 0 { return "[]\n" }
            var out = "[\n"
            for i in 0..<t.count {
                out += "  " + JSON.object(t, i) + (i + 1 < t.count ? ",\n" : "\n")
            }
            return out + "]\n"
        case .jsonl:
            var out = ""
            for i in 0..<t.count { out += JSON.object(t, i) + "\n" }
            return out
        // A blank line after each table, so two results are two tables.
        case .markdown: return markdown(t) + "\n"
        case .html: return HTMLPage.table(t, cellText: viewText) + "\n"
        }
    }

    /// `{text: ..., svg: ...}`: a figure (`org_chart` as a tree and as a drawing).
    public static func isFigure(_ r: Record) -> Bool {
        guard r.keys.sorted() == ["svg", "text"], case .string? = r["svg"], case .string? = r["text"] else { return false }
        return true
    }

    /// A record holding a table is a report (`monday(accounts)` of `import reports`): each
    /// field a section headed by its name, `title` its title.
    public static func isReport(_ r: Record) -> Bool {
        r.values.contains { if case .table = $0 { true } else { false } }
    }

    /// A report record's sections, in field order: its `title`, then a heading and the
    /// value of each other field (a record of figures as a one-row table).
    public func renderSections(_ r: Record) -> String {
        var out = ""
        for (k, v) in zip(r.keys, r.values) {
            if k == "title", case .string(let title) = v {
                out += renderTitle(title)
                continue
            }
            if k == "subtitle", case .string(let line) = v {
                switch format {
                case .markdown: out += "_" + line + "_\n\n"
                case .table, .line: out += line + "\n\n"
                default: break  // (HTML: the line under the page's title)
                }
                continue
            }
            if !out.isEmpty && !out.hasSuffix("\n\n") && [.table, .line, .markdown].contains(format) { out += "\n" }
            out += renderHeading(k)
            out += render(v)
        }
        return out
    }

    /// A report's title: `#` in markdown, a bold (or capitalised) line on the terminal;
    /// HTML puts it in the page's title and `<h1>`, data formats have none.
    public func renderTitle(_ title: String) -> String {
        switch format {
        case .markdown: return "# " + title + "\n\n"
        case .table, .line: return (color ? "\u{1B}[1m" + title + "\u{1B}[0m" : title.uppercased()) + "\n\n"
        default: return ""
        }
    }

    /// The heading of a section of a report (a `# section:` comment before a statement):
    /// a title line on the terminal, `##` in markdown, `<h2>` in HTML; data formats
    /// (csv, json, ...) have none.
    public func renderHeading(_ title: String) -> String {
        switch format {
        case .table, .line:
            let rule = String(repeating: "─", count: max(3, displayWidth(title)))
            return color ? "\u{1B}[1m\(title)\u{1B}[0m\n\(rule)\n" : "\(title)\n\(rule)\n"
        case .markdown: return "## " + title + "\n\n"
        case .html: return "<h2>" + HTMLPage.escape(title) + "</h2>\n"
        case .csv, .tsv, .json, .jsonl: return ""
        }
    }

    /// A cell's text in a view people read (markdown, the HTML page): floats as the terminal
    /// shows them, so a number is the same in every view (csv and json keep every digit).
    public func viewText(_ v: Value) -> String {
        if case .float(let x) = v { return TableLayout.displayFloat(x) }
        return cellText(v)
    }

    public func cellText(_ v: Value) -> String {
        switch v {
        case .null: return ""
        case .string(let s): return s
        default: return Format.literal(v, depth: 0)
        }
    }

    /// Tab-separated values: tabs, newlines and backslashes inside fields are escaped.
    public func tsv(_ t: Table) -> String {
        func field(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t")
                .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
        }
        var out = t.names.map(field).joined(separator: "\t") + "\n"
        for i in 0..<t.count {
            out += t.columns.map { field(cellText($0.value(at: i))) }.joined(separator: "\t") + "\n"
        }
        return out
    }

    public func markdown(_ t: Table) -> String {
        // (Text, not markup: a name with <b> in it shows as written.)
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "&", with: "&amp;")
                .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: "\n", with: "<br>")
        }
        var out = "| " + t.names.map(esc).joined(separator: " | ") + " |\n"
        out += "|" + t.columns.map { TableLayout.isNumeric($0) ? " ---: |" : " --- |" }.joined() + "\n"
        for i in 0..<t.count {
            out += "| " + t.columns.map { esc(viewText($0.value(at: i))) }.joined(separator: " | ") + " |\n"
        }
        if t.count == 0 { out += "\n(0 rows)\n" }
        return out
    }
}

/// JSON text for values: numbers as numbers, null as null, dates as "YYYY-MM-DD".
public enum JSON {
    public static func encode(_ v: Value, depth: Int = 0) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .float(let f): return f.isFinite ? Format.float(f) : "null"
        case .string(let s): return quote(s)
        case .date(let d): return quote(Calendar.format(d))
        case .duration(let d): return quote(d.description)
        case .list(let xs):
            if depth > 64 { return "null" }
            return "[" + xs.map { encode($0, depth: depth + 1) }.joined(separator: ", ") + "]"
        case .record(let r):
            if depth > 64 { return "null" }
            return "{" + zip(r.keys, r.values).map { quote($0) + ": " + encode($1, depth: depth + 1) }.joined(separator: ", ") + "}"
        case .row(let t, let i): return object(t, i)
        case .table(let t):
            return "[" + (0..<t.count).map { object(t, $0) }.joined(separator: ", ") + "]"
        case .function: return quote(Format.literal(v))
        }
    }

    public static func object(_ t: Table, _ i: Int) -> String {
        "{" + zip(t.names, t.columns).map { quote($0) + ": " + encode($1.value(at: i), depth: 1) }.joined(separator: ", ") + "}"
    }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
