import KamData
import KamSyntax

/// Compiles the expressions of one step, read against its input row (`t`): columns, links
/// (a forward link is a LEFT JOIN to the target, a reverse link inside an aggregate a
/// grouped subquery joined on the key), operators with kam's null and type rules, and the
/// built-ins that have an SQL form.
final class RowScope {
    let compiler: SQLCompiler
    let relation: SQLCompiler.Relation?
    let alias: String
    /// The joins the step needs, in the order first used: SQL and alias.
    var joins: [(key: String, sql: String, alias: String)] = []
    /// For window functions in `derive ... by`: the group keys.
    var partition: [String] = []
    /// Inside aggregate: aggregates read the group's rows.
    var aggregating = false
    var insideAggregate = false

    init(compiler: SQLCompiler, relation: SQLCompiler.Relation?, alias: String = "t") {
        self.compiler = compiler
        self.relation = relation
        self.alias = alias
    }

    var dialect: Dialect { compiler.dialect }
    var schema: SQLSchema { compiler.schema }
    func q(_ n: String) -> String { compiler.q(n) }

    var joinSQL: String { joins.map { "\n    " + joinClause($0) }.joined() }

    func fail(_ m: String, _ r: SourceRange, hints: [String] = []) -> SQLCompiler.Failure { compiler.fail(m, r, hints: hints) }
    func unsupported(_ what: String, _ r: SourceRange, hints: [String] = []) -> SQLCompiler.Failure {
        compiler.unsupported(what, r, hints: hints)
    }

    // MARK: names and links

    func column(_ n: String, _ range: SourceRange) throws -> SQLValue {
        if let rel = relation, let c = rel.column(n) {
            if c.type == .unknown { throw unsupported("the column '\(n)' (lists or records)", range) }
            return SQLValue("\(alias).\(q(n))", c.type)
        }
        if let v = compiler.scalars[n] { return v }
        if let rel = relation, let entity = rel.entity, let e = schema.entities[entity], e.forward[n] != nil || e.reverse[n] != nil {
            throw unsupported("the link '\(n)' as a value", range,
                hints: [e.forward[n] != nil ? "read a column through it: \(n).name" : "aggregate it: count(\(n)), sum(\(n).amount)"])
        }
        throw fail("unknown name '\(n)'", range,
            hints: relation.map { ["columns here: " + $0.columns.prefix(12).map(\.name).joined(separator: ", ")] } ?? [])
    }

    /// `account.owner.name` from an order: the joins along the forward links, then the
    /// column of the last target.
    func member(_ e: Expr, _ field: String, _ range: SourceRange) throws -> SQLValue {
        var path: [String] = []
        var x = e
        while true {
            switch x.kind {
            case .member(let b, let n): path.insert(n, at: 0); x = b; continue
            case .name(let n): path.insert(n, at: 0)
            default: throw unsupported("a field of this value", range)
            }
            break
        }
        guard let rel = relation, let entityName = rel.entity, var entity = schema.entities[entityName] else {
            throw unsupported("a link here (the rows are no longer rows of an entity)", range,
                hints: ["read the linked column before aggregate, distinct or join: derive region = account.region"])
        }
        if path.count == 1, rel.column(path[0]) != nil {
            throw unsupported("a field of a column", range)
        }
        var from = alias
        var key = ""
        for (k, step) in path.enumerated() {
            // A link a column took the name of is NAME_ref; before the column is there (a
            // manifest's derived column, computed on the rows as read) it is still NAME.
            let ref = k == 0 && entity.forward[step] == nil && rel.column(step) == nil ? entity.forward[step + "_ref"] : nil
            guard let f = entity.forward[step] ?? ref, let target = schema.entities[f.target] else {
                if entity.reverse[step] != nil {
                    throw unsupported("'\(step)' (a reverse link: many rows) outside an aggregate", range,
                        hints: ["aggregate it: sum(\(step).\(field)), count(\(step))"])
                }
                throw fail("'\(step)' is not a link of \(entity.name)", range,
                    hints: entity.forward.isEmpty ? [] : ["links: " + entity.forward.keys.sorted().joined(separator: ", ")])
            }
            key += (key.isEmpty ? "" : ".") + step
            // The first hop reads the link's value as loaded (carried hidden), later hops the
            // target table's own column.
            // (A link whose column was derived after the rows were read, as a manifest's
            // derived account_id, reads the column itself.)
            let carried = rel.hidden.contains("__fk_" + f.column) || rel.column(f.column) == nil
            let fk = k == 0 && carried ? "\(from).\(q("__fk_" + f.column))" : "\(from).\(q(f.column))"
            if let j = joins.first(where: { $0.key == key }) {
                from = j.alias
            } else {
                let a = "l\(joins.count + 1)_\(step)"
                let text = schema.textSides(ref: (entity.name, f.column), key: (target.name, f.key))
                joins.append((key, "LEFT JOIN \(q(target.table)) AS \(a) ON \(asText("\(a).\(q(f.key))", text.key)) = \(asText(fk, text.ref))", a))
                from = a
            }
            entity = target
        }
        guard let c = entity.column(field) else {
            if entity.forward[field] != nil { throw unsupported("the link '\(field)' as a value", range, hints: ["read a column through it: \(field).name"]) }
            throw fail("\(entity.name) has no column '\(field)'", range,
                hints: [Suggest.hint(field, in: entity.columns.map(\.name)) ?? "columns: " + entity.columns.map(\.name).joined(separator: ", ")])
        }
        return SQLValue("\(from).\(q(field))", c.type)
    }

