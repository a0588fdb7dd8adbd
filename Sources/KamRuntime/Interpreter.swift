import Foundation
import KamEngine
import KamData
import KamSyntax

/// Evaluates kam programs: a tree-walking interpreter over the AST for statements and
/// scalar expressions; table stages hand whole columns to the engine.
public final class Interpreter {
    public struct Options {
        /// `today()` as a day number; pinned by `--today` or KAM_TODAY for reproducible scripts.
        public var today: Int32
        /// `--param name=value` as given: text, read when the script declares or reads the
        /// parameter (see `Parameters`).
        public var params: [String: String]
        /// How table stages evaluate: over whole columns (kernels, typed group-by, segment
        /// sums), or one row at a time through the tree-walker. Both must give the same
        /// answers; the differential tests run every script both ways.
        public var evaluation: Evaluation
        /// Text drawings (charts, sparklines) in plain ASCII: set by the command line when
        /// NO_COLOR is.
        public var plainText = false
        public init(today: Int32 = Interpreter.systemToday(), params: [String: String] = [:], evaluation: Evaluation = .columnar) {
            self.today = today
            self.params = params
            self.evaluation = evaluation
        }
    }

    public enum Evaluation: Sendable {
        case columnar, rowwise
    }

    public static let maxCallDepth = 1000

    public var options: Options
    public let globals: Env
    /// Diagnostics that do not stop the run.
    public var warnings: [Diagnostic] = []
    /// Set from another thread (Ctrl-C) to stop a running query at the next check.
    public let cancellation = Cancellation()
    public var currentSource: Source
    public var callStack: [(name: String, range: SourceRange, source: Source)] = []
    public var importedModules: Set<String> = []
    public var importStack: [String] = []
    public var regexCache: [String: NSRegularExpression] = [:]
    /// Parameter values once read or declared (`$name`, `param name = ...`).
    public var parameters: [String: Value] = [:]
    /// The loaded dataset, if any; its entities are global variables.
    public private(set) var dataset: AccountGraph?
    /// Builds the dataset on first use (the demo company is built lazily, so startup
    /// stays fast when a session never touches it).
    public var datasetProvider: (() throws -> (AccountGraph, DatasetLoader.Report))?
    /// With --timing: receives "line N 0.123s" after each top-level statement.
    public var timing: ((String) -> Void)?
    /// Reads `input`, the table on standard input, on first use.
    public var inputProvider: (() throws -> Table)?

    /// Forgets every variable and function the user defined; the dataset and the core
    /// library stay.
    public func reset() {
        globals.vars.removeAll()
        importedModules.removeAll()
        try? importModule("core", isFile: false, range: SourceRange(0, 0), into: globals)
        if let dataset { install(dataset) }
    }

    /// Makes `graph` the session's dataset: its entities become variables.
    public func install(_ graph: AccountGraph) {
        dataset = graph
        for e in graph.entities { globals.vars[e.name] = .table(e.table) }
    }

    /// The dataset, building it now if it is lazy.
    public func currentDataset() throws -> AccountGraph? {
        if dataset == nil, let provider = datasetProvider {
            datasetProvider = nil
            let (g, report) = try provider()
            install(g)
            warnings += report.warnings
        }
        return dataset
    }

    public init(options: Options = Options()) {
        self.options = options
        self.globals = Env()
        self.currentSource = Source(name: "<none>", text: "")
    }

    /// Today's date in the local time zone, as a day number.
    public static func systemToday() -> Int32 {
        var t = time(nil)
        var parts = tm()
        localtime_r(&t, &parts)
        return Calendar.days(year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1, day: Int(parts.tm_mday)) ?? 0
    }

    // MARK: errors

    public func fail(_ message: String, _ range: SourceRange, hints: [String] = []) -> Diagnostic {
        Diagnostic(.runtime, message, at: range, in: currentSource, hints: hints)
    }

    /// The value of `$name`: declared (with its default's type) or given on the command line.
    public func parameter(_ name: String, _ range: SourceRange) throws -> Value {
        if let v = parameters[name] { return v }
        guard let text = options.params[name] else { throw missingParameter(name, range) }
        let v = Parameters.infer(text)
        parameters[name] = v
        return v
    }

    public func missingParameter(_ name: String, _ range: SourceRange) -> Diagnostic {
        Parameters.missing(name, at: range, in: currentSource)
    }

