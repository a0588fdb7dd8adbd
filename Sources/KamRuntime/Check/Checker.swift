import Foundation
import KamEngine
import KamData
import KamSyntax

/// Checks a whole program before any of it runs: every name (variables, functions,
/// columns and links through each stage, group keys, named arguments, parameters) is
/// resolved against the session's variables and the dataset's schema, with the columns
/// each verb produces carried from stage to stage. An empty table is checked like a full
/// one, since nothing here looks at rows. Every problem found is reported, each with its
/// location, a caret and a hint.
///
/// The checker mirrors the interpreter's scoping (a row's columns shadow outer variables;
/// inside `aggregate` only the keys are in scope, and an aggregate's argument sees the
/// group's rows). Where it cannot know (a table loaded at run time, a function's
/// parameters), it assumes nothing and reports nothing: a check error is always an error
/// the run would hit.
///
/// ```
/// let problems = Checker(interpreter).check(program)   // [] when the program is clean
/// ```
public final class Checker {
    public let interp: Interpreter
    public var diagnostics: [Diagnostic] = []
    public var source: Source
    /// Every `$name` read, and the declarations (`param name = ...`), in order.
    public var paramReads: [(name: String, range: SourceRange, source: Source)] = []
    public var paramDeclarations: [String: (hasDefault: Bool, range: SourceRange, source: Source)] = [:]
    public var visitedModules: Set<String> = []
    public var importStack: [String] = []
    /// Top-level names defined anywhere in the program: a function body may call a
    /// function defined after it, since it runs only when called.
    public var laterGlobals: Set<String> = []
    public var functionDepth = 0
    /// Checking a function's argument, where a built-in may be passed as a value
    /// (`map(names, upper)`).
    public var functionValueAllowed = false
    public let globals: Scope
    /// The dataset could not be loaded (its error is reported once).
    public var datasetFailed = false
    /// A `load` of a dataset directory may have replaced the entities: names not found
    /// from there on may be entities of the new dataset.
    public var datasetMayChange = false

    public init(_ interpreter: Interpreter) {
        interp = interpreter
        source = Source(name: "<none>", text: "")
        globals = Scope(parent: nil)
        let graph = interpreter.dataset
        for (name, value) in interpreter.globals.vars { globals.vars[name] = Shape.of(value, graph: graph) }
    }

    /// The problems in `program`: errors (exit 3), missing parameters (exit 2) and
    /// warnings, in source order.
    /// `requireParameters: false` (kam check) leaves out the parameters the run does not
    /// give: they are given when the script runs.
    public func check(_ program: Program, warnUnusedParameters: Bool = true, requireParameters: Bool = true) -> [Diagnostic] {
        source = program.source
        for stmt in program.statements {
            switch stmt.kind {
            case .letBinding(let name, _), .function(let name, _, _): laterGlobals.insert(name)
            default: break
            }
        }
        for stmt in program.statements { statement(stmt, globals) }
        checkParameters(warnUnused: warnUnusedParameters, required: requireParameters)
        return diagnostics
    }

    // MARK: reporting

    public func error(_ message: String, _ range: SourceRange, hints: [String] = []) {
        // A part checked twice (a stage's argument read as a value and as an option) is
        // reported once.
        if diagnostics.contains(where: { $0.kind == .syntax && $0.range == range && $0.message == message }) { return }
        diagnostics.append(Diagnostic(.syntax, message, at: range, in: source, hints: hints))
    }

    /// The standard library module whose `let` or `fn` defines `name`, if one does.
    static func moduleDefining(_ name: String) -> String? {
        for (module, text) in Stdlib.modules.sorted(by: { $0.key < $1.key }) where module != "core" {
            for line in text.split(separator: "\n") {
                for keyword in ["let ", "fn "] where line.hasPrefix(keyword) {
                    let rest = line.dropFirst(keyword.count)
                    let word = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                    if word == name { return module }
                }
            }
        }
        return nil
    }

    public func warning(_ message: String, _ range: SourceRange, hints: [String] = []) {
        diagnostics.append(Diagnostic(.warning, message, at: range, in: source, hints: hints))
    }

    // MARK: statements

    public func statement(_ stmt: Stmt, _ scope: Scope) {
        switch stmt.kind {
        case .letBinding(let name, let value):
            var shape = expr(value, scope)
            if case .table(var s) = shape, s.name == nil {
                s.name = name
                shape = .table(s)
            }
            scope.vars[name] = shape
        case .function(let name, let params, let body):
            scope.vars[name] = .function(params: params)
            let frame = Scope(parent: scope)
            for p in params { frame.vars[p] = .unknown }
            functionDepth += 1
            _ = expr(body, frame)
            functionDepth -= 1
        case .importModule(let path, let isFile):
            importModule(path, isFile: isFile, stmt.range, scope)
        case .parameter(let name, let defaultValue):
            // Declarations take effect before the script runs (Interpreter.declareParameters),
            // so a default is a literal and may stand anywhere.
            if let v = defaultValue {
                if let model = literalValue(v) {
                    if let text = interp.options.params[name], case .failure(let m) = Parameters.convert(text, like: model) {
                        diagnostics.append(Parameters.mismatch(name, text, model, m, at: stmt.range, in: source))
                    }
                } else {
                    error("a parameter's default is a literal", v.range,
                        hints: ["write a number, a string, a date, a duration, a bool or a list of them: param since = 2025-01-01"])
                }
            }
            if let first = paramDeclarations[name] {
                error("param '\(name)' is declared twice", stmt.range,
                    hints: ["the first declaration is at \(first.source.name):\(first.source.location(of: first.range.start).line)"])
            } else {
                paramDeclarations[name] = (defaultValue != nil, stmt.range, source)
            }
        case .assertion(let condition, let message):
            _ = expr(condition, scope)
            if let message { _ = expr(message, scope) }
        case .expression(let e):
            _ = expr(e, scope)
        }
    }