    /// An aggregate over a reverse link, per row: `sum(orders.amount)`, `count(orders)`, and
    /// along further links from there: `count(contacts.interactions)` (every interaction of
    /// every contact), `sum(orders.product.list_price)` (each order's product). `path` is
    /// the member chain as written; nil when it does not start with a reverse link.
    func reverseAggregate(_ fn: String, _ path: [String], extra: [Arg], _ range: SourceRange) throws -> SQLValue? {
        guard let rel = relation, let entityName = rel.entity, let entity = schema.entities[entityName],
              let link = path.first, let r = entity.reverse[link], var current = schema.entities[r.source] else { return nil }
        if aggregating && !insideAggregate {
            throw unsupported("a reverse link inside aggregate", range, hints: ["derive it per row first: derive n = count(\(link)) | aggregate ..."])
        }
        // The joins inside the subquery: more reverse links (every row), forward links (the
        // one row, or none when the reference dangles).
        var from = "s"
        var inner = ""
        var chain = link
        // A forward link ends the chain: its rows are the distinct rows it leads to (an
        // account's orders reach each product once, as in kam), so the subquery reads the
        // distinct references first and joins the target to them.
        var forward: (link: SQLSchema.Forward, table: String)? = nil
        var forwardText = (ref: false, key: false)
        var field: String? = nil
        for (k, step) in path.enumerated().dropFirst() {
            if forward == nil, let next = current.reverse[step], let target = schema.entities[next.source] {
                let a = "s\(k)"
                let text = schema.textSides(ref: (target.name, next.column), key: (current.name, next.key))
                inner += " JOIN \(q(target.table)) AS \(a) ON \(asText("\(a).\(q(next.column))", text.ref)) = \(asText("\(from).\(q(next.key))", text.key))"
                from = a
                current = target
                chain += "." + step
            } else if forward == nil, let f = current.forward[step], let target = schema.entities[f.target] {
                forwardText = schema.textSides(ref: (current.name, f.column), key: (target.name, f.key))
                forward = (f, target.table)
                current = target
                chain += "." + step
            } else if k == path.count - 1 {
                field = step
            } else if forward != nil {
                throw unsupported("a link after '\(path[k - 1])' (a link to one row, inside an aggregate over many)", range,
                    hints: ["read a column of \(current.name) there: sum(\(path[0..<k].joined(separator: ".")).COLUMN)"])
            } else {
                throw fail("'\(step)' is not a link of \(current.name)", range,
                    hints: current.forward.isEmpty && current.reverse.isEmpty ? [] : ["links: " + (Array(current.forward.keys) + Array(current.reverse.keys)).sorted().joined(separator: ", ")])
            }
        }
        var source = "\(q(schema.entities[r.source]?.table ?? r.source)) AS s\(inner)"
        var reachedVia: String? = nil
        if let (f, table) = forward {
            source = "(SELECT DISTINCT s.\(q(r.column)), \(from).\(q(f.column)) AS \(q("__r")) FROM \(source)) AS s "
                + "JOIN \(q(table)) AS f ON \(asText("f.\(q(f.key))", forwardText.key)) = \(asText("s.\(q("__r"))", forwardText.ref))"
            from = "f"
            reachedVia = "f.\(q(f.key))"
        }
        var valueSQL = "1"
        var type: SQLType = .int
        if let field {
            guard let c = current.column(field) else {
                throw fail("\(current.name) has no column '\(field)'", range,
                    hints: [Suggest.hint(field, in: current.columns.map(\.name)) ?? "columns: " + current.columns.map(\.name).joined(separator: ", ")])
            }
            valueSQL = "\(from).\(q(field))"
            type = c.type
        } else if fn != "count" {
            throw fail("\(fn) needs a column: \(fn)(\(chain).amount)", range)
        }
        let aggregate: String
        let outType: SQLType
        var fallback: String? = nil
        switch fn {
        case "sum":
            guard type.isNumber || type == .null else { throw fail("sum needs numbers, got \(type.name)", range) }
            outType = type == .float ? .float : .int
            aggregate = outType == .int ? "CAST(SUM(\(valueSQL)) AS BIGINT)" : dialect.floatSum(valueSQL)
            fallback = outType == .float ? "0.0" : "0"
        case "count":
            // A row reached through a forward link last counts when the link leads to one.
            aggregate = field != nil ? "COUNT(\(valueSQL))" : reachedVia.map { "COUNT(\($0))" } ?? "COUNT(*)"
            outType = .int
            fallback = "0"
        case "count_distinct":
            guard field != nil else { throw fail("count_distinct needs a column: count_distinct(\(chain).product_id)", range) }
            aggregate = "COUNT(DISTINCT \(valueSQL))"
            outType = .int
            fallback = "0"
        case "avg":
            // The mean of a compensated sum, as kam's, where the engine compensates.
            aggregate = type == .float ? "(\(dialect.floatSum(valueSQL)) / COUNT(\(valueSQL)))" : "AVG(\(dialect.toFloat(valueSQL)))"
            outType = .float
        case "min", "max":
            // Text by its code points, as kam orders it (PostgreSQL's collation would not).
            aggregate = "\(fn.uppercased())(\(dialect.byteOrder(valueSQL, type)))"
            outType = type
        case "median", "percentile", "stddev":
            guard type.isNumber || type == .null else { throw fail("\(fn) needs numbers, got \(type.name)", range) }
            var p = "0.5"
            if fn == "percentile" {
                guard extra.count == 1 else { throw fail("percentile needs a value and p from 0 to 1: percentile(\(chain).amount, 0.9)", range) }
                p = try compile(extra[0].value).sql
            }
            let x = dialect.toFloat(valueSQL)
            guard let s = fn == "stddev" ? dialect.stddev(x) : dialect.percentile(x, p) else { throw unsupported("\(fn) over a reverse link", range) }
            aggregate = s
            outType = .float
        default:
            throw unsupported("\(fn) over a reverse link", range)
        }
        // One grouped subquery per chain of links, with every aggregate the step reads
        // through it: one scan of the orders for revenue, count and last date.
        let key = "rev:\(chain)"
        let a: String
        if let j = joins.first(where: { $0.key == key }) {
            a = j.alias
        } else {
            a = "g\(joins.count + 1)_\(chain.replacingOccurrences(of: ".", with: "_"))"
            joins.append((key, "", a))
            let carried = rel.hidden.contains("__key_" + r.key) || rel.column(r.key) == nil
            // The steps of a statement share one subquery per chain (a CTE): one scan of the
            // orders for a where on count(orders) and a derive of sum(orders.amount) after it.
            let shared = compiler.sharingGroups ? compiler.sharedGroup(chain: chain, column: r.column, source: source) : nil
            let text = schema.textSides(ref: (r.source, r.column), key: (entityName, r.key))
            grouped[a] = (r.column, source, carried ? "__key_" + r.key : r.key, [], shared, text)
        }
        guard var g = grouped[a] else { throw fail("\(fn) over \(chain)", range) }
        let column: String
        if let shared = g.shared {
            column = compiler.sharedAggregate(shared, aggregate)
        } else if let k = g.aggregates.firstIndex(of: aggregate) {
            column = "v\(k + 1)"
        } else {
            g.aggregates.append(aggregate)
            column = "v\(g.aggregates.count)"
        }
        grouped[a] = g
        let v = "\(a).\(column)"
        return SQLValue(fallback.map { "COALESCE(\(v), \($0))" } ?? v, outType)
    }

