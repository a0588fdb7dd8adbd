import KamEngine
import KamData
import KamSyntax

/// The table verbs and analytics stages: each one's arguments are checked in the scope the
/// interpreter gives them (row expressions see the input's columns and links), and the
/// columns it returns become the schema of the next stage.
extension Checker {
    /// The verbs that work on a list as a list.
    public static let listVerbs: Set<String> = ["where", "sort", "take", "skip", "distinct", "first"]

    /// The stages that read a clause (`top 10 by revenue`, `join t on id`); any other stage
    /// would drop it unread, so it is an error.
    static let clausesRead: [String: Set<String>] = ["derive": ["by"], "aggregate": ["by"], "top": ["by"], "chart": ["by"], "join": ["on"]]

    public func stage(_ b: Builtin, _ e: Expr, _ args: [Arg], _ scope: Scope) -> Shape {
        let positional = args.filter { $0.style == .positional && $0.clause == nil }
        let allowed = (Verbs.options[b.name] ?? b.params.dropFirst().map(\.name)) + b.inputs.map(\.option)
        // select and derive say it themselves, at each item.
        for a in args where b.name != "select" && b.name != "derive" {
            guard let c = a.clause, !(Checker.clausesRead[b.name]?.contains(c) ?? false) else { continue }
            let value = source.slice(a.value.range)
            let hint = allowed.contains(c) ? "write it as an option: \(b.name) ..., \(c): \(value)"
                : b.name == "sort" ? "sort by several keys with commas: sort key1, \(value)" : "usage: \(b.signature)"
            error("\(b.name) takes no '\(c)' clause", a.value.range, hints: [hint])
        }
        for a in args where a.style == .named {
            if let n = a.name, !allowed.contains(n) {
                error("\(b.name) has no option '\(n)'", a.value.range,
                    hints: [Suggest.hint(n, in: allowed) ?? (allowed.isEmpty ? "\(b.name) takes no options" : "options: " + allowed.joined(separator: ", "))])
            }
            // A word that is none of the option's: said before anything runs.
            if let n = a.name, let words = b.choices[n], case .string(let w) = a.value.kind, !words.contains(w) {
                error(Builtin.choiceMessage(n, words), a.value.range, hints: [Suggest.hint(w, in: words) ?? "\(b.name) \(n): \"\(words[0])\""])
            }
        }
        guard let inputIndex = args.firstIndex(where: { $0.style == .positional && $0.clause == nil }) else {
            if b.name == "where" {
                error("where needs a condition", e.range, hints: ["usage: table | where condition"])
            } else {
                error("\(b.name) needs a table", e.range, hints: ["usage: \(b.signature)"])
            }
            for a in args { _ = expr(a.value, scope) }
            return .unknown
        }
        let inputArg = args[inputIndex]
        let input = expr(inputArg.value, scope)
        var rest = args
        rest.remove(at: inputIndex)
        let schema: Schema?
        switch input {
        case .table(let s), .row(let s): schema = s
        case .record(let fields?): schema = Schema(columns: fields.keys.sorted(), types: fields)
        case .list(let el) where Checker.listVerbs.contains(b.name) && !(b.name == "distinct" && !rest.isEmpty):
            return listStage(b, e, rest, el, scope)
        case .list(.record(let fields?)):
            // A list of records is a table to the other stages.
            schema = Schema(columns: fields.keys.sorted(), types: fields)
        case .list:
            schema = nil
        case .unknown, .record(nil): schema = nil
        default:
            if b.name == "first" {
                error("first needs a table or a list, got \(input.described)", inputArg.value.range)
            } else {
                error("\(b.name) needs a table, got \(input.described)", inputArg.value.range, hints: ["usage: \(b.signature)"])
            }
            schema = nil
        }
        let s = schema ?? .unknown
        let rows = Scope(parent: scope, row: s)
        let more = Array(positional.dropFirst())
        switch b.name {
        case "where":
            if let a = args.first(where: { $0.style == .assign }) {
                error("'=' in a condition", a.value.range, hints: ["use '==' to compare: where \(a.name ?? "x") == ..."])
                _ = expr(a.value, rows)
            }
            if more.isEmpty && !args.contains(where: { $0.style == .assign }) {
                error("where needs a condition", e.range, hints: ["usage: table | where condition"])
            } else if more.count > 1 {
                error("where takes one condition, got \(more.count)", e.range, hints: ["combine conditions with 'and': where a > 1 and b < 2"])
            }
            for a in more { _ = expr(a.value, rows) }
            return .table(s)
        case "select", "derive":
            let items = rest.filter { $0.style != .named }
            if items.isEmpty {
                error("\(b.name) needs at least one column", e.range,
                    hints: [b.name == "select" ? "usage: table | select a, b, c as d" : "usage: table | derive name = expression"])
            }
            var out = b.name == "select" ? Schema(columns: [], entity: s.entity, open: s.open, name: s.name) : s
            var current = s
            for item in items {
                if let c = item.clause {
                    if b.name == "derive" && c == "by" {
                        // `derive a = lag(x) by k, b = lag(y)`: b would be taken as a key and
                        // no column b made; the keys come last.
                        if item.style == .assign, let n = item.name {
                            error("'\(n) = ...' after by is not a column: derive takes its keys last", item.value.range,
                                hints: ["write the columns first: derive ..., \(n) = \(source.slice(item.value.range)) by \(items.first(where: { $0.clause == "by" }).map { source.slice($0.value.range) } ?? "key")"])
                            continue
                        }
                        // derive ... by KEY: the key reads the input's rows.
                        _ = expr(item.value, rows)
                        if quotedColumn(item.value, rows) != nil { constantKey(item.value, rows, "derive by") }
                        continue
                    }
                    error("\(b.name) takes no '\(c)' clause", item.value.range)
                    continue
                }
                if b.name == "derive" && item.style != .assign && item.alias == nil {
                    error("derive needs a name for each column", item.value.range,
                        hints: ["write: derive new_name = \(source.slice(item.value.range))"])
                }
                let shape = expr(item.value, Scope(parent: scope, row: b.name == "derive" ? current : s))
                // `select name, "region"`: a column of the text "region", not the column.
                if b.name == "select", item.style != .assign, item.alias == nil, let quoted = quotedColumn(item.value, Scope(parent: scope, row: s)) {
                    error("select of \"\(quoted)\" makes a column of that text, not the column \(Checker.writtenName(quoted))", item.value.range,
                        hints: [Checker.quotedHint(quoted)])
                }
                let name = Verbs.columnName(item, source: source)
                if b.name == "select" {
                    if out.has(name) {
                        error("duplicate column '\(name)' in select", item.value.range, hints: ["rename one with 'as': \(name) as other_name"])
                    }
                    out.set(name, shape)
                } else {
                    current.set(name, shape)
                }
            }
            return .table(b.name == "select" ? out : current)
        case "sort":
            if rest.isEmpty { error("sort needs at least one key", e.range, hints: ["usage: table | sort -revenue, name"]) }
            for k in rest {
                _ = expr(unnegated(k.value), rows)
                constantKey(k.value, rows, "sort by")
            }
            return .table(s)
        case "take", "skip":
            if more.isEmpty { error("\(b.name) needs a number of rows", e.range, hints: ["usage: table | \(b.name) 10"]) }
            for a in more { _ = expr(a.value, scope) }
            return .table(s)
        case "top":
            if more.isEmpty { error("top needs a number of rows", e.range, hints: ["usage: table | top 10"]) }
            for a in more { _ = expr(a.value, scope) }
            let by = args.filter { $0.clause == "by" || ($0.style == .named && $0.name == "by") }
            if by.isEmpty { error("top needs 'by': the value to rank by", e.range, hints: ["usage: table | top 10 by revenue"]) }
            for k in by {
                _ = expr(unnegated(k.value), rows)
                constantKey(k.value, rows, "top by")
            }
            return .table(s)
        case "aggregate":
            return aggregateStage(e, args, s, scope)
        case "distinct":
            let items = rest.filter { $0.style != .named }
            var out = Schema(columns: [], open: s.open, name: s.name)
            for item in items {
                out.set(Verbs.columnName(item, source: source), expr(item.value, rows))
                if quotedColumn(item.value, rows) != nil { constantKey(item.value, rows, "distinct by") }
            }
            return .table(items.isEmpty ? s : out)
        case "join":
            return joinStage(e, args, more, s, scope)
        case "first":
            return .row(s)
        default:
            return analyticsStage(b, e, rest, s, schema != nil, scope)
        }
    }

