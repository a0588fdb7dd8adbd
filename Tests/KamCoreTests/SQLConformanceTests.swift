import Foundation
import Testing
@testable import KamCore
import KamTestSupport

/// The relational part of kam compiled to SQL gives the same answers as kam itself: every
/// query of Tests/SQL/conformance runs in kam's in-memory engine and, from the SQL kam
/// compiles, on SQLite (in process) and on the engines found on this machine (the DuckDB
/// CLI, PostgreSQL: see scripts/test-engines); results must be equal row for row, floats
/// to 1e-9.
@Suite("SQL conformance")
struct SQLConformanceTests {
    static let demo: AccountGraph = Demo.build().0
    static let today = KamCore.Calendar.days(year: 2026, month: 11, day: 1) ?? 0

    static var corpus: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("SQL/conformance")
    }

    /// The corpus files for a dialect: a file that starts with `# not: sqlite, ...` needs
    /// what those engines lack (a median, case changes beyond ASCII).
    static func files(for dialect: Dialect? = nil, in dir: URL = corpus) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".kam") }.sorted().map { dir.appendingPathComponent($0) }.filter { url in
            guard let dialect, let text = try? String(contentsOf: url, encoding: .utf8), let first = text.split(separator: "\n").first,
                  first.hasPrefix("# not: ") else { return true }
            return !first.dropFirst(7).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.contains(dialect.rawValue)
        }
    }

    static func session(_ graph: AccountGraph = demo) -> Session {
        let s = Session(options: Interpreter.Options(today: today))
        s.interpreter.install(graph)
        return s
    }

    static func kamResults(_ text: String, name: String, graph: AccountGraph = demo) throws -> [SQLEngines.Result] {
        try SQLEngines.kamResults(session(graph), Parser.parse(Source(name: name, text: text)))
    }

    /// Where kam stops with an error, the compiled query stops too: never an answer kam
    /// would not give.
    static let mustFail = [
        "orders | derive a = amount - 50000 | abc a",
        "orders | derive a = amount - 50000 | concentration a",
        "accounts | derive revenue = 10000 - sum(orders.amount) | lose tier == \"key\"",
    ]

    static func failsAlike(_ engine: SQLEngines.Engine) throws {
        for text in mustFail {
            #expect(throws: (any Error).self, "kam: \(text)") { _ = try kamResults(text, name: "fail") }
            let q = try session().compileSQL(text, name: "fail", dialect: engine.dialect, options: engine.options)
            #expect(throws: (any Error).self, "\(engine.dialect): \(text)") { _ = try engine.run(q[0].sql, q[0].scalar) }
        }
    }

    /// Runs the corpus on an engine; returns the number of queries compared.
    static func conform(_ engine: SQLEngines.Engine, graph: AccountGraph = demo, dir: URL = corpus) throws -> Int {
        if let prepare = engine.prepare {
            var all: [String] = []
            for file in files(for: engine.dialect, in: dir) {
                let text = try String(contentsOf: file, encoding: .utf8)
                if let qs = try? session(graph).compileSQL(text, name: file.lastPathComponent, dialect: engine.dialect, options: engine.options) {
                    all += qs.map(\.sql)
                }
            }
            for text in mustFail {
                if let qs = try? session().compileSQL(text, name: "fail", dialect: engine.dialect, options: engine.options) { all += qs.map(\.sql) }
            }
            try prepare(all)
        }
        var compared = 0
        for file in files(for: engine.dialect, in: dir) {
            let text = try String(contentsOf: file, encoding: .utf8)
            let name = dir.lastPathComponent + "/" + file.lastPathComponent
            let expected = try kamResults(text, name: name, graph: graph)
            let queries: [SQLQuery]
            do {
                queries = try session(graph).compileSQL(text, name: name, dialect: engine.dialect, options: engine.options)
            } catch {
                Issue.record("\(name) does not compile for \(engine.dialect):\n\(error.render())")
                continue
            }
            #expect(queries.count == expected.count, "\(name): \(queries.count) queries for \(expected.count) results")
            for (q, want) in zip(queries, expected) {
                let line = Source(name: name, text: text).location(of: q.range.start).line
                if let problem = SQLEngines.differs(q, from: want, on: engine, at: "\(name):\(line)") { Issue.record("\(problem)") }
                compared += 1
            }
        }
        return compared
    }

    /// The corpus on one engine, when it is there: kam's answers, and kam's errors.
    static func onEngine(_ engine: SQLEngines.Engine?, _ label: String, skipped why: String) throws -> Int? {
        guard let engine else {
            print("SQL conformance: \(label) skipped (\(why))")
            return nil
        }
        let n = try conform(engine)
        try failsAlike(engine)
        print("SQL conformance: \(n) queries equal on \(label)")
        return n
    }

    @Test func sqliteGivesKamsAnswers() throws {
        let n = try Self.onEngine(try SQLEngines.sqlite(Self.demo), "SQLite", skipped: "")
        #expect(n ?? 0 > 50)
    }

    @Test func duckdbGivesKamsAnswers() throws {
        _ = try Self.onEngine(try SQLEngines.duckdb(Self.demo), "DuckDB", skipped: "no duckdb CLI on PATH or in KAM_DUCKDB")
    }

    @Test func postgresGivesKamsAnswers() throws {
        _ = try Self.onEngine(try SQLEngines.postgres(Self.demo), "PostgreSQL",
                              skipped: "KAM_PG is not set: scripts/test sets it when PostgreSQL is installed")
    }

    @Test func sparkGivesKamsAnswers() throws {
        _ = try Self.onEngine(try SQLEngines.spark(Self.demo), "Spark SQL", skipped: "KAM_SPARK_PYTHON is not set: scripts/test-engines installs pyspark")
    }

    // MARK: TPC-H-shaped data

    static var tpchCorpus: URL { corpus.deletingLastPathComponent().appendingPathComponent("tpch") }

    /// A small dataset shaped as the benchmark's TPC-H mapping, made the same on every run:
    /// int keys, an order key shared by its lines, negative balances, 2% of the lines for an
    /// account that is not there.
    nonisolated(unsafe) static let tpch: AccountGraph = {
        var seed: UInt64 = 20_261_202
        func next(_ n: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(n))
        }
        let segments = ["AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD", "MACHINERY"]
        let regions = ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"]
        var accounts = "id,name,industry,region,country,owner_id,balance\n"
        for i in 1...300 {
            let r = next(5)
            let balance = Double(next(1_100_000) - 100_000) / 100
            accounts += "\(i),Customer#\(String(format: "%09d", i)),\(segments[next(5)]),\(regions[r]),NATION\(r * 5 + next(5)),E\(String(format: "%03d", next(10) + 1)),\(balance)\n"
        }
        let types = ["PROMO BURNISHED COPPER", "STANDARD POLISHED TIN", "LARGE BRUSHED STEEL", "PROMO ANODIZED BRASS", "ECONOMY PLATED NICKEL"]
        var products = "id,name,category,family,list_price\n"
        for i in 1...100 {
            products += "\(i),part \(i),\(types[next(5)]),Brand#\(next(5) + 1)\(next(5) + 1),\(Double(90_000 + i * 10 + next(100)) / 100)\n"
        }
        var orders = "id,account_id,product_id,date,quantity,unit_price,discount,amount\n"
        var key = 0
        while key < 900 {
            key += 1
            let account = next(50) == 0 ? 300 + next(20) + 1 : next(300) + 1
            let day = (KamCore.Calendar.days(year: 1992, month: 1, day: 1) ?? 0) + Int32(next(2400))
            for _ in 0..<(next(7) + 1) {
                let q = next(50) + 1, price = Double(90_000 + next(20_000)) / 100, disc = Double(next(11)) / 100
                let amount = (price * Double(q) * (1 - disc) * 100).rounded() / 100
                orders += "\(key),\(account),\(next(100) + 1),\(KamCore.Calendar.format(day)),\(q),\(price),\(disc),\(amount)\n"
            }
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kam-tpch-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (n, text) in [("accounts", accounts), ("products", products), ("orders", orders)] {
            try? text.write(to: dir.appendingPathComponent(n + ".csv"), atomically: true, encoding: .utf8)
        }
        guard let (graph, _) = try? DatasetLoader.load(dir.path) else { return AccountGraph(label: "none") }
        return graph
    }()

    /// The same queries over the benchmark's own dataset (Benchmarks/make_dataset.py) at
    /// scale factor 0.01, when KAM_TPCH_DATA names it (scripts/test-engines makes it), on
    /// every engine found, Spark included.
    @Test func tpchQueriesOnTheBenchmarkDatasetAtASmallScale() throws {
        guard let dir = ProcessInfo.processInfo.environment["KAM_TPCH_DATA"], FileManager.default.fileExists(atPath: dir + "/orders.csv") else {
            print("SQL conformance, TPC-H SF 0.01: skipped (KAM_TPCH_DATA is not set; scripts/test-engines makes the dataset)")
            return
        }
        let (graph, _) = try DatasetLoader.load(dir)
        #expect(graph.entity("orders")?.table.count ?? 0 > 50_000)
        var counts: [String] = []
        counts.append("\(try Self.conform(try SQLEngines.sqlite(graph), graph: graph, dir: Self.tpchCorpus)) on SQLite")
        if let duck = try SQLEngines.duckdb(graph) { counts.append("\(try Self.conform(duck, graph: graph, dir: Self.tpchCorpus)) on DuckDB") }
        if let pg = try SQLEngines.postgres(graph) { counts.append("\(try Self.conform(pg, graph: graph, dir: Self.tpchCorpus)) on PostgreSQL") }
        if let spark = try SQLEngines.spark(graph) { counts.append("\(try Self.conform(spark, graph: graph, dir: Self.tpchCorpus)) on Spark SQL") }
        print("SQL conformance, TPC-H SF 0.01 (the benchmark's dataset): queries equal " + counts.joined(separator: ", "))
    }

    @Test func tpchShapedQueriesOnSQLiteDuckDBAndPostgres() throws {
        #expect(Self.tpch.entity("orders")?.table.count ?? 0 > 2000)
        var counts: [String] = []
        let sqlite = try SQLEngines.sqlite(Self.tpch)
        counts.append("\(try Self.conform(sqlite, graph: Self.tpch, dir: Self.tpchCorpus)) on SQLite")
        if let duck = try SQLEngines.duckdb(Self.tpch) { counts.append("\(try Self.conform(duck, graph: Self.tpch, dir: Self.tpchCorpus)) on DuckDB") }
        if let pg = try SQLEngines.postgres(Self.tpch) { counts.append("\(try Self.conform(pg, graph: Self.tpch, dir: Self.tpchCorpus)) on PostgreSQL") }
        print("SQL conformance, TPC-H-shaped: queries equal " + counts.joined(separator: ", "))
    }
}