    public func importModule(_ path: String, isFile: Bool, _ range: SourceRange, _ scope: Scope) {
        let key: String, text: String, name: String
        if isFile {
            key = (TableReader.resolve(path, relativeTo: source.name) as NSString).standardizingPath
            guard let data = FileManager.default.contents(atPath: key), let s = String(data: data, encoding: .utf8) else {
                error("cannot read '\(path)'", range, hints: ["paths are relative to the importing script: \(key)"])
                return
            }
            text = s
            name = key
        } else {
            key = "stdlib:" + path
            guard let s = Stdlib.modules[path] else {
                error("no module named '\(path)' in the standard library", range,
                    hints: [Suggest.hint(path, in: Array(Stdlib.modules.keys)) ?? "modules: " + Stdlib.modules.keys.sorted().joined(separator: ", ")])
                return
            }
            text = s
            name = "stdlib/\(path).kam"
        }
        if importStack.contains(key) {
            error("import cycle: \((importStack + [key]).joined(separator: " -> "))", range)
            return
        }
        guard !visitedModules.contains(key) else { return }
        visitedModules.insert(key)
        importStack.append(key)
        defer { importStack.removeLast() }
        let module = Source(name: name, text: text)
        let program: Program
        do { program = try Parser.parse(module) } catch {
            diagnostics += error.diagnostics
            return
        }
        let saved = source
        source = module
        defer { source = saved }
        for stmt in program.statements {
            if case .letBinding(let n, _) = stmt.kind { laterGlobals.insert(n) }
            if case .function(let n, _, _) = stmt.kind { laterGlobals.insert(n) }
        }
        for stmt in program.statements { statement(stmt, scope) }
    }

    public func checkParameters(warnUnused: Bool, required: Bool) {
        var reported = Set<String>()
        if !required { reported = Set(paramReads.map(\.name)).union(paramDeclarations.keys) }
        for read in paramReads where !reported.contains(read.name) {
            reported.insert(read.name)
            if interp.options.params[read.name] != nil { continue }
            // Declared earlier in the session (a REPL line before this one).
            if interp.parameters[read.name] != nil { continue }
            if let d = paramDeclarations[read.name], d.hasDefault { continue }
            diagnostics.append(Parameters.missing(read.name, at: read.range, in: read.source))
        }
        for (name, d) in paramDeclarations where !d.hasDefault && !reported.contains(name) && interp.options.params[name] == nil {
            diagnostics.append(Parameters.missing(name, at: d.range, in: d.source))
        }
        guard warnUnused else { return }
        let known = Set(paramReads.map(\.name)).union(paramDeclarations.keys)
        for name in interp.options.params.keys.sorted() where !known.contains(name) {
            var hints = [Suggest.hint(name, in: Array(known)) ?? "the script reads no parameter of that name"]
            if laterGlobals.contains(name) || hasColumnNamed(name) { hints.append("a parameter is read as $\(name), not \(name)") }
            diagnostics.append(Diagnostic(.warning, "--param \(name) is given but the script never reads $\(name)", in: source, hints: hints))
        }
    }

    public func hasColumnNamed(_ name: String) -> Bool {
        guard let g = interp.dataset else { return false }
        return g.entities.contains { $0.table.columnIndex(name) != nil }
    }

    // MARK: the dataset

    /// The dataset's graph, building a lazy one (the demo) only when a name needs it.
    public func graph() -> AccountGraph? {
        if let g = interp.dataset { return g }
        guard interp.datasetProvider != nil, !datasetFailed else { return nil }
        do {
            return try interp.currentDataset()
        } catch let d as Diagnostic {
            // The dataset does not load: that is the error to report (exit 4), and its
            // entities can be checked no further.
            datasetFailed = true
            diagnostics.append(d)
        } catch {
            datasetFailed = true
        }
        return nil
    }

    public func entitySchema(_ index: Int) -> Schema? {
        guard let g = interp.dataset, index < g.entities.count else { return nil }
        return Schema(g.entities[index].table, graph: g)
    }

    /// A link of an entity's rows: the linked row (forward) or rows (reverse).
    public func link(_ name: String, from entity: Int?) -> Shape? {
        guard let entity, let g = interp.dataset, entity < g.entities.count else { return nil }
        let e = g.entities[entity]
        if let f = e.forwardLink(name), let s = entitySchema(f.target) { return .row(s) }
        if let r = e.reverseLink(name), let s = entitySchema(r.source) { return .table(s) }
        return nil
    }

    public func linkNames(_ entity: Int?) -> [String] {
        guard let entity, let g = interp.dataset, entity < g.entities.count else { return [] }
        return g.entities[entity].linkNames
    }

    // MARK: names

    public enum Found {
        case shape(Shape)
        case notGroupKey
        case missing
    }