    public func checkCancelled(_ range: SourceRange) throws {
        if cancellation.isCancelled { throw fail("cancelled", range, hints: ["Ctrl-C stopped the query; the session and its variables are kept"]) }
    }

    // MARK: statements

    /// Runs every statement; `emit` receives the value of each top-level expression statement.
    public func run(_ program: Program, emit: (Value) throws -> Void) throws {
        try run(program, emitAt: { v, _ in try emit(v) })
    }

    /// As `run(_:emit:)`, with the line each result's statement starts on (a report puts
    /// the headings of the `# section:` comments above it before it).
    public func run(_ program: Program, emitAt emit: (Value, Int) throws -> Void) throws {
        let saved = currentSource
        currentSource = program.source
        defer { currentSource = saved }
        try declareParameters(program.statements)
        for stmt in program.statements {
            try cancellation.reset()
            let start = Clock.now()
            let v = try execute(stmt, globals)
            if let timing {
                let line = program.source.location(of: stmt.start).line
                timing("line \(line) \(Clock.format(Clock.now() - start))")
            }
            if let v { try emit(v, program.source.location(of: stmt.range.start).line) }
        }
    }

    /// `param` declarations take effect before the script's first statement, wherever they
    /// stand (their defaults are literals), so every `$name` sees the declared type.
    func declareParameters(_ statements: [Stmt]) throws {
        for stmt in statements { if case .parameter = stmt.kind { _ = try execute(stmt, globals) } }
    }

    /// Executes one statement; returns the value of an expression statement.
    public func execute(_ stmt: Stmt, _ env: Env) throws -> Value? {
        switch stmt.kind {
        case .letBinding(let name, let value):
            var v = try eval(value, env)
            if case .table(let t) = v, t.name == nil { v = .table(t.renamed(name)) }
            env.vars[name] = v
            return nil
        case .function(let name, let params, let body):
            // Inside a row, the closure keeps that row (Env.pinned); it is in its own scope too,
            // so it can call itself.
            let captured = env.pinned()
            let f = Value.function(Function(name: name, body: .closure(params: params, body: body, env: captured, source: currentSource)))
            env.vars[name] = f
            if captured !== env { captured.vars[name] = f }
            return nil
        case .importModule(let path, let isFile):
            try importModule(path, isFile: isFile, range: stmt.range, into: env)
            return nil
        case .parameter(let name, let defaultValue):
            guard parameters[name] == nil else { return nil }
            if let text = options.params[name] {
                guard let defaultValue else {
                    parameters[name] = Parameters.infer(text)
                    return nil
                }
                let model = try eval(defaultValue, env)
                switch Parameters.convert(text, like: model) {
                case .success(let v): parameters[name] = v
                case .failure(let m):
                    throw Parameters.mismatch(name, text, model, m, at: stmt.range, in: currentSource)
                }
            } else if let defaultValue {
                parameters[name] = try eval(defaultValue, env)
            } else {
                throw missingParameter(name, stmt.range)
            }
            return nil
        case .assertion(let condition, let message):
            let v = try eval(condition, env)
            if case .bool(true) = v { return nil }
            var text = "assertion failed"
            if let message {
                let m = try eval(message, env)
                text += ": " + Format.plain(m)
            } else {
                text += ": " + currentSource.slice(condition.range)
            }
            var hints: [String] = []
            if case .null = v { hints.append("the condition is null, not true") } else if case .bool = v {} else {
                hints.append("the condition is \(v.aTypeName), not a bool")
            }
            var d = fail(text, condition.range, hints: hints)
            d.notes = assertionValues(condition, env)
            throw d
        case .expression(let e):
            let v = try eval(e, env)
            // `load "crm/"` alone makes the directory the dataset: an action, as a let is,
            // not a value to print (it printed every table of the dataset).
            if case .call(let callee, _, _) = e.kind, case .name("load") = callee.kind, case .record(let r) = v,
               !r.values.isEmpty, r.values.allSatisfy({ if case .table = $0 { true } else { false } }) {
                return nil
            }
            return v
        }
    }

