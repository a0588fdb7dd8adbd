import KamRuntime
import KamEngine
import KamData
import KamSyntax

/// ABC (Pareto) classes, quantiles, RFM and the KAM portfolio matrix.
enum Segmentation {
    static let list: [Builtin] = [
        Builtin("abc", ["table", "value", "cuts?"], .verb,
            "ABC classes by cumulative share of value, largest first: abc revenue (cuts: [0.8, 0.95]); adds share, cum_share and class.",
            .special(abc)).producing(.adds(["share", "cum_share", "class"])),
        Builtin("quantile", ["table", "value", "n?", "name?"], .verb,
            "Quantile groups of value, 1 (lowest) to n (default 5), in a column named quantile (or name: \"...\"): quantile revenue, n: 4.",
            .special(quantile)).producing(.adds(["quantile"])),
        Builtin("rfm", ["table", "recency", "frequency", "monetary"], .verb,
            "RFM: quintile scores 1-5 (5 = most recent, most frequent, most spent), an rfm code such as \"545\", and a named segment.",
            .special(rfm)).producing(.adds(["r_score", "f_score", "m_score", "rfm", "segment"])),
        Builtin("portfolio", ["table", "attractiveness", "strength", "split?", "labels?"], .verb,
            "KAM portfolio matrix: attractiveness x relative strength, split at the medians (or split: {attractiveness: a, strength: s}), into strategic, key development, maintenance and opportunistic.",
            .special(portfolio)).producing(.adds(["quadrant"])),
    ]

    static func abc(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(["cuts", "value"])
        let t = try site.inputTable()
        guard let (col, name, range) = try site.expressionColumn(t, option: "value", positional: 1) else {
            throw site.fail("abc needs the value to classify by", hints: ["usage: accounts | abc revenue"])
        }
        var cuts = [0.8, 0.95]
        if let c = try site.option("cuts") {
            guard case .list(let xs) = c, xs.count == 2, let a = xs[0].asDouble, let b = xs[1].asDouble, a > 0, a < b, b <= 1 else {
                throw site.interp.fail("cuts must be two increasing shares between 0 and 1: cuts: [0.8, 0.95]", site.optionRange("cuts"))
            }
            cuts = [a, b]
        }
        let xs = try site.numbers(col, name: name, at: range, role: "abc")
        try site.requireNonNegative(xs, in: t, name: name, at: range, role: "abc")
        // Largest first, ties in input order, nulls last (a stable radix sort on the value).
        let present = xs.indices.filter { xs[$0] != nil }
        let keyed = RadixSort.order(present.map { RadixSort.key(xs[$0] ?? 0) }, descending: true).map { present[$0] }
        let order = keyed + xs.indices.filter { xs[$0] == nil }
        let total = Reduce.sum(xs.compactMap { $0 })
        var share = [Double](repeating: 0, count: t.count), cum = [Double](repeating: 0, count: t.count)
        var codes = [UInt32](repeating: 0, count: t.count)
        var running = Reduce.Compensated()
        var before = 0.0
        for i in keyed {
            let x = xs[i] ?? 0
            running.add(x)
            let c = total > 0 ? running.value / total : 1
            share[i] = total > 0 ? x / total : 0
            cum[i] = c
            // An account's class is where its share starts: the one that crosses a cut is
            // in the class it crosses from, so the largest account is always A, and with a
            // total of 0 nothing is.
            codes[i] = total <= 0 ? 2 : before < cuts[0] - 1e-12 ? 0 : before < cuts[1] - 1e-12 ? 1 : 2
            before = c
        }
        var validity: Bitmap? = nil
        if keyed.count < t.count {
            var b = Bitmap(count: t.count, allValid: true)
            for i in xs.indices where xs[i] == nil { b[i] = false }
            validity = b
        }
        let sorted = adding(t, [
            ("share", Column(storage: .float(share), validity: validity)), ("cum_share", Column(storage: .float(cum), validity: validity)),
            ("class", Column(storage: .string(StringColumn(codes: codes, dictionary: ["A", "B", "C"])), validity: validity)),
        ])
        return .table(sorted.gather(order))
    }