    /// The entity rows the first link of `items` leads to: orders for orders.product.category.
    public func sourceRows(of items: Expr, _ s: Schema) -> Schema? {
        var node = items
        while case .member(let base, _) = node.kind { node = base }
        guard case .name(let first) = node.kind, !s.has(first), case .table(let rows)? = link(first, from: s.entity) else { return nil }
        return rows
    }

    /// Whether `lose` has a cost to compute margins from: cost:, a cost column, or orders' cost.
    public func loseKnowsCost(_ rest: [Arg], _ s: Schema) -> Bool {
        if s.open || s.has("cost") || rest.contains(where: { $0.style == .named && $0.name == "cost" }) { return true }
        if case .table(let orders)? = link("orders", from: s.entity) { return orders.has("cost") }
        return false
    }

    /// Whether the accounts' contacts have interactions (profitability's cost to serve).
    public func unnegated(_ e: Expr) -> Expr { Verbs.sortKey(e).key }

    /// where, sort, take, skip, distinct and first on a list: `it` is each item.
    public func listStage(_ b: Builtin, _ e: Expr, _ rest: [Arg], _ element: Shape, _ scope: Scope) -> Shape {
        switch b.name {
        case "where":
            let items = Scope(parent: scope, open: true)
            items.vars["it"] = element
            for a in rest { _ = expr(a.value, items) }
        case "first":
            return element
        default:
            // sort(names, lower): a key function may be a built-in.
            for a in rest { _ = argument(a.value, scope) }
        }
        return ["where", "sort", "take", "skip", "distinct"].contains(b.name) ? .list(element) : .unknown
    }