    /// What a failed assert's parts were, as a test framework shows them: `n > 0` gives
    /// `n is -1`. The operands of comparisons, `and`, `or`, `not` and a call's arguments,
    /// literals left out; a part that cannot be evaluated (the right of an `and` whose left
    /// was false may not be) is skipped.
    func assertionValues(_ condition: Expr, _ env: Env) -> [String] {
        var parts: [Expr] = []
        func operand(_ e: Expr) {
            switch e.kind {
            case .null, .bool, .int, .float, .string, .date, .duration: break
            case .binary, .and, .or, .coalesce, .unary: collect(e)
            default: parts.append(e)
            }
        }
        func collect(_ e: Expr) {
            switch e.kind {
            case .binary(_, let a, let b), .and(let a, let b), .or(let a, let b), .coalesce(let a, let b):
                operand(a)
                operand(b)
            case .unary(_, let x): operand(x)
            case .call(_, let args, false): for a in args { operand(a.value) }
            default: operand(e)
            }
        }
        collect(condition)
        var seen = Set<String>(), notes: [String] = []
        for e in parts {
            let text = currentSource.slice(e.range)
            guard seen.insert(text).inserted, notes.count < 8, let v = try? eval(e, env) else { continue }
            var shown = Format.literal(v, depth: 1)
            if shown.count > 200 { shown = String(shown.prefix(200)) + "..." }
            notes.append("  \(text) is \(shown)")
        }
        return notes
    }

    public func importModule(_ path: String, isFile: Bool, range: SourceRange, into env: Env) throws {
        let key: String
        let text: String
        if isFile {
            key = (TableReader.resolve(path, relativeTo: currentSource.name) as NSString).standardizingPath
            guard let data = FileManager.default.contents(atPath: key), let s = String(data: data, encoding: .utf8) else {
                throw fail("cannot read '\(path)'", range, hints: ["paths are relative to the importing script: \(key)"])
            }
            text = s
        } else {
            key = "stdlib:" + path
            guard let s = Stdlib.modules[path] else {
                throw fail("no module named '\(path)' in the standard library", range, hints: [Suggest.hint(path, in: Array(Stdlib.modules.keys)) ?? "modules: " + Stdlib.modules.keys.sorted().joined(separator: ", ")])
            }
            text = s
        }
        if importedModules.contains(key) { return }
        if importStack.contains(key) {
            throw fail("import cycle: \((importStack + [key]).joined(separator: " -> "))", range)
        }
        importStack.append(key)
        defer { importStack.removeLast() }
        let source = Source(name: isFile ? key : "stdlib/\(path).kam", text: text)
        let program: Program
        do { program = try Parser.parse(source) } catch {
            throw error.diagnostics.first ?? fail("cannot parse '\(path)'", range)
        }
        let saved = currentSource
        currentSource = source
        defer { currentSource = saved }
        try declareParameters(program.statements)
        for stmt in program.statements { _ = try execute(stmt, env) }
        importedModules.insert(key)
    }

    // MARK: expressions

    public func eval(_ e: Expr, _ env: Env) throws -> Value {
        switch e.kind {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .float(let f): return .float(f)
        case .string(let s): return .string(s)
        case .date(let d): return .date(d)
        case .duration(let m, let d): return .duration(Duration(months: m, days: d))
        case .interpolation(let parts):
            var s = ""
            for p in parts {
                switch p {
                case .text(let t): s += t
                case .expr(let x): s += Format.plain(try eval(x, env))
                }
            }
            return .string(s)
        case .name(let n):
            return try lookup(n, e.range, env)
        case .param(let n):
            return try parameter(n, e.range)
        case .list(let items):
            return .list(try items.map { try eval($0, env) })
        case .record(let fields):
            return .record(Record(keys: fields.map(\.0), values: try fields.map { try eval($0.1, env) }))
        case .unary(let op, let x):
            let v = try eval(x, env)
            return try unary(op, v, e.range)
        case .binary(let op, let a, let b):
            if op == .eq || op == .ne {
                // `x == null` tests for null; any other comparison with null is null.
                let aNull = if case .null = a.kind { true } else { false }
                let bNull = if case .null = b.kind { true } else { false }
                if aNull || bNull {
                    let other = try eval(aNull ? b : a, env)
                    return .bool(other.isNull == (op == .eq))
                }
            }
            let x = try eval(a, env)
            let y = try eval(b, env)
            return try binary(op, x, y, e.range, lhs: a.range, rhs: b.range)
        case .and(let a, let b):
            let x = try eval(a, env)
            if case .bool(false) = x { return .bool(false) }
            try requireBoolOrNull(x, a.range, "and")
            let y = try eval(b, env)
            try requireBoolOrNull(y, b.range, "and")
            if case .bool(false) = y { return .bool(false) }
            if x.isNull || y.isNull { return .null }
            return .bool(true)
        case .or(let a, let b):
            let x = try eval(a, env)
            if case .bool(true) = x { return .bool(true) }
            try requireBoolOrNull(x, a.range, "or")
            let y = try eval(b, env)
            try requireBoolOrNull(y, b.range, "or")
            if case .bool(true) = y { return .bool(true) }
            if x.isNull || y.isNull { return .null }
            return .bool(false)
        case .coalesce(let a, let b):
            let x = try eval(a, env)
            return x.isNull ? try eval(b, env) : x
        case .member(let x, let name):
            return try member(try eval(x, env), name, e.range, base: x.range)
        case .index(let x, let i):
            return try index(try eval(x, env), try eval(i, env), e.range)
        case .call(let callee, let args, let piped):
            return try call(callee, args, piped: piped, e.range, env)
        case .lambda(let params, let body):
            return .function(Function(name: "lambda", body: .closure(params: params, body: body, env: env.pinned(), source: currentSource)))
        case .block(let stmts, let value):
            let inner = Env(parent: env)
            for s in stmts { _ = try execute(s, inner) }
            return try eval(value, inner)
        }
    }

