import KamSyntax

/// The row a table stage is evaluating: its table and (mutable) current index. One scope
/// per stage, reused for every row, so per-row evaluation allocates nothing.
public final class RowScope {
    public let table: Table
    public var index: Int = 0
    /// Window results (cumsum, lag, ...) computed once for the whole table, keyed by the
    /// call's source offset.
    public var windows: [Int: [Value]] = [:]
    public init(table: Table) { self.table = table }
}

/// The group an `aggregate` expression is evaluating: its rows and key values.
public final class GroupScope {
    public let table: Table
    public let rows: [Int]
    public let keys: Record
    public init(table: Table, rows: [Int], keys: Record) { self.table = table; self.rows = rows; self.keys = keys }
}

/// A lexical scope. A scope can stand for a row (columns by name) or a group (keys by name).
public final class Env {
    public var vars: [String: Value] = [:]
    public let parent: Env?
    public let row: RowScope?
    public let group: GroupScope?

    public init(parent: Env? = nil, row: RowScope? = nil, group: GroupScope? = nil) {
        self.parent = parent
        self.row = row
        self.group = group
    }

    public enum Lookup {
        case value(Value)
        case notGroupKey(String)
        case missing
    }

    /// Looks a name up: variables of inner scopes, then the current row's columns or the
    /// group's keys, then outer scopes.
    public func lookup(_ name: String) -> Lookup {
        var e: Env? = self
        while let env = e {
            if let v = env.vars[name] { return .value(v) }
            if let row = env.row {
                if let c = row.table.columnIndex(name) { return .value(row.table.column(at: c).value(at: row.index)) }
                if name == "it" { return .value(.row(row.table, row.index)) }
                if let graph = row.table.origin?.graph, let v = graph.navigate(row.table, row: row.index, name) { return .value(v) }
            }
            if let group = env.group {
                if let v = group.keys[name] { return .value(v) }
                // A column or a link of the grouped rows is one value per row, not per group:
                // without this, `orders` would go on to the whole entity of that name.
                if group.table.columnIndex(name) != nil || group.table.origin?.graph.linkNames(group.table).contains(name) == true {
                    return .notGroupKey(name)
                }
            }
            e = env.parent
        }
        return .missing
    }

    /// The scope as it is now, for a closure made in it: a row scope is reused for every
    /// row (its index moves on), so a lambda made on row 3 and called later (map over a
    /// column of closures, a stored function) would read whatever row the scope is on by
    /// then. The copy fixes each row scope at its current row; scopes above the outermost
    /// row are shared as they are (a later `let` at the top level is still seen).
    public func pinned() -> Env {
        guard hasRowScope else { return self }
        let copy = Env(parent: parent?.pinned(), row: row.map { r in
            let fixed = RowScope(table: r.table)
            fixed.index = r.index
            fixed.windows = r.windows
            return fixed
        }, group: group)
        copy.vars = vars
        return copy
    }

    /// Whether this scope or one it is inside stands for a row.
    var hasRowScope: Bool {
        var e: Env? = self
        while let env = e {
            if env.row != nil { return true }
            e = env.parent
        }
        return false
    }

    /// Variables only (not columns): how a call's callee is looked up.
    public func lookupVariable(_ name: String) -> Value? {
        var e: Env? = self
        while let env = e {
            if let v = env.vars[name] { return v }
            e = env.parent
        }
        return nil
    }

    /// The innermost row or group scope, which decides how aggregates read their argument.
    public var innermostScope: (row: RowScope?, group: GroupScope?) {
        var e: Env? = self
        while let env = e {
            if env.row != nil || env.group != nil { return (env.row, env.group) }
            e = env.parent
        }
        return (nil, nil)
    }

    /// Every name visible here, for "did you mean" hints and completion.
    public var visibleNames: [String] {
        var names: [String] = []
        var e: Env? = self
        while let env = e {
            names += env.vars.keys
            if let row = env.row { names += row.table.names + (row.table.origin?.graph.linkNames(row.table) ?? []) }
            if let group = env.group { names += group.keys.keys }
            e = env.parent
        }
        return names
    }
}
