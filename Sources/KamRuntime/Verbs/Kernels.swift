import KamEngine
import KamData
import KamSyntax

/// Compiles row expressions into whole-column operations, so a stage does no per-row
/// dispatch through boxed values: column references, literals and parameters, `+ - * / %`,
/// comparisons, forward-link paths, aggregates over reverse links, `cumsum`, eager
/// built-ins over kernel arguments (called once when every argument is constant), and
/// `if`/`and`/`or`/`??`, whose branches run only on the rows that take them (Selection).
/// Anything else (lambdas, user functions, member access on values...) runs through the
/// interpreter row by row. Results match the interpreter exactly; the differential tests
/// run the golden corpus and generated expressions both ways.
public enum Kernels {
    /// A column-at-a-time value: a typed column or one constant for every row.
    public enum Vec {
        case column(Column)
        case constant(Value)
    }

    public static func compile(_ e: Expr, table: Table, env: Env, interp: Interpreter) throws -> Column? {
        // No rows, nothing evaluated: the row-at-a-time interpreter runs nothing either.
        if table.count == 0 { return Column.from([]) }
        let plan = lower(e, table, env, interp)
        if case .rows = plan { return nil }
        switch try run(plan, table, env, interp) {
        case .column(let c): return c
        case .constant(let v): return broadcast(v, table.count)
        }
    }

    /// A row expression lowered once against a table: each node says what it reads (a
    /// column, one constant, a link path, an aggregate over a reverse link, a built-in)
    /// and how it runs: over whole columns, or (`rows`) through the interpreter row by row.
    /// Lowering decides once; `run` only runs.
    public indirect enum Plan {
        case constant(Value)
        case column(Column)
        case unary(UnaryOp, Plan, Expr)
        /// `x == null` (isNull) or `x != null`.
        case nullTest(Plan, isNull: Bool)
        case binary(BinaryOp, Plan, Plan, Expr)
        /// `and`/`or`, `??` and `if`: their branches run on the rows that take them, each
        /// lowered against those rows (Selection).
        case logical(isAnd: Bool, Expr, Expr)
        case coalesce(Expr, Expr)
        case choose([Expr])
        case link(LinkPath)
        case segment(SegmentAggregate, SourceRange)
        case cumsum(Plan, Expr)
        /// An eager built-in over its arguments' columns.
        case call(Builtin, [Plan], Expr)
        case rows(Expr)
    }

    /// A value one constant can stand for, for every row of a stage.
    static func isScalar(_ v: Value) -> Bool {
        switch v {
        case .int, .float, .string, .date, .bool, .null, .duration: true
        default: false
        }
    }

