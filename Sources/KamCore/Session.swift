import Foundation

/// A kam session: an interpreter plus how results are written. The command line, the
/// REPL and the golden tests all run code through this one type.
public final class Session {
    public let interpreter: Interpreter
    public var writer: Writer
    /// When running on a database: its schema graph and the compiler the session keeps.
    var database: (AccountGraph, SQLCompiler)?
    /// Pipelines bound by let that the database computes: empty stand-ins with their
    /// columns (and entity, for links), there for the checker only, never for running.
    var standIns: [String: Value] = [:]
    /// Whether a --param the script never reads is a warning (scripts, not the REPL, whose
    /// lines each read only some).
    public var warnsUnusedParameters = true

    public init(options: Interpreter.Options = .init(), writer: Writer = Writer(format: .csv)) {
        Analytics.register()
        interpreter = Interpreter(options: options)
        self.writer = writer
        #if DEBUG
        let problems = Stdlib.check()
        assert(problems.isEmpty, "stdlib does not parse:\n" + problems.map { $0.render() }.joined())
        #endif
        // The core module is ours and parses (checked above in debug and by the tests).
        try? interpreter.importModule("core", isFile: false, range: SourceRange(0, 0), into: interpreter.globals)
    }

    /// Runs `text`; results go to `out` as they are produced, diagnostics to `err`.
    /// Returns the exit code: 0, or the code of the first error's kind.
    @discardableResult
    public func run(_ text: String, name: String, out: (String) -> Void, err: (String) -> Void) -> Int32 {
        let source = Source(name: name, text: text)
        let program: Program
        do {
            program = try Parser.parse(source)
        } catch {
            err(error.render())
            return error.exitCode
        }
        defer { flushWarnings(err) }
        // Every name is checked before anything runs, so a mistake on line 9 is reported
        // before line 1 prints anything.
        let problems = Checker(interpreter).check(program, warnUnusedParameters: warnsUnusedParameters)
        let errors = problems.filter { $0.kind != .warning }
        interpreter.warnings += problems.filter { $0.kind == .warning }
        if !errors.isEmpty {
            err(DiagnosticList(errors).render())
            return DiagnosticList(errors).exitCode
        }
        // JSON is one document: one result as it is, several as an array of them (jsonl
        // writes one line per row, whatever the number of results).
        var documents: [String] = []
        let json = writer.format == .json
        // A report: `# section: TITLE` comments head the results after them; HTML is one
        // page of them all, written once the script has run.
        let outline = ReportOutline(text)
        var html = ""
        var nextSection = 0, emitted = 0
        var reportTitle: String? = nil
        var lastOutput = ""
        defer {
            if documents.count == 1 { out(documents[0]) }
            if documents.count > 1 {
                out("[\n" + documents.map { $0.trimmingCharacters(in: .newlines) }.joined(separator: ",\n") + "\n]\n")
            }
        }
        let status = Session.exitCode(err) {
            try interpreter.run(program) { value, line in
                var heading = ""
                // A script's `# report:` title over its first result (HTML: the page's).
                if emitted == 0, let title = outline.title { heading += writer.renderTitle(title) }
                while nextSection < outline.sections.count, outline.sections[nextSection].line < line {
                    // (A blank line above every heading but a first one, on the terminal and in markdown.)
                    if emitted > 0 && !lastOutput.hasSuffix("\n\n") && [.table, .line, .markdown].contains(writer.format) { heading += "\n" }
                    heading += writer.renderHeading(outline.sections[nextSection].title)
                    nextSection += 1
                }
                emitted += 1
                if case .record(let r) = value, Writer.isReport(r), case .string(let t)? = r["title"] { reportTitle = reportTitle ?? t }
                if json { documents.append(writer.render(value)) } else if writer.format == .html {
                    html += heading + writer.render(value)
                } else {
                    lastOutput = heading + writer.render(value)
                    out(lastOutput)
                }
            }
        }
        if writer.format == .html && (status == 0 || !html.isEmpty) {
            let title = outline.title ?? reportTitle ?? (name as NSString).lastPathComponent
            out(HTMLPage.document(title: title, subtitle: outline.title != nil || reportTitle != nil ? outline.subtitle(today: interpreter.options.today, always: true) : nil, body: html))
        }
        return status
    }

    /// Runs `body`: 0, or the error rendered to `err` and its exit code.
    static func exitCode(_ err: (String) -> Void, _ body: () throws -> Void) -> Int32 {
        do {
            try body()
            return 0
        } catch let d as Diagnostic {
            err(d.render())
            return d.kind.exitCode
        } catch let list as DiagnosticList {
            err(list.render())
            return list.exitCode
        } catch {
            err("error: \(error)\n")
            return 1
        }
    }

