import Foundation
import KamSyntax

/// An immutable columnar table. Verbs never modify a table; they build a new one, sharing
/// the untouched columns (Swift arrays are copy-on-write).
public final class Table: @unchecked Sendable {
    public let names: [String]
    /// The columns; a table mapped from a snapshot reads each from the file the first time
    /// it is asked for (`column(_:)` reads one, `columns` all).
    public var columns: [Column] {
        if let stored { return stored }
        guard let lazy else { return [] }
        if overrides == nil && picked == nil { return lazy.all() }
        return names.indices.map { column(at: $0) }
    }
    private let stored: [Column]?
    let lazy: LazyColumns?
    /// A mapped table with columns set (derive): column i is `overrides[i]` where there is
    /// one, else the mapped column i, still unread.
    private let overrides: [Column?]?
    /// A mapped table after `where` or `sort`: row i is row `picked[i]` of the mapped
    /// columns, each gathered when first asked for (and kept in `gathered`), so a filter
    /// on a snapshot's table reads only the columns the rest of the pipeline uses.
    private let picked: [Int]?
    private let gathered: GatheredColumns?
    public let count: Int
    /// The entity or variable name, used to name clashing columns after a join.
    public let name: String?
    /// Where the rows come from in the account graph, so links keep working after where,
    /// sort, derive or select. Nil for tables that are not rows of an entity.
    public let origin: Origin?
    private let positions: [String: Int]

    public init(names: [String], columns: [Column], count: Int? = nil, name: String? = nil, origin: Origin? = nil) {
        self.names = names
        self.stored = columns
        self.lazy = nil
        self.overrides = nil
        self.picked = nil
        self.gathered = nil
        self.count = count ?? columns.first?.count ?? 0
        self.name = name
        self.origin = origin
        positions = Table.positions(names)
    }

    /// A table whose columns are read when first asked for.
    init(names: [String], lazy: LazyColumns, overrides: [Column?]? = nil, count: Int, name: String?, origin: Origin?,
         picked: [Int]? = nil, gathered: GatheredColumns? = nil) {
        self.names = names
        self.stored = nil
        self.lazy = lazy
        self.overrides = overrides
        self.picked = picked
        self.gathered = picked == nil ? nil : gathered ?? GatheredColumns(lazy.specs.count)
        self.count = count
        self.name = name
        self.origin = origin
        positions = Table.positions(names)
    }

    /// The first column of each name.
    private static func positions(_ names: [String]) -> [String: Int] {
        var p: [String: Int] = [:]
        for (i, n) in names.enumerated() where p[n] == nil { p[n] = i }
        return p
    }

    /// Each column's type, without reading a mapped table's columns.
    public var columnTypes: [ColumnType] {
        if let stored { return stored.map(\.type) }
        guard let lazy else { return [] }
        guard let overrides else { return lazy.types }
        return overrides.indices.map { overrides[$0]?.type ?? lazy.types[$0] }
    }

    public static let empty = Table(names: [], columns: [], count: 0)

    @inline(__always) public func columnIndex(_ name: String) -> Int? { positions[name] }

    /// Column `i` (a mapped table reads only this one).
    @inline(__always) public func column(at i: Int) -> Column {
        if let stored { return stored[i] }
        if let c = overrides?[i] { return c }
        guard let lazy else { return Column(storage: .values([])) }
        if let picked, let gathered { return gathered.column(i) { lazy.column(i).gather(picked) } }
        return lazy.column(i)
    }

    /// Column `i` for one pass in row order: a mapped table's unread column is read from the
    /// snapshot a chunk at a time (ArrayStream), never whole. Nil unless it is int or float.
    public func stream(at i: Int) -> ColumnStream? {
        if let stored { return ColumnStream(stored[i]) }
        if let c = overrides?[i] { return ColumnStream(c) }
        if picked != nil { return ColumnStream(column(at: i)) }
        return lazy?.stream(i)
    }

    public func column(_ name: String) -> Column? {
        guard let i = positions[name] else { return nil }
        if stored == nil && lazy == nil { return nil }
        return column(at: i)
    }