    /// Looks a name up as the interpreter does: variables of inner scopes, then the row's
    /// columns, `it` and links, or the group's keys, then outer scopes; then built-ins,
    /// the dataset's entities and `input`.
    public func lookup(_ name: String, _ scope: Scope) -> Found {
        var s: Scope? = scope
        while let env = s {
            if let v = env.vars[name] { return .shape(v) }
            if let row = env.row {
                if row.has(name) { return .shape(row.type(name)) }
                if name == "it" { return .shape(.row(row)) }
                if let l = link(name, from: row.entity) { return .shape(l) }
                if row.open { return .shape(.unknown) }
            }
            if let group = env.group {
                if let k = group.keys[name] { return .shape(k) }
                if group.schema.has(name) || link(name, from: group.schema.entity) != nil { return .notGroupKey }
                if group.schema.open { return .shape(.unknown) }
            }
            if env.open { return .shape(.unknown) }
            s = env.parent
        }
        if Builtins.table[name] != nil { return .shape(.function(params: nil)) }
        if functionDepth > 0 && laterGlobals.contains(name) { return .shape(.unknown) }
        if name == "input" { return .shape(.table(.unknown)) }
        if !datasetMayChange, let g = graph(), let i = g.entities.firstIndex(where: { $0.name == name }), let schema = entitySchema(i) {
            return .shape(.table(schema))
        }
        if datasetMayChange || datasetFailed { return .shape(.unknown) }
        return .missing
    }

    /// The shape of `name` when it is a column of the innermost row in scope (not a
    /// variable, a link or a group key).
    public func rowColumn(_ name: String, _ scope: Scope) -> Shape? {
        var s: Scope? = scope
        while let env = s {
            if env.vars[name] != nil || env.group != nil || env.open { return nil }
            if let row = env.row {
                guard row.has(name) else { return nil }
                return row.type(name)
            }
            s = env.parent
        }
        return nil
    }

    /// Every name visible from `scope`, for "did you mean".
    public func visibleNames(_ scope: Scope) -> [String] {
        var names: [String] = []
        var s: Scope? = scope
        while let env = s {
            names += env.vars.keys
            if let row = env.row { names += row.columns + linkNames(row.entity) }
            if let group = env.group { names += group.keys.keys }
            s = env.parent
        }
        if let g = interp.dataset { names += g.entities.map(\.name) }
        return names
    }

    /// "did you mean 'account.region'?" when a forward link's entity has the column.
    /// The columns the analytics stages add, and which stages add each.
    public static var stageColumns: [String: [String]] {
        var out: [String: [String]] = [:]
        for b in Builtins.all.sorted(by: { $0.name < $1.name }) {
            if case .adds(let columns) = b.output { for c in columns { out[c, default: []].append(b.name) } }
        }
        return out
    }

    public func linkedColumnHint(_ n: String, _ scope: Scope) -> String? {
        guard let row = innermostRow(scope), let entity = row.entity, let g = interp.dataset, entity < g.entities.count else { return nil }
        for f in g.entities[entity].forward {
            if let near = Suggest.near(n, in: g.entities[f.target].table.names).first { return "did you mean '\(f.name).\(near)'?" }
        }
        return nil
    }

    public func innermostRow(_ scope: Scope) -> Schema? {
        var s: Scope? = scope
        while let env = s {
            if let r = env.row { return r }
            if env.group != nil { return nil }
            s = env.parent
        }
        return nil
    }

