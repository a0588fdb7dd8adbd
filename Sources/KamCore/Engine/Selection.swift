/// Conditional evaluation over whole columns: `if`, `and`, `or` and `??` evaluate each
/// branch only on the rows that take it (a selection), so a built-in that fails on some
/// input (ln of 0, 1 / 0, div of a float) never runs on a row whose branch is not taken,
/// exactly as the row-at-a-time interpreter would. The parts are merged into one column
/// typed as `Column.from` would type the same values row by row.
enum Selection {
    /// The value of `e` on `rows` of `t` (increasing), or nil when there are no rows: an
    /// empty selection evaluates nothing at all.
    static func eval(_ e: Expr, _ t: Table, _ rows: [Int], _ env: Env, _ interp: Interpreter) throws -> Column? {
        if rows.isEmpty { return nil }
        if rows.count == t.count { return try interp.evalColumn(e, over: t, env, final: false) }
        return try interp.evalColumn(e, over: t.narrowed(to: rows, reading: e), env, final: false)
    }

    /// Whether `e` calls a window function (cumsum, lag, rank, ...): those read the whole
    /// table in order, so their branch may not run on a subset of its rows.
    static func readsWindow(_ e: Expr) -> Bool {
        var found = false
        e.visit { node in
            if case .call(let callee, _, _) = node.kind, case .name(let n) = callee.kind, Builtins.table[n]?.category == .window {
                found = true
            }
        }
        return found
    }

    /// A per-row truth value: true, false or null; nil when the value is not a bool.
    enum Truth { case yes, no, unknown }

    /// The truth of each row of a condition column, or the first row that is not a bool.
    static func truths(_ c: Column) -> Result<[Truth], NotBool> {
        var out = [Truth](repeating: .unknown, count: c.count)
        switch c.storage {
        case .bool(let bs):
            for i in 0..<c.count where c.isValid(i) { out[i] = bs[i] ? .yes : .no }
        case .values(let vs):
            for i in 0..<c.count where c.isValid(i) {
                switch vs[i] {
                case .bool(let b): out[i] = b ? .yes : .no
                case .null: break
                default: return .failure(NotBool(value: vs[i]))
                }
            }
        default:
            for i in 0..<c.count where c.isValid(i) { return .failure(NotBool(value: c.value(at: i))) }
        }
        return .success(out)
    }

    struct NotBool: Error { let value: Value }

    /// Rows of a result computed in parts (each part's column holds the values of its rows,
    /// in order); rows in no part are null. Ints and floats from different parts stay boxed
    /// (each value as it was), as they would flowing row by row into the next function.
    static func merge(_ parts: [(column: Column?, rows: [Int])], count n: Int) -> Column {
        enum Kind { case int, float, bool, date, string, boxed }
        var kinds: [Kind] = []
        for (c, _) in parts {
            guard let c, hasValue(c) else { continue }
            switch c.storage {
            case .int: kinds.append(.int)
            case .float: kinds.append(.float)
            case .bool: kinds.append(.bool)
            case .date: kinds.append(.date)
            case .string: kinds.append(.string)
            case .values: kinds.append(.boxed)
            }
        }
        var validity = Bitmap(count: n, allValid: false)
        var anyNull = false
        for (c, rows) in parts {
            guard let c else { continue }
            for (k, r) in rows.enumerated() where c.isValid(k) { validity[r] = true }
        }
        for i in 0..<n where !validity[i] { anyNull = true; break }
        let valid: Bitmap? = anyNull ? validity : nil
        let unique = Set(kinds.map { "\($0)" })
        func scatter<T>(_ zero: T, _ read: (Column) -> [T]?) -> [T] {
            var out = [T](repeating: zero, count: n)
            for (c, rows) in parts {
                guard let c, let xs = read(c) else { continue }
                for (k, r) in rows.enumerated() { out[r] = xs[k] }
            }
            return out
        }
        if unique == ["int"] {
            return Column(storage: .int(scatter(0) { if case .int(let xs) = $0.storage { xs } else { nil } }), validity: valid)
        }
        if unique == ["float"] {
            return Column(storage: .float(scatter(0.0) { if case .float(let xs) = $0.storage { xs } else { nil } }), validity: valid)
        }
        if unique == ["bool"] {
            return Column(storage: .bool(scatter(false) { if case .bool(let xs) = $0.storage { xs } else { nil } }), validity: valid)
        }
        if unique == ["date"] {
            return Column(storage: .date(scatter(Int32(0)) { if case .date(let xs) = $0.storage { xs } else { nil } }), validity: valid)
        }
        if unique == ["string"] {
            var dictionary: [String] = [], lookup: [String: UInt32] = [:]
            var codes = [UInt32](repeating: 0, count: n)
            for (c, rows) in parts {
                guard let c, case .string(let s) = c.storage else { continue }
                let remap = s.dictionary.map { word -> UInt32 in
                    if let code = lookup[word] { return code }
                    let code = UInt32(dictionary.count)
                    lookup[word] = code
                    dictionary.append(word)
                    return code
                }
                for (k, r) in rows.enumerated() { codes[r] = remap[Int(s.codes[k])] }
            }
            return Column(storage: .string(StringColumn(codes: codes, dictionary: dictionary.isEmpty ? [""] : dictionary)), validity: valid)
        }
        var values = [Value](repeating: .null, count: n)
        for (c, rows) in parts {
            guard let c else { continue }
            for (k, r) in rows.enumerated() { values[r] = c.value(at: k) }
        }
        return Column.from(values, widening: false)
    }