    /// Lowers `e` for the rows of `t`: names resolve once to columns or constants, calls to
    /// the registry; what the kernels do not implement becomes `rows`.
    public static func lower(_ e: Expr, _ t: Table, _ env: Env, _ interp: Interpreter) -> Plan {
        switch e.kind {
        case .null: return .constant(.null)
        case .bool(let b): return .constant(.bool(b))
        case .int(let i): return .constant(.int(i))
        case .float(let f): return .constant(.float(f))
        case .string(let s): return .constant(.string(s))
        case .date(let d): return .constant(.date(d))
        case .duration(let m, let d): return .constant(.duration(Duration(months: m, days: d)))
        case .param(let n):
            // A parameter is one value for the whole stage.
            guard let v = try? interp.parameter(n, e.range), isScalar(v) else { return .rows(e) }
            return .constant(v)
        case .name(let n):
            if let c = t.columnIndex(n) {
                if case .values = t.column(at: c).storage { return .rows(e) }
                return .column(t.column(at: c))
            }
            // A variable (not a row of an outer stage): a constant for the whole stage.
            guard case .value(let v) = env.lookup(n), env.innermostScope.row == nil, isScalar(v) else { return .rows(e) }
            return .constant(v)
        case .unary(let op, let a):
            return .unary(op, lower(a, t, env, interp), e)
        case .binary(let op, let a, let b):
            switch op {
            case .add, .sub, .mul, .div, .mod, .eq, .ne, .lt, .le, .gt, .ge: break
            default: return .rows(e)
            }
            if op == .eq || op == .ne {
                if case .null = b.kind { return .nullTest(lower(a, t, env, interp), isNull: op == .eq) }
                if case .null = a.kind { return .nullTest(lower(b, t, env, interp), isNull: op == .eq) }
            }
            return .binary(op, lower(a, t, env, interp), lower(b, t, env, interp), e)
        case .and(let a, let b), .or(let a, let b):
            if Selection.readsWindow(b) { return .rows(e) }
            if case .and = e.kind { return .logical(isAnd: true, a, b) }
            return .logical(isAnd: false, a, b)
        case .coalesce(let a, let b):
            return Selection.readsWindow(b) ? .rows(e) : .coalesce(a, b)
        case .member:
            return LinkPath(e, t).map(Plan.link) ?? .rows(e)
        case .call(let callee, let args, false):
            if let seg = SegmentAggregate(e, t, env) { return .segment(seg, e.range) }
            guard case .name(let fn) = callee.kind, env.lookupVariable(fn) == nil, args.allSatisfy({ $0.style == .positional }) else {
                return .rows(e)
            }
            switch fn {
            case "if":
                guard (2...3).contains(args.count), !args.dropFirst().contains(where: { Selection.readsWindow($0.value) }) else { return .rows(e) }
                return .choose(args.map(\.value))
            case "cumsum":
                return args.count == 1 ? .cumsum(lower(args[0].value, t, env, interp), e) : .rows(e)
            default:
                // Any eager built-in: the arguments run over whole columns, the function on
                // their values (once per distinct string, or once when all are constant).
                guard let b = Builtins.table[fn], case .eager = b.impl, args.count <= b.params.count, !b.params.contains(where: \.variadic),
                    args.count >= b.params.filter({ !$0.optional }).count
                else { return .rows(e) }
                return .call(b, args.map { lower($0.value, t, env, interp) }, e)
            }
        default:
            return .rows(e)
        }
    }

    public static func broadcast(_ v: Value, _ n: Int) -> Column {
        switch v {
        case .int(let x): return Column(storage: .int([Int64](repeating: x, count: n)))
        case .float(let x): return Column(storage: .float([Double](repeating: x, count: n)))
        case .bool(let x): return Column(storage: .bool([Bool](repeating: x, count: n)))
        case .date(let x): return Column(storage: .date([Int32](repeating: x, count: n)))
        case .string(let s): return Column(storage: .string(StringColumn(codes: [UInt32](repeating: 0, count: n), dictionary: [s])))
        default: return Column(storage: .values([Value](repeating: v, count: n)), validity: n > 0 ? Bitmap(count: n, allValid: v.isNull ? false : true) : nil)
        }
    }