    /// The SQL for each result of `text` in `dialect`, after the checker has passed every
    /// name against the dataset; the errors of the checker or the compiler otherwise.
    ///
    ///     let queries = try session.compileSQL("accounts | take 3", name: "q", dialect: .duckdb)
    public func compileSQL(_ text: String, name: String, dialect: Dialect, options: SQLCompiler.Options = .init()) throws(DiagnosticList) -> [SQLQuery] {
        let source = Source(name: name, text: text)
        let program = try Parser.parse(source)
        let problems = Checker(interpreter).check(program, warnUnusedParameters: false)
        let errors = problems.filter { $0.kind != .warning }
        if !errors.isEmpty { throw DiagnosticList(errors) }
        let graph: AccountGraph?
        do { graph = try interpreter.currentDataset() } catch let d as Diagnostic { throw DiagnosticList([d]) } catch {
            throw DiagnosticList([Diagnostic(.data, "\(error)")])
        }
        let schema = graph.map { SQLSchema(graph: $0) } ?? SQLSchema()
        let compiler = SQLCompiler(schema: schema, dialect: dialect, today: interpreter.options.today, params: interpreter.options.params, options: options)
        return try compiler.compile(program)
    }

    /// The hint to read the rows into memory, once (a stage's own error may give it).
    static func hintEngineKam(_ d: inout Diagnostic) {
        guard !d.hints.contains(where: { $0.contains("--engine kam") }) else { return }
        d.hints.append("to run what does not compile with the rows in memory: --engine kam")
    }