    public func name(_ n: String, _ range: SourceRange, _ scope: Scope) -> Shape {
        switch lookup(n, scope) {
        case .shape(let s):
            // In the rows of one entity, another entity's name that is no link of it is that
            // whole table, the same for every row: count(orders) on accounts without an
            // orders link counts every order. Almost surely not what was meant.
            if case .table(let t) = s, let row = innermostRow(scope), let entity = row.entity, !row.has(n),
               link(n, from: entity) == nil, let g = graph(), entity < g.entities.count, let target = g.byName[n], g.entities[entity].name != n,
               t.entity == target, isEntityGlobal(n, scope)
            {
                let here = g.entities[entity].name
                warning("'\(n)' here is the whole \(n) table, the same for every row: \(here) has no link '\(n)'", range,
                    hints: ["a link needs a column in \(n) that names the \(here) row (\(here.hasSuffix("s") ? String(here.dropLast()) : here)_id); to mean the whole table, bind it first: let all_\(n) = \(n)"])
            }
            if case .function(nil) = s, Builtins.table[n] != nil, variable(n, scope) == nil, let row = innermostRow(scope),
                !row.open, !functionValueAllowed
            {
                // In a stage, a bare name that is no column but a built-in's name is almost
                // surely a missing column (`where score != null` before `| score ...`).
                var hints = [Checker.columnsHere(row)]
                if Builtins.table[n]?.category == .verb { hints.append("'\(n)' is a stage; run it first: ... | \(n) ...") } else {
                    hints.append("call it: \(n)(...)")
                }
                error("no column '\(n)' here: \(n) is a built-in function", range, hints: hints)
                return .unknown
            }
            return s
        case .notGroupKey:
            let isLink = innermostGroup(scope).map { link(n, from: $0.schema.entity) != nil } ?? false
            error("'\(n)' is not a key of the group", range,
                hints: [isLink ? "aggregate over the link: count(\(n)), or sum(\(n).COLUMN)" : "use an aggregate such as sum(\(n)), or add it to 'by'"])
            return .unknown
        case .missing:
            var hints: [String] = []
            // A name a library module defines (selection_weights in scoring), not imported.
            if let module = Checker.moduleDefining(n) {
                error("unknown name '\(n)'", range, hints: ["'\(n)' is in the \(module) module: add import \(module) at the top"])
                return .unknown
            }
            // Names in scope first: a column or variable is the likelier meaning, then a
            // column one link away (region for orders is account.region).
            // Built-in functions only outside a stage: in a row a bare name means a value.
            let functions = innermostRow(scope) == nil ? Suggest.hint(n, in: Array(Builtins.table.keys)) : nil
            if let h = Suggest.hint(n, in: visibleNames(scope), names: true) ?? linkedColumnHint(n, scope) ?? functions { hints.append(h) }
            if hints.isEmpty, let row = innermostRow(scope) {
                hints.append(Checker.columnsHere(row))
            }
            if interp.options.params[n] != nil { hints.append("a parameter is read as $\(n)") }
            // A column a stage adds (revenue from kam_metrics), asked for before the stage.
            if let row = innermostRow(scope), !hints.contains(where: { $0.hasPrefix("did you mean") }) {
                let near = Set([n] + Suggest.near(n, in: Checker.stageColumns.keys.sorted()))
                if let (column, stages) = Checker.stageColumns.sorted(by: { $0.key < $1.key }).first(where: { near.contains($0.key) }) {
                    // A stage that ran (its other columns are here) left it out for want of data.
                    let ran = stages.first { st in Checker.stageColumns.contains { $0.value.contains(st) && $0.key != column && row.columns.contains($0.key) } }
                    if let ran {
                        hints.append("\(ran) gives '\(column)' only when the data has what it reads: :help \(ran)")
                    } else {
                        hints.append("'\(column)' is a column \(stages.prefix(3).joined(separator: " and ")) add\(stages.count == 1 ? "s" : ""): run it first, as in accounts | \(stages[0]) | ...")
                    }
                }
            }
            error("unknown name '\(n)'", range, hints: hints)
            return .unknown
        }
    }

    // MARK: expressions

    public func expr(_ e: Expr, _ scope: Scope) -> Shape {
        switch e.kind {
        case .null: return .null
        case .bool: return .bool
        case .int: return .int
        case .float: return .float
        case .string: return .string
        case .date: return .date
        case .duration: return .duration
        case .interpolation(let parts):
            for case .expr(let x) in parts { _ = expr(x, scope) }
            return .string
        case .name(let n):
            return name(n, e.range, scope)
        case .param(let n):
            paramReads.append((n, e.range, source))
            return .unknown
        case .list(let items):
            var elem: Shape? = nil
            for x in items {
                let s = expr(x, scope)
                elem = elem.map { Shape.join($0, s) } ?? s
            }
            return .list(elem ?? .unknown)
        case .record(let fields):
            var shapes: [String: Shape] = [:]
            for (k, x) in fields { shapes[k] = expr(x, scope) }
            return .record(shapes)
        case .unary(let op, let x):
            let s = expr(x, scope)
            return op == .not ? .bool : (s.isNumber || s == .duration ? s : .unknown)
        case .binary(let op, let a, let b):
            let x = expr(a, scope), y = expr(b, scope)
            // `where "tier" == "key"`: two constants, one of them a column's name in quotes.
            if [.eq, .ne, .lt, .le, .gt, .ge, .match, .inList, .notIn].contains(op), Checker.isLiteral(a) || Checker.isLiteral(b),
               let (quoted, other) = quotedColumn(a, scope).map({ ($0, b) }) ?? quotedColumn(b, scope).map({ ($0, a) }),
               Checker.isLiteral(other) || { if case .list = other.kind { true } else { false } }()
            {
                error("this compares two constants: \"\(quoted)\" is text, not the column \(Checker.writtenName(quoted))", e.range,
                    hints: [Checker.quotedHint(quoted)])
            }
            return binary(op, x, y, e, a, b)
        case .and(let a, let b), .or(let a, let b):
            _ = expr(a, scope)
            _ = expr(b, scope)
            return .bool
        case .coalesce(let a, let b):
            return Shape.join(expr(a, scope), expr(b, scope))
        case .member(let x, let field):
            return member(expr(x, scope), field, e.range)
        case .index(let x, let i):
            let base = expr(x, scope)
            _ = expr(i, scope)
            switch base {
            case .list(let el): return el
            case .table(let s): return .row(s)
            default: return .unknown
            }
        case .call(let callee, let args, let piped):
            return call(e, callee, args, piped: piped, scope)
        case .lambda(let params, let body):
            // A lambda's body runs when it is called: it may call a function defined later.
            let frame = Scope(parent: scope)
            for p in params { frame.vars[p] = .unknown }
            functionDepth += 1
            _ = expr(body, frame)
            functionDepth -= 1
            return .function(params: params)
        case .block(let stmts, let value):
            let inner = Scope(parent: scope)
            // A block's functions may call each other whatever their order, as at run time
            // (each is looked up when it is called).
            for s in stmts { if case .function(let n, let ps, _) = s.kind { inner.vars[n] = .function(params: ps) } }
            for s in stmts { statement(s, inner) }
            return expr(value, inner)
        }
    }