    /// Groups 1...n by ascending value: row k of m (0-based, ties in input order) is in
    /// group floor(k * n / m) + 1.
    static func groups(_ xs: [Double?], _ n: Int, descending: Bool = false) -> [Int?] {
        // By value, ties in row order: the stable radix sort of the engine's sort.
        var values: [Double] = [], rows: [Int32] = [], keys: [UInt64] = []
        values.reserveCapacity(xs.count)
        rows.reserveCapacity(xs.count)
        keys.reserveCapacity(xs.count)
        for (i, x) in xs.enumerated() {
            if let x {
                values.append(x)
                rows.append(Int32(truncatingIfNeeded: i))
                keys.append(RadixSort.key(x))
            }
        }
        let order = RadixSort.orderRows(keys, descending: descending)
        var out = [Int?](repeating: nil, count: xs.count)
        // Equal values share the group of the first of them.
        let m = order.count
        var k = 0
        while k < m {
            let v = values[Int(order[k])]
            var j = k
            while j + 1 < m && values[Int(order[j + 1])] == v { j += 1 }
            let g = k * n / m + 1
            for q in k...j { out[Int(rows[Int(order[q])])] = g }
            k = j + 1
        }
        return out
    }

    static func quantile(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(["n", "name", "value"])
        let t = try site.inputTable()
        guard let (col, name, range) = try site.expressionColumn(t, option: "value", positional: 1) else {
            throw site.fail("quantile needs the value to group by", hints: ["usage: accounts | quantile revenue, n: 5"])
        }
        var n = 5
        if let v = try site.option("n") {
            guard case .int(let k) = v, k >= 2, k <= 1000 else { throw site.interp.fail("n must be a whole number from 2 to 1000", site.optionRange("n")) }
            n = Int(k)
        }
        var out = "quantile"
        if let v = try site.option("name") {
            guard case .string(let s) = v else { throw site.interp.fail("name must be a column name: name: \"rq\"", site.optionRange("name")) }
            out = s
        }
        let xs = try site.numbers(col, name: name, at: range, role: "quantile")
        return .table(adding(t, [(out, Column.from(groups(xs, n).map { $0.map { .int(Int64($0)) } ?? .null }))]))
    }

    /// The named RFM segments, first match wins (scores 1-5).
    static let segments: [(String, @Sendable (Int, Int, Int) -> Bool)] = [
        ("champions", { r, f, m in r >= 4 && f >= 4 && m >= 4 }),
        ("loyal", { r, f, _ in r >= 3 && f >= 4 }),
        ("big spenders", { r, _, m in r >= 3 && m >= 5 }),
        ("new", { r, f, _ in r >= 4 && f <= 2 }),
        ("promising", { r, f, _ in r >= 3 && f <= 3 }),
        ("at risk", { r, f, _ in r <= 2 && f >= 3 }),
        ("hibernating", { r, f, _ in r <= 2 && f <= 2 }),
    ]

    static func rfm(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(["recency", "frequency", "monetary"])
        let t = try site.inputTable()
        var scores: [[Int?]] = []
        for (role, lowerIsBetter) in [("recency", true), ("frequency", false), ("monetary", false)] {
            guard let (col, name, range) = try site.expressionColumn(t, option: role) else {
                throw site.fail("rfm needs \(role): an expression per account", hints: ["usage: accounts | rfm recency: days_since(max(orders.date)), frequency: count(orders), monetary: sum(orders.amount)"])
            }
            let xs = try site.numbers(col, name: name, at: range, role: "rfm \(role)")
            // Recency is days since: fewer days score higher.
            scores.append(groups(xs, 5, descending: lowerIsBetter))
        }
        if let whole = typedRFM(scores, t.count) {
            return .table(adding(t, whole))
        }
        var r = [Value](), f = [Value](), m = [Value](), code = [Value](), segment = [Value]()
        for i in 0..<t.count {
            guard let a = scores[0][i], let b = scores[1][i], let c = scores[2][i] else {
                r.append(scores[0][i].map { .int(Int64($0)) } ?? .null)
                f.append(scores[1][i].map { .int(Int64($0)) } ?? .null)
                m.append(scores[2][i].map { .int(Int64($0)) } ?? .null)
                code.append(.null)
                segment.append(.null)
                continue
            }
            r.append(.int(Int64(a)))
            f.append(.int(Int64(b)))
            m.append(.int(Int64(c)))
            code.append(.string("\(a)\(b)\(c)"))
            segment.append(.string(segments.first { $0.1(a, b, c) }?.0 ?? "needs attention"))
        }
        return .table(adding(t, [("r_score", Column.from(r)), ("f_score", Column.from(f)), ("m_score", Column.from(m)), ("rfm", Column.from(code)), ("segment", Column.from(segment))]))
    }