    /// The grouped subqueries over reverse links, by alias: the link's column, the source
    /// table with the joins along the chain, the hidden key it matches, and the aggregates
    /// (v1, v2, ...); or the statement's shared CTE that holds them.
    var grouped: [String: (column: String, src: String, key: String, aggregates: [String], shared: String?, text: (ref: Bool, key: Bool))] = [:]

    func joinClause(_ j: (key: String, sql: String, alias: String)) -> String {
        guard let g = grouped[j.alias] else { return j.sql }
        let on = "\(asText("\(j.alias).k", g.text.ref)) = \(asText("\(alias).\(q(g.key))", g.text.key))"
        if let shared = g.shared { return "LEFT JOIN \(q(shared)) AS \(j.alias) ON \(on)" }
        return "LEFT JOIN (\(compiler.groupSQL(column: g.column, source: g.src, aggregates: g.aggregates))) AS \(j.alias) ON \(on)"
    }

    /// A link's side read as text (`SQLSchema.textSides`).
    func asText(_ sql: String, _ yes: Bool) -> String { yes ? "CAST(\(sql) AS \(dialect.typeName(.string)))" : sql }

    // MARK: expressions

    func compile(_ e: Expr) throws -> SQLValue {
        switch e.kind {
        case .null: return SQLValue("NULL", .null)
        case .bool(let b): return SQLValue(dialect.bool(b), .bool)
        case .int(let n): return SQLValue(n < 0 ? "(\(n))" : "\(n)", .int)
        case .float(let x):
            guard x.isFinite else { throw fail("a number beyond the float range", e.range) }
            var s = "\(x)"
            if !s.contains(".") && !s.contains("e") { s += ".0" }
            return SQLValue(dialect.toFloat(s), .float)
        case .string(let s): return SQLValue(dialect.string(s), .string)
        case .date(let d): return SQLValue(dialect.date(KamSyntax.Calendar.format(d)), .date)
        case .duration(let months, let days):
            guard months == 0 else {
                throw unsupported("a duration in months outside date arithmetic", e.range, hints: ["add it to a date: date + \(months)mo"])
            }
            return SQLValue("\(days)", .duration)
        case .interpolation(let parts):
            var pieces: [String] = []
            for p in parts {
                switch p {
                case .text(let t): pieces.append(dialect.string(t))
                case .expr(let x):
                    let v = try compile(x)
                    switch v.type {
                    case .string: pieces.append("COALESCE(\(v.sql), 'null')")
                    case .int, .date: pieces.append("COALESCE(CAST(\(v.sql) AS \(dialect.typeName(.string))), 'null')")
                    default: throw unsupported("a \(v.type.name) inside a string (kam writes it its own way)", x.range)
                    }
                }
            }
            return SQLValue("(" + (pieces.isEmpty ? "''" : pieces.joined(separator: " || ")) + ")", .string)
        case .name(let n): return try column(n, e.range)
        case .param(let n):
            guard let v = compiler.params[n] else { throw fail("no value for $\(n)", e.range, hints: ["pass it: --param \(n)=..."]) }
            if let i = Int64(v) { return SQLValue("\(i)", .int) }
            if let x = Double(v), x.isFinite { return SQLValue(dialect.toFloat("\(x)"), .float) }
            if let d = KamSyntax.Calendar.parse(Array(v.utf8)) { return SQLValue(dialect.date(KamSyntax.Calendar.format(d)), .date) }
            return SQLValue(dialect.string(v), .string)
        case .member(let b, let field): return try member(b, field, e.range)
        case .unary(.negate, let x):
            let v = try compile(x)
            guard v.type.isNumber || v.type == .null else { throw fail("cannot negate \(v.type.name)", e.range) }
            return SQLValue("(-\(v.sql))", v.type)
        case .unary(.not, let x):
            let v = try compile(x)
            guard v.type == .bool || v.type == .null else { throw fail("not needs true or false, got \(v.type.name)", e.range) }
            return SQLValue("(NOT \(v.sql))", .bool)
        case .and(let a, let b):
            return try logical("AND", a, b, e.range)
        case .or(let a, let b):
            return try logical("OR", a, b, e.range)
        case .coalesce(let a, let b):
            let x = try compile(a), y = try compile(b)
            let t = x.type == .null ? y.type : x.type
            return SQLValue("COALESCE(\(x.sql), \(y.sql))", t == .int && y.type == .float ? .float : t)
        case .binary(let op, let a, let b):
            return try binary(op, a, b, e.range)
        case .call(let callee, let args, let piped):
            guard case .name(let fn) = callee.kind, !piped else { throw unsupported("this call", e.range) }
            return try call(fn, args, e.range)
        case .list:
            throw unsupported("a list", e.range, hints: ["a list compiles only after in: region in [\"EMEA\", \"NA\"]"])
        case .record: throw unsupported("a record", e.range)
        case .index: throw unsupported("indexing", e.range)
        case .lambda: throw unsupported("a function", e.range)
        case .block: throw unsupported("a block", e.range)
        }
    }