    public func requireBoolOrNull(_ v: Value, _ range: SourceRange, _ op: String) throws {
        switch v {
        case .bool, .null: return
        default: throw fail("'\(op)' needs bool operands, got \(v.aTypeName)", range, hints: ["compare explicitly, e.g. x > 0 \(op) ..."])
        }
    }

    public func lookup(_ name: String, _ range: SourceRange, _ env: Env) throws -> Value {
        switch env.lookup(name) {
        case .value(let v): return v
        case .notGroupKey(let n):
            throw fail("'\(n)' is not a key of the group", range, hints: ["use an aggregate such as sum(\(n)), or add it to 'by'"])
        case .missing:
            if let b = Builtins.table[name] { return .function(b.value) }
            if dataset == nil, datasetProvider != nil, let g = try currentDataset(), let e = g.entity(name) { return .table(e.table) }
            if name == "input", let provider = inputProvider {
                inputProvider = nil
                let t: Table
                do { t = try provider().renamed("input") } catch var d as Diagnostic {
                    if d.fileLocation == nil && d.range == nil { d.range = range; d.source = currentSource }
                    throw d
                }
                globals.vars["input"] = .table(t)
                return .table(t)
            }
            if name == "input" {
                throw fail("no input: standard input is a terminal or holds the script", range, hints: ["pipe a CSV or JSON table in: cat orders.csv | kam -c 'input | take 5'"])
            }
            var candidates = env.visibleNames + Array(Builtins.table.keys)
            candidates += globals.vars.keys
            var hints: [String] = []
            if let h = Suggest.hint(name, in: candidates) { hints.append(h) }
            let (row, _) = env.innermostScope
            if let row, hints.isEmpty {
                hints.append("columns here: " + row.table.names.prefix(12).joined(separator: ", ") + (row.table.names.count > 12 ? ", ..." : ""))
            }
            throw fail("unknown name '\(name)'", range, hints: hints)
        }
    }

    // MARK: operators

    public func unary(_ op: UnaryOp, _ v: Value, _ range: SourceRange) throws -> Value {
        switch (op, v) {
        case (_, .null): return .null
        case (.negate, .int(let i)):
            guard i != Int64.min else { throw fail("integer overflow in negation", range) }
            return .int(-i)
        case (.negate, .float(let f)): return .float(-f)
        case (.negate, .duration(let d)): return .duration(Duration(months: -d.months, days: -d.days))
        case (.not, .bool(let b)): return .bool(!b)
        case (.negate, _): throw fail("cannot negate \(v.aTypeName)", range)
        case (.not, _): throw fail("'not' needs a bool, got \(v.aTypeName)", range)
        }
    }