    /// Runs a script on a database (`--data duckdb:crm.duckdb`): every result that compiles
    /// runs there as SQL. One whose pipeline compiles up to a stage runs that part there and
    /// the rest in kam, on the rows it gave. Anything else runs in kam when the rows are in
    /// memory (`rowsInMemory`), and is otherwise an error that says why: kam never answers
    /// from a schema without its rows.
    @discardableResult
    public func run(_ text: String, name: String, on backend: SQLBackend, rowsInMemory: Bool,
                    out: (String) -> Void, err: (String) -> Void) -> Int32 {
        let source = Source(name: name, text: text)
        let program: Program
        do { program = try Parser.parse(source) } catch {
            err(error.render())
            return error.exitCode
        }
        defer { flushWarnings(err) }
        for (n, v) in standIns { interpreter.globals.vars[n] = v }
        let problems = Checker(interpreter).check(program, warnUnusedParameters: warnsUnusedParameters)
        for n in standIns.keys { interpreter.globals.vars[n] = nil }
        interpreter.warnings += problems.filter { $0.kind == .warning }
        let errors = problems.filter { $0.kind != .warning }
        if !errors.isEmpty {
            err(DiagnosticList(errors).render())
            return DiagnosticList(errors).exitCode
        }
        guard let (graph, compiler) = database ?? (try? interpreter.currentDataset()).flatMap({ $0 }).map({ g in
            (g, SQLCompiler(schema: SQLSchema(graph: g), dialect: backend.dialect, today: interpreter.options.today,
                            params: interpreter.options.params, options: .init(orderColumn: backend.orderColumn, carryAllLinks: true)))
        }) else {
            err(Diagnostic(.data, "no dataset to run on").render())
            return 4
        }
        // One compiler and schema for the session: a pipeline bound by let on one line of
        // the REPL is there for the next.
        database = (graph, compiler)
        // Without the rows, kam must not see the entities (their tables are empty): they are
        // there for the checker, and gone while statements run.
        if !rowsInMemory {
            for e in graph.entities { interpreter.globals.vars[e.name] = nil }
            interpreter.install(AccountGraph(label: graph.label))
        }
        defer { if !rowsInMemory { interpreter.install(graph) } }
        var documents: [String] = []
        let json = writer.format == .json
        func emit(_ v: Value) {
            if json { documents.append(writer.render(v)) } else { out(writer.render(v)) }
        }
        defer {
            if documents.count == 1 { out(documents[0]) }
            if documents.count > 1 {
                out("[\n" + documents.map { $0.trimmingCharacters(in: .newlines) }.joined(separator: ",\n") + "\n]\n")
            }
        }
        // The statements' own timing lines are this loop's, which say where each ran.
        let timing = interpreter.timing
        interpreter.timing = nil
        defer { interpreter.timing = timing }
        /// A query on the database; an error there that kam raised (a negative value in abc)
        /// reads as kam's own, at the statement.
        func onDatabase(_ q: SQLQuery, _ stmt: Stmt) throws -> Value {
            do { return Session.value(try backend.run(q), q) } catch let d as Diagnostic {
                if let r = d.message.range(of: "kam: ") {
                    // PostgreSQL quotes the text it could not cast: the message ends at the quote.
                    var message = String(d.message[r.upperBound...]).components(separatedBy: "\n")[0]
                    while message.hasSuffix("\"") { message.removeLast() }
                    throw Diagnostic(.runtime, message, at: stmt.range, in: source, hints: ["the database stopped the query where kam would stop"])
                }
                // The engine refused the query it was given (an overflow, a value it cannot
                // convert): a run-time error at the statement, in the engine's words.
                guard !d.message.hasPrefix("cannot run"), d.range == nil else { throw d }
                let lines = d.message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                var e = Diagnostic(.runtime, "the database stopped the query: " + (lines.first ?? d.message), at: stmt.range, in: source,
                                   hints: d.hints + ["kam with the rows in memory (--engine kam) says where in the script"])
                e.notes = lines.dropFirst().prefix(3).map { "note: " + $0 }
                throw e
            }
        }
        return Session.exitCode(err) {
            for stmt in program.statements {
                let started = Clock.now()
                let line = source.location(of: stmt.start).line
                // schema() (the REPL's :schema) reads the catalog, which is here; the counts
                // of rows and nulls are the database's, which are not: they show as null.
                if !rowsInMemory, case .expression(let e) = stmt.kind, case .call(let callee, _, false) = e.kind, case .name("schema") = callee.kind {
                    interpreter.install(graph)
                    var shown: [Value] = []
                    defer {
                        for x in graph.entities { interpreter.globals.vars[x.name] = nil }
                        interpreter.install(AccountGraph(label: graph.label))
                    }
                    try interpreter.run(Program(statements: [stmt], source: source)) { shown.append($0) }
                    for v in shown {
                        guard case .table(let t) = v else { emit(v); continue }
                        let columns = zip(t.names, t.columns).map { n, c in ["rows", "nulls"].contains(n) ? Column.from([Value](repeating: .null, count: t.count)) : c }
                        emit(.table(Table(names: t.names, columns: columns, count: t.count)))
                    }
                    continue
                }
                let compiled = compiler.compile(statement: stmt, in: program)
                switch compiled {
                case .success(let q)?:
                    let v: Value
                    do { v = try onDatabase(q, stmt) } catch where rowsInMemory {
                        // With the rows in memory, kam answers (and says what is wrong) itself.
                        try interpreter.run(Program(statements: [stmt], source: source), emit: emit)
                        timing?("line \(line): in kam \(Clock.format(Clock.now() - started))")
                        continue
                    }
                    emit(v)
                    timing?("line \(line): on \(backend.dialect.rawValue) \(Clock.format(Clock.now() - started))")
                    continue
                case .failure(let why)?:
                    if rowsInMemory { break }
                    // A value that reads no data: kam answers it as anywhere.
                    if case .expression(let e) = stmt.kind, !compiler.readsData(e) { break }
                    var d = why
                    Session.hintEngineKam(&d)
                    guard case .expression(let e) = stmt.kind, let (rest, q) = pushedPrefix(e, compiler, range: stmt.range),
                          !compiler.readsData(rest, except: Set(q.columns)) else { throw d }
                    // The rest runs in kam on the rows alone: it may read their columns only,
                    // never a link (the rows no longer know their entity) — checked first.
                    let rewritten = Program(statements: [Stmt(.expression(rest), stmt.range)], source: source)
                    let saved = interpreter.globals.vars["__pushed"]
                    interpreter.globals.vars["__pushed"] = .table(Table(names: q.columns, columns: q.types.map { _ in Column.from([]) }, count: 0))
                    let problems = Checker(interpreter).check(rewritten, warnUnusedParameters: false).filter { $0.kind != .warning }
                    interpreter.globals.vars["__pushed"] = saved
                    if !problems.isEmpty { throw d }
                    interpreter.globals.vars["__pushed"] = try onDatabase(q, stmt)
                    try interpreter.run(rewritten, emit: emit)
                    timing?("line \(line): on \(backend.dialect.rawValue) up to a stage, the rest in kam \(Clock.format(Clock.now() - started))")
                    continue
                case nil:
                    guard case .letBinding(let n, let value) = stmt.kind, !rowsInMemory else { break }
                    // A let of a pipeline the database computes stays there; the next lines
                    // are checked against a stand-in of its shape.
                    if compiler.bindsRelation(n) {
                        if let (columns, entity) = compiler.relationShape(n) {
                            let origin = entity.flatMap { graph.byName[$0] }.map { Origin(graph: graph, entity: $0, rows: []) }
                            standIns[n] = .table(Table(names: columns.map(\.0), columns: columns.map { _ in Column.from([]) }, count: 0, name: entity, origin: origin))
                        }
                        continue
                    }
                    if !compiler.readsData(value) {
                        try interpreter.run(Program(statements: [stmt], source: source)) { _ in }
                        continue
                    }
                    // A value the database computes (let n = accounts | count): run it there,
                    // and bind it for kam and for the queries after it.
                    if case .success(let q) = compiler.compile(expression: value, range: stmt.range) {
                        let v = try onDatabase(q, stmt)
                        interpreter.globals.vars[n] = v
                        compiler.bind(n, literal: v)
                        timing?("line \(line): on \(backend.dialect.rawValue) \(Clock.format(Clock.now() - started))")
                        continue
                    }
                    if case .failure(var d) = compiler.compile(expression: value, range: stmt.range) {
                        Session.hintEngineKam(&d)
                        throw d
                    }
                    continue
                }
                try interpreter.run(Program(statements: [stmt], source: source), emit: emit)
                timing?("line \(line): in kam \(Clock.format(Clock.now() - started))")
            }
        }
    }

