import KamEngine
import KamData
import KamSyntax

/// The table verbs: where, select, derive, sort, take, skip, top, aggregate, distinct, join,
/// count, first. Each takes its input table as the first argument (`t | where ...` is
/// `where(t, ...)`) and its row expressions unevaluated, to run them per row.
public enum Verbs {
    public static let list: [Builtin] = [
        Builtin("where", ["table", "condition"], .verb, "Keep the rows where the condition is true: accounts | where tier == \"key\".", .special(whereVerb)),
        Builtin("select", ["table", "columns..."], .verb, "Keep or compute columns: select name, revenue, owner.name as kam.", .special(selectVerb)),
        Builtin("derive", ["table", "columns..."], .verb, "Add or replace columns: derive margin = revenue - cost.", .special(deriveVerb)),
        Builtin("sort", ["table", "keys..."], .verb, "Sort rows by keys ('-' for descending; stable; nulls last): sort -revenue, name.", .special(sortVerb)),
        Builtin("take", ["table", "n"], .verb, "The first n rows (or list items).", .special(takeVerb)),
        Builtin("skip", ["table", "n"], .verb, "All but the first n rows (or list items).", .special(skipVerb)),
        Builtin("top", ["table", "n", "by"], .verb, "The n rows with the largest value: top 10 by revenue.", .special(topVerb)),
        Builtin("aggregate", ["table", "aggregates...", "by?"], .verb, "Group and summarise: aggregate revenue = sum(amount), n = count() by region.", .special(aggregateVerb)),
        Builtin("distinct", ["table", "columns..."], .verb, "Unique rows, or unique values of the given columns, in first-seen order.", .special(distinctVerb)),
        Builtin("join", ["table", "other", "on", "side?"], .verb, "Join rows whose keys match: orders | join products on product_id == id (side: \"left\" keeps unmatched rows).", .special(joinVerb)),
        Builtin("first", ["table"], .verb, "The first row of a table or item of a list, null when empty.", .special(firstVerb)),
    ]

    /// The options each verb takes: the verbs check them at run time, the checker before.
    public static let options: [String: [String]] = [
        "where": [], "select": [], "derive": [], "sort": [], "take": [], "skip": [], "top": ["by"],
        "aggregate": ["by"], "distinct": [], "join": ["side", "on"], "first": [],
    ]

    // MARK: naming

    /// The column name an argument produces: its alias or assigned name, else the column or
    /// field it reads, else its source text.
    public static func columnName(_ arg: Arg, _ interp: Interpreter) -> String { columnName(arg, source: interp.currentSource) }

    public static func columnName(_ arg: Arg, source: Source) -> String {
        if let a = arg.alias { return a }
        if arg.style == .assign, let n = arg.name { return n }
        return naturalName(arg.value, source: source)
    }

    public static func naturalName(_ e: Expr, _ interp: Interpreter) -> String { naturalName(e, source: interp.currentSource) }

    /// `revenue` for a column, `name` for `owner.name`, `sum_amount` for `sum(amount)`,
    /// else the expression's source text. The checker names columns with the same rule.
    public static func naturalName(_ e: Expr, source: Source) -> String {
        switch e.kind {
        case .name(let n): return n
        case .member(_, let n): return n
        case .call(let callee, let args, false):
            if case .name(let f) = callee.kind {
                if args.isEmpty { return f }
                if args.count == 1, case .name = args[0].value.kind { return f + "_" + naturalName(args[0].value, source: source) }
                if args.count == 1, case .member = args[0].value.kind { return f + "_" + naturalName(args[0].value, source: source) }
            }
            return source.slice(e.range)
        default: return source.slice(e.range)
        }
    }

    // MARK: verbs

