import KamRuntime
import KamEngine
import KamData
import KamSyntax

/// Net Promoter Score (Reichheld 2003, "The One Number You Need to Grow"): on the 0-10
/// answer to "how likely are you to recommend us", promoters answer 9 or 10, passives 7 or
/// 8, detractors 0 to 6; NPS = 100 x (promoters - detractors) / responses, from -100 to 100.
/// A null answer is not a response; an answer outside 0-10 is an error, never counted.
enum Nps {
    static let inputs = [
        StageInput("score", "surveys.score", for: "NPS", expects: .number, group: "surveys").or("contacts.surveys.score"),
        StageInput("date", "surveys.date", for: "days: and the periods", expects: .date, signal: "the survey dates", optionalColumn: true, group: "surveys")
            .or("contacts.surveys.date"),
    ]

    static let counted = ["responses", "promoters", "passives", "detractors", "nps"]

    static let list: [Builtin] = [
        Builtin("nps", ["table", "days?"], .verb,
            "Net Promoter Score per row (account, contact, ...) from its surveys: responses, promoters (9-10), passives (7-8), detractors (0-6) and nps = 100 x (promoters - detractors) / responses; days: N counts only the last N days to today.",
            .special(nps)).producing(.adds(counted)).needing(inputs),
        Builtin("nps_trend", ["table", "period?", "overall?"], .verb,
            "NPS per period (period: \"month\", \"quarter\" (the default) or \"year\") for each row of the table, or with overall: true for all its rows together: id, name, period, responses, promoters, passives, detractors, nps and change (against the period before).",
            .special(trend)).producing(.table(["id", "name", "period"] + counted + ["change"])).needing(inputs)
            .choosing("period", from: ["month", "quarter", "year"]),
    ]

    /// Promoter, passive and detractor counts of some answers.
    struct Tally {
        var promoters = 0, passives = 0, detractors = 0
        var responses: Int { promoters + passives + detractors }
        /// Nil with no responses: not 0, which would read as neutral.
        var score: Double? {
            responses == 0 ? nil : Double(promoters - detractors) * 100 / Double(responses)
        }
        mutating func add(_ s: Double) {
            if s >= 9 { promoters += 1 } else if s >= 7 { passives += 1 } else { detractors += 1 }
        }
        var values: [Value] {
            [.int(Int64(responses)), .int(Int64(promoters)), .int(Int64(passives)), .int(Int64(detractors)), score.map(Value.float) ?? .null]
        }
    }

    /// The answers of each row's surveys, checked: (answer, date) pairs.
    static func answers(_ site: inout CallSite, _ t: Table, needDates: Bool) throws -> [[(score: Double, date: Int?)]] {
        let inputs = try site.stageInputs(t)
        guard let score = inputs["score"] else { throw site.fail("\(site.builtin.name) needs surveys.score") }
        if needDates && inputs["date"] == nil {
            throw site.fail("\(site.builtin.name)\(site.builtin.name == "nps" ? " days:" : "") needs the surveys' dates, and they have none",
                hints: ["point it at them: date: surveys.answered_on"])
        }
        let scores = score.numbers(), dates = inputs["date"]?.dates()
        // Nothing after today counts (--today pins the day a run describes).
        let today = Int(site.interp.options.today)
        let names = t.column("name") ?? t.column("id")
        var out: [[(score: Double, date: Int?)]] = []
        out.reserveCapacity(t.count)
        for i in 0..<t.count {
            var xs: [(score: Double, date: Int?)] = []
            for row in score.rows(from: t.entityRow(i)) {
                guard let s = scores[row] else { continue }
                if let d = dates?[row], d > today { continue }
                guard s >= 0, s <= 10 else {
                    let of = names.map { " (a survey of \(Format.plain($0.value(at: i))))" } ?? ""
                    throw site.fail("\(score.path.joined(separator: ".")) holds \(Format.literal(score.value(row))), not an answer from 0 to 10" + of,
                        hints: ["NPS answers are 0 to 10: 9-10 promoters, 7-8 passives, 0-6 detractors",
                                "a survey on another scale: rescale it first (derive score = round(csat * 2))"])
                }
                xs.append((s, dates?[row]))
            }
            out.append(xs)
        }
        return out
    }

