import Foundation
import KamData
import KamEngine
import KamRuntime
import KamSyntax

/// Charts in the terminal, because people would rather look than read:
///
///     accounts | derive revenue = sum(orders.amount) | chart bar revenue by region
///     orders | derive m = trunc(date, "month") | chart line amount by m
///     accounts | derive revenue = sum(orders.amount) | chart hist revenue
///
/// A bar chart sums the value by each label (largest first); a line chart sums it by each
/// x, in x's order; a histogram counts the values in ten equal bins. Unicode blocks, or
/// plain ASCII with `ascii: true` or when NO_COLOR is set; `svg: "file.svg"` also writes
/// the chart as SVG.
enum Charts {
    static let kinds = ["bar", "line", "hist"]

    static let list: [Builtin] = [
        Builtin("chart", ["table", "kind", "value", "ascii?", "svg?", "width?"], .verb,
            "A chart as text: chart bar VALUE by LABEL, chart line VALUE by X, chart hist VALUE; ascii: true for plain characters, svg: \"file.svg\" to write SVG too.",
            .special(chart)),
    ]

    static func chart(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(["ascii", "svg", "width"])
        let t = try site.inputTable()
        let positional = site.positional
        guard positional.count >= 3, case .name(let kind) = positional[1].value.kind, kinds.contains(kind) else {
            var kindName = ""
            if positional.count > 1, case .name(let k) = positional[1].value.kind { kindName = k }
            throw site.fail(kindName.isEmpty ? "chart needs a kind and a value: chart bar revenue by region" : "unknown chart kind '\(kindName)'",
                hints: [Suggest.hint(kindName, in: kinds) ?? "kinds: " + kinds.joined(separator: ", ")])
        }
        let valueArg = positional[2]
        let values = try site.numbers(try site.interp.evalColumn(valueArg.value, over: t, site.env), name: Verbs.naturalName(valueArg.value, site.interp),
                                      at: valueArg.value.range, role: "a chart")
        let by = site.clause("by").first
        if kind != "hist" && by == nil {
            throw site.fail("chart \(kind) needs by: chart \(kind) \(site.interp.currentSource.slice(valueArg.value.range)) by \(kind == "bar" ? "region" : "month")")
        }
        var ascii = site.interp.options.plainText
        if case .bool(let b)? = try site.option("ascii") { ascii = b }
        var width = 40
        if let v = try site.option("width") {
            guard case .int(let w) = v, w >= 5, w <= 400 else { throw site.interp.fail("width must be a whole number from 5 to 400", site.optionRange("width")) }
            width = Int(w)
        }
        // The points: (label, value), summed by label (bar, line) or counted in bins (hist).
        var points: [(String, Double)] = []
        switch kind {
        case "hist":
            let xs = values.compactMap { $0 }
            guard let lo = xs.min(), let hi = xs.max() else { return .string("(no values)") }
            let bins = 10
            let step = hi > lo ? (hi - lo) / Double(bins) : 1
            var counts = [Double](repeating: 0, count: bins)
            for x in xs { counts[min(bins - 1, Int((x - lo) / step))] += 1 }
            points = (0..<bins).map { k in ("\(figure(lo + Double(k) * step))–\(figure(lo + Double(k + 1) * step))", counts[k]) }
        default:
            guard let by else { return .null }
            let labels = try site.interp.evalColumn(by.value, over: t, site.env)
            var sums: [HashKey: (Value, [Double])] = [:]
            var order: [HashKey] = []
            for i in 0..<t.count {
                let l = labels.value(at: i)
                let k = HashKey(l)
                if sums[k] == nil { order.append(k); sums[k] = (l, []) }
                if let x = values[i] { sums[k]?.1.append(x) }
            }
            var keyed = order.compactMap { k in sums[k].map { ($0.0, Reduce.sum($0.1)) } }
            if kind == "bar" {
                keyed.sort { $0.1 != $1.1 ? $0.1 > $1.1 : Format.plain($0.0) < Format.plain($1.0) }
            } else {
                keyed.sort { ($0.0.compare($1.0) ?? 0) < 0 }
            }
            points = keyed.map { (Format.plain($0.0), $0.1) }
        }
        if let v = try site.option("svg") {
            guard case .string(let path) = v else { throw site.interp.fail("svg: names a file: svg: \"chart.svg\"", site.optionRange("svg")) }
            let full = TableReader.resolve(path, relativeTo: site.interp.currentSource.name)
            do { try svg(kind, points).write(toFile: full, atomically: true, encoding: .utf8) } catch {
                throw site.interp.fail("cannot write '\(path)'", site.optionRange("svg"))
            }
        }
        return .string(kind == "line" ? lineText(points, ascii: ascii) : barText(points, ascii: ascii, width: width))
    }

