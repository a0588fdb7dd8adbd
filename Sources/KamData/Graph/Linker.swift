import KamSyntax

/// Builds the graph's links: ids indexed, `X_id` columns resolved to row indices once,
/// reverse links laid out CSR-style. Duplicate ids are errors; dangling references are
/// warnings (errors with --strict) with a count and the first examples.
public enum Linker {
    public typealias Loaded = (name: String, table: Table, lines: RowLocator?, file: String)

    /// What a source other than files tells the linker: each entity's key column when it
    /// is not `id` (a SQLite primary key), the foreign keys a schema declares, whether
    /// `CustomerID`-style names are links too, and the columns a manifest derives later
    /// (a declared link on one waits for it).
    public struct Hints {
        public var keys: [String: String] = [:]
        public var foreign: [(entity: String, column: String, target: String, key: String?)] = []
        public var camelCase = false
        public var pending: Set<String> = []
        /// Each entity's key as the database names it (CustomerID), when a manifest renamed it.
        public var sourceKeys: [String: String] = [:]
        /// The database table each entity reads, where it is not the entity's name.
        public var sourceTables: [String: String] = [:]
        /// The database's names of the columns a manifest renamed, by entity (kam: source).
        public var sourceColumns: [String: [String: String]] = [:]
        /// The entities a database view holds.
        public var views: Set<String> = []
        /// The manifest's queries, by entity.
        public var sourceQueries: [String: String] = [:]
        /// The manifest keys that change the rows as kam reads them, by entity.
        public var inMemoryOnly: [String: [String]] = [:]
        public init() {}
    }

    /// The link a `CustomerID`, `customer_id` or `Customer_ID` column gives: its base
    /// (`customer`), or nil for a column that does not end in an id.
    public static func camelBase(_ column: String) -> String? {
        guard column.count > 2 else { return nil }
        let tail = column.suffix(2)
        guard tail == "ID" || tail == "Id" || tail == "id" else { return nil }
        var head = String(column.dropLast(2))
        // "Customerid" is not CustomerID: the lower-case suffix needs an underscore.
        if tail == "id" && !head.hasSuffix("_") { return nil }
        while head.hasSuffix("_") { head.removeLast() }
        let base = DatasetLoader.entityName(head)
        return base.isEmpty ? nil : base
    }

    /// The entity a `base_id` column points to, by naming: owner/manager -> employees,
    /// parent/reports_to -> the same entity, else the plural of base.
    public static func target(of base: String, from entity: String, in names: Set<String>) -> String? {
        switch base {
        case "owner", "manager", "employee", "kam": if names.contains("employees") { return "employees" }
        case "parent", "reports_to": return entity
        default: break
        }
        var candidates = [base + "s", base + "es", base]
        if base.hasSuffix("y") { candidates.insert(String(base.dropLast()) + "ies", at: 0) }
        return candidates.first { names.contains($0) }
    }

    /// The name of a reverse link: children for parent, reports for reports_to and
    /// manager, else the source entity's name.
    public static func reverseName(_ link: String, source: String, target: String) -> String {
        if source == target {
            switch link {
            case "parent": return "children"
            case "reports_to", "manager": return "reports"
            default: return "\(source)_by_\(link)"
            }
        }
        return source
    }

    public static func line(_ loaded: Loaded, _ row: Int) -> Int? {
        loaded.lines?.line(of: row)
    }