    /// A value written out (a number, a text, a date, null): the same for every row.
    public static func isLiteral(_ e: Expr) -> Bool {
        switch e.kind {
        case .null, .bool, .int, .float, .string, .date, .duration: true
        case .unary(_, let x): isLiteral(x)
        default: false
        }
    }

    /// The column a text literal names, when the rows in scope have one of that name:
    /// `"employees"` where the column `employees` was meant (SQL's quoted identifier).
    public func quotedColumn(_ e: Expr, _ scope: Scope) -> String? {
        var node = e
        if case .unary(.negate, let x) = node.kind { node = x }
        guard case .string(let text) = node.kind, let row = innermostRow(scope), row.columns.contains(text) else { return nil }
        return text
    }

    /// A column's name as a script writes it: plain, or in backquotes.
    public static func writtenName(_ name: String) -> String { Suggest.plainWord(name) ? name : "`\(name)`" }

    /// The hint for a column's name written in double quotes; `before` is what precedes
    /// the name in the fix (`abc ` for a stage's argument).
    static func quotedHint(_ quoted: String, before: String = "") -> String {
        "a name in double quotes is text; write the column's name as it is: \(before)\(writtenName(quoted))"
    }

    /// The first columns of a row, as a script writes them, for a hint.
    static func columnsHere(_ row: Schema) -> String {
        "columns here: " + row.columns.prefix(12).map(writtenName).joined(separator: ", ") + (row.columns.count > 12 ? ", ..." : "")
    }

    /// A key that is the same for every row (`sort "employees"`, `top 3 by 1`) orders
    /// nothing and groups everything: an error, with the column it likely meant.
    public func constantKey(_ e: Expr, _ scope: Scope, _ what: String) {
        guard Checker.isLiteral(e) else { return }
        var node = e
        if case .unary(.negate, let x) = node.kind { node = x }
        if case .int(let n) = node.kind {
            // SQL's ORDER BY 1 names a column by its place; here it is the number 1.
            error("\(what) a constant: \(n) is a number, not the \(n)\(n == 1 ? "st" : n == 2 ? "nd" : n == 3 ? "rd" : "th") column", e.range,
                hints: ["name the column: sort -revenue, name"])
        } else if let quoted = quotedColumn(e, scope) {
            error("\(what) a constant: \"\(quoted)\" is text, not the column \(Checker.writtenName(quoted))", e.range,
                hints: [Checker.quotedHint(quoted)])
        }
    }

    public func binary(_ op: BinaryOp, _ x: Shape, _ y: Shape, _ e: Expr, _ a: Expr, _ b: Expr) -> Shape {
        switch op {
        case .add, .sub, .mul, .div, .mod:
            switch (x, y) {
            case (.int, .int): return op == .div ? .float : .int
            case (.date, .duration): return .date
            case (.date, .date) where op == .sub: return .duration
            case (.string, .string) where op == .add: return .string
            case _ where x.isNumber && y.isNumber: return op == .div ? .float : .number
            default: return .unknown
            }
        case .eq, .ne, .lt, .le, .gt, .ge:
            comparison(op, x, y, e, a, b)
            return .bool
        case .inList, .notIn:
            if case .list(let el) = y { comparison(.eq, x, el, e, a, b) }
            return .bool
        case .match:
            return .bool
        }
    }

    /// A comparison whose sides can never compare: a string with a number (== is never
    /// true, < is an error), a date with a string.
    public func comparison(_ op: BinaryOp, _ x: Shape, _ y: Shape, _ e: Expr, _ a: Expr, _ b: Expr) {
        func isString(_ s: Shape) -> Bool { if case .string = s { true } else { false } }
        func isDate(_ s: Shape) -> Bool { if case .date = s { true } else { false } }
        func message() -> String {
            if op == .eq { return "comparing \(x.described) with \(y.described) is never true" }
            if op == .ne { return "comparing \(x.described) with \(y.described) using '!=' is always true" }
            return "cannot compare \(x.described.split(separator: " ").last ?? "") with \(y.described.split(separator: " ").last ?? "") using '\(op.rawValue)'"
        }
        if (isString(x) && y.isNumber) || (x.isNumber && isString(y)) {
            let literal = isString(x) ? a : b
            var hints = ["convert the string with int(...) or float(...)"]
            if case .string(let s) = literal.kind, Double(s) != nil { hints = ["drop the quotes: \(s) is a number"] }
            error(message(), e.range, hints: hints)
        } else if (isDate(x) && isString(y)) || (isString(x) && isDate(y)) {
            let literal = isString(x) ? a : b
            var hints = ["convert the string with date(...)"]
            if case .string(let s) = literal.kind, Calendar.parse(Array(s.utf8)) != nil { hints = ["drop the quotes: \(s) is a date literal"] }
            error(message(), e.range, hints: hints)
        }
    }

