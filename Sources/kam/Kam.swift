import ArgumentParser
import CPlatform
import Foundation
import KamCore

/// Options shared by `kam`, `kam run` and `kam -c`.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "A dataset: a directory, a CSV/JSON file, a SQLite database, duckdb:FILE or postgres://... (default: the demo company).")
    var data: String?

    @Option(name: .long, help: "A manifest (kam.toml or kam.json) for --data, instead of the one beside it.")
    var manifest: String?

    @Option(name: .long, help: "Where a database's queries run: sql (on the database, the default for duckdb:, postgres:// and sqlite: data) or kam (its rows read into memory).")
    var engine: String?

    @Option(name: .long, help: "Output format: table, csv, tsv, json, jsonl, markdown or html (default: table on a terminal, csv otherwise; with run's or report's --out, by its extension).")
    var format: String?


    @Option(name: .long, help: "Pin today's date (YYYY-MM-DD) for reproducible runs; also KAM_TODAY.")
    var today: String?

    @Option(name: .long, parsing: .singleValue, help: "Set a script variable: --param region=EMEA (repeatable).")
    var param: [String] = []

    @Flag(name: .long, help: "Print no banner in the REPL and no load summary.")
    var quiet = false

    @Flag(name: .long, help: "Treat data warnings (dangling references) as errors.")
    var strict = false

    @Flag(name: .long, help: "Print on stderr the load time per entity and the time of each top-level statement.")
    var timing = false

    @Flag(name: .long, help: "Parse the data files again instead of reading the snapshot an earlier run left, and write none (also KAM_NO_CACHE=1).")
    var noCache = false
}

