import Foundation
import KamCore

/// The SQL engines the conformance tests compare kam with: each loads a graph (as
/// SQLDump writes it) and runs one query, giving its rows as kam values.
public enum SQLEngines {
    /// A result as rows of cells: the column names, then each row's values.
    public struct Result: CustomStringConvertible {
        public var names: [String]
        public var rows: [[Value]]
        public init(names: [String], rows: [[Value]]) { self.names = names; self.rows = rows }
        public var description: String {
            ([names.joined(separator: ",")] + rows.prefix(8).map { $0.map { Format.plain($0) }.joined(separator: ",") }).joined(separator: "\n")
                + (rows.count > 8 ? "\n... \(rows.count) rows" : "")
        }
    }

    public static func table(_ t: Table, scalar: Bool) -> Result {
        Result(names: scalar ? ["value"] : t.names, rows: (0..<t.count).map { i in t.columns.map { $0.value(at: i) } })
    }

    /// Whether two cells mean the same: numbers to 1e-9 (relative), true as 1 for SQLite,
    /// dates as their ISO text.
    public static func same(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.null, _), (_, .null): return false
        case (.bool(let x), .bool(let y)): return x == y
        case (.bool(let x), .int(let y)), (.int(let y), .bool(let x)): return (x ? 1 : 0) == y
        case (.date(let x), .date(let y)): return x == y
        case (.date(let d), .string(let s)), (.string(let s), .date(let d)): return KamCore.Calendar.format(d) == s
        case (.duration(let d), .int(let n)), (.int(let n), .duration(let d)): return d.months == 0 && Int64(d.days) == n
        case (.string(let x), .string(let y)): return x == y
        case (.list(let xs), .list(let ys)): return xs.count == ys.count && zip(xs, ys).allSatisfy { same($0, $1) }
        default:
            if let x = a.asDouble, let y = b.asDouble {
                return x == y || abs(x - y) <= 1e-9 * max(1, abs(x), abs(y))
            }
            return false
        }
    }

    public static func compare(_ kam: Result, _ sql: Result) -> String? {
        if kam.names != sql.names { return "columns: kam \(kam.names), SQL \(sql.names)" }
        if kam.rows.count != sql.rows.count { return "rows: kam \(kam.rows.count), SQL \(sql.rows.count)" }
        for (i, (a, b)) in zip(kam.rows, sql.rows).enumerated() {
            for (c, (x, y)) in zip(a, b).enumerated() where !same(x, y) {
                return "row \(i + 1), column \(kam.names[c]): kam \(Format.literal(x, depth: 1)), SQL \(Format.literal(y, depth: 1))"
            }
        }
        return nil
    }

    /// An engine: its dialect and how it runs one query on the loaded demo company.
    public struct Engine {
        public var dialect: Dialect
        public var options: SQLCompiler.Options
        public var run: (String, Bool) throws -> Result
        /// For an engine that starts slowly (Spark): given every query first, it runs them
        /// in one go, and `run` reads the answers.
        public var prepare: (([String]) throws -> Void)? = nil
    }

    /// Spark SQL in local mode when KAM_SPARK_PYTHON names a Python with pyspark: the data
    /// as JSON lines with a schema, and every query run in one Spark session by
    /// Tests/SQL/spark_driver.py. Spark keeps no row order: the rows carry their position.
    public static func spark(_ graph: AccountGraph) throws -> Engine? {
        guard let python = ProcessInfo.processInfo.environment["KAM_SPARK_PYTHON"], FileManager.default.isExecutableFile(atPath: python) else {
            return nil
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kam-spark-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for e in graph.entities {
            let t = e.table
            let types = t.columns.map { SQLSchema.type(of: $0) }
            let ddl = zip(t.names, types).map { "`\($0)` \(Dialect.spark.typeName($1 == .null || $1 == .unknown ? .string : $1))" } + ["`_kam_row` BIGINT"]
            try ddl.joined(separator: ", ").write(to: dir.appendingPathComponent(e.name + ".ddl"), atomically: true, encoding: .utf8)
            var lines: [String] = []
            lines.reserveCapacity(t.count)
            for i in 0..<t.count {
                var fields: [String] = []
                for (c, name) in t.names.enumerated() {
                    let v: String
                    switch t.columns[c].value(at: i) {
                    case .null: v = "null"
                    case .bool(let b): v = b ? "true" : "false"
                    case .int(let n): v = types[c] == .float ? "\(Double(n))" : "\(n)"
                    case .float(let x): v = x.isFinite ? "\(x)" : "null"
                    case .string(let str): v = JSON.quote(str)
                    case .date(let d): v = JSON.quote(KamCore.Calendar.format(d))
                    case let other: v = JSON.quote(Format.plain(other))
                    }
                    fields.append(JSON.quote(name) + ": " + v)
                }
                fields.append("\"_kam_row\": \(i)")
                lines.append("{" + fields.joined(separator: ", ") + "}")
            }
            try (lines.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent(e.name + ".jsonl"), atomically: true, encoding: .utf8)
        }
        let driver = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("SQL/spark_driver.py").path
        final class Answers: @unchecked Sendable { var bySQL: [String: String] = [:] }
        let answers = Answers()
        var engine = Engine(dialect: .spark, options: .init(orderColumn: "_kam_row")) { sql, scalar in
            guard let line = answers.bySQL[sql] else { throw Diagnostic(.runtime, "Spark: the query was not prepared") }
            if line.hasPrefix("{\"error\"") { throw Diagnostic(.runtime, "Spark: " + line) }
            if line == "[]" { return Result(names: [], rows: []) }
            return table(try JSONReader.readTable(Array(line.utf8), name: "spark"), scalar: scalar)
        }
        engine.prepare = { queries in
            let file = dir.appendingPathComponent("queries.sql")
            try queries.joined(separator: "\n-- next\n").write(to: file, atomically: true, encoding: .utf8)
            let out = try shell(python, [driver, dir.path, file.path])
            let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
            guard lines.count == queries.count else { throw Diagnostic(.runtime, "Spark gave \(lines.count) answers for \(queries.count) queries:\n\(out.suffix(2000))") }
            for (q, l) in zip(queries, lines) { answers.bySQL[q] = l }
        }
        return engine
    }

    public static func sqlite(_ graph: AccountGraph) throws -> Engine {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kam-conformance-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).db").path
        try? FileManager.default.removeItem(atPath: path)
        try SQLiteReader.create(path, fromSQL: SQLDump.script(graph, dialect: .sqlite))
        let db = try SQLiteReader(path)
        return Engine(dialect: .sqlite, options: .init()) { sql, scalar in table(try db.read(sql: sql), scalar: scalar) }
    }

    /// The DuckDB CLI (the duckdb-cli package) when KAM_DUCKDB names it or it is on PATH.
    public static func duckdb(_ graph: AccountGraph) throws -> Engine? {
        let env = ProcessInfo.processInfo.environment
        let candidates = [env["KAM_DUCKDB"], "/usr/local/bin/duckdb", "/usr/bin/duckdb"].compactMap { $0 }
            + (env["PATH"] ?? "").split(separator: ":").map { "\($0)/duckdb" }
        guard let cli = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kam-duck-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let db = dir.appendingPathComponent("demo.duckdb").path
        let dump = dir.appendingPathComponent("dump.sql").path
        try SQLDump.script(graph, dialect: .duckdb).write(toFile: dump, atomically: true, encoding: .utf8)
        _ = try shell(cli, [db, "-c", ".read \(dump)"])
        return Engine(dialect: .duckdb, options: .init()) { sql, scalar in
            let out = try shell(cli, [db, "-json", "-c", sql])
            let trimmed = out.trimmingCharacters(in: .whitespacesAndNewlines)
            // An empty result prints nothing: the columns come from the query itself.
            if trimmed.isEmpty { return Result(names: [], rows: []) }
            return table(try JSONReader.readTable(Array(trimmed.utf8), name: "duckdb"), scalar: scalar)
        }
    }

    /// PostgreSQL when KAM_PG gives psql's connection options (scripts/test starts a
    /// throwaway cluster when PostgreSQL is installed). It keeps no row order, so the dump
    /// adds each row's position and the compiler orders by it.
    public static func postgres(_ graph: AccountGraph) throws -> Engine? {
        let env = ProcessInfo.processInfo.environment
        guard let conn = env["KAM_PG"], !conn.isEmpty else { return nil }
        let psql = ["/usr/bin/psql", "/usr/local/bin/psql"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/psql"
        let connArgs = conn.split(separator: " ").map(String.init)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kam-pg-load-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let dump = dir.appendingPathComponent("dump.sql").path
        try SQLDump.script(graph, dialect: .postgres, orderColumn: "_kam_row").write(toFile: dump, atomically: true, encoding: .utf8)
        // A schema of its own: tests that load other data run at the same time.
        let schema = "kam_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        _ = try shell(psql, connArgs + ["-q", "-c", "CREATE SCHEMA \(schema)"])
        let pgEnv = ["PGOPTIONS": "-c search_path=\(schema)"]
        _ = try shell(psql, connArgs + ["-q", "-v", "ON_ERROR_STOP=1", "-f", dump], environment: pgEnv)
        return Engine(dialect: .postgres, options: .init(orderColumn: "_kam_row")) { sql, scalar in
            let wrapped = "SELECT json_agg(kam_result__) FROM (\n\(sql)\n) AS kam_result__"
            let out = try shell(psql, connArgs + ["-At", "-v", "ON_ERROR_STOP=1", "-c", wrapped], environment: pgEnv).trimmingCharacters(in: .whitespacesAndNewlines)
            if out.isEmpty { return Result(names: [], rows: []) }
            return table(try JSONReader.readTable(Array(out.utf8), name: "postgres"), scalar: scalar)
        }
    }

    /// A client run to its end (stdout and stderr read as it runs: Spark and psql write much).
    public static func shell(_ path: String, _ args: [String], environment: [String: String] = [:]) throws -> String {
        try runProcess(path, args, what: path, environment: environment)
    }

    /// Runs one compiled query on an engine and compares its rows with kam's: nil when they
    /// are equal, else what differs, with the query, for the test to record.
    public static func differs(_ q: SQLQuery, from want: Result, on engine: Engine, at place: String) -> String? {
        do {
            var got = try engine.run(q.sql, q.scalar)
            // An empty result prints no columns: they are the query's.
            if got.names.isEmpty && want.rows.isEmpty { got.names = want.names }
            // A list comes back as one text.
            for (k, type) in q.types.enumerated() where type == .textList {
                if let c = got.names.firstIndex(of: q.columns[k]) {
                    for r in got.rows.indices where c < got.rows[r].count { got.rows[r][c] = type.value(got.rows[r][c]) }
                }
            }
            guard let problem = compare(want, got) else { return nil }
            return "\(place) on \(engine.dialect): \(problem)\nkam:\n\(want)\nSQL:\n\(got)\n\(q.sql)"
        } catch {
            return "\(place) on \(engine.dialect) failed: \(error)\n\(q.sql)"
        }
    }

    /// kam's own answers for a program, one per result.
    public static func kamResults(_ session: Session, _ program: Program) throws -> [Result] {
        var out: [Result] = []
        try session.interpreter.run(program) { v in
            switch v {
            case .table(let t):
                out.append(Result(names: t.names, rows: (0..<t.count).map { i in t.columns.map { $0.value(at: i) } }))
            case .row(let t, let i):
                out.append(Result(names: t.names, rows: [t.columns.map { $0.value(at: i) }]))
            case .record(let r):
                out.append(Result(names: r.keys, rows: [r.values]))
            default:
                out.append(Result(names: ["value"], rows: [[v]]))
            }
        }
        return out
    }
}
