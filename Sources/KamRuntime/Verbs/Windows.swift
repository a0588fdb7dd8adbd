import KamEngine
import KamData
import KamSyntax

/// Window functions: computed once over the whole table in its current order, then read
/// row by row. They work inside a table stage such as derive or select.
public enum Windows {
    public static let list: [Builtin] = [
        Builtin("row_number", [], .window, "1, 2, 3, ... in the table's current order.", .special { site in
            try window(&site) { site, t, _ in (0..<t.count).map { .int(Int64($0 + 1)) } }
        }),
        Builtin("rank", ["value?"], .window, "Rank in the current order: rows with equal value share the rank of the first (1, 2, 2, 4).", .special { site in
            try window(&site) { site, t, args in
                guard let e = args.first else { return (0..<t.count).map { .int(Int64($0 + 1)) } }
                let vs = try site.interp.evalRows(e, over: t, site.env)
                var out: [Value] = []
                var current = 1
                for i in 0..<vs.count {
                    if i > 0 && !vs[i].kamEquals(vs[i - 1]) && !(vs[i].isNull && vs[i - 1].isNull) { current = i + 1 }
                    out.append(.int(Int64(current)))
                }
                return out
            }
        }),
        Builtin("cumsum", ["value"], .window, "Running total in the current order (nulls add nothing).", .special { site in
            try window(&site) { site, t, args in
                guard let e = args.first else { throw site.fail("cumsum needs a value", hints: ["usage: derive running = cumsum(amount)"]) }
                let vs = try site.interp.evalRows(e, over: t, site.env)
                // Numbers run through the reduction library, as the column kernel's do.
                do {
                    if let running = try Reduce.running(Column.from(vs)) { return (0..<vs.count).map { running.value(at: $0) } }
                } catch let e as Reduce.Overflow {
                    throw site.fail(e.float ? "float overflow in cumsum" : "integer overflow in cumsum")
                }
                // Not a number column: nothing but nulls (a running total of 0), or something
                // that is not a number.
                if let v = vs.first(where: { !$0.isNull && $0.asDouble == nil }) { throw site.fail("cumsum needs numbers, got \(v.aTypeName)") }
                return vs.map { _ in .int(0) }
            }
        }),
        Builtin("lag", ["value", "n?", "default?"], .window, "The value n rows earlier (default 1) in the current order; default (null) before the first.", .special { site in
            try window(&site) { site, t, args in try shift(site, t, args, by: -1, "lag") }
        }),
        Builtin("lead", ["value", "n?", "default?"], .window, "The value n rows later (default 1) in the current order; default (null) past the last.", .special { site in
            try window(&site) { site, t, args in try shift(site, t, args, by: 1, "lead") }
        }),
    ]

    public static func shift(_ site: CallSite, _ t: Table, _ args: [Expr], by sign: Int, _ name: String) throws -> [Value] {
        guard let e = args.first else { throw site.fail("\(name) needs a value", hints: ["usage: derive previous = \(name)(amount)"]) }
        var n = 1
        if args.count > 1 {
            guard case .int(let k) = try site.eval(args[1]), k >= 0, k < 1_000_000_000 else {
                throw site.interp.fail("\(name) needs a row offset of 0 or more", args[1].range)
            }
            n = Int(k)
        }
        let fallback = args.count > 2 ? try site.eval(args[2]) : .null
        let vs = try site.interp.evalRows(e, over: t, site.env)
        return (0..<vs.count).map { i in
            let j = i + sign * n
            return j >= 0 && j < vs.count ? vs[j] : fallback
        }
    }

    public static func window(_ site: inout CallSite, _ compute: (CallSite, Table, [Expr]) throws -> [Value]) throws -> Value {
        try site.checkNamed([])
        let (row, _) = site.env.innermostScope
        guard let row else {
            throw site.fail("\(site.builtin.name) works inside a table stage", hints: ["usage: table | derive n = \(site.builtin.name)(...)"])
        }
        let key = site.range.start
        if let cached = row.windows[key] { return cached[row.index] }
        let values = try compute(site, row.table, site.positional.map(\.value))
        row.windows[key] = values
        return values[row.index]
    }
}
