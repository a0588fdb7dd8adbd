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
///    365 days before, or its mean NPS answer of the last 365 days is 6 or less.
/// 4. relationships grow: revenue grew by more than 20% and we know three or more of its
///    people (relationships with its contacts).
/// 5. source and support: it buys from two or more product categories.
/// 6. maintenance: everything else (established, steady, narrow).
enum Lifecycle {
    static let stages = ["got what they need", "supply", "do we still like you", "relationships grow", "source and support", "maintenance"]

    /// What lifecycle reads, and the options that point it elsewhere.
    static let inputs = [
        StageInput("revenue", "orders.amount", for: "the revenue trend", expects: .number, group: "orders"),
        StageInput("date", "orders.date", for: "first and last orders", expects: .date, group: "orders"),
        StageInput("category", "orders.product.category", for: "the breadth of what it buys", signal: "breadth", optionalColumn: true),
        StageInput("last_contact", "contacts.relationships.last_contact", for: "the people we know", signal: "people known").perPersonInput(),
        StageInput("nps", "surveys.score", for: "the survey score", expects: .number, signal: "NPS", group: "surveys").or("contacts.surveys.score"),
        StageInput("survey_date", "surveys.date", for: "the survey score of the last 365 days", expects: .date, signal: "NPS", group: "surveys")
            .or("contacts.surveys.date"),
    ]

    static let list: [Builtin] = [
        Builtin("lifecycle", ["table"], .verb,
            "The key account life-cycle stage of each account from its orders, relationships and surveys, with a reason: accounts | lifecycle.",
            .special(lifecycle)).producing(.adds(["stage", "stage_reason", "not_assessed"])).needing(inputs),
    ]

    static func lifecycle(_ site: inout CallSite) throws -> Value {
        try site.checkNamed([])
        let t = try site.inputTable()
        let inputs = try site.stageInputs(t)
        guard let amount = inputs["revenue"], let date = inputs["date"] else { throw site.fail("lifecycle needs orders with amount and date") }
        let category = inputs["category"], people = inputs["last_contact"]
        let notAssessed = Value.string(inputs.absent.joined(separator: "; "))
        let today = site.interp.options.today
        var stage: [Value] = [], reason: [Value] = [], unassessed: [Value] = []
        for i in 0..<t.count {
            let r = t.entityRow(i)
            unassessed.append(notAssessed)
            var first: Int = .max, last: Int = .min, recent = 0.0, prior = 0.0
            for o in amount.rows(from: r) {
                guard let d = date.date(o) else { continue }
                first = min(first, d)
                last = max(last, d)
                switch yearWindow(d, today: Int(today)) {
                case 0: recent += amount.number(o) ?? 0
                case 1: prior += amount.number(o) ?? 0
                default: break
                }
            }
            if first == .max {
                stage.append(.null)
                reason.append(.string("no orders"))
                continue
            }
            // Distinct categories among the account's orders (nulls are no category).
            var cats = Set<String>()
            if let category {
                for row in category.rows(from: r) where category.column.isValid(row) { cats.insert(Format.plain(category.column.value(at: row))) }
            }
            let known = people?.people(from: r).count ?? 0
            var nps: Double? = nil
            // The surveys of the last 365 days, as health reads them.
            if let input = inputs["nps"], let when = inputs["survey_date"] {
                let xs = input.rows(from: r).compactMap { row -> Double? in
                    guard let d = when.date(row), yearWindow(d, today: Int(today)) == 0 else { return nil }
                    return input.number(row)
                }
                if !xs.isEmpty { nps = Reduce.sum(xs) / Double(xs.count) }
            }
            let growth: Double? = prior > 0 ? (recent - prior) / prior : nil
            let pct = { (x: Double) in "\(Int((x * 100).rounded()))%" }
            let (s, why): (Int, String)
            if Int(today) - last >= 365 {
                (s, why) = (0, "no orders in the last 365 days (last \(Calendar.format(Int32(last))))")
            } else if Int(today) - first < 365 {
                (s, why) = (1, "first order \(Calendar.format(Int32(first))), less than a year ago")
            } else if let gr = growth, gr < -0.2 {
                (s, why) = (2, "revenue \(pct(gr)) against the year before")
            } else if let n = nps, n <= 6 {
                (s, why) = (2, "mean survey score \(Format.float((n * 10).rounded() / 10)) (detractor level)")
            } else if let gr = growth, gr > 0.2, known >= 3 {
                (s, why) = (3, "revenue +\(pct(gr)) and \(known) people known")
            } else if cats.count >= 2 {
                (s, why) = (4, "buys from \(cats.count) categories")
            } else {
                // Established: say why no other stage took it.
                if let gr = growth, gr > 0.2 {
                    (s, why) = (5, "revenue +\(pct(gr)), but \(known) \(known == 1 ? "person" : "people") known (relationships grow needs 3)")
                } else {
                    (s, why) = (5, "steady" + (growth.map { ", revenue \($0 >= 0 ? "+" : "")\(pct($0))" } ?? ""))
                }
            }
            stage.append(.string(stages[s]))
            reason.append(.string(why))
        }
        return .table(adding(t, [("stage", Column.from(stage)), ("stage_reason", Column.from(reason)), ("not_assessed", Column.from(unassessed))]))
    }
}