    public static func whereVerb(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(options[site.builtin.name] ?? [])
        if let a = site.args.first(where: { $0.style == .assign }) {
            throw site.interp.fail("'=' in a condition", a.value.range, hints: ["use '==' to compare: where \(a.name ?? "x") == ..."])
        }
        let p = site.positional
        guard p.count == 2 else {
            throw site.fail(p.count < 2 ? "where needs a condition" : "where takes one condition, got \(p.count - 1)",
                hints: p.count > 2 ? ["combine conditions with 'and': where a > 1 and b < 2"] : ["usage: table | where condition"])
        }
        let input = try site.eval(p[0].value)
        if case .list(let xs) = input {
            // `where` on a list: the condition sees each item as `it`.
            let scopeEnv = Env(parent: site.env)
            var out: [Value] = []
            for x in xs {
                scopeEnv.vars["it"] = x
                if case .record(let r) = x { for (k, v) in zip(r.keys, r.values) { scopeEnv.vars[k] = v } }
                if case .bool(true) = try site.interp.eval(p[1].value, scopeEnv) { out.append(x) }
            }
            return .list(out)
        }
        let t = try site.asTable(input, p[0].value.range)
        let rows = try site.interp.selectRows(p[1].value, over: t, site.env)
        if rows.count == t.count { return .table(t) }
        return .table(t.gather(rows))
    }

    public static func selectVerb(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(options[site.builtin.name] ?? [])
        let t = try site.inputTable()
        let items = Array(site.args.dropFirst())
        guard !items.isEmpty else { throw site.fail("select needs at least one column", hints: ["usage: table | select a, b, c as d"]) }
        var names: [String] = []
        var columns: [Column] = []
        for item in items {
            if item.clause != nil { throw site.interp.fail("select takes no '\(item.clause ?? "")' clause", item.value.range) }
            let name = columnName(item, site.interp)
            let col = try site.interp.evalColumn(item.value, over: t, site.env)
            if let i = names.firstIndex(of: name) {
                throw site.interp.fail("duplicate column '\(name)' in select", item.value.range, hints: ["rename one with 'as': \(names[i]) as other_name"])
            }
            names.append(name)
            columns.append(col)
        }
        return .table(t.with(names: names, columns: columns))
    }

    public static func deriveVerb(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(options[site.builtin.name] ?? [])
        let t = try site.inputTable()
        let keys = site.args.dropFirst().filter { $0.clause == "by" }
        let items = Array(site.args.dropFirst().filter { $0.clause != "by" })
        guard !items.isEmpty else { throw site.fail("derive needs at least one column", hints: ["usage: table | derive name = expression"]) }
        if let k = keys.first(where: { $0.style == .assign }), let n = k.name {
            throw site.interp.fail("'\(n) = ...' after by is not a column: derive takes its keys last", k.value.range,
                hints: ["write the columns first, then by KEY"])
        }
        for item in items where item.clause != nil {
            throw site.interp.fail("derive takes no '\(item.clause ?? "")' clause", item.value.range, hints: ["derive ... by KEY computes each group apart"])
        }
        guard !keys.isEmpty else { return .table(try derive(items, over: t, &site)) }
        // derive ... by KEY: each group is derived on its own (a rank, a running total, a
        // share of the group's sum), and the rows keep their order.
        let keyColumns = try keys.map { try site.interp.evalColumn($0.value, over: t, site.env) }
        var groups: [[HashKey]: [Int]] = [:]
        var order: [[HashKey]] = []
        for i in 0..<t.count {
            let k = keyColumns.map { HashKey($0.value(at: i)) }
            if groups[k] == nil { order.append(k) }
            groups[k, default: []].append(i)
        }
        var names: [String] = []
        var values: [[Value]] = []
        for k in order {
            guard let rows = groups[k] else { continue }
            let part = try derive(items, over: t.gather(rows), &site)
            if names.isEmpty {
                names = part.names
                values = [[Value]](repeating: [Value](repeating: .null, count: t.count), count: names.count)
            }
            for (c, name) in names.enumerated() {
                guard let col = part.column(name) else { continue }
                for (j, r) in rows.enumerated() { values[c][r] = col.value(at: j) }
            }
        }
        if names.isEmpty { return .table(try derive(items, over: t, &site)) }
        // The input's own columns as they were; the derived ones from the groups.
        var outNames = t.names, outColumns = t.columns
        for (c, name) in names.enumerated() where !t.names.contains(name) || items.contains(where: { columnName($0, site.interp) == name }) {
            let col = Column.from(values[c])
            if let i = outNames.firstIndex(of: name) { outColumns[i] = col } else { outNames.append(name); outColumns.append(col) }
        }
        return .table(t.with(names: outNames, columns: outColumns))
    }

