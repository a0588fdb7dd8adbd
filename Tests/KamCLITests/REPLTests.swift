import Foundation
import KamCore
import Testing

/// The REPL as a person uses it, through a pseudo-terminal.
@Suite("REPL")
struct REPLTests {
    func start(home: String? = nil, arguments: [String] = []) throws -> PseudoTerminal {
        let home = try home ?? tempDir()
        let pty = try PseudoTerminal(arguments: arguments, environment: ["HOME": home, "KAM_HISTORY": home + "/history"])
        #expect(pty.expect("kam> "))
        // libedit prints the prompt before it puts the terminal in raw mode; a key typed
        // in that instant is taken by the kernel's line discipline, as it would be for a
        // person typing faster than any person can. Give it the moment a person would.
        usleep(300_000)
        return pty
    }

    /// The README's tour pastes into the REPL and prints what the README shows: each
    /// example (its # data: and # today: as the command line), pasted whole.
    @Test func theReadmeTourPastes() throws {
        let readme = try String(contentsOf: Binary.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = readme.components(separatedBy: "\n")
        var checked = 0
        var i = 0
        while i < lines.count {
            guard lines[i] == "```kam" else { i += 1; continue }
            var j = i + 1
            while j < lines.count && lines[j] != "```" { j += 1 }
            let code = Array(lines[(i + 1)..<j])
            var k = j + 1
            while k < lines.count && lines[k].isEmpty { k += 1 }
            var expected: [String] = []
            if k < lines.count && lines[k] == "```text" {
                var e = k + 1
                while e < lines.count && lines[e] != "```" { expected.append(lines[e]); e += 1 }
            }
            i = j + 1
            // The examples that show a result (not an error) on the demo or a dataset.
            guard !expected.isEmpty, !code.contains(where: { $0.hasPrefix("# exit:") }) else { continue }
            // Today as the docs' examples are run (2025-06-30), unless the example says.
            var arguments: [String] = code.contains(where: { $0.hasPrefix("# today: ") }) ? [] : ["--today", "2025-06-30"]
            for line in code where line.hasPrefix("# ") {
                if line.hasPrefix("# today: ") { arguments += ["--today", String(line.dropFirst(9))] }
                if line.hasPrefix("# data: "), line != "# data: demo" {
                    arguments += ["--data", Binary.packageRoot.appendingPathComponent(String(line.dropFirst(8))).path, "--quiet"]
                }
            }
            let statements = code.filter { !$0.hasPrefix("#") }.joined(separator: "\r") + "\r"
            let pty = try start(arguments: arguments)
            pty.mark()
            pty.send(statements)
            // Every line the README shows, in order (the terminal ends lines with \r\n).
            for line in expected where !line.isEmpty {
                #expect(pty.expect(line, timeout: 20), "README example at line \(i): no line '\(line)' in\n\(pty.output)")
            }
            checked += 1
        }
        #expect(checked >= 5)
    }

    @Test func bannerSaysWhatIsLoadedAndHowToGetHelp() throws {
        let pty = try start()
        #expect(pty.output.contains("kam 0."))
        #expect(pty.output.contains("demo company"))
        #expect(pty.output.contains(":help for help"))
        let quiet = try start(arguments: ["--quiet"])
        #expect(!quiet.output.contains(":help for help"))
    }

    @Test func evaluatesAndKeepsVariables() throws {
        let pty = try start()
        pty.send("let x = 20\r")
        #expect(pty.expect("kam> ", timeout: 5))
        pty.mark()
        pty.send("x * 2 + 2\r")
        #expect(pty.expect("42"))
    }

    @Test func multiLineInputUsesContinuationPrompt() throws {
        let pty = try start()
        pty.send("table([{a: 1}, {a: 2}]) |\r")
        #expect(pty.expect("...> "))
        pty.send("  where a > 1\r")
        #expect(pty.expect("│ 2 │"))
    }

    /// A line typed after a trailing ',' goes on with the stage's arguments, as typed at
    /// column 1 (a script starts a new statement there).
    @Test func aLineAfterATrailingCommaGoesOnWithTheArguments() throws {
        let pty = try start()
        pty.send("table([{a: 1, b: 5}, {a: 2, b: 6}]) | select a,\r")
        #expect(pty.expect("...> "))
        pty.send("c = b * 10\r")
        #expect(pty.expect("│ 60 │"))
        #expect(!pty.output.contains("unknown name"), "\(pty.output)")
    }

    /// Pipelines written as the docs write them, a stage per line: pasted, the lines are
    /// one statement; typed after a result, a line starting with | continues the last one.
    @Test func aLineStartingWithAPipeContinues() throws {
        let pty = try start()
        pty.send("table([{a: 1}, {a: 2}, {a: 3}])\r  | where a > 1\r  | select b = a * 10\r")
        #expect(pty.expect("│ 20 │"))
        #expect(pty.expect("│ 30 │"))
        #expect(!pty.output.contains("│ 1 │"), "the pasted first line ran alone: \(pty.output)")
        pty.mark()
        pty.send("| where b > 20\r")
        #expect(pty.expect("│ 30 │"))
    }

    /// A string cannot span lines: Enter after an open one shows the error, and the session
    /// goes on (it used to wait at ...> for good).
    @Test func anOpenStringIsAnErrorNotAContinuation() throws {
        let pty = try start()
        pty.send("\"abc\r")
        #expect(pty.expect("error: unterminated string"))
        pty.mark()
        pty.send("1 + 1\r")
        #expect(pty.expect("2"))
        #expect(pty.expect("kam> "))
    }

    /// A table wider than the terminal: long text is shortened with …, then middle columns
    /// give way to a … column with a note naming them; a resize is seen at the next result.
    @Test func wideTablesFitTheTerminal() throws {
        let pty = try PseudoTerminal(columns: 70)
        #expect(pty.expect("kam> "))
        pty.send("accounts | take 3\r")
        #expect(pty.expect("│ … │"))
        #expect(pty.expect("columns not shown: industry"))
        pty.mark()
        pty.send("table([{id: 1, note: \"a very long text that goes on and on and on beyond any terminal width\", n: 2}])\r")
        #expect(pty.expect("beyond any t… │ 2 │"))
        pty.resize(columns: 200)
        pty.mark()
        pty.send("accounts | take 1\r")
        #expect(pty.expect("│ tier"))
    }

    /// On a colour terminal the line just typed is drawn again in colour (the verb after a
    /// pipe blue, strings green); with NO_COLOR it is left as typed.
    @Test func theTypedLineIsDrawnInColour() throws {
        let home = try tempDir()
        let pty = try PseudoTerminal(environment: ["HOME": home, "KAM_HISTORY": home + "/h", "NO_COLOR": ""])
        #expect(pty.expect("kam> "))
        usleep(100_000)
        pty.send("accounts | where tier == \"A\" | count\r")
        #expect(pty.expect("\u{1B}[1A\r\u{1B}[Jkam> accounts \u{1B}[1m|\u{1B}[0m \u{1B}[34mwhere\u{1B}[0m tier == \u{1B}[32m\"A\"\u{1B}[0m"))
        let plain = try start()
        plain.send("accounts | count\r")
        #expect(plain.expect("400"))
        #expect(!plain.output.contains("\u{1B}[34m"))
    }

    /// A resize while a line is being edited (SIGWINCH): the editor takes the new width and
    /// draws the line again, and the line runs as typed.
    @Test func aResizeRedrawsTheLineBeingEdited() throws {
        let pty = try PseudoTerminal(columns: 60)
        #expect(pty.expect("kam> "))
        // As start() does: let libedit take the terminal before typing; then let it read
        // what was typed before the window changes.
        usleep(100_000)
        pty.send("40 + ")
        #expect(pty.expect("40 + "))
        usleep(200_000)
        pty.mark()
        pty.resize(columns: 100)
        #expect(pty.expect("kam> 40 + "))
        pty.send("2\r")
        #expect(pty.expect("42"))
    }

    /// The dot commands of the DuckDB and sqlite3 shells, the kam way: a script run into the
    /// session, results to a file, limits, how null shows, a row as lines.
    @Test func shellCommands() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kam-shell-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("s.kam").path, out = dir.appendingPathComponent("o.txt").path
        try "# today: 2024-02-02\nlet z = 41\nz + 1\n".write(toFile: script, atomically: true, encoding: .utf8)
        let pty = try start()
        pty.send(":run \(script)\r")
        #expect(pty.expect("42"))
        pty.send(":today\r")
        #expect(pty.expect("today is 2024-02-02"))
        pty.send(":once \(out)\r")
        #expect(pty.expect("the next result goes to"))
        pty.send("z * 2\r")
        pty.send("z\r")
        #expect(pty.expect("41"))
        #expect((try? String(contentsOfFile: out, encoding: .utf8)) == "82\n")
        pty.send(":format table\r")
        pty.send(":nullvalue -\r")
        pty.send("table([{a: 1, b: null}])\r")
        #expect(pty.expect("│ 1 │ - │"))
        pty.send(":format line\r")
        pty.send("table([{a: 1, long_name: 2}])\r")
        #expect(pty.expect("long_name = 2"))
        pty.send(":format table\r")
        pty.send(":maxrows 2\r")
        pty.send("range(1, 10)\r")
        #expect(pty.expect("9 rows, 7 not shown (use | take N, or :format csv to see all)"))
        pty.send(":thousands on\r")
        pty.send("table([{n: 1234567, x: -9876543.25}])\r")
        #expect(pty.expect("│ 1,234,567 │ -9,876,543.25 │"))
    }