    /// Row `i` as a record (for printing a single row and for `it` in records).
    public func record(at i: Int) -> Record {
        Record(keys: names, values: columns.map { $0.value(at: i) })
    }

    public func gather(_ indices: [Int]) -> Table {
        if let lazy {
            // The mapped columns stay unread: only the rows they will be gathered by change.
            return Table(names: names, lazy: lazy, overrides: overrides?.map { $0?.gather(indices) }, count: indices.count, name: name,
                         origin: origin?.gather(indices), picked: picked.map { p in indices.map { p[$0] } } ?? indices)
        }
        return Table(names: names, columns: columns.map { $0.gather(indices) }, count: indices.count, name: name, origin: origin?.gather(indices))
    }

    /// The same table under another name (`let big = ...` names its table `big`).
    public func renamed(_ name: String?) -> Table {
        if let lazy {
            return Table(names: names, lazy: lazy, overrides: overrides, count: count, name: name, origin: origin, picked: picked, gathered: gathered)
        }
        return Table(names: names, columns: columns, count: count, name: name, origin: origin)
    }

    /// The table with column `name` set: replaced where the table has it, else added at the
    /// end (derive). A mapped table's other columns stay unread.
    public func setting(_ column: Column, as columnName: String) -> Table {
        var names = self.names
        if let lazy {
            var slots = overrides ?? [Column?](repeating: nil, count: names.count)
            if let i = positions[columnName] { slots[i] = column } else { names.append(columnName); slots.append(column) }
            return Table(names: names, lazy: lazy, overrides: slots, count: count, name: name, origin: origin, picked: picked, gathered: gathered)
        }
        var columns = self.columns
        if let i = positions[columnName] { columns[i] = column } else { names.append(columnName); columns.append(column) }
        return with(names: names, columns: columns)
    }

    /// The same rows with other columns (derive, select): links still work.
    public func with(names: [String], columns: [Column]) -> Table {
        Table(names: names, columns: columns, count: count, name: name, origin: origin)
    }

    /// The entity row behind row `i`, when the table has an origin.
    @inline(__always) public func entityRow(_ i: Int) -> Int {
        guard let rows = origin?.rows else { return i }
        return Int(rows[i])
    }

    /// Builds a table from records; columns in first-seen order, missing fields null.
    public static func fromRecords(_ records: [Record]) -> Table {
        var names: [String] = []
        var seen: [String: Int] = [:]
        for r in records {
            for k in r.keys where seen[k] == nil {
                seen[k] = names.count
                names.append(k)
            }
        }
        var cols = [[Value]](repeating: [Value](repeating: .null, count: records.count), count: names.count)
        for (i, r) in records.enumerated() {
            for (k, v) in zip(r.keys, r.values) { if let c = seen[k] { cols[c][i] = v } }
        }
        return Table(names: names, columns: cols.map { Column.from($0) }, count: records.count)
    }
}

/// The columns of a mapped table gathered by its picked rows, each made once when first
/// asked for (from any thread).
final class GatheredColumns: @unchecked Sendable {
    private var cache: [Column?]
    private let lock = NSLock()

    init(_ count: Int) { cache = [Column?](repeating: nil, count: count) }

    func column(_ i: Int, _ make: () -> Column) -> Column {
        lock.lock()
        defer { lock.unlock() }
        if let c = cache[i] { return c }
        let c = make()
        cache[i] = c
        return c
    }
}

/// The rows of an entity that a table holds: the graph, the entity, and the entity row of
/// each table row (nil: row i is entity row i).
public struct Origin: @unchecked Sendable {
    public let graph: AccountGraph
    public let entity: Int
    public let rows: [Int32]?

    public init(graph: AccountGraph, entity: Int, rows: [Int32]?) {
        self.graph = graph
        self.entity = entity
        self.rows = rows
    }

    public func gather(_ indices: [Int]) -> Origin {
        if let rows { return Origin(graph: graph, entity: entity, rows: indices.map { rows[$0] }) }
        return Origin(graph: graph, entity: entity, rows: indices.map { Int32(truncatingIfNeeded: $0) })
    }
}
