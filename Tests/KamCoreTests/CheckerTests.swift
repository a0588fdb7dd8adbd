@testable import KamCore
import Testing

/// The checker's schema of each stage's result must be the columns the stage really
/// returns: a wrong declaration would report a valid script as wrong.
@Suite("checker")
struct CheckerTests {
    nonisolated(unsafe) static let demo: AccountGraph = Demo.build().0

    /// The columns the checker predicts for the last statement, and those the run gives.
    static func columns(_ script: String) -> (predicted: [String]?, actual: [String]?) {
        let session = Session(options: Interpreter.Options(today: 20_269))
        session.interpreter.install(demo)
        let program = (try? Parser.parse(Source(name: "<t>", text: script)))
        guard let program, let last = program.statements.last, case .expression(let e) = last.kind else { return (nil, nil) }
        let checker = Checker(session.interpreter)
        for stmt in program.statements.dropLast() { checker.statement(stmt, checker.globals) }
        var predicted: [String]? = nil
        switch checker.expr(e, checker.globals) {
        case .table(let s) where !s.open: predicted = s.columns
        case .record(let fields?): predicted = fields.keys.sorted()
        default: break
        }
        var actual: [String]? = nil
        try? session.interpreter.run(program) { v in
            if case .table(let t) = v { actual = t.names }
            if case .record(let r) = v { actual = r.keys.sorted() }
        }
        return (predicted, actual)
    }

    static let stages = [
        "accounts | derive r = sum(orders.amount) | score {r: 0.7, employees: 0.3}",
        "accounts | derive r = sum(orders.amount) | score {r: 1} | key_accounts",
        "accounts | derive r = sum(orders.amount) | abc r",
        "accounts | derive r = sum(orders.amount) | quantile r",
        "accounts | derive r = sum(orders.amount) | quantile r, n: 4, name: \"quartile\"",
        "accounts | derive r = sum(orders.amount), f = count(orders), d = days_since(max(orders.date)) | rfm recency: d, frequency: f, monetary: r",
        "accounts | derive r = sum(orders.amount), f = count(orders) | portfolio attractiveness: r, strength: f",
        "accounts | lifecycle",
        "accounts | derive r = sum(orders.amount) | concentration r",
        "accounts | derive r = sum(orders.amount) | concentration r, share: true",
        "accounts | derive revenue = sum(orders.amount) | lose tier == \"key\"",
        "accounts | profitability",
        "accounts | cross_sell orders.product.category",
        "accounts | cross_sell_eval orders.product.category, split: 2024-06-01",
        "accounts | stakeholders",
        "accounts | coverage",
        "accounts | health",
        "accounts | nps",
        "accounts | nps days: 365",
        "accounts | nps_trend",
        "accounts | nps_trend period: \"month\", overall: true",
        "accounts | select name, region, owner.name as kam, n = count(orders)",
        "accounts | derive rev = sum(orders.amount), region = lower(region) | sort -rev | take 3",
        "orders | aggregate revenue = sum(amount), n = count() by account.region, year(date)",
        "orders | join products on product_id == id",
        "let p = products\norders | join p on product_id == id | select id, products_id, name",
        "accounts | distinct region, tier",
        "accounts | top 3 by employees",
    ]

    @Test("each stage's predicted columns are the columns it returns", arguments: stages)
    func predictedColumns(_ script: String) {
        let (predicted, actual) = Self.columns(script)
        #expect(actual != nil, "the script did not run")
        #expect(predicted == actual)
    }

    @Test("a valid script reports nothing; each mistake once")
    func reportsEachMistake() {
        let session = Session(options: Interpreter.Options(today: 20_269))
        session.interpreter.install(Self.demo)
        func problems(_ text: String) -> [String] {
            guard let program = try? Parser.parse(Source(name: "<t>", text: text)) else { return ["parse"] }
            return Checker(session.interpreter).check(program).map(\.message)
        }
        #expect(problems("accounts | where tier == \"key\" | derive r = sum(orders.amount) | top 5 by r | select name, r") == [])
        #expect(problems("fn f(t) = t | where x > 1\nf(table([{x: 2}]))") == [])
        #expect(problems("fn later() = helper(2)\nfn helper(x) = x * 2\nlater()") == [])
        #expect(problems("let t = load \"elsewhere\"\nmystery_entity | count") == [])
        #expect(problems("[{a: 1}] | where a > 0") == [])
        #expect(problems("orders | aggregate n = count() by account.region | where region == \"EMEA\"") == [])
        #expect(problems("orders | aggregate n = count(), x = amount by region") == ["unknown name 'region'", "'amount' is not a key of the group"])
        #expect(problems("accounts | select name, nme") == ["unknown name 'nme'"])
        #expect(problems("accounts | derive x = owner.nam") == ["no column or link 'nam' in employees"])
        #expect(problems("accounts | where orders.amout > 1") == ["no column or link 'amout' in orders"])
        #expect(problems("let x = 1\nx(2)") == ["'x' is an int, not a function"])
        #expect(problems("round(1, 2, 3)") == ["round takes at most 2 arguments, got 3"])
        #expect(problems("round(x: 1, digit: 2)") == ["round has no parameter 'digit'"])
        #expect(problems("accounts | take 2 | sort -employes") == ["unknown name 'employes'"])
    }
}
