import KamData
import KamRuntime
import KamSyntax

/// Compiles the relational part of a kam script to SQL, one query per result.
///
///     let c = SQLCompiler(schema: SQLSchema(graph: graph), dialect: .duckdb, today: today)
///     let queries = try c.compile(program)   // [SQLQuery], or the errors, each with its range
///
/// The query keeps kam's meaning: rows in kam's order (each step carries the order as a
/// column, `__ord`, and the query ends with ORDER BY it), kam's null rules, sums of nothing
/// that are 0, groups sorted by their keys with nulls last, `/` that divides as floats.
/// A construct with no SQL form is an error naming it, never a query that answers
/// something else. Each step of a pipeline is a CTE named after it (`where_1`, `sort_2`).
public final class SQLCompiler {
    public struct Options: Sendable {
        /// The column that gives a base table's row order, when the database has one; else
        /// rowid (SQLite, DuckDB) or the entity's key.
        public var orderColumn: String? = nil
        /// Every base step carries every link of its entity (a session whose later lines
        /// may navigate a pipeline bound now, as the REPL's).
        public var carryAllLinks = false
        public init(orderColumn: String? = nil, carryAllLinks: Bool = false) {
            self.orderColumn = orderColumn
            self.carryAllLinks = carryAllLinks
        }
    }

    public private(set) var schema: SQLSchema
    public let dialect: Dialect
    public let today: Int32
    public let options: Options
    public let params: [String: String]
    var source = Source(name: "<none>", text: "")
    var counter = 0
    var variables: [String: Relation] = [:]
    var scalars: [String: SQLValue] = [:]
    var errors: [Diagnostic] = []
    /// The names the whole program mentions: a base step carries the values of every link
    /// among them, so a pipeline bound by let navigates in the statements after it.
    var programNames: Set<String> = []

    public init(schema: SQLSchema, dialect: Dialect, today: Int32, params: [String: String] = [:], options: Options = Options()) {
        self.schema = schema
        self.dialect = dialect
        self.today = today
        self.params = params
        self.options = options
    }

    // MARK: relations

    /// A column of a relation.
    struct Col {
        var name: String
        var type: SQLType
    }

    /// One step: a CTE.
    struct CTE {
        var name: String
        var sql: String
    }

    /// A table in the making: the CTEs that build it, its visible columns, and, while its
    /// rows are still one entity's rows, the entity (so links navigate) with the hidden
    /// columns that carry the link values (`__fk_account_id`, `__key_id`).
    struct Relation {
        var ctes: [CTE]
        var name: String
        var columns: [Col]
        var entity: String?
        var hidden: [String]
        /// The name a join prefixes clashing columns with.
        var label: String?

        func column(_ n: String) -> Col? { columns.first { $0.name == n } }
        /// Every column a step passes on: the visible ones, the order, the hidden ones.
        var carried: [String] { columns.map(\.name) + ["__ord"] + hidden }
    }

    struct Failure: Error {
        var diagnostic: Diagnostic
    }

    func fail(_ message: String, _ range: SourceRange, hints: [String] = []) -> Failure {
        Failure(diagnostic: Diagnostic(.syntax, message, at: range, in: source, hints: hints))
    }

    func unsupported(_ what: String, _ range: SourceRange, hints: [String] = []) -> Failure {
        fail("\(what) does not compile to SQL (\(dialect.rawValue))", range, hints: hints)
    }

    func q(_ n: String) -> String { dialect.quote(n) }

    func nextName(_ step: String) -> String {
        counter += 1
        return "\(step)_\(counter)"
    }

    func add(_ rel: Relation, _ step: String, _ body: String, columns: [Col], entity: String?, hidden: [String]) -> Relation {
        let name = nextName(step)
        var r = rel
        r.ctes.append(CTE(name: name, sql: body))
        r.name = name
        r.columns = columns
        r.entity = entity
        r.hidden = hidden
        return r
    }

    /// The base relation of an entity: its columns, the row order, and the link values
    /// the script navigates through.
    func base(_ entityName: String, links: Set<String>) -> Relation {
        let e = schema.entities[entityName]!
        let order: String
        if let c = options.orderColumn {
            order = "t." + q(c)
        } else if dialect.hasRowid {
            // (A view has no rowid: its rows in the order it gives them.)
            order = e.view != nil ? "t.\(q("__rowid"))" : e.isView ? "ROW_NUMBER() OVER ()" : "t.rowid"
        } else if let k = e.key {
            order = "t." + q(k)
        } else {
            order = "1"
        }
        var hidden: [String] = []
        // kam's ints are 64-bit: a narrower column (SMALLINT, INTEGER) is widened first, so
        // founded * 100 does not overflow where kam does not.
        var select = e.columns.map { c in
            c.type == .int && dialect != .sqlite ? "CAST(t.\(q(c.name)) AS BIGINT) AS \(q(c.name))" : "t." + q(c.name)
        }
        select.append(order == "1" ? "1 AS \(q("__ord"))" : "\(order) AS \(q("__ord"))")
        var hiddenSeen = Set<String>()
        let carried = options.carryAllLinks ? Set(e.forward.keys).union(e.reverse.keys) : links
        for l in carried.sorted() {
            if let f = e.forward[l], hiddenSeen.insert("__fk_" + f.column).inserted {
                hidden.append("__fk_" + f.column)
                select.append("t.\(q(f.column)) AS \(q("__fk_" + f.column))")
            }
            if let r = e.reverse[l], hiddenSeen.insert("__key_" + r.key).inserted {
                hidden.append("__key_" + r.key)
                select.append("t.\(q(r.key)) AS \(q("__key_" + r.key))")
            }
        }
        let name = nextName(entityName)
        let sql = "SELECT \(select.joined(separator: ", ")) FROM \(q(e.table)) AS t"
        return Relation(ctes: [CTE(name: name, sql: sql)], name: name, columns: e.columns.map { Col(name: $0.name, type: $0.type) },
                        entity: entityName, hidden: hidden, label: entityName)
    }

    /// The query for a relation: its CTEs and the final SELECT in kam's row order.
    func query(_ r: Relation) -> String {
        var seen = Set<String>()
        var ctes: [String] = []
        for c in r.ctes where seen.insert(c.name).inserted {
            ctes.append("  \(q(c.name)) AS (\n    \(c.sql)\n  )")
        }
        let cols = r.columns.map { q($0.name) }.joined(separator: ", ")
        let shared = groups(reading: ctes)
        return "WITH\n" + (views(reading: ctes + shared) + shared + ctes).joined(separator: ",\n") + "\nSELECT \(cols) FROM \(q(r.name)) ORDER BY \(q("__ord"))"
    }

    /// A query without the spaces and semicolons around it, to nest as a subquery.
    static func bare(_ sql: String) -> String {
        var s = Substring(sql)
        while let c = s.last, c.isWhitespace || c == ";" { s = s.dropLast() }
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        return String(s)
    }

    /// The views of the entities a manifest renames, reads by a query or derives columns
    /// of, that the CTEs read (with the views those read, dependencies first).
    func views(reading ctes: [String]) -> [String] {
        var needed = Set<String>()
        var todo = viewOrder.filter { e in ctes.contains { $0.contains(q(schema.entities[e]?.table ?? e)) } }
        while let e = todo.popLast() {
            guard needed.insert(e).inserted else { continue }
            todo += viewDependencies[e] ?? []
        }
        return viewOrder.filter(needed.contains).flatMap { e in (viewCTEs[e] ?? []).map { "  \(q($0.name)) AS (\n    \($0.sql)\n  )" } }
    }

    var viewsPrepared = false
    /// Each view's CTEs (the last one the view, `__src_ENTITY`), the views each reads, and
    /// an order with every view after the ones it reads.
    var viewCTEs: [String: [CTE]] = [:]
    var viewDependencies: [String: [String]] = [:]
    var viewOrder: [String] = []

    /// Compiles the views once: the database's columns under kam's names (`__raw_ENTITY`),
    /// then the manifest's derived columns as derive steps, in the order kam computed them,
    /// each column's type then the compiled one.
    func prepareViews() {
        guard !viewsPrepared else { return }
        viewsPrepared = true
        let entities = schema.entities.values.filter { $0.view != nil }.sorted { $0.name < $1.name }
        guard !entities.isEmpty else { return }
        var relations: [String: Relation] = [:]
        for e in entities {
            guard let view = e.view else { continue }
            let raw = view.columns.compactMap { c in c.source.map { (c.kam, $0) } }
            var select = raw.map { "v.\(q($0.1)) AS \(q($0.0))" }
            let from: String
            if let sql = view.query {
                from = "(\(Self.bare(sql))) AS v"
                if dialect.hasRowid { select.append("ROW_NUMBER() OVER () AS \(q("__rowid"))") }
            } else {
                from = "\(q(view.table ?? e.name)) AS v"
                if dialect.hasRowid { select.append(e.isView ? "ROW_NUMBER() OVER () AS \(q("__rowid"))" : "v.rowid AS \(q("__rowid"))") }
            }
            let derived = view.columns.contains { $0.source == nil }
            let rawName = derived ? "__raw_" + e.name : e.table
            let rawCTE = CTE(name: rawName, sql: "SELECT \(select.joined(separator: ", ")) FROM \(from)")
            guard derived else {
                viewCTEs[e.name] = [rawCTE]
                continue
            }
            // The raw rows as a relation of the entity, carrying every link whose column
            // the database has, for the derived columns to navigate.
            let rawNames = Set(raw.map(\.0))
            let order = options.orderColumn.map { "t." + q($0) } ?? (dialect.hasRowid ? "t.\(q("__rowid"))" : e.key.map { "t." + q($0) } ?? "1")
            var cols = e.columns.filter { rawNames.contains($0.name) }.map { "t." + q($0.name) }
            cols.append("\(order) AS \(q("__ord"))")
            var hidden: [String] = []
            for f in e.forward.values where rawNames.contains(f.column) && !hidden.contains("__fk_" + f.column) {
                hidden.append("__fk_" + f.column)
                cols.append("t.\(q(f.column)) AS \(q("__fk_" + f.column))")
            }
            for r in e.reverse.values where rawNames.contains(r.key) && !hidden.contains("__key_" + r.key) {
                hidden.append("__key_" + r.key)
                cols.append("t.\(q(r.key)) AS \(q("__key_" + r.key))")
            }
            let name = nextName(e.name)
            relations[e.name] = Relation(ctes: [rawCTE, CTE(name: name, sql: "SELECT \(cols.joined(separator: ", ")) FROM \(q(rawName)) AS t")], name: name,
                                         columns: e.columns.filter { rawNames.contains($0.name) }.map { Col(name: $0.name, type: $0.type) },
                                         entity: e.name, hidden: hidden, label: e.name)
        }
        let saved = source
        defer { source = saved }
        for d in schema.derivations {
            guard let r = relations[d.entity] else { continue }
            source = d.source
            do {
                let next = try deriveStage(r, [Arg(d.expression, style: .assign, name: d.column)], d.expression)
                relations[d.entity] = next
                if let t = next.column(d.column)?.type, let i = schema.entities[d.entity]?.columns.firstIndex(where: { $0.name == d.column }) {
                    schema.entities[d.entity]?.columns[i].type = t
                }
            } catch let f as Failure {
                // The entity's queries fail with it; the others still compile.
                var diagnostic = f.diagnostic
                diagnostic.message = "the derived column \(d.entity).\(d.column): " + diagnostic.message
                diagnostic.hints.append("read the rows into memory instead: --engine kam, or engine = \"kam\" in the manifest")
                viewFailures[d.entity] = Failure(diagnostic: diagnostic)
                relations[d.entity] = nil
            } catch {
                viewFailures[d.entity] = Failure(diagnostic: Diagnostic(.syntax, "the derived column \(d.entity).\(d.column): \(error)"))
                relations[d.entity] = nil
            }
        }
        for (name, r) in relations {
            guard let e = schema.entities[name] else { continue }
            var select = e.columns.map { "t." + q($0.name) }
            if dialect.hasRowid { select.append("t.\(q("__ord")) AS \(q("__rowid"))") }
            viewCTEs[name] = r.ctes + [CTE(name: e.table, sql: "SELECT \(select.joined(separator: ", ")) FROM \(q(r.name)) AS t")]
        }
        // Which views each reads, and an order with dependencies first (views that read
        // each other cannot be one query).
        for e in entities {
            let text = (viewCTEs[e.name] ?? []).map(\.sql).joined(separator: "\n")
            viewDependencies[e.name] = entities.filter { $0.name != e.name && text.contains(q($0.table)) }.map(\.name)
        }
        var state: [String: Int] = [:]
        func visit(_ n: String) {
            if state[n] == 2 { return }
            if state[n] == 1 {
                viewFailures[n] = viewFailures[n] ?? Failure(diagnostic: Diagnostic(.syntax,
                    "the manifest's derived columns of \(n) read entities that read \(n) back, which one query cannot compute",
                    hints: ["read the rows into memory instead: --engine kam, or engine = \"kam\" in the manifest"]))
                return
            }
            state[n] = 1
            for d in viewDependencies[n] ?? [] {
                visit(d)
                // A view that reads one that does not compile does not compile either.
                if let f = viewFailures[d], viewFailures[n] == nil { viewFailures[n] = f }
            }
            state[n] = 2
            viewOrder.append(n)
        }
        for e in entities { visit(e.name) }
    }