    static func derive(_ items: [Arg], over input: Table, _ site: inout CallSite) throws -> Table {
        var t = input
        for item in items {
            guard item.style == .assign || item.alias != nil else {
                throw site.interp.fail("derive needs a name for each column", item.value.range,
                    hints: ["write: derive new_name = \(site.interp.currentSource.slice(item.value.range))"])
            }
            let name = columnName(item, site.interp)
            let col = try site.interp.evalColumn(item.value, over: t, site.env)
            // Each new column is visible to the next ones; a mapped table's others stay unread.
            t = t.setting(col, as: name)
        }
        return t
    }

    /// One sort key: its values per row and direction.
    public struct SortKey {
        public var column: Column
        public var descending: Bool
    }

    /// A sort key as written: `-revenue` is revenue, descending. One rule for the stages,
    /// the checker and the SQL compiler.
    public static func sortKey(_ e: Expr) -> (key: Expr, negated: Bool) {
        if case .unary(.negate, let inner) = e.kind { return (inner, true) }
        return (e, false)
    }

    public static func sortKeys(_ args: [Arg], over t: Table, _ site: CallSite, defaultDescending: Bool = false) throws -> [SortKey] {
        try args.map { arg in
            let (e, negated) = sortKey(arg.value)
            let desc = negated ? !defaultDescending : defaultDescending
            return SortKey(column: try site.interp.evalColumn(e, over: t, site.env), descending: desc)
        }
    }

    /// A stable ordering of rows by the keys; nulls last in either direction.
    public static func order(_ t: Table, _ keys: [SortKey], _ site: CallSite) throws -> [Int] {
        var idx = Array(0..<t.count)
        // Typed fast path: one numeric key without nulls.
        if keys.count == 1, keys[0].column.validity == nil {
            let desc = keys[0].descending
            switch keys[0].column.storage {
            case .int(let a) where a.count > 4096:
                return RadixSort.order(a.map { UInt64(bitPattern: $0) ^ (1 << 63) }, descending: desc)
            case .float(let a) where a.count > 4096 && !a.contains(where: \.isNaN):
                return RadixSort.order(a.map(RadixSort.key), descending: desc)
            case .int(let a):
                idx.sort { desc ? (a[$0] != a[$1] ? a[$0] > a[$1] : $0 < $1) : (a[$0] != a[$1] ? a[$0] < a[$1] : $0 < $1) }
                return idx
            case .float(let a) where !a.contains(where: \.isNaN):
                // Sort (key, row) pairs: contiguous, no closure captures of the column.
                var pairs = a.enumerated().map { FloatKey(value: desc ? -$0.element : $0.element, row: Int32(truncatingIfNeeded: $0.offset)) }
                pairs.sort()
                return pairs.map { Int($0.row) }
            default: break
            }
        }
        var failure: Diagnostic? = nil
        idx.sort { i, j in
            for k in keys {
                let x = k.column.value(at: i), y = k.column.value(at: j)
                if x.isNull && y.isNull { continue }
                if x.isNull { return false }
                if y.isNull { return true }
                guard let c = x.compare(y) else {
                    if failure == nil { failure = site.fail("sort cannot compare \(x.typeName) with \(y.typeName)") }
                    return i < j
                }
                if c != 0 { return k.descending ? c > 0 : c < 0 }
            }
            return i < j
        }
        if let failure { throw failure }
        return idx
    }

    public static func sortVerb(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(options[site.builtin.name] ?? [])
        let input = try site.eval(site.positional.first?.value ?? Expr(.null, site.range))
        if case .list(let xs) = input {
            // sort on a list: by the items, or by a key function.
            var keys = xs
            if site.args.count > 2 { throw site.fail("sort on a list takes at most one key function") }
            if site.args.count == 2 {
                let k = try site.eval(site.args[1].value)
                guard case .function(let f) = k else {
                    throw site.interp.fail("sort on a list takes a key function, got \(k.aTypeName)", site.args[1].value.range, hints: ["write: sort(xs, x => x.amount)"])
                }
                keys = try xs.map { try site.interp.apply(f, [$0], site.range) }
            }
            let interp = site.interp, range = site.range
            return .list(try NativeFunctions.sortList(xs, keys: keys, fail: { interp.fail($0, range) }))
        }
        let t = try site.asTable(input, site.args.first?.value.range ?? site.range)
        let keyArgs = Array(site.args.dropFirst())
        guard !keyArgs.isEmpty else { throw site.fail("sort needs at least one key", hints: ["usage: table | sort -revenue, name"]) }
        let keys = try sortKeys(keyArgs, over: t, site)
        return .table(t.gather(try order(t, keys, site)))
    }

