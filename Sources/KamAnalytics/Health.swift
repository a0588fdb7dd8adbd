import KamRuntime
import KamEngine
import KamData
import KamSyntax

/// Account health: a colour per account (green, yellow, red) from risk signals, with the
/// reasons, so the Monday review starts where the risk is.
///
/// Each signal adds points: revenue of the last 365 days against the 365 before (below
/// -20%: 2, below -5%: 1); NPS of the surveys of the last 365 days (below 0: 2, below 30:
/// 1); overdue invoices (unpaid past due: 1, any more than 30 days late: 2); days since
/// our last contact with anyone there (over 180: 2, over 90: 1); single-threaded (we know
/// at most one person: 1); a contract ending within 90 days (1); discount creep (mean
/// discount up by more than 3 points: 1); margin erosion (gross margin down by more than
/// 5 points: 1). Red at 4 points or more, yellow at 2 or 3, green below. A signal with no
/// data (no surveys in the dataset, none for this account in the last year) is listed in
/// `not_assessed`: green means no risk found in what could be assessed.
enum Health {
    static let list: [Builtin] = [
        Builtin("health", ["table"], .verb,
            "Colour-coded account health (green, yellow, red) from revenue trend, NPS, overdue invoices, engagement, single-threading, renewals, discount creep and margin erosion; adds health, risk_points and reasons.",
            .special(health)).producing(.adds(["health", "risk_points", "reasons", "not_assessed"])),
    ]