    /// Whether row `i` of `c` is null.
    @inline(__always) static func isNull(_ c: Column, _ i: Int) -> Bool {
        guard c.isValid(i) else { return true }
        if case .values(let vs) = c.storage { return vs[i].isNull }
        return false
    }

    /// Whether any row of `c` holds a value (not null).
    static func hasValue(_ c: Column) -> Bool {
        if case .values(let vs) = c.storage {
            for i in 0..<c.count where c.isValid(i) && !vs[i].isNull { return true }
            return false
        }
        guard let v = c.validity else { return c.count > 0 }
        for i in 0..<c.count where v[i] { return true }
        return false
    }
}

extension Table {
    /// Rows `rows` of the table with only the columns `e` may read (all of them when it
    /// reads the row itself as `it`); links keep working through the origin.
    func narrowed(to rows: [Int], reading e: Expr) -> Table {
        var names = Set<String>()
        e.visit { node in if case .name(let n) = node.kind { names.insert(n) } }
        if names.contains("it") { return gather(rows) }
        var keptNames: [String] = [], kept: [Column] = []
        for (i, n) in self.names.enumerated() where names.contains(n) && !keptNames.contains(n) {
            keptNames.append(n)
            kept.append(columns[i].gather(rows))
        }
        return Table(names: keptNames, columns: kept, count: rows.count, name: name, origin: origin?.gather(rows))
    }
}

extension Expr {
    /// Calls `body` on this node and every node below it, in source order.
    func visit(_ body: (Expr) -> Void) {
        body(self)
        switch kind {
        case .null, .bool, .int, .float, .string, .date, .duration, .name, .param: break
        case .interpolation(let parts):
            for case .expr(let x) in parts { x.visit(body) }
        case .list(let xs): for x in xs { x.visit(body) }
        case .record(let fields): for (_, x) in fields { x.visit(body) }
        case .unary(_, let x): x.visit(body)
        case .binary(_, let a, let b), .and(let a, let b), .or(let a, let b), .coalesce(let a, let b):
            a.visit(body)
            b.visit(body)
        case .member(let x, _): x.visit(body)
        case .index(let x, let i):
            x.visit(body)
            i.visit(body)
        case .call(let callee, let args, _):
            callee.visit(body)
            for a in args { a.value.visit(body) }
        case .lambda(_, let b): b.visit(body)
        case .block(let stmts, let value):
            for s in stmts { s.visit(body) }
            value.visit(body)
        }
    }
}

extension Stmt {
    /// Calls `body` on every expression node of the statement.
    func visit(_ body: (Expr) -> Void) {
        switch kind {
        case .letBinding(_, let v): v.visit(body)
        case .function(_, _, let b): b.visit(body)
        case .importModule: break
        case .parameter(_, let v): v?.visit(body)
        case .assertion(let c, let m):
            c.visit(body)
            m?.visit(body)
        case .expression(let e): e.visit(body)
        }
    }
}