    @Test func errorThenRecovery() throws {
        let pty = try start()
        pty.send("let y = 5\r")
        pty.send("1 / 0\r")
        #expect(pty.expect("error: division by zero"))
        pty.mark()
        pty.send("y + 1\r")
        #expect(pty.expect("6"))
    }

    @Test func ctrlDExitsZero() throws {
        let pty = try start()
        pty.send("\u{4}")
        #expect(pty.waitForExit() == 0)
    }

    @Test func quitCommand() throws {
        let pty = try start()
        pty.send(":quit\r")
        #expect(pty.waitForExit() == 0)
    }

    @Test func utf8EditingWithBackspace() throws {
        let pty = try start()
        // Type "Mü", delete the "ü" with one backspace (one character, two bytes), go on.
        pty.send("upper(\"Mü")
        pty.send("\u{7f}")
        pty.send("uller\")\r")
        #expect(pty.expect("MULLER"))
    }

    @Test func historyIsRecalledAfterARestart() throws {
        let home = try tempDir()
        let first = try start(home: home)
        first.send("let remembered = 7 * 6\r")
        #expect(first.expect("kam> "))
        usleep(300_000)  // as in start(): a person does not press Ctrl-D within microseconds of the prompt
        first.send("\u{4}")
        #expect(first.waitForExit() == 0)
        let second = try start(home: home)
        second.mark()
        second.send("\u{1b}[A")  // Up
        #expect(second.expect("let remembered = 7 * 6"))
        second.send("\r")
        second.send("remembered\r")
        #expect(second.expect("42"))
    }