    static func health(_ site: inout CallSite) throws -> Value {
        try site.checkNamed([])
        let t = try site.inputTable()
        guard let origin = t.origin else { throw site.fail("health works on accounts of a dataset", hints: ["usage: accounts | health"]) }
        let g = origin.graph, e = g.entities[origin.entity]
        let today = Int(site.interp.options.today)
        func link(_ name: String) -> (AccountGraph.ReverseLink, Table)? { e.reverseLink(name).map { ($0, g.entities[$0.source].table) } }
        func number(_ t: Table, _ c: String, _ r: Int) -> Double? { t.column(c)?.value(at: r).asDouble }
        func date(_ t: Table, _ c: String, _ r: Int) -> Int? { if case .date(let d)? = t.column(c)?.value(at: r) { Int(d) } else { nil } }
        let orders = link("orders"), surveys = link("surveys"), invoices = link("invoices"), contracts = link("contracts"), contacts = link("contacts")
        let relationships = contacts.flatMap { c in g.entities[c.0.source].reverseLink("relationships").map { ($0, g.entities[$0.source].table) } }
        // A signal the dataset cannot give is said so in `not_assessed`, never scored as
        // healthy; orders without their amount or date are an error, since every revenue
        // signal reads them.
        var absent: [String] = []
        if let (_, o) = orders {
            let missing = ["amount", "date"].filter { o.column($0) == nil }
            if !missing.isEmpty {
                throw site.fail("health needs orders.\(missing.joined(separator: " and orders.")) for the revenue trend",
                    hints: ["if another column holds it, rename it in kam.toml: [entities.orders] columns = { total = \"\(missing[0])\" }"])
            }
            if o.column("discount") == nil { absent.append("discount: orders have no discount") }
            if o.column("cost") == nil { absent.append("margin: orders have no cost") }
        } else {
            absent.append("revenue: no orders")
        }
        if surveys == nil { absent.append("NPS: no surveys") }
        if invoices == nil { absent.append("receivables: no invoices") }
        if relationships == nil { absent.append("engagement: no relationships") }
        if contracts == nil { absent.append("renewals: no contracts") }
        var colour: [Value] = [], points: [Value] = [], reasons: [Value] = [], unassessed: [Value] = []
        for i in 0..<t.count {
            let r = t.entityRow(i)
            var p = 0
            var why: [String] = []
            var none = absent
            func add(_ n: Int, _ text: String) { p += n; why.append(text) }
            if let (l, o) = orders {
                var rev = [0.0, 0.0], cost = [0.0, 0.0], disc = [0.0, 0.0], discN = [0.0, 0.0], hasCost = o.column("cost") != nil
                for k in l.segment(r) {
                    let row = Int(l.rows[k])
                    guard let d = date(o, "date", row) else { continue }
                    guard let y = yearWindow(d, today: today) else { continue }
                    rev[y] += number(o, "amount", row) ?? 0
                    if hasCost { cost[y] += number(o, "cost", row) ?? 0 }
                    if let x = number(o, "discount", row) { disc[y] += x; discN[y] += 1 }
                }
                hasCost = hasCost && rev[0] > 0 && rev[1] > 0
                if rev[1] <= 0 { none.append("revenue trend: no orders in the year before") }
                if rev[1] > 0 {
                    let change = (rev[0] - rev[1]) / rev[1]
                    if change < -0.2 { add(2, "revenue \(Int((change * 100).rounded()))%") } else if change < -0.05 { add(1, "revenue \(Int((change * 100).rounded()))%") }
                }
                if discN[0] > 0 && discN[1] > 0 {
                    let creep = disc[0] / discN[0] - disc[1] / discN[1]
                    if creep > 0.03 { add(1, "discount +\(Int((creep * 100).rounded())) points") }
                }
                if hasCost {
                    let erosion = (rev[1] - cost[1]) / rev[1] - (rev[0] - cost[0]) / rev[0]
                    if erosion > 0.05 { add(1, "margin -\(Int((erosion * 100).rounded())) points") }
                }
            }
            if let (l, s) = surveys {
                var promoters = 0, detractors = 0, n = 0
                for k in l.segment(r) {
                    let row = Int(l.rows[k])
                    guard let d = date(s, "date", row), today - d >= 0, today - d < 365, let score = number(s, "score", row) else { continue }
                    n += 1
                    if score >= 9 { promoters += 1 } else if score <= 6 { detractors += 1 }
                }
                if n == 0 { none.append("NPS: no survey in the last 365 days") }
                if n > 0 {
                    let nps = Int((Double(promoters - detractors) * 100 / Double(n)).rounded())
                    if nps < 0 { add(2, "NPS \(nps)") } else if nps < 30 { add(1, "NPS \(nps)") }
                }
            }
            if let (l, inv) = invoices {
                var overdue = 0.0, late = 0
                for k in l.segment(r) {
                    let row = Int(l.rows[k])
                    guard inv.column("paid")?.isValid(row) == false, let due = date(inv, "due", row), due < today else { continue }
                    overdue += number(inv, "amount", row) ?? 0
                    late = max(late, today - due)
                }
                if overdue > 0 { add(late > 30 ? 2 : 1, "\(Format.float((overdue * 100).rounded() / 100)) overdue (\(late) days)") }
            }
            if let (cl, _) = contacts {
                var last: Int? = nil, known = 0
                for k in cl.segment(r) {
                    let c = Int(cl.rows[k])
                    guard let (rl, rel) = relationships else { break }
                    var knows = false
                    for j in rl.segment(c) {
                        knows = true
                        if let d = date(rel, "last_contact", Int(rl.rows[j])) { last = max(last ?? d, d) }
                    }
                    if knows { known += 1 }
                }
                if relationships != nil {
                    if let last {
                        let days = today - last
                        if days > 180 { add(2, "no contact for \(days) days") } else if days > 90 { add(1, "no contact for \(days) days") }
                    } else {
                        add(2, "nobody known")
                    }
                    if known == 1 { add(1, "single-threaded") }
                }
            }
            if let (l, ct) = contracts {
                for k in l.segment(r) {
                    guard let end = date(ct, "end", Int(l.rows[k])), end >= today, end - today <= 90 else { continue }
                    add(1, "renewal in \(end - today) days")
                    break
                }
            }
            colour.append(.string(p >= 4 ? "red" : p >= 2 ? "yellow" : "green"))
            points.append(.int(Int64(p)))
            reasons.append(.string(why.joined(separator: "; ")))
            unassessed.append(.string(none.joined(separator: "; ")))
        }
        return .table(adding(t, [("health", Column.from(colour)), ("risk_points", Column.from(points)), ("reasons", Column.from(reasons)),
                                 ("not_assessed", Column.from(unassessed))]))
    }
}
