import KamEngine
import KamData
import KamSyntax

/// Evaluating row expressions over a whole table.
extension Interpreter {
    /// The value of `expr` for every row of `table` as a column. A bare column name is the
    /// column itself (no per-row work); other expressions run once per row in a reused scope.
    ///
    /// `final` is for a stage's result: ints mixed with floats widen to a float column. An
    /// intermediate result (`final: false`) keeps each value as it is, since the next
    /// function must see exactly what the row-at-a-time interpreter would give it.
    public func evalColumn(_ expr: Expr, over table: Table, _ env: Env, scope: RowScope? = nil, final: Bool = true) throws -> Column {
        if options.evaluation == .columnar, let kernel = try Kernels.compile(expr, table: table, env: env, interp: self) {
            if final, case .values(let vs) = kernel.storage { return Column.from(vs) }
            return kernel
        }
        let values = try evalRows(expr, over: table, env, scope: scope)
        return Column.from(values, widening: final)
    }

    public func evalRows(_ expr: Expr, over table: Table, _ env: Env, scope: RowScope? = nil) throws -> [Value] {
        let row = scope ?? RowScope(table: table)
        let rowEnv = Env(parent: env, row: row)
        var out = [Value]()
        out.reserveCapacity(table.count)
        for i in 0..<table.count {
            if i & 4095 == 0 { try checkCancelled(expr.range) }
            row.index = i
            out.append(try eval(expr, rowEnv))
        }
        return out
    }

    /// Row indices where `predicate` is true (null and false rows are dropped).
    public func selectRows(_ predicate: Expr, over table: Table, _ env: Env) throws -> [Int] {
        let col = try evalColumn(predicate, over: table, env)
        var keep: [Int] = []
        switch col.storage {
        case .bool(let bits):
            keep.reserveCapacity(table.count / 2)
            if let v = col.validity {
                for i in 0..<bits.count where bits[i] && v[i] { keep.append(i) }
            } else {
                for i in 0..<bits.count where bits[i] { keep.append(i) }
            }
            return keep
        case .values(let vs):
            for (i, v) in vs.enumerated() {
                switch v {
                case .bool(true): keep.append(i)
                case .bool(false), .null: break
                default: throw fail("the condition must be a bool, got \(v.aTypeName)", predicate.range, hints: ["compare explicitly, e.g. x > 0 or x == \"A\""])
                }
            }
            return keep
        default:
            if table.count == 0 { return [] }
            let sample = col.value(at: 0)
            throw fail("the condition must be a bool, got \(sample.aTypeName)", predicate.range, hints: ["compare explicitly, e.g. x > 0 or x == \"A\""])
        }
    }
}
