import Foundation
import KamSyntax

/// The account graph: entity tables and the links between them, resolved once at load.
///
/// A column `X_id` that refers to entity `Xs` is a forward link (`order.account`), stored
/// as the target's row index per row; its reverse (`account.orders`) is stored CSR-style:
/// `offsets[r]..<offsets[r + 1]` indexes `rows`, the source rows that point at row r. So
/// `sum(orders.amount)` per account is a segment sum with no hashing.
public final class AccountGraph: @unchecked Sendable {
    public struct ForwardLink: Sendable {
        /// The link's name: the column without `_id` (`account` for `account_id`).
        public let name: String
        public let column: String
        public let target: Int
        /// The target's column the values match (its key, `id` unless a manifest or the
        /// database says otherwise).
        public let key: String
        /// Target row per source row, -1 where the value is null or dangling.
        public var rows: [Int32] { rowsBox.array }
        let rowsBox: LazyArray<Int32>
        /// The rows for one pass in order, read from the snapshot when they are not in memory.
        public var rowsStream: ArrayStream<Int32> { rowsBox.stream }

        init(name: String, column: String, target: Int, key: String, rows: [Int32]) {
            self.init(name: name, column: column, target: target, key: key, rowsBox: LazyArray(rows))
        }

        init(name: String, column: String, target: Int, key: String, rowsBox: LazyArray<Int32>) {
            self.name = name
            self.column = column
            self.target = target
            self.key = key
            self.rowsBox = rowsBox
        }
    }

    public struct ReverseLink: Sendable {
        /// The reverse link's name: usually the source entity's name (`orders`).
        public let name: String
        public let source: Int
        /// Which forward link of the source this reverses.
        public let via: String
        public var offsets: [Int32] { offsetsBox.array }
        public var rows: [Int32] { rowsBox.array }
        let offsetsBox: LazyArray<Int32>
        let rowsBox: LazyArray<Int32>

        init(name: String, source: Int, via: String, offsets: [Int32], rows: [Int32]) {
            self.init(name: name, source: source, via: via, offsetsBox: LazyArray(offsets), rowsBox: LazyArray(rows))
        }

        init(name: String, source: Int, via: String, offsetsBox: LazyArray<Int32>, rowsBox: LazyArray<Int32>) {
            self.name = name
            self.source = source
            self.via = via
            self.offsetsBox = offsetsBox
            self.rowsBox = rowsBox
        }

        /// The source rows of each target in order, laid out by `offsets` (a counting sort of
        /// the forward link's rows); nil when the offsets do not count the rows that point at
        /// each target (a damaged snapshot), so a reverse link is never stored, only its offsets.
        static func rows(forward: [Int32], offsets: [Int32]) -> [Int32]? {
            let targets = offsets.count - 1
            guard targets >= 0, offsets.first == 0, let total = offsets.last else { return nil }
            for t in 0..<targets where offsets[t] > offsets[t + 1] { return nil }
            var fill = offsets
            var back = [Int32](repeating: 0, count: Int(total))
            var ok = true
            fill.withUnsafeMutableBufferPointer { f in
                back.withUnsafeMutableBufferPointer { b in
                    forward.withUnsafeBufferPointer { rows in
                        // Each write stays in the array; a segment that overflows into the
                        // next is found by the check after the loop.
                        for i in 0..<rows.count {
                            let t = Int(rows[i])
                            if t < 0 { continue }
                            guard t < targets, f[t] < total else { ok = false; return }
                            b[Int(f[t])] = Int32(truncatingIfNeeded: i)
                            f[t] += 1
                        }
                    }
                }
            }
            // Every segment filled: no row of `back` is left unset.
            guard ok, (0..<targets).allSatisfy({ fill[$0] == offsets[$0 + 1] }) else { return nil }
            return back
        }

        @inline(__always) public func segment(_ r: Int) -> Range<Int> {
            let o = offsets
            return Int(o[r])..<Int(o[r + 1])
        }
    }

    public final class Entity: @unchecked Sendable {
        public let name: String
        public internal(set) var table: Table
        /// Where it was read from, for messages.
        public let file: String
        public internal(set) var forward: [ForwardLink] = []
        public internal(set) var reverse: [ReverseLink] = []
        /// The database table the entity was read from (`OrderDetails` for order_details).
        public internal(set) var sourceTable: String?
        /// The database's name of each column the manifest renamed (kam name: source name).
        public internal(set) var sourceColumns: [String: String] = [:]
        /// Whether the database table is a view (which has no rowid to order its rows by).
        public internal(set) var sourceIsView = false
        /// The manifest's query whose rows are the entity, when it reads one.
        public internal(set) var sourceQuery: String?
        /// What the manifest does to the entity that only kam can do with the rows in memory
        /// (types, derived columns), for running on the database to refuse.
        public internal(set) var inMemoryOnly: [String] = []
        /// Row of each id value, for entities with an `id` column. A snapshot's is built from
        /// the column when first asked for (most runs never look an id up).
        public internal(set) var idIndex: IDIndex {
            get { idIndexBox.value }
            set { idIndexBox = LazyIDIndex(newValue) }
        }
        var idIndexBox = LazyIDIndex(.none)
        /// The column the id index is built from.
        public internal(set) var idColumn: String?

        public init(name: String, table: Table, file: String) {
            self.name = name
            self.table = table
            self.file = file
        }

        public func forwardLink(_ name: String) -> ForwardLink? { forward.first { $0.name == name } }
        public func reverseLink(_ name: String) -> ReverseLink? { reverse.first { $0.name == name } }
        public var linkNames: [String] { forward.map(\.name) + reverse.map(\.name) }
    }

