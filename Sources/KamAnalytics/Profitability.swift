import KamRuntime
import KamEngine
import KamData
import KamSyntax

/// Account profitability: revenue, cost, gross margin, discount, cost to serve.
enum Profitability {
    static let list: [Builtin] = [
        Builtin("profitability", ["table", "cost_per_interaction?"], .verb,
            "Per account from its orders: revenue, cost, gross_margin, margin_pct, avg_discount; with interactions, cost_to_serve (interactions x cost_per_interaction, default 150) and net_margin.",
            .special(profitability)).producing(.adds(["revenue", "cost", "gross_margin", "margin_pct", "avg_discount", "interactions", "cost_to_serve", "net_margin"])),
    ]

    static func profitability(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(["cost_per_interaction"])
        let t = try site.inputTable()
        guard let origin = t.origin else {
            throw site.fail("profitability works on accounts of a dataset (it reads their orders)", hints: ["accounts | profitability"])
        }
        let g = origin.graph
        let entity = g.entities[origin.entity]
        guard let ordersLink = entity.reverseLink("orders") else {
            throw site.fail("profitability needs orders linked to \(entity.name)", hints: ["the dataset needs an orders entity with \(entity.name.dropLast())_id"])
        }
        let orders = g.entities[ordersLink.source].table
        guard let amount = orders.column("amount") else { throw site.fail("profitability needs orders.amount") }
        let amounts = try site.numbers(amount, name: "amount", at: site.range, role: "profitability")
        let costs = try orders.column("cost").map { try site.numbers($0, name: "cost", at: site.range, role: "profitability") }
        let discounts = try orders.column("discount").map { try site.numbers($0, name: "discount", at: site.range, role: "profitability") }
        var cpi = 150.0
        if let v = try site.option("cost_per_interaction") {
            guard let x = v.asDouble, x >= 0 else { throw site.interp.fail("cost_per_interaction must be a number of 0 or more", site.optionRange("cost_per_interaction")) }
            cpi = x
        }
        // Interactions reach an account through its contacts.
        var interactionsOf: ((Int) -> Int)? = nil
        if let contacts = entity.reverseLink("contacts"), let inter = g.entities[contacts.source].reverseLink("interactions") {
            interactionsOf = { r in contacts.segment(r).reduce(0) { $0 + inter.segment(Int(contacts.rows[$1])).count } }
        }
        var revenue: [Double?] = [], cost: [Double?] = [], margin: [Double?] = [], pct: [Double?] = [], disc: [Double?] = []
        var touches: [Value] = [], serve: [Double?] = [], net: [Double?] = []
        for i in 0..<t.count {
            let r = t.entityRow(i)
            var rev = 0.0, c = 0.0, d = 0.0, dn = 0
            for k in ordersLink.segment(r) {
                let o = Int(ordersLink.rows[k])
                rev += amounts[o] ?? 0
                c += costs?[o] ?? 0
                if let x = discounts?[o] { d += x; dn += 1 }
            }
            revenue.append(rev)
            cost.append(costs == nil ? nil : c)
            let gm: Double? = costs == nil ? nil : rev - c
            margin.append(gm)
            pct.append(gm.flatMap { rev != 0 ? $0 / rev : nil })
            disc.append(dn > 0 ? d / Double(dn) : nil)
            if let interactionsOf {
                let n = interactionsOf(r)
                touches.append(.int(Int64(n)))
                serve.append(Double(n) * cpi)
                net.append(gm.map { $0 - Double(n) * cpi })
            }
        }
        var extra: [(String, Column)] = [("revenue", floatColumn(revenue)), ("cost", floatColumn(cost)), ("gross_margin", floatColumn(margin)),
                                         ("margin_pct", floatColumn(pct)), ("avg_discount", floatColumn(disc))]
        if interactionsOf != nil {
            extra += [("interactions", Column.from(touches)), ("cost_to_serve", floatColumn(serve)), ("net_margin", floatColumn(net))]
        }
        return .table(adding(t, extra))
    }
}