    public static func run(_ plan: Plan, _ t: Table, _ env: Env, _ interp: Interpreter) throws -> Vec {
        switch plan {
        case .constant(let v): return .constant(v)
        case .column(let c): return .column(c)
        case .rows(let e): return try rowwise(e, t, env, interp)
        case .unary(let op, let inner, let e):
            let x = try run(inner, t, env, interp)
            if case .constant(let v) = x { return .constant(try interp.unary(op, v, e.range)) }
            guard case .column(let c) = x else { return x }
            switch (op, c.storage) {
            case (.negate, .int(let xs)):
                var out = [Int64](repeating: 0, count: xs.count)
                for i in 0..<xs.count {
                    if xs[i] == Int64.min && c.isValid(i) { throw interp.fail("integer overflow in negation", e.range) }
                    out[i] = xs[i] == Int64.min ? 0 : -xs[i]
                }
                return .column(Column(storage: .int(out), validity: c.validity))
            case (.negate, .float(let xs)): return .column(Column(storage: .float(xs.map { -$0 }), validity: c.validity))
            case (.not, .bool(let xs)): return .column(Column(storage: .bool(xs.map { !$0 }), validity: c.validity))
            default: return try rowwise(e, t, env, interp)
            }
        case .nullTest(let inner, let isNull):
            switch try run(inner, t, env, interp) {
            case .constant(let v): return .constant(.bool(v.isNull == isNull))
            case .column(let c): return .column(Column(storage: .bool((0..<t.count).map { Selection.isNull(c, $0) == isNull })))
            }
        case .binary(let op, let pa, let pb, let e):
            guard case .binary(_, let a, let b) = e.kind else { return try rowwise(e, t, env, interp) }
            let x = try run(pa, t, env, interp), y = try run(pb, t, env, interp)
            if case .constant(let u) = x, case .constant(let v) = y {
                return .constant(try interp.binary(op, u, v, e.range, lhs: a.range, rhs: b.range))
            }
            if let r = try binary(op, x, y, t.count, e.range, interp) { return .column(r) }
            return try rowwise(e, t, env, interp)
        case .logical(let isAnd, let a, let b):
            return .column(try logical(isAnd, a, b, t, env, interp))
        case .coalesce(let a, let b):
            // The right side runs only where the left is null.
            let x = try interp.evalColumn(a, over: t, env, final: false)
            var need: [Int] = [], have: [Int] = []
            for i in 0..<t.count { if Selection.isNull(x, i) { need.append(i) } else { have.append(i) } }
            if need.isEmpty { return .column(x) }
            let y = try Selection.eval(b, t, need, env, interp)
            return .column(Selection.merge([(have.isEmpty ? nil : x.gather(have), have), (y, need)], count: t.count))
        case .choose(let args):
            return .column(try choose(args, t, env, interp))
        case .link(let path):
            return .column(path.run(t))
        case .segment(let seg, let range):
            return .column(try seg.run(t, interp, range))
        case .cumsum(let inner, let e):
            if case .column(let c) = try run(inner, t, env, interp), let r = try cumsum(c, e.range, interp) { return .column(r) }
            return try rowwise(e, t, env, interp)
        case .call(let b, let plans, let e):
            guard case .eager(let impl) = b.impl, case .call(_, let args, _) = e.kind else { return try rowwise(e, t, env, interp) }
            let vecs = try plans.map { try run($0, t, env, interp) }
            return try call(impl, b, vecs, args, e, t.count, interp)
        }
    }

    /// An eager built-in over its arguments' values: once when every argument is constant
    /// (built-ins are deterministic within a run; today() is pinned for it), once per
    /// distinct string when one argument is a dictionary-encoded column, else once per row.
    static func call(_ impl: (inout CallContext, [Value]) throws -> Value, _ b: Builtin, _ vecs: [Vec], _ args: [Arg], _ e: Expr,
                     _ n: Int, _ interp: Interpreter) throws -> Vec {
        var ctx = CallContext(interp: interp, range: e.range, args: args)
        var values = [Value](repeating: .null, count: b.params.count)
        var columnArgs: [Int] = []
        for (k, v) in vecs.enumerated() {
            switch v {
            case .constant(let c): values[k] = c
            case .column: columnArgs.append(k)
            }
        }
        // An error the row's values caused is placed at the row (the first, for a constant).
        func at(_ i: Int, _ body: () throws -> Value) throws -> Value {
            do { return try body() } catch var d as Diagnostic {
                if d.row == Diagnostic.thisRow { d.row = i }
                throw d
            }
        }
        if columnArgs.isEmpty { return .constant(try at(0) { try impl(&ctx, values) }) }
        if vecs.count == 1, let vector = b.vector, case .column(let c) = vecs[0], let r = vector(c) { return .column(r) }
        if columnArgs.count == 1, case .column(let c) = vecs[columnArgs[0]], case .string(let s) = c.storage {
            // `upper(name)`, `len(region)`: each string the rows use, once.
            var result = [Value?](repeating: nil, count: s.dictionary.count)
            var nullResult: Value? = nil
            var out = [Value]()
            out.reserveCapacity(n)
            for i in 0..<n {
                if !c.isValid(i) {
                    if nullResult == nil {
                        values[columnArgs[0]] = .null
                        nullResult = try at(i) { try impl(&ctx, values) }
                    }
                    out.append(nullResult ?? .null)
                    continue
                }
                let code = Int(s.codes[i])
                if let r = result[code] { out.append(r); continue }
                values[columnArgs[0]] = .string(s.dictionary[code])
                let r = try at(i) { try impl(&ctx, values) }
                result[code] = r
                out.append(r)
            }
            return .column(Column.from(out, widening: false))
        }
        var out = [Value]()
        out.reserveCapacity(n)
        for i in 0..<n {
            for k in columnArgs { if case .column(let c) = vecs[k] { values[k] = c.value(at: i) } }
            out.append(try at(i) { try impl(&ctx, values) })
        }
        return .column(Column.from(out, widening: false))
    }