    static func nps(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(["days"])
        let t = try site.inputTable()
        var window: Int? = nil
        if let v = try site.option("days") {
            guard case .int(let n) = v, n > 0, n <= 100_000 else {
                throw site.interp.fail("days must be a whole number of days, 1 or more", site.optionRange("days"), hints: ["nps days: 365"])
            }
            window = Int(n)
        }
        let today = Int(site.interp.options.today)
        var columns = [[Value]](repeating: [], count: counted.count)
        for xs in try answers(&site, t, needDates: window != nil) {
            var tally = Tally()
            for x in xs {
                if let window {
                    // The last `window` days up to today; an undated survey is not in them.
                    guard let d = x.date, today - d >= 0, today - d < window else { continue }
                }
                tally.add(x.score)
            }
            for (k, v) in tally.values.enumerated() { columns[k].append(v) }
        }
        return .table(adding(t, zip(counted, columns).map { ($0, Column.from($1)) }))
    }

    enum Period: String {
        case month, quarter, year

        /// The period's number, counted from year 0 (so the one before is one less).
        func index(_ day: Int) -> Int {
            let (y, m, _) = Calendar.civil(Int32(clamping: day))
            switch self {
            case .month: return y * 12 + (m - 1)
            case .quarter: return y * 4 + (m - 1) / 3
            case .year: return y
            }
        }

        func label(_ index: Int) -> String {
            func floorDiv(_ a: Int, _ b: Int) -> (Int, Int) {
                let q = a >= 0 ? a / b : -((-a + b - 1) / b)
                return (q, a - q * b)
            }
            switch self {
            case .month:
                let (y, m) = floorDiv(index, 12)
                return "\(y)-" + (m < 9 ? "0" : "") + "\(m + 1)"
            case .quarter:
                let (y, q) = floorDiv(index, 4)
                return "\(y)-Q\(q + 1)"
            case .year: return "\(index)"
            }
        }
    }

    static func trend(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(["period", "overall"])
        let t = try site.inputTable()
        var period = Period.quarter
        if let v = try site.option("period") {
            guard case .string(let s) = v, let p = Period(rawValue: s) else {
                let words = ["month", "quarter", "year"]
                throw site.interp.fail(Builtin.choiceMessage("period", words), site.optionRange("period"),
                    hints: [{ if case .string(let w) = v { Suggest.hint(w, in: words) } else { nil } }() ?? "nps_trend period: \"month\""])
            }
            period = p
        }
        var overall = false
        if let v = try site.option("overall") {
            guard case .bool(let b) = v else {
                throw site.interp.fail("overall must be true or false", site.optionRange("overall"), hints: ["nps_trend overall: true"])
            }
            overall = b
        }
        let all = try answers(&site, t, needDates: true)
        // One calendar for every row: from the first period with an answer to the last.
        var lo = Int.max, hi = Int.min
        for xs in all { for x in xs { if let d = x.date { lo = min(lo, period.index(d)); hi = max(hi, period.index(d)) } } }
        let undated = all.contains { $0.contains { $0.date == nil } }
        if undated {
            throw site.fail("nps_trend needs the date of every survey; some have none",
                hints: ["count them: surveys | where is_null(date) | count", "or keep the dated ones: nps over a table without them"])
        }
        // Names: the row's name, else its id; overall: "all".
        let nameColumn = t.column("name") ?? t.column("id"), idColumn = t.column("id")
        var groups: [(id: Value, name: Value, answers: [(score: Double, date: Int?)])] = []
        if overall {
            groups = [(.null, .string("all"), all.flatMap { $0 })]
        } else {
            for (i, xs) in all.enumerated() { groups.append((idColumn?.value(at: i) ?? .int(Int64(i + 1)), nameColumn?.value(at: i) ?? .int(Int64(i + 1)), xs)) }
        }
        var rows: [[Value]] = []
        if lo <= hi {
            for g in groups {
                var tallies = [Tally](repeating: Tally(), count: hi - lo + 1)
                for x in g.answers { if let d = x.date { tallies[period.index(d) - lo].add(x.score) } }
                var previous: Double? = nil
                for (k, tally) in tallies.enumerated() {
                    let change: Value = tally.score.flatMap { now in previous.map { .float(now - $0) } } ?? .null
                    rows.append([g.id, g.name, .string(period.label(lo + k))] + tally.values + [change])
                    previous = tally.score
                }
            }
        }
        let names = ["id", "name", "period"] + counted + ["change"]
        let columns = names.indices.map { c in Column.from(rows.map { $0[c] }) }
        return .table(Table(names: names, columns: columns, count: rows.count))
    }
}