    func logical(_ op: String, _ a: Expr, _ b: Expr, _ range: SourceRange) throws -> SQLValue {
        let x = try compile(a), y = try compile(b)
        for v in [(x, a), (y, b)] where v.0.type != .bool && v.0.type != .null {
            throw fail("\(op.lowercased()) needs true or false, got \(v.0.type.name)", v.1.range)
        }
        return SQLValue("(\(x.sql) \(op) \(y.sql))", .bool)
    }

    func binary(_ op: BinaryOp, _ a: Expr, _ b: Expr, _ range: SourceRange) throws -> SQLValue {
        // `x == null`, `x != null`: null tests.
        if op == .eq || op == .ne {
            if case .null = b.kind { return SQLValue("(\(try compile(a).sql) IS \(op == .eq ? "" : "NOT ")NULL)", .bool) }
            if case .null = a.kind { return SQLValue("(\(try compile(b).sql) IS \(op == .eq ? "" : "NOT ")NULL)", .bool) }
        }
        if op == .inList || op == .notIn, case .list(let items) = b.kind {
            let x = try compile(a)
            var parts: [String] = []
            for item in items {
                if case .null = item.kind {
                    throw unsupported("null in a list after in", item.range, hints: ["test for null apart: x == null or x in [...]"])
                }
                let v = try compile(item)
                try comparable(x, v, range)
                parts.append(v.sql)
            }
            if parts.isEmpty { return SQLValue("(CASE WHEN \(x.sql) IS NULL THEN NULL ELSE \(dialect.bool(op == .notIn)) END)", .bool) }
            return SQLValue("(\(x.sql) \(op == .notIn ? "NOT IN" : "IN") (\(parts.joined(separator: ", "))))", .bool)
        }
        // A date moved by a duration literal (months and days).
        if (op == .add || op == .sub) && isDuration(b) {
            let x = try compile(a)
            if x.type == .date || x.type == .null { return SQLValue(try shift(x.sql, b, negate: op == .sub), .date) }
        }
        if op == .add && isDuration(a) {
            let y = try compile(b)
            if y.type == .date || y.type == .null { return SQLValue(try shift(y.sql, a, negate: false), .date) }
        }
        let x = try compile(a), y = try compile(b)
        switch op {
        case .add, .sub:
            if x.type == .date && (y.type == .duration || isMonths(b)) {
                return SQLValue(try shift(x.sql, b, negate: op == .sub), .date)
            }
            if op == .add && x.type == .duration && y.type == .date { return SQLValue(try shift(y.sql, a, negate: false), .date) }
            if op == .sub && x.type == .date && y.type == .date { return SQLValue(dialect.daysBetween(x.sql, y.sql), .duration) }
            if op == .add && x.type == .string && y.type == .string { return SQLValue("(\(x.sql) || \(y.sql))", .string) }
            if x.type == .duration && y.type == .duration { return SQLValue("(\(x.sql) \(op.rawValue) \(y.sql))", .duration) }
            return try arithmetic(op, x, y, range)
        case .mul:
            return try arithmetic(op, x, y, range)
        case .div:
            try numeric(x, y, "/", range)
            return SQLValue("(\(dialect.toFloat(x.sql)) / \(y.sql))", .float)
        case .mod:
            try numeric(x, y, "%", range)
            if x.type == .float || y.type == .float {
                // The remainder with the sign of the left side, as kam's (C's fmod), written
                // out: the engines' own float remainders differ.
                let fx = dialect.toFloat(x.sql), fy = dialect.toFloat(y.sql)
                return SQLValue("(\(fx) - \(fy) * \(dialect.truncFloat("\(fx) / \(fy)")))", .float)
            }
            return SQLValue("(\(x.sql) % \(y.sql))", .int)
        case .eq, .ne, .lt, .le, .gt, .ge:
            try comparable(x, y, range)
            let sqlOp = op == .eq ? "=" : op == .ne ? "<>" : op.rawValue
            let l = x.type == .string || y.type == .string ? dialect.byteOrder(x.sql, .string) : x.sql
            return SQLValue("(\(l) \(sqlOp) \(y.sql))", .bool)
        case .inList, .notIn:
            // A substring test: "Ac" in name.
            guard (x.type == .string || x.type == .null) && (y.type == .string || y.type == .null) else {
                throw unsupported("in with \(y.type.name) on the right", range, hints: ["in takes a list of values or a text: region in [\"EMEA\"]"])
            }
            // As kam: the empty text is in no text (and null is in nothing, nothing in null).
            let test = "(CASE WHEN \(x.sql) IS NULL OR \(y.sql) IS NULL THEN NULL WHEN \(x.sql) = '' THEN \(dialect.bool(false)) ELSE \(dialect.position(x.sql, in: y.sql)) > 0 END)"
            return SQLValue(op == .notIn ? "(NOT \(test))" : test, .bool)
        case .match:
            guard x.type == .string || x.type == .null, y.type == .string else { throw fail("~ matches text with a pattern", range) }
            guard let m = dialect.matches(x.sql, y.sql) else {
                throw unsupported("~ (regular expressions)", range, hints: ["contains(name, \"Ac\"), starts_with and ends_with compile everywhere"])
            }
            return SQLValue(m, .bool)
        }
    }