    public func binary(_ op: BinaryOp, _ x: Value, _ y: Value, _ range: SourceRange, lhs: SourceRange, rhs: SourceRange) throws -> Value {
        switch op {
        case .add, .sub, .mul, .div, .mod:
            return try Arithmetic.apply(op, x, y, range: range, interp: self)
        case .eq, .ne:
            if x.isNull || y.isNull { return .null }
            let eq = x.kamEquals(y)
            return .bool(op == .eq ? eq : !eq)
        case .lt, .le, .gt, .ge:
            if x.isNull || y.isNull { return .null }
            guard let c = x.compare(y) else {
                var hints: [String] = []
                if case .string = x, y.asDouble != nil { hints.append("convert with float(...) or int(...)") }
                if case .string = y, x.asDouble != nil { hints.append("convert with float(...) or int(...)") }
                throw fail("cannot compare \(x.typeName) with \(y.typeName) using '\(op.rawValue)'", range, hints: hints)
            }
            switch op {
            case .lt: return .bool(c < 0)
            case .le: return .bool(c <= 0)
            case .gt: return .bool(c > 0)
            default: return .bool(c >= 0)
            }
        case .inList, .notIn:
            if x.isNull { return .null }
            let found: Bool
            switch y {
            case .list(let items): found = items.contains { $0.kamEquals(x) }
            case .string(let s):
                guard case .string(let needle) = x else { throw fail("'in' on a string needs a string on the left, got \(x.aTypeName)", lhs) }
                found = s.contains(needle)
            case .record(let r):
                guard case .string(let k) = x else { throw fail("'in' on a record needs a field name", lhs) }
                found = r.keys.contains(k)
            case .null: return .null
            default: throw fail("'in' needs a list on the right, got \(y.aTypeName)", rhs, hints: ["write x in [a, b, c]"])
            }
            return .bool(op == .inList ? found : !found)
        case .match:
            if x.isNull || y.isNull { return .null }
            guard case .string(let s) = x else { throw fail("'~' needs a string on the left, got \(x.aTypeName)", lhs) }
            guard case .string(let p) = y else { throw fail("'~' needs a pattern string on the right, got \(y.aTypeName)", rhs) }
            let re = try regex(p, rhs)
            return .bool(re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil)
        }
    }

    public func regex(_ pattern: String, _ range: SourceRange) throws -> NSRegularExpression {
        if let r = regexCache[pattern] { return r }
        do {
            let r = try NSRegularExpression(pattern: pattern)
            regexCache[pattern] = r
            return r
        } catch {
            throw fail("invalid regular expression '\(pattern)'", range, hints: ["escape special characters with \\\\ in \"...\" strings, or use a 'raw string'"])
        }
    }

    // MARK: member access and indexing

    public func member(_ base: Value, _ name: String, _ range: SourceRange, base baseRange: SourceRange) throws -> Value {
        switch base {
        case .null: return .null
        case .record(let r):
            if let v = r[name] { return v }
            throw fail("record has no field '\(name)'", range, hints: [Suggest.hint(name, in: r.keys) ?? "fields: " + r.keys.joined(separator: ", ")])
        case .row(let t, let i):
            if let c = t.columnIndex(name) { return t.column(at: c).value(at: i) }
            if let graph = t.origin?.graph, let v = graph.navigate(t, row: i, name) { return v }
            throw unknownField(name, t, range)
        case .table(let t):
            if let c = t.columnIndex(name) {
                let col = t.column(at: c)
                return .list((0..<t.count).map { col.value(at: $0) })
            }
            if let graph = t.origin?.graph, let nav = graph.navigate(t, name) { return .table(nav) }
            throw unknownField(name, t, range)
        case .list(let items):
            return .list(try items.map { try member($0, name, range, base: baseRange) })
        default:
            throw fail("\(base.aTypeName) has no field '\(name)'", range)
        }
    }

    /// "no column or link 'x' in accounts" with the near names, columns and links alike.
    public func unknownField(_ name: String, _ t: Table, _ range: SourceRange) -> Diagnostic {
        let links = t.origin?.graph.linkNames(t) ?? []
        let what = links.isEmpty ? "column" : "column or link"
        var hints: [String] = []
        if let h = Suggest.hint(name, in: t.names + links) { hints.append(h) } else {
            hints.append("columns: " + t.names.prefix(20).joined(separator: ", ") + (t.names.count > 20 ? ", ..." : ""))
            if !links.isEmpty { hints.append("links: " + links.joined(separator: ", ")) }
        }
        return fail("no \(what) '\(name)' in \(t.name ?? "the table")", range, hints: hints)
    }