@main
struct Kam: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kam",
        abstract: "kam: a query language and REPL for key account management analytics.",
        discussion: """
            Examples:
              kam                                   start the REPL
              kam -c 'table([{a: 1}, {a: 2}]) | where a > 1'
              kam run plan.kam --param region=EMEA  run a saved script (it reads $region)
              kam check plans/*.kam                 check scripts without running them
              kam run - < report.kam                a script on stdin
              kam -c 'load "orders.csv" | top 5 by amount' --format json
              kam completions install               shell completion and the man page

            Exit codes: 0 ok, 1 runtime error or failed assert, 2 usage (a missing --param), \
            3 syntax or check error, 4 data error.
            """,
        version: kamVersion,
        subcommands: [Run.self, CheckCommand.self, SQLCommand.self, DemoCommand.self, CacheCommand.self, ReportCommand.self, FmtCommand.self, TestCommand.self, LSPCommand.self,
                      CompletionsCommand.self, ManCommand.self],
        defaultSubcommand: nil
    )

    @OptionGroup var common: CommonOptions

    @Option(name: .customShort("c"), parsing: .unconditional, help: ArgumentHelp("Run QUERY and exit.", valueName: "query"))
    var command: String?

    mutating func run() throws {
        let driver = try Driver(common, script: command)
        if let command {
            driver.offerStdinAsInput()
            throw ExitCode(driver.runText(command, name: "<command>"))
        }
        if isatty(0) == 1 {
            throw ExitCode(REPL(driver: driver).run())
        }
        // stdin is not a terminal: run it as a script.
        throw ExitCode(driver.runText(readAllStdin(), name: "<stdin>"))
    }

    static func main() {
        signal(SIGPIPE, SIG_IGN)
        // Large column arrays come and go while loading; a fixed mmap threshold makes glibc
        // give their memory back to the system at once instead of keeping it in the heap.
        kam_tune_malloc()
        do {
            // `kam plan.kam` (how a #!/usr/bin/env kam script runs) means `kam run plan.kam`.
            var arguments = Array(CommandLine.arguments.dropFirst())
            if let first = arguments.first, !first.hasPrefix("-"), !["run", "check", "sql", "demo", "cache", "report", "fmt", "test", "lsp", "help"].contains(first),
                FileManager.default.fileExists(atPath: first)
            {
                arguments.insert("run", at: 0)
            }
            // `kam sql -c QUERY`: the root's own -c would take the query, so sql parses alone
            // (with any common options written before it).
            if let at = subcommandIndex(arguments), arguments[at] == "sql" {
                arguments = ["sql"] + arguments[..<at] + arguments[(at + 1)...]
            }
            if arguments.first == "sql" {
                do {
                    var sql = try SQLCommand.parse(Array(arguments.dropFirst()))
                    try sql.run()
                } catch let code as ExitCode {
                    throw code
                } catch {
                    if SQLCommand.exitCode(for: error) == .success {
                        print(SQLCommand.fullMessage(for: error))
                        finish(0)
                    }
                    FileHandle.standardError.write(Data((SQLCommand.fullMessage(for: error) + "\n").utf8))
                    finish(2)
                }
            }
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch let code as ExitCode {
            Output.flush()
            finish(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                finish(0)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            finish(2)
        }
        Output.flush()
        finish(0)
    }
}

/// Where the subcommand is among the arguments: the first word that is not an option or
/// an option's value.
func subcommandIndex(_ arguments: [String]) -> Int? {
    let flags: Set<String> = ["--quiet", "--strict", "--timing", "--no-cache", "--help", "-h", "--version"]
    var i = 0
    while i < arguments.count {
        let a = arguments[i]
        if !a.hasPrefix("-") { return i }
        i += flags.contains(a) || a.contains("=") ? 1 : 2
    }
    return nil
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a kam script (use - for stdin).")

    @OptionGroup var common: CommonOptions

    @Argument(help: "The script file, or - to read the script from stdin.")
    var file: String

    @Option(name: .long, help: "Write the results to FILE instead of stdout; report.html is one HTML page, .md markdown, .csv/.json data.")
    var out: String?

    mutating func run() throws {
        var script: String? = nil
        if file != "-", let text = try? String(contentsOfFile: file, encoding: .utf8) {
            ScriptHeader.apply(text, scriptPath: file, to: &common)
            script = text
        }
        let driver = try Driver(common, out: out, script: script)
        if file == "-" { throw ExitCode(driver.runText(readAllStdin(), name: "<stdin>")) }
        driver.offerStdinAsInput()
        throw ExitCode(driver.runFile(file))
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print a report of the standard library (import reports): monday (the Monday account review) or plan (a key account plan).",
        discussion: """
            kam report monday                          the key accounts (tier "key"), else every account
            kam report monday --out review.html        one self-contained HTML page
            kam report monday --format markdown        for a wiki
            kam report plan --account "Dynium SA"      the key account plan of one account (its id or name)
            Each report is a kam function in stdlib/reports.kam: `import reports` then \
            `monday(accounts | where region == "EMEA")` runs it on any table of accounts.
            """)

    @OptionGroup var common: CommonOptions

    @Argument(help: "The report: monday or plan.")
    var name: String

    @Option(name: .long, help: "The account of a plan: its id or its name.")
    var account: String?

    @Option(name: .long, help: "Write the report to FILE instead of stdout: review.html is one HTML page, review.md markdown.")
    var out: String?

    static let reports = ["monday", "plan"]

    mutating func run() throws {
        guard Self.reports.contains(name) else {
            throw ValidationError("unknown report '\(name)'; reports: " + Self.reports.joined(separator: ", "))
        }
        let driver = try Driver(common, out: out)
        // The key accounts when the dataset marks them (tier "key"), else every account.
        let graph = try? driver.session.interpreter.currentDataset()
        let accounts = graph.flatMap { g in g.byName["accounts"].map { g.entities[$0].table } }
        guard let accounts else {
            throw ValidationError("report \(name) needs a dataset with accounts; --data DIR (or none: the demo company)")
        }
        if name != "plan", account != nil { throw ValidationError("--account is for report plan; report \(name) covers its accounts") }
        if name == "plan" {
            guard let account else { throw ValidationError("report plan needs --account ID_OR_NAME") }
            // Two accounts of one name: which is meant is not a guess.
            if let names = accounts.column("name"), let ids = accounts.column("id"), accounts.column("id").map({ c in
                !(0..<accounts.count).contains { if case .string(let s) = c.value(at: $0) { s == account } else { false } } }) ?? true {
                let same = (0..<accounts.count).filter { if case .string(let s) = names.value(at: $0) { s == account } else { false } }
                if same.count > 1 {
                    throw ValidationError("\(same.count) accounts are named '\(account)': " + same.prefix(5).map { Format.plain(ids.value(at: $0)) }.joined(separator: ", ")
                        + "; give --account ID")
                }
            }
            // The account by id, else by name; the value reaches the script as a parameter,
            // never as text spliced into it.
            func matches(_ column: String) -> Bool {
                guard let c = accounts.column(column) else { return false }
                return (0..<accounts.count).contains { if case .string(let s) = c.value(at: $0) { s == account } else { false } }
            }
            let by = matches("id") ? "id" : matches("name") ? "name" : nil
            guard let by else {
                let names = accounts.column("name").map { c in (0..<accounts.count).map { Format.plain(c.value(at: $0)) } } ?? []
                let near = Suggest.hint(account, in: names)
                throw ValidationError("no account with the id or name '\(account)'"
                    + (near.map { "; \($0)" } ?? (names.isEmpty ? "" : "; for example: " + names.prefix(3).joined(separator: ", "))))
            }
            driver.session.interpreter.options.params["account"] = account
            throw ExitCode(driver.runText("import reports\naccount_plan(accounts | where \(by) == $account | take 1)\n", name: "report plan"))
        }
        var input = "accounts"
        if let tier = accounts.column("tier"), (0..<accounts.count).contains(where: { if case .string("key") = tier.value(at: $0) { true } else { false } }) {
            input = "accounts | where tier == \"key\""
        }
        let script = "import reports\n\(name)(\(input))\n"
        throw ExitCode(driver.runText(script, name: "report \(name)"))
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check scripts without running them: every name, call and parameter against the dataset's schema.",
        discussion: """
            Reports every problem in every file: exit 0 when all are clean, 3 when any has a \
            mistake, 2 when a file cannot be read or a --param does not fit its default, 4 when \
            the dataset does not load. Parameters need no values here (they are given when the \
            script runs); values given with --param are checked against the declared defaults.
            """)

    @OptionGroup var common: CommonOptions

    @Argument(help: "The script files.")
    var files: [String]

    mutating func run() throws {
        let driver = try Driver(common)
        throw ExitCode(driver.checkFiles(files))
    }
}

struct SQLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sql",
        _superCommandName: "kam",
        abstract: "Print the SQL of a script's results, for DuckDB, PostgreSQL, SQLite or Spark SQL.",
        discussion: """
            Each result of the script becomes one query (separated by a blank line), with a CTE \
            per pipeline step, in kam's row order. A construct with no SQL form in the dialect is \
            an error naming it, with its location (exit 3). Examples:
              kam sql -c 'accounts | where tier == "key" | take 5' --dialect postgres
              kam sql plan.kam --dialect spark > plan.sql
            """)

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "duckdb, postgres, sqlite or spark (default: duckdb).")
    var dialect: String = "duckdb"

    @Option(name: [.customShort("c"), .long], parsing: .unconditional, help: ArgumentHelp("Compile QUERY.", valueName: "query"))
    var query: String?

    @Argument(help: "The script file (or - for stdin).")
    var file: String?

    mutating func run() throws {
        guard let d = Dialect(rawValue: dialect) else {
            throw ValidationError("unknown dialect '\(dialect)'; use one of: " + Dialect.allCases.map(\.rawValue).joined(separator: ", "))
        }
        if let file, file != "-", let text = try? String(contentsOfFile: file, encoding: .utf8) {
            ScriptHeader.apply(text, scriptPath: file, to: &common)
        }
        let driver = try Driver(common)
        if let query { throw ExitCode(driver.printSQL(query, name: "<command>", dialect: d)) }
        guard let file else { throw ValidationError("kam sql needs a script file or -c QUERY") }
        if file == "-" { throw ExitCode(driver.printSQL(readAllStdin(), name: "<stdin>", dialect: d)) }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            Output.error("error: cannot read script '\(file)'\n")
            throw ExitCode(2)
        }
        throw ExitCode(driver.printSQL(text, name: file, dialect: d))
    }
}

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Write the demo company as CSV files (the same seed gives byte-identical files).")

    @Option(name: .long, help: "The directory to write.")
    var out: String

    @Option(name: .long, help: "How many accounts.")
    var accounts: Int = Demo.defaultAccounts

    @Option(name: .long, help: "The random seed.")
    var seed: UInt64 = 42

    mutating func run() throws {
        guard accounts >= 1 && accounts <= 10_000_000 else {
            throw ValidationError("--accounts must be between 1 and 10,000,000")
        }
        let counts: [(String, Int)]
        do {
            counts = try Demo.write(accounts: accounts, seed: seed, to: out)
        } catch let d as Diagnostic {
            Output.error(d.render())
            throw ExitCode(d.kind.exitCode)
        }
        Output.error("kam: wrote \(out): " + counts.map { "\($0.0) \($0.1)" }.joined(separator: ", ") + "\n")
    }
}