    public static func count(_ site: CallSite, _ verb: String) throws -> Int {
        let p = site.positional
        guard p.count == 2 else { throw site.fail("\(verb) needs a number of rows", hints: ["usage: table | \(verb) 10"]) }
        let v = try site.eval(p[1].value)
        guard case .int(let n) = v else {
            throw site.interp.fail("\(verb) needs a whole number, got \(v.aTypeName)", p[1].value.range)
        }
        guard n >= 0 else { throw site.interp.fail("\(verb) needs a number of 0 or more, got \(n)", p[1].value.range) }
        return Int(clamping: n)
    }

    public static func takeVerb(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(options[site.builtin.name] ?? [])
        let n = try count(site, "take")
        let input = try site.eval(site.positional[0].value)
        if case .list(let xs) = input { return .list(Array(xs.prefix(n))) }
        let t = try site.asTable(input, site.positional[0].value.range)
        if n >= t.count { return .table(t) }
        return .table(t.gather(Array(0..<n)))
    }

    public static func skipVerb(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(options[site.builtin.name] ?? [])
        let n = try count(site, "skip")
        let input = try site.eval(site.positional[0].value)
        if case .list(let xs) = input { return .list(Array(xs.dropFirst(n))) }
        let t = try site.asTable(input, site.positional[0].value.range)
        if n == 0 { return .table(t) }
        return .table(t.gather(Array(min(n, t.count)..<t.count)))
    }

    public static func topVerb(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(options[site.builtin.name] ?? [])
        let n = try count(site, "top")
        let t = try site.inputTable()
        var by = site.clause("by")
        if let named = site.named("by") { by.append(Arg(named.value)) }
        guard !by.isEmpty else { throw site.fail("top needs 'by': the value to rank by", hints: ["usage: table | top 10 by revenue"]) }
        let keys = try sortKeys(by, over: t, site, defaultDescending: true)
        if let picked = topIndices(keys, n, t.count) { return .table(t.gather(picked)) }
        let order = try Verbs.order(t, keys, site)
        return .table(t.gather(Array(order.prefix(n))))
    }

    /// The first n rows of a stable sort by one numeric key without nulls, found with a
    /// bounded heap instead of sorting everything (top 10 of 150,000 rows).
    public static func topIndices(_ keys: [SortKey], _ n: Int, _ count: Int) -> [Int]? {
        guard keys.count == 1, keys[0].column.validity == nil, n < count / 8 else { return nil }
        let desc = keys[0].descending
        let values: [Double]
        switch keys[0].column.storage {
        case .float(let xs): values = xs
        case .int(let xs):
            // Ints beyond 2^53 would collide as doubles: leave them to the full sort.
            guard xs.allSatisfy({ abs($0) < 1 << 53 }) else { return nil }
            values = xs.map(Double.init)
        default: return nil
        }
        guard !values.contains(where: \.isNaN) else { return nil }
        // "a before b" in the final order.
        @inline(__always) func before(_ a: Int, _ b: Int) -> Bool {
            let x = values[a], y = values[b]
            if x != y { return desc ? x > y : x < y }
            return a < b
        }
        // A max-heap (by "before") of the best n so far: its root is the worst kept row.
        var heap: [Int] = []
        heap.reserveCapacity(n)
        func siftUp(_ i: Int) {
            var i = i
            while i > 0 {
                let p = (i - 1) / 2
                if before(heap[p], heap[i]) { heap.swapAt(p, i); i = p } else { break }
            }
        }
        func siftDown(_ i: Int) {
            var i = i
            while true {
                let l = 2 * i + 1, r = l + 1
                var worst = i
                if l < heap.count && before(heap[worst], heap[l]) { worst = l }
                if r < heap.count && before(heap[worst], heap[r]) { worst = r }
                if worst == i { return }
                heap.swapAt(i, worst)
                i = worst
            }
        }
        if n == 0 { return [] }
        for i in 0..<count {
            if heap.count < n {
                heap.append(i)
                siftUp(heap.count - 1)
            } else if let root = heap.first, before(i, root) {
                heap[0] = i
                siftDown(0)
            }
        }
        return heap.sorted(by: before)
    }

