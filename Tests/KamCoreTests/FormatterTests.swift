import Foundation
import Testing
@testable import KamCore

/// `kam fmt`: the canonical layout, case by case, and its two promises over every script
/// in the repository: a second pass changes nothing, and the program means the same.
@Suite("formatter")
struct FormatterTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func fmt(_ text: String) throws -> String { try SourceFormatter.format(text) }

    @Test func spacingAroundOperatorsCommasAndBrackets() throws {
        #expect(try fmt("accounts|where revenue>1M|take 5") == "accounts | where revenue > 1M | take 5\n")
        #expect(try fmt("let r={a:1,b:[1,2 ,3]}") == "let r = {a: 1, b: [1, 2, 3]}\n")
        #expect(try fmt("f( a ,b )  .x[0]") == "f(a, b).x[0]\n")
        #expect(try fmt("x=>x*-2") == "x => x * -2\n")
        #expect(try fmt("a-b - -c") == "a - b - -c\n")
        #expect(try fmt("t | sort -revenue,name") == "t | sort -revenue, name\n")
        #expect(try fmt("a not  in [1] and not b ?? c") == "a not in [1] and not b ?? c\n")
        #expect(try fmt("round( x , digits:2)") == "round(x, digits: 2)\n")
        #expect(try fmt("{}") == "{}\n")
        #expect(try fmt("\"a {x+1}\"   ") == "\"a {x+1}\"\n")  // strings are copied as written
    }

    @Test func aCallKeepsItsParenthesisAndAStageArgumentItsSpace() throws {
        // `| take (n)` passes a value; `| f(n)` calls: the space decides, so it stays.
        #expect(try fmt("t | take (2)") == "t | take (2)\n")
        #expect(try fmt("t | take(2)") == "t | take(2)\n")
        // A name in backquotes keeps them.
        #expect(try fmt("t|select `Account ID`,x=`Annual Revenue`") == "t | select `Account ID`, x = `Annual Revenue`\n")
    }

    @Test func blocksAreSpacedAndRecordsAreNot() throws {
        #expect(try fmt("fn f(a,b){let c=a+b;c}") == "fn f(a, b) { let c = a + b; c }\n")
        #expect(try fmt("fn f(a) {\nlet c = {k: a}\n    c\n}") == "fn f(a) {\n  let c = {k: a}\n  c\n}\n")
    }

    @Test func aPipelineOverSeveralLinesGetsOneStagePerLine() throws {
        #expect(
            try fmt("accounts | where x > 1\n| take 5 | select id") == "accounts\n  | where x > 1\n  | take 5\n  | select id\n")
        // A trailing '|' moves to the start of the next line.
        #expect(try fmt("t |\n  where a < 2") == "t\n  | where a < 2\n")
        // Continued stage arguments (on an indented line) sit four deeper than their stage.
        #expect(try fmt("t | derive a = 1,\n b = 2 | take 1") == "t\n  | derive a = 1,\n      b = 2\n  | take 1\n")
        // A line at column 1 after a trailing ',' is refused (the parser says why).
        #expect(throws: (any Error).self) { try fmt("t | select a, b,\nt | count()") }
        // Inside a block the pipeline indents from its statement.
        #expect(try fmt("fn f(t) {\n  t | where a\n  | take 1\n}") == "fn f(t) {\n  t\n    | where a\n    | take 1\n}\n")
    }

    @Test func aPipelineTooWideForOneLineBreaks() throws {
        let stages = (1...8).map { " | derive column_number_\($0) = \($0)" }.joined()
        let out = try fmt("accounts" + stages)
        #expect(out == "accounts\n" + (1...8).map { "  | derive column_number_\($0) = \($0)\n" }.joined())
        // A short pipeline inside a long line stays as it is; the line breaks after a comma.
        let long = "{a: (t | take 1), " + (1...7).map { "long_field_name_\($0): \($0)" }.joined(separator: ", ") + "}"
        #expect(
            try fmt(long) == "{a: (t | take 1), long_field_name_1: 1, long_field_name_2: 2, long_field_name_3: 3,\n"
                + "  long_field_name_4: 4, long_field_name_5: 5, long_field_name_6: 6, long_field_name_7: 7}\n")
    }

    @Test func aStageTooWideBreaksAfterAComma() throws {
        let columns = (1...9).map { "column_\($0) = sum(amount_\($0))" }.joined(separator: ", ")
        #expect(
            try fmt("sales | aggregate " + columns + " by region") == """
                sales
                  | aggregate column_1 = sum(amount_1), column_2 = sum(amount_2), column_3 = sum(amount_3),
                      column_4 = sum(amount_4), column_5 = sum(amount_5), column_6 = sum(amount_6),
                      column_7 = sum(amount_7), column_8 = sum(amount_8), column_9 = sum(amount_9) by region

                """)
        // A lambda's parameters cannot be split (the parser needs them on one line), and a
        // comma with a few characters after it is not worth a line.
        let params = "let f = (" + (1...6).map { "parameter_number_\($0)" }.joined(separator: ", ") + ") => 1"
        #expect(try fmt(params) == params + "\n")
        let tail = "round(" + String(repeating: "a_long_name + ", count: 6) + "a_long_name, 2)"
        #expect(try fmt(tail) == tail + "\n")
    }

    @Test func aPipelineAsAnArgumentIndentsFromItsLine() throws {
        let text = "let x = if(c, (accounts\n| where a\n    | take 1), null)"
        #expect(try fmt(text) == "let x = if(c, (accounts\n  | where a\n  | take 1), null)\n")
        // After a stage, commas separate the stage's arguments.
        #expect(try fmt("f((t\n| derive a = 1, b = 2\n| take 1))") == "f((t\n  | derive a = 1, b = 2\n  | take 1))\n")
        #expect(try fmt("f(t | g(),\nb)") == "f(t | g(),\n  b)\n")
    }

    @Test func commentsAndBlankLinesStayWhereTheyWere() throws {
        let text = """
            #!/usr/bin/env kam


            # the top accounts
            let x = 1   # one
                # about y
            let y = [
            # first
              1,
              2  # two
            # end
            ]



            x + y    # sum
            # the end

            """
        let expected = """
            #!/usr/bin/env kam

            # the top accounts
            let x = 1  # one
            # about y
            let y = [
              # first
              1,
              2  # two
              # end
            ]

            x + y  # sum
            # the end

            """
        #expect(try fmt(text) == expected)
        #expect(try fmt("# only a comment") == "# only a comment\n")
        #expect(try fmt("\n\n") == "")
    }

    @Test func aBackslashContinuationIsKept() throws {
        #expect(try fmt("let x =   \\\n  1 +   2") == "let x = \\\n  1 + 2\n")
    }

    @Test func windowsLineEndsBecomeUnix() throws {
        #expect(try fmt("let x = 1\r\nx # c\r\n") == "let x = 1\nx  # c\n")
    }

    @Test func aSyntaxErrorFormatsNothing() {
        do {
            _ = try SourceFormatter.format("let x = (1 +", name: "bad.kam")
            Issue.record("expected a syntax error")
        } catch {
            guard case .syntax(let list) = error else { Issue.record("expected a syntax error, got \(error)"); return }
            #expect(list.render().contains("bad.kam:1:13: error: unexpected end of input"))
        }
    }

    @Test func markdownBlocksAreFormattedAndBrokenOnesLeftAlone() {
        let md = "# Title\n\n```kam\nt|take 1\n```\n\ntext\n\n```kam\nlet = broken\n```\n"
        #expect(SourceFormatter.formatMarkdown(md) == "# Title\n\n```kam\nt | take 1\n```\n\ntext\n\n```kam\nlet = broken\n```\n")
    }

    // MARK: the repository's own scripts

    static var scripts: [String] {
        var out: [String] = []
        for dir in ["stdlib", "Tests", "Benchmarks", "examples"] {
            let base = root.appendingPathComponent(dir)
            guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in walker where url.pathExtension == "kam" {
                out.append(String(url.path.dropFirst(root.path.count + 1)))
            }
        }
        return out.sorted()
    }

    /// Formats twice; checks the second pass changes nothing and the tree is the same.
    func roundTrip(_ text: String, _ name: String) -> Bool {
        guard let program = try? Parser.parse(Source(name: name, text: text)) else { return false }
        do {
            let once = try SourceFormatter.format(text, name: name)
            let twice = try SourceFormatter.format(once, name: name)
            #expect(twice == once, "\(name): a second pass changed the text")
            let again = try Parser.parse(Source(name: name, text: once))
            #expect(ASTDump.of(again) == ASTDump.of(program), "\(name): the formatted program means something else")
        } catch {
            Issue.record("\(name): \(error)")
        }
        return true
    }

    @Test func everyScriptInTheRepositoryFormatsIdempotentlyAndKeepsItsMeaning() throws {
        var formatted = 0
        for path in Self.scripts {
            let text = try String(contentsOfFile: Self.root.appendingPathComponent(path).path, encoding: .utf8)
            if roundTrip(text, path) { formatted += 1 }
        }
        #expect(formatted > 300)
    }

    @Test func everyDocumentationExampleFormatsIdempotentlyAndKeepsItsMeaning() {
        var formatted = 0
        for ex in DocExamplesTests.examples where roundTrip(ex.code, "\(ex.file):\(ex.line)") { formatted += 1 }
        #expect(formatted > 30)
    }

    @Test func theDumpSeesWhatTheFormatterMustNotChange() throws {
        func dump(_ text: String) throws -> String { ASTDump.of(try Parser.parse(Source(name: "t", text: text))) }
        #expect(try dump("f((t | take 5), 2)") != dump("f(t | take 5, 2)"))
        #expect(try dump("1.0 + x") == dump("1.00+x"))
        #expect(try dump("let x = 1") == "let x = int:1\n")
    }
}

extension FormatterTests {
    /// The docs show a ```kam fmt-input block and, next, the ```kam block it becomes.
    @Test func theDocumentedExampleIsWhatKamFmtDoes() throws {
        let text = try String(contentsOfFile: Self.root.appendingPathComponent("docs/LANGUAGE.md").path, encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        func block(after start: Int) -> (String, Int)? {
            var j = start + 1
            while j < lines.count && lines[j] != "```" { j += 1 }
            guard j < lines.count else { return nil }
            return (lines[(start + 1)..<j].joined(separator: "\n") + "\n", j)
        }
        guard let at = lines.firstIndex(of: "```kam fmt-input"), let (input, end) = block(after: at),
            let next = lines[(end + 1)...].firstIndex(of: "```kam"), let (output, _) = block(after: next)
        else {
            Issue.record("docs/LANGUAGE.md has no fmt-input example")
            return
        }
        #expect(try fmt(input) == output)
    }
}
