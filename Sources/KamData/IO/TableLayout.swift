import Foundation
import KamSyntax

/// Box-drawn tables for the terminal: numbers right-aligned, widths by display width
/// (wide CJK characters count two cells, combining marks none).
public struct TableLayout {
    public let table: Table
    public let maxWidth: Int?
    public let maxRows: Int?
    public let color: Bool
    public var nullText = "null"
    /// Thousands separators in numbers (1,234,567.5), on request.
    public var thousands = false
    /// How to see every row, for the note under a cut table (`--format csv`, `:format csv`).
    public var seeAll = "--format csv"

    public init(table: Table, maxWidth: Int?, maxRows: Int?, color: Bool, nullText: String = "null", thousands: Bool = false,
                seeAll: String = "--format csv") {
        self.table = table
        self.maxWidth = maxWidth
        self.maxRows = maxRows
        self.color = color
        self.nullText = nullText
        self.thousands = thousands
        self.seeAll = seeAll
    }

    public static func isNumeric(_ c: Column) -> Bool {
        switch c.storage {
        case .int, .float: true
        default: false
        }
    }

    public func cell(_ v: Value) -> String {
        switch v {
        case .null: return nullText
        case .string(let s): return s.replacingOccurrences(of: "\n", with: "↵").replacingOccurrences(of: "\t", with: " ")
        default: return Format.literal(v, depth: 0)
        }
    }

    /// A float as a person reads it in a table: ten significant digits at the most, six
    /// decimals at the most, trailing zeros dropped (30.299999999999997 shows 30.3,
    /// 18293596.62000001 shows 18293596.62); very large and very small ones as they are.
    /// CSV and JSON keep every digit.
    public static func displayFloat(_ x: Double) -> String {
        let a = abs(x)
        if !x.isFinite || (a != 0 && (a >= 1e15 || a < 1e-6)) { return Format.float(x) }
        let digits = a < 1 ? 1 : Int(log10(a)) + 1
        let decimals = max(1, min(6, 10 - digits))
        var s = String(format: "%.\(decimals)f", x)
        while s.hasSuffix("0") && !s.hasSuffix(".0") { s.removeLast() }
        if s == "-0.0" { s = "0.0" }
        return s
    }

    /// A float column's cells with their decimal points lined up.
    static func alignedFloats(_ texts: [String]) -> [String] {
        let fractions = texts.map { t -> Int? in
            guard !t.contains("e"), let dot = t.firstIndex(of: ".") else { return nil }
            return t.distance(from: dot, to: t.endIndex) - 1
        }
        let widest = fractions.compactMap { $0 }.max() ?? 0
        return zip(texts, fractions).map { t, f in f.map { t + String(repeating: " ", count: widest - $0) } ?? t }
    }