    public static func firstVerb(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(options[site.builtin.name] ?? [])
        guard site.positional.count == 1 else { throw site.fail("first takes one table or list", hints: ["usage: table | first"]) }
        let v = try site.eval(site.positional[0].value)
        switch v {
        case .null: return .null
        case .table(let t): return t.count > 0 ? .row(t, 0) : .null
        case .list(let xs): return xs.first ?? .null
        default: throw site.interp.fail("first needs a table or a list, got \(v.aTypeName)", site.positional[0].value.range)
        }
    }

    public static func distinctVerb(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(options[site.builtin.name] ?? [])
        let input = try site.eval(site.positional.first?.value ?? Expr(.null, site.range))
        if case .list(let xs) = input, site.args.count < 2 {
            var seen = Set<HashKey>()
            return .list(xs.filter { seen.insert(HashKey($0)).inserted })
        }
        var t = try site.asTable(input, site.args.first?.value.range ?? site.range)
        let items = Array(site.args.dropFirst())
        if !items.isEmpty {
            var names: [String] = [], columns: [Column] = []
            for item in items {
                names.append(columnName(item, site.interp))
                columns.append(try site.interp.evalColumn(item.value, over: t, site.env))
            }
            t = Table(names: names, columns: columns, count: t.count, name: t.name)
        }
        var seen = Set<HashKey>()
        var keep: [Int] = []
        for i in 0..<t.count {
            let key: Value = t.columns.count == 1 ? t.column(at: 0).value(at: i) : .list(t.columns.map { $0.value(at: i) })
            if seen.insert(HashKey(key)).inserted { keep.append(i) }
        }
        return .table(keep.count == t.count ? t : t.gather(keep))
    }

    public static func aggregateVerb(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(options[site.builtin.name] ?? [])
        let t = try site.inputTable()
        var byArgs = site.clause("by")
        if let named = site.named("by") {
            if case .list(let items) = named.value.kind { byArgs += items.map { Arg($0) } } else { byArgs.append(Arg(named.value)) }
        }
        let aggs = site.args.dropFirst().filter { $0.clause == nil && $0.style != .named }
        guard !aggs.isEmpty else { throw site.fail("aggregate needs at least one aggregate", hints: ["usage: table | aggregate total = sum(amount), n = count() by region"]) }
        // Keys per row, then groups in key order (nulls last).
        let keyNames = byArgs.map { columnName($0, site.interp) }
        for (i, k) in keyNames.enumerated() where keyNames[..<i].contains(k) {
            throw site.interp.fail("duplicate column '\(k)' in aggregate", byArgs[i].value.range,
                hints: ["name the key: other_name = \(site.interp.currentSource.slice(byArgs[i].value.range))"])
        }
        let keyColumns = try byArgs.map { try site.interp.evalColumn($0.value, over: t, site.env) }
        if site.interp.options.evaluation == .columnar, let fast = try GroupBy.run(t, keyNames: keyNames, keys: keyColumns, aggs: Array(aggs), site) {
            return .table(fast)
        }
        var groupOf: [HashKey: Int] = [:]
        var groupKeys: [[Value]] = []
        var groupRows: [[Int]] = []
        if keyColumns.isEmpty {
            groupKeys = [[]]
            groupRows = [Array(0..<t.count)]
        } else {
            for i in 0..<t.count {
                let k = keyColumns.map { $0.value(at: i) }
                let hk = HashKey(k.count == 1 ? k[0] : .list(k))
                if let g = groupOf[hk] {
                    groupRows[g].append(i)
                } else {
                    groupOf[hk] = groupKeys.count
                    groupKeys.append(k)
                    groupRows.append([i])
                }
            }
        }
        var order = Array(groupKeys.indices)
        order.sort { a, b in
            for (x, y) in zip(groupKeys[a], groupKeys[b]) {
                if x.isNull && y.isNull { continue }
                if x.isNull { return false }
                if y.isNull { return true }
                if let c = x.compare(y), c != 0 { return c < 0 }
            }
            return a < b
        }
        var outNames = keyNames
        var outValues = [[Value]](repeating: [], count: keyNames.count)
        for g in order { for (k, v) in groupKeys[g].enumerated() { outValues[k].append(v) } }
        for agg in aggs {
            let name = columnName(agg, site.interp)
            if outNames.contains(name) {
                throw site.interp.fail("duplicate column '\(name)' in aggregate", agg.value.range, hints: ["name it: other_name = ..."])
            }
            var values: [Value] = []
            values.reserveCapacity(order.count)
            for g in order {
                let scope = GroupScope(table: t, rows: groupRows[g], keys: Record(keys: keyNames, values: groupKeys[g]))
                let env = Env(parent: site.env, group: scope)
                values.append(try site.interp.eval(agg.value, env))
            }
            outNames.append(name)
            outValues.append(values)
        }
        return .table(Table(names: outNames, columns: outValues.map { Column.from($0) }, count: order.count))
    }