    /// `if(cond, a, b)` over whole columns: `a` on the rows where cond is true, `b` on the
    /// others (false or null), each evaluated on its rows only.
    public static func choose(_ args: [Expr], _ t: Table, _ env: Env, _ interp: Interpreter) throws -> Column {
        let cond = try interp.evalColumn(args[0], over: t, env, final: false)
        let truth: [Selection.Truth]
        switch Selection.truths(cond) {
        case .success(let x): truth = x
        case .failure(let e): throw interp.fail("if needs a bool condition, got \(e.value.aTypeName)", args[0].range)
        }
        var yes: [Int] = [], no: [Int] = []
        for i in 0..<t.count { if truth[i] == .yes { yes.append(i) } else { no.append(i) } }
        let a = try Selection.eval(args[1], t, yes, env, interp)
        let b = args.count == 3 ? try Selection.eval(args[2], t, no, env, interp) : nil
        return Selection.merge([(a, yes), (b, no)], count: t.count)
    }

    /// `a and b`, `a or b` with the interpreter's short circuit per row: `b` runs only on
    /// the rows `a` does not decide, and both sides must be bools or null.
    public static func logical(_ isAnd: Bool, _ a: Expr, _ b: Expr, _ t: Table, _ env: Env, _ interp: Interpreter) throws -> Column {
        let op = isAnd ? "and" : "or"
        func truths(_ c: Column, _ e: Expr) throws -> [Selection.Truth] {
            switch Selection.truths(c) {
            case .success(let x): return x
            case .failure(let f):
                throw interp.fail("'\(op)' needs bool operands, got \(f.value.aTypeName)", e.range, hints: ["compare explicitly, e.g. x > 0 \(op) ..."])
            }
        }
        let xc = try interp.evalColumn(a, over: t, env, final: false)
        let pb = lower(b, t, env, interp)
        if total(pb), let (xs, xv) = bools(.column(xc), t.count), let (ys, yv) = bools(try run(pb, t, env, interp), t.count) {
            // Both sides bools and the right one cannot fail: one pass of three-valued logic
            // (a row the left side decides ignores the right side, as a short circuit would).
            var out = [Bool](repeating: false, count: t.count)
            var validity: Bitmap? = nil
            for i in 0..<t.count {
                let xn = !(xv?[i] ?? true), yn = !(yv?[i] ?? true)
                let xb = xs[i], yb = ys[i]
                if isAnd {
                    if (!xn && !xb) || (!yn && !yb) { continue }
                    if xn || yn {
                        if validity == nil { validity = Bitmap(count: t.count, allValid: true) }
                        validity?[i] = false
                        continue
                    }
                    out[i] = true
                } else {
                    if (!xn && xb) || (!yn && yb) { out[i] = true; continue }
                    if xn || yn {
                        if validity == nil { validity = Bitmap(count: t.count, allValid: true) }
                        validity?[i] = false
                    }
                }
            }
            return Column(storage: .bool(out), validity: validity)
        }
        let x = try truths(xc, a)
        let decided: Selection.Truth = isAnd ? .no : .yes
        let need = (0..<t.count).filter { x[$0] != decided }
        var out = [Bool](repeating: !isAnd, count: t.count)
        var validity: Bitmap? = nil
        func setNull(_ i: Int) {
            if validity == nil { validity = Bitmap(count: t.count, allValid: true) }
            validity?[i] = false
        }
        if need.isEmpty { return Column(storage: .bool(out), validity: validity) }
        if total(pb) {
            // A right side that cannot fail (comparisons of columns and constants): run it on
            // every row and read the rows that need it, as cheap as a mask.
            let yc: Column
            switch try run(pb, t, env, interp) {
            case .column(let c): yc = c
            case .constant(let v): yc = broadcast(v, t.count)
            }
            for i in need {
                let y: Selection.Truth
                switch yc.storage {
                case .bool(let bs): y = yc.isValid(i) ? (bs[i] ? .yes : .no) : .unknown
                default:
                    switch yc.value(at: i) {
                    case .bool(let v): y = v ? .yes : .no
                    case .null: y = .unknown
                    case let v: throw interp.fail("'\(op)' needs bool operands, got \(v.aTypeName)", b.range, hints: ["compare explicitly, e.g. x > 0 \(op) ..."])
                    }
                }
                if y == decided { continue }
                if x[i] == .unknown || y == .unknown { setNull(i) } else { out[i] = isAnd }
            }
            return Column(storage: .bool(out), validity: validity)
        }
        if let yc = try Selection.eval(b, t, need, env, interp) {
            let y = try truths(yc, b)
            for (k, i) in need.enumerated() {
                if y[k] == decided { continue }
                if x[i] == .unknown || y[k] == .unknown { setNull(i) } else { out[i] = isAnd }
            }
        }
        return Column(storage: .bool(out), validity: validity)
    }

