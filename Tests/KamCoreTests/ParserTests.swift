import Testing
@testable import KamCore

@Suite("parser")
struct ParserTests {
    func parse(_ text: String) throws -> [Stmt] {
        try Parser.parse(Source(name: "t", text: text)).statements
    }

    func shape(_ e: Expr) -> String {
        switch e.kind {
        case .int(let v): return String(v)
        case .name(let n): return n
        case .binary(let op, let a, let b): return "(\(shape(a)) \(op.rawValue) \(shape(b)))"
        case .and(let a, let b): return "(\(shape(a)) and \(shape(b)))"
        case .or(let a, let b): return "(\(shape(a)) or \(shape(b)))"
        case .coalesce(let a, let b): return "(\(shape(a)) ?? \(shape(b)))"
        case .unary(.not, let a): return "(not \(shape(a)))"
        case .unary(.negate, let a): return "(-\(shape(a)))"
        case .member(let a, let n): return "\(shape(a)).\(n)"
        case .call(let f, let args, let piped):
            let rendered = args.map { a in
                (a.clause.map { "\($0) " } ?? "") + (a.name.map { "\($0)\(a.style == .named ? ":" : "=")" } ?? "") + shape(a.value) + (a.alias.map { " as \($0)" } ?? "")
            }
            return "\(shape(f))\(piped ? "|" : "")(\(rendered.joined(separator: ", ")))"
        default: return "?"
        }
    }

    func expr(_ text: String) throws -> String {
        let s = try parse(text)
        guard case .expression(let e) = s.first?.kind else { return "not an expression" }
        return shape(e)
    }

    @Test func precedenceLoosestFirst() throws {
        #expect(try expr("a ?? b or c and not d == e + f * -g") == "(a ?? (b or (c and (not (d == (e + (f * (-g))))))))")
        #expect(try expr("a - b - c") == "((a - b) - c)")
        #expect(try expr("x.y.z") == "x.y.z")
        #expect(try expr("a not in b") == "(a not in b)")
    }

    @Test func pipelineStagesTakeTheInputFirst() throws {
        #expect(try expr("t | where a > 1 | take 3") == "take|(where|(t, (a > 1)), 3)")
        #expect(try expr("t | f(1, n: 2)") == "f|(t, 1, n:2)")
        #expect(try expr("t | aggregate n = count(), s = sum(x) by r, k") == "aggregate|(t, n=count(), s=sum(x), by r, by k)")
        #expect(try expr("o | join p on a == b") == "join|(o, p, on (a == b))")
        #expect(try expr("t | select a as b, c") == "select|(t, a as b, c)")
    }

    @Test func newlineBeforePipeContinues() throws {
        #expect(try expr("t\n  | where a\n  | take 1") == "take|(where|(t, a), 1)")
    }

    @Test func hundredThousandNestedBracketsIsOneCleanError() {
        let text = String(repeating: "(", count: 100_000) + "1" + String(repeating: ")", count: 100_000)
        let result = withLargeStack { () -> [Diagnostic] in
            do {
                _ = try Parser.parse(Source(name: "t", text: text))
                return []
            } catch let list as DiagnosticList {
                return list.diagnostics
            } catch {
                return []
            }
        }
        #expect(result.count == 1)
        #expect(result.first?.message == "expression nested too deeply (more than 200 levels)")
    }

    @Test func recoversAndReportsEveryError() {
        do {
            _ = try parse("let a = (1 +\nlet b = 2 +* 3\nlet c = [1, 2\nlet d = 4\n")
            Issue.record("expected errors")
        } catch let list as DiagnosticList {
            #expect(list.diagnostics.map { $0.source?.location(of: $0.range?.start ?? 0).line } == [1, 2, 3])
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test(arguments: [
        ("table([{a: 1}", true), ("t |", true), ("f(1,", true), ("t | rfm recency: r, frequency: f,", true), ("1 +", true), ("let x =", true), ("t | # note", true),
        ("1 + 1", false), ("t | take 3", false), ("let x = [1, 2]", false), ("", false),
        // A string cannot span lines: an open one is an error to show now, not more to read.
        ("\"open", false), ("\"abc\nfoo", false),
        // An error before the end is an error, whatever follows.
        ("1 + + 2 * (", false), ("where where (", false),
    ])
    func incompleteInput(_ text: String, _ incomplete: Bool) {
        #expect(Parser.isIncomplete(text) == incomplete)
    }
}