    /// The largest start of a pipeline that compiles: its query, and the pipeline with that
    /// start replaced by `__pushed` (the rows it gives), for kam to run the rest.
    func pushedPrefix(_ e: Expr, _ compiler: SQLCompiler, range: SourceRange) -> (Expr, SQLQuery)? {
        guard case .call(let callee, var args, true) = e.kind, let input = args.first?.value else { return nil }
        // A stage that reads the account graph (health, cross_sell, lose, ...) needs the
        // entity's own rows and links, which rows come back from the database without.
        if case .name(let fn) = callee.kind, Session.readsGraph(fn) { return nil }
        if case .success(let q) = compiler.compile(expression: input, range: input.range), q.kind == .table {
            args[0].value = Expr(.name("__pushed"), input.range)
            return (Expr(.call(callee: callee, args: args, piped: true), e.range), q)
        }
        guard let (inner, q) = pushedPrefix(input, compiler, range: range) else { return nil }
        args[0].value = inner
        return (Expr(.call(callee: callee, args: args, piped: true), e.range), q)
    }

    /// Whether a stage reads the account graph through links of its own.
    static func readsGraph(_ name: String) -> Bool {
        if let b = Builtins.table[name], !b.inputs.isEmpty { return true }
        return ["cross_sell", "cross_sell_eval", "whitespace", "lose", "org_chart", "kam_metrics", "stakeholders", "coverage",
                "health", "lifecycle", "profitability"].contains(name)
    }

    /// A query's rows as the kam value its result is: a table, a row, a record, a value.
    static func value(_ t: Table, _ q: SQLQuery) -> Value {
        switch q.kind {
        case .table: return .table(t)
        case .row: return t.count > 0 ? .row(t, 0) : .null
        case .record: return .record(Record(keys: t.names, values: t.columns.map { t.count > 0 ? $0.value(at: 0) : .null }))
        case .scalar: return t.count > 0 && !t.columns.isEmpty ? t.columns[0].value(at: 0) : .null
        }
    }

    func flushWarnings(_ err: (String) -> Void) {
        for w in interpreter.warnings { err(w.render()) }
        interpreter.warnings.removeAll()
    }
}

/// Runs `body` on a thread with a large stack, so deep (but bounded) recursion in the
/// parser and interpreter never meets the small default stack of a secondary thread.
public func withLargeStack<T>(_ body: @escaping () -> T) -> T {
    var result: T? = nil
    let box = StackBox { result = body() }
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    pthread_attr_setstacksize(&attr, 512 << 20)
    var thread = pthread_t()
    let unmanaged = Unmanaged.passRetained(box)
    let rc = pthread_create(&thread, &attr, { raw in
        guard let raw else { return nil }
        Unmanaged<StackBox>.fromOpaque(raw).takeRetainedValue().body()
        return nil
    }, unmanaged.toOpaque())
    pthread_attr_destroy(&attr)
    if rc != 0 {
        unmanaged.release()
        return body()
    }
    pthread_join(thread, nil)
    return result ?? body()
}

private final class StackBox: @unchecked Sendable {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}