    /// Whether running `p` on every row can raise no error: columns, constants, forward
    /// links, null tests, `==`/`!=`, and `<`-style comparisons of comparable kinds. Such a
    /// branch may run on all rows and be read where it is needed.
    static func total(_ p: Plan) -> Bool {
        switch p {
        case .constant, .column, .link: return true
        case .nullTest(let q, _): return total(q)
        case .binary(let op, let a, let b, _):
            switch op {
            case .eq, .ne: return total(a) && total(b)
            case .lt, .le, .gt, .ge:
                guard total(a) && total(b), let ka = kind(a), let kb = kind(b) else { return false }
                return ka == kb || ka == "null" || kb == "null"
            default: return false
            }
        default: return false
        }
    }

    /// What a column or constant holds, for comparisons that cannot fail ("number" for ints
    /// and floats alike); nil when it could be anything.
    static func kind(_ p: Plan) -> String? {
        func of(_ c: Column) -> String? {
            switch c.storage {
            case .int, .float: "number"
            case .date: "date"
            case .string: "string"
            case .bool: "bool"
            case .values: nil
            }
        }
        switch p {
        case .column(let c): return of(c)
        case .link(let path): return of(path.column)
        case .constant(let v):
            switch v {
            case .int, .float: return "number"
            case .date: return "date"
            case .string: return "string"
            case .bool: return "bool"
            case .null: return "null"
            default: return nil
            }
        default: return nil
        }
    }

    /// Running totals in table order: checked for ints, compensated for floats; nulls add nothing.
    public static func cumsum(_ c: Column, _ range: SourceRange, _ interp: Interpreter) throws -> Column? {
        do { return try Reduce.running(c) } catch { throw interp.fail(error.float ? "float overflow in cumsum" : "integer overflow in cumsum", range) }
    }

    /// Falls back to the interpreter for one node (its children are cheap to re-evaluate).
    public static func rowwise(_ e: Expr, _ t: Table, _ env: Env, _ interp: Interpreter) throws -> Vec {
        .column(Column.from(try interp.evalRows(e, over: t, env), widening: false))
    }

    public static func bools(_ v: Vec, _ n: Int) -> ([Bool], Bitmap?)? {
        switch v {
        case .constant(.bool(let b)): return ([Bool](repeating: b, count: n), nil)
        case .constant(.null): return ([Bool](repeating: false, count: n), Bitmap(count: n, allValid: false))
        case .column(let c):
            if case .bool(let xs) = c.storage { return (xs, c.validity) }
            return nil
        default: return nil
        }
    }

    /// Numeric view of a vector: ints, floats, or nil for anything else.
    public enum Numeric {
        case ints([Int64], Bitmap?)
        case floats([Double], Bitmap?)
    }

    public static func numeric(_ v: Vec, _ n: Int) -> Numeric? {
        switch v {
        case .constant(.int(let x)): return .ints([Int64](repeating: x, count: n), nil)
        case .constant(.float(let x)): return .floats([Double](repeating: x, count: n), nil)
        case .column(let c):
            switch c.storage {
            case .int(let xs): return .ints(xs, c.validity)
            case .float(let xs): return .floats(xs, c.validity)
            default: return nil
            }
        default: return nil
        }
    }

    public static func merge(_ a: Bitmap?, _ b: Bitmap?, _ n: Int) -> Bitmap? {
        guard let a else { return b }
        guard let b else { return a }
        var out = Bitmap(count: n, allValid: true)
        for i in 0..<n where !(a[i] && b[i]) { out[i] = false }
        return out
    }