    func isDuration(_ e: Expr) -> Bool {
        if case .duration = e.kind { return true }
        return false
    }

    func isMonths(_ e: Expr) -> Bool {
        if case .duration(let m, _) = e.kind, m != 0 { return true }
        return false
    }

    /// A date plus or minus a duration: months first, then days, as kam.
    func shift(_ date: String, _ durationExpr: Expr, negate: Bool) throws -> String {
        if case .duration(let months, let days) = durationExpr.kind {
            var d = date
            let sign: Int32 = negate ? -1 : 1
            if months != 0 { d = dialect.addMonths(d, "\(sign * months)") }
            if days != 0 { d = dialect.addDays(d, "\(sign * days)") }
            return d
        }
        let v = try compile(durationExpr)
        guard v.type == .duration else { throw fail("a date moves by a duration, got \(v.type.name)", durationExpr.range) }
        return dialect.addDays(date, negate ? "-(\(v.sql))" : v.sql)
    }

    func numeric(_ x: SQLValue, _ y: SQLValue, _ op: String, _ range: SourceRange) throws {
        for v in [x, y] where !(v.type.isNumber || v.type == .null) {
            throw fail("'\(op)' needs numbers, got \(v.type.name)", range)
        }
    }

    func arithmetic(_ op: BinaryOp, _ x: SQLValue, _ y: SQLValue, _ range: SourceRange) throws -> SQLValue {
        try numeric(x, y, op.rawValue, range)
        let t: SQLType = x.type == .float || y.type == .float ? .float : (x.type == .null ? y.type : x.type) == .null ? .null : .int
        let e = "(\(x.sql) \(op.rawValue) \(y.sql))"
        // SQLite turns an int that overflows into a float without a word; kam stops.
        if dialect == .sqlite && t == .int && x.type == .int && y.type == .int {
            return SQLValue("(CASE WHEN typeof(\(e)) = 'real' THEN \(dialect.raise("integer overflow in '\(op.rawValue)'", value: e, as: .int)) ELSE \(e) END)", .int)
        }
        return SQLValue(e, t == .null ? .int : t)
    }

    func comparable(_ x: SQLValue, _ y: SQLValue, _ range: SourceRange) throws {
        if x.type == .null || y.type == .null || x.type == .unknown || y.type == .unknown { return }
        if x.type.isNumber && y.type.isNumber { return }
        if x.type == y.type { return }
        if x.type == .date && y.type == .string || x.type == .string && y.type == .date {
            throw fail("cannot compare date with string", range, hints: ["drop the quotes: 2025-01-01 is a date literal"])
        }
        throw fail("cannot compare \(x.type.name) with \(y.type.name)", range)
    }

