import Foundation
import KamCore
import Testing

/// Random well-typed expressions, each run through the columnar engine (kernels, typed
/// group-by, segment sums over links) and through the row-at-a-time interpreter, on tables
/// with nulls, no rows, one row and dictionary-encoded strings. The two must agree: the
/// same output, or both an error with the same exit code. (When several rows fail, the
/// two paths may name a different failing row first, so error texts are not compared.)
@Suite("differential: columnar vs row at a time")
struct DifferentialTests {
    /// SplitMix64: a small seeded generator, so a failure can be replayed from its seed.
    struct RNG {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func pick<T>(_ xs: [T]) -> T { xs[int(xs.count)] }
        mutating func chance(_ p: Double) -> Bool { Double(next() % 10_000) / 10_000 < p }
    }

    /// The names an expression may read, by type.
    struct Vocabulary {
        var ints: [String]
        var floats: [String]
        var strings: [String]
        var dates: [String]
        var bools: [String]
    }

    static let fixtureColumns = Vocabulary(ints: ["i", "j"], floats: ["f"], strings: ["s", "t"], dates: ["d"], bools: ["b"])

    /// Accounts of the demo company: columns and links, forward and reverse.
    static let accountColumns = Vocabulary(
        ints: ["employees", "founded", "count(orders)", "count(contacts)", "sum(orders.quantity)", "max(orders.quantity)",
               "count_distinct(orders.product_id)", "count(children)"],
        floats: ["sum(orders.amount)", "avg(orders.amount)", "min(invoices.amount)", "sum(contracts.value)", "avg(surveys.score)"],
        strings: ["name", "region", "tier", "industry", "owner.name", "owner.title", "parent.name", "country"],
        dates: ["max(orders.date)", "min(orders.date)", "max(contracts.end)"],
        bools: [])

    struct Generator {
        var rng: RNG
        let v: Vocabulary

        mutating func number(_ depth: Int) -> String {
            if depth <= 0 || rng.chance(0.25) { return numberAtom() }
            switch rng.int(14) {
            case 0: return "(\(number(depth - 1)) \(rng.pick(["+", "-", "*"])) \(number(depth - 1)))"
            case 1: return "(\(number(depth - 1)) \(rng.pick(["/", "%"])) \(number(depth - 1)))"
            case 2: return "-\(number(depth - 1))"
            case 3: return "\(rng.pick(["abs", "floor", "ceil", "round", "sqrt", "ln", "exp", "float"]))(\(number(depth - 1)))"
            case 4: return "if(\(bool(depth - 1)), \(number(depth - 1)), \(number(depth - 1)))"
            case 5: return "if(\(bool(depth - 1)), \(number(depth - 1)))"
            case 6: return "(\(number(depth - 1)) ?? \(number(depth - 1)))"
            case 7: return "coalesce(\(number(depth - 1)), \(number(depth - 1)))"
            case 8: return "len(\(string(depth - 1)))"
            case 9: return "\(rng.pick(["year", "month", "day", "quarter", "weekday", "days_since"]))(\(date(depth - 1)))"
            case 10: return "round(\(number(depth - 1)), \(rng.int(3)))"
            case 11: return "div(\(number(depth - 1)), \(number(depth - 1)))"
            case 12: return "clamp(\(number(depth - 1)), -1, 10)"
            default: return "pow(\(number(depth - 1)), \(rng.pick(["2", "0.5", "-1"])))"
            }
        }

        mutating func numberAtom() -> String {
            switch rng.int(10) {
            case 0, 1, 2, 3: return rng.pick(v.ints)
            case 4, 5: return rng.pick(v.floats)
            case 6: return rng.pick(["0", "1", "2", "-3", "10", "9223372036854775807"])
            case 7: return rng.pick(["0.5", "-2.5", "0.0", "1e3"])
            case 8: return "null"
            default: return rng.pick(v.ints + v.floats)
            }
        }

        mutating func string(_ depth: Int) -> String {
            if depth <= 0 || rng.chance(0.3) {
                return rng.chance(0.7) ? rng.pick(v.strings) : rng.pick(["\"a\"", "\"B\"", "\"\"", "null", "\" x \""])
            }
            switch rng.int(8) {
            case 0: return "\(rng.pick(["upper", "lower", "trim"]))(\(string(depth - 1)))"
            case 1: return "str(\(number(depth - 1)))"
            case 2: return "substr(\(string(depth - 1)), \(rng.int(3)), \(rng.int(3)))"
            case 3: return "if(\(bool(depth - 1)), \(string(depth - 1)), \(string(depth - 1)))"
            case 4: return "(\(string(depth - 1)) ?? \"z\")"
            case 5: return "(\(string(depth - 1)) + \(string(depth - 1)))"
            case 6: return "pad_left(\(string(depth - 1)), 3)"
            default: return "replace(\(string(depth - 1)), \"a\", \"b\")"
            }
        }