    public static func binary(_ op: BinaryOp, _ x: Vec, _ y: Vec, _ n: Int, _ range: SourceRange, _ interp: Interpreter) throws -> Column? {
        // A null constant on either side makes every row null (== null was handled above).
        if case .constant(.null) = x { return broadcast(.null, n) }
        if case .constant(.null) = y { return broadcast(.null, n) }
        if let nx = numeric(x, n), let ny = numeric(y, n) {
            switch (nx, ny) {
            case (.ints(let a, let av), .ints(let b, let bv)):
                let valid = merge(av, bv, n)
                return try intOp(op, a, b, valid, n, range, interp)
            case (.ints, .floats), (.floats, .ints) where op == .eq || op == .ne:
                // 1 == 1.0, but a huge int equals no float it rounds to: the interpreter's rule.
                return nil
            default:
                let (a, av) = asFloats(nx), (b, bv) = asFloats(ny)
                let valid = merge(av, bv, n)
                return try floatOp(op, a, b, valid, n, range, interp)
            }
        }
        // Comparisons of strings and dates.
        switch op {
        case .eq, .ne, .lt, .le, .gt, .ge: break
        default: return nil
        }
        if let (a, av) = dates(x, n), let (b, bv) = dates(y, n) {
            return compare(op, n, merge(av, bv, n)) { a[$0] < b[$0] ? -1 : a[$0] > b[$0] ? 1 : 0 }
        }
        if case .column(let c) = x, case .string(let s) = c.storage, case .constant(.string(let k)) = y {
            return stringConstant(op, s, c.validity, k, n, flipped: false)
        }
        if case .constant(.string(let k)) = x, case .column(let c) = y, case .string(let s) = c.storage {
            return stringConstant(op, s, c.validity, k, n, flipped: true)
        }
        if case .column(let c1) = x, case .string(let s1) = c1.storage, case .column(let c2) = y, case .string(let s2) = c2.storage {
            return compare(op, n, merge(c1.validity, c2.validity, n)) { i in
                let l = s1.dictionary[Int(s1.codes[i])], r = s2.dictionary[Int(s2.codes[i])]
                return l < r ? -1 : l > r ? 1 : 0
            }
        }
        return nil
    }

    public static func asFloats(_ v: Numeric) -> ([Double], Bitmap?) {
        switch v {
        case .ints(let a, let m): return (a.map(Double.init), m)
        case .floats(let a, let m): return (a, m)
        }
    }

    public static func dates(_ v: Vec, _ n: Int) -> ([Int32], Bitmap?)? {
        switch v {
        case .constant(.date(let d)): return ([Int32](repeating: d, count: n), nil)
        case .column(let c):
            if case .date(let xs) = c.storage { return (xs, c.validity) }
            return nil
        default: return nil
        }
    }

    public static func compare(_ op: BinaryOp, _ n: Int, _ valid: Bitmap?, _ cmp: (Int) -> Int) -> Column {
        var out = [Bool](repeating: false, count: n)
        for i in 0..<n {
            let c = cmp(i)
            switch op {
            case .eq: out[i] = c == 0
            case .ne: out[i] = c != 0
            case .lt: out[i] = c < 0
            case .le: out[i] = c <= 0
            case .gt: out[i] = c > 0
            default: out[i] = c >= 0
            }
        }
        return Column(storage: .bool(out), validity: valid)
    }

    /// A string column against one string: compare each dictionary entry once, then map codes.
    public static func stringConstant(_ op: BinaryOp, _ s: StringColumn, _ valid: Bitmap?, _ k: String, _ n: Int, flipped: Bool) -> Column {
        let perCode: [Bool] = s.dictionary.map { d in
            let (l, r) = flipped ? (k, d) : (d, k)
            switch op {
            case .eq: return l == r
            case .ne: return l != r
            case .lt: return l < r
            case .le: return l <= r
            case .gt: return l > r
            default: return l >= r
            }
        }
        return Column(storage: .bool(s.codes.map { perCode[Int($0)] }), validity: valid)
    }

