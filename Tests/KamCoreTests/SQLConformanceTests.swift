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
    nonisolated(unsafe) static let demo: AccountGraph = Demo.build().0
    static let today = KamCore.Calendar.days(year: 2026, month: 11, day: 1) ?? 0

    static var corpus: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("SQL/conformance")
    }

    /// The corpus files for a dialect: a file that starts with `# not: sqlite, ...` needs
    /// what those engines lack (a median, case changes beyond ASCII).
    static func files(for dialect: Dialect? = nil) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? []
        return names.filter { $0.hasSuffix(".kam") }.sorted().map { corpus.appendingPathComponent($0) }.filter { url in
            guard let dialect, let text = try? String(contentsOf: url, encoding: .utf8), let first = text.split(separator: "\n").first,
                  first.hasPrefix("# not: ") else { return true }
            return !first.dropFirst(7).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.contains(dialect.rawValue)
        }
    }

    static func session() -> Session {
        let s = Session(options: Interpreter.Options(today: today))
        s.interpreter.install(demo)
        return s
    }

    static func kamResults(_ text: String, name: String) throws -> [SQLEngines.Result] {
        try SQLEngines.kamResults(session(), Parser.parse(Source(name: name, text: text)))
    }

    /// Where kam stops with an error, the compiled query stops too: never an answer kam
    /// would not give.
    static let mustFail = [
        "orders | derive a = amount - 50000 | abc a",
        "orders | derive a = amount - 50000 | concentration a",
    ]

    static func failsAlike(_ engine: SQLEngines.Engine) throws {
        for text in mustFail {
            #expect(throws: (any Error).self, "kam: \(text)") { _ = try kamResults(text, name: "fail") }
            let q = try session().compileSQL(text, name: "fail", dialect: engine.dialect, options: engine.options)
            #expect(throws: (any Error).self, "\(engine.dialect): \(text)") { _ = try engine.run(q[0].sql, q[0].scalar) }
        }
    }

    /// Runs the corpus on an engine; returns the number of queries compared.
    static func conform(_ engine: SQLEngines.Engine) throws -> Int {
        if let prepare = engine.prepare {
            var all: [String] = []
            for file in files(for: engine.dialect) {
                let text = try String(contentsOf: file, encoding: .utf8)
                if let qs = try? session().compileSQL(text, name: file.lastPathComponent, dialect: engine.dialect, options: engine.options) {
                    all += qs.map(\.sql)
                }
            }
            for text in mustFail {
                if let qs = try? session().compileSQL(text, name: "fail", dialect: engine.dialect, options: engine.options) { all += qs.map(\.sql) }
            }
            try prepare(all)
        }
        var compared = 0
        for file in files(for: engine.dialect) {
            let text = try String(contentsOf: file, encoding: .utf8)
            let name = "conformance/" + file.lastPathComponent
            let expected = try kamResults(text, name: name)
            let queries: [SQLQuery]
            do {
                queries = try session().compileSQL(text, name: name, dialect: engine.dialect, options: engine.options)
            } catch {
                Issue.record("\(name) does not compile for \(engine.dialect):\n\(error.render())")
                continue
            }
            #expect(queries.count == expected.count, "\(name): \(queries.count) queries for \(expected.count) results")
            for (q, want) in zip(queries, expected) {
                let line = Source(name: name, text: text).location(of: q.range.start).line
                do {
                    var got = try engine.run(q.sql, q.scalar)
                    if got.names.isEmpty && want.rows.isEmpty { got.names = want.names }
                    if let problem = SQLEngines.compare(want, got) {
                        Issue.record("\(name):\(line) on \(engine.dialect): \(problem)\nkam:\n\(want)\nSQL:\n\(got)\n\(q.sql)")
                    }
                } catch {
                    Issue.record("\(name):\(line) on \(engine.dialect) failed: \(error)\n\(q.sql)")
                }
                compared += 1
            }
        }
        return compared
    }

    @Test func sqliteGivesKamsAnswers() throws {
        let engine = try SQLEngines.sqlite(Self.demo)
        let n = try Self.conform(engine)
        try Self.failsAlike(engine)
        #expect(n > 50)
        print("SQL conformance: \(n) queries equal on SQLite")
    }

    @Test func duckdbGivesKamsAnswers() throws {
        guard let engine = try SQLEngines.duckdb(Self.demo) else {
            print("SQL conformance: DuckDB skipped (no duckdb CLI on PATH or in KAM_DUCKDB)")
            return
        }
        let n = try Self.conform(engine)
        try Self.failsAlike(engine)
        print("SQL conformance: \(n) queries equal on DuckDB")
    }

    @Test func postgresGivesKamsAnswers() throws {
        guard let engine = try SQLEngines.postgres(Self.demo) else {
            print("SQL conformance: PostgreSQL skipped (KAM_PG is not set: scripts/test sets it when PostgreSQL is installed)")
            return
        }
        let n = try Self.conform(engine)
        try Self.failsAlike(engine)
        print("SQL conformance: \(n) queries equal on PostgreSQL")
    }

    @Test func sparkGivesKamsAnswers() throws {
        guard let engine = try SQLEngines.spark(Self.demo) else {
            print("SQL conformance: Spark skipped (KAM_SPARK_PYTHON is not set: scripts/test-engines installs pyspark)")
            return
        }
        let n = try Self.conform(engine)
        try Self.failsAlike(engine)
        print("SQL conformance: \(n) queries equal on Spark SQL")
    }
}
