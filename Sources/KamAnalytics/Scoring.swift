import KamRuntime
import KamEngine
import KamData
import KamSyntax

/// The weighted scoring matrix and key-account selection.
///
/// `accounts | score {revenue: 0.4, breadth: 0.2, recency: -0.2, fit: 0.2}` normalises
/// each criterion to 1-10 and adds `score` (the weighted mean) and one `score_<criterion>`
/// column each, so every score explains itself.
enum Scoring {
    static let list: [Builtin] = [
        Builtin("score", ["table", "weights", "scale?", "as_is?"], .verb,
            "Weighted scoring matrix: score {revenue: 0.4, recency: -0.2, ...}; each criterion scaled to 1-10 (scale: \"minmax\" or \"rank\"; as_is: [\"fit\"] keeps 1-10 columns), score = sum(|w| * s) / sum(|w|).",
            .special(score)).producing(.adds(["score"])),
        Builtin("key_accounts", ["table", "per_manager?", "limit?", "by?", "manager?"], .verb,
            "Pick key accounts by score within capacity: each manager (owner_id) serves at most per_manager (default 5), at most limit in all; adds key, key_rank, key_manager and left_out.",
            .special(keyAccounts)).producing(.adds(["key", "key_rank", "key_manager", "left_out"])),
        Builtin("kam_metrics", ["table"], .verb,
            "What each account looks like from its orders, the criteria the scoring presets use: revenue, lines, breadth (distinct products), recency (days since the last order) and, where orders have a cost, margin.",
            .special(metrics)).producing(.adds(["revenue", "lines", "breadth", "recency", "margin"])).needing(metricInputs),
    ]

    /// What kam_metrics reads. Without orders.cost there is no margin column (not a margin
    /// of 0): `score selection_weights` then says so, and `revenue_weights` needs none.
    static let metricInputs = [
        StageInput("revenue", "orders.amount", for: "revenue", expects: .number, group: "orders"),
        StageInput("date", "orders.date", for: "recency", expects: .date, group: "orders"),
        StageInput("product", "orders.product_id", for: "breadth", group: "orders"),
        StageInput("cost", "orders.cost", for: "margin", expects: .number, signal: "margin", optionalColumn: true, group: "orders"),
    ]

    static func metrics(_ site: inout CallSite) throws -> Value {
        try site.checkNamed([])
        let t = try site.inputTable()
        let inputs = try site.stageInputs(t)
        guard let amount = inputs["revenue"], let date = inputs["date"], let product = inputs["product"] else {
            throw site.fail("kam_metrics needs orders with amount, date and product_id")
        }
        // Every order of every account up to today (an order dated later has not happened
        // as of today(), so --today 2026-06-30 selects as of that day, as health and
        // lifecycle do), with the account's position: one grouped reduction per metric,
        // the same library `aggregate` uses.
        let today = Int64(site.interp.options.today)
        var rows: [Int] = [], gid: [Int32] = []
        for i in 0..<t.count {
            for o in amount.rows(from: t.entityRow(i)) {
                if case .date(let d) = date.column.value(at: o), Int64(d) > today { continue }
                rows.append(o)
                gid.append(Int32(i))
            }
        }
        func reduce(_ op: Reduce.Op, _ input: ResolvedInput) throws -> Column {
            do {
                guard let c = try Reduce.grouped(op, input.column.gather(rows), gid: gid, groups: t.count) else {
                    throw site.fail("kam_metrics cannot \(op.rawValue) \(input.path.joined(separator: "."))")
                }
                return c
            } catch let o as Reduce.Overflow {
                throw site.fail(o.message, hints: o.hints)
            }
        }
        let revenue = try reduce(.sum, amount)
        var counts = [Int64](repeating: 0, count: t.count)
        for g in gid { counts[Int(g)] += 1 }
        let breadth = try reduce(.countDistinct, product)
        let last = try reduce(.max, date)
        let recency = Column.from((0..<t.count).map { i in
            if case .date(let d) = last.value(at: i) { return .int(today - Int64(d)) }
            return .null
        })
        var extra: [(String, Column)] = [("revenue", revenue), ("lines", Column.from(counts.map { .int($0) })), ("breadth", breadth),
                                         ("recency", recency)]
        if let cost = inputs["cost"] {
            let costs = try reduce(.sum, cost)
            let margin = try (0..<t.count).map { i -> Value in
                try Arithmetic.apply(.sub, revenue.value(at: i), costs.value(at: i), range: site.range, interp: site.interp)
            }
            extra.append(("margin", Column.from(margin)))
        }
        return .table(adding(t, extra))
    }