    public static func intOp(_ op: BinaryOp, _ a: [Int64], _ b: [Int64], _ valid: Bitmap?, _ n: Int, _ range: SourceRange, _ interp: Interpreter) throws -> Column {
        func isValid(_ i: Int) -> Bool { valid?[i] ?? true }
        switch op {
        case .add, .sub, .mul, .mod:
            var out = [Int64](repeating: 0, count: n)
            for i in 0..<n {
                let r: (Int64, Bool)
                switch op {
                case .add: r = a[i].addingReportingOverflow(b[i])
                case .sub: r = a[i].subtractingReportingOverflow(b[i])
                case .mul: r = a[i].multipliedReportingOverflow(by: b[i])
                default:
                    if b[i] == 0 {
                        if isValid(i) { throw interp.fail("division by zero in '%'", range).inRow(i) }
                        continue
                    }
                    r = a[i].remainderReportingOverflow(dividingBy: b[i])
                }
                if r.1 {
                    if isValid(i) {
                        throw interp.fail("integer overflow in '\(op.rawValue)'", range, hints: ["the result does not fit in 64 bits; use float(...) for very large numbers"]).inRow(i)
                    }
                    continue
                }
                out[i] = r.0
            }
            return Column(storage: .int(out), validity: valid)
        case .div:
            var out = [Double](repeating: 0, count: n)
            for i in 0..<n {
                if b[i] == 0 {
                    if isValid(i) { throw interp.fail("division by zero", range).inRow(i) }
                    continue
                }
                out[i] = Double(a[i]) / Double(b[i])
            }
            return Column(storage: .float(out), validity: valid)
        default:
            return compare(op, n, valid) { a[$0] < b[$0] ? -1 : a[$0] > b[$0] ? 1 : 0 }
        }
    }

    public static func floatOp(_ op: BinaryOp, _ a: [Double], _ b: [Double], _ valid: Bitmap?, _ n: Int, _ range: SourceRange, _ interp: Interpreter) throws -> Column {
        func isValid(_ i: Int) -> Bool { valid?[i] ?? true }
        var out = [Double](repeating: 0, count: n)
        switch op {
        case .add: for i in 0..<n { out[i] = a[i] + b[i] }
        case .sub: for i in 0..<n { out[i] = a[i] - b[i] }
        case .mul: for i in 0..<n { out[i] = a[i] * b[i] }
        case .div, .mod:
            for i in 0..<n {
                if b[i] == 0 {
                    if isValid(i) { throw interp.fail(op == .div ? "division by zero" : "division by zero in '%'", range).inRow(i) }
                    continue
                }
                out[i] = op == .div ? a[i] / b[i] : a[i].truncatingRemainder(dividingBy: b[i])
            }
        default:
            return compare(op, n, valid) { a[$0] < b[$0] ? -1 : a[$0] > b[$0] ? 1 : 0 }
        }
        for i in 0..<n where !out[i].isFinite && isValid(i) { throw Arithmetic.floatOverflow(op, range, interp) }
        return Column(storage: .float(out), validity: valid)
    }
}

/// `sum(orders.amount)`, `count(orders)`, `avg`/`min`/`max` over a reverse link, per row of
/// the table: a segment reduction over the link's CSR layout, reading the typed column
/// directly. No row tables are built and nothing is hashed.
public struct SegmentAggregate {
    public let kind: Reduce.Op
    public let link: AccountGraph.ReverseLink
    public let source: Table
    /// The link's forward direction: the target row of each source row. Sums run over it
    /// in source order (sequential reads, scattered adds into a small array), which is much
    /// kinder to the cache than reading each segment's rows.
    public let forward: AccountGraph.ForwardLink?
    /// The source column's index, nil for count(link). Read when the plan runs: a
    /// snapshot's column and link are streamed from the file, not read whole.
    public let columnIndex: Int?

    public init?(_ e: Expr, _ t: Table, _ env: Env) {
        guard case .call(let callee, let args, false) = e.kind, case .name(let fn) = callee.kind, args.count == 1,
            args[0].style == .positional, env.lookupVariable(fn) == nil, let origin = t.origin
        else { return nil }
        guard let op = Reduce.Op(rawValue: fn) else { return nil }
        kind = op
        let entity = origin.graph.entities[origin.entity]
        switch args[0].value.kind {
        case .name(let l) where kind == .count:
            guard t.columnIndex(l) == nil, let rev = entity.reverseLink(l) else { return nil }
            link = rev
            source = origin.graph.entities[rev.source].table
            columnIndex = nil
            forward = nil
        case .member(let base, let col):
            guard case .name(let l) = base.kind, t.columnIndex(l) == nil, let rev = entity.reverseLink(l) else { return nil }
            let src = origin.graph.entities[rev.source].table
            guard let c = src.columnIndex(col) else { return nil }
            switch src.columnTypes[c] {
            case .int, .float: break
            case .date where kind == .min || kind == .max || kind == .count || kind == .countDistinct: break
            case .string where kind == .countDistinct || kind == .count: break
            default: return nil
            }
            link = rev
            source = src
            columnIndex = c
            forward = origin.graph.entities[rev.source].forwardLink(rev.via)
        default:
            return nil
        }
    }