    public func member(_ base: Shape, _ field: String, _ range: SourceRange) -> Shape {
        switch base {
        case .row(let s):
            if s.has(field) { return s.type(field) }
            if let l = link(field, from: s.entity) { return l }
            if !s.open { unknownField(field, s, range) }
            return .unknown
        case .table(let s):
            if s.has(field) { return .list(s.type(field)) }
            if let l = link(field, from: s.entity) {
                if case .row(let target) = l { return .table(target) }
                return l
            }
            if !s.open { unknownField(field, s, range) }
            return .unknown
        case .record(let fields?):
            if let f = fields[field] { return f }
            error("record has no field '\(field)'", range, hints: [Suggest.hint(field, in: Array(fields.keys), names: true) ?? "fields: " + fields.keys.sorted().joined(separator: ", ")])
            return .unknown
        case .list(let el):
            return .list(member(el, field, range))
        default:
            return .unknown
        }
    }

    /// "no column or link 'x' in accounts", with the near names (the interpreter's text).
    public func unknownField(_ name: String, _ s: Schema, _ range: SourceRange) {
        let links = linkNames(s.entity)
        var hints: [String] = []
        if let h = Suggest.hint(name, in: s.columns + links, names: true) { hints.append(h) } else {
            hints.append("columns: " + s.columns.prefix(20).joined(separator: ", ") + (s.columns.count > 20 ? ", ..." : ""))
            if !links.isEmpty { hints.append("links: " + links.joined(separator: ", ")) }
        }
        error("no \(links.isEmpty ? "column" : "column or link") '\(name)' in \(s.name ?? "the table")", range, hints: hints)
    }

    // MARK: calls

    public func call(_ e: Expr, _ callee: Expr, _ args: [Arg], piped: Bool, _ scope: Scope) -> Shape {
        guard case .name(let fn) = callee.kind else {
            let f = expr(callee, scope)
            for a in args { _ = expr(a.value, scope) }
            if case .function(let params?) = f { closureArity(params, "the function", args, e.range) }
            return .unknown
        }
        if let v = variable(fn, scope) {
            for a in args { _ = argument(a.value, scope) }
            switch v {
            case .function(let params?): closureArity(params, fn, args, e.range)
            case .function, .unknown: break
            default: error("'\(fn)' is \(v.described), not a function", callee.range)
            }
            return .unknown
        }
        // `accounts | filter tier == "A"`, the SQL and dplyr habit: filter takes a function.
        if fn == "filter", piped, args.count == 2, args[1].style == .positional, !Checker.isFunctionLike(args[1].value) {
            let input = expr(args[0].value, scope)
            var hints = ["filter keeps the items a function is true for: filter(x => x > 1)"]
            if case .table = input {
                hints.insert("kam keeps a table's rows with where: ... | where \(source.slice(args[1].value.range))", at: 0)
            }
            error("filter takes a function, not a condition", args[1].value.range, hints: hints)
            return .unknown
        }
        if let b = Builtins.table[fn] { return builtin(b, e, args, scope) }
        // An unknown function's arguments may be column names it would have read (order(name)):
        // checked leniently, so the one error is the unknown function.
        let lenient = Scope(parent: scope, open: true)
        for (k, a) in args.enumerated() { _ = expr(a.value, k == 0 ? scope : lenient) }
        if functionDepth > 0 && laterGlobals.contains(fn) { return .unknown }
        var hints: [String] = []
        if let habit = Suggest.sqlHabit(fn) { hints.append(habit) } else if let h = Suggest.hint(fn, in: Array(Builtins.table.keys) + visibleNames(scope)) { hints.append(h) }
        if case .shape = lookup(fn, scope) { hints.append("'\(fn)' is a column, not a function") }
        error("unknown function '\(fn)'", callee.range, hints: hints)
        return .unknown
    }

    /// Whether an argument can be a function: a lambda, or a name (a function's value).
    static func isFunctionLike(_ e: Expr) -> Bool {
        switch e.kind {
        case .lambda, .name, .member, .call, .block: true
        default: false
        }
    }

    /// An argument of a function: it may be a function value, a built-in's name included.
    public func argument(_ e: Expr, _ scope: Scope) -> Shape {
        let saved = functionValueAllowed
        defer { functionValueAllowed = saved }
        if case .name = e.kind { functionValueAllowed = true } else { functionValueAllowed = false }
        return expr(e, scope)
    }

    /// A variable (not a column): how a call's callee is looked up.
    /// Whether `name` is the dataset's entity itself (the global it installs), not a
    /// variable the script bound (let orders = orders | where ...).
    public func isEntityGlobal(_ name: String, _ scope: Scope) -> Bool {
        var s: Scope? = scope
        while let env = s {
            if env.vars[name] != nil { return env === globals && !laterGlobals.contains(name) && interp.globals.vars[name].map { v in
                if case .table(let t) = v, let o = t.origin, o.rows == nil, o.graph.entities[o.entity].name == name { return true }
                return false
            } ?? false }
            s = env.parent
        }
        return true
    }

    public func variable(_ name: String, _ scope: Scope) -> Shape? {
        var s: Scope? = scope
        while let env = s {
            if let v = env.vars[name] { return v }
            s = env.parent
        }
        return nil
    }

    public func closureArity(_ params: [String], _ name: String, _ args: [Arg], _ range: SourceRange) {
        let plural = params.count == 1 ? "" : "s"
        let positional = args.filter { $0.style == .positional }.count
        if positional > params.count {
            error("\(name) takes \(params.count) argument\(plural), got \(args.count)", range)
            return
        }
        var given = Set(params.prefix(positional))
        for a in args where a.style != .positional {
            guard let n = a.name, params.contains(n) else {
                error("\(name) has no parameter '\(a.name ?? "")'", a.value.range,
                    hints: [Suggest.hint(a.name ?? "", in: params) ?? "parameters: " + params.joined(separator: ", ")])
                return
            }
            given.insert(n)
        }
        if let missing = params.first(where: { !given.contains($0) }) {
            error("\(name) takes \(params.count) argument\(plural), got \(args.count)", range, hints: ["missing '\(missing)'"])
        }
    }