        mutating func date(_ depth: Int) -> String {
            if depth <= 0 || rng.chance(0.4) { return rng.chance(0.8) ? rng.pick(v.dates) : rng.pick(["2025-01-01", "null"]) }
            switch rng.int(3) {
            case 0: return "(\(date(depth - 1)) + \(rng.pick(["30d", "1mo", "1y"])))"
            case 1: return "(\(date(depth - 1)) - \(rng.pick(["7d", "2w", "6mo"])))"
            default: return "if(\(bool(depth - 1)), \(date(depth - 1)), \(date(depth - 1)))"
            }
        }

        mutating func bool(_ depth: Int) -> String {
            if depth <= 0 || rng.chance(0.15) {
                if !v.bools.isEmpty && rng.chance(0.5) { return rng.pick(v.bools) }
                return rng.pick(["true", "false", "null"])
            }
            switch rng.int(13) {
            case 0, 1: return "(\(number(depth - 1)) \(rng.pick(["<", "<=", ">", ">=", "==", "!="])) \(number(depth - 1)))"
            case 2: return "(\(string(depth - 1)) \(rng.pick(["==", "!=", "<", ">="])) \(string(depth - 1)))"
            case 3: return "(\(bool(depth - 1)) and \(bool(depth - 1)))"
            case 4: return "(\(bool(depth - 1)) or \(bool(depth - 1)))"
            case 5: return "not \(bool(depth - 1))"
            case 6: return "(\(rng.pick([number(depth - 1), string(depth - 1), date(depth - 1)])) \(rng.pick(["==", "!="])) null)"
            case 7: return "(\(string(depth - 1)) in [\"a\", \"B\", \"EMEA\", \"key\"])"
            case 8: return "starts_with(\(string(depth - 1)), \"A\")"
            case 9: return "is_null(\(number(depth - 1)))"
            case 10: return "(\(date(depth - 1)) < 2024-06-01)"
            case 11: return "(\(string(depth - 1)) ~ \"^[A-M]\")"
            default: return "(\(bool(depth - 1)) ?? false)"
            }
        }

        mutating func any(_ depth: Int) -> String {
            switch rng.int(4) {
            case 0: return number(depth)
            case 1: return string(depth)
            case 2: return date(depth)
            default: return bool(depth)
            }
        }
    }

    /// A table with nulls in every column, repeated strings and an int close to overflow.
    static let fixture = """
        let T = table([
          {i: 1, j: 0, f: 1.5, s: "a", t: "x", d: 2024-01-31, b: true},
          {i: null, j: 2, f: null, s: "B", t: "x", d: null, b: false},
          {i: -4, j: 3, f: 0.0, s: "a", t: null, d: 2025-02-28, b: null},
          {i: 7, j: -1, f: -2.25, s: null, t: "y", d: 2023-12-01, b: true},
          {i: 0, j: 5, f: 1e6, s: "EMEA", t: "y", d: 2025-06-30, b: false},
          {i: 3, j: 9223372036854775807, f: 4.0, s: "a", t: "z", d: 2024-02-29, b: true}
        ])
        let E = T | where false
        let O = T | take 1

        """

    /// Two sessions on the same data, one per way of evaluating.
    final class Pair {
        let columnar: Session
        let rowwise: Session
        init(prelude: String, demo: Bool) {
            func make(_ evaluation: Interpreter.Evaluation) -> Session {
                let session = Session(options: Interpreter.Options(today: 20_269, evaluation: evaluation), writer: Writer(format: .csv))
                if demo { session.interpreter.install(DifferentialTests.demo) }
                _ = session.run(prelude, name: "<prelude>", out: { _ in }, err: { _ in })
                return session
            }
            columnar = make(.columnar)
            rowwise = make(.rowwise)
        }