    // MARK: calls

    func positional(_ args: [Arg]) -> [Arg] { args.filter { $0.style == .positional } }

    /// What kam's trim removes: Unicode's white space and line breaks (Foundation's
    /// whitespacesAndNewlines, which takes the zero-width space too).
    static let whitespace: [Unicode.Scalar] = ([0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680] + Array(0x2000...0x200B)
        + [0x2028, 0x2029, 0x202F, 0x205F, 0x3000]).compactMap(Unicode.Scalar.init)

    /// The names of a member chain (`contacts.interactions.date`), nil for anything else.
    static func chain(_ e: Expr) -> [String]? {
        switch e.kind {
        case .name(let n): return [n]
        case .member(let b, let n): return chain(b).map { $0 + [n] }
        default: return nil
        }
    }

    func call(_ fn: String, _ args: [Arg], _ range: SourceRange) throws -> SQLValue {
        let p = positional(args)
        // Aggregates: over a reverse link per row, or over the group inside aggregate.
        if ["sum", "avg", "min", "max", "count", "count_distinct", "median", "percentile", "stddev"].contains(fn) {
            if let first = p.first {
                if let path = Self.chain(first.value), let v = try reverseAggregate(fn, path, extra: Array(p.dropFirst()), range) { return v }
            }
            if aggregating && !insideAggregate { return try groupAggregate(fn, p, range) }
            if (fn == "min" || fn == "max") && p.count >= 2 { return try leastGreatest(fn, p, range) }
            throw unsupported("\(fn) here", range, hints: ["aggregates compile inside aggregate, as a stage (| sum(amount)) or over a link (sum(orders.amount))"])
        }
        switch fn {
        case "row_number", "lag", "lead", "cumsum", "rank":
            return try windowCall(fn, p, range)
        default:
            return try scalarCall(fn, p, range)
        }
    }

    func groupAggregate(_ fn: String, _ p: [Arg], _ range: SourceRange) throws -> SQLValue {
        insideAggregate = true
        defer { insideAggregate = false }
        if fn == "count" && p.isEmpty { return SQLValue("COUNT(*)", .int) }
        guard let first = p.first else { throw fail("\(fn) needs a value", range) }
        let v = try compile(first.value)
        switch fn {
        case "sum":
            guard v.type.isNumber || v.type == .null else { throw fail("sum needs numbers, got \(v.type.name)", first.value.range) }
            // An int sum stays a 64-bit int (DuckDB sums to HUGEINT, PostgreSQL to NUMERIC).
            if v.type == .float { return SQLValue("COALESCE(\(dialect.floatSum(v.sql)), \(dialect.toFloat("0.0")))", .float) }
            return SQLValue("COALESCE(CAST(SUM(\(v.sql)) AS BIGINT), 0)", .int)
        case "avg":
            guard v.type.isNumber || v.type == .null else { throw fail("avg needs numbers, got \(v.type.name)", first.value.range) }
            if v.type == .float { return SQLValue("(\(dialect.floatSum(v.sql)) / COUNT(\(v.sql)))", .float) }
            return SQLValue("AVG(\(dialect.toFloat(v.sql)))", .float)
        case "min", "max": return SQLValue("\(fn.uppercased())(\(dialect.byteOrder(v.sql, v.type)))", v.type)
        case "count": return SQLValue("COUNT(\(v.sql))", .int)
        case "count_distinct": return SQLValue("COUNT(DISTINCT \(v.sql))", .int)
        case "median", "percentile":
            var pSQL = "0.5"
            if fn == "percentile" {
                guard p.count == 2 else { throw fail("percentile needs a value and p from 0 to 1", range) }
                pSQL = try compile(p[1].value).sql
            }
            guard let s = dialect.percentile(dialect.toFloat(v.sql), pSQL) else { throw unsupported(fn, range) }
            return SQLValue(s, .float)
        case "stddev":
            guard let s = dialect.stddev(dialect.toFloat(v.sql)) else { throw unsupported("stddev", range) }
            return SQLValue(s, .float)
        default: throw unsupported(fn, range)
        }
    }

    /// `max(x, 0)`: the largest (smallest) of several values that are not null, as kam's;
    /// null when all are.
    func leastGreatest(_ fn: String, _ p: [Arg], _ range: SourceRange) throws -> SQLValue {
        let vs = try p.map { try compile($0.value) }
        let t: SQLType = vs.contains { $0.type == .float } ? .float : vs.first(where: { $0.type != .null })?.type ?? .null
        let op = fn == "max" ? ">=" : "<="
        var acc = vs[0].sql
        for v in vs.dropFirst() {
            let a = acc, b = v.sql
            acc = "(CASE WHEN \(a) IS NULL THEN \(b) WHEN \(b) IS NULL THEN \(a) WHEN \(dialect.byteOrder(a, t)) \(op) \(b) THEN \(a) ELSE \(b) END)"
        }
        return SQLValue(acc, t)
    }

