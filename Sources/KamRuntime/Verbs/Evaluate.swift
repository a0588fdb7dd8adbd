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
        if options.evaluation == .columnar {
            let compiled: Column?
            do {
                compiled = try Kernels.compile(expr, table: table, env: env, interp: self)
            } catch var d as Diagnostic {
                // A kernel's row is a row of the table it ran over: this one.
                if let r = d.row, r >= 0, d.rowTable == nil { d.rowTable = ObjectIdentifier(table) }
                noteRow(&d, table)
                throw d
            }
            if let kernel = compiled {
                if final, case .values(let vs) = kernel.storage { return Column.from(vs) }
                return kernel
            }
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
            do {
                out.append(try eval(expr, rowEnv))
            } catch var d as Diagnostic {
                if d.row == Diagnostic.thisRow {
                    d.row = i
                    d.rowTable = ObjectIdentifier(table)
                }
                noteRow(&d, table)
                throw d
            }
        }
        return out
    }

    /// Says which row of `table` a row expression failed in: for an entity's rows the
    /// entity and the row's id, else the row's place; as both evaluations say it. A row
    /// of another table (a linked table inside a row) keeps its own note.
    func noteRow(_ d: inout Diagnostic, _ table: Table) {
        guard let i = d.row, i >= 0, i < table.count, d.rowTable == ObjectIdentifier(table) else { return }
        // Not an entity's rows: the row's values, which say it whatever order the stage's
        // table is in (a place would be the place after a sort or a where).
        let fields = table.names.prefix(6).enumerated().map { k, n in
            Checker.writtenName(n) + ": " + Format.literal(table.column(at: k).value(at: i), depth: 1)
        }
        var note = "note: in the row {" + fields.joined(separator: ", ") + (table.names.count > 6 ? ", ..." : "") + "}"
        if let origin = table.origin, origin.entity < origin.graph.entities.count {
            let e = origin.graph.entities[origin.entity]
            let r = table.entityRow(i)
            if let c = e.table.columnIndex("id"), r >= 0, r < e.table.count {
                note = "note: in the row of \(e.name) with id \(Format.literal(e.table.column(at: c).value(at: r), depth: 1))"
            } else {
                note = "note: in row \(r + 1) of \(e.name)"
            }
        }
        if let k = d.rowNote, k < d.notes.count { d.notes[k] = note } else {
            d.rowNote = d.notes.count
            d.notes.append(note)
        }
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