    @Test func tabCompletesAColumnName() throws {
        let pty = try start()
        pty.send("let t = table([{revenue_total: 5, region: \"EU\"}])\r")
        #expect(pty.expect("kam> "))
        pty.mark()
        pty.send("t | select reve")
        usleep(200_000)
        pty.send("\t")
        #expect(pty.expect("nue_total"))  // completed after "reve"
        pty.send("\r")
        #expect(pty.expect("│             5 │"), "\(pty.output)")
    }

    @Test func tabListsSeveralCandidates() throws {
        let pty = try start()
        pty.send("let t = table([{region: \"EU\", revenue: 5}])\r")
        #expect(pty.expect("kam> "))
        pty.mark()
        pty.send("t | select re")
        usleep(200_000)
        pty.send("\t")
        #expect(pty.expect("region"))
        #expect(pty.expect("revenue"))
    }

    @Test func ctrlCCancelsALongQueryAndKeepsTheSession() throws {
        let pty = try start()
        pty.send("let kept = 1\r")
        pty.send("fn spin(n) = if(n == 0, 0, spin(n - 1) + spin(n - 1))\r")
        #expect(pty.expect("kam> "))
        pty.mark()
        pty.send("spin(40)\r")
        usleep(500_000)
        let sent = Date()
        pty.send("\u{3}")
        #expect(pty.expect("cancelled", timeout: 5))
        #expect(Date().timeIntervalSince(sent) < 2)
        pty.mark()
        pty.send("kept + 1\r")
        #expect(pty.expect("2"))
    }