    public func aggregateStage(_ e: Expr, _ args: [Arg], _ s: Schema, _ scope: Scope) -> Shape {
        let rows = Scope(parent: scope, row: s)
        var keys = args.filter { $0.clause == "by" }
        if let named = args.first(where: { $0.style == .named && $0.name == "by" }) {
            if case .list(let items) = named.value.kind { keys += items.map { Arg($0) } } else { keys.append(Arg(named.value)) }
        }
        let aggs = args.dropFirst().filter { $0.clause == nil && $0.style != .named }
        if aggs.isEmpty {
            error("aggregate needs at least one aggregate", e.range, hints: ["usage: table | aggregate total = sum(amount), n = count() by region"])
        }
        var out = Schema(columns: [], open: s.open)
        var group = GroupScopeShape(keys: [:], schema: s)
        for k in keys {
            let shape = expr(k.value, rows)
            if quotedColumn(k.value, rows) != nil { constantKey(k.value, rows, "aggregate by") }
            let name = Verbs.columnName(k, source: source)
            if out.has(name) {
                error("duplicate column '\(name)' in aggregate", k.value.range, hints: ["name the key: other_name = \(source.slice(k.value.range))"])
            }
            group.keys[name] = shape
            out.set(name, shape)
        }
        let groupScope = Scope(parent: scope, group: group)
        for a in aggs {
            let name = Verbs.columnName(a, source: source)
            let shape = expr(a.value, groupScope)
            if out.has(name) {
                error("duplicate column '\(name)' in aggregate", a.value.range, hints: ["name it: other_name = ..."])
            }
            out.set(name, shape)
        }
        return .table(out)
    }

    public func joinStage(_ e: Expr, _ args: [Arg], _ more: [Arg], _ s: Schema, _ scope: Scope) -> Shape {
        guard let otherArg = more.first else {
            error("join needs a table to join with", e.range, hints: ["usage: orders | join products on product_id == id"])
            return .unknown
        }
        let otherShape = expr(otherArg.value, scope)
        var other = Schema.unknown
        if case .table(let o) = otherShape { other = o }
        let on = args.filter { $0.clause == "on" || ($0.style == .named && $0.name == "on") }
        guard on.count == 1, let cond = on.first?.value else {
            error("join needs one 'on' condition", e.range, hints: ["usage: orders | join products on product_id == id"])
            return .table(Schema(columns: s.columns, open: true))
        }
        func collect(_ c: Expr) {
            switch c.kind {
            case .and(let a, let b):
                collect(a)
                collect(b)
            case .binary(.eq, let a, let b):
                // The keys must be able to match: an int id never equals a string one.
                comparison(.eq, expr(a, Scope(parent: scope, row: s)), expr(b, Scope(parent: scope, row: other)), c, a, b)
            default:
                error("join needs equality conditions: left_key == right_key", c.range,
                    hints: ["the left side of == reads the input table, the right side the joined table"])
            }
        }
        collect(cond)
        // The right table's columns, renamed on a clash as the verb does.
        var out = Schema(columns: [], open: s.open || other.open, name: s.name)
        for c in s.columns { out.set(c, s.type(c)) }
        let prefix = other.name ?? "right"
        for c in other.columns {
            var name = c
            if out.has(name) { name = prefix + "_" + c }
            var k = 2
            while out.has(name) {
                name = prefix + "_" + c + "_\(k)"
                k += 1
            }
            out.set(name, other.type(c))
        }
        return .table(out)
    }