    static func score(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(["scale", "as_is"])
        let t = try site.inputTable()
        guard site.positional.count == 2 else {
            throw site.fail("score needs the criteria and their weights", hints: ["usage: accounts | score {revenue: 0.5, breadth: 0.3, recency: -0.2}"])
        }
        let weightsArg = site.positional[1].value
        guard case .record(let weights) = try site.eval(weightsArg) else {
            throw site.interp.fail("score needs a record of weights", weightsArg.range, hints: ["write {revenue: 0.5, recency: -0.2}; a negative weight means lower is better"])
        }
        var scale = "minmax"
        if let s = try site.option("scale") {
            guard case .string(let v) = s, v == "minmax" || v == "rank" else {
                throw site.interp.fail("scale must be \"minmax\" or \"rank\"", site.optionRange("scale"))
            }
            scale = v
        }
        var asIs = Set<String>()
        if let a = try site.option("as_is") {
            switch a {
            case .string(let s): asIs = [s]
            case .list(let xs): asIs = Set(xs.compactMap { if case .string(let s) = $0 { s } else { nil } })
            default: throw site.interp.fail("as_is must name columns already on 1-10: as_is: [\"fit\"]", site.optionRange("as_is"))
            }
            for name in asIs where weights[name] == nil {
                throw site.interp.fail("as_is names '\(name)', which is not a criterion", site.optionRange("as_is"), hints: [Suggest.hint(name, in: weights.keys) ?? "criteria: " + weights.keys.joined(separator: ", ")])
            }
        }
        var criteria: [(String, Double)] = []
        for (k, v) in zip(weights.keys, weights.values) {
            guard let w = v.asDouble else { throw site.interp.fail("the weight of '\(k)' must be a number, got \(v.aTypeName)", weightsArg.range) }
            criteria.append((k, w))
        }
        let totalWeight = criteria.reduce(0) { $0 + abs($1.1) }
        guard totalWeight > 0 else {
            throw site.interp.fail("all weights are zero", weightsArg.range, hints: ["give at least one criterion a weight other than 0"])
        }
        if criteria.count < 3 || criteria.count > 5 {
            var w = Diagnostic(.warning, "score uses \(criteria.count) criteri\(criteria.count == 1 ? "on" : "a"); 3 to 5 are recommended", at: weightsArg.range, in: site.interp.currentSource,
                hints: ["too few criteria make the score one-sided; too many blur it"])
            w.kind = .warning
            site.interp.warnings.append(w)
        }
        var extra: [(String, Column)] = []
        var parts: [[Double?]] = []
        for (name, w) in criteria {
            let xs = try site.numbers(t, column: name, at: weightsArg.range, role: "a score criterion")
            let s: [Double?]
            if asIs.contains(name) {
                for (i, x) in xs.enumerated() {
                    if let x, x < 1 || x > 10 {
                        let shown = x == x.rounded() && x.magnitude < 1e15 ? String(Int64(x)) : Format.float(x)
                        throw site.interp.fail("'\(name)' is taken as is but row \(i + 1) holds \(shown), outside 1-10", site.optionRange("as_is"))
                    }
                }
                s = w < 0 ? xs.map { $0.map { 11 - $0 } } : xs
            } else {
                s = scale == "rank" ? rankScale(xs, lowerIsBetter: w < 0) : minmaxScale(xs, lowerIsBetter: w < 0)
            }
            parts.append(s)
            extra.append(("score_" + name, floatColumn(s)))
        }
        // The weighted mean over the criteria a row has (a null criterion drops out).
        var total: [Double?] = []
        for i in 0..<t.count {
            var sum = 0.0, weight = 0.0
            for (k, (_, w)) in criteria.enumerated() {
                if let s = parts[k][i] { sum += abs(w) * s; weight += abs(w) }
            }
            total.append(weight > 0 ? sum / weight : nil)
        }
        return .table(adding(t, [("score", floatColumn(total))] + extra))
    }

