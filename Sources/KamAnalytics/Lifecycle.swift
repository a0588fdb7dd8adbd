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
        // Each input's values read once, typed.
        let amounts = amount.numbers(), dates = date.dates()
        let npsInput = inputs["nps"], npsDate = inputs["survey_date"]
        let scores = npsInput?.numbers(), scoreDates = npsDate?.dates()
        // A category by a number that stands for its text, so counting an account's distinct
        // categories hashes no string: `seenBy[k] == i` when account i has category k.
        var categoryKey: [Int] = [], seenBy: [Int] = []
        if let category {
            var keyOf: [String: Int] = [:]
            if case .string(let sc) = category.column.storage {
                let byCode = sc.dictionary.map { text -> Int in
                    if let k = keyOf[text] { return k }
                    keyOf[text] = keyOf.count
                    return keyOf.count - 1
                }
                categoryKey = (0..<category.column.count).map { category.column.isValid($0) ? byCode[Int(sc.codes[$0])] : -1 }
            } else {
                categoryKey = (0..<category.column.count).map { row in
                    guard category.column.isValid(row) else { return -1 }
                    let text = Format.plain(category.column.value(at: row))
                    if let k = keyOf[text] { return k }
                    keyOf[text] = keyOf.count
                    return keyOf.count - 1
                }
            }
            seenBy = [Int](repeating: -1, count: keyOf.count)
        }
        var stage: [Value] = [], reason: [Value] = [], unassessed: [Value] = []
        for i in 0..<t.count {
            let r = t.entityRow(i)
            unassessed.append(notAssessed)
            var first: Int = .max, last: Int = .min, recent = 0.0, prior = 0.0
            for o in amount.rows(from: r) {
                guard let d = dates[o] else { continue }
                first = min(first, d)
                last = max(last, d)
                switch yearWindow(d, today: Int(today)) {
                case 0: recent += amounts[o] ?? 0
                case 1: prior += amounts[o] ?? 0
                default: break
                }
            }
            if first == .max {
                stage.append(.null)
                reason.append(.string("no orders"))
                continue
            }
            // Distinct categories among the account's orders (nulls are no category).
            var categories = 0
            if let category {
                for row in category.rows(from: r) where categoryKey[row] >= 0 && seenBy[categoryKey[row]] != i {
                    seenBy[categoryKey[row]] = i
                    categories += 1
                }
            }
            let known = people?.people(from: r).count ?? 0
            var nps: Double? = nil
            // The surveys of the last 365 days, as health reads them.
            if let input = npsInput, let scores, let scoreDates {
                let xs = input.rows(from: r).compactMap { row -> Double? in
                    guard let d = scoreDates[row], yearWindow(d, today: Int(today)) == 0 else { return nil }
                    return scores[row]
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
            } else if categories >= 2 {
                (s, why) = (4, "buys from \(categories) categories")
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
