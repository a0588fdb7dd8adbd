import KamRuntime
import KamEngine
import KamData
import KamSyntax

/// Revenue concentration and the loss scenario.
enum Concentration {
    static let list: [Builtin] = [
        Builtin("concentration", ["table", "value", "share?"], .verb,
            "Concentration of value across rows: a record with n, total, hhi (x10,000), cr1, cr5, cr10 and top20 (the share of the top 20% of rows); share: true adds a share column instead.",
            .special(concentration)).producing(.record(["n", "total", "hhi", "cr1", "cr5", "cr10", "top20"])),
        Builtin("lose", ["table", "condition", "by?", "cost?"], .verb,
            "Loss scenario: what if the rows matching the condition are lost? Accounts, revenue and margin lost, HHI before and after, owners affected: lose name in [\"Acme\"].",
            .special(lose)).producing(.record(["accounts_lost", "accounts_left", "revenue_lost", "revenue_share_lost", "revenue_after", "margin_lost", "margin_share_lost", "hhi_before", "hhi_after", "owners_affected"])),
    ]

    static func measures(_ xs: [Double]) -> Record {
        let sorted = xs.sorted(by: >)
        let total = Reduce.sum(xs)
        func top(_ k: Int) -> Value { total > 0 ? .float(Reduce.sum(Array(sorted.prefix(k))) / total) : .null }
        let fifth = Int((Double(xs.count) * 0.2).rounded(.up))
        return Record([
            ("n", .int(Int64(xs.count))), ("total", .float(total)), ("hhi", .float(hhi(xs))),
            ("cr1", top(1)), ("cr5", top(5)), ("cr10", top(10)), ("top20", top(fifth)),
        ])
    }

    static func values(_ site: CallSite, _ t: Table, _ arg: Arg?, _ what: String) throws -> (xs: [Double?], name: String, range: SourceRange) {
        guard let arg else { throw site.fail("\(what) needs the value column", hints: ["usage: accounts | \(what) revenue"]) }
        let col = try site.interp.evalColumn(arg.value, over: t, site.env)
        let name = Verbs.naturalName(arg.value, site.interp)
        let xs = try site.numbers(col, name: name, at: arg.value.range, role: what)
        try site.requireNonNegative(xs, in: t, name: name, at: arg.value.range, role: what)
        return (xs, name, arg.value.range)
    }

    static func concentration(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(["share"])
        let t = try site.inputTable()
        let (xs, _, _) = try values(site, t, site.positional.count > 1 ? site.positional[1] : nil, "concentration")
        if case .bool(true)? = try site.option("share") {
            let total = Reduce.sum(xs.compactMap { $0 })
            return .table(adding(t, [("share", floatColumn(xs.map { x in x.map { total > 0 ? $0 / total : 0 } }))]))
        }
        return .record(measures(xs.compactMap { $0 }))
    }

    static func lose(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(["by", "cost"])
        let t = try site.inputTable()
        guard site.positional.count == 2 else {
            throw site.fail("lose needs a condition: which accounts are lost", hints: ["usage: accounts | derive revenue = sum(orders.amount) | lose name in [\"Acme\", \"Beta\"]"])
        }
        let lost = Set(try site.interp.selectRows(site.positional[1].value, over: t, site.env))
        var byArg = Arg(Expr(.name("revenue"), site.range))
        if let b = site.named("by") { byArg = Arg(b.value) }
        if case .name(let n) = byArg.value.kind, t.columnIndex(n) == nil, site.named("by") == nil {
            throw site.fail("lose needs a revenue column, or by: naming the value", hints: ["derive revenue = sum(orders.amount) first, or write by: amount"])
        }
        let (xs, _, _) = try values(site, t, byArg, "lose")
        let value = xs.map { $0 ?? 0 }
        // Margin when a cost is known: by cost: EXPR, or a cost column.
        var cost: [Double]? = nil
        if let c = site.named("cost") {
            cost = try site.numbers(try site.interp.evalColumn(c.value, over: t, site.env), name: "cost", at: c.value.range, role: "lose").map { $0 ?? 0 }
        } else if let c = t.column("cost") {
            cost = try site.numbers(c, name: "cost", at: site.range, role: "lose").map { $0 ?? 0 }
        } else if let origin = t.origin, let link = origin.graph.entities[origin.entity].reverseLink("orders"),
            let c = origin.graph.entities[link.source].table.column("cost")
        {
            // Accounts of a dataset: the cost of their orders.
            let costs = try site.numbers(c, name: "cost", at: site.range, role: "lose")
            cost = (0..<t.count).map { i in link.segment(t.entityRow(i)).reduce(0.0) { $0 + (costs[Int(link.rows[$1])] ?? 0) } }
        }
        let total = Reduce.sum(value)
        let lostValue = Reduce.sum(lost.map { value[$0] })
        let kept = (0..<t.count).filter { !lost.contains($0) }.map { value[$0] }
        var fields: [(String, Value)] = [
            ("accounts_lost", .int(Int64(lost.count))), ("accounts_left", .int(Int64(t.count - lost.count))),
            ("revenue_lost", .float(lostValue)), ("revenue_share_lost", total > 0 ? .float(lostValue / total) : .null),
            ("revenue_after", .float(total - lostValue)),
        ]
        if let cost {
            let margin = zip(value, cost).map { $0 - $1 }
            let marginLost = Reduce.sum(lost.map { margin[$0] })
            let marginTotal = Reduce.sum(margin)
            fields.append(("margin_lost", .float(marginLost)))
            fields.append(("margin_share_lost", marginTotal != 0 ? .float(marginLost / marginTotal) : .null))
        }
        fields.append(("hhi_before", .float(hhi(value))))
        fields.append(("hhi_after", .float(hhi(kept))))
        // Who owns the lost accounts: one entry per owner (two people who share a name are
        // two owners, told apart by their id), the owner link's names, else owner_id.
        var owners: [(key: String, name: String, id: String)] = []
        var seen: Set<String> = []
        for i in lost.sorted() {
            var key = "", name = "", id = ""
            if let g = t.origin?.graph, case .row(let et, let r)? = g.navigate(t, row: i, "owner") {
                key = "row \(r)"
                name = et.column("name").map { Format.plain($0.value(at: r)) } ?? ""
                id = et.column("id").map { Format.plain($0.value(at: r)) } ?? key
                if name.isEmpty || name == "null" { name = id }
            } else if let c = t.column("owner_id"), !c.value(at: i).isNull {
                key = Format.plain(c.value(at: i))
                name = key
                id = key
            } else {
                continue
            }
            if seen.insert(key).inserted { owners.append((key, name, id)) }
        }
        var sharing: [String: Int] = [:]
        for o in owners { sharing[o.name, default: 0] += 1 }
        let labels = owners.map { o in (sharing[o.name] ?? 0) > 1 ? "\(o.name) (\(o.id))" : o.name }
        fields.append(("owners_affected", .list(labels.map { .string($0) })))
        return .record(Record(fields))
    }
}
