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
///     accounts | derive revenue = sum(orders.amount) | chart pareto revenue
///
/// A bar chart sums the value by each label (largest first); a line chart sums it by each
/// x, in x's order; a histogram counts the values in ten equal bins; a Pareto chart is the
/// cumulative share of the value from the largest down (bars with the running share for a
/// few labels, the curve for many); a Lorenz curve is the cumulative share from the smallest
/// up, against equality, with its Gini coefficient. Unicode blocks, or plain ASCII with
/// `ascii: true` or when NO_COLOR is set; `svg: "file.svg"` also writes the chart as SVG.
enum Charts {
    static let kinds = Builtin.chartKinds
    /// A Pareto chart by label draws a bar per label up to this many labels, the curve beyond.
    static let paretoBars = 30

    static let list: [Builtin] = [
        Builtin("chart", ["table", "kind", "value", "ascii?", "svg?", "width?"], .verb,
            "A chart as text: chart bar VALUE by LABEL, chart line VALUE by X, chart hist VALUE, chart pareto VALUE (by LABEL), chart lorenz VALUE (by LABEL); ascii: true for plain characters, svg: \"file.svg\" to write SVG too.",
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
        if (kind == "bar" || kind == "line") && by == nil {
            throw site.fail("chart \(kind) needs by: chart \(kind) \(site.interp.currentSource.slice(valueArg.value.range)) by \(kind == "bar" ? "region" : "month")")
        }
        var ascii = site.interp.options.plainText
        if case .bool(let b)? = try site.option("ascii") { ascii = b }
        var width = 40
        if let v = try site.option("width") {
            guard case .int(let w) = v, w >= 5, w <= 400 else { throw site.interp.fail("width must be a whole number from 5 to 400", site.optionRange("width")) }
            width = Int(w)
        }
        if kind == "pareto" || kind == "lorenz" {
            try site.requireNonNegative(values, in: t, name: Verbs.naturalName(valueArg.value, site.interp), at: valueArg.value.range, role: "a \(kind) chart")
        }
        // The points: (label, value), summed by label (bar, line) or counted in bins (hist).
        var points: [(String, Double)] = []
        switch kind {
        case "pareto" where by == nil, "lorenz" where by == nil:
            points = values.enumerated().compactMap { k, x in x.map { ("\(k + 1)", $0) } }
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
            if kind != "line" {
                keyed.sort { $0.1 != $1.1 ? $0.1 > $1.1 : Format.plain($0.0) < Format.plain($1.0) }
            } else {
                keyed.sort { ($0.0.compare($1.0) ?? 0) < 0 }
            }
            points = keyed.map { (Format.plain($0.0), $0.1) }
        }
        if let v = try site.option("svg") {
            guard case .string(let path) = v else { throw site.interp.fail("svg: names a file: svg: \"chart.svg\"", site.optionRange("svg")) }
            let full = TableReader.resolve(path, relativeTo: site.interp.currentSource.name)
            let curve = (kind == "pareto" && (by == nil || points.count > paretoBars)) || kind == "lorenz"
            let text = curve ? svgCurve(cumulativeShares(points.map(\.1), ascending: kind == "lorenz"), lorenz: kind == "lorenz") : svg(kind, points)
            do { try text.write(toFile: full, atomically: true, encoding: .utf8) } catch {
                throw site.interp.fail("cannot write '\(path)'", site.optionRange("svg"))
            }
        }
        let valueName = Verbs.naturalName(valueArg.value, site.interp)
        let unit = by.map { Verbs.naturalName($0.value, site.interp) } ?? (t.origin.map { $0.graph.entities[$0.entity].name } ?? "rows")
        switch kind {
        case "line": return .string(lineText(points, ascii: ascii))
        case "pareto" where by != nil && points.count <= paretoBars: return .string(paretoBarText(points, ascii: ascii, width: width))
        case "pareto", "lorenz":
            return .string(curveText(points.map(\.1), lorenz: kind == "lorenz", ascii: ascii, width: width, value: valueName, unit: unit))
        default: return .string(barText(points, ascii: ascii, width: width))
        }
    }

    /// The shares of the total held by the first k of `xs` sorted from the largest down
    /// (Pareto) or from the smallest up (Lorenz), for k = 0...n.
    static func cumulativeShares(_ xs: [Double], ascending: Bool) -> [Double] {
        let sorted = xs.sorted(by: ascending ? (<) : (>))
        let total = Reduce.sum(sorted)
        var shares = [0.0]
        shares.reserveCapacity(sorted.count + 1)
        // A compensated running sum (Neumaier), so the shares agree with `sum` and end at 1.
        var sum = 0.0, compensation = 0.0
        for x in sorted {
            let t = sum + x
            compensation += abs(sum) >= abs(x) ? (sum - t) + x : (x - t) + sum
            sum = t
            shares.append(total > 0 ? (sum + compensation) / total : 0)
        }
        if total > 0 { shares[shares.count - 1] = 1 }
        return shares
    }

    /// The Gini coefficient of non-negative values: 1 - 2 x the area under the Lorenz curve
    /// (trapezoids), 0 when all are equal, (n - 1) / n when one holds everything.
    static func gini(_ xs: [Double]) -> Double? {
        let shares = cumulativeShares(xs, ascending: true)
        let n = Double(xs.count)
        guard xs.count > 0, shares.last ?? 0 > 0 else { return nil }
        var area = 0.0
        for k in 1..<shares.count { area += (shares[k - 1] + shares[k]) / 2 / n }
        return max(0, 1 - 2 * area)
    }

    static func percent(_ x: Double) -> String {
        let p = (x * 1000).rounded() / 10
        return (p == p.rounded() ? String(Int(p)) : String(format: "%.1f", p)) + "%"
    }

    /// A Pareto chart for a few labels: a bar each, largest first, with the running share.
    static func paretoBarText(_ points: [(String, Double)], ascii: Bool, width: Int) -> String {
        let bars = barText(points, ascii: ascii, width: width).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let shares = cumulativeShares(points.map(\.1), ascending: false)
        let barWidth = bars.map(displayWidth).max() ?? 0
        return zip(bars, shares.dropFirst()).map { bar, share in
            bar + String(repeating: " ", count: barWidth - displayWidth(bar) + 2) + "cum. " + percent(share)
        }.joined(separator: "\n")
    }

    /// The cumulative-share curve, filled with blocks: the Pareto curve (largest first) with
    /// what the top 20% hold and how few make 80%, or the Lorenz curve (smallest first)
    /// against the line of equality (dots) with the Gini coefficient.
    static func curveText(_ xs: [Double], lorenz: Bool, ascii: Bool, width: Int, value: String, unit: String) -> String {
        guard !xs.isEmpty else { return "(no values)" }
        let shares = cumulativeShares(xs, ascending: lorenz)
        guard shares.last ?? 0 > 0 else { return "(all values are 0)" }
        let n = xs.count, rows = 10
        let blocks: [Character] = ascii ? [" ", ".", ".", ":", ":", "|", "|", "#", "#"] : [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let dot: Character = ascii ? "/" : "·"
        // The share at each column's right edge, interpolated between whole rows.
        let ys: [Double] = (0..<width).map { c in
            let at = Double(c + 1) / Double(width) * Double(n)
            let k = min(n - 1, Int(at))
            return shares[k] + (shares[k + 1] - shares[k]) * (at - Double(k))
        }
        var out: [String] = []
        for r in (0..<rows).reversed() {
            let line = String(ys.enumerated().map { c, y -> Character in
                let filled = y * Double(rows * 8) - Double(r * 8)
                if filled >= 8 { return blocks[8] }
                if filled >= 1 { return blocks[Int(filled)] }
                // The line of equality, where the curve is below it.
                if lorenz, Int(Double(c + 1) / Double(width) * Double(rows) - 0.5) == r { return dot }
                return r == 0 ? blocks[1] : blocks[0]
            })
            let axis = r == rows - 1 ? "100%" : r == rows / 2 ? "50%" : r == 0 ? "0%" : ""
            out.append(String(repeating: " ", count: 4 - axis.count) + axis + " │" + line)
        }
        let right = "100% of \(n) \(n == 1 && unit == "rows" ? "row" : unit)"
        out.append("      0%" + String(repeating: " ", count: max(1, width - 2 - right.count)) + right)
        if lorenz {
            out.append("Gini " + String(format: "%.3f", gini(xs) ?? 0) + " (0: all hold the same; 1: one holds all)")
        } else {
            let fifth = Int((Double(n) * 0.2).rounded(.up))
            let eighty = shares.firstIndex { $0 >= 0.8 - 1e-12 } ?? n
            out.append("the top 20% (\(fifth) of \(n)) hold \(percent(shares[fifth])) of \(value); "
                + "80% of \(value) comes from the top \(eighty) (\(percent(Double(eighty) / Double(n))))")
        }
        return out.joined(separator: "\n")
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

    /// A cumulative-share curve as SVG: the share of the value (up) against the share of the
    /// rows (across), with the line of equality for a Lorenz curve.
    static func svgCurve(_ shares: [Double], lorenz: Bool) -> String {
        let size = 320.0, margin = 40.0
        func x(_ f: Double) -> String { Format.float(margin + f * size) }
        func y(_ f: Double) -> String { Format.float(margin + (1 - f) * size) }
        let n = Double(max(1, shares.count - 1))
        // At most 1,000 points: a curve of a million rows draws the same.
        let stride = max(1, shares.count / 1000)
        var picked = Swift.stride(from: 0, to: shares.count, by: stride).map { $0 }
        if picked.last != shares.count - 1 { picked.append(shares.count - 1) }
        let coords = picked.map { k in "\(x(Double(k) / n)),\(y(shares[k]))" }.joined(separator: " ")
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(size + 2 * margin))\" height=\"\(Int(size + 2 * margin))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        out += "<rect x=\"\(x(0))\" y=\"\(y(1))\" width=\"\(Int(size))\" height=\"\(Int(size))\" fill=\"none\" stroke=\"#999\"/>\n"
        if lorenz { out += "<line x1=\"\(x(0))\" y1=\"\(y(0))\" x2=\"\(x(1))\" y2=\"\(y(1))\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>\n" }
        out += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"\(coords)\"/>\n"
        out += "<text x=\"\(x(0))\" y=\"\(Format.float(margin + size + 16))\">0%</text>"
        out += "<text x=\"\(x(1))\" y=\"\(Format.float(margin + size + 16))\" text-anchor=\"end\">100% of rows</text>\n"
        out += "<text x=\"\(Format.float(margin - 4))\" y=\"\(y(1))\" text-anchor=\"end\">100%</text>"
        out += "<text x=\"\(Format.float(margin - 4))\" y=\"\(y(0))\" text-anchor=\"end\">0%</text>\n"
        return out + "</svg>\n"
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
