import KamEngine
import KamData
import KamSyntax

/// Aggregate functions. Each works three ways:
/// - on a list: `sum(orders.amount)`, `max([1, 5, 3])`;
/// - as a stage on a table with a row expression: `orders | sum(amount)`;
/// - inside `aggregate ... by`, over the rows of each group: `aggregate total = sum(amount)`.
public enum Aggregates {
    public static let list: [Builtin] = [
        Builtin("sum", ["values"], .aggregate, "Sum of the non-null values (0 when there are none); floats use compensated summation.", .special { site in
            try reduce(&site) { site, values, _ in try sum(values, site) }
        }),
        Builtin("avg", ["values"], .aggregate, "Mean of the non-null values (null when there are none).", .special { site in
            try reduce(&site) { site, values, _ in
                let nums = try numbers(values, site, "avg")
                return nums.isEmpty ? .null : .float(Reduce.sum(nums) / Double(nums.count))
            }
        }),
        Builtin("min", ["values..."], .aggregate, "Smallest non-null value; min(a, b, ...) of scalars too.", .special { site in
            try reduce(&site, scalarsAllowed: true) { site, values, _ in try extreme(values, site, wantMax: false) }
        }),
        Builtin("max", ["values..."], .aggregate, "Largest non-null value; max(a, b, ...) of scalars too.", .special { site in
            try reduce(&site, scalarsAllowed: true) { site, values, _ in try extreme(values, site, wantMax: true) }
        }),
        Builtin("count", ["values?"], .aggregate, "Rows of a table, non-null items of a list, or rows of the group: count().", .special { site in
            try reduce(&site, countForm: true) { _, values, _ in .int(Int64(values.lazy.filter { !$0.isNull }.count)) }
        }),
        Builtin("count_distinct", ["values"], .aggregate, "Number of distinct non-null values.", .special { site in
            try reduce(&site) { _, values, _ in
                var seen = Set<HashKey>()
                for v in values where !v.isNull { seen.insert(HashKey(v)) }
                return .int(Int64(seen.count))
            }
        }),
        Builtin("median", ["values"], .aggregate, "Median of the non-null values (linear interpolation).", .special { site in
            try reduce(&site) { site, values, _ in try percentile(try numbers(values, site, "median"), 0.5) }
        }),
        Builtin("percentile", ["values", "p"], .aggregate, "The p-th quantile (p from 0 to 1) by linear interpolation: percentile(amount, 0.9).", .special { site in
            try reduce(&site, extras: 1) { site, values, extras in
                guard let p = extras.first?.asDouble, p >= 0, p <= 1 else {
                    throw site.fail("percentile needs p between 0 and 1", hints: ["write percentile(amount, 0.9) for the 90th percentile"])
                }
                return try percentile(try numbers(values, site, "percentile"), p)
            }
        }),
        Builtin("stddev", ["values"], .aggregate, "Sample standard deviation (n - 1); null for fewer than two values.", .special { site in
            try reduce(&site) { site, values, _ in
                let nums = try numbers(values, site, "stddev")
                guard nums.count >= 2 else { return .null }
                var mean = 0.0, m2 = 0.0, n = 0.0
                for x in nums {
                    n += 1
                    let d = x - mean
                    mean += d / n
                    m2 += d * (x - mean)
                }
                return .float((m2 / (n - 1)).squareRoot())
            }
        }),
    ]

    public typealias Finish = (CallSite, [Value], [Value]) throws -> Value

