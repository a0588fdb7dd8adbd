import KamEngine
import KamData
import KamSyntax

/// Conditional evaluation over whole columns: `if`, `and`, `or` and `??` evaluate each
/// branch only on the rows that take it (a selection), so a built-in that fails on some
/// input (ln of 0, 1 / 0, div of a float) never runs on a row whose branch is not taken,
/// exactly as the row-at-a-time interpreter would. The parts are merged into one column
/// typed as `Column.from` would type the same values row by row.
extension Selection {
    /// The value of `e` on `rows` of `t` (increasing), or nil when there are no rows: an
    /// empty selection evaluates nothing at all.
    public static func eval(_ e: Expr, _ t: Table, _ rows: [Int], _ env: Env, _ interp: Interpreter) throws -> Column? {
        if rows.isEmpty { return nil }
        if rows.count == t.count { return try interp.evalColumn(e, over: t, env, final: false) }
        let sub = t.narrowed(to: rows, reading: e)
        do {
            return try interp.evalColumn(e, over: sub, env, final: false)
        } catch var d as Diagnostic {
            // A row of the subset is the row of `t` it was taken from.
            if let r = d.row, r >= 0, r < rows.count, d.rowTable == ObjectIdentifier(sub) {
                d.row = rows[r]
                d.rowTable = ObjectIdentifier(t)
                interp.noteRow(&d, t)
            }
            throw d
        }
    }

    /// Whether `e` calls a window function (cumsum, lag, rank, ...): those read the whole
    /// table in order, so their branch may not run on a subset of its rows.
    public static func readsWindow(_ e: Expr) -> Bool {
        var found = false
        e.visit { node in
            if case .call(let callee, _, _) = node.kind, case .name(let n) = callee.kind, Builtins.table[n]?.category == .window {
                found = true
            }
        }
        return found
    }

}

extension Table {
    /// Rows `rows` of the table with only the columns `e` may read (all of them when it
    /// reads the row itself as `it`); links keep working through the origin.
    public func narrowed(to rows: [Int], reading e: Expr) -> Table {
        var names = Set<String>()
        e.visit { node in if case .name(let n) = node.kind { names.insert(n) } }
        if names.contains("it") { return gather(rows) }
        var keptNames: [String] = [], kept: [Column] = []
        for (i, n) in self.names.enumerated() where names.contains(n) && !keptNames.contains(n) {
            keptNames.append(n)
            kept.append(column(at: i).gather(rows))  // a snapshot's other columns stay unread
        }
        return Table(names: keptNames, columns: kept, count: rows.count, name: name, origin: origin?.gather(rows))
    }
}