    @Test func quitTypedAsInOtherShellsSaysHowToQuit() throws {
        let pty = try start()
        pty.send("quit\r")
        #expect(pty.expect("unknown name 'quit'"))
        #expect(pty.expect("to quit, type :quit or press Ctrl-D"))
        pty.send("1 + 2\r")
        #expect(pty.expect("3"))
    }

    @Test func ctrlCOnAnEmptyLineSaysHowToQuit() throws {
        let pty = try start()
        pty.send("\u{3}")
        #expect(pty.expect("to quit, type :quit or press Ctrl-D"))
        pty.send("1 + 2\r")
        #expect(pty.expect("3"))
    }

    @Test func ctrlCWhileTypingClearsTheLine() throws {
        let pty = try start()
        pty.send("(1 +")
        pty.send("\r")
        #expect(pty.expect("...> "))
        // As after every prompt (see start()): a Ctrl-C in the instant before libedit takes
        // the terminal would reach the kernel's line discipline instead.
        usleep(300_000)
        pty.send("\u{3}")
        #expect(pty.expect("^C"))
        // A fresh prompt, and the moment a person takes before typing again (see start()).
        #expect(pty.expect("kam> "))
        usleep(300_000)
        pty.mark()
        pty.send("40 + 2\r")
        #expect(pty.expect("42"))
    }

    /// Each line is checked before it runs, against what earlier lines defined; a mistake
    /// prints its error and the session goes on.
    @Test func linesAreCheckedAgainstTheSession() throws {
        let pty = try start()
        pty.send("accounts | where teir == \"key\" | count\r")
        #expect(pty.expect("unknown name 'teir'"))
        #expect(pty.expect("did you mean 'tier'?"))
        pty.send("param region = \"EMEA\"\r")
        pty.send("\"{$region}!\"\r")
        #expect(pty.expect("EMEA!"))
        pty.send("let big = accounts | where employees > 10000\r")
        pty.send("big | select name, employes\r")
        #expect(pty.expect("unknown name 'employes'"))
        pty.send("big | count\r")
        #expect(pty.expect("3"))
    }

    @Test func metaCommands() throws {
        let pty = try start()
        pty.send(":help round\r")
        #expect(pty.expect("round(x, digits?)"))
        // A stage's help lists what it reads and the option that points it elsewhere.
        pty.send(":help health\r")
        #expect(pty.expect("revenue: orders.amount  the revenue trend (without orders: revenue not assessed)"))
        #expect(pty.expect("cost: orders.cost  margin erosion (optional: margin)"))
        // input (the table on stdin) is no function, and is explained.
        pty.send(":help input\r")
        #expect(pty.expect("The table piped into kam on stdin"))
        pty.send(":format csv\r")
        pty.send("table([{a: 1}])\r")
        #expect(pty.expect("a\r\n1"))
        pty.send(":hepl\r")
        #expect(pty.expect("unknown command ':hepl'"))
        #expect(pty.expect("did you mean ':help'?"))
        pty.send("let v = 3\r")
        pty.send(":vars\r")
        #expect(pty.expect("v: int = 3"))
        pty.send(":today 2025-01-31\r")
        #expect(pty.expect("today is 2025-01-31"))
        pty.send(":reset\r")
        #expect(pty.expect("variables cleared"))
        pty.send(":schema products\r")
        #expect(pty.expect("list_price"))
        // With no argument a setting is shown; the library's functions have help too; the
        // demo comes back after another dataset; :vars lists only what was defined.
        pty.send(":today\r")
        #expect(pty.expect("today is 2025-01-31"))
        pty.send(":timing\r")
        #expect(pty.expect("timing is off"))
        pty.send(":format\r")
        #expect(pty.expect("format is csv"))
        pty.send(":help share\r")
        #expect(pty.expect("share(x, total)  [library]"))
        pty.send(":vars\r")
        #expect(pty.expect("(no variables)"))
        pty.send(":load \(Binary.packageRoot.appendingPathComponent("Tests/KamGoldenTests/Golden/graph/crm").path)\r")
        #expect(pty.expect("loaded "))
        pty.send(":load demo\r")
        #expect(pty.expect("loaded the demo company"))
        pty.send("accounts | count\r")
        #expect(pty.expect("400"))
    }

