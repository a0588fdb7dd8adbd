import KamRuntime
import KamEngine
import KamData
import KamSyntax

/// Account profitability: revenue, cost, gross margin, discount, cost to serve.
enum Profitability {
    /// What profitability reads, and the options that point it elsewhere. Without costs
    /// the cost and margin columns are null (not zero); without interactions there is no
    /// cost to serve.
    static let inputs = [
        StageInput("revenue", "orders.amount", for: "revenue", expects: .number, group: "orders"),
        StageInput("cost", "orders.cost", for: "the gross margin", expects: .number, signal: "margin", optionalColumn: true, group: "orders"),
        StageInput("discount", "orders.discount", for: "the average discount", expects: .fraction, signal: "discount", optionalColumn: true, group: "orders"),
        StageInput("interactions", "contacts.interactions.date", for: "the cost to serve", signal: "cost to serve", optionalColumn: true),
    ]

    static let list: [Builtin] = [
        Builtin("profitability", ["table", "cost_per_interaction?"], .verb,
            "Per account from its orders: revenue, cost, gross_margin, margin_pct, avg_discount; with interactions, cost_to_serve (interactions x cost_per_interaction, default 150) and net_margin.",
            .special(profitability)).producing(.adds(["revenue", "cost", "gross_margin", "margin_pct", "avg_discount", "interactions", "cost_to_serve", "net_margin"]))
            .needing(inputs),
    ]

    static func profitability(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(["cost_per_interaction"])
        let t = try site.inputTable()
        let inputs = try site.stageInputs(t)
        guard let amount = inputs["revenue"] else { throw site.fail("profitability needs orders.amount") }
        let costInput = inputs["cost"], discountInput = inputs["discount"]
        var cpi = 150.0
        if let v = try site.option("cost_per_interaction") {
            guard let x = v.asDouble, x >= 0 else { throw site.interp.fail("cost_per_interaction must be a number of 0 or more", site.optionRange("cost_per_interaction")) }
            cpi = x
        }
        // Interactions reach an account through its contacts.
        var interactionsOf: ((Int) -> Int)? = nil
        if let inter = inputs["interactions"] { interactionsOf = inter.counter() }
        // Each order's numbers read once, typed, not boxed again for every use.
        let amounts = amount.doubles(), costs = costInput?.doubles(), discounts = discountInput?.doubles()
        var revenue: [Double?] = [], cost: [Double?] = [], margin: [Double?] = [], pct: [Double?] = [], disc: [Double?] = []
        var touches: [Int64] = [], serve: [Double?] = [], net: [Double?] = []
        // An account's orders straight from the link's arrays when they are one link away.
        var direct: (offsets: [Int32], rows: [Int32])? = nil
        if amount.steps.count == 1, case .reverse(let l) = amount.steps[0] { direct = (l.offsets, l.rows) }
        revenue.reserveCapacity(t.count)
        for i in 0..<t.count {
            let r = t.entityRow(i)
            // Sums as the reduction library adds (sum(orders.amount) gives the same figure).
            var revenueSum = Reduce.Compensated(), costSum = Reduce.Compensated(), discountSum = Reduce.Compensated()
            var dn = 0
            func add(_ o: Int) {
                revenueSum.add(amounts.valid?[o] == false ? 0 : amounts.values[o])
                if let costs { costSum.add(costs.valid?[o] == false ? 0 : costs.values[o]) }
                if let discounts, discounts.valid?[o] != false {
                    discountSum.add(discounts.values[o])
                    dn += 1
                }
            }
            if let direct {
                for k in Int(direct.offsets[r])..<Int(direct.offsets[r + 1]) { add(Int(direct.rows[k])) }
            } else {
                for o in amount.rows(from: r) { add(o) }
            }
            let rev = revenueSum.value, c = costSum.value, d = discountSum.value
            revenue.append(rev)
            cost.append(costInput == nil ? nil : c)
            let gm: Double? = costInput == nil ? nil : rev - c
            margin.append(gm)
            pct.append(gm.flatMap { rev != 0 ? $0 / rev : nil })
            disc.append(dn > 0 ? d / Double(dn) : nil)
            if let interactionsOf {
                let n = interactionsOf(r)
                touches.append(Int64(n))
                serve.append(Double(n) * cpi)
                net.append(gm.map { $0 - Double(n) * cpi })
            }
        }
        var extra: [(String, Column)] = [("revenue", floatColumn(revenue)), ("cost", floatColumn(cost)), ("gross_margin", floatColumn(margin)),
                                         ("margin_pct", floatColumn(pct)), ("avg_discount", floatColumn(disc))]
        if interactionsOf != nil {
            extra += [("interactions", touches.isEmpty ? Column.from([]) : Column(storage: .int(touches))), ("cost_to_serve", floatColumn(serve)), ("net_margin", floatColumn(net))]
        }
        return .table(adding(t, extra))
    }
}