    public func index(_ base: Value, _ i: Value, _ range: SourceRange) throws -> Value {
        switch (base, i) {
        case (.null, _), (_, .null): return .null
        case (.list(let items), .int(let k)):
            let n = Int64(items.count)
            let j = k < 0 ? k + n : k
            guard j >= 0 && j < n else { return .null }
            return items[Int(j)]
        case (.string(let s), .int(let k)):
            let chars = Array(s)
            let n = Int64(chars.count)
            let j = k < 0 ? k + n : k
            guard j >= 0 && j < n else { return .null }
            return .string(String(chars[Int(j)]))
        case (.table(let t), .int(let k)):
            let n = Int64(t.count)
            let j = k < 0 ? k + n : k
            guard j >= 0 && j < n else { return .null }
            return .row(t, Int(j))
        case (.record(let r), .string(let k)):
            return r[k] ?? .null
        case (.row(let t, let r), .string(let k)):
            guard let c = t.columnIndex(k) else { return .null }
            return t.column(at: c).value(at: r)
        case (.table, .string(let k)):
            return try member(base, k, range, base: range)
        default:
            throw fail("cannot index \(base.aTypeName) with \(i.aTypeName)", range)
        }
    }

    // MARK: calls

    public func call(_ callee: Expr, _ args: [Arg], piped: Bool, _ range: SourceRange, _ env: Env) throws -> Value {
        if case .name(let name) = callee.kind {
            if let v = env.lookupVariable(name) {
                guard case .function(let f) = v else {
                    throw fail("'\(name)' is \(v.aTypeName), not a function", callee.range)
                }
                return try callFunction(f, args, range, env)
            }
            if let b = Builtins.table[name] {
                return try callBuiltin(b, args, range, env, piped: piped)
            }
            var hints: [String] = []
            if let habit = Suggest.sqlHabit(name) { hints.append(habit) } else if let h = Suggest.hint(name, in: Array(Builtins.table.keys) + env.visibleNames) { hints.append(h) }
            if case .lookupColumn = columnHint(name, env) { hints.append("'\(name)' is a column, not a function") }
            throw fail("unknown function '\(name)'", callee.range, hints: hints)
        }
        let f = try eval(callee, env)
        guard case .function(let fn) = f else { throw fail("\(f.aTypeName) is not a function", callee.range) }
        return try callFunction(fn, args, range, env)
    }

    public enum ColumnHint { case lookupColumn, none }
    public func columnHint(_ name: String, _ env: Env) -> ColumnHint {
        if case .value = env.lookup(name) { return .lookupColumn }
        return .none
    }

    public func callFunction(_ f: Function, _ args: [Arg], _ range: SourceRange, _ env: Env) throws -> Value {
        switch f.body {
        case .builtin(let name, _, _):
            guard let b = Builtins.table[name] else { throw fail("unknown function '\(name)'", range) }
            return try callBuiltin(b, args, range, env, piped: false)
        case .closure(let params, _, _, _):
            var values = [Value?](repeating: nil, count: params.count)
            var next = 0
            for a in args {
                if a.style == .positional {
                    guard next < params.count else {
                        throw fail("\(f.name) takes \(params.count) argument\(params.count == 1 ? "" : "s"), got \(args.count)", range)
                    }
                    values[next] = try eval(a.value, env)
                    next += 1
                } else {
                    guard let n = a.name, let i = params.firstIndex(of: n) else {
                        throw fail("\(f.name) has no parameter '\(a.name ?? "")'", a.value.range, hints: [Suggest.hint(a.name ?? "", in: params) ?? "parameters: " + params.joined(separator: ", ")])
                    }
                    values[i] = try eval(a.value, env)
                }
            }
            if let missing = values.firstIndex(where: { $0 == nil }) {
                throw fail("\(f.name) takes \(params.count) argument\(params.count == 1 ? "" : "s"), got \(args.count)", range, hints: ["missing '\(params[missing])'"])
            }
            return try apply(f, values.map { $0 ?? .null }, range)
        }
    }