/// `kam cache`: where the snapshots of earlier runs are and how large; `kam cache clear`
/// removes them.
struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Show the snapshots earlier runs left of their datasets, or remove them (kam cache clear).",
        discussion: """
            A run on a directory or a CSV/JSON file writes a snapshot of the loaded dataset (typed columns, \
            links, id indexes) under $XDG_CACHE_HOME/kam (default ~/.cache/kam); the next run on the same, \
            unchanged files reads it instead of parsing them. A changed file, manifest or kam binary makes \
            the snapshot stale, and it is written again.
            """)

    @Argument(help: "clear: remove every snapshot.")
    var action: String?

    mutating func run() throws {
        let dir = Snapshot.directory + "/snapshots"
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".snap") || $0.hasSuffix(".tmp") }.sorted()
        switch action {
        case nil:
            var total: Int64 = 0
            for f in files {
                let size = ((try? FileManager.default.attributesOfItem(atPath: dir + "/" + f))?[.size] as? NSNumber)?.int64Value ?? 0
                total += size
            }
            print("\(dir): \(files.count) snapshot\(files.count == 1 ? "" : "s"), \(String(format: "%.1f", Double(total) / 1_048_576)) MiB")
        case "clear"?:
            for f in files { try? FileManager.default.removeItem(atPath: dir + "/" + f) }
            Output.error("kam: removed \(files.count) snapshot\(files.count == 1 ? "" : "s") from \(dir)\n")
        case let other?:
            throw ValidationError("unknown cache action '\(other)'; use kam cache (show) or kam cache clear")
        }
    }
}