    public static func joinVerb(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(options[site.builtin.name] ?? [])
        let left = try site.inputTable()
        let p = site.positional
        guard p.count >= 2 else { throw site.fail("join needs a table to join with", hints: ["usage: orders | join products on product_id == id"]) }
        let right = try site.asTable(try site.eval(p[1].value), p[1].value.range)
        var onArgs = site.clause("on")
        if let named = site.named("on") { onArgs.append(named) }
        guard onArgs.count == 1, let cond = onArgs.first?.value else {
            throw site.fail("join needs one 'on' condition", hints: ["usage: orders | join products on product_id == id"])
        }
        var side = "inner"
        if let s = site.named("side") {
            guard case .string(let v) = try site.eval(s.value), v == "inner" || v == "left" else {
                throw site.interp.fail("join side must be \"inner\" or \"left\"", s.value.range)
            }
            side = v
        }
        // Equality pairs joined by 'and': left operand reads the input, right the other table.
        var pairs: [(Expr, Expr)] = []
        func collect(_ e: Expr) throws {
            switch e.kind {
            case .and(let a, let b): try collect(a); try collect(b)
            case .binary(.eq, let a, let b): pairs.append((a, b))
            default:
                throw site.interp.fail("join needs equality conditions: left_key == right_key", e.range,
                    hints: ["the left side of == reads the input table, the right side the joined table"])
            }
        }
        try collect(cond)
        let leftKeys = try pairs.map { try site.interp.evalColumn($0.0, over: left, site.env) }
        let rightKeys = try pairs.map { try site.interp.evalColumn($0.1, over: right, site.env) }
        func key(_ cols: [Column], _ i: Int) -> HashKey? {
            let vs = cols.map { $0.value(at: i) }
            if vs.contains(where: \.isNull) { return nil }  // null never matches
            return HashKey(vs.count == 1 ? vs[0] : .list(vs))
        }
        var index: [HashKey: [Int]] = [:]
        for j in 0..<right.count { if let k = key(rightKeys, j) { index[k, default: []].append(j) } }
        var li: [Int] = [], ri: [Int?] = []
        for i in 0..<left.count {
            try site.interp.checkCancelled(site.range)
            if let k = key(leftKeys, i), let matches = index[k] {
                for j in matches { li.append(i); ri.append(j) }
            } else if side == "left" {
                li.append(i); ri.append(nil)
            }
        }
        var names = left.names
        var columns = left.columns.map { $0.gather(li) }
        let prefix = right.name ?? "right"
        for (c, n) in right.names.enumerated() {
            var name = n
            if names.contains(name) { name = prefix + "_" + n }
            var k = 2
            while names.contains(name) { name = prefix + "_" + n + "_\(k)"; k += 1 }
            names.append(name)
            let col = right.column(at: c)
            if ri.allSatisfy({ $0 != nil }) {
                columns.append(col.gather(ri.map { $0 ?? 0 }))
            } else {
                columns.append(Column.from(ri.map { $0.map { col.value(at: $0) } ?? .null }))
            }
        }
        return .table(Table(names: names, columns: columns, count: li.count, name: left.name))
    }
}

