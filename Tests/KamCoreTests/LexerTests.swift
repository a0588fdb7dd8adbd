import Testing
@testable import KamCore

@Suite("lexer")
struct LexerTests {
    func kinds(_ text: String) -> [TokenKind] {
        var l = Lexer(Source(name: "t", text: text))
        return l.tokenize().map(\.kind).filter { $0 != .eof }
    }

    @Test func numbersWithSuffixes() {
        #expect(kinds("1_000 250k 1.5M 2B 0.25 1e3") == [.int(1000), .int(250_000), .int(1_500_000), .int(2_000_000_000), .float(0.25), .float(1000)])
    }

    @Test func datesAndDurations() {
        #expect(kinds("2025-01-31") == [.date(KamCore.Calendar.days(year: 2025, month: 1, day: 31) ?? 0)])
        #expect(kinds("90d 12w 6mo 1y") == [.duration(months: 0, days: 90), .duration(months: 0, days: 84), .duration(months: 6, days: 0), .duration(months: 12, days: 0)])
        // Not a date: arithmetic on short numbers.
        #expect(kinds("2025-1") == [.int(2025), .minus, .int(1)])
    }

    @Test func stringsAndInterpolation() {
        let k = kinds(#""a {x} b""#)
        guard case .string(let parts) = k.first else { Issue.record("not a string"); return }
        #expect(parts == [.text("a "), .expr(SourceRange(4, 5)), .text(" b")])
        #expect(kinds("'raw {x}'") == [.rawString("raw {x}")])
    }

    @Test func operatorsAndKeywords() {
        #expect(kinds("a ?? b | c => d == e != f <= g >= h") == [.ident("a"), .coalesce, .ident("b"), .pipe, .ident("c"), .arrow, .ident("d"), .eq, .ident("e"), .ne, .ident("f"), .le, .ident("g"), .ge, .ident("h")])
        #expect(kinds("let fn import assert and or not in as") == [.kwLet, .kwFn, .kwImport, .kwAssert, .kwAnd, .kwOr, .kwNot, .kwIn, .kwAs])
    }

    @Test func spaceBeforeDistinguishesCalls() {
        var l = Lexer(Source(name: "t", text: "f(x) f (x)"))
        let t = l.tokenize()
        #expect(t[1].spaceBefore == false)
        #expect(t[5].spaceBefore == true)
    }

    @Test func errorsDoNotStopTheLexer() {
        var l = Lexer(Source(name: "t", text: "1 @ 2 $ 3"))
        let t = l.tokenize()
        #expect(l.diagnostics.count == 2)
        #expect(t.map(\.kind).filter { if case .int = $0 { true } else { false } }.count == 3)
    }

    @Test func overflowingLiteralIsAnError() {
        var l = Lexer(Source(name: "t", text: "99999999999999999999"))
        _ = l.tokenize()
        #expect(l.diagnostics.first?.message == "integer literal 99999999999999999999 does not fit in 64 bits")
    }

    /// The REPL's colours come from the lexer's tokens: keywords, the verb after a pipe,
    /// strings, numbers, parameters and comments; the rest is left alone.
    @Test func highlightingFollowsTheTokens() {
        let e = "\u{1B}["
        #expect(Highlight.ansi(#"let t = accounts | where tier == "A" and n > 2  # key"#)
            == "\(e)35mlet\(e)0m t = accounts \(e)1m|\(e)0m \(e)34mwhere\(e)0m tier == \(e)32m\"A\"\(e)0m \(e)35mand\(e)0m n > \(e)36m2\(e)0m  \(e)2m# key\(e)0m")
        #expect(Highlight.ansi("orders | where date >= 2025-01-01 - 90d and region == $region")
            == "orders \(e)1m|\(e)0m \(e)34mwhere\(e)0m date >= \(e)36m2025-01-01\(e)0m - \(e)36m90d\(e)0m \(e)35mand\(e)0m region == \(e)33m$region\(e)0m")
        // Text the lexer rejects stays as typed; a string left open is not coloured past its end.
        #expect(Highlight.ansi("a ` b") == "a ` b")
        #expect(Highlight.ansi("1 + 1") == "\(e)36m1\(e)0m + \(e)36m1\(e)0m")
    }
}
