import Foundation
import Testing

/// The command line as a shell user meets it: the real binary, pipes, exit codes.
@Suite("command line")
struct CommandLineTests {
    @Test func queryAsCSVWhenPiped() throws {
        // stdout is a pipe here, so the default format is csv.
        let r = try Binary.run(["-c", #"table([{a: 1, b: "x"}, {a: 2, b: "y"}]) | where a > 1 | select b"#])
        #expect(r.stdout == "b\ny\n")
        #expect(r.stderr == "")
        #expect(r.status == 0)
    }

    /// A query that starts with a minus is the query, not an option.
    @Test func aQueryStartingWithAMinusIsTheQuery() throws {
        let r = try Binary.run(["-c", "-7 % 3"])
        #expect(r.stdout == "-1\n", "\(r.stderr)")
        #expect(r.status == 0)
    }

    @Test func explicitFormat() throws {
        let r = try Binary.run(["-c", #"table([{a: 1, b: "x"}, {a: 2, b: "y"}]) | where a > 1 | select b"#, "--format", "csv"])
        #expect(r.stdout == "b\ny\n")
        let j = try Binary.run(["-c", "table([{a: 1}])", "--format", "json"])
        #expect(j.stdout == "[\n  {\"a\": 1}\n]\n")
        let t = try Binary.run(["-c", "table([{a: 1}])", "--format", "table"])
        #expect(t.stdout == "┌───┐\n│ a │\n├───┤\n│ 1 │\n└───┘\n")
    }

    @Test func overflowExitsOne() throws {
        let r = try Binary.run(["-c", "9223372036854775807 + 1"])
        #expect(r.status == 1)
        #expect(r.stdout == "")
        #expect(r.stderr == """
            <command>:1:1: error: integer overflow in '+'
             1 | 9223372036854775807 + 1
               | ^^^^^^^^^^^^^^^^^^^^^^^
            hint: the result does not fit in 64 bits; use float(...) for very large numbers

            """)
    }

    @Test func threeSyntaxErrorsExitThree() throws {
        let dir = try tempDir()
        let file = dir + "/bad.kam"
        try "let x = (1 +\nlet y = 2 +* 3\nlet z = [1, 2\n".write(toFile: file, atomically: true, encoding: .utf8)
        let r = try Binary.run(["run", file])
        #expect(r.status == 3)
        #expect(r.stderr.components(separatedBy: ": error: ").count - 1 == 3)
        #expect(r.stderr.contains("bad.kam:1:13: error: unexpected end of line"))
        #expect(r.stderr.contains("bad.kam:2:12: error: unexpected '*'"))
        #expect(r.stderr.contains("bad.kam:3:14: error: expected ']' to close the list"))
    }

    @Test func runawayRecursionExitsOne() throws {
        let r = try Binary.run(["run", "-"], stdin: "fn f(n) = f(n + 1)\nf(0)\n")
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("<stdin>:1:11: error: call depth limit exceeded (1000 nested calls)"))
        #expect(r.stderr.contains("call chain (innermost last):"))
    }

    @Test func hundredThousandBracketsIsACleanError() throws {
        let r = try Binary.run(["run", "-"], stdin: String(repeating: "(", count: 100_000) + "1" + String(repeating: ")", count: 100_000))
        #expect(r.status == 3)
        #expect(r.stderr.contains("error: expression nested too deeply (more than 200 levels)"))
        let lists = try Binary.run(["run", "-"], stdin: String(repeating: "[{a: ", count: 50_000))
        #expect(lists.status == 3)
    }

    @Test func scriptOnStdinWithoutRun() throws {
        let r = try Binary.run([], stdin: "let x = 2\nx * 21\n")
        #expect(r.stdout == "42\n")
        #expect(r.status == 0)
    }

    @Test func scriptFileAndShebangForm() throws {
        let dir = try tempDir()
        let file = dir + "/plan.kam"
        try "#!/usr/bin/env kam\nlet n = 3\nn + 1\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try Binary.run(["run", file]).stdout == "4\n")
        #expect(try Binary.run([file]).stdout == "4\n")
    }

    @Test func paramsAndToday() throws {
        let r = try Binary.run(["run", "-", "--param", "region=EMEA", "--param", "n=5", "--today", "2025-03-31"],
            stdin: "\"{$region} {$n + 1}\"\ntoday()\n")
        #expect(r.stdout == "EMEA 6\n2025-03-31\n")
        #expect(r.status == 0)
        // A parameter is not a column: $region is the parameter, region the column.
        let column = try Binary.run(["-c", "accounts | where region == $region | count", "--param", "region=NOPE"])
        #expect(column.stdout == "0\n")
        let missing = try Binary.run(["-c", "accounts | count\naccounts | where region == $region | count"])
        #expect(missing.status == 2)
        #expect(missing.stdout == "")
        #expect(missing.stderr.hasPrefix("<command>:2:28: error: missing --param region\n"))
        let unused = try Binary.run(["-c", "1 + 1", "--param", "region=EMEA"])
        #expect(unused.status == 0)
        #expect(unused.stdout == "2\n")
        #expect(unused.stderr == "<command>: warning: --param region is given but the script never reads $region\nhint: the script reads no parameter of that name\n")
        let zeros = try Binary.run(["-c", "type($code) + \" \" + $code", "--param", "code=007"])
        #expect(zeros.stdout == "string 007\n")
        let env = try Binary.run(["-c", "today()"], env: ["KAM_TODAY": "2024-02-29"])
        #expect(env.stdout == "2024-02-29\n")
    }

    @Test func checkRunsNothing() throws {
        let dir = try tempDir()
        let good = dir + "/good.kam", bad = dir + "/bad.kam", params = dir + "/params.kam"
        try "accounts | where tier == \"key\" | count\n".write(toFile: good, atomically: true, encoding: .utf8)
        // Three mistakes; the first line would print if anything ran.
        try "\"printed?\"\naccounts | where teir == \"key\"\norders | sort -amount | select acount.name\nsumm(1)\n"
            .write(toFile: bad, atomically: true, encoding: .utf8)
        try "param since = 2025-01-01\norders | where date >= $since and account.region == $region | count\n"
            .write(toFile: params, atomically: true, encoding: .utf8)
        let ok = try Binary.run(["check", good])
        #expect(ok.status == 0)
        #expect(ok.stdout == "" && ok.stderr == "")
        let r = try Binary.run(["check", good, bad])
        #expect(r.status == 3)
        #expect(r.stdout == "")
        #expect(r.stderr.components(separatedBy: ": error: ").count == 4)
        #expect(r.stderr.contains("bad.kam:2:18: error: unknown name 'teir'\n"))
        #expect(r.stderr.contains("hint: did you mean 'tier'?\n"))
        #expect(r.stderr.contains("bad.kam:3:32: error: unknown name 'acount'\n"))
        #expect(r.stderr.contains("bad.kam:4:1: error: unknown function 'summ'\n"))
        // Parameters are given when the script runs: check needs none, but checks given ones.
        #expect(try Binary.run(["check", params]).status == 0)
        let wrong = try Binary.run(["check", params, "--param", "since=soon"])
        #expect(wrong.status == 2)
        #expect(wrong.stderr.contains("error: --param since=soon: expected a date (YYYY-MM-DD)"))
        // Against another dataset's schema.
        let data = dir + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try "id,name\n1,Acme\n".write(toFile: data + "/accounts.csv", atomically: true, encoding: .utf8)
        let other = try Binary.run(["check", good, "--data", data, "--quiet"])
        #expect(other.status == 3)
        #expect(other.stderr.contains("unknown name 'tier'"))
        #expect(other.stderr.contains("hint: columns here: id, name\n"))
    }

    /// Every input a fuzzer found crashing is kept under Tests/Fuzz/regressions and must now
    /// end without a crash (kam-fuzz is the fuzz targets' replayer).
    @Test func fuzzRegressionsReplay() throws {
        let fuzz = URL(fileURLWithPath: Binary.path).deletingLastPathComponent().appendingPathComponent("kam-fuzz").path
        for target in ["parser", "csv", "json", "toml", "manifest"] {
            let dir = Binary.packageRoot.appendingPathComponent("Tests/Fuzz/regressions/\(target)").path
            let r = try Binary.run([target, dir], executable: fuzz)
            #expect(r.status == 0, "\(target): \(r.stderr)")
            #expect(r.stdout.hasPrefix("\(target): replayed "))
        }
    }

    /// --manifest gives a manifest from elsewhere: its derived columns are computed, and a
    /// mistake in it is a data error (exit 4) that points into it.
    @Test func manifestOption() throws {
        let golden = Binary.packageRoot.appendingPathComponent("Tests/KamGoldenTests/Golden/graph").path
        let ok = try Binary.run(["--quiet", "--data", golden + "/derive_csv", "--manifest", golden + "/derive_bad/../derive_csv/kam.toml",
                                 "-c", "orders | aggregate revenue = sum(amount) by account.name as account | sort account"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout == "account,revenue\nAlpine Foods,566.0\nBaltic Provisions,608.0\n")
        let bad = try Binary.run(["--quiet", "--data", golden + "/derive_csv", "--manifest", golden + "/derive_bad/unknown_column.toml", "-c", "1"])
        #expect(bad.status == 4)
        #expect(bad.stderr.contains("unknown_column.toml:3:22: error: unknown name 'UnitPrise'"))
        #expect(bad.stderr.contains("hint: did you mean 'UnitPrice'?"))
    }

    /// A script's first comment lines may name its data, today and parameters, as the docs'
    /// examples do; the command line wins.
    @Test func scriptHeaderDirectives() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kam-header-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let crm = Binary.packageRoot.appendingPathComponent("Tests/KamGoldenTests/Golden/graph/crm").path
        let script = dir.appendingPathComponent("plan.kam").path
        try "# data: \(crm)\n# today: 2025-06-30\n# param: n=2\nparam n = 5\naccounts | take $n | select name\ntoday()\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        let r = try Binary.run(["run", script, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "name\nAcme\nBeta\n2025-06-30\n")
        let overridden = try Binary.run(["run", script, "--quiet", "--today", "2020-01-01", "--param", "n=1"])
        #expect(overridden.stdout == "name\nAcme\n2020-01-01\n")
    }

    /// Charts: Unicode blocks, plain ASCII when NO_COLOR is set, SVG when asked.
    @Test func chartsAsTextAndSVG() throws {
        let svg = FileManager.default.temporaryDirectory.appendingPathComponent("kam-chart-\(getpid()).svg").path
        defer { try? FileManager.default.removeItem(atPath: svg) }
        let q = "table([{r: \"EMEA\", v: 10}, {r: \"NA\", v: 5}]) | chart bar v by r, width: 5, svg: \"\(svg)\""
        let blocks = try Binary.run(["-c", q], env: ["NO_COLOR": ""])
        #expect(blocks.stdout.contains("EMEA │ █████ 10"), "\(blocks.stdout)")
        let plain = try Binary.run(["-c", q], env: ["NO_COLOR": "1"])
        #expect(plain.stdout.contains("EMEA │ ##### 10"), "\(plain.stdout)")
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(text.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(text.contains(">EMEA</text>"))
        // A Lorenz curve: the curve from (0%, 0%) to (100%, 100%) and the line of equality.
        let lorenz = "table([{v: 1}, {v: 3}, {v: 6}]) | chart lorenz v, svg: \"\(svg)\""
        let curve = try Binary.run(["-c", lorenz], env: ["NO_COLOR": ""])
        #expect(curve.stdout.contains("Gini 0.333"), "\(curve.stdout)")
        let drawn = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(drawn.contains("<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"40.0,360.0 "))
        #expect(drawn.contains(" 360.0,40.0\"/>"))
        #expect(drawn.contains("stroke-dasharray"))
    }

    /// `kam sql`: the SQL of each result on stdout, a blank line between queries; the
    /// common options before or after the subcommand; errors with exit 3, usage with 2.
    @Test func sqlPrintsAQueryPerResult() throws {
        let two = try Binary.run(["--today", "2026-11-01", "sql", "-c", "accounts | count\norders | take 2", "--dialect", "sqlite"])
        #expect(two.status == 0, "\(two.stderr)")
        #expect(two.stdout.components(separatedBy: ";\n\nWITH").count == 2, "\(two.stdout)")
        #expect(two.stdout.contains("SELECT COUNT(*) AS \"count\" FROM \"accounts_1\";"))
        #expect(two.stdout.hasSuffix("ORDER BY \"__ord\";\n"))
        let dir = try tempDir()
        try "# today: 2026-11-01\naccounts | where founded < 1950 | select name\n".write(toFile: dir + "/q.kam", atomically: true, encoding: .utf8)
        let file = try Binary.run(["sql", dir + "/q.kam", "--dialect", "spark"])
        #expect(file.stdout.contains("WHERE (t.`founded` < 1950)"), "\(file.stdout)")
        let bad = try Binary.run(["sql", "-c", "accounts | where name ~ \"^A\"", "--dialect", "sqlite"])
        #expect(bad.status == 3)
        #expect(bad.stderr.contains("error: ~ (regular expressions) does not compile to SQL (sqlite)"))
        #expect(bad.stdout.isEmpty)
        let dialect = try Binary.run(["sql", "-c", "accounts", "--dialect", "oracle"])
        #expect(dialect.status == 2)
        #expect(dialect.stderr.contains("unknown dialect 'oracle'; use one of: duckdb, postgres, sqlite, spark"))
        let typo = try Binary.run(["sql", "-c", "accounts | where regon == 1"])
        #expect(typo.status == 3)
        #expect(typo.stderr.contains("unknown name 'regon'"))
    }

    @Test func usageErrorsExitTwo() throws {
        let bogus = try Binary.run(["--bogus"])
        #expect(bogus.status == 2)
        #expect(bogus.stderr.contains("Unknown option '--bogus'"))
        let format = try Binary.run(["-c", "1", "--format", "xml"])
        #expect(format.status == 2)
        #expect(format.stderr.contains("unknown format 'xml'; use one of: table, csv, tsv, json, jsonl, markdown"))
        let today = try Binary.run(["-c", "1", "--today", "tomorrow"])
        #expect(today.status == 2)
        #expect(today.stderr.contains("--today needs a date as YYYY-MM-DD, got 'tomorrow'"))
        let manifest = try Binary.run(["--manifest", "crm.toml", "-c", "1"])
        #expect(manifest.status == 2)
        #expect(manifest.stderr.contains("--manifest goes with --data: kam --data crm.db --manifest crm.toml"))
        let missing = try Binary.run(["run", "/nonexistent/plan.kam"])
        #expect(missing.status == 2)
        #expect(missing.stderr == "error: cannot read script '/nonexistent/plan.kam'\n")
    }

    @Test func versionAndHelp() throws {
        let v = try Binary.run(["--version"])
        #expect(v.status == 0)
        #expect(v.stdout.hasPrefix("0."))
        let h = try Binary.run(["--help"])
        #expect(h.status == 0)
        #expect(h.stdout.contains("Examples:"))
        #expect(h.stdout.contains("Exit codes: 0 ok"))
    }

    @Test func failedAssertExitsOne() throws {
        let r = try Binary.run(["-c", "assert 1 > 2, \"nope\""])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("<command>:1:8: error: assertion failed: nope"))
    }

    @Test func dataErrorExitsFour() throws {
        let dir = try tempDir()
        try "a,b\n1,2\n3\n".write(toFile: dir + "/bad.csv", atomically: true, encoding: .utf8)
        let r = try Binary.run(["-c", "load \"bad.csv\""], cwd: dir)
        #expect(r.status == 4)
        #expect(r.stderr.hasPrefix("bad.csv:3: error: row has 1 field, expected 2 (as in the header)"))
    }

    @Test func closedPipeIsQuiet() throws {
        // `kam ... | head -1`: kam must stop quietly when the reader goes away.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "'\(Binary.path)' -c 'range(200000)' | head -1"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "")
    }
}

func tempDir() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kam-test-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

@Suite("datasets on the command line")
struct DatasetCommandLineTests {
    static let crm = Binary.packageRoot.appendingPathComponent("Tests/KamGoldenTests/Golden/graph/crm").path

    @Test func dataLoadsWithASummaryAndWarnings() throws {
        let r = try Binary.run(["--data", Self.crm, "-c", "accounts | derive n = count(orders) | select name, n"])
        #expect(r.status == 0)
        #expect(r.stdout == "name,n\nAcme,2\nBeta,1\nCore,1\nDorm,0\n")
        // The script names accounts and orders: only their files are read.
        #expect(r.stderr.contains("kam: loaded \(Self.crm)\n  accounts: 4 rows, 7 columns (7 string); links parent -> accounts\n"
            + "  orders: 5 rows, 5 columns (1 int, 1 float, 1 date, 2 string); links account -> accounts\n"
            + "  not read (the script names none of them): contacts, employees, products\n"), "\(r.stderr)")
        #expect(r.stderr.contains("orders.csv: warning: 1 value of orders.account_id refers to no row of accounts; the link is null there"))
        // DATA.md shows this summary.
        let data = try String(contentsOf: Binary.packageRoot.appendingPathComponent("docs/DATA.md"), encoding: .utf8)
        let shown = r.stderr.components(separatedBy: "\n").prefix(4).joined(separator: "\n")
            .replacingOccurrences(of: Binary.packageRoot.path + "/", with: "")
        #expect(data.contains("$ kam --data Tests/KamGoldenTests/Golden/graph/crm -c 'accounts | derive n = count(orders) | select name, n'\n" + shown + "\n"), "\(shown)")
        // schema() looks the dataset up: every file is read.
        let all = try Binary.run(["--data", Self.crm, "-c", "schema()"])
        #expect(all.status == 0)
        #expect(all.stderr.contains("kam: loaded \(Self.crm)\n  accounts: 4 rows, 7 columns (7 string); links owner -> employees, parent -> accounts\n"))
        #expect(all.stderr.contains("  orders: 5 rows, 5 columns (1 int, 1 float, 1 date, 2 string); links account -> accounts, product -> products\n"))
        #expect(!all.stderr.contains("not read"))
        let quiet = try Binary.run(["--data", Self.crm, "--quiet", "-c", "1"])
        #expect(!quiet.stderr.contains("kam: loaded"))
    }

    @Test func strictTurnsWarningsIntoErrors() throws {
        let r = try Binary.run(["--data", Self.crm, "--strict", "-c", "1"])
        #expect(r.status == 4)
        #expect(r.stderr.contains("orders.csv: error: 1 value of orders.account_id refers to no row of accounts\nhint: first: \"A9\" (line 5)"))
    }

    @Test func inputFromStdinCSVAndJSON() throws {
        let csv = try Binary.run(["-c", "input | derive c = a + b"], stdin: "a,b\n1,2\n3,4\n")
        #expect(csv.stdout == "a,b,c\n1,2,3\n3,4,7\n")
        let json = try Binary.run(["-c", "input | where x > 2", "--format", "jsonl"], stdin: "[{\"x\": 1}, {\"x\": 5}]")
        #expect(json.stdout == "{\"x\": 5}\n")
        let jsonl = try Binary.run(["-c", "input | count"], stdin: "{\"x\": 1}\n{\"x\": 2}\n")
        #expect(jsonl.stdout == "2\n")
        // The separator is read off the header: a ; or tab export is a table, not one column.
        let semicolons = try Binary.run(["-c", "input | derive c = a + b"], stdin: "a;b\n1;2\n")
        #expect(semicolons.stdout == "a,b,c\n1,2,3\n")
        let tabs = try Binary.run(["-c", "input | select b"], stdin: "a\tb\n1\t\"x,y\"\n")
        #expect(tabs.stdout == "b\n\"x,y\"\n")
        // One JSON document, whatever the number of results; a CSV scalar is quoted as a field.
        let two = try Binary.run(["--format", "json", "-c", "1\n\"a\""])
        #expect(two.stdout == "[\n1,\n\"a\"\n]\n")
        let field = try Binary.run(["-c", "\"a,b\""])
        #expect(field.stdout == "\"a,b\"\n")
    }

    @Test func timingGoesToStderr() throws {
        // (Parsed: a run that reads a snapshot says "timing: load (snapshot)" instead.)
        let r = try Binary.run(["--data", Self.crm, "--quiet", "--timing", "--no-cache", "-c", "let x = 1\nx + 1"])
        #expect(r.stdout == "2\n")
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("timing: ") }
        #expect(lines.contains { $0.hasPrefix("timing: load accounts ") && $0.hasSuffix("s") })
        #expect(lines.contains { $0.hasPrefix("timing: load total ") })
        #expect(lines.contains { $0.hasPrefix("timing: line 1 ") })
        #expect(lines.contains { $0.hasPrefix("timing: line 2 ") })
        // A pipeline over several lines is named by its first line.
        let piped = try Binary.run(["--data", Self.crm, "--quiet", "--timing", "--no-cache", "-c", "accounts\n  | where id != \"\"\n  | count\n1"])
        let named = piped.stderr.split(separator: "\n").filter { $0.hasPrefix("timing: line ") }.map { $0.split(separator: " ")[2] }
        #expect(named == ["1", "4"], "\(piped.stderr)")
    }

    @Test func demoWritesIdenticalFilesForASeedAndLoadsBack() throws {
        let a = try tempDir(), b = try tempDir()
        let r1 = try Binary.run(["demo", "--out", a, "--accounts", "80", "--seed", "5"])
        _ = try Binary.run(["demo", "--out", b, "--accounts", "80", "--seed", "5"])
        #expect(r1.status == 0)
        #expect(r1.stderr.hasPrefix("kam: wrote \(a): accounts 80, contacts "))
        for f in ["accounts", "contacts", "employees", "relationships", "products", "orders", "opportunities", "surveys", "invoices", "contracts", "interactions"] {
            let x = FileManager.default.contents(atPath: "\(a)/\(f).csv"), y = FileManager.default.contents(atPath: "\(b)/\(f).csv")
            #expect(x != nil && x == y, "\(f).csv")
        }
        let loaded = try Binary.run(["--data", a, "--quiet", "-c", "len(accounts)"])
        #expect(loaded.stdout == "80\n")
        #expect(loaded.stderr == "")
    }

    /// A file or directory named like a subcommand does not turn `kam demo ...` into
    /// `kam FILE`: subcommand names win.
    @Test func subcommandsWinOverFilesOfTheirName() throws {
        let dir = try tempDir()
        try FileManager.default.createDirectory(atPath: dir + "/demo", withIntermediateDirectories: true)
        let r = try Binary.run(["demo", "--out", dir + "/x", "--accounts", "20"], cwd: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir + "/x/accounts.csv"))
        // A script is still run as `kam FILE` when no subcommand has its name.
        try "40 + 2\n".write(toFile: dir + "/s.kam", atomically: true, encoding: .utf8)
        let script = try Binary.run(["s.kam"], cwd: dir)
        #expect(script.stdout == "42\n")
    }

    @Test func demoIsTheDefaultDataset() throws {
        let r = try Binary.run(["-c", "len(accounts) > 100 and len(orders) > 1000"])
        #expect(r.stdout == "true\n")
    }
}

/// The benchmark scripts run on a tiny dataset (the demo written as CSV), so they never rot.
@Suite("benchmark scripts")
struct BenchmarkScriptTests {
    @Test(arguments: ["top", "abc", "score", "hhi", "xsell"])
    func runsOnATinyDataset(_ task: String) throws {
        let dir = try tempDir()
        _ = try Binary.run(["demo", "--out", dir, "--accounts", "40"])
        let script = Binary.packageRoot.appendingPathComponent("Benchmarks/\(task).kam").path
        let r = try Binary.run(["--data", dir, "--quiet", "--timing", "run", script])
        #expect(r.status == 0, "\(r.stderr)")
        let header = r.stdout.split(separator: "\n").first.map(String.init)
        let expected = ["top": "name,rev", "abc": "class,n,rev", "score": "id,s", "hhi": "hhi,top10", "xsell": "account_id,item,score"]
        #expect(header == expected[task])
        #expect(r.stderr.contains("timing: line "))
    }
}