    /// Positional and named arguments against a built-in's parameters, as `bind` matches them.
    public func bindEager(_ b: Builtin, _ args: [Arg], _ range: SourceRange) {
        var given = Set<String>()
        var next = 0
        for a in args {
            if a.style == .positional {
                if next < b.params.count && !b.params[next].variadic {
                    given.insert(b.params[next].name)
                    next += 1
                } else if b.params.last?.variadic != true {
                    error("\(b.name) takes at most \(b.params.count) argument\(b.params.count == 1 ? "" : "s"), got \(args.count)", range,
                        hints: ["usage: \(b.signature)"])
                    return
                }
            } else if let n = a.name, b.params.contains(where: { $0.name == n }) {
                given.insert(n)
            } else {
                error("\(b.name) has no parameter '\(a.name ?? "")'", a.value.range,
                    hints: [Suggest.hint(a.name ?? "", in: b.params.map(\.name)) ?? "usage: \(b.signature)"])
            }
        }
        for p in b.params where !p.optional && !p.variadic && !given.contains(p.name) {
            error("\(b.name) needs its '\(p.name)' argument", range, hints: ["usage: \(b.signature)"])
        }
    }

    public func builtin(_ b: Builtin, _ e: Expr, _ args: [Arg], _ scope: Scope) -> Shape {
        switch b.category {
        case .verb: return stage(b, e, args, scope)
        case .aggregate: return aggregate(b, e, args, scope)
        default: break
        }
        switch b.name {
        case "if":
            let p = args.filter { $0.style == .positional }
            if !(2...3).contains(p.count) {
                error("if takes 2 or 3 arguments, got \(p.count)", e.range, hints: ["usage: if(cond, then, else)"])
            }
            // if(has("contracts"), A, B) on a dataset without contracts: A cannot run, so it
            // is not checked (and the other way round); the report says what it lacks instead.
            if p.count >= 2, case .call(let callee, let hasArgs, _) = p[0].value.kind, case .name("has") = callee.kind,
                variable("has", scope) == nil, hasArgs.count == 1, case .string(let name) = hasArgs[0].value.kind, let g = graph()
            {
                _ = expr(p[0].value, scope)
                let present = NativeFunctions.dataset(g, has: name)
                if present { return expr(p[1].value, scope) }
                return p.count == 3 ? expr(p[2].value, scope) : .unknown
            }
            let shapes = args.map { expr($0.value, scope) }
            return shapes.count >= 2 ? shapes.dropFirst(2).reduce(shapes[1]) { Shape.join($0, $1) } : .unknown
        case "table":
            let shapes = args.map { expr($0.value, scope) }
            if args.count == 1, case .list(let items) = args[0].value.kind {
                var schema = Schema(columns: [])
                var allRecords = true
                for item in items {
                    guard case .record(let fields) = item.kind else { allRecords = false; break }
                    for (k, v) in fields {
                        // A column whose rows disagree (1 in one, "A" in another) is unknown.
                        let shape = literalShape(v)
                        schema.set(k, schema.has(k) ? Shape.join(schema.type(k), shape) : shape)
                    }
                }
                if allRecords && !items.isEmpty { return .table(schema) }
            }
            _ = shapes
            return .table(.unknown)
        default:
            if case .eager = b.impl { bindEager(b, args, e.range) }
            if b.category == .window {
                for a in args where a.style == .named {
                    error("\(b.name) has no option '\(a.name ?? "")'", a.value.range, hints: ["pass it by position: \(b.signature)"])
                }
            }
            for a in args { _ = argument(a.value, scope) }
            if b.name == "load" && !loadsOneFile(args) {
                // `load "dir"` installs a dataset: its entities are not known before it runs.
                datasetMayChange = true
                if let g = interp.dataset {
                    for e in g.entities { globals.vars[e.name] = .table(.unknown) }
                }
            }
            switch b.name {
            case "load", "columns", "schema": return .table(.unknown)
            case "str", "upper", "lower", "trim", "replace", "substr", "pad_left", "join_str", "type": return .string
            case "len", "year", "month", "day", "quarter", "weekday", "days_since", "days_between", "days", "div": return .int
            case "date", "make_date", "today": return .date
            case "sqrt", "ln", "exp": return .float
            default: return .unknown
            }
        }
    }

    /// Whether `load`'s argument is a literal path to one data file (not a dataset).
    public func loadsOneFile(_ args: [Arg]) -> Bool {
        guard args.count == 1, case .string(let path) = args[0].value.kind else { return false }
        return [".csv", ".tsv", ".json", ".jsonl", ".txt"].contains { path.lowercased().hasSuffix($0) }
    }