/// `aggregate` with at most one key over typed columns, and aggregates that are `count()`
/// or sum/avg/min/max/count of a typed column: group ids from dictionary codes or a typed
/// hash, then one typed pass per aggregate. Anything else returns nil (the general path).
public enum GroupBy {
    /// `aggregate` over typed columns: each row's group as an integer (its keys' ranks in
    /// key order, nulls last, combined), the reductions typed over the group ids. Nil where
    /// the general path is needed (a key or aggregate it does not type; names that clash).
    public static func run(_ t: Table, keyNames: [String], keys keyColumns: [Column], aggs: [Arg], _ site: CallSite) throws -> Table? {
        if t.count == 0 { return nil }
        // What each aggregate reads.
        // (name, reduction, column); no column: count() of the group's rows.
        var plan: [(String, Reduce.Op, Column?, SourceRange)] = []
        for a in aggs {
            guard case .call(let callee, let args, false) = a.value.kind, case .name(let fn) = callee.kind,
                site.env.lookupVariable(fn) == nil, args.allSatisfy({ $0.style == .positional })
            else { return nil }
            let name = Verbs.columnName(a, site.interp)
            if fn == "count" && args.isEmpty { plan.append((name, .count, nil, a.value.range)); continue }
            guard args.count == 1, case .name(let col) = args[0].value.kind, site.env.lookupVariable(col) == nil,
                let c = t.columnIndex(col)
            else { return nil }
            let column = t.column(at: c)
            switch (fn, column.storage) {
            case ("sum", .int), ("sum", .float), ("avg", .int), ("avg", .float): break
            case ("min", .int), ("min", .float), ("max", .int), ("max", .float), ("min", .date), ("max", .date): break
            case ("count", _): break
            default: return nil
            }
            guard let op = Reduce.Op(rawValue: fn) else { return nil }
            plan.append((name, op, column, a.value.range))
        }
        let allNames = plan.map(\.0) + keyNames
        if Set(allNames).count != allNames.count { return nil }  // the general path reports it
        let n = t.count
        // Each key's groups; then rows with the same ranks of every key are one group, and
        // the groups' order is their ranks' order, key by key (the general path's order).
        var perKey: [(gid: [Int32], keys: [Value])] = []
        for key in keyColumns {
            guard let g = keyGroups(of: key, n) else { return nil }
            perKey.append(g)
        }
        var gid = [Int32](repeating: 0, count: n)
        var keyValues: [[Value]] = []
        if perKey.count == 1 {
            gid = perKey[0].gid
            keyValues = [perKey[0].keys]
        } else if perKey.count > 1 {
            // Mixed radix: the last key varies fastest, so the composite's order is the keys'.
            var strides = [Int64](repeating: 1, count: perKey.count)
            var total: Int64 = 1
            for k in perKey.indices.reversed() {
                strides[k] = total
                let (p, over) = total.multipliedReportingOverflow(by: Int64(max(1, perKey[k].keys.count)))
                if over || p > Int64(1) << 62 { return nil }
                total = p
            }
            var composite = [Int64](repeating: 0, count: n)
            for k in perKey.indices {
                let stride = strides[k]
                perKey[k].gid.withUnsafeBufferPointer { g in
                    composite.withUnsafeMutableBufferPointer { c in
                        for i in 0..<n { c[i] &+= Int64(g[i]) &* stride }
                    }
                }
            }
            var dense: [Int64: Int32] = [:]
            var distinct: [Int64] = []
            for i in 0..<n {
                if let g = dense[composite[i]] { gid[i] = g } else {
                    let g = Int32(distinct.count)
                    dense[composite[i]] = g
                    distinct.append(composite[i])
                    gid[i] = g
                }
            }
            // Renumber groups in composite order.
            let order = distinct.indices.sorted { distinct[$0] < distinct[$1] }
            var renumber = [Int32](repeating: 0, count: order.count)
            for (newG, oldG) in order.enumerated() { renumber[oldG] = Int32(newG) }
            for i in 0..<n { gid[i] = renumber[Int(gid[i])] }
            keyValues = perKey.indices.map { k in
                order.map { g in perKey[k].keys[Int((distinct[g] / strides[k]) % Int64(max(1, perKey[k].keys.count)))] }
            }
        }
        let groups = keyColumns.isEmpty ? 1 : keyValues.first?.count ?? 0
        var names: [String] = []
        var columns: [Column] = []
        for (name, values) in zip(keyNames, keyValues) {
            names.append(name)
            columns.append(Column.from(values))
        }
        var counts = [Int64](repeating: 0, count: groups)
        for i in 0..<n { counts[Int(gid[i])] += 1 }
        for (name, op, column, range) in plan {
            names.append(name)
            guard let column else {
                columns.append(Column(storage: .int(counts)))
                continue
            }
            columns.append(try reduce(op, column, gid, groups, site, at: range))
        }
        return Table(names: names, columns: columns, count: groups)
    }