    // MARK: shared subqueries

    /// Whether the reverse-link subqueries of the statement being compiled are shared by its
    /// steps (a CTE each); a view's are its own (views come before any shared CTE).
    var sharingGroups = false
    /// Each statement's subqueries have their own names, so one bound by let keeps what it
    /// computes and a later statement computes only what it reads.
    var generation = 0
    var sharedGroups: [String: (column: String, source: String, aggregates: [String])] = [:]
    var sharedOrder: [String] = []

    /// The shared CTE of a chain of links from this statement.
    func sharedGroup(chain: String, column: String, source: String) -> String {
        let raw = "__g\(generation)_\(chain)_\(column)"
        let name = String(raw.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
        if sharedGroups[name] == nil {
            sharedGroups[name] = (column, source, [])
            sharedOrder.append(name)
        }
        return name
    }

    /// The column of the shared CTE that holds an aggregate (v1, v2, ...).
    func sharedAggregate(_ name: String, _ aggregate: String) -> String {
        guard var g = sharedGroups[name] else { return "v0" }
        if let k = g.aggregates.firstIndex(of: aggregate) { return "v\(k + 1)" }
        g.aggregates.append(aggregate)
        sharedGroups[name] = g
        return "v\(g.aggregates.count)"
    }

    func groupSQL(column: String, source: String, aggregates: [String]) -> String {
        let values = aggregates.enumerated().map { "\($0.element) AS v\($0.offset + 1)" }.joined(separator: ", ")
        return "SELECT s.\(q(column)) AS k, \(values) FROM \(source) WHERE s.\(q(column)) IS NOT NULL GROUP BY s.\(q(column))"
    }

    /// The shared CTEs the steps read.
    func groups(reading ctes: [String]) -> [String] {
        sharedOrder.filter { n in ctes.contains { $0.contains(q(n)) } }.compactMap { n in
            sharedGroups[n].map { "  \(q(n)) AS (\n    \(groupSQL(column: $0.column, source: $0.source, aggregates: $0.aggregates))\n  )" }
        }
    }

    /// The views that do not compile, by entity: a query that reads one fails with its error.
    var viewFailures: [String: Failure] = [:]

    func checkViews(_ sql: String) throws {
        for (e, f) in viewFailures.sorted(by: { $0.key < $1.key }) where sql.contains(q(schema.entities[e]?.table ?? e)) { throw f }
    }

    // MARK: statements

    /// Compiles each statement that gives a result; `let` binds a relation or a value for
    /// the statements after it. Throws the errors of every statement at once.
    /// Every name the statements mention (for the links a base step carries).
    func names(of program: Program) -> Set<String> {
        var out = Set<String>()
        for stmt in program.statements {
            switch stmt.kind {
            case .letBinding(_, let v): out.formUnion(linkNames(in: v))
            case .expression(let e): out.formUnion(linkNames(in: e))
            default: break
            }
        }
        return out
    }

    public func compile(_ program: Program) throws(DiagnosticList) -> [SQLQuery] {
        source = program.source
        programNames = names(of: program)
        var out: [SQLQuery] = []
        for stmt in program.statements {
            do {
                switch stmt.kind {
                case .letBinding(let name, let value):
                    try bindLet(name, value)
                case .expression(let e):
                    out.append(try result(e, range: stmt.range))
                case .parameter:
                    break
                case .function:
                    throw unsupported("a function definition", stmt.range, hints: ["kam sql compiles pipelines over the dataset's entities"])
                case .importModule:
                    throw unsupported("import", stmt.range)
                case .assertion:
                    throw unsupported("assert", stmt.range)
                }
            } catch let f as Failure {
                errors.append(f.diagnostic)
            } catch {
                errors.append(Diagnostic(.syntax, "\(error)", at: stmt.range, in: source))
            }
        }
        if !errors.isEmpty { throw DiagnosticList(errors) }
        return out
    }

    /// Binds a `let`: a pipeline as a relation, a value as a literal or, when it is a query
    /// of one value (`let n = accounts | count`), as a scalar subquery.
    func bindLet(_ name: String, _ value: Expr) throws {
        prepareViews()
        generation += 1
        sharingGroups = true
        defer { sharingGroups = false }
        variables[name] = nil
        scalars[name] = nil
        if let r = try relation(value, links: programNames, label: name) {
            // A table keeps the name of the entity it came from; one that lost it
            // (aggregate) takes the variable's, as kam names it.
            var labelled = r
            if labelled.label == nil { labelled.label = name }
            variables[name] = labelled
        } else if let v = try? constant(value) {
            scalars[name] = v
        } else if let q = try? result(value, range: value.range), q.kind == .scalar {
            scalars[name] = SQLValue("(" + q.sql + ")", q.types.first ?? .unknown)
        } else {
            scalars[name] = try constant(value)
        }
    }

    /// One statement, for running on a database statement by statement: a `let` is bound
    /// for what follows (nil returned), a result gives its query or why it does not compile.
    public func compile(statement stmt: Stmt, in program: Program) -> Result<SQLQuery, Diagnostic>? {
        if source.name != program.source.name || source.text != program.source.text || programNames.isEmpty {
            programNames = names(of: program)
        }
        source = program.source
        switch stmt.kind {
        case .letBinding(let name, let value):
            // One that does not compile leaves the name unbound: what reads it fails too.
            if (try? bindLet(name, value)) == nil {
                variables[name] = nil
                scalars[name] = nil
            }
            return nil
        case .expression(let e):
            return compile(expression: e, range: stmt.range)
        default:
            return nil
        }
    }

    /// The query for one expression, or why it does not compile.
    public func compile(expression e: Expr, range: SourceRange) -> Result<SQLQuery, Diagnostic> {
        do {
            return .success(try result(e, range: range))
        } catch let f as Failure {
            return .failure(f.diagnostic)
        } catch {
            return .failure(Diagnostic(.syntax, "\(error)", at: range, in: source))
        }
    }

    /// Binds `name` to a value computed elsewhere (a `let` whose query ran on the database):
    /// later statements read it as a literal.
    public func bind(_ name: String, literal v: Value) {
        variables[name] = nil
        switch v {
        case .null: scalars[name] = SQLValue("NULL", .null)
        case .bool(let b): scalars[name] = SQLValue(dialect.bool(b), .bool)
        case .int(let n): scalars[name] = SQLValue(n < 0 ? "(\(n))" : "\(n)", .int)
        case .float(let x) where x.isFinite: scalars[name] = SQLValue(dialect.toFloat("\(x)"), .float)
        case .string(let t): scalars[name] = SQLValue(dialect.string(t), .string)
        case .date(let d): scalars[name] = SQLValue(dialect.date(KamSyntax.Calendar.format(d)), .date)
        default: scalars[name] = nil
        }
    }

    /// Whether `name` is bound to a relation the database computes (a `let` of a pipeline).
    public func bindsRelation(_ name: String) -> Bool { variables[name] != nil }

    /// The columns of a relation bound by let, with their kam types, and the entity whose
    /// rows it still holds (for a stand-in the checker reads).
    public func relationShape(_ name: String) -> (columns: [(String, SQLType)], entity: String?)? {
        variables[name].map { r in (r.columns.map { ($0.name, $0.type) }, r.entity) }
    }

    /// Whether an expression reads the dataset: an entity, a relation bound by let, or a
    /// function that reads the graph. One that does not (`sum(map([1, 2], x => x * 2))`)
    /// kam can answer with no rows at all.
    public func readsData(_ e: Expr, except columns: Set<String> = []) -> Bool {
        let names = linkNames(in: e).subtracting(columns)
        return names.contains { schema.entities[$0] != nil || variables[$0] != nil || SQLCompiler.datasetFunctions.contains($0) }
    }

    /// The built-ins that read the account graph itself.
    static let datasetFunctions: Set<String> = ["account", "schema", "org_chart", "stakeholders", "coverage", "health", "lifecycle"]

    /// Each result's query or the reason it does not compile, in the order of the results
    /// (a `let` that does not compile leaves its name unbound, so what reads it fails too).
    /// The conformance tests run what compiles of the golden corpus this way.
    public func compileEach(_ program: Program) -> [Result<SQLQuery, Diagnostic>] {
        source = program.source
        programNames = names(of: program)
        return program.statements.compactMap { compile(statement: $0, in: program) }
    }

    /// A statement's query: a table, or a one-row one-column query for a scalar.
    func result(_ e: Expr, range: SourceRange) throws -> SQLQuery {
        prepareViews()
        generation += 1
        sharingGroups = true
        defer { sharingGroups = false }
        let q = try compiledResult(e, range: range)
        try checkViews(q.sql)
        return q
    }

    func compiledResult(_ e: Expr, range: SourceRange) throws -> SQLQuery {
        let links = programNames.union(linkNames(in: e))
        // A scalar at the end of a pipeline: count, sum(amount), first ...
        if case .call(let callee, let args, true) = e.kind, case .name(let fn) = callee.kind, let inputArg = args.first,
           SQLCompiler.scalarStages.contains(fn) {
            if let input = try relation(inputArg.value, links: links, label: nil) {
                if let q = try scalarStage(fn, input, Array(args.dropFirst()), e) { return q }
            }
        }
        // `len(accounts)`, `count(orders | where ...)`: the scalar stages as calls.
        if case .call(let callee, let args, false) = e.kind, case .name(let fn) = callee.kind, let inputArg = args.first,
           ["len", "count"].contains(fn), args.count == 1, let input = try relation(inputArg.value, links: links, label: nil),
           let q = try scalarStage(fn, input, [], e) {
            return q
        }
        if case .call(let callee, _, true) = e.kind, case .name(let fn) = callee.kind, !Stages.all.contains(fn), !SQLCompiler.scalarStages.contains(fn),
           Builtins.table[fn]?.category == .verb {
            throw unsupported("the stage '\(fn)'", callee.range, hints: ["it runs in kam, with the rows in memory: --engine kam"])
        }
        guard let r = try relation(e, links: links, label: nil) else {
            throw unsupported("a value that is not a table of the dataset", e.range,
                hints: ["kam sql compiles pipelines that start at an entity: accounts | where ... | select ..."])
        }
        if let c = r.columns.first(where: { $0.type == .unknown }) {
            throw unsupported("the column '\(c.name)' (lists or records)", e.range, hints: ["select the columns that hold plain values"])
        }
        return SQLQuery(sql: query(r), columns: r.columns.map(\.name), types: r.columns.map(\.type), kind: .table, range: range)
    }

    /// The names in an expression that may be links: the base step carries their values.
    func linkNames(in e: Expr) -> Set<String> {
        var names = Set<String>()
        func walk(_ e: Expr) {
            switch e.kind {
            case .name(let n): names.insert(n)
            case .member(let b, let n): names.insert(n); walk(b)
            case .list(let xs): xs.forEach(walk)
            case .record(let fs): fs.forEach { walk($0.1) }
            case .unary(_, let x): walk(x)
            case .binary(_, let a, let b), .and(let a, let b), .or(let a, let b), .coalesce(let a, let b), .index(let a, let b):
                walk(a); walk(b)
            case .call(let c, let args, _): walk(c); args.forEach { walk($0.value) }
            case .lambda(_, let b): walk(b)
            case .interpolation(let parts): for case .expr(let x) in parts { walk(x) }
            default: break
            }
        }
        walk(e)
        // The links a stage follows without naming them.
        for (stage, links) in Self.stageLinks where names.contains(stage) { names.formUnion(links) }
        return names
    }

    static let stageLinks: [String: [String]] = ["profitability": ["orders", "contacts"], "lose": ["orders", "owner"]]

    /// The relation an expression denotes, nil when it is not a table.
    func relation(_ e: Expr, links: Set<String>, label: String?) throws -> Relation? {
        switch e.kind {
        case .name(let n):
            if let v = variables[n] { return v }
            if scalars[n] != nil { return nil }
            if schema.entities[n] != nil { return base(n, links: links) }
            return nil
        case .call(let callee, let args, let piped):
            guard case .name(let fn) = callee.kind else { return nil }
            let isStage = piped || Stages.all.contains(fn)
            guard isStage, let first = args.first, Stages.all.contains(fn) else { return nil }
            guard let input = try relation(first.value, links: links, label: nil) else {
                // The input is a stage kam sql does not compile: name that stage.
                if case .call(let c, _, true) = first.value.kind, case .name(let inner) = c.kind, !Stages.all.contains(inner) {
                    // A stage that gives one value or record (lose, concentration, count).
                    if SQLCompiler.scalarStages.contains(inner) {
                        throw unsupported("'\(fn)' after '\(inner)' (one value or record, not a table)", callee.range,
                            hints: ["end the pipeline with \(inner), and read its fields in kam: --engine kam"])
                    }
                    throw unsupported("the stage '\(inner)'", c.range, hints: ["it runs in kam, with the rows in memory: --engine kam"])
                }
                if piped { throw unsupported("'\(fn)' on a value that is not a table of the dataset", first.value.range) }
                return nil
            }
            return try stage(fn, input, Array(args.dropFirst()), e, links: links)
        default:
            return nil
        }
    }

    /// The verbs that give a table.
    enum Stages {
        static let all: Set<String> = ["where", "select", "derive", "sort", "take", "skip", "top", "aggregate", "distinct", "join", "abc", "score", "quantile", "key_accounts", "rfm", "portfolio", "profitability"]
    }

    // MARK: stages

    func stage(_ fn: String, _ input: Relation, _ args: [Arg], _ e: Expr, links: Set<String>) throws -> Relation {
        switch fn {
        case "where": return try whereStage(input, args, e)
        case "derive": return try deriveStage(input, args, e)
        case "select": return try selectStage(input, args, e)
        case "sort": return try sortStage(input, args, e)
        case "take", "skip": return try takeStage(fn, input, args, e)
        case "top": return try topStage(input, args, e)
        case "aggregate": return try aggregateStage(input, args, e)
        case "distinct": return try distinctStage(input, args, e)
        case "join": return try joinStage(input, args, e, links: links)
        case "abc": return try abcStage(input, args, e)
        case "score": return try scoreStage(input, args, e)
        case "quantile": return try quantileStage(input, args, e)
        case "key_accounts": return try keyAccountsStage(input, args, e)
        case "rfm": return try rfmStage(input, args, e)
        case "portfolio": return try portfolioStage(input, args, e)
        case "profitability": return try profitabilityStage(input, args, e)
        default: throw unsupported("the stage '\(fn)'", e.range)
        }
    }

    /// The columns a step passes on unchanged, read from its input `t`.
    func passOn(_ r: Relation, except: Set<String> = []) -> [String] {
        r.carried.filter { !except.contains($0) }.map { "t." + q($0) }
    }

    func whereStage(_ input: Relation, _ args: [Arg], _ e: Expr) throws -> Relation {
        guard args.count == 1, args[0].style == .positional else { throw fail("where takes one condition", e.range) }
        let scope = RowScope(compiler: self, relation: input)
        let cond = try scope.compile(args[0].value)
        guard cond.type == .bool || cond.type == .null else {
            throw fail("where needs a condition (true or false), got \(cond.type.name)", args[0].value.range)
        }
        let body = "SELECT \(passOn(input).joined(separator: ", ")) FROM \(q(input.name)) AS t\(scope.joinSQL) WHERE \(cond.sql)"
        return add(input, "where", body, columns: input.columns, entity: input.entity, hidden: input.hidden)
    }

    /// Window specification for the row order, within groups when `by` is given.
    func window(_ partition: [String]) -> String {
        (partition.isEmpty ? "" : "PARTITION BY \(partition.joined(separator: ", ")) ") + "ORDER BY t.\(q("__ord"))"
    }

    func deriveStage(_ input: Relation, _ args: [Arg], _ e: Expr) throws -> Relation {
        var rel = input
        let byArgs = args.filter { $0.clause == "by" }
        let assigns = args.filter { $0.clause == nil }
        // Each assignment sees the ones before it: a new step when it reads a column the
        // current step defines.
        var pending: [(String, SQLValue)] = []
        var pendingScope: RowScope? = nil
        func flush() {
            guard let scope = pendingScope, !pending.isEmpty else { return }
            let defined = Set(pending.map(\.0))
            var select = passOn(rel, except: defined)
            var cols = rel.columns.filter { !defined.contains($0.name) }
            // Replaced columns keep their place; new ones go at the end.
            var ordered: [Col] = []
            for c in rel.columns {
                if let p = pending.first(where: { $0.0 == c.name }) { ordered.append(Col(name: c.name, type: p.1.type)) } else { ordered.append(c) }
            }
            for p in pending where rel.column(p.0) == nil { ordered.append(Col(name: p.0, type: p.1.type)) }
            cols = ordered
            select = cols.map { c in pending.first { $0.0 == c.name }.map { "\($0.1.sql) AS \(q(c.name))" } ?? "t." + q(c.name) }
                + ["t." + q("__ord")] + rel.hidden.map { "t." + q($0) }
            let body = "SELECT \(select.joined(separator: ", ")) FROM \(q(rel.name)) AS t\(scope.joinSQL)"
            rel = add(rel, "derive", body, columns: cols, entity: rel.entity, hidden: rel.hidden)
            pending = []
            pendingScope = nil
        }
        for a in assigns {
            guard a.style == .assign, let name = a.name else {
                throw fail("derive takes NAME = expression", a.value.range, hints: ["derive revenue = sum(orders.amount)"])
            }
            if pendingScope != nil, reads(a.value, pending.map(\.0)) { flush() }
            if pendingScope == nil {
                let scope = RowScope(compiler: self, relation: rel)
                scope.partition = try byArgs.map { try scope.compile($0.value).sql }
                pendingScope = scope
            }
            guard let scope = pendingScope else { continue }
            let v = try scope.compile(a.value)
            pending.removeAll { $0.0 == name }
            pending.append((name, v))
        }
        flush()
        return rel
    }

    /// Whether `e` reads any of `names` as a column.
    func reads(_ e: Expr, _ names: [String]) -> Bool {
        !linkNames(in: e).isDisjoint(with: names)
    }

    func selectStage(_ input: Relation, _ args: [Arg], _ e: Expr) throws -> Relation {
        let scope = RowScope(compiler: self, relation: input)
        var cols: [Col] = []
        var select: [String] = []
        for a in args {
            let name: String
            switch a.style {
            case .assign: name = a.name ?? Verbs.naturalName(a.value, source: source)
            case .positional: name = a.alias ?? Verbs.naturalName(a.value, source: source)
            case .named: throw fail("select takes columns, not named options", a.value.range)
            }
            let v = try scope.compile(a.value)
            if cols.contains(where: { $0.name == name }) { throw fail("duplicate column '\(name)' in select", a.value.range) }
            cols.append(Col(name: name, type: v.type))
            select.append("\(v.sql) AS \(q(name))")
        }
        select.append("t." + q("__ord"))
        select += input.hidden.map { "t." + q($0) }
        let body = "SELECT \(select.joined(separator: ", ")) FROM \(q(input.name)) AS t\(scope.joinSQL)"
        return add(input, "select", body, columns: cols, entity: input.entity, hidden: input.hidden)
    }

    /// `key ASC|DESC NULLS LAST` for each sort key; `-key` sorts descending.
    func orderKeys(_ scope: RowScope, _ args: [Arg], descendingAll: Bool = false) throws -> [String] {
        try args.map { a in
            let (x, negated) = Verbs.sortKey(a.value)
            let descending = negated ? !descendingAll : descendingAll
            let v = try scope.compile(x)
            guard v.type != .unknown else { throw fail("cannot sort by \(v.type.name)", a.value.range) }
            return "\(dialect.byteOrder(v.sql, v.type)) \(descending ? "DESC" : "ASC") NULLS LAST"
        }
    }

    func sortStage(_ input: Relation, _ args: [Arg], _ e: Expr) throws -> Relation {
        let scope = RowScope(compiler: self, relation: input)
        let keys = try orderKeys(scope, args) + ["t." + q("__ord")]
        var select = input.columns.map { "t." + q($0.name) }
        select.append("ROW_NUMBER() OVER (ORDER BY \(keys.joined(separator: ", "))) AS \(q("__ord"))")
        select += input.hidden.map { "t." + q($0) }
        let body = "SELECT \(select.joined(separator: ", ")) FROM \(q(input.name)) AS t\(scope.joinSQL)"
        return add(input, "sort", body, columns: input.columns, entity: input.entity, hidden: input.hidden)
    }

    func count(_ a: Arg, _ what: String) throws -> Int64 {
        guard case .int(let n) = a.value.kind, n >= 0 else {
            if case .unary(.negate, _) = a.value.kind { throw fail("\(what) needs a count of 0 or more", a.value.range) }
            if let c = try? constant(a.value), case .int = c.type, let n = Int64(c.sql), n >= 0 { return n }
            throw fail("\(what) needs a whole number", a.value.range)
        }
        return n
    }

    func takeStage(_ fn: String, _ input: Relation, _ args: [Arg], _ e: Expr) throws -> Relation {
        guard args.count == 1 else { throw fail("\(fn) takes a number of rows", e.range) }
        let n = try count(args[0], fn)
        let limit = fn == "take" ? "LIMIT \(n)" : dialect.offset(n)
        let body = "SELECT \(passOn(input).joined(separator: ", ")) FROM \(q(input.name)) AS t ORDER BY t.\(q("__ord")) \(limit)"
        return add(input, fn, body, columns: input.columns, entity: input.entity, hidden: input.hidden)
    }

    func topStage(_ input: Relation, _ args: [Arg], _ e: Expr) throws -> Relation {
        guard let nArg = args.first(where: { $0.clause == nil }), let by = args.first(where: { $0.clause == "by" }) else {
            throw fail("top needs a count and by: top 10 by revenue", e.range)
        }
        let n = try count(nArg, "top")
        let scope = RowScope(compiler: self, relation: input)
        let v = try scope.compile(by.value)
        guard v.type.isNumber || v.type == .date || v.type == .string || v.type == .null else {
            throw fail("top ranks by a number, date or text, got \(v.type.name)", by.value.range)
        }
        // The N rows first (a top-N, not a sort of every row), then numbered in that order.
        let order = "\(dialect.byteOrder(v.sql, v.type)) DESC NULLS LAST, t.\(q("__ord"))"
        var first = input.columns.map { "t." + q($0.name) } + input.hidden.map { "t." + q($0) }
        first.append("t.\(q("__ord")) AS \(q("__in_ord"))")
        first.append("\(v.sql) AS \(q("__by"))")
        let picked = add(input, "top_rows", "SELECT \(first.joined(separator: ", ")) FROM \(q(input.name)) AS t\(scope.joinSQL) ORDER BY \(order) LIMIT \(n)",
                         columns: input.columns, entity: input.entity, hidden: input.hidden + ["__in_ord", "__by"])
        var select = input.columns.map { "t." + q($0.name) }
        select.append("ROW_NUMBER() OVER (ORDER BY \(dialect.byteOrder("t." + q("__by"), v.type)) DESC NULLS LAST, t.\(q("__in_ord"))) AS \(q("__ord"))")
        select += input.hidden.map { "t." + q($0) }
        return add(picked, "top", "SELECT \(select.joined(separator: ", ")) FROM \(q(picked.name)) AS t",
                   columns: input.columns, entity: input.entity, hidden: input.hidden)
    }

    func aggregateStage(_ input: Relation, _ args: [Arg], _ e: Expr) throws -> Relation {
        let scope = RowScope(compiler: self, relation: input)
        var cols: [Col] = []
        var select: [String] = []
        var groups: [String] = []
        var orderBy: [String] = []
        for k in args where k.clause == "by" {
            let v = try scope.compile(k.value)
            let name = k.style == .assign ? (k.name ?? "") : (k.alias ?? Verbs.naturalName(k.value, source: source))
            if cols.contains(where: { $0.name == name }) { throw fail("duplicate column '\(name)' in aggregate", k.value.range) }
            cols.append(Col(name: name, type: v.type))
            select.append("\(v.sql) AS \(q(name))")
            groups.append(v.sql)
            orderBy.append("\(dialect.byteOrder(v.sql, v.type)) ASC NULLS LAST")
        }
        scope.aggregating = true
        for a in args where a.clause == nil {
            guard a.style == .assign || a.style == .positional else { throw fail("aggregate takes NAME = aggregate", a.value.range) }
            let name = a.style == .assign ? (a.name ?? "") : (a.alias ?? Verbs.naturalName(a.value, source: source))
            let v = try scope.compile(a.value)
            if cols.contains(where: { $0.name == name }) { throw fail("duplicate column '\(name)' in aggregate", a.value.range) }
            cols.append(Col(name: name, type: v.type))
            select.append("\(v.sql) AS \(q(name))")
        }
        select.append(groups.isEmpty ? "1 AS \(q("__ord"))" : "ROW_NUMBER() OVER (ORDER BY \(orderBy.joined(separator: ", "))) AS \(q("__ord"))")
        let group = groups.isEmpty ? "" : " GROUP BY \(groups.joined(separator: ", "))"
        let body = "SELECT \(select.joined(separator: ", ")) FROM \(q(input.name)) AS t\(scope.joinSQL)\(group)"
        var r = add(input, "aggregate", body, columns: cols, entity: nil, hidden: [])
        r.label = nil
        return r
    }

    func distinctStage(_ input: Relation, _ args: [Arg], _ e: Expr) throws -> Relation {
        let scope = RowScope(compiler: self, relation: input)
        var cols: [Col] = []
        var select: [String] = []
        var groups: [String] = []
        if args.isEmpty {
            for c in input.columns {
                cols.append(c)
                select.append("t." + q(c.name))
                groups.append("t." + q(c.name))
            }
        } else {
            for a in args {
                let name = a.style == .assign ? (a.name ?? "") : (a.alias ?? Verbs.naturalName(a.value, source: source))
                let v = try scope.compile(a.value)
                cols.append(Col(name: name, type: v.type))
                select.append("\(v.sql) AS \(q(name))")
                groups.append(v.sql)
            }
        }
        select.append("MIN(t.\(q("__ord"))) AS \(q("__ord"))")
        let body = "SELECT \(select.joined(separator: ", ")) FROM \(q(input.name)) AS t\(scope.joinSQL) GROUP BY \(groups.joined(separator: ", "))"
        return add(input, "distinct", body, columns: cols, entity: nil, hidden: [])
    }

    func joinStage(_ input: Relation, _ args: [Arg], _ e: Expr, links: Set<String>) throws -> Relation {
        guard let tableArg = args.first(where: { $0.clause == nil && $0.style == .positional }),
              let on = args.first(where: { $0.clause == "on" }) else {
            throw fail("join needs a table and an 'on' condition: join products on product_id == id", e.range)
        }
        var side = "inner"
        if let s = args.first(where: { $0.style == .named && $0.name == "side" }) {
            guard case .string(let v) = s.value.kind, v == "left" || v == "inner" else { throw fail("side is \"inner\" or \"left\"", s.value.range) }
            side = v
        }
        guard var right = try relation(tableArg.value, links: [], label: nil) else {
            throw unsupported("a join with a value that is not a table of the dataset", tableArg.value.range)
        }
        if right.label == nil, case .name(let n) = tableArg.value.kind { right.label = n }
        // The conditions: left_key == right_key, joined with and.
        var pairs: [(Expr, Expr)] = []
        func collect(_ x: Expr) throws {
            switch x.kind {
            case .and(let a, let b): try collect(a); try collect(b)
            case .binary(.eq, let l, let r): pairs.append((l, r))
            default: throw fail("join needs equality conditions: left_key == right_key", x.range)
            }
        }
        try collect(on.value)
        let left = RowScope(compiler: self, relation: input)
        let rightScope = RowScope(compiler: self, relation: right, alias: "r")
        var conds: [String] = []
        for (l, r) in pairs {
            let a = try left.compile(l), b = try rightScope.compile(r)
            conds.append("\(a.sql) = \(b.sql)")
        }
        guard left.joins.isEmpty && rightScope.joins.isEmpty else {
            throw unsupported("a join key read through a link", on.value.range, hints: ["derive the key first: derive k = account.id | join ..."])
        }
        // Clashing names take the joined table's name as a prefix.
        var names = input.columns.map(\.name)
        var cols = input.columns
        var select = input.columns.map { "t." + q($0.name) }
        let prefix = right.label ?? "right"
        for c in right.columns {
            var name = c.name
            if names.contains(name) { name = prefix + "_" + c.name }
            var k = 2
            while names.contains(name) { name = prefix + "_" + c.name + "_\(k)"; k += 1 }
            names.append(name)
            cols.append(Col(name: name, type: c.type))
            select.append("r.\(q(c.name)) AS \(q(name))")
        }
        select.append("ROW_NUMBER() OVER (ORDER BY t.\(q("__ord")), r.\(q("__ord"))) AS \(q("__ord"))")
        var merged = input
        for c in right.ctes where !merged.ctes.contains(where: { $0.name == c.name }) { merged.ctes.append(c) }
        let kind = side == "left" ? "LEFT JOIN" : "JOIN"
        let body = "SELECT \(select.joined(separator: ", ")) FROM \(q(input.name)) AS t \(kind) \(q(right.name)) AS r ON \(conds.joined(separator: " AND "))"
        return add(merged, "join", body, columns: cols, entity: nil, hidden: [])
    }

    // MARK: scalar results

    static let scalarStages: Set<String> = ["concentration", "lose", "count", "len", "first", "sum", "avg", "min", "max", "count_distinct", "median", "percentile", "stddev"]

    /// `| count`, `| first`, `| sum(amount)` and the other aggregates as a stage.
    func scalarStage(_ fn: String, _ input: Relation, _ args: [Arg], _ e: Expr) throws -> SQLQuery? {
        switch fn {
        case "count" where args.isEmpty, "len" where args.isEmpty:
            let sql = queryWith(input, "SELECT COUNT(*) AS \(q("count")) FROM \(q(input.name))")
            return SQLQuery(sql: sql, columns: ["count"], types: [.int], kind: .scalar, range: e.range)
        case "first" where args.isEmpty:
            var r = input
            r = add(r, "first", "SELECT \(passOn(input).joined(separator: ", ")) FROM \(q(input.name)) AS t ORDER BY t.\(q("__ord")) LIMIT 1",
                    columns: input.columns, entity: input.entity, hidden: input.hidden)
            return SQLQuery(sql: query(r), columns: r.columns.map(\.name), types: r.columns.map(\.type), kind: .row, range: e.range)
        case "concentration":
            return try concentration(input, args, e)
        case "lose":
            return try lose(input, args, e)
        case "sum", "avg", "min", "max", "count", "count_distinct", "median", "percentile", "stddev":
            let scope = RowScope(compiler: self, relation: input)
            scope.aggregating = true
            let call = Expr(.call(callee: Expr(.name(fn), e.range), args: args, piped: false), e.range)
            let v = try scope.compile(call)
            let sql = queryWith(input, "SELECT \(v.sql) AS \(q(fn)) FROM \(q(input.name)) AS t\(scope.joinSQL)")
            return SQLQuery(sql: sql, columns: [fn], types: [v.type], kind: .scalar, range: e.range)
        default:
            return nil
        }
    }

    // MARK: analytics stages

    /// The value an analytics stage reads (`abc revenue`, `value: revenue`), checked to be a
    /// number of 0 or more: a negative value stops the query, as kam stops.
    func stageValue(_ stage: String, _ input: Relation, _ args: [Arg], _ e: Expr, _ scope: RowScope) throws -> (sql: String, name: String) {
        guard let arg = args.first(where: { $0.style == .named && $0.name == "value" }) ?? args.first(where: { $0.style == .positional }) else {
            throw fail("\(stage) needs the value: accounts | \(stage) revenue", e.range)
        }
        let v = try scope.compile(arg.value)
        guard v.type.isNumber || v.type == .null else { throw fail("\(stage) needs numbers, got \(v.type.name)", arg.value.range) }
        let name = Verbs.naturalName(arg.value, source: source)
        let x = dialect.toFloat(v.sql)
        let guarded = "(CASE WHEN \(x) < 0 THEN \(dialect.raise("\(stage) needs values of 0 or more, \(name) is", value: x, as: .float)) ELSE \(x) END)"
        return (guarded, name)
    }

    /// `abc VALUE`: the ABC classes of Pareto analysis, as kam's abc: largest first (ties
    /// in input order, nulls last), share, cumulative share, and the class where the row's
    /// share starts (A below the first cut, B below the second, C after).
    func abcStage(_ input: Relation, _ args: [Arg], _ e: Expr) throws -> Relation {
        for a in args where a.style == .named && a.name != "value" && a.name != "cuts" {
            throw fail("abc has no option '\(a.name ?? "")'", a.value.range)
        }
        var cuts = (0.8, 0.95)
        if let c = args.first(where: { $0.style == .named && $0.name == "cuts" }) {
            guard case .list(let xs) = c.value.kind, xs.count == 2, let a = Self.number(xs[0]), let b = Self.number(xs[1]), a > 0, a < b, b <= 1 else {
                throw fail("cuts must be two increasing shares between 0 and 1: cuts: [0.8, 0.95]", c.value.range)
            }
            cuts = (a, b)
        }
        let scope = RowScope(compiler: self, relation: input)
        let (guarded, _) = try stageValue("abc", input, args, e, scope)
        let ord = q("__ord")
        // Step 1: the value (checked once); step 2: the total and the new order.
        let kept = input.columns.filter { !["share", "cum_share", "class"].contains($0.name) }
        let valued = add(input, "abc_value", "SELECT \((passOn(input, except: ["share", "cum_share", "class"]) + ["\(guarded) AS \(q("__v"))"]).joined(separator: ", ")) FROM \(q(input.name)) AS t\(scope.joinSQL)",
                         columns: kept, entity: input.entity, hidden: input.hidden + ["__v"])
        let v = "t." + q("__v")
        var first = kept.map { "t." + q($0.name) } + valued.hidden.map { "t." + q($0) }
        // One order for the numbering and the running sums, so the engine sorts once.
        let w = "ORDER BY \(v) DESC NULLS LAST, t.\(ord)"
        first.append("\(dialect.floatSum(v, over: "")) AS \(q("__total"))")
        first.append("ROW_NUMBER() OVER (\(w)) AS \(ord)")
        first.append("\(dialect.floatSum(v, over: "\(w) ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW")) AS \(q("__run"))")
        let step1 = add(valued, "abc_order", "SELECT \(first.joined(separator: ", ")) FROM \(q(valued.name)) AS t",
                        columns: kept, entity: input.entity, hidden: input.hidden + ["__v", "__total", "__run"])
        // Step 2: shares and classes. Where a row's share starts is the running sum before
        // it, the running sum less the row (one window fewer; the cuts allow for the last
        // bit, as kam's do).
        let running = "t." + q("__run")
        let before = "(\(running) - t.\(q("__v")))"
        let v2 = "t.\(q("__v"))", total = "t.\(q("__total"))"
        var second = kept.map { "t." + q($0.name) }
        second.append("(CASE WHEN \(v2) IS NULL THEN NULL WHEN \(total) > 0 THEN \(v2) / NULLIF(\(total), 0) ELSE \(dialect.toFloat("0")) END) AS \(q("share"))")
        second.append("(CASE WHEN \(v2) IS NULL THEN NULL WHEN \(total) > 0 THEN \(running) / NULLIF(\(total), 0) ELSE \(dialect.toFloat("1")) END) AS \(q("cum_share"))")
        second.append("(CASE WHEN \(v2) IS NULL THEN NULL WHEN NOT (\(total) > 0) THEN 'C' WHEN \(before) / NULLIF(\(total), 0) < \(cuts.0) - 1e-12 THEN 'A' "
            + "WHEN \(before) / NULLIF(\(total), 0) < \(cuts.1) - 1e-12 THEN 'B' ELSE 'C' END) AS \(q("class"))")
        second.append("t.\(ord)")
        second += input.hidden.map { "t." + q($0) }
        return add(step1, "abc", "SELECT \(second.joined(separator: ", ")) FROM \(q(step1.name)) AS t",
                   columns: kept + [Col(name: "share", type: .float), Col(name: "cum_share", type: .float), Col(name: "class", type: .string)],
                   entity: input.entity, hidden: input.hidden)
    }

    /// `score {revenue: 0.5, recency: -0.2}` (scale: "minmax" or "rank"), as kam's score:
    /// each criterion scaled to 1-10 over the rows (5.5 when all are equal; reversed for a
    /// negative weight; by average rank with scale: "rank"), and the score the weighted mean
    /// of the criteria a row has.
    func scoreStage(_ input: Relation, _ args: [Arg], _ e: Expr) throws -> Relation {
        for a in args where a.style == .named && a.name != "scale" {
            throw unsupported("score's option '\(a.name ?? "")'", a.value.range)
        }
        var scale = "minmax"
        if let a = args.first(where: { $0.style == .named && $0.name == "scale" }) {
            guard case .string(let v) = a.value.kind, v == "minmax" || v == "rank" else {
                throw fail("scale must be \"minmax\" or \"rank\"", a.value.range)
            }
            scale = v
        }
        guard let weightsArg = args.first(where: { $0.style == .positional }), case .record(let fields) = weightsArg.value.kind else {
            throw unsupported("score without a record of weights written out", args.first?.value.range ?? e.range,
                hints: ["write the weights in the stage: score {revenue: 0.5, recency: -0.2}"])
        }
        var criteria: [(name: String, weight: Double)] = []
        for (name, w) in fields {
            var x = w
            var sign = 1.0
            if case .unary(.negate, let inner) = x.kind { x = inner; sign = -1 }
            guard let v = Self.number(x) else { throw unsupported("a weight that is not a number written out", w.range) }
            guard input.column(name) != nil else {
                throw fail("no column '\(name)' to score", w.range, hints: [Suggest.hint(name, in: input.columns.map(\.name)) ?? "derive it first: derive \(name) = ..."])
            }
            criteria.append((name, sign * v))
        }
        guard criteria.contains(where: { $0.weight != 0 }) else { throw fail("all weights are zero", weightsArg.value.range) }
        let newNames = ["score"] + criteria.map { "score_" + $0.name }
        // Step 1: each criterion's value as a float (its average rank for scale: "rank").
        var first = passOn(input)
        for (k, c) in criteria.enumerated() {
            guard let col = input.column(c.name), col.type.isNumber || col.type == .null else {
                throw fail("score criterion '\(c.name)' needs numbers", weightsArg.value.range)
            }
            let x = dialect.toFloat("t." + q(c.name))
            if scale == "rank" {
                let rank = "(RANK() OVER (ORDER BY \(x) ASC NULLS LAST) + COUNT(*) OVER (PARTITION BY \(x)) - 1 + RANK() OVER (ORDER BY \(x) ASC NULLS LAST))"
                first.append("(CASE WHEN \(x) IS NULL THEN NULL ELSE \(dialect.toFloat(rank)) / 2 END) AS \(q("__c\(k)"))")
            } else {
                first.append("\(x) AS \(q("__c\(k)"))")
            }
        }
        let hiddenValues = criteria.indices.map { "__c\($0)" }
        let valued = add(input, "score_value", "SELECT \(first.joined(separator: ", ")) FROM \(q(input.name)) AS t",
                         columns: input.columns, entity: input.entity, hidden: input.hidden + hiddenValues)
        // Step 2: each criterion on 1-10.
        var second = input.columns.filter { !newNames.contains($0.name) }.map { "t." + q($0.name) } + ["t." + q("__ord")] + input.hidden.map { "t." + q($0) }
        for (k, c) in criteria.enumerated() {
            let x = "t." + q("__c\(k)")
            let lo = "MIN(\(x)) OVER ()", hi = "MAX(\(x)) OVER ()"
            let scaled = c.weight < 0 ? "1 + 9 * (\(hi) - \(x)) / (\(hi) - \(lo))" : "1 + 9 * (\(x) - \(lo)) / (\(hi) - \(lo))"
            second.append("(CASE WHEN \(x) IS NULL THEN NULL WHEN \(hi) = \(lo) THEN \(dialect.toFloat("5.5")) ELSE \(scaled) END) AS \(q("score_" + c.name))")
        }
        let kept = input.columns.filter { !newNames.contains($0.name) }
        let scaledCols = criteria.map { Col(name: "score_" + $0.name, type: .float) }
        let scaledRel = add(valued, "score_scale", "SELECT \(second.joined(separator: ", ")) FROM \(q(valued.name)) AS t",
                            columns: kept + scaledCols, entity: input.entity, hidden: input.hidden)
        // Step 3: the weighted mean over the criteria a row has, in kam's order of terms.
        var sum = dialect.toFloat("0.0"), weight = dialect.toFloat("0.0")
        for c in criteria {
            let s = "t." + q("score_" + c.name)
            let w = "\(abs(c.weight))"
            sum = "(\(sum) + COALESCE(\(dialect.toFloat(w)) * \(s), \(dialect.toFloat("0.0"))))"
            weight = "(\(weight) + (CASE WHEN \(s) IS NULL THEN \(dialect.toFloat("0.0")) ELSE \(dialect.toFloat(w)) END))"
        }
        // The columns in kam's order: the input's (score replaced in place if it was there),
        // then score, then each criterion's scaled value.
        var cols: [Col] = []
        var select: [String] = []
        let scoreSQL = "(CASE WHEN \(weight) > 0 THEN \(sum) / \(weight) ELSE NULL END)"
        for c in input.columns {
            if c.name == "score" { cols.append(Col(name: "score", type: .float)); select.append("\(scoreSQL) AS \(q("score"))") }
            else if let sc = scaledCols.first(where: { $0.name == c.name }) { cols.append(sc); select.append("t." + q(sc.name)) }
            else { cols.append(c); select.append("t." + q(c.name)) }
        }
        for n in newNames where !cols.contains(where: { $0.name == n }) {
            cols.append(Col(name: n, type: .float))
            select.append(n == "score" ? "\(scoreSQL) AS \(q("score"))" : "t." + q(n))
        }
        select.append("t." + q("__ord"))
        select += input.hidden.map { "t." + q($0) }
        return add(scaledRel, "score", "SELECT \(select.joined(separator: ", ")) FROM \(q(scaledRel.name)) AS t",
                   columns: cols, entity: input.entity, hidden: input.hidden)
    }

    /// A named option's value written out: an int, or a string.
    func intOption(_ args: [Arg], _ name: String) throws -> Int64? {
        guard let a = args.first(where: { $0.style == .named && $0.name == name }) else { return nil }
        guard case .int(let n) = a.value.kind else { throw unsupported("\(name): that is not a whole number written out", a.value.range) }
        return n
    }

    func stringOption(_ args: [Arg], _ name: String) throws -> String? {
        guard let a = args.first(where: { $0.style == .named && $0.name == name }) else { return nil }
        guard case .string(let v) = a.value.kind else { throw unsupported("\(name): that is not a text written out", a.value.range) }
        return v
    }

    /// Appends `extra` columns to a step's output as kam's stages add columns: one of the
    /// same name is replaced in place, new ones go at the end.
    func adding(_ input: Relation, _ extra: [(String, String, SQLType)], step: String, from: String, joins: String = "",
                helpers: [(String, String)] = [], keepHidden: [String]? = nil) -> Relation {
        var cols: [Col] = []
        var select: [String] = []
        for c in input.columns {
            if let x = extra.first(where: { $0.0 == c.name }) { cols.append(Col(name: c.name, type: x.2)); select.append("\(x.1) AS \(q(c.name))") }
            else { cols.append(c); select.append("t." + q(c.name)) }
        }
        for x in extra where input.column(x.0) == nil {
            cols.append(Col(name: x.0, type: x.2))
            select.append("\(x.1) AS \(q(x.0))")
        }
        select.append("t." + q("__ord"))
        let hidden = keepHidden ?? input.hidden
        select += hidden.map { "t." + q($0) }
        select += helpers.map { "\($0.1) AS \(q($0.0))" }
        return add(input, step, "SELECT \(select.joined(separator: ", ")) FROM \(q(from)) AS t\(joins)", columns: cols, entity: input.entity,
                   hidden: hidden + helpers.map(\.0))
    }

    /// `quantile VALUE, n: 5` (name: "q"): groups 1...n by ascending value, row k of m (ties
    /// in input order) in group floor(k n / m) + 1, equal values in the group of the first.
    func quantileStage(_ input: Relation, _ args: [Arg], _ e: Expr) throws -> Relation {
        for a in args where a.style == .named && !["n", "name", "value"].contains(a.name ?? "") {
            throw fail("quantile has no option '\(a.name ?? "")'", a.value.range)
        }
        let n = try intOption(args, "n") ?? 5
        guard n >= 2, n <= 1000 else { throw fail("n must be a whole number from 2 to 1000", e.range) }
        let name = try stringOption(args, "name") ?? "quantile"
        guard let arg = args.first(where: { $0.style == .named && $0.name == "value" }) ?? args.first(where: { $0.style == .positional }) else {
            throw fail("quantile needs the value to group by: accounts | quantile revenue, n: 5", e.range)
        }
        let scope = RowScope(compiler: self, relation: input)
        let v = try scope.compile(arg.value)
        guard v.type.isNumber || v.type == .null else { throw fail("quantile needs numbers, got \(v.type.name)", arg.value.range) }
        let x = dialect.toFloat(v.sql)
        let valued = adding(input, [], step: "quantile_value", from: input.name, joins: scope.joinSQL, helpers: [("__qv", x)])
        let qv = "t." + q("__qv")
        let k = "(RANK() OVER (ORDER BY \(qv) ASC NULLS LAST) - 1)"
        let group = "(CASE WHEN \(qv) IS NULL THEN NULL ELSE \(dialect.floorDiv("\(k) * \(n)", "COUNT(\(qv)) OVER ()")) + 1 END)"
        return adding(valued, [(name, group, .int)], step: "quantile", from: valued.name, keepHidden: input.hidden)
    }

    /// `key_accounts` (per_manager: 5, limit: N, by: "score", manager: "owner_id"), as kam's:
    /// best score first (ties in input order), a row is key while fewer than `limit` are and
    /// its manager has fewer than `per_manager`; left_out when it would have been chosen on
    /// score alone but its manager was full.
    func keyAccountsStage(_ input: Relation, _ args: [Arg], _ e: Expr) throws -> Relation {
        for a in args where a.style == .named && !["per_manager", "limit", "by", "manager"].contains(a.name ?? "") {
            throw fail("key_accounts has no option '\(a.name ?? "")'", a.value.range)
        }
        let per = try intOption(args, "per_manager") ?? 5
        guard per >= 1, per <= 1000 else { throw fail("per_manager must be a whole number from 1", e.range) }
        let limit = try intOption(args, "limit")
        if let limit, limit < 0 { throw fail("limit must be a whole number of 0 or more", e.range) }
        let by = try stringOption(args, "by") ?? "score"
        let manager = try stringOption(args, "manager") ?? "owner_id"
        guard let scoreCol = input.column(by), scoreCol.type.isNumber || scoreCol.type == .null else {
            throw fail("no number column '\(by)' to choose key accounts by", e.range, hints: ["score them first: | score {...} | key_accounts"])
        }
        guard let managerCol = input.column(manager) else {
            throw fail("no column '\(manager)' for the managers", e.range, hints: ["name the column that says who manages each account: manager: \"owner_id\""])
        }
        let s = "t." + q(by), m = "t." + q(manager), ord = "t." + q("__ord")
        let order = "ORDER BY \(s) DESC, \(ord)"
        let ranked = adding(input, [], step: "key_rank", from: input.name, helpers: [
            ("__mr", "(CASE WHEN \(s) IS NULL THEN NULL ELSE ROW_NUMBER() OVER (PARTITION BY \(m), \(s) IS NULL \(order)) END)"),
            ("__pos", "(CASE WHEN \(s) IS NULL THEN NULL ELSE ROW_NUMBER() OVER (PARTITION BY \(s) IS NULL \(order)) - 1 END)"),
            ("__n", "COUNT(\(s)) OVER ()"),
        ])
        let mr = "t." + q("__mr"), pos = "t." + q("__pos"), count = "t." + q("__n")
        let eligible = "(\(mr) IS NOT NULL AND \(mr) <= \(per))"
        let running = "CAST(SUM(CASE WHEN \(eligible) THEN 1 ELSE 0 END) OVER (ORDER BY \(pos) ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT)"
        let counted = adding(ranked, [], step: "key_count", from: ranked.name, helpers: [("__run", "(CASE WHEN \(eligible) THEN \(running) ELSE NULL END)")])
        let run = "t." + q("__run")
        let isKey = limit.map { "(\(run) IS NOT NULL AND \(run) <= \($0))" } ?? "(\(run) IS NOT NULL)"
        let window = limit.map { "LEAST(\($0), \(count))" } ?? count
        let leastWindow = dialect == .sqlite ? window.replacingOccurrences(of: "LEAST(", with: "min(") : window
        return adding(counted, [
            ("key", "COALESCE(\(isKey), \(dialect.bool(false)))", .bool),
            ("key_rank", "(CASE WHEN \(isKey) THEN \(run) ELSE NULL END)", .int),
            ("key_manager", "(CASE WHEN \(isKey) THEN \(m) ELSE NULL END)", managerCol.type),
            ("left_out", "COALESCE(\(mr) > \(per) AND \(pos) < \(leastWindow), \(dialect.bool(false)))", .bool),
        ], step: "key_accounts", from: counted.name, keepHidden: input.hidden)
    }

    /// `rfm recency: ..., frequency: ..., monetary: ...`, as kam's: each on 1-5 by quintile
    /// group (fewer days since scores higher), the code "543" and the first named segment
    /// whose rule it meets.
    func rfmStage(_ input: Relation, _ args: [Arg], _ e: Expr) throws -> Relation {
        for a in args where a.style != .named || !["recency", "frequency", "monetary"].contains(a.name ?? "") {
            throw fail("rfm takes recency:, frequency: and monetary:", a.value.range)
        }
        let scope = RowScope(compiler: self, relation: input)
        var helpers: [(String, String)] = []
        for role in ["recency", "frequency", "monetary"] {
            guard let a = args.first(where: { $0.name == role }) else {
                throw fail("rfm needs \(role): an expression per account", e.range,
                    hints: ["usage: accounts | rfm recency: days_since(max(orders.date)), frequency: count(orders), monetary: sum(orders.amount)"])
            }
            let v = try scope.compile(a.value)
            guard v.type.isNumber || v.type == .null || v.type == .duration else { throw fail("rfm \(role) needs numbers, got \(v.type.name)", a.value.range) }
            helpers.append(("__" + role, dialect.toFloat(v.sql)))
        }
        let valued = adding(input, [], step: "rfm_value", from: input.name, joins: scope.joinSQL, helpers: helpers)
        func group(_ role: String, descending: Bool) -> String {
            let x = "t." + q("__" + role)
            let k = "(RANK() OVER (ORDER BY \(x) \(descending ? "DESC" : "ASC") NULLS LAST) - 1)"
            return "(CASE WHEN \(x) IS NULL THEN NULL ELSE \(dialect.floorDiv("\(k) * 5", "COUNT(\(x)) OVER ()")) + 1 END)"
        }
        let scored = adding(valued, [("r_score", group("recency", descending: true), .int), ("f_score", group("frequency", descending: false), .int),
                                     ("m_score", group("monetary", descending: false), .int)], step: "rfm_score", from: valued.name, keepHidden: input.hidden)
        let r = "t." + q("r_score"), f = "t." + q("f_score"), m = "t." + q("m_score")
        let rules = [
            ("champions", "\(r) >= 4 AND \(f) >= 4 AND \(m) >= 4"), ("loyal", "\(r) >= 3 AND \(f) >= 4"), ("big spenders", "\(r) >= 3 AND \(m) >= 5"),
            ("new", "\(r) >= 4 AND \(f) <= 2"), ("promising", "\(r) >= 3 AND \(f) <= 3"), ("at risk", "\(r) <= 2 AND \(f) >= 3"),
            ("hibernating", "\(r) <= 2 AND \(f) <= 2"),
        ]
        let any = "\(r) IS NULL OR \(f) IS NULL OR \(m) IS NULL"
        let text = dialect.typeName(.string)
        let code = "(CASE WHEN \(any) THEN NULL ELSE CAST(\(r) AS \(text)) || CAST(\(f) AS \(text)) || CAST(\(m) AS \(text)) END)"
        let segment = "(CASE WHEN \(any) THEN NULL " + rules.map { "WHEN \($0.1) THEN \(dialect.string($0.0))" }.joined(separator: " ") + " ELSE 'needs attention' END)"
        return adding(scored, [("rfm", code, .string), ("segment", segment, .string)], step: "rfm", from: scored.name)
    }

    /// `portfolio attractiveness: ..., strength: ...` (split:, labels:), as kam's: the
    /// quadrant by each value at or above its split, the median unless split says otherwise.
    func portfolioStage(_ input: Relation, _ args: [Arg], _ e: Expr) throws -> Relation {
        for a in args where a.style != .named || !["attractiveness", "strength", "split", "labels"].contains(a.name ?? "") {
            throw fail("portfolio takes attractiveness:, strength:, split: and labels:", a.value.range)
        }
        guard let aArg = args.first(where: { $0.name == "attractiveness" }), let sArg = args.first(where: { $0.name == "strength" }) else {
            throw fail("portfolio needs attractiveness and strength", e.range, hints: ["usage: accounts | portfolio attractiveness: score, strength: share_of_wallet"])
        }
        var labels = ["strategic", "key development", "maintenance", "opportunistic"]
        let names = labels
        if let l = args.first(where: { $0.name == "labels" }) {
            guard case .record(let fields) = l.value.kind else { throw unsupported("labels that are not written out", l.value.range) }
            for (k, v) in fields {
                guard let i = names.firstIndex(of: k), case .string(let text) = v.kind else {
                    throw fail("unknown quadrant '\(k)' in labels", l.value.range, hints: ["quadrants: " + names.joined(separator: ", ")])
                }
                labels[i] = text
            }
        }
        var split: (String, String)? = nil
        if let sp = args.first(where: { $0.name == "split" }) {
            guard case .record(let fields) = sp.value.kind, fields.count == 2,
                  let x = fields.first(where: { $0.0 == "attractiveness" }).flatMap({ Self.number($0.1) }),
                  let y = fields.first(where: { $0.0 == "strength" }).flatMap({ Self.number($0.1) }) else {
                throw fail("split must give both values: split: {attractiveness: 5, strength: 0.3}", sp.value.range)
            }
            split = ("\(x)", "\(y)")
        }
        let scope = RowScope(compiler: self, relation: input)
        let a = try scope.compile(aArg.value), st = try scope.compile(sArg.value)
        for (v, arg) in [(a, aArg), (st, sArg)] where !(v.type.isNumber || v.type == .null) {
            throw fail("portfolio needs numbers, got \(v.type.name)", arg.value.range)
        }
        var helpers = [("__a", dialect.toFloat(a.sql)), ("__s", dialect.toFloat(st.sql))]
        if split == nil {
            guard let ma = dialect.percentile(dialect.toFloat(a.sql), "0.5"), let ms = dialect.percentile(dialect.toFloat(st.sql), "0.5") else {
                throw unsupported("portfolio's medians", e.range, hints: ["give the split: split: {attractiveness: 5, strength: 0.3}"])
            }
            // A median over the whole table, as a window where the engine has it as one.
            _ = (ma, ms)
        }
        let valued = adding(input, [], step: "portfolio_value", from: input.name, joins: scope.joinSQL, helpers: helpers)
        let av = "t." + q("__a"), sv = "t." + q("__s")
        let splits: (String, String)
        if let split {
            splits = split
        } else {
            // The medians in a one-row subquery (percentile_cont is no window function in
            // PostgreSQL).
            let ma = dialect.percentile("m." + q("__a"), "0.5") ?? "NULL", ms = dialect.percentile("m." + q("__s"), "0.5") ?? "NULL"
            splits = ("(SELECT \(ma) FROM \(q(valued.name)) AS m)", "(SELECT \(ms) FROM \(q(valued.name)) AS m)")
        }
        helpers = []
        let quadrant = "(CASE WHEN \(av) IS NULL OR \(sv) IS NULL OR \(splits.0) IS NULL OR \(splits.1) IS NULL THEN NULL "
            + "WHEN \(av) >= \(splits.0) AND \(sv) >= \(splits.1) THEN \(dialect.string(labels[0])) "
            + "WHEN \(av) >= \(splits.0) THEN \(dialect.string(labels[1])) "
            + "WHEN \(sv) >= \(splits.1) THEN \(dialect.string(labels[2])) ELSE \(dialect.string(labels[3])) END)"
        return adding(valued, [("quadrant", quadrant, .string)], step: "portfolio", from: valued.name, keepHidden: input.hidden)
    }

    /// `profitability` (cost_per_interaction:), as kam's over the standard links: from each
    /// row's orders revenue (Σ amount), cost (Σ cost), gross_margin, margin_pct, avg_discount;
    /// with the interactions of its contacts, their count, cost_to_serve and net_margin. A
    /// column the dataset lacks leaves its figures null (cost) or out (interactions), and a
    /// discount outside 0...1 anywhere in the orders stops the query, as it stops kam.
    func profitabilityStage(_ input: Relation, _ args: [Arg], _ e: Expr) throws -> Relation {
        var cpi = "150.0"
        for a in args {
            guard a.style == .named, a.name == "cost_per_interaction" else {
                if a.style == .named, ["revenue", "cost", "discount", "interactions"].contains(a.name ?? "") {
                    throw unsupported("profitability's \(a.name ?? ""): (inputs pointed elsewhere)", a.value.range,
                        hints: ["the standard links compile: orders.amount, orders.cost, orders.discount, contacts.interactions"])
                }
                throw fail("profitability takes cost_per_interaction:", a.value.range)
            }
            guard let x = Self.number(a.value), x >= 0 else {
                throw fail("cost_per_interaction must be a number of 0 or more", a.value.range)
            }
            cpi = "\(x)"
        }
        guard let entityName = input.entity, let entity = schema.entities[entityName] else {
            throw unsupported("profitability here (the rows are no longer rows of an entity)", e.range)
        }
        guard let link = entity.reverse["orders"], let orders = schema.entities[link.source], let amount = orders.column("amount") else {
            throw fail("profitability needs orders.amount", e.range, hints: ["profitability reads each \(entityName) row's orders"])
        }
        let scope = RowScope(compiler: self, relation: input)
        func numbers(_ c: SQLSchema.Column, _ purpose: String) throws {
            guard c.type.isNumber || c.type == .null else {
                throw fail("profitability needs orders.\(c.name) to hold numbers for \(purpose), but it holds \(c.type.name) values", e.range)
            }
        }
        try numbers(amount, "revenue")
        func value(_ fn: String, _ path: [String]) throws -> String {
            guard let v = try scope.reverseAggregate(fn, path, extra: [], e.range) else { throw fail("profitability needs \(path.joined(separator: "."))", e.range) }
            return dialect.toFloat(v.sql)
        }
        let nullFloat = dialect.toFloat("NULL")
        var helpers = [("__rev", try value("sum", ["orders", "amount"]))]
        let cost = orders.column("cost")
        if let cost {
            try numbers(cost, "the gross margin")
            helpers.append(("__cost", try value("sum", ["orders", "cost"])))
        } else {
            helpers.append(("__cost", nullFloat))
        }
        if let d = orders.column("discount") {
            try numbers(d, "the average discount")
            // kam checks the whole column before it reads any row's.
            let x = q(d.name), table = q(orders.table)
            let low = "(SELECT MIN(o.\(x)) FROM \(table) AS o)", high = "(SELECT MAX(o.\(x)) FROM \(table) AS o)"
            let message = "profitability needs orders.discount as a fraction from 0 to 1 for the average discount (0.05 for 5%), but orders has"
            helpers.append(("__disc", "(CASE WHEN \(low) < 0 THEN \(dialect.raise(message, value: low, as: .float)) "
                + "WHEN \(high) > 1 THEN \(dialect.raise(message, value: high, as: .float)) ELSE \(try value("avg", ["orders", "discount"])) END)"))
        } else {
            helpers.append(("__disc", nullFloat))
        }
        var interactions = false
        if let c = entity.reverse["contacts"], let contacts = schema.entities[c.source], let i = contacts.reverse["interactions"],
           schema.entities[i.source]?.column("date") != nil {
            interactions = true
            guard let n = try scope.reverseAggregate("count", ["contacts", "interactions"], extra: [], e.range) else {
                throw fail("profitability needs contacts.interactions", e.range)
            }
            helpers.append(("__n", n.sql))
        }
        let summed = adding(input, [], step: "profitability_sum", from: input.name, joins: scope.joinSQL, helpers: helpers)
        let rev = "t." + q("__rev"), c = "t." + q("__cost")
        let margin = cost == nil ? nullFloat : "(\(rev) - \(c))"
        var extra: [(String, String, SQLType)] = [
            ("revenue", rev, .float), ("cost", c, .float), ("gross_margin", margin, .float),
            ("margin_pct", cost == nil ? nullFloat : "(CASE WHEN \(rev) <> 0 THEN \(margin) / \(rev) ELSE NULL END)", .float),
            ("avg_discount", "t." + q("__disc"), .float),
        ]
        if interactions {
            let n = "t." + q("__n"), serve = "(\(dialect.toFloat(n)) * \(dialect.toFloat(cpi)))"
            extra += [("interactions", n, .int), ("cost_to_serve", serve, .float),
                      ("net_margin", cost == nil ? nullFloat : "(\(margin) - \(serve))", .float)]
        }
        return adding(summed, extra, step: "profitability", from: summed.name, keepHidden: input.hidden)
    }

    static func number(_ e: Expr) -> Double? {
        switch e.kind {
        case .int(let n): Double(n)
        case .float(let x): x
        default: nil
        }
    }

    /// `concentration VALUE`: n, total, HHI (x10,000), the shares of the largest 1, 5 and 10
    /// and of the top 20% (the largest ceil(0.2 n)), over the rows whose value is not null.
    func concentration(_ input: Relation, _ args: [Arg], _ e: Expr) throws -> SQLQuery {
        if let a = args.first(where: { $0.style == .named }) {
            throw unsupported("concentration's option '\(a.name ?? "")'", a.value.range)
        }
        let scope = RowScope(compiler: self, relation: input)
        let (guarded, _) = try stageValue("concentration", input, args, e, scope)
        // The value, checked once; the rows whose value is not null ranked, largest first
        // (which of equal values comes first changes no sum of the largest k: no tie order).
        let valued = add(input, "concentration_value",
            "SELECT \(guarded) AS \(q("__v")) FROM \(q(input.name)) AS t\(scope.joinSQL)",
            columns: [], entity: nil, hidden: [])
        let v = "t." + q("__v")
        let ranked = add(valued, "concentration_rank",
            "SELECT \(v), \(dialect.floatSum(v, over: "")) AS \(q("__total")), COUNT(*) OVER () AS \(q("__n")), "
                + "ROW_NUMBER() OVER (ORDER BY \(v) DESC) AS \(q("__r")) FROM \(q(valued.name)) AS t WHERE \(v) IS NOT NULL",
            columns: [], entity: nil, hidden: [])
        let x = q("__v"), total = "MAX(\(q("__total")))"
        func top(_ k: String) -> String {
            "(CASE WHEN \(total) > 0 THEN \(dialect.floatSum("CASE WHEN \(q("__r")) <= \(k) THEN \(x) ELSE 0 END")) / NULLIF(\(total), 0) ELSE NULL END)"
        }
        let fields = [
            "COUNT(\(x)) AS \(q("n"))",
            "COALESCE(\(dialect.floatSum(x)), \(dialect.toFloat("0"))) AS \(q("total"))",
            "(CASE WHEN \(total) > 0 THEN \(dialect.floatSum("(\(x) / NULLIF(\(q("__total")), 0)) * (\(x) / NULLIF(\(q("__total")), 0))")) * 10000 ELSE \(dialect.toFloat("0")) END) AS \(q("hhi"))",
            "\(top("1")) AS \(q("cr1"))", "\(top("5")) AS \(q("cr5"))", "\(top("10")) AS \(q("cr10"))",
            "\(top("((\(q("__n")) + 4) / 5)")) AS \(q("top20"))",
        ]
        let sql = queryWith(ranked, "SELECT \(fields.joined(separator: ", ")) FROM \(q(ranked.name))")
        return SQLQuery(sql: sql, columns: ["n", "total", "hhi", "cr1", "cr5", "cr10", "top20"],
                        types: [.int, .float, .float, .float, .float, .float, .float], kind: .record, range: e.range)
    }

    /// `lose CONDITION` (by:, cost:), as kam's: the accounts, value and margin lost, the HHI
    /// before and after, and the owners of the lost rows (by the owner link's name, else
    /// owner_id; two owners who share a name with their ids), in the order of their first
    /// lost row. The value is `revenue` unless by: names another; a null value counts as 0.
    func lose(_ input: Relation, _ args: [Arg], _ e: Expr) throws -> SQLQuery {
        for a in args where a.style == .named && a.name != "by" && a.name != "cost" {
            throw fail("lose takes by: and cost:", a.value.range)
        }
        let positional = args.filter { $0.style == .positional }
        guard positional.count == 1, let condition = positional.first else {
            throw fail("lose needs a condition: which accounts are lost", e.range,
                hints: ["usage: accounts | derive revenue = sum(orders.amount) | lose name in [\"Acme\", \"Beta\"]"])
        }
        let by = args.first { $0.name == "by" }
        if by == nil, input.column("revenue") == nil {
            throw fail("lose needs a revenue column, or by: naming the value", e.range, hints: ["derive revenue = sum(orders.amount) first, or write by: amount"])
        }
        let scope = RowScope(compiler: self, relation: input)
        let (guarded, _) = try stageValue("lose", input, [Arg(by?.value ?? Expr(.name("revenue"), e.range))], e, scope)
        let cond = try scope.compile(condition.value)
        guard cond.type == .bool || cond.type == .null else { throw fail("lose needs a condition, got \(cond.type.name)", condition.value.range) }
        var helpers = [("__v", "COALESCE(\(guarded), \(dialect.toFloat("0")))"), ("__l", "(CASE WHEN \(cond.sql) THEN 1 ELSE 0 END)")]
        // The cost: cost:, a cost column, or the cost of the orders of a dataset's rows.
        var cost: String? = nil
        func numbers(_ v: SQLValue, _ range: SourceRange) throws -> String {
            guard v.type.isNumber || v.type == .null else { throw fail("lose needs numbers for the cost, got \(v.type.name)", range) }
            return dialect.toFloat(v.sql)
        }
        if let c = args.first(where: { $0.name == "cost" }) {
            cost = try numbers(try scope.compile(c.value), c.value.range)
        } else if let c = input.column("cost") {
            cost = try numbers(SQLValue("t." + q("cost"), c.type), e.range)
        } else if let entity = input.entity.flatMap({ schema.entities[$0] }), let link = entity.reverse["orders"],
                  let c = schema.entities[link.source]?.column("cost") {
            guard c.type.isNumber || c.type == .null else { throw fail("lose needs numbers for the cost, got \(c.type.name)", e.range) }
            cost = try scope.reverseAggregate("sum", ["orders", "cost"], extra: [], e.range).map { dialect.toFloat($0.sql) }
        }
        if let cost { helpers.append(("__c", "COALESCE(\(cost), \(dialect.toFloat("0")))")) }
        // The owner of each row: the owner link's target (its name, else its id), else the
        // owner_id column's value.
        let text = dialect.typeName(.string)
        var ownerKey: [String] = [], ownerName: [String] = [], ownerID: [String] = []
        if let entity = input.entity.flatMap({ schema.entities[$0] }), let f = entity.forward["owner"], let target = schema.entities[f.target] {
            guard let idColumn = target.column("id"), idColumn.type == .string || idColumn.type == .int else {
                throw unsupported("lose's owners of \(target.name) without a text or int id", e.range)
            }
            let key = try scope.compile(Expr(.member(Expr(.name("owner"), e.range), f.key), e.range)).sql
            let id = "CAST(\(try scope.compile(Expr(.member(Expr(.name("owner"), e.range), "id"), e.range)).sql) AS \(text))"
            var name = id
            if let n = target.column("name") {
                guard n.type == .string || n.type == .int || n.type == .null else { throw unsupported("lose's owner names that are not text", e.range) }
                let raw = "CAST(\(try scope.compile(Expr(.member(Expr(.name("owner"), e.range), "name"), e.range)).sql) AS \(text))"
                name = "(CASE WHEN \(raw) IS NULL OR \(raw) = '' OR \(raw) = 'null' THEN \(id) ELSE \(raw) END)"
            }
            ownerKey.append("WHEN \(key) IS NOT NULL THEN 'r' || CAST(\(key) AS \(text))")
            ownerName.append("WHEN \(key) IS NOT NULL THEN \(name)")
            ownerID.append("WHEN \(key) IS NOT NULL THEN \(id)")
        }
        if let c = input.column("owner_id") {
            guard c.type == .string || c.type == .int || c.type == .null else { throw unsupported("lose's owner_id that is not text or an int", e.range) }
            let v = "CAST(t.\(q("owner_id")) AS \(text))"
            ownerKey.append("WHEN \(v) IS NOT NULL THEN 'c' || \(v)")
            ownerName.append("WHEN \(v) IS NOT NULL THEN \(v)")
            ownerID.append("WHEN \(v) IS NOT NULL THEN \(v)")
        }
        func cases(_ ws: [String]) -> String { ws.isEmpty ? "CAST(NULL AS \(text))" : "(CASE \(ws.joined(separator: " ")) ELSE NULL END)" }
        helpers += [("__ok", cases(ownerKey)), ("__on", cases(ownerName)), ("__oi", cases(ownerID))]
        let valued = adding(input, [], step: "lose_value", from: input.name, joins: scope.joinSQL, helpers: helpers, keepHidden: [])
        let v = q("__v"), l = q("__l"), ord = q("__ord")
        let zero = dialect.toFloat("0")
        let totals = add(valued, "lose_total",
            "SELECT t.\(v), t.\(l), \(cost == nil ? "" : "t.\(q("__c")), ")t.\(q("__ok")), t.\(q("__on")), t.\(q("__oi")), t.\(ord), "
                + "\(dialect.floatSum("t.\(v)", over: "")) AS \(q("__t")), \(dialect.floatSum("CASE WHEN t.\(l) = 0 THEN t.\(v) ELSE \(zero) END", over: "")) AS \(q("__tk")) "
                + "FROM \(q(valued.name)) AS t", columns: [], entity: nil, hidden: [])
        func sum(_ x: String) -> String { "COALESCE(\(dialect.floatSum(x)), \(zero))" }
        func share(_ x: String, _ total: String) -> String { "(\(x) / NULLIF(\(total), 0)) * (\(x) / NULLIF(\(total), 0))" }
        var measures = [
            "COUNT(*) AS \(q("n"))", "CAST(COALESCE(SUM(\(l)), 0) AS BIGINT) AS \(q("lost_n"))",
            "\(sum(v)) AS \(q("total"))", "\(sum("CASE WHEN \(l) = 1 THEN \(v) ELSE \(zero) END")) AS \(q("lost"))",
            "(CASE WHEN MAX(\(q("__t"))) > 0 THEN \(sum(share(v, q("__t")))) * 10000 ELSE \(zero) END) AS \(q("hb"))",
            "(CASE WHEN MAX(\(q("__tk"))) > 0 THEN \(sum("CASE WHEN \(l) = 0 THEN \(share(v, q("__tk"))) ELSE \(zero) END")) * 10000 ELSE \(zero) END) AS \(q("ha"))",
        ]
        if cost != nil {
            let c = q("__c")
            measures += ["\(sum("\(v) - \(c)")) AS \(q("mt"))", "\(sum("CASE WHEN \(l) = 1 THEN \(v) - \(c) ELSE \(zero) END")) AS \(q("ml"))"]
        }
        let measured = add(totals, "lose_measures", "SELECT \(measures.joined(separator: ", ")) FROM \(q(totals.name))", columns: [], entity: nil, hidden: [])
        let owners = add(measured, "lose_owners",
            "SELECT \(q("__ok")), MIN(\(ord)) AS \(q("__first")), MIN(\(q("__on"))) AS \(q("__on")), MIN(\(q("__oi"))) AS \(q("__oi")) "
                + "FROM \(q(totals.name)) WHERE \(l) = 1 AND \(q("__ok")) IS NOT NULL GROUP BY \(q("__ok"))", columns: [], entity: nil, hidden: [])
        let labels = add(owners, "lose_labels",
            "SELECT \(q("__first")), (CASE WHEN COUNT(*) OVER (PARTITION BY \(q("__on"))) > 1 THEN \(q("__on")) || ' (' || \(q("__oi")) || ')' ELSE \(q("__on")) END) AS \(q("__label")) "
                + "FROM \(q(owners.name))", columns: [], entity: nil, hidden: [])
        var fields: [(String, String, SQLType)] = [
            ("accounts_lost", q("lost_n"), .int), ("accounts_left", "\(q("n")) - \(q("lost_n"))", .int),
            ("revenue_lost", q("lost"), .float), ("revenue_share_lost", "(CASE WHEN \(q("total")) > 0 THEN \(q("lost")) / \(q("total")) ELSE NULL END)", .float),
            ("revenue_after", "\(q("total")) - \(q("lost"))", .float),
        ]
        if cost != nil {
            fields += [("margin_lost", q("ml"), .float), ("margin_share_lost", "(CASE WHEN \(q("mt")) <> 0 THEN \(q("ml")) / \(q("mt")) ELSE NULL END)", .float)]
        }
        fields += [("hhi_before", q("hb"), .float), ("hhi_after", q("ha"), .float),
                   ("owners_affected", dialect.textList(q("__label"), orderBy: q("__first"), from: q(labels.name)), .textList)]
        let sql = queryWith(labels, "SELECT " + fields.map { "\($0.1) AS \(q($0.0))" }.joined(separator: ", ") + " FROM \(q(measured.name))")
        return SQLQuery(sql: sql, columns: fields.map(\.0), types: fields.map(\.2), kind: .record, range: e.range)
    }

    func queryWith(_ r: Relation, _ select: String) -> String {
        var seen = Set<String>()
        var ctes: [String] = []
        for c in r.ctes where seen.insert(c.name).inserted {
            ctes.append("  \(q(c.name)) AS (\n    \(c.sql)\n  )")
        }
        let shared = groups(reading: ctes + [select])
        return "WITH\n" + (views(reading: ctes + [select] + shared) + shared + ctes).joined(separator: ",\n") + "\n" + select
    }

    /// A value the script binds with let that is not a table: compiled once, inlined.
    func constant(_ e: Expr) throws -> SQLValue {
        let scope = RowScope(compiler: self, relation: nil)
        let v = try scope.compile(e)
        guard scope.joins.isEmpty else { throw unsupported("this value", e.range) }
        return v
    }
}

/// A compiled query: its SQL, the names and kam types of its columns, and what kam value
/// its rows make (a table, one row, a record, or the one value of its one row).
public struct SQLQuery: Sendable {
    public enum Kind: Sendable { case table, row, record, scalar }
    public var sql: String
    public var columns: [String]
    public var types: [SQLType]
    public var kind: Kind
    public var range: SourceRange
    public var scalar: Bool { kind == .scalar }
}

/// A compiled expression: its SQL and kam type.
public struct SQLValue: Sendable {
    public var sql: String
    public var type: SQLType
    public init(_ sql: String, _ type: SQLType) {
        self.sql = sql
        self.type = type
    }
}