    /// The value of a literal default (`param since = 2025-01-01`), nil for anything else.
    public func literalValue(_ e: Expr) -> Value? {
        switch e.kind {
        case .int(let i): .int(i)
        case .float(let f): .float(f)
        case .string(let s): .string(s)
        case .date(let d): .date(d)
        case .bool(let b): .bool(b)
        case .duration(let m, let d): .duration(Duration(months: m, days: d))
        case .list(let items):
            items.allSatisfy { literalValue($0) != nil } ? .list(items.compactMap(literalValue)) : nil
        case .unary(.negate, let x):
            switch x.kind {
            case .int(let i) where i != Int64.min: .int(-i)
            case .float(let f): .float(-f)
            case .duration(let m, let d): .duration(Duration(months: -m, days: -d))
            default: nil
            }
        default: nil
        }
    }

    /// A literal's shape without checking it again (for `table([...])` columns).
    public func literalShape(_ e: Expr) -> Shape {
        switch e.kind {
        case .null: return .null
        case .interpolation: return .string
        default: return literalValue(e).map { Shape.of($0, graph: nil) } ?? .unknown
        }
    }

    public func aggregate(_ b: Builtin, _ e: Expr, _ args: [Arg], _ scope: Scope) -> Shape {
        for a in args where a.style == .named && !b.params.contains(where: { $0.name == a.name }) {
            error("\(b.name) has no option '\(a.name ?? "")'", a.value.range,
                hints: [Suggest.hint(a.name ?? "", in: b.params.map(\.name)) ?? "options: " + b.params.map(\.name).joined(separator: ", ")])
        }
        let p = args.filter { $0.style == .positional && $0.clause == nil }
        var result: Shape = .unknown
        if let group = innermostGroup(scope) {
            // Inside aggregate: the argument runs over the group's rows.
            let rows = Scope(parent: scope, row: group.schema)
            if let first = p.first { result = elementShape(expr(first.value, rows)) }
            for a in p.dropFirst() { _ = expr(a.value, scope) }
        } else if let first = p.first {
            if case .name(let n) = first.value.kind, p.count == (b.name == "percentile" ? 2 : 1),
                let column = rowColumn(n, scope), column.isScalar
            {
                // `derive share = r / sum(r)`: a stage's expression runs row by row, so this
                // would reduce one row's value (every share 1.0). Refused, never guessed.
                let call = "\(b.name)(\(n)\(b.name == "percentile" ? ", p" : ""))"
                let column = "\(b.name)(t.\(n)\(b.name == "percentile" ? ", p" : ""))"
                var hints = [
                    "a stage's expressions run row by row; for the whole column, name its table: let t = ...; then \(column)",
                    "inside aggregate ... by, \(call) reduces each group's rows",
                ]
                if b.name == "sum" { hints.append("cumsum(\(n)) is a running total") }
                error("\(call) here reduces one row's \(n), not the column", e.range, hints: hints)
            }
            let input = expr(first.value, scope)
            var rows: Schema? = nil
            switch input {
            case .table(let s): rows = s
            case .unknown, .record(nil): rows = .unknown  // perhaps a table: its columns are not known
            default: break
            }
            if p.count >= 2, let rows {
                // `t | sum(amount)`: the column expression runs over the table's rows.
                result = elementShape(expr(p[1].value, Scope(parent: scope, row: rows)))
                for a in p.dropFirst(2) { _ = expr(a.value, scope) }
            } else {
                for a in p.dropFirst() { _ = expr(a.value, scope) }
                result = elementShape(input)
            }
        } else if b.name == "count" {
            error("count() without an argument counts the rows of a group inside aggregate", e.range,
                hints: ["count a table with: table | count"])
        }
        for a in args where a.style == .named { _ = expr(a.value, scope) }
        switch b.name {
        case "count", "count_distinct": return .int
        case "avg", "median", "percentile", "stddev": return .float
        case "sum": return result.isNumber ? (result == .int ? .int : result) : .number
        case "min", "max": return result
        default: return .unknown
        }
    }

    /// What an aggregate reads one value of: the items of a list, or the value itself.
    public func elementShape(_ s: Shape) -> Shape {
        if case .list(let el) = s { return el }
        if case .table = s { return .unknown }
        return s
    }

    public func innermostGroup(_ scope: Scope) -> GroupScopeShape? {
        var s: Scope? = scope
        while let env = s {
            if env.row != nil { return nil }
            if let g = env.group { return g }
            s = env.parent
        }
        return nil
    }
}

/// A lexical scope of the checker, as `Env` is the interpreter's: variables, or the row
/// of a stage (its columns and links), or the group of an `aggregate` (its keys).
public final class Scope {
    public var vars: [String: Shape] = [:]
    public let parent: Scope?
    public let row: Schema?
    public let group: GroupScopeShape?
    /// Names here may be anything (the fields of a list's records in `where`).
    public let open: Bool

    public init(parent: Scope?, row: Schema? = nil, group: GroupScopeShape? = nil, open: Bool = false) {
        self.parent = parent
        self.row = row
        self.group = group
        self.open = open
    }
}

/// The group of an `aggregate`: its keys by name, and the table whose rows it groups.
public struct GroupScopeShape {
    public var keys: [String: Shape]
    public var schema: Schema
}

extension Shape: Equatable {
    public static func == (a: Shape, b: Shape) -> Bool {
        switch (a, b) {
        case (.unknown, .unknown), (.null, .null), (.bool, .bool), (.int, .int), (.float, .float), (.string, .string),
            (.date, .date), (.duration, .duration), (.number, .number):
            return true
        default: return false
        }
    }
}