    func windowCall(_ fn: String, _ p: [Arg], _ range: SourceRange) throws -> SQLValue {
        guard relation != nil, !aggregating else { throw fail("\(fn) works inside a table stage", range) }
        let w = compiler.window(partition)
        switch fn {
        case "row_number": return SQLValue("ROW_NUMBER() OVER (\(w))", .int)
        case "lag", "lead":
            guard let first = p.first else { throw fail("\(fn) needs a value", range) }
            let v = try compile(first.value)
            var n = "1"
            if p.count > 1 {
                guard case .int(let k) = p[1].value.kind, k >= 0 else { throw fail("\(fn) needs a row offset of 0 or more", p[1].value.range) }
                n = "\(k)"
            }
            let d = p.count > 2 ? try compile(p[2].value).sql : "NULL"
            return SQLValue("\(fn.uppercased())(\(v.sql), \(n), \(d)) OVER (\(w))", v.type)
        case "cumsum":
            guard let first = p.first else { throw fail("cumsum needs a value", range) }
            let v = try compile(first.value)
            guard v.type.isNumber || v.type == .null else { throw fail("cumsum needs numbers, got \(v.type.name)", range) }
            let zero = v.type == .float ? dialect.toFloat("0.0") : "0"
            let frame = "\(w) ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
            let running = v.type == .float ? dialect.floatSum(v.sql, over: frame) : "SUM(\(v.sql)) OVER (\(frame))"
            return SQLValue("COALESCE(\(v.type == .float ? running : "CAST(\(running) AS BIGINT)"), \(zero))", v.type == .float ? .float : .int)
        default:
            throw unsupported("rank (kam ranks runs of equal values in the current order)", range,
                hints: ["row_number() after a sort compiles: sort -revenue | derive r = row_number()"])
        }
    }

    func one(_ fn: String, _ p: [Arg], _ range: SourceRange, _ types: [SQLType]) throws -> SQLValue {
        guard p.count == 1 else { throw fail("\(fn) takes one value", range) }
        let v = try compile(p[0].value)
        guard types.contains(v.type) || v.type == .null else {
            throw fail("\(fn) needs \(types.map(\.name).joined(separator: " or ")), got \(v.type.name)", p[0].value.range)
        }
        return v
    }