        /// Runs `script` both ways; a description of the difference, if any.
        func compare(_ script: String) -> String? {
            func run(_ session: Session) -> (Int32, String) {
                var out = "", err = ""
                let code = session.run(script, name: "<gen>", out: { out += $0 }, err: { err += $0 })
                return (code, code == 0 ? out : err)
            }
            let (c1, o1) = run(columnar), (c2, o2) = run(rowwise)
            // Every generated name exists: a check error (exit 3) is the checker being wrong.
            if c1 == 3 { return "\(script)\n--- the checker rejected a valid program\n\(o1)" }
            guard c1 != c2 || (c1 == 0 && o1 != o2) else { return nil }
            // Only the first lines that differ, so a failure stays readable.
            let a = o1.split(separator: "\n", omittingEmptySubsequences: false), b = o2.split(separator: "\n", omittingEmptySubsequences: false)
            let first = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
            let lo = max(0, first - 1)
            func excerpt(_ x: [Substring]) -> String { x[min(lo, x.count)..<min(first + 3, x.count)].joined(separator: "\n") }
            return "\(script)\n--- columnar (exit \(c1)), from line \(lo + 1)\n\(excerpt(a))\n--- row at a time (exit \(c2))\n\(excerpt(b))"
        }
    }

    /// How many seeds to run: KAM_DIFF_SEEDS=N multiplies the default, for a longer hunt.
    static func seeds(_ n: Int) -> Int {
        n * (ProcessInfo.processInfo.environment["KAM_DIFF_SEEDS"].flatMap(Int.init) ?? 1)
    }

    nonisolated(unsafe) static let demo: AccountGraph = Demo.build().0

    static func stages(_ g: inout Generator, table: String) -> [String] {
        let sortKey = g.number(2)
        return [
            "\(table) | derive r = \(g.any(3))",
            "\(table) | where \(g.bool(3))",
            "\(table) | derive k = \(g.string(1)) | aggregate n = count(), a = sum(\(g.number(2))), m = max(\(g.number(1))), v = avg(\(g.number(1))) by k",
            "\(table) | aggregate n = count(), a = sum(\(g.number(2))), lo = min(\(g.date(1))) by g1 = \(g.string(0)), g2 = \(g.string(0))",
            // Keys and values as columns: the typed group-by of several keys (GroupBy).
            // (x never null: a column derived all null is typed in one way and not the other,
            // so its sum is 0.0 or 0; a debt of derive, not of the group-by.)
            "\(table) | derive k1 = \(g.string(1)), k2 = len(\(g.string(0))), x = (\(g.number(2))) ?? 0 | aggregate n = count(), a = sum(x), m = max(x), v = avg(x) by k1, k2",
            "\(table) | derive k1 = \(g.string(0)), k2 = \(g.string(1)), k3 = \(g.string(0)) | aggregate n = count() by k1, k2, k3",
            // (A whole number alone is no sort key: the checker takes it for SQL's ORDER BY 1.)
            "\(table) | sort \(Int(sortKey) == nil ? sortKey : g.v.ints[0]), \(g.string(1)) | select r = \(g.any(2))",
            "\(table) | \(g.rng.pick(["sum", "avg", "max", "count"]))(\(g.number(1)))",
            "\(table) | derive c = cumsum(\(g.number(1))) | select r = str(c)",
        ]
    }

    @Test("18,000 generated expressions on small tables")
    func generatedOnFixtures() {
        let pair = withLargeStack { Pair(prelude: Self.fixture, demo: false) }
        var failures: [String] = []
        for seed in 0..<Self.seeds(2_000) where failures.count < 5 {
            var g = Generator(rng: RNG(state: UInt64(seed)), v: Self.fixtureColumns)
            let table = ["T", "T", "E", "O", "T"][seed % 5]
            for stage in Self.stages(&g, table: table) {
                if let d = withLargeStack({ pair.compare(stage) }) { failures.append("seed \(seed):\n\(d)") }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n\n"))")
    }

    @Test("3,600 generated expressions over the demo's links")
    func generatedOnAccounts() {
        let pair = withLargeStack { Pair(prelude: "", demo: true) }
        var failures: [String] = []
        for seed in 0..<Self.seeds(400) where failures.count < 5 {
            var g = Generator(rng: RNG(state: UInt64(seed) &+ 1_000_000), v: Self.accountColumns)
            let table = ["accounts", "accounts", "(accounts | where tier == \"key\")", "(accounts | take 1)", "(accounts | where false)"][seed % 5]
            for stage in Self.stages(&g, table: table) {
                if let d = withLargeStack({ pair.compare(stage) }) { failures.append("seed \(seed):\n\(d)") }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n\n"))")
    }

    @Test("grouping by a string column agrees with distinct")
    func groupByNames() {
        let pair = Pair(prelude: "", demo: true)
        var out = ""
        _ = pair.columnar.run("accounts | aggregate n = count() by name | count", name: "<t>", out: { out += $0 }, err: { _ in })
        _ = pair.columnar.run("accounts | distinct name | count", name: "<t>", out: { out += $0 }, err: { _ in })
        #expect(out == "382\n382\n")
        #expect(pair.compare("accounts | aggregate n = count() by name | sort -n, name | take 5") == nil)
    }
}