    public static func link(_ graph: AccountGraph, _ loaded: [Loaded], manifest: Manifest?, options: DatasetLoader.Options,
                     report: inout DatasetLoader.Report, hints: Hints = Hints()) throws {
        let manifestFile = manifest?.file ?? "kam.toml"
        func keyColumn(_ index: Int) -> String? {
            let l = loaded[index]
            if let k = hints.keys[l.name], l.table.columnIndex(k) != nil { return k }
            return l.table.columnIndex("id") != nil ? "id" : nil
        }
        var seenNames = Set<String>()
        for l in loaded {
            guard seenNames.insert(l.name).inserted else {
                throw Diagnostic.data(file: l.file, line: nil, "two files give the entity '\(l.name)'", hints: ["rename one of them, or map them in kam.toml"])
            }
        }
        // Entities first; id indexes for the entities that links point to (and accounts,
        // for account()), built once the links are known.
        for (index, l) in loaded.enumerated() {
            let entity = AccountGraph.Entity(name: l.name, table: l.table, file: l.file)
            entity.sourceTable = hints.sourceTables[l.name]
            entity.sourceColumns = hints.sourceColumns[l.name] ?? [:]
            entity.sourceQuery = hints.sourceQueries[l.name]
            entity.sourceIsView = hints.views.contains(l.name)
            entity.inMemoryOnly = hints.inMemoryOnly[l.name] ?? []
            graph.entities.append(entity)
            graph.byName[l.name] = index
        }
        func buildIndex(_ index: Int) throws {
            let l = loaded[index], e = graph.entities[index]
            guard e.idIndex.isEmpty, let key = keyColumn(index), let c = l.table.columnIndex(key) else { return }
            let (built, duplicate, missing) = IDIndex.build(l.table.columns[c])
            if let r = missing {
                throw Diagnostic.data(file: l.file, line: line(l, r), column: c + 1, "missing id in \(l.name)", hints: ["every row of an entity that others link to needs an id"])
            }
            if let (r, first) = duplicate {
                let v = l.table.columns[c].value(at: r)
                throw Diagnostic.data(file: l.file, line: line(l, r), column: c + 1,
                    "duplicate id \(Format.literal(v, depth: 1)) in \(l.name)" + (line(l, first).map { " (first at line \($0))" } ?? ""),
                    hints: ["ids must be unique within an entity"])
            }
            e.idIndex = built
            e.idColumn = key
        }
        let names = Set(loaded.map(\.name))
        // Which columns link where: declared links first, then links by naming.
        var specs: [(entity: Int, column: String, target: Int, name: String, key: String?)] = []
        for m in manifest?.links ?? [] where !hints.pending.contains(m.entity + "." + m.column)
            && !(m.key.map { hints.pending.contains(m.target + "." + $0) } ?? false) {
            guard let s = graph.byName[m.entity] else {
                throw Diagnostic.data(file: manifestFile, line: m.line, "a link starts at entity '\(m.entity)', which is not in the dataset",
                    hints: [Suggest.hint(m.entity, in: Array(names)) ?? "entities: " + names.sorted().joined(separator: ", ")])
            }
            guard loaded[s].table.columnIndex(m.column) != nil else {
                throw Diagnostic.data(file: manifestFile, line: m.line, "a link starts at column '\(m.entity).\(m.column)', which does not exist",
                    hints: [Suggest.hint(m.column, in: loaded[s].table.names) ?? "columns: " + loaded[s].table.names.joined(separator: ", ")])
            }
            guard let t = graph.byName[m.target] else {
                throw Diagnostic.data(file: manifestFile, line: m.line, "a link points to entity '\(m.target)', which is not in the dataset",
                    hints: [Suggest.hint(m.target, in: Array(names)) ?? "entities: " + names.sorted().joined(separator: ", ")])
            }
            if let key = m.key, loaded[t].table.columnIndex(key) == nil {
                throw Diagnostic.data(file: manifestFile, line: m.line, "a link matches column '\(m.target).\(key)', which does not exist",
                    hints: [Suggest.hint(key, in: loaded[t].table.names) ?? "columns: " + loaded[t].table.names.joined(separator: ", ")])
            }
            let name = m.name ?? (m.column.hasSuffix("_id") ? String(m.column.dropLast(3)) : m.column)
            specs.append((s, m.column, t, name, m.key))
        }
        // Foreign keys the schema declares.
        for f in hints.foreign {
            guard let s = graph.byName[f.entity], let t = graph.byName[f.target], loaded[s].table.columnIndex(f.column) != nil,
                  !specs.contains(where: { $0.entity == s && $0.column == f.column }) else { continue }
            let key = f.key ?? keyColumn(t)
            guard let key, loaded[t].table.columnIndex(key) != nil else { continue }
            let name = camelBase(f.column) ?? DatasetLoader.entityName(f.column)
            specs.append((s, f.column, t, name, key))
        }
        for (s, l) in loaded.enumerated() {
            for col in l.table.names where col.hasSuffix("_id") && col.count > 3 && !specs.contains(where: { $0.entity == s && $0.column == col }) {
                let base = String(col.dropLast(3))
                guard let tname = target(of: base, from: l.name, in: names), let t = graph.byName[tname] else { continue }
                guard keyColumn(t) != nil else {
                    throw Diagnostic.data(file: loaded[t].file, line: 1, "\(tname) has no id column, but \(l.name).\(col) refers to it",
                        hints: ["add an id column, or rename the key column to id in kam.toml: columns = { \(tname.dropLast())ID = \"id\" }"])
                }
                specs.append((s, col, t, base, nil))
            }
            // CustomerID refers to the entity whose key is CustomerID (in the database, before
            // a manifest renamed it), where the schema declares no foreign key; ParentID and
            // ManagerID to their usual targets.
            guard hints.camelCase else { continue }
            let ownKey = (hints.sourceKeys[l.name] ?? keyColumn(s)).map(DatasetLoader.entityName)
            for col in l.table.names where !specs.contains(where: { $0.entity == s && $0.column == col }) {
                guard let base = camelBase(col) else { continue }
                // CompanyId, company_id and Company_ID all name the key CompanyId; a table's
                // own key is no link (nor, in a table keyed by it, a link to its twin).
                let wanted = DatasetLoader.entityName(col)
                if wanted == ownKey || col == keyColumn(s) { continue }
                let keyed = loaded.indices.filter { t in
                    t != s && (hints.sourceKeys[loaded[t].name] ?? keyColumn(t)).map(DatasetLoader.entityName) == wanted
                }
                // Several tables keyed alike (Customers, CustomerNotes): the one the name
                // says, else none (a guess would be a wrong link).
                let byKey = keyed.count == 1 ? keyed.first : keyed.first { t in Linker.target(of: base, from: l.name, in: names) == loaded[t].name }
                if keyed.count > 1 && byKey == nil {
                    var w = Diagnostic.data(file: l.file, line: nil,
                        "\(l.name).\(col) links to no table: \(keyed.map { loaded[$0].name }.joined(separator: " and ")) are all keyed \(col)",
                        hints: ["declare the foreign key in the database, or the link in a manifest: [[links]] from = \"\(l.name).\(col)\", to = \"\(loaded[keyed[0]].name)\""])
                    w.kind = .warning
                    report.warnings.append(w)
                    continue
                }
                var target = byKey
                if target == nil, ["parent", "reports_to", "manager", "owner"].contains(base), let n = Linker.target(of: base, from: l.name, in: names) {
                    target = graph.byName[n]
                }
                guard let t = target, let key = keyColumn(t), !(t == s && key == col) else { continue }
                specs.append((s, col, t, base, key))
            }
        }
        for t in Set(specs.map(\.target)) { try buildIndex(t) }
        // A link that matches another column than the target's key gets its own index.
        var otherIndexes: [Int: IDIndex] = [:]
        for (k, spec) in specs.enumerated() {
            guard let key = spec.key, key != keyColumn(spec.target), let c = loaded[spec.target].table.columnIndex(key) else { continue }
            let (built, duplicate, _) = IDIndex.build(loaded[spec.target].table.columns[c], skippingNulls: true)
            if let (r, _) = duplicate {
                let v = loaded[spec.target].table.columns[c].value(at: r)
                throw Diagnostic.data(file: loaded[spec.target].file, line: line(loaded[spec.target], r), column: c + 1,
                    "duplicate \(key) \(Format.literal(v, depth: 1)) in \(loaded[spec.target].name), which \(loaded[spec.entity].name).\(spec.column) refers to",
                    hints: ["a link needs a unique key on the side it points to"])
            }
            otherIndexes[k] = built
        }
        let indexes = otherIndexes
        if let a = graph.byName["accounts"] { try buildIndex(a) }
        // Resolve forward links and lay out their reverse links, every link on its own core;
        // then attach them in a fixed order, so names never depend on timing.
        struct Resolved {
            var rows: [Int32] = []
            var offsets: [Int32] = []
            var dangling = 0
            var examples: [Int] = []
        }
        var resolved = [Resolved](repeating: Resolved(), count: specs.count)
        resolved.withUnsafeMutableBufferPointer { out in
            let outBase = out.baseAddress
            parallelFor(specs.count) { k in
                let spec = specs[k]
                let dst = graph.entities[spec.target]
                let l = loaded[spec.entity]
                guard let c = l.table.columnIndex(spec.column) else { return }
                let col = l.table.columns[c]
                var r = Resolved()
                r.rows = (indexes[k] ?? dst.idIndex).resolve(col)
                for i in 0..<l.table.count where r.rows[i] < 0 && col.isValid(i) {
                    r.dangling += 1
                    if r.examples.count < 3 { r.examples.append(i) }
                }
                let targets = dst.table.count
                var offsets = [Int32](repeating: 0, count: targets + 1)
                for t in r.rows where t >= 0 { offsets[Int(t) + 1] += 1 }
                for i in 0..<targets { offsets[i + 1] += offsets[i] }
                r.offsets = offsets
                outBase?[k] = r
            }
        }
        // When one entity links to another in several ways, the conventional link (orders'
        // account_id to accounts) takes the plain reverse name (account.orders), whatever
        // the order they were declared in; the others are SOURCE_by_LINK.
        func conventional(_ spec: (entity: Int, column: String, target: Int, name: String, key: String?)) -> Bool {
            let t = graph.entities[spec.target].name
            let singular = t.hasSuffix("ies") ? String(t.dropLast(3)) + "y" : t.hasSuffix("s") ? String(t.dropLast()) : t
            return spec.name == singular || DatasetLoader.entityName(spec.column) == singular + "_id"
        }
        var plainOwner: [String: Int] = [:]
        for (k, spec) in specs.enumerated() where conventional(spec) {
            plainOwner["\(spec.entity)>\(spec.target)", default: k] = k
        }
        for k in specs.indices {
            let spec = specs[k]
            let src = graph.entities[spec.entity], dst = graph.entities[spec.target]
            let l = loaded[spec.entity]
            let r = resolved[k]
            guard let c = l.table.columnIndex(spec.column) else { continue }
            if r.dangling > 0 {
                let col = l.table.columns[c]
                let examples = r.examples.map { i in Format.literal(col.value(at: i), depth: 1) + (line(l, i).map { " (line \($0))" } ?? "") }
                let dangling = r.dangling
                var d = Diagnostic.data(file: l.file, line: nil,
                    "\(dangling) value\(dangling == 1 ? "" : "s") of \(l.name).\(spec.column) refer\(dangling == 1 ? "s" : "") to no row of \(dst.name)" + (options.strict ? "" : "; the link is null there"),
                    hints: ["first: " + examples.joined(separator: ", ")])
                if options.strict { throw d }
                d.kind = .warning
                report.warnings.append(d)
            }
            // A link named like a column would be hidden by it: it is NAME_ref.
            let name = src.table.columnIndex(spec.name) != nil ? spec.name + "_ref" : spec.name
            src.forward.append(AccountGraph.ForwardLink(name: name, column: spec.column, target: spec.target,
                key: spec.key ?? keyColumn(spec.target) ?? "id", rows: r.rows))
            var rname = reverseName(name, source: src.name, target: dst.name)
            let owner = plainOwner["\(spec.entity)>\(spec.target)"]
            if dst.reverseLink(rname) != nil || dst.table.columnIndex(rname) != nil || (owner != nil && owner != k && rname == src.name) {
                rname = "\(src.name)_by_\(name)"
            }
            // The reverse rows (a counting sort of the forward link) are made when a run first
            // walks the link backwards: a scatter over the forward link needs only the offsets.
            let forward = r.rows, offsets = r.offsets
            dst.reverse.append(AccountGraph.ReverseLink(name: rname, source: spec.entity, via: name, offsetsBox: LazyArray(offsets),
                rowsBox: LazyArray(loader: { AccountGraph.ReverseLink.rows(forward: forward, offsets: offsets) ?? [] })))
        }
        resolved = []
        // Tables that know their graph, so their rows navigate.
        for (i, e) in graph.entities.enumerated() {
            e.table = Table(names: e.table.names, columns: e.table.columns, count: e.table.count, name: e.name,
                origin: Origin(graph: graph, entity: i, rows: nil))
            let links = e.forward.map { "\($0.name) -> \(graph.entities[$0.target].name)" }
            // What was inferred: how many columns of each type.
            var types: [String: Int] = [:]
            for c in e.table.columns { types[c.type == .value ? "other" : c.type.rawValue, default: 0] += 1 }
            let typeText = ["int", "float", "date", "bool", "string", "other"].compactMap { t in types[t].map { "\($0) \(t)" } }.joined(separator: ", ")
            let blank = loaded[i].lines?.blankLines ?? 0
            report.summary.append("\(e.name): \(e.table.count) row\(e.table.count == 1 ? "" : "s"), \(e.table.names.count) columns (\(typeText))"
                + (blank > 0 ? ", \(blank) blank line\(blank == 1 ? "" : "s") skipped" : "")
                + (links.isEmpty ? "" : "; links " + links.joined(separator: ", ")))
        }
    }
}