    public internal(set) var entities: [Entity] = []
    public var byName: [String: Int] = [:]
    /// Where the dataset came from ("demo company" or a path), for the banner and schema().
    public let label: String
    /// The manifest's derived columns in the order they were computed (each after what it
    /// reads), and the manifest: what compiling to SQL needs to compute them there too.
    public internal(set) var derivations: [(entity: String, spec: Manifest.Derived)] = []
    public internal(set) var manifest: Manifest?

    public init(label: String) { self.label = label }

    public func entity(_ name: String) -> Entity? { byName[name].map { entities[$0] } }

    /// The entity's full table, with an origin so its rows navigate.
    public func table(_ index: Int) -> Table { entities[index].table }

    // MARK: navigation

    /// `row.link`: the linked row for a forward link, the linked rows for a reverse link.
    public func navigate(_ table: Table, row i: Int, _ name: String) -> Value? {
        guard let origin = table.origin, origin.graph === self else { return nil }
        let e = entities[origin.entity]
        let r = table.entityRow(i)
        if let f = e.forwardLink(name) {
            let target = f.rows[r]
            return target < 0 ? .null : .row(entities[f.target].table, Int(target))
        }
        if let rev = e.reverseLink(name) {
            let seg = rev.segment(r)
            return .table(entities[rev.source].table.gather(rev.rows[seg].map { Int($0) }))
        }
        return nil
    }

    /// `table.link`: for a forward link the distinct linked rows in first-seen order; for
    /// a reverse link every linked row, row by row.
    public func navigate(_ table: Table, _ name: String) -> Table? {
        guard let origin = table.origin, origin.graph === self else { return nil }
        let e = entities[origin.entity]
        if let f = e.forwardLink(name) {
            var seen = Set<Int32>()
            var rows: [Int] = []
            for i in 0..<table.count {
                let t = f.rows[table.entityRow(i)]
                if t >= 0 && seen.insert(t).inserted { rows.append(Int(t)) }
            }
            return entities[f.target].table.gather(rows)
        }
        if let rev = e.reverseLink(name) {
            var rows: [Int] = []
            for i in 0..<table.count {
                for j in rev.segment(table.entityRow(i)) { rows.append(Int(rev.rows[j])) }
            }
            return entities[rev.source].table.gather(rows)
        }
        return nil
    }

    /// Link names available from a table's rows (for hints and completion).
    public func linkNames(_ table: Table) -> [String] {
        guard let origin = table.origin, origin.graph === self else { return [] }
        return entities[origin.entity].linkNames
    }
}

/// An array given now, or read when first asked for (a link of a dataset mapped from a
/// snapshot: a script reads only the links it follows).
/// An id index given, or built when first read.
final class LazyIDIndex: @unchecked Sendable {
    private var built: IDIndex?
    private let make: (() -> IDIndex)?
    private let lock = NSLock()

    init(_ index: IDIndex) {
        built = index
        make = nil
    }

    init(building make: @escaping () -> IDIndex) { self.make = make }

    /// The index if it is there, without building it.
    var ifBuilt: IDIndex? { lock.withLock { built } }

    var value: IDIndex {
        lock.lock()
        defer { lock.unlock() }
        if let built { return built }
        let index = make?() ?? .none
        built = index
        return index
    }
}

final class LazyArray<T>: @unchecked Sendable {
    /// Where a snapshot holds the array, for a pass that reads it there (ArrayStream), and
    /// the bounds of the row indexes it holds.
    struct Mapped {
        let file: MappedFile
        let slice: Snapshot.Slice
        var bounds: Range<Int32>? = nil
    }

    private let given: [T]?
    private var loaded: [T]?
    private let loader: (() -> [T])?
    private let lock = NSLock()
    let mapped: Mapped?

    init(_ array: [T]) {
        given = array
        loader = nil
        mapped = nil
    }

    init(loader: @escaping () -> [T], mapped: Mapped? = nil) {
        given = nil
        self.loader = loader
        self.mapped = mapped
    }

    /// The same array, checked by `valid` when it is read (a snapshot that fails it is
    /// damaged: kam stops).
    func checked(_ valid: @escaping ([T]) -> Bool, path: String = "") -> LazyArray<T> {
        LazyArray(loader: { [self] in
            let a = self.array
            guard valid(a) else { Snapshot.damaged(path) }
            return a
        })
    }

    /// The same row indexes, each checked to be within `bounds` when they are read, whole
    /// or a chunk at a time.
    func checked(bounds: Range<Int32>, path: String = "") -> LazyArray<T> where T == Int32 {
        var m = mapped
        m?.bounds = bounds
        return LazyArray(loader: { [self] in
            let a = self.array
            guard a.withUnsafeBufferPointer({ ArrayStream<Int32>.Pass.within($0, bounds) }) else { Snapshot.damaged(path) }
            return a
        }, mapped: m)
    }

    var array: [T] {
        if let given { return given }
        lock.lock()
        defer { lock.unlock() }
        if let loaded { return loaded }
        let a = loader?() ?? []
        loaded = a
        return a
    }

    /// The array in memory if it is there, without reading it.
    var ifLoaded: [T]? {
        if let given { return given }
        return lock.withLock { loaded }
    }
}

extension LazyArray where T: BitwiseCopyable {
    /// A pass over the array: in memory when it has been read, else from the snapshot.
    var stream: ArrayStream<T> {
        if let a = ifLoaded { return ArrayStream(a) }
        if let mapped { return ArrayStream(file: mapped.file, slice: mapped.slice, bounds: mapped.bounds) }
        return ArrayStream(array)
    }
}