    /// One key column's group per row and each group's key, in key order (nulls last);
    /// nil for a column kind the general path groups.
    static func keyGroups(of key: Column, _ n: Int) -> (gid: [Int32], keys: [Value])? {
        var gid = [Int32](repeating: 0, count: n)
        var keys: [Value] = []
        do {
            switch key.storage {
            case .string(let s):
                var used = [Int32](repeating: -1, count: s.dictionary.count + 1)
                let nullSlot = s.dictionary.count
                for i in 0..<n { used[key.isValid(i) ? Int(s.codes[i]) : nullSlot] = 0 }
                var order = (0..<s.dictionary.count).filter { used[$0] >= 0 }.sorted { s.dictionary[$0] < s.dictionary[$1] }
                if used[nullSlot] >= 0 { order.append(nullSlot) }
                for (g, code) in order.enumerated() {
                    used[code] = Int32(g)
                    keys.append(code == nullSlot ? .null : .string(s.dictionary[code]))
                }
                for i in 0..<n { gid[i] = used[key.isValid(i) ? Int(s.codes[i]) : nullSlot] }
            case .int(let xs):
                var map: [Int64: Int32] = [:]
                var firstRow: [Int] = []
                var nullGroup: Int32 = -1
                for i in 0..<n {
                    if !key.isValid(i) {
                        if nullGroup < 0 { nullGroup = Int32(firstRow.count); firstRow.append(-1) }
                        gid[i] = nullGroup
                        continue
                    }
                    if let g = map[xs[i]] { gid[i] = g } else {
                        let g = Int32(firstRow.count)
                        map[xs[i]] = g
                        firstRow.append(i)
                        gid[i] = g
                    }
                }
                // Renumber groups in key order.
                let order = firstRow.indices.sorted { a, b in
                    let ra = firstRow[a], rb = firstRow[b]
                    if ra < 0 { return false }
                    if rb < 0 { return true }
                    return xs[ra] < xs[rb]
                }
                var renumber = [Int32](repeating: 0, count: order.count)
                for (newG, oldG) in order.enumerated() {
                    renumber[oldG] = Int32(newG)
                    keys.append(firstRow[oldG] < 0 ? .null : .int(xs[firstRow[oldG]]))
                }
                for i in 0..<n { gid[i] = renumber[Int(gid[i])] }
            default:
                return nil
            }
        }
        return (gid, keys)
    }

    /// `at`: the aggregate's call, where its error points (as the per-group path's does).
    public static func reduce(_ op: Reduce.Op, _ c: Column, _ gid: [Int32], _ groups: Int, _ site: CallSite, at range: SourceRange) throws -> Column {
        do {
            if let r = try Reduce.grouped(op, c, gid: gid, groups: groups) { return r }
        } catch {
            throw site.interp.fail(error.message, range, hints: error.hints)
        }
        return Column(storage: .values([Value](repeating: .null, count: groups)), validity: Bitmap(count: groups, allValid: false))
    }

}

