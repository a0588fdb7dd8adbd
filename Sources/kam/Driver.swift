import ArgumentParser
import Foundation
import KamCore

/// Turns command-line options into a session and runs code with it.
final class Driver {
    let session: Session
    var dataLabel: String?
    var quiet = false

    /// Lets scripts read `input`, the table piped into kam (not when stdin is the script).
    func offerStdinAsInput() {
        guard isatty(0) == 0 else { return }
        session.interpreter.inputProvider = {
            try DatasetLoader.readStdin([UInt8](FileHandle.standardInput.readDataToEndOfFile()))
        }
    }

    /// `script`: the text that will run, when it is known before the data is read; then
    /// only the entities it can reach are read (`DatasetUse`).
    init(_ options: CommonOptions, out: String? = nil, script: String? = nil) throws {
        session = Session()
        var opts = Interpreter.Options()
        if let t = options.today ?? ProcessInfo.processInfo.environment["KAM_TODAY"] {
            guard let d = KamCore.Calendar.parse(Array(t.utf8)) else {
                throw ValidationError("--today needs a date as YYYY-MM-DD, got '\(t)'")
            }
            opts.today = d
        }
        for p in options.param {
            guard let eq = p.firstIndex(of: "="), eq != p.startIndex else {
                throw ValidationError("--param needs name=value, got '\(p)'")
            }
            let name = String(p[..<eq])
            opts.params[name] = String(p[p.index(after: eq)...])
        }
        // --out FILE: results to the file (its extension picks the format), not a terminal.
        let terminal = isatty(1) == 1 && out == nil
        let byExtension: [String: OutputFormat] = ["html": .html, "htm": .html, "md": .markdown, "csv": .csv, "tsv": .tsv, "json": .json, "jsonl": .jsonl]
        let format: OutputFormat
        if options.format == nil, let out {
            let ext = (out as NSString).pathExtension.lowercased()
            guard let f = byExtension[ext] else {
                throw ValidationError("--out \(out): no format for the extension '\(ext)'; use .html, .md, .csv, .tsv, .json or .jsonl, or give --format")
            }
            format = f
        } else if let f = options.format {
            guard let parsed = OutputFormat(rawValue: f) else {
                throw ValidationError("unknown format '\(f)'; use one of: " + OutputFormat.allCases.map(\.rawValue).joined(separator: ", "))
            }
            format = parsed
        } else {
            format = terminal ? .table : .csv
        }
        // NO_COLOR, when set and not empty (no-color.org): no colours, and plain characters.
        let noColor = !(ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
        let color = terminal && !noColor
        // (A page draws its own sparklines: plain characters are for a terminal or a pipe
        // without colour.)
        opts.plainText = noColor && format != .html
        session.interpreter.options = opts
        // On a terminal a table fits the window, scripts and -c as the REPL; in a pipe, all of it.
        if let out {
            guard FileManager.default.createFile(atPath: out, contents: nil), let handle = FileHandle(forWritingAtPath: out) else {
                throw ValidationError("cannot write --out \(out): \(String(cString: strerror(errno)))")
            }
            sink = { handle.write(Data($0.utf8)) }
        }
        session.writer = Writer(format: format, maxWidth: terminal ? Terminal.width() : nil, maxRows: terminal ? max(10, Terminal.height() - 8) : nil,
                                color: color)
        if let e = options.engine, e != "kam" && e != "sql" {
            throw ValidationError("unknown engine '\(e)'; use sql (on the database) or kam (rows in memory)")
        }
        // The engine: --engine, else the manifest's `engine`, else on the database (sql).
        var engine = options.engine
        var manifestPath = options.manifest
        if let data = options.data, data.hasPrefix("duckdb:"), manifestPath == nil {
            manifestPath = Manifest.besides(String(data.dropFirst(7)))
        }
        if engine == nil, let m = manifestPath, let data = options.data, Driver.isDatabase(data) {
            do { engine = try Manifest.load(file: m).engine } catch let d as Diagnostic {
                Output.error(d.render())
                throw ExitCode(d.kind.exitCode)
            }
        }
        if let data = options.data, let db = try Driver.database(data, engine: engine) {
            do {
                let started = Clock.now()
                let graph: AccountGraph
                let report: DatasetLoader.Report
                var inMemory = false
                switch db {
                case .onDatabase(let backend, let rows):
                    if rows {
                        (graph, report) = try DerivedColumns.load(database: backend, strict: options.strict, manifest: manifestPath, options: opts)
                    } else {
                        // The derived columns are computed over no rows here, for their links
                        // and checks; the queries compute them on the database.
                        (graph, report) = try DerivedColumns.load(database: backend, strict: options.strict, manifest: manifestPath, options: opts)
                        // Renames, tables, queries, links and derived columns hold on the
                        // database; types are kam's conversions of the rows in memory.
                        if let e = graph.entities.first(where: { !$0.inMemoryOnly.isEmpty }), let m = manifestPath {
                            throw Diagnostic(.usage, "the manifest's \(e.inMemoryOnly.joined(separator: " and ")) for entity '\(e.name)' (\(m)) are not yet supported when the queries run on the database",
                                hints: ["read the rows into memory instead: --engine kam, or engine = \"kam\" in the manifest",
                                        "renames (columns), table, sql and links run on the database"])
                        }
                    }
                    // With the rows in memory (--engine kam) kam answers every statement
                    // itself; otherwise the queries run on the database.
                    self.backend = rows ? nil : (backend, false)
                    inMemory = rows
                case .sqlite(let path):
                    (graph, report) = try DerivedColumns.load(path, strict: options.strict, manifest: options.manifest, options: opts)
                    // A manifest's types and derived columns are kam's: the rows are in memory,
                    // so kam answers every statement then.
                    if graph.entities.allSatisfy({ $0.inMemoryOnly.isEmpty }) {
                        self.backend = (try SQLiteBackend(path: path), true)
                    } else if options.engine == "sql" {
                        throw Diagnostic(.usage, "the manifest's types or derived columns are not yet supported when the queries run on the database",
                            hints: ["without --engine sql kam answers with the rows in memory"])
                    }
                }
                session.interpreter.install(graph)
                if options.timing {
                    Output.error("timing: load (\(self.backend.map { $0.1 ? "rows in memory" : "the schema only" } ?? (inMemory ? "rows in memory" : ""))) \(Clock.format(Clock.now() - started))\n")
                }
                if !options.quiet {
                    // Without the rows, a summary line says what the schema has, not "0 rows".
                    let rowsRead = self.backend?.1 ?? true
                    Output.error("kam: on \(data) (queries run \(engine == "kam" ? "in kam" : "on the database where they compile"))\n"
                        + report.summary.map { "  " + (rowsRead ? $0 : $0.replacingOccurrences(of: ": 0 rows, ", with: ": ")) + "\n" }.joined())
                }
                for w in report.warnings { Output.error(w.render()) }
            } catch let d as Diagnostic {
                Output.error(d.render())
                throw ExitCode(d.kind.exitCode)
            }
        } else if let given = options.data {
            let data = given.hasPrefix("sqlite:") ? String(given.dropFirst(7)) : given
            do {
                let started = Clock.now()
                var (graph, report, fromSnapshot) = try Driver.load(data, options: options, interpreter: opts, script: script)
                session.interpreter.install(graph)
                // A script that does not check against the entities read gets its messages
                // from the whole dataset (a misspelt name's hint lists every entity).
                if let script, graph.entities.count < (DatasetLoader.entityNames(inDirectory: data)?.count ?? 0),
                   !Driver.checks(script, in: session) {
                    (graph, report, fromSnapshot) = try Driver.load(data, options: options, interpreter: opts, script: nil)
                    session.interpreter.install(graph)
                }
                if options.timing {
                    if fromSnapshot {
                        Output.error("timing: load (snapshot) \(Clock.format(Clock.now() - started))\n")
                    } else {
                        for (entity, seconds) in report.timings { Output.error("timing: load \(entity) \(Clock.format(seconds))\n") }
                        Output.error("timing: load total \(Clock.format(Clock.now() - started))\n")
                    }
                }
                if !options.quiet {
                    Output.error("kam: loaded \(data)\n" + report.summary.map { "  \($0)\n" }.joined())
                }
                for w in report.warnings { Output.error(w.render()) }
            } catch let d as Diagnostic {
                Output.error(d.render())
                throw ExitCode(d.kind.exitCode)
            }
        }
        if options.manifest != nil && options.data == nil {
            throw ValidationError("--manifest goes with --data: kam --data crm.db --manifest crm.toml")
        }
        if options.timing {
            session.interpreter.timing = { Output.error("timing: \($0)\n") }
        }
        if options.data == nil {
            // The demo company, built on first use so startup stays fast.
            session.interpreter.datasetProvider = { Demo.build() }
        }
        dataLabel = options.data
        quiet = options.quiet
    }

    /// A directory or file dataset: from the snapshot an earlier run left when its sources
    /// are unchanged, else parsed (and the snapshot written for the next run).
    /// Whether the script parses and checks clean in the session as it is (nothing runs;
    /// what the check warns is dropped, the run checks again).
    static func checks(_ script: String, in session: Session) -> Bool {
        withLargeStack {
            defer { session.interpreter.warnings.removeAll() }
            guard let program = try? Parser.parse(Source(name: "<script>", text: script)) else { return false }
            return Checker(session.interpreter).check(program, requireParameters: false).allSatisfy { $0.kind == .warning }
        }
    }

    static func load(_ data: String, options: CommonOptions, interpreter opts: Interpreter.Options, script: String? = nil) throws
        -> (AccountGraph, DatasetLoader.Report, fromSnapshot: Bool)
    {
        // The entities the script can reach, when its text tells and they are not all: a
        // directory without a manifest, and not --strict (which reports every file's
        // dangling references).
        var only: Set<String>? = nil
        var headers: AccountGraph? = nil
        // KAM_READ_ALL=1 reads (and checks) every file whatever the script names.
        if let script, !options.strict, options.manifest == nil, (ProcessInfo.processInfo.environment["KAM_READ_ALL"] ?? "").isEmpty,
           let words = DatasetUse.words(of: script),
           let graph = DatasetLoader.headerGraph(inDirectory: data) {
            only = DatasetUse.entities(words, in: graph)
            headers = graph
        }
        // Whether a graph has the links the whole dataset has among its entities (always, when
        // every entity was read).
        func linkedAsWhole(_ g: AccountGraph) -> Bool { only == nil || headers.map { DatasetUse.agrees(g, with: $0) } ?? true }
        // Some of the entities, linked as the whole dataset links them; else all of them.
        func whole(_ loaded: (AccountGraph, DatasetLoader.Report, fromSnapshot: Bool), agrees: Bool? = nil) throws
            -> (AccountGraph, DatasetLoader.Report, fromSnapshot: Bool)
        {
            if agrees ?? linkedAsWhole(loaded.0) { return loaded }
            return try load(data, options: options, interpreter: opts, script: nil)
        }
        let env = ProcessInfo.processInfo.environment
        let cache = !options.noCache && (env["KAM_NO_CACHE"] ?? "").isEmpty && !SQLiteReader.isDatabase(data) && data != "-"
        // What else the load depends on: strictness, and for a manifest (whose derived
        // columns may read today() or a parameter) today and the parameters.
        var extra = "strict \(options.strict)"
        var isDir: ObjCBool = false
        let dir = FileManager.default.fileExists(atPath: data, isDirectory: &isDir) && isDir.boolValue ? data : (data as NSString).deletingLastPathComponent
        if options.manifest != nil || Manifest.names.contains(where: { FileManager.default.fileExists(atPath: (dir.isEmpty ? "." : dir) + "/" + $0) }) {
            // Each parameter by the length of its name and value, so no two sets read alike.
            extra += " today \(opts.today) params " + opts.params.sorted { $0.key < $1.key }
                .map { "\($0.key.utf8.count):\($0.key)=\($0.value.utf8.count):\($0.value)" }.joined(separator: ";")
        }
        // A manifest whose derived columns read other files (load "...") depends on files the
        // key does not follow: no snapshot then.
        let manifestPath = options.manifest ?? Manifest.names.map { (dir.isEmpty ? "." : dir) + "/" + $0 }.first { FileManager.default.fileExists(atPath: $0) }
        let readsFiles = manifestPath.flatMap { FileManager.default.contents(atPath: $0) }.map { String(decoding: $0, as: UTF8.self).contains(/\bload\s*[(\\"']/) } ?? false
        guard cache, !readsFiles, let key = Snapshot.key(dataset: data, manifest: options.manifest, extra: extra) else {
            let (g, r) = try DerivedColumns.load(data, strict: options.strict, manifest: options.manifest, options: opts, only: only)
            return try whole((g, r, false))
        }
        let path = Snapshot.path(dataset: data, manifest: options.manifest)
        if let (g, r) = Snapshot.read(path, key: key, needing: only) { return try whole((g, r, true)) }
        // The entities of a snapshot of some of them are read too: it grows to what the
        // scripts run on the dataset use, and is not replaced by each one's own.
        if let needed = only, let held = Snapshot.partialEntities(path, key: key) { only = needed.union(held) }
        // The snapshot is written as the load goes: each table while the next file parses.
        let stream = SnapshotWriter.open(path)
        let loaded: (AccountGraph, DatasetLoader.Report)
        do {
            loaded = try DerivedColumns.load(data, strict: options.strict, manifest: options.manifest, options: opts, only: only,
                                             loaded: { SnapshotWriter.add($0, to: stream) })
        } catch {
            SnapshotWriter.abandon(stream)
            throw error
        }
        let (g, r) = loaded
        // A snapshot that cannot be written (no cache directory, a full disk) costs only
        // the next run its speed.
        let agrees = linkedAsWhole(g)
        // One whose links the whole dataset does not have is written by the full load.
        if agrees, Snapshot.canWrite(g, r) {
            let names = DatasetLoader.entityNames(inDirectory: data) ?? []
            let partial = only != nil && g.entities.count < Set(names).count
            SnapshotWriter.finish(stream, g, r, key: partial ? Snapshot.key(key, entities: g.entities.map(\.name)) : key)
        } else {
            SnapshotWriter.abandon(stream)
        }
        return try whole((g, r, false), agrees: agrees)
    }

    /// The database the queries run on, and whether its rows are in memory too.
    var backend: (SQLBackend, Bool)?

    enum Database {
        case onDatabase(SQLBackend, rows: Bool)
        case sqlite(String)
    }

    /// `duckdb:FILE`, `postgres://...` and `sqlite:FILE` are databases kam runs on;
    /// `--engine kam` reads their rows into memory instead.
    /// Whether `--data` names a database kam can run on.
    static func isDatabase(_ data: String) -> Bool {
        data.hasPrefix("duckdb:") || data.hasPrefix("postgres:") || data.hasPrefix("postgresql:") || data.hasPrefix("sqlite:")
            || SQLiteReader.isDatabase(data)
    }

    static func database(_ data: String, engine: String?) throws -> Database? {
        let rows = engine == "kam"
        do {
            if data.hasPrefix("duckdb:") { return .onDatabase(try DuckDBBackend(path: String(data.dropFirst(7)), rows: rows), rows: rows) }
            if data.hasPrefix("postgres://") || data.hasPrefix("postgresql://") || data.hasPrefix("postgres:") && data.contains("=") {
                let conn = data.hasPrefix("postgres:") && !data.hasPrefix("postgres://") ? String(data.dropFirst(9)) : data
                return .onDatabase(try PostgresBackend(connection: conn, rows: rows), rows: rows)
            }
            if data.hasPrefix("sqlite:") {
                let path = String(data.dropFirst(7))
                return rows ? nil : .sqlite(path)
            }
        } catch let d as Diagnostic {
            Output.error(d.render())
            throw ExitCode(d.kind.exitCode)
        }
        if engine == "sql" {
            if SQLiteReader.isDatabase(data) { return .sqlite(data) }
            throw ValidationError("--engine sql runs on a database: --data duckdb:FILE, postgres://... or sqlite:FILE")
        }
        return nil
    }

    /// Where results go instead of stdout (the REPL's :output and :once).
    var sink: ((String) -> Void)?

    func runText(_ text: String, name: String) -> Int32 {
        run(text, name: name, out: sink ?? Output.write, err: Output.error)
    }

    /// Runs `text` in the session, on the database when there is one.
    func run(_ text: String, name: String, out: @escaping (String) -> Void, err: @escaping (String) -> Void) -> Int32 {
        let session = self.session
        if let (backend, rows) = backend {
            return withLargeStack {
                session.run(text, name: name, on: backend, rowsInMemory: rows, out: out, err: err)
            }
        }
        return withLargeStack {
            session.run(text, name: name, out: out, err: err)
        }
    }

    /// `kam check`: parses and checks each file; runs nothing. 0 when all are clean.
    func checkFiles(_ paths: [String]) -> Int32 {
        var worst: Int32 = 0
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                Output.error("error: cannot read script '\(path)'\n")
                worst = max(worst, 2)
                continue
            }
            let text = String(decoding: data, as: UTF8.self)
            let session = self.session
            let problems: [Diagnostic] = withLargeStack {
                do {
                    let program = try Parser.parse(Source(name: path, text: text))
                    return Checker(session.interpreter).check(program, requireParameters: false)
                } catch let list as DiagnosticList {
                    return list.diagnostics
                } catch {
                    return [Diagnostic(.syntax, "\(error)")]
                }
            }
            for d in problems { Output.error(d.render()) }
            for w in session.interpreter.warnings { Output.error(w.render()) }
            session.interpreter.warnings.removeAll()
            if let code = problems.filter({ $0.kind != .warning }).map(\.kind.exitCode).max() { worst = max(worst, code) }
        }
        return worst
    }

    /// `kam sql`: the SQL of each result, a query per result separated by blank lines.
    func printSQL(_ text: String, name: String, dialect: Dialect) -> Int32 {
        let session = self.session
        let result: Result<[SQLQuery], DiagnosticList> = withLargeStack {
            do throws(DiagnosticList) { return .success(try session.compileSQL(text, name: name, dialect: dialect)) } catch { return .failure(error) }
        }
        for w in session.interpreter.warnings { Output.error(w.render()) }
        session.interpreter.warnings.removeAll()
        switch result {
        case .success(let queries):
            if queries.isEmpty { Output.error("kam sql: the script gives no result to compile\n") }
            Output.write(queries.map { $0.sql + ";\n" }.joined(separator: "\n"))
            return 0
        case .failure(let list):
            Output.error(list.render())
            return list.exitCode
        }
    }

    func runFile(_ path: String) -> Int32 {
        guard let data = FileManager.default.contents(atPath: path) else {
            Output.error("error: cannot read script '\(path)'\n")
            return 2
        }
        guard let text = String(data: data, encoding: .utf8) else {
            Output.error("error: script '\(path)' is not valid UTF-8\n")
            return 3
        }
        return runText(text, name: path)
    }
}

/// stdout for results, stderr for diagnostics; written with write(2) so a closed pipe
/// (`kam ... | head`) ends kam quietly instead of crashing it.
enum Output {
    nonisolated(unsafe) private static var buffer: [UInt8] = []

    static func write(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count > 1 << 16 { flush() }
    }

    static func error(_ s: String) {
        flush()
        writeAll(2, Array(s.utf8))
    }

    static func flush() {
        guard !buffer.isEmpty else { return }
        let bytes = buffer
        buffer.removeAll(keepingCapacity: true)
        if !writeAll(1, bytes) {
            SnapshotWriter.wait()
            Foundation.exit(0)
        }
    }

    @discardableResult
    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }
}

enum Terminal {
    static func width() -> Int {
        var ws = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return Int(ws.ws_col) }
        return 100
    }
    static func height() -> Int {
        var ws = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_row > 0 { return Int(ws.ws_row) }
        return 40
    }
}

/// Writes a dataset's snapshot while the dataset loads and the script runs (a table is not
/// changed once loaded, nor the graph once linked); the process waits for it before it
/// exits, so the next run finds it whole.
enum SnapshotWriter {
    /// A snapshot being written; its stream is touched only on the queue.
    final class Handle: @unchecked Sendable {
        fileprivate var stream: Snapshot.Stream?
        /// Set at once when the load fails or its snapshot is not wanted, so the tables
        /// still waiting on the queue are not written only to be removed.
        private let lock = NSLock()
        private var dropped = false
        fileprivate var isDropped: Bool { lock.withLock { dropped } }
        fileprivate func drop() { lock.withLock { dropped = true } }
    }

    private struct Job: @unchecked Sendable {
        let graph: AccountGraph
        let report: DatasetLoader.Report
    }

    private static let group = DispatchGroup()
    /// One write at a time, in order: a run that read some entities and then all of them (a
    /// script that did not check against the first) writes both, the second last, and both
    /// write through the one temporary file of this process.
    private static let queue = DispatchQueue(label: "kam.snapshot", qos: .utility)

    static func open(_ path: String) -> Handle {
        let handle = Handle()
        queue.async(group: group) { handle.stream = try? Snapshot.Stream(path: path) }
        return handle
    }

    static func add(_ table: Table, to handle: Handle) {
        queue.async(group: group) { if !handle.isDropped { handle.stream?.add(table) } }
    }

    static func finish(_ handle: Handle, _ graph: AccountGraph, _ report: DatasetLoader.Report, key: String) {
        let job = Job(graph: graph, report: report)
        queue.async(group: group) {
            try? handle.stream?.finish(job.graph, job.report, key: key)
            handle.stream = nil
        }
    }

    static func abandon(_ handle: Handle) {
        handle.drop()
        queue.async(group: group) {
            handle.stream?.abandon()
            handle.stream = nil
        }
    }

    static func wait() { group.wait() }
}