    /// 1 + 9 (x - min) / (max - min), reversed when lower is better; 5.5 when all are equal.
    static func minmaxScale(_ xs: [Double?], lowerIsBetter: Bool) -> [Double?] {
        let present = xs.compactMap { $0 }
        guard let lo = present.min(), let hi = present.max() else { return xs }
        if hi == lo { return xs.map { $0 == nil ? nil : 5.5 } }
        return xs.map { $0.map { lowerIsBetter ? 1 + 9 * (hi - $0) / (hi - lo) : 1 + 9 * ($0 - lo) / (hi - lo) } }
    }

    /// Ranks (ties share their average rank) mapped to 1-10 the same way.
    static func rankScale(_ xs: [Double?], lowerIsBetter: Bool) -> [Double?] {
        let idx = xs.indices.filter { xs[$0] != nil }.sorted { (xs[$0] ?? 0) < (xs[$1] ?? 0) }
        var rank = [Double?](repeating: nil, count: xs.count)
        var i = 0
        while i < idx.count {
            var j = i
            while j + 1 < idx.count && xs[idx[j + 1]] == xs[idx[i]] { j += 1 }
            let avg = Double(i + j) / 2 + 1
            for k in i...j { rank[idx[k]] = avg }
            i = j + 1
        }
        return minmaxScale(rank, lowerIsBetter: lowerIsBetter)
    }

    static func keyAccounts(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(["per_manager", "limit", "by", "manager"])
        let t = try site.inputTable()
        var perManager = 5
        if let v = try site.option("per_manager") {
            guard case .int(let k) = v, k >= 1, k <= 1000 else { throw site.interp.fail("per_manager must be a whole number from 1 (the seeds say 2 to 5)", site.optionRange("per_manager")) }
            perManager = Int(k)
        }
        var limit = Int.max
        if let v = try site.option("limit") {
            guard case .int(let k) = v, k >= 0 else { throw site.interp.fail("limit must be a whole number of 0 or more", site.optionRange("limit")) }
            limit = Int(clamping: k)
        }
        let byName: String
        if let v = try site.option("by") {
            guard case .string(let s) = v else { throw site.interp.fail("by must name the score column: by: \"score\"", site.optionRange("by")) }
            byName = s
        } else {
            byName = "score"
        }
        let scores = try site.numbers(t, column: byName, at: site.optionRange("by"), role: "key-account selection")
        let managerName: String
        if let v = try site.option("manager") {
            guard case .string(let s) = v else { throw site.interp.fail("manager must name a column: manager: \"owner_id\"", site.optionRange("manager")) }
            managerName = s
        } else {
            managerName = "owner_id"
        }
        guard let managerColumn = t.column(managerName) else {
            throw site.interp.fail("no column '\(managerName)' for the managers", site.optionRange("manager"),
                hints: [Suggest.hint(managerName, in: t.names) ?? "name the column that says who manages each account: manager: \"owner_id\""])
        }
        // Best score first; ties keep input order.
        let ranked: [Int] = (0..<t.count).filter { scores[$0] != nil }
        let order = ranked.sorted { a, b in
            let x = scores[a] ?? 0, y = scores[b] ?? 0
            return x != y ? x > y : a < b
        }
        var load: [HashKey: Int] = [:]
        var key = [Bool](repeating: false, count: t.count)
        var keyRank = [Value](repeating: .null, count: t.count)
        var leftOut = [Bool](repeating: false, count: t.count)
        var assigned = [Value](repeating: .null, count: t.count)
        var picked = 0
        for (position, i) in order.enumerated() {
            let m = HashKey(managerColumn.value(at: i))
            let full = (load[m] ?? 0) >= perManager
            if picked < limit && !full {
                key[i] = true
                picked += 1
                keyRank[i] = .int(Int64(picked))
                assigned[i] = managerColumn.value(at: i)
                load[m, default: 0] += 1
            } else if full && position < min(limit, order.count) {
                // Would have been chosen on score alone, but the manager is at capacity.
                leftOut[i] = true
            }
        }
        return .table(adding(t, [("key", Column(storage: .bool(key))), ("key_rank", Column.from(keyRank)), ("key_manager", Column.from(assigned)),
                                 ("left_out", Column(storage: .bool(leftOut)))]))
    }
}
