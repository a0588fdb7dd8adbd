import KamData
import KamRuntime
import KamSyntax

/// What the compiler knows of the data: each entity's columns with their kam types, its
/// key, and the links between entities, read off a loaded account graph.
public struct SQLSchema: Sendable {
    public struct Column: Sendable {
        public var name: String
        public var type: SQLType
    }

    public struct Forward: Sendable {
        /// The column that holds the target's key (`account_id`).
        public var column: String
        public var target: String
        /// The target's column it matches (`id`).
        public var key: String
    }

    public struct Reverse: Sendable {
        public var source: String
        /// The source's column that points here, and the column of ours it matches.
        public var column: String
        public var key: String
    }

    public struct Entity: Sendable {
        public var name: String
        /// The table the database holds the entity in (the entity's name unless told).
        public var table: String
        public var columns: [Column]
        public var key: String?
        public var forward: [String: Forward] = [:]
        public var reverse: [String: Reverse] = [:]
        /// How a manifest reads the entity off the database (renamed columns, a query), when
        /// it does: each query then starts with a view of the entity under kam's names,
        /// which `table` names.
        public var view: View?
        /// The database table is a view: no rowid, its rows in the order it gives them.
        public var isView = false

        public struct View: Sendable {
            /// The table, or the query, the rows come from.
            public var table: String?
            public var query: String?
            /// Each column: kam's name and the database's (nil for a derived column).
            public var columns: [(kam: String, source: String?)]
        }

        public func column(_ name: String) -> Column? { columns.first { $0.name == name } }
    }

    public var entities: [String: Entity] = [:]

    /// A manifest's derived column, to compute in the query: kam's expression, parsed from
    /// the manifest (its ranges point there).
    public struct Derivation: Sendable {
        public var entity: String
        public var column: String
        public var expression: Expr
        public var source: Source
    }
    /// In the order kam computed them (each after the columns it reads).
    public var derivations: [Derivation] = []

    /// Which side of a link a query reads as text: the one holding integers, when the
    /// other holds text (ids loaded as numbers on one side, as codes like "01" on the
    /// other). Compared so, "1" finds the id 1 and "01" finds none, as kam links them;
    /// compared as they are, an engine casts "01" to 1 and a grouped "1" and "01" both
    /// join the one account (two rows where kam has one).
    public func textSides(ref: (entity: String, column: String), key: (entity: String, column: String)) -> (ref: Bool, key: Bool) {
        let r = entities[ref.entity]?.column(ref.column)?.type, k = entities[key.entity]?.column(key.column)?.type
        if r == .int && k == .string { return (true, false) }
        if r == .string && k == .int { return (false, true) }
        return (false, false)
    }

    public init(entities: [String: Entity] = [:]) { self.entities = entities }

    /// The schema of a loaded graph. `sourceTables`: the tables are the database's own
    /// (`OrderDetails`), else the entities' names (a dump of the graph, as the tests load).
    public init(graph: AccountGraph, sourceTables: Bool = true) {
        for e in graph.entities {
            let t = e.table
            var columns: [Column] = []
            for (k, name) in t.names.enumerated() {
                columns.append(Column(name: name, type: SQLSchema.type(of: t.columns[k])))
            }
            var entity = Entity(name: e.name, table: sourceTables ? e.sourceTable ?? e.name : e.name, columns: columns, key: t.columnIndex("id") != nil ? "id" : nil)
            // Derived columns are computed in the query for the entities a database holds (a
            // directory's files are no tables: kam sql assumes tables with every column).
            entity.isView = sourceTables && e.sourceIsView
            let fromDatabase = e.sourceTable != nil || e.sourceQuery != nil
            let derived = fromDatabase ? Set(graph.derivations.filter { $0.entity == e.name }.map(\.spec.column)) : []
            if sourceTables, !e.sourceColumns.isEmpty || e.sourceQuery != nil || !derived.isEmpty {
                entity.view = Entity.View(table: e.sourceTable, query: e.sourceQuery,
                                          columns: columns.map { ($0.name, derived.contains($0.name) ? nil : e.sourceColumns[$0.name] ?? $0.name) })
                entity.table = "__src_" + e.name
            }
            for f in e.forward {
                entity.forward[f.name] = Forward(column: f.column, target: graph.entities[f.target].name, key: f.key)
            }
            entities[e.name] = entity
        }
        for e in graph.entities {
            for r in e.reverse {
                let source = graph.entities[r.source]
                guard let via = source.forwardLink(r.via) else { continue }
                entities[e.name]?.reverse[r.name] = Reverse(source: source.name, column: via.column, key: via.key)
                // The key the links match is the entity's key (CustomerID in a database).
                entities[e.name]?.key = via.key
            }
        }
        if sourceTables { derivations = SQLSchema.derivations(of: graph).filter { entities[$0.entity]?.view != nil } }
    }

    /// The derived columns of a graph's manifest, parsed.
    static func derivations(of graph: AccountGraph) -> [Derivation] {
        guard let manifest = graph.manifest else { return [] }
        return graph.derivations.compactMap { d in
            let source = DerivedColumns.source(d.entity, d.spec, manifest)
            guard let program = try? Parser.parse(source.parse), program.statements.count == 1,
                  case .expression(let e) = program.statements[0].kind else { return nil }
            return Derivation(entity: d.entity, column: d.spec.column, expression: e, source: source.shown)
        }
    }

    public static func type(of c: KamData.Column) -> SQLType {
        switch c.storage {
        case .int: .int
        case .float: .float
        case .bool: .bool
        case .date: .date
        case .string: .string
        case .values(let vs):
            // A column of mixed or nested values: typed by its first non-null value.
            switch vs.first(where: { !$0.isNull }) {
            case .int?: .int
            case .float?: .float
            case .bool?: .bool
            case .date?: .date
            case .string?: .string
            case nil: .null
            default: .unknown
            }
        }
    }
}