    /// Gathers the values an aggregate works on (see the type's doc), then finishes.
    public static func reduce(_ site: inout CallSite, extras extraCount: Int = 0, scalarsAllowed: Bool = false, countForm: Bool = false,
                       _ finish: Finish) throws -> Value {
        try site.checkNamed(site.builtin.params.map(\.name))
        var p = site.positional.map(\.value)
        if let named = site.named("p") { p.append(named.value) }
        let name = site.builtin.name
        let (row, group) = site.env.innermostScope
        if let group, row == nil {
            guard let valueExpr = p.first else {
                guard countForm else { throw site.fail("\(name) needs a value to aggregate", hints: ["usage: \(name)(column)"]) }
                return .int(Int64(group.rows.count))
            }
            var values: [Value] = []
            values.reserveCapacity(group.rows.count)
            if case .name(let n) = valueExpr.kind, let c = group.table.columnIndex(n), site.env.lookupVariable(n) == nil {
                // A column of the group: reduced as a typed column, exactly as the typed
                // group-by does (a float column's empty sum is 0.0).
                let col = group.table.column(at: c).gather(group.rows)
                if p.count == 1, let r = try typedReduce(name, col, site) { return r }
                for r in 0..<col.count { values.append(col.value(at: r)) }
            } else {
                let scope = RowScope(table: group.table)
                let env = Env(parent: site.env, row: scope)
                for r in group.rows {
                    scope.index = r
                    let v = try site.interp.eval(valueExpr, env)
                    values += items(v)
                }
            }
            let extras = try p.dropFirst().map { try site.eval($0) }
            return try finish(site, values, extras)
        }
        // `sum(t.col)` on a typed column: reduce the array, no boxed list in between. The
        // base is evaluated once either way.
        var evaluated: Value? = nil
        if p.count == 1, let firstExpr = p.first, case .member(let base, let col) = firstExpr.kind {
            let b = try site.eval(base)
            if case .table(let t) = b, let c = t.column(col), p.count == 1, let r = try typedReduce(name, c, site) { return r }
            evaluated = try site.interp.member(b, col, firstExpr.range, base: base.range)
        }
        guard let firstExpr = p.first else {
            if countForm {
                throw site.fail("count() without an argument counts the rows of a group inside aggregate",
                    hints: ["count a table with: table | count"])
            }
            throw site.fail("\(name) needs values", hints: ["usage: \(name)(list), table | \(name)(column), or inside aggregate"])
        }
        let first = try evaluated ?? site.eval(firstExpr)
        switch first {
        case .table(let t):
            if p.count < 2 + extraCount {
                if countForm { return .int(Int64(t.count)) }
                throw site.interp.fail("\(name) of a table needs a column expression", firstExpr.range, hints: ["write: table | \(name)(column)"])
            }
            // A column of the table reduces as a typed column (an empty float column sums
            // to 0.0), as it does in aggregate and over a link.
            if p.count == 2, case .name(let n) = p[1].kind, site.env.lookupVariable(n) == nil, let c = t.column(n),
                let r = try typedReduce(name, c, site)
            {
                return r
            }
            let col = try site.interp.evalColumn(p[1], over: t, site.env)
            var values = (0..<t.count).map { col.value(at: $0) }
            if case .values = col.storage { values = values.flatMap(items) }
            let extras = try p.dropFirst(2).map { try site.eval($0) }
            return try finish(site, values, extras)
        case .list(let xs):
            if p.count > 1 + extraCount {
                throw site.interp.fail("\(name) takes \(1 + extraCount) argument\(extraCount == 0 ? "" : "s") here, got \(p.count)", site.range)
            }
            let extras = try p.dropFirst().map { try site.eval($0) }
            return try finish(site, xs, extras)
        case .null where p.count == 1 + extraCount:
            let extras = try p.dropFirst().map { try site.eval($0) }
            return try finish(site, [], extras)
        default:
            if scalarsAllowed {
                let values = [first] + (try p.dropFirst().map { try site.eval($0) })
                return try finish(site, values, [])
            }
            if p.count == 1 + extraCount {
                let extras = try p.dropFirst().map { try site.eval($0) }
                return try finish(site, [first], extras)
            }
            throw site.interp.fail("\(name) needs a list or a table, got \(first.aTypeName)", firstExpr.range)
        }
    }

    /// What one row gives an aggregate: the items of a list, the rows of a table (so
    /// `count(orders)` over accounts counts their orders), else the value itself.
    static func items(_ v: Value) -> [Value] {
        switch v {
        case .list(let xs): return xs
        case .table(let t): return (0..<t.count).map { .row(t, $0) }
        default: return [v]
        }
    }

    /// An aggregate of a typed column, through the reduction library; nil for the ones it
    /// does not define (median, ...) and for boxed columns.
    public static func typedReduce(_ name: String, _ c: Column, _ site: CallSite) throws -> Value? {
        guard let op = Reduce.Op(rawValue: name) else { return nil }
        do { return try Reduce.whole(op, c) } catch { throw site.fail(error.message, hints: error.hints) }
    }

    public static func numbers(_ values: [Value], _ site: CallSite, _ name: String) throws -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(values.count)
        for v in values {
            switch v {
            case .null: continue
            case .int(let i): out.append(Double(i))
            case .float(let f): out.append(f)
            default: throw site.fail("\(name) needs numbers, got \(v.aTypeName)", hints: v.typeName == "string" ? ["convert with float(...)"] : [])
            }
        }
        return out
    }

    public static func sum(_ values: [Value], _ site: CallSite) throws -> Value {
        var intSum: Int64 = 0
        var allInt = true
        for v in values {
            switch v {
            case .null: continue
            case .int(let i):
                if allInt {
                    let (r, o) = intSum.addingReportingOverflow(i)
                    if o { throw site.fail(Reduce.Overflow().message, hints: Reduce.Overflow().hints) }
                    intSum = r
                }
            case .float: allInt = false
            default: throw site.fail("sum needs numbers, got \(v.aTypeName)", hints: v.typeName == "string" ? ["convert with float(...)"] : [])
            }
        }
        if allInt { return .int(intSum) }
        let total = Reduce.sum(try numbers(values, site, "sum"))
        guard total.isFinite else { throw site.fail(Reduce.Overflow(float: true).message, hints: Reduce.Overflow(float: true).hints) }
        return .float(total)
    }

    public static func extreme(_ values: [Value], _ site: CallSite, wantMax: Bool) throws -> Value {
        var best: Value = .null
        for v in values where !v.isNull {
            if best.isNull { best = v; continue }
            guard let c = v.compare(best) else {
                throw site.fail("\(wantMax ? "max" : "min") cannot compare \(v.typeName) with \(best.typeName)")
            }
            if wantMax ? c > 0 : c < 0 { best = v }
        }
        return best
    }

    public static func percentile(_ xs: [Double], _ p: Double) throws -> Value {
        guard !xs.isEmpty else { return .null }
        let s = xs.sorted()
        let h = Double(s.count - 1) * p
        let lo = Int(h.rounded(.down)), hi = Int(h.rounded(.up))
        return .float(s[lo] + (h - Double(lo)) * (s[hi] - s[lo]))
    }
}