    public func run(_ t: Table, _ interp: Interpreter, _ range: SourceRange) throws -> Column {
        let n = t.count
        guard let columnIndex else {
            return Column(storage: .int((0..<n).map { i in Int64(link.segment(t.entityRow(i)).count) }))
        }
        // One value per target row: the source rows grouped by the row their link points to.
        let targets = link.offsets.count - 1
        var perTarget: Column? = nil
        do throws(Reduce.Overflow) {
            // A numeric column read once in row order, straight from a snapshot when it is
            // not in memory; else the column whole.
            if let forward, let values = source.stream(at: columnIndex) {
                perTarget = try Reduce.grouped(kind, values, gid: forward.rowsStream, groups: targets)
            }
            if perTarget == nil {
                let column = source.column(at: columnIndex)
                perTarget = try Reduce.grouped(kind, column, gid: forward?.rows ?? groupIDs(column.count), groups: targets)
            }
        } catch {
            throw interp.fail(error.message, range, hints: error.hints)
        }
        let result = perTarget
            ?? Column(storage: .values([Value](repeating: .null, count: targets)), validity: Bitmap(count: targets, allValid: false))
        if t.origin?.rows == nil && n == targets { return result }
        return result.gather((0..<n).map { t.entityRow($0) })
    }

    /// The target row of each source row, from the link's segments (-1: none).
    public func groupIDs(_ sources: Int) -> [Int32] {
        var gid = [Int32](repeating: -1, count: sources)
        for target in 0..<(link.offsets.count - 1) {
            for k in link.segment(target) { gid[Int(link.rows[k])] = Int32(target) }
        }
        return gid
    }
}

/// `account.region`, `order.account.owner.name`: forward links followed for every row at
/// once (row indices through each link), then one gather of the final column.
public struct LinkPath {
    public let links: [AccountGraph.ForwardLink]
    public let column: Column

    public init?(_ e: Expr, _ t: Table) {
        // Unwind the member chain: base name, then field names.
        var names: [String] = []
        var node = e
        while case .member(let base, let name) = node.kind {
            names.insert(name, at: 0)
            node = base
        }
        guard case .name(let first) = node.kind, t.columnIndex(first) == nil, let origin = t.origin else { return nil }
        names.insert(first, at: 0)
        let g = origin.graph
        var entity = origin.entity
        var links: [AccountGraph.ForwardLink] = []
        for name in names.dropLast() {
            guard let f = g.entities[entity].forwardLink(name), g.entities[entity].table.columnIndex(name) == nil else { return nil }
            links.append(f)
            entity = f.target
        }
        guard let last = names.last, let c = g.entities[entity].table.column(last), !links.isEmpty else { return nil }
        if case .values = c.storage { return nil }
        self.links = links
        self.column = c
    }

    public func run(_ t: Table) -> Column {
        var rows = [Int](repeating: 0, count: t.count)
        var missing = false
        for i in 0..<t.count {
            var r = Int32(truncatingIfNeeded: t.entityRow(i))
            for l in links {
                if r < 0 { break }
                r = l.rows[Int(r)]
            }
            if r < 0 { missing = true; rows[i] = -1 } else { rows[i] = Int(r) }
        }
        guard missing else { return column.gather(rows) }
        if column.count == 0 {
            return Column(storage: .values([Value](repeating: .null, count: t.count)), validity: Bitmap(count: t.count, allValid: false))
        }
        // Rows whose chain breaks (a null or dangling link) are null.
        var col = column.gather(rows.map { max(0, $0) })
        var v = col.validity ?? Bitmap(count: t.count, allValid: true)
        for (i, r) in rows.enumerated() where r < 0 { v[i] = false }
        col.validity = v
        return col
    }
}
