import KamData

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

        public func column(_ name: String) -> Column? { columns.first { $0.name == name } }
    }

    public var entities: [String: Entity] = [:]

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