    public func render() -> String {
        let t = table
        if t.names.isEmpty { return "(empty table)\n" }
        var shown = t.count
        var omitted = 0
        if let maxRows, t.count > maxRows {
            shown = max(1, maxRows)
            omitted = t.count - shown
        }
        var cells: [[String]] = []
        cells.reserveCapacity(shown)
        for i in 0..<shown { cells.append(t.columns.map { cell($0.value(at: i)) }) }
        // Float columns as people read them, decimal points aligned.
        for (c, col) in t.columns.enumerated() {
            if thousands, case .int = col.storage {
                for i in 0..<shown where col.isValid(i) { cells[i][c] = Format.groupThousands(cells[i][c]) }
            }
            guard case .float(let xs) = col.storage else { continue }
            let texts = (0..<shown).map { col.isValid($0) ? (thousands ? Format.groupThousands(TableLayout.displayFloat(xs[$0])) : TableLayout.displayFloat(xs[$0])) : cells[$0][c] }
            let valid = (0..<shown).filter { col.isValid($0) }
            let aligned = TableLayout.alignedFloats(valid.map { texts[$0] })
            for (k, i) in valid.enumerated() { cells[i][c] = aligned[k] }
        }
        var widths = t.names.map(displayWidth)
        for row in cells { for (c, s) in row.enumerated() { widths[c] = max(widths[c], displayWidth(s)) } }
        let numeric = t.columns.map(TableLayout.isNumeric)
        // Fit the terminal: first shorten the widest text columns (down to 12 cells, the
        // rest shown as …), then leave out middle columns, keeping the first and last ones
        // with a … column between them, as DuckDB does.
        var layout: [Int?] = Array(0..<t.names.count)
        var hidden: [Int] = []
        if let maxWidth {
            func total(_ cols: [Int?]) -> Int { 1 + cols.reduce(0) { $0 + ($1.map { widths[$0] } ?? 1) + 3 } }
            let floor = 12
            while total(layout) > maxWidth {
                guard let widest = t.names.indices.filter({ !numeric[$0] && widths[$0] > floor }).max(by: { widths[$0] < widths[$1] }) else { break }
                widths[widest] -= 1
            }
            if total(layout) > maxWidth {
                var left: [Int] = [], right: [Int] = []
                var l = 0, r = t.names.count - 1
                var takeLeft = true
                while l <= r {
                    let c = takeLeft ? l : r
                    let trial: [Int?] = left + (takeLeft ? [c] : []) + [nil] + (takeLeft ? [] : [c]) + right
                    if total(trial) > maxWidth && !(left.isEmpty && takeLeft) { break }
                    if takeLeft { left.append(c); l += 1 } else { right.insert(c, at: 0); r -= 1 }
                    takeLeft.toggle()
                }
                hidden = l <= r ? Array(l...r) : []
                layout = hidden.isEmpty ? (left + right).map { $0 } : left.map { $0 } + [nil] + right.map { $0 }
                if layout.count <= 2, let only = left.first, widths[only] + 8 > maxWidth { widths[only] = max(3, maxWidth - 8) }
            }
        }
        func clip(_ s: String, _ w: Int) -> String {
            if displayWidth(s) <= w { return s }
            var out = ""
            var used = 0
            for ch in s {
                let cw = displayWidth(String(ch))
                if used + cw > w - 1 { break }
                out.append(ch)
                used += cw
            }
            return out + "…"
        }
        func pad(_ s: String, _ w: Int, right: Bool) -> String {
            let s = clip(s, w)
            let fill = String(repeating: " ", count: max(0, w - displayWidth(s)))
            return right ? fill + s : s + fill
        }
        let cols = layout
        func rule(_ l: String, _ m: String, _ r: String) -> String {
            l + cols.map { String(repeating: "─", count: ($0.map { widths[$0] } ?? 1) + 2) }.joined(separator: m) + r + "\n"
        }
        var out = rule("┌", "┬", "┐")
        let bold = color ? "\u{1B}[1m" : "", reset = color ? "\u{1B}[0m" : ""
        out += "│" + cols.map { c in c.map { " " + bold + pad(t.names[$0], widths[$0], right: numeric[$0]) + reset + " " } ?? " … " }.joined(separator: "│") + "│\n"
        out += rule("├", "┼", "┤")
        let dim = color ? "\u{1B}[2m" : ""
        for (i, row) in cells.enumerated() {
            out += "│" + cols.map { column in
                guard let c = column else { return " … " }
                let isNull = !t.columns[c].isValid(i)
                let text = pad(row[c], widths[c], right: numeric[c])
                // Health reads at a glance: green, yellow, red in their colours.
                if color, t.names[c] == "health", let code = ["green": "32", "yellow": "33", "red": "31"][row[c]] {
                    return " \u{1B}[\(code)m" + text + reset + " "
                }
                return " " + (isNull ? dim + text + reset : text) + " "
            }.joined(separator: "│") + "│\n"
        }
        out += rule("└", "┴", "┘")
        var notes: [String] = []
        if t.count == 0 { notes.append("(0 rows)") }
        if omitted > 0 { notes.append("\(t.count) rows, \(omitted) not shown (use | take N, or \(seeAll) to see all)") }
        if !hidden.isEmpty { notes.append("\(hidden.count) column\(hidden.count == 1 ? "" : "s") not shown: " + hidden.map { t.names[$0] }.joined(separator: ", ")) }
        for n in notes { out += n + "\n" }
        return out
    }
}