    /// An analytics stage: its arguments are row expressions over the input (or options),
    /// its result what the registry declares.
    /// The stages' options that name a column as text (`key_accounts by: "revenue"`),
    /// evaluated where the stage is written, as they are run.
    static let columnNameOptions: [String: Set<String>] = ["key_accounts": ["by", "manager"], "score": ["as_is"]]

    public func analyticsStage(_ b: Builtin, _ e: Expr, _ rest: [Arg], _ s: Schema, _ known: Bool, _ scope: Scope) -> Shape {
        let rows = Scope(parent: scope, row: s)
        // cross_sell's value: and cross_sell_eval's date: are read over the rows the items
        // come from (orders, for orders.product.category).
        var itemRows: Scope? = nil
        if ["cross_sell", "cross_sell_eval", "whitespace"].contains(b.name),
            let items = rest.first(where: { $0.style == .positional && $0.clause == nil })?.value
        {
            itemRows = Scope(parent: scope, row: sourceRows(of: items, s) ?? .unknown)
        }
        // The inputs it reads through links: one check, the stage's own (StageInputs).
        let inputOptions = Set(b.inputs.map(\.option))
        var resolved: StageInputs? = nil
        if !b.inputs.isEmpty, known, let entity = s.entity, let g = graph() {
            var given: [String: (path: [String]?, range: SourceRange)] = [:]
            for a in rest where a.style == .named {
                if let n = a.name, inputOptions.contains(n) { given[n] = (StageInputs.path(of: a.value), a.value.range) }
            }
            let r = StageInputs.resolve(b.inputs, stage: b.name, from: entity, in: g, given: given)
            for p in r.problems { error(p.message, p.at ?? e.range, hints: p.hints) }
            resolved = r
        }
        // chart's kind (bar, line, ...) is a word, not a name to look up.
        let chartKind = b.name == "chart" ? rest.first(where: { $0.style == .positional && $0.clause == nil }) : nil
        if let k = chartKind, b.name == "chart" {
            if case .name(let kind) = k.value.kind, Builtin.chartKinds.contains(kind) {} else {
                var given = ""
                if case .name(let kind) = k.value.kind { given = kind }
                let kinds = Builtin.chartKinds.joined(separator: ", ")
                error(given.isEmpty ? "chart needs a kind: \(kinds)" : "unknown chart kind '\(given)'", k.value.range,
                    hints: [Suggest.hint(given, in: Builtin.chartKinds) ?? "kinds: \(kinds); usage: chart bar revenue by region"])
            }
        }
        for a in rest {
            if let k = chartKind, k.value.range == a.value.range { continue }
            if a.style == .named, let n = a.name, inputOptions.contains(n) { continue }
            // `abc "employees"`: the column's name in quotes is a constant text.
            if a.style == .positional, let quoted = quotedColumn(a.value, rows) {
                error("\(b.name) reads \"\(quoted)\" as text, not the column \(quoted)", a.value.range,
                    hints: [Checker.quotedHint(quoted, before: "\(b.name) ")])
            }
            if a.style == .named, let n = a.name, Checker.columnNameOptions[b.name]?.contains(n) == true {
                // A column's name as text, read where the stage is written (not in its rows).
                if case .name(let word) = a.value.kind, s.has(word), variable(word, scope) == nil {
                    error("\(b.name) \(n): takes the column's name as text", a.value.range,
                        hints: ["write: \(n): \"\(word)\""])
                } else {
                    _ = expr(a.value, scope)
                }
            } else if let itemRows, a.style == .named, a.name == "value" || a.name == "date" {
                _ = expr(a.value, itemRows)
            } else {
                _ = expr(a.value, rows)
            }
        }
        var weightsAreAColumn = false
        if b.name == "score", let w = rest.first(where: { $0.style == .positional && $0.clause == nil }),
           case .name(let word) = w.value.kind, s.has(word), variable(word, scope) == nil {
            weightsAreAColumn = true
            error("score takes a record of weights, not a column", w.value.range,
                hints: ["write: score {\(word): 1} (or several: {\(word): 0.6, breadth: 0.4}; a negative weight means lower is better)"])
        }
        if b.name == "score", known, !weightsAreAColumn, let w = rest.first(where: { $0.style == .positional && $0.clause == nil }) {
            var criteria: [String]? = nil
            if case .record(let fields) = w.value.kind { criteria = fields.map(\.0) } else if case .record(let f?) = expr(w.value, scope) {
                criteria = f.keys.sorted()
            }
            for c in criteria ?? [] where !s.has(c) && !s.open {
                error("no column '\(c)' for a score criterion", w.value.range,
                    hints: [Suggest.hint(c, in: s.columns) ?? "columns: " + s.columns.prefix(20).joined(separator: ", ")]
                        + (c == "margin" ? ["kam_metrics gives a margin only where orders have a cost; revenue_weights scores without one"] : []))
            }
        }
        // lose reads a revenue column unless by: names the value: said before anything runs.
        if b.name == "lose", known, !s.open, !s.has("revenue"), !rest.contains(where: { $0.style == .named && $0.name == "by" }) {
            error("lose needs a revenue column, or by: naming the value", e.range,
                hints: ["derive revenue = sum(orders.amount) first, or write by: amount"])
        }
        let required = b.params.dropFirst().filter { !$0.optional && !$0.variadic }
        let positionalCount = rest.filter { $0.style == .positional && $0.clause == nil }.count
        var satisfied = positionalCount
        for p in required where rest.contains(where: { $0.style == .named && $0.name == p.name }) { satisfied += 1 }
        if satisfied < required.count, let missing = required.dropFirst(satisfied).first {
            error("\(b.name) needs its '\(missing.name)' argument", e.range, hints: ["usage: \(b.signature)"])
        }
        if b.name == "concentration", let share = rest.first(where: { $0.style == .named && $0.name == "share" }) {
            // share: true gives the input with a share column; anything else but false, either.
            switch share.value.kind {
            case .bool(false): break
            case .bool(true):
                var out = known ? s : Schema.unknown
                out.set("share", .float)
                return .table(out)
            default: return .unknown
            }
        }
        if b.name == "lose", case .record(let fields) = b.output, !loseKnowsCost(rest, s) {
            let certain = fields.filter { !$0.hasPrefix("margin") }
            return .record(Dictionary(uniqueKeysWithValues: certain.map { ($0, Shape.unknown) }))
        }
        switch b.output {
        case .unknown:
            return .unknown
        case .openTable:
            return .table(.unknown)
        case .table(let columns):
            return .table(Schema(columns: columns))
        case .record(let fields):
            return .record(Dictionary(uniqueKeysWithValues: fields.map { ($0, Shape.unknown) }))
        case .adds(var columns):
            var out = known ? s : Schema.unknown
            switch b.name {
            case "score":
                // One explaining column per criterion of a literal weights record.
                if let w = rest.first(where: { $0.style == .positional && $0.clause == nil }), case .record(let fields) = w.value.kind {
                    columns += fields.map { "score_" + $0.0 }
                } else {
                    out.open = true
                }
            case "profitability":
                // Interactions, cost to serve and net margin only where contacts have interactions.
                if resolved?["interactions"] == nil { columns.removeAll { ["interactions", "cost_to_serve", "net_margin"].contains($0) } }
            case "kam_metrics":
                // A margin only where orders have a cost.
                if resolved != nil && resolved?["cost"] == nil { columns.removeAll { $0 == "margin" } }
            case "quantile":
                if let n = rest.first(where: { $0.style == .named && $0.name == "name" }) {
                    if case .string(let name) = n.value.kind { columns = [name] } else { out.open = true }
                }
            default:
                break
            }
            for c in columns { out.set(c, .unknown) }
            return .table(out)
        }
    }
}