    /// A figure on a chart: whole numbers with thousands separators, others to 4 digits.
    static func figure(_ x: Double) -> String {
        let r = roundish(x)
        if r == r.rounded() && abs(r) < 1e15 { return formatNumber(r, decimals: 0, separator: ",") }
        return Format.float(r)
    }

    /// Bin edges rounded to four significant digits, for labels.
    static func roundish(_ x: Double) -> Double {
        guard x != 0, x.isFinite else { return x }
        let p = pow(10, 3 - floor(log10(abs(x))))
        return (x * p).rounded() / p
    }

    /// One bar per point, scaled to the largest; eighths of a block at the end of each.
    static func barText(_ points: [(String, Double)], ascii: Bool, width: Int) -> String {
        guard let top = points.map({ abs($0.1) }).max(), top > 0 else { return points.map { $0.0 + " 0" }.joined(separator: "\n") }
        let labelWidth = min(30, points.map { displayWidth($0.0) }.max() ?? 0)
        let eighths: [String] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        return points.map { label, x in
            let cells = abs(x) / top * Double(width)
            var bar: String
            if ascii {
                bar = String(repeating: "#", count: Int(cells.rounded()))
            } else {
                bar = String(repeating: "█", count: Int(cells)) + eighths[min(7, Int((cells - floor(cells)) * 8))]
            }
            if x < 0 { bar = "-" + bar }
            let shown = displayWidth(label) > labelWidth ? String(label.prefix(labelWidth - 1)) + "…" : label
            return shown + String(repeating: " ", count: max(0, labelWidth - displayWidth(shown))) + " │ " + bar + " " + figure(x)
        }.joined(separator: "\n")
    }

    /// Eight rows of blocks, one column per point, with the range on the left.
    static func lineText(_ points: [(String, Double)], ascii: Bool) -> String {
        let ys = points.map(\.1)
        guard let lo = ys.min(), let hi = ys.max() else { return "(no values)" }
        let rows = 8
        let blocks: [Character] = ascii ? [" ", ".", ".", ":", ":", "|", "|", "#", "#"] : [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let span = hi > lo ? hi - lo : 1
        let heights = ys.map { ($0 - lo) / span * Double(rows * 8) }
        let top = figure(hi), bottom = figure(lo)
        let pad = max(top.count, bottom.count)
        var out: [String] = []
        for r in (0..<rows).reversed() {
            let line = String(heights.map { h -> Character in
                let filled = h - Double(r * 8)
                return filled >= 8 ? blocks[8] : filled <= 0 ? (r == 0 ? blocks[1] : blocks[0]) : blocks[max(1, Int(filled))]
            })
            let axis = r == rows - 1 ? top : r == 0 ? bottom : ""
            out.append(String(repeating: " ", count: pad - axis.count) + axis + " │" + line)
        }
        let first = points.first?.0 ?? "", last = points.last?.0 ?? ""
        out.append(String(repeating: " ", count: pad + 2) + first + String(repeating: " ", count: max(1, points.count - first.count - last.count)) + last)
        return out.joined(separator: "\n")
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// The same chart as SVG: bars for bar and hist, a polyline for line.
    static func svg(_ kind: String, _ points: [(String, Double)]) -> String {
        let w = 640.0, rowHeight = 24.0
        let top = points.map { abs($0.1) }.max() ?? 1
        if kind == "line" {
            let h = 240.0
            let ys = points.map(\.1)
            let lo = ys.min() ?? 0, hi = ys.max() ?? 1, span = hi > lo ? hi - lo : 1
            let step = points.count > 1 ? (w - 40) / Double(points.count - 1) : 0
            let coords = points.enumerated().map { k, p in "\(Format.float(20 + Double(k) * step)),\(Format.float(h - 20 - (p.1 - lo) / span * (h - 40)))" }
            return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\">\n"
                + "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"\(coords.joined(separator: " "))\"/>\n</svg>\n"
        }
        let h = rowHeight * Double(points.count) + 10
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        for (k, p) in points.enumerated() {
            let y = 5 + Double(k) * rowHeight
            let bw = top > 0 ? abs(p.1) / top * (w - 260) : 0
            out += "<text x=\"150\" y=\"\(Format.float(y + 16))\" text-anchor=\"end\">\(escape(p.0))</text>"
            out += "<rect x=\"160\" y=\"\(Format.float(y + 4))\" width=\"\(Format.float(bw))\" height=\"16\" fill=\"#1f77b4\"/>"
            out += "<text x=\"\(Format.float(166 + bw))\" y=\"\(Format.float(y + 16))\">\(escape(figure(p.1)))</text>\n"
        }
        return out + "</svg>\n"
    }
}