    /// Calls a function value with evaluated arguments (used by map, filter, sort keys...).
    public func apply(_ f: Function, _ args: [Value], _ range: SourceRange) throws -> Value {
        switch f.body {
        case .builtin(let name, _, _):
            guard let b = Builtins.table[name], case .eager(let impl) = b.impl else {
                throw fail("\(name) cannot be passed as a value", range)
            }
            var ctx = CallContext(interp: self, range: range, args: [])
            return try impl(&ctx, args)
        case .closure(let params, let body, let closureEnv, let source):
            guard args.count == params.count else {
                throw fail("\(f.name) takes \(params.count) argument\(params.count == 1 ? "" : "s"), got \(args.count)", range)
            }
            if callStack.count >= Interpreter.maxCallDepth {
                throw depthError(range)
            }
            if cancellation.isCancelled { throw fail("cancelled", range, hints: ["Ctrl-C stopped the query; the session and its variables are kept"]) }
            let frame = Env(parent: closureEnv)
            for (p, v) in zip(params, args) { frame.vars[p] = v }
            callStack.append((f.name, range, currentSource))
            let saved = currentSource
            currentSource = source
            defer {
                currentSource = saved
                callStack.removeLast()
            }
            return try eval(body, frame)
        }
    }

    public func depthError(_ range: SourceRange) -> Diagnostic {
        var notes: [String] = ["call chain (innermost last):"]
        func line(_ entry: (name: String, range: SourceRange, source: Source)) -> String {
            let (l, c) = entry.source.location(of: entry.range.start)
            return "  \(entry.name) called at \(entry.source.name):\(l):\(c)"
        }
        let stack = callStack
        if stack.count <= 8 {
            notes += stack.map(line)
        } else {
            notes += stack.prefix(3).map(line)
            notes.append("  ... \(stack.count - 6) more calls ...")
            notes += stack.suffix(3).map(line)
        }
        return Diagnostic(.runtime, "call depth limit exceeded (\(Interpreter.maxCallDepth) nested calls)", at: range, in: currentSource,
            hints: ["a function calls itself without stopping; check its base case"], notes: notes)
    }

    public func callBuiltin(_ b: Builtin, _ args: [Arg], _ range: SourceRange, _ env: Env, piped: Bool) throws -> Value {
        switch b.impl {
        case .special(let impl):
            var site = CallSite(interp: self, args: args, env: env, range: range, builtin: b)
            return try impl(&site)
        case .eager(let impl):
            let values = try bind(b, args, range, env)
            var ctx = CallContext(interp: self, range: range, args: args)
            return try impl(&ctx, values)
        }
    }

    /// Matches positional and named arguments to a built-in's parameters.
    public func bind(_ b: Builtin, _ args: [Arg], _ range: SourceRange, _ env: Env) throws -> [Value] {
        var out = [Value](repeating: .null, count: b.params.count)
        var given = [Bool](repeating: false, count: b.params.count)
        var extra: [Value] = []
        var next = 0
        for a in args {
            if a.style == .positional {
                if next < b.params.count && !b.params[next].variadic {
                    out[next] = try eval(a.value, env)
                    given[next] = true
                    next += 1
                } else if let last = b.params.last, last.variadic {
                    extra.append(try eval(a.value, env))
                } else {
                    throw fail("\(b.name) takes at most \(b.params.count) argument\(b.params.count == 1 ? "" : "s"), got \(args.count)", range,
                        hints: ["usage: \(b.signature)"])
                }
            } else {
                guard let n = a.name, let i = b.params.firstIndex(where: { $0.name == n }) else {
                    throw fail("\(b.name) has no parameter '\(a.name ?? "")'", a.value.range,
                        hints: [Suggest.hint(a.name ?? "", in: b.params.map(\.name)) ?? "usage: \(b.signature)"])
                }
                out[i] = try eval(a.value, env)
                given[i] = true
            }
        }
        for (i, p) in b.params.enumerated() where !given[i] && !p.optional && !p.variadic {
            throw fail("\(b.name) needs its '\(p.name)' argument", range, hints: ["usage: \(b.signature)"])
        }
        if let last = b.params.last, last.variadic {
            if given[b.params.count - 1] { extra.insert(out[b.params.count - 1], at: 0) }
            out[b.params.count - 1] = .list(extra)
        }
        return out
    }
}

/// A cancellation flag set from a signal handler or another thread.
public final class Cancellation: @unchecked Sendable {
    private let flag = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    public init() { flag.initialize(to: 0) }
    deinit { flag.deallocate() }
    public var isCancelled: Bool { flag.pointee != 0 }
    public func cancel() { flag.pointee = 1 }
    public func reset() throws { flag.pointee = 0 }
    public func clear() { flag.pointee = 0 }
    /// The raw flag, for a C signal handler to set.
    public var rawFlag: UnsafeMutablePointer<Int32> { flag }
}