    @Test func anUnwritableHistoryIsAWarningNotAnExit() throws {
        let pty = try PseudoTerminal(environment: ["KAM_HISTORY": "/dev/null/kam/history"])
        #expect(pty.expect("kam> "))
        usleep(300_000)
        pty.send("1 + 1\r")
        #expect(pty.expect("warning: cannot write the history file /dev/null/kam/history"))
        #expect(pty.expect("2"))
    }

    @Test func timingAndLoad() throws {
        let crm = Binary.packageRoot.appendingPathComponent("Tests/KamGoldenTests/Golden/graph/crm").path
        let pty = try start()
        pty.send(":timing on\r")
        pty.send("1 + 1\r")
        #expect(pty.expect(" ms)"))
        pty.send(":load \(crm)\r")
        #expect(pty.expect("accounts: 4 rows"))
        pty.send("len(accounts)\r")
        #expect(pty.expect("4"))
    }

    /// The REPL on a DuckDB file: queries run there, what does not compile says so, and
    /// the session goes on.
    @Test func theREPLOnADatabase() throws {
        guard let cli = ProcessInfo.processInfo.environment["KAM_DUCKDB"], FileManager.default.isExecutableFile(atPath: cli) else {
            print("REPL on DuckDB: skipped (KAM_DUCKDB is not set)")
            return
        }
        let dir = try tempDir()
        try SQLDump.script(Demo.build().0, dialect: .duckdb).write(toFile: dir + "/dump.sql", atomically: true, encoding: .utf8)
        let load = Process()
        load.executableURL = URL(fileURLWithPath: cli)
        load.arguments = [dir + "/demo.duckdb", "-c", ".read \(dir)/dump.sql"]
        try load.run()
        load.waitUntilExit()
        let pty = try start(arguments: ["--data", "duckdb:" + dir + "/demo.duckdb"])
        #expect(pty.output.contains("(queries run there): accounts"), "\(pty.output)")
        pty.send("accounts | count\r")
        #expect(pty.expect("400"))
        pty.send("accounts | health\r")
        #expect(pty.expect("the stage 'health' does not compile to SQL (duckdb)"))
        pty.mark()
        pty.send("orders | aggregate n = count() by account.region | sort region | take 1\r")
        #expect(pty.expect("│ APAC   │"))
        // A pipeline bound on one line is there, links and all, on the next.
        pty.send("let key = accounts | where tier == \"key\"\r")
        pty.mark()
        pty.send("key | derive o = owner.name | where o != null | count\r")
        #expect(pty.expect("\r\n"))
        #expect(!pty.output.contains("unknown name"))
    }

    @Test func longResultsAreTruncatedToTheTerminal() throws {
        let pty = try start()
        pty.send("table(map(range(100), i => {i: i}))\r")
        #expect(pty.expect("100 rows"))
        #expect(pty.expect("not shown"))
    }

    /// A script on a terminal: each result is cut to the terminal with its note right
    /// under it, before the next result, and the note names the option, not a meta command.
    @Test func aScriptOnATerminalNotesEachCutResult() throws {
        let dir = try tempDir()
        let script = dir + "/two.kam"
        try "orders | take 50 | select id\naccounts | count\n".write(toFile: script, atomically: true, encoding: .utf8)
        let pty = try PseudoTerminal(arguments: ["run", script], environment: ["HOME": dir])
        #expect(pty.expect("50 rows, 18 not shown (use | take N, or --format csv to see all)\r\n400"))
    }

    /// `:schema` at 80 columns: the overview fits, and says where the full links are.
    @Test func schemaAtEightyColumns() throws {
        let home = try tempDir()
        let pty = try PseudoTerminal(environment: ["HOME": home, "KAM_HISTORY": home + "/h"], columns: 80)
        #expect(pty.expect("kam> "))
        usleep(100_000)
        pty.send(":schema\r")
        #expect(pty.expect("│ accounts      │  400 │      10 │ parent -> accounts,… │ children, contacts,… │"))
        #expect(pty.expect("(:schema ENTITY lists one entity's columns and links in full)"))
    }
}