    /// The rfm columns without a boxed value per row, when every row has its three scores:
    /// the same columns (codes and segments dictionary-encoded in order of first appearance).
    static func typedRFM(_ scores: [[Int?]], _ n: Int) -> [(String, Column)]? {
        guard n > 0 else { return nil }
        var r = [Int64](), f = [Int64](), m = [Int64]()
        r.reserveCapacity(n); f.reserveCapacity(n); m.reserveCapacity(n)
        var code = KeyedStringBuilder(), segment = KeyedStringBuilder()
        for i in 0..<n {
            guard let a = scores[0][i], let b = scores[1][i], let c = scores[2][i], (1...5).contains(a), (1...5).contains(b), (1...5).contains(c)
            else { return nil }
            r.append(Int64(a)); f.append(Int64(b)); m.append(Int64(c))
            code.append(key: (a - 1) * 25 + (b - 1) * 5 + (c - 1)) { "\(a)\(b)\(c)" }
            let k = segments.firstIndex { $0.1(a, b, c) } ?? segments.count
            segment.append(key: k) { k < segments.count ? segments[k].0 : "needs attention" }
        }
        return [("r_score", Column(storage: .int(r))), ("f_score", Column(storage: .int(f))), ("m_score", Column(storage: .int(m))),
                ("rfm", code.column()), ("segment", segment.column())]
    }

    static let portfolioLabels = ["strategic", "key development", "maintenance", "opportunistic"]

    static func portfolio(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(["attractiveness", "strength", "split", "labels"])
        let t = try site.inputTable()
        guard let (ac, an, ar) = try site.expressionColumn(t, option: "attractiveness"),
            let (sc, sn, sr) = try site.expressionColumn(t, option: "strength")
        else {
            throw site.fail("portfolio needs attractiveness and strength", hints: ["usage: accounts | portfolio attractiveness: score, strength: share_of_wallet"])
        }
        let a = try site.numbers(ac, name: an, at: ar, role: "attractiveness")
        let s = try site.numbers(sc, name: sn, at: sr, role: "strength")
        func median(_ xs: [Double?]) -> Double? {
            guard case .float(let m) = (try? Aggregates.percentile(xs.compactMap { $0 }, 0.5)) ?? .null else { return nil }
            return m
        }
        var aSplit = median(a), sSplit = median(s)
        if let v = try site.option("split") {
            guard case .record(let r) = v, let x = r["attractiveness"]?.asDouble, let y = r["strength"]?.asDouble, r.keys.count == 2 else {
                throw site.interp.fail("split must give both values: split: {attractiveness: 5, strength: 0.3}", site.optionRange("split"))
            }
            aSplit = x
            sSplit = y
        }
        var labels = portfolioLabels
        if let v = try site.option("labels") {
            guard case .record(let r) = v else { throw site.interp.fail("labels must map quadrants to names: labels: {strategic: \"Invest\"}", site.optionRange("labels")) }
            for (k, name) in zip(r.keys, r.values) {
                guard let i = portfolioLabels.firstIndex(of: k), case .string(let text) = name else {
                    throw site.interp.fail("unknown quadrant '\(k)' in labels", site.optionRange("labels"), hints: [Suggest.hint(k, in: portfolioLabels) ?? "quadrants: " + portfolioLabels.joined(separator: ", ")])
                }
                labels[i] = text
            }
        }
        // High is at or above the split.
        let quadrant: [Value] = (0..<t.count).map { i in
            guard let x = a[i], let y = s[i], let as_ = aSplit, let ss = sSplit else { return .null }
            switch (x >= as_, y >= ss) {
            case (true, true): return .string(labels[0])
            case (true, false): return .string(labels[1])
            case (false, true): return .string(labels[2])
            case (false, false): return .string(labels[3])
            }
        }
        return .table(adding(t, [("quadrant", Column.from(quadrant))]))
    }
}
