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
    /// What health reads, and the options that point it elsewhere.
    static let inputs = [
        StageInput("revenue", "orders.amount", for: "the revenue trend", expects: .number, signal: "revenue", group: "orders"),
        StageInput("date", "orders.date", for: "the revenue trend", expects: .date, signal: "revenue", group: "orders"),
        StageInput("discount", "orders.discount", for: "discount creep", expects: .fraction, signal: "discount", optionalColumn: true, group: "orders"),
        StageInput("cost", "orders.cost", for: "margin erosion", expects: .number, signal: "margin", optionalColumn: true, group: "orders"),
        StageInput("nps", "surveys.score", for: "NPS", expects: .number, signal: "NPS", group: "surveys").or("contacts.surveys.score"),
        StageInput("survey_date", "surveys.date", for: "NPS", expects: .date, signal: "NPS", group: "surveys").or("contacts.surveys.date"),
        StageInput("invoice_amount", "invoices.amount", for: "overdue receivables", expects: .number, signal: "receivables", group: "invoices"),
        StageInput("due", "invoices.due", for: "overdue receivables", expects: .date, signal: "receivables", group: "invoices"),
        StageInput("paid", "invoices.paid", for: "overdue receivables (null or false: unpaid)", expects: .dateOrFlag, signal: "receivables", group: "invoices"),
        StageInput("last_contact", "contacts.relationships.last_contact", for: "engagement", expects: .date, signal: "engagement").perPersonInput(),
        StageInput("renewal", "contracts.end", for: "renewals", expects: .date, signal: "renewals"),
    ]

    static let list: [Builtin] = [
        Builtin("health", ["table", "as_of?"], .verb,
            "Colour-coded account health (green, yellow, red) from revenue trend, NPS, overdue invoices, engagement, single-threading, renewals, discount creep and margin erosion; adds health, risk_points, reasons and not_assessed. as_of: a date judges as on that day (last week: today() - 7d).",
            .special(health)).producing(.adds(["health", "risk_points", "reasons", "not_assessed"])).needing(inputs),
    ]

    static func health(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(["as_of"])
        let t = try site.inputTable()
        let inputs = try site.stageInputs(t)
        var today = Int(site.interp.options.today)
        if let v = try site.option("as_of") {
            guard case .date(let d) = v else {
                throw site.interp.fail("as_of must be a date", site.optionRange("as_of"), hints: ["health as_of: today() - 7d", "health as_of: 2025-06-23"])
            }
            today = Int(d)
        }
        // A signal the dataset cannot give is said so in `not_assessed`, never scored as
        // healthy; an input that is there but incomplete is an error (StageInputs).
        let absent = inputs.absent
        let amount = inputs["revenue"], orderDate = inputs["date"], cost = inputs["cost"], discount = inputs["discount"]
        let score = inputs["nps"], surveyDate = inputs["survey_date"]
        let invoiceAmount = inputs["invoice_amount"], due = inputs["due"], paid = inputs["paid"]
        let lastContact = inputs["last_contact"], renewal = inputs["renewal"]
        // Each input's values read once, typed, not boxed again per use.
        let amounts = amount?.numbers(), orderDates = orderDate?.dates(), costs = cost?.numbers(), discounts = discount?.numbers()
        let scores = score?.numbers(), surveyDates = surveyDate?.dates(), owed = invoiceAmount?.numbers(), dues = due?.dates()
        let contactDates = lastContact?.dates(), renewals = renewal?.dates()
        var colour: [Value] = [], points: [Value] = [], reasons: [Value] = [], unassessed: [Value] = []
        for i in 0..<t.count {
            let r = t.entityRow(i)
            var p = 0
            var why: [String] = []
            var none = absent
            func add(_ n: Int, _ text: String) { p += n; why.append(text) }
            if let amount, let amounts, let orderDates {
                var rev = [0.0, 0.0], spent = [0.0, 0.0], disc = [0.0, 0.0], discN = [0.0, 0.0]
                for row in amount.rows(from: r) {
                    guard let d = orderDates[row], let y = yearWindow(d, today: today) else { continue }
                    rev[y] += amounts[row] ?? 0
                    if let costs { spent[y] += costs[row] ?? 0 }
                    if let x = discounts?[row] { disc[y] += x; discN[y] += 1 }
                }
                if rev[1] <= 0 { none.append("revenue trend: no orders in the year before") }
                if rev[1] > 0 {
                    let change = (rev[0] - rev[1]) / rev[1]
                    if change < -0.2 { add(2, "revenue \(Int((change * 100).rounded()))%") } else if change < -0.05 { add(1, "revenue \(Int((change * 100).rounded()))%") }
                }
                if discN[0] > 0 && discN[1] > 0 {
                    let creep = disc[0] / discN[0] - disc[1] / discN[1]
                    if creep > 0.03 { add(1, "discount +\(Int((creep * 100).rounded())) points") }
                }
                if cost != nil && rev[0] > 0 && rev[1] > 0 {
                    let erosion = (rev[1] - spent[1]) / rev[1] - (rev[0] - spent[0]) / rev[0]
                    if erosion > 0.05 { add(1, "margin -\(Int((erosion * 100).rounded())) points") }
                }
            }
            if let score, let scores, let surveyDates {
                var promoters = 0, detractors = 0, n = 0
                for row in score.rows(from: r) {
                    guard let d = surveyDates[row], today - d >= 0, today - d < 365, let s = scores[row] else { continue }
                    n += 1
                    if s >= 9 { promoters += 1 } else if s <= 6 { detractors += 1 }
                }
                if n == 0 { none.append("NPS: no survey in the last 365 days") }
                if n > 0 {
                    let nps = Int((Double(promoters - detractors) * 100 / Double(n)).rounded())
                    if nps < 0 { add(2, "NPS \(nps)") } else if nps < 30 { add(1, "NPS \(nps)") }
                }
            }
            if let invoiceAmount, let owed, let dues, let paid {
                var overdue = 0.0, late = 0
                for row in invoiceAmount.rows(from: r) {
                    // Unpaid and past due; a credit note (a negative amount) is not owed.
                    // Paid is a date or a flag: null or false is unpaid.
                    let unpaid: Bool = {
                        switch paid.value(row) {
                        case .null, .bool(false), .int(0): return true
                        default: return false
                        }
                    }()
                    guard unpaid, let d = dues[row], d < today, let amount = owed[row], amount > 0 else { continue }
                    overdue += amount
                    late = max(late, today - d)
                }
                if overdue > 0 { add(late > 30 ? 2 : 1, "\(Format.float((overdue * 100).rounded() / 100)) overdue (\(late) days)") }
            }
            if let lastContact, let contactDates {
                // Each person we could know there (a contact) and our relationships with them;
                // read straight from the contacts (contacts.last_contact), a person is known
                // when the date is there.
                var last: Int? = nil, known = 0
                for person in lastContact.people(from: r) {
                    known += 1
                    for row in person { if let d = contactDates[row] { last = max(last ?? d, d) } }
                }
                if known == 0 {
                    add(2, "nobody known")
                } else if let last {
                    let days = today - last
                    if days > 180 { add(2, "no contact for \(days) days") } else if days > 90 { add(1, "no contact for \(days) days") }
                } else {
                    none.append("engagement: no dates of our last contact")
                }
                if known == 1 { add(1, "single-threaded") }
            }
            if let renewal, let renewals {
                for row in renewal.rows(from: r) {
                    guard let end = renewals[row], end >= today, end - today <= 90 else { continue }
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