/// Exits once the snapshot being written is whole.
func finish(_ code: Int32) -> Never {
    SnapshotWriter.wait()
    Output.flush()
    Foundation.exit(code)
}

let kamVersion = "0.1.0"

func readAllStdin() -> String {
    let data = FileHandle.standardInput.readDataToEndOfFile()
    return String(decoding: data, as: UTF8.self)
}


/// The comment lines a script starts with may say what it runs on, as the examples in the
/// docs do: `# data: crm/` (or `demo`), `# manifest: crm.toml`, `# today: 2026-07-01`,
/// `# param: region=EMEA`. Paths are relative to the script's directory; what the command
/// line gives wins.
enum ScriptHeader {
    struct Directives {
        var data: String?
        var manifest: String?
        var today: String?
        var params: [String] = []
    }

    /// The directives of a script's first comment lines.
    static func read(_ text: String, scriptPath: String) -> Directives {
        let dir = (scriptPath as NSString).deletingLastPathComponent
        func resolve(_ p: String) -> String { p.hasPrefix("/") || dir.isEmpty ? p : dir + "/" + p }
        var d = Directives()
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix("#") else { break }
            let body = line.dropFirst().trimmingCharacters(in: .whitespaces)
            func value(_ key: String) -> String? {
                body.hasPrefix(key + ":") ? body.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces) : nil
            }
            if let v = value("data"), d.data == nil { d.data = v == "demo" ? "demo" : resolve(v) }
            if let v = value("manifest"), d.manifest == nil { d.manifest = resolve(v) }
            if let v = value("today"), d.today == nil { d.today = v }
            if let v = value("param"), v.contains("=") { d.params.append(v) }
        }
        return d
    }

    /// The directives where the command line says nothing.
    static func apply(_ text: String, scriptPath: String, to common: inout CommonOptions) {
        let d = read(text, scriptPath: scriptPath)
        if common.data == nil, let data = d.data, data != "demo" { common.data = data }
        if common.manifest == nil { common.manifest = d.manifest }
        if common.today == nil { common.today = d.today }
        for p in d.params {
            let name = p.split(separator: "=", maxSplits: 1).first.map(String.init) ?? p
            if !common.param.contains(where: { $0.hasPrefix(name + "=") }) { common.param.append(p) }
        }
    }
}
