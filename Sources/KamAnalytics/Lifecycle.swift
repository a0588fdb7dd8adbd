import KamRuntime
import KamEngine
import KamData
import KamSyntax

/// The key account life cycle, inferred from each account's history.
///
/// Stages (in the order an account usually moves through them) and the rules that place an
/// account, first match wins; `today()` is the reference date:
/// 1. got what they need: it bought before, but nothing in the last 365 days.
/// 2. supply: its first order is less than 365 days old.
/// 3. do we still like you: revenue in the last 365 days fell by more than 20% against the
///    365 days before, or its mean NPS answer is 6 or less.
/// 4. relationships grow: revenue grew by more than 20% and we know three or more of its
///    people (relationships with its contacts).
/// 5. source and support: it buys from two or more product categories.
/// 6. maintenance: everything else (established, steady, narrow).
enum Lifecycle {
    static let stages = ["got what they need", "supply", "do we still like you", "relationships grow", "source and support", "maintenance"]

    static let list: [Builtin] = [
        Builtin("lifecycle", ["table"], .verb,
            "The key account life-cycle stage of each account from its orders, relationships and surveys, with a reason: accounts | lifecycle.",
            .special(lifecycle)).producing(.adds(["stage", "stage_reason"])),
    ]

    static func lifecycle(_ site: inout CallSite) throws -> Value {
        try site.checkNamed([])
        let t = try site.inputTable()
        guard let origin = t.origin else { throw site.fail("lifecycle works on accounts of a dataset (it reads their history)", hints: ["accounts | lifecycle"]) }
        let g = origin.graph, e = g.entities[origin.entity]
        guard let ordersLink = e.reverseLink("orders") else { throw site.fail("lifecycle needs orders linked to \(e.name)") }
        let orders = g.entities[ordersLink.source].table
        guard case .date(let dates)? = orders.column("date")?.storage, let amountColumn = orders.column("amount") else {
            throw site.fail("lifecycle needs orders.date (dates) and orders.amount")
        }
        let amounts = try site.numbers(amountColumn, name: "amount", at: site.range, role: "lifecycle")
        let products = g.entities[ordersLink.source].forwardLink("product")
        let categories = products.flatMap { g.entities[$0.target].table.column("category") }
        let contacts = e.reverseLink("contacts")
        let relationships = contacts.flatMap { g.entities[$0.source].reverseLink("relationships") }
        let surveys = e.reverseLink("surveys")
        let scores = try surveys.flatMap { s in try g.entities[s.source].table.column("score").map { try site.numbers($0, name: "score", at: site.range, role: "lifecycle") } }
        let today = site.interp.options.today
        var stage: [Value] = [], reason: [Value] = []
        for i in 0..<t.count {
            let r = t.entityRow(i)
            var first: Int32 = .max, last: Int32 = .min, recent = 0.0, prior = 0.0
            var cats = Set<UInt32>()
            for k in ordersLink.segment(r) {
                let o = Int(ordersLink.rows[k])
                let d = dates[o]
                first = min(first, d)
                last = max(last, d)
                switch yearWindow(Int(d), today: Int(today)) {
                case 0: recent += amounts[o] ?? 0
                case 1: prior += amounts[o] ?? 0
                default: break
                }
                if let products, let categories, case .string(let sc) = categories.storage, products.rows[o] >= 0 {
                    cats.insert(sc.codes[Int(products.rows[o])])
                }
            }
            if first == .max {
                stage.append(.null)
                reason.append(.string("no orders"))
                continue
            }
            var known = 0
            if let contacts, let relationships {
                for k in contacts.segment(r) { known += relationships.segment(Int(contacts.rows[k])).isEmpty ? 0 : 1 }
            }
            var nps: Double? = nil
            if let surveys, let scores {
                let xs = surveys.segment(r).compactMap { scores[Int(surveys.rows[$0])] }
                if !xs.isEmpty { nps = xs.reduce(0, +) / Double(xs.count) }
            }
            let growth: Double? = prior > 0 ? (recent - prior) / prior : nil
            let pct = { (x: Double) in "\(Int((x * 100).rounded()))%" }
            let (s, why): (Int, String)
            if Int(today) - Int(last) >= 365 {
                (s, why) = (0, "no orders in the last 365 days (last \(Calendar.format(last)))")
            } else if Int(today) - Int(first) < 365 {
                (s, why) = (1, "first order \(Calendar.format(first)), less than a year ago")
            } else if let gr = growth, gr < -0.2 {
                (s, why) = (2, "revenue \(pct(gr)) against the year before")
            } else if let n = nps, n <= 6 {
                (s, why) = (2, "mean survey score \(Format.float((n * 10).rounded() / 10)) (detractor level)")
            } else if let gr = growth, gr > 0.2, known >= 3 {
                (s, why) = (3, "revenue +\(pct(gr)) and \(known) people known")
            } else if cats.count >= 2 {
                (s, why) = (4, "buys from \(cats.count) categories")
            } else {
                (s, why) = (5, "steady" + (growth.map { ", revenue \($0 >= 0 ? "+" : "")\(pct($0))" } ?? ""))
            }
            stage.append(.string(stages[s]))
            reason.append(.string(why))
        }
        return .table(adding(t, [("stage", Column.from(stage)), ("stage_reason", Column.from(reason))]))
    }
}