    func scalarCall(_ fn: String, _ p: [Arg], _ range: SourceRange) throws -> SQLValue {
        let text: [SQLType] = [.string]
        let numbers: [SQLType] = [.int, .float]
        switch fn {
        case "today":
            return SQLValue(dialect.date(KamSyntax.Calendar.format(compiler.today)), .date)
        case "lower", "upper":
            guard dialect != .sqlite else { throw unsupported(fn, range, hints: ["SQLite changes the case of ASCII letters only"]) }
            return SQLValue("\(fn.uppercased())(\(try one(fn, p, range, text).sql))", .string)
        case "trim":
            // kam trims whitespace and newlines as Unicode defines them (tabs, line breaks,
            // no-break spaces, ...); an engine's TRIM alone takes spaces only.
            let chars = dialect.string(String(String.UnicodeScalarView(Self.whitespace)))
            let x = try one(fn, p, range, text).sql
            switch dialect {
            case .postgres: return SQLValue("btrim(\(x), \(chars))", .string)
            case .spark: return SQLValue("trim(BOTH \(chars) FROM \(x))", .string)
            default: return SQLValue("trim(\(x), \(chars))", .string)
            }
        case "len":
            return SQLValue(dialect.length(try one(fn, p, range, text).sql), .int)
        case "abs":
            let v = try one(fn, p, range, numbers)
            return SQLValue("ABS(\(v.sql))", v.type)
        case "floor", "ceil":
            let v = try one(fn, p, range, numbers)
            if v.type == .int { return v }
            let f = fn == "ceil" && dialect == .sqlite ? "ceiling" : fn.uppercased()
            if dialect == .sqlite {
                // SQLite has floor and ceiling only with its math functions: say it with CAST.
                let s = fn == "floor"
                    ? "(CASE WHEN \(v.sql) < CAST(\(v.sql) AS INTEGER) THEN CAST(\(v.sql) AS INTEGER) - 1 ELSE CAST(\(v.sql) AS INTEGER) END)"
                    : "(CASE WHEN \(v.sql) > CAST(\(v.sql) AS INTEGER) THEN CAST(\(v.sql) AS INTEGER) + 1 ELSE CAST(\(v.sql) AS INTEGER) END)"
                _ = f
                return SQLValue(s, .int)
            }
            return SQLValue("CAST(\(f)(\(v.sql)) AS BIGINT)", .int)
        case "round":
            guard p.count == 1 || p.count == 2 else { throw fail("round takes a value and digits", range) }
            let v = try compile(p[0].value)
            guard v.type.isNumber || v.type == .null else { throw fail("round needs a number, got \(v.type.name)", p[0].value.range) }
            var digits: Int64 = 0
            if p.count == 2 {
                guard case .int(let d) = p[1].value.kind, d >= 0, d <= 15 else { throw unsupported("round with these digits", p[1].value.range) }
                digits = d
            }
            if v.type == .int { return v }
            // As kam: x scaled by 10^digits, rounded half away from zero (PostgreSQL rounds
            // floats half to even, numerics not), divided back as floats.
            // With digits, a tie as written (1.005, a little below it in binary) goes away
            // from zero as kam's round does: the scaled value is moved out by a few units in
            // the last place first.
            let scale = digits == 0 ? "" : " * \(dialect.toFloat("1e\(digits)")) * \(dialect.toFloat("1.0000000000000008"))"
            let scaled = "(\(dialect.toFloat(v.sql))\(scale))"
            let arg = dialect == .postgres ? "CAST(\(scaled) AS NUMERIC)" : scaled
            if p.count == 1 || digits == 0 { return SQLValue("CAST(ROUND(\(arg)) AS BIGINT)", .int) }
            return SQLValue("(\(dialect.toFloat("ROUND(\(arg))")) / \(dialect.toFloat("1e\(digits)")))", .float)
        case "sqrt", "ln", "exp":
            guard dialect != .sqlite else { throw unsupported(fn, range, hints: ["SQLite has no math functions by default"]) }
            let v = try one(fn, p, range, numbers)
            return SQLValue("\(fn.uppercased())(\(dialect.toFloat(v.sql)))", .float)
        case "div":
            guard p.count == 2 else { throw fail("div takes two numbers", range) }
            let a = try compile(p[0].value), b = try compile(p[1].value)
            guard a.type == .int || a.type == .null, b.type == .int || b.type == .null else { throw unsupported("div of floats", range) }
            return SQLValue(dialect.floorDiv(a.sql, b.sql), .int)
        case "coalesce":
            guard !p.isEmpty else { throw fail("coalesce needs values", range) }
            let vs = try p.map { try compile($0.value) }
            let t = vs.contains { $0.type == .float } ? .float : vs.first(where: { $0.type != .null })?.type ?? .null
            return SQLValue("COALESCE(\(vs.map(\.sql).joined(separator: ", ")))", t)
        case "if":
            guard p.count == 3 else { throw fail("if takes a condition and two values", range) }
            let c = try compile(p[0].value), a = try compile(p[1].value), b = try compile(p[2].value)
            guard c.type == .bool || c.type == .null else { throw fail("if needs a condition, got \(c.type.name)", p[0].value.range) }
            let t = a.type == .null ? b.type : (b.type == .float && a.type == .int ? .float : a.type)
            return SQLValue("(CASE WHEN \(c.sql) THEN \(a.sql) ELSE \(b.sql) END)", t)
        case "contains", "starts_with", "ends_with":
            guard p.count == 2 else { throw fail("\(fn) takes a text and what to look for", range) }
            let s = try compile(p[0].value), part = try compile(p[1].value)
            for v in [s, part] where v.type != .string && v.type != .null { throw fail("\(fn) needs text, got \(v.type.name)", range) }
            switch fn {
            case "contains":
                return SQLValue("(CASE WHEN \(s.sql) IS NULL OR \(part.sql) IS NULL THEN NULL WHEN \(part.sql) = '' THEN \(dialect.bool(false)) ELSE \(dialect.position(part.sql, in: s.sql)) > 0 END)", .bool)
            case "starts_with": return SQLValue("(substr(\(s.sql), 1, \(dialect.length(part.sql))) = \(part.sql))", .bool)
            default:
                return SQLValue("(\(dialect.length(part.sql)) <= \(dialect.length(s.sql)) AND substr(\(s.sql), \(dialect.length(s.sql)) - \(dialect.length(part.sql)) + 1) = \(part.sql))", .bool)
            }
        case "year", "month", "day", "quarter":
            let v = try one(fn, p, range, [.date])
            guard let s = dialect.datePart(fn, v.sql) else { throw unsupported(fn, range) }
            return SQLValue(s, .int)
        case "trunc":
            guard p.count == 2, case .string(let unit) = p[1].value.kind else { throw fail("trunc takes a date and a unit: trunc(date, \"month\")", range) }
            let v = try compile(p[0].value)
            guard v.type == .date || v.type == .null else { throw fail("trunc needs a date, got \(v.type.name)", p[0].value.range) }
            guard let s = dialect.truncate(v.sql, unit) else { throw unsupported("trunc to '\(unit)'", p[1].value.range) }
            return SQLValue(s, .date)
        case "days_since":
            let v = try one(fn, p, range, [.date])
            return SQLValue(dialect.daysBetween(dialect.date(KamSyntax.Calendar.format(compiler.today)), v.sql), .int)
        case "days_between":
            guard p.count == 2 else { throw fail("days_between takes two dates: days_between(first, last)", range) }
            let a = try compile(p[0].value), b = try compile(p[1].value)
            for (v, arg) in [(a, p[0]), (b, p[1])] where v.type != .date && v.type != .null {
                throw fail("days_between needs dates, got \(v.type.name)", arg.value.range)
            }
            return SQLValue(dialect.daysBetween(b.sql, a.sql), .int)
        case "days":
            let v = try one(fn, p, range, [.duration])
            return SQLValue(v.sql, .int)
        case "float":
            let v = try one(fn, p, range, [.int, .float])
            return SQLValue(dialect.toFloat(v.sql), .float)
        case "is_null":
            guard p.count == 1 else { throw fail("is_null takes one value", range) }
            return SQLValue("(\(try compile(p[0].value).sql) IS NULL)", .bool)
        default:
            throw unsupported("the function '\(fn)'", range)
        }
    }
}
