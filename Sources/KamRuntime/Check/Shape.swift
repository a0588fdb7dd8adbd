import KamEngine
import KamData
import KamSyntax

/// What the checker knows about a value before anything runs: enough to resolve every
/// name (columns, links, variables, functions) and to catch type errors that are certain.
/// `unknown` is the checker saying "could be anything": nothing is reported against it.
public indirect enum Shape: Sendable {
    case unknown
    case null, bool, int, float, string, date, duration
    /// An int or a float.
    case number
    case list(Shape)
    /// A record; nil when its fields are not known.
    case record([String: Shape]?)
    case table(Schema)
    case row(Schema)
    /// A function; nil parameters when they are not known (a built-in as a value).
    case function(params: [String]?)

    /// The shape of a value the session already holds (a variable, an entity table).
    public static func of(_ v: Value, graph: AccountGraph?) -> Shape {
        switch v {
        case .null: return .null
        case .bool: return .bool
        case .int: return .int
        case .float: return .float
        case .string: return .string
        case .date: return .date
        case .duration: return .duration
        case .list(let xs): return .list(xs.first.map { of($0, graph: graph) } ?? .unknown)
        case .record(let r): return .record(Dictionary(zip(r.keys, r.values.map { of($0, graph: graph) }), uniquingKeysWith: { a, _ in a }))
        case .table(let t): return .table(Schema(t, graph: graph))
        case .row(let t, _): return .row(Schema(t, graph: graph))
        case .function(let f):
            if case .closure(let params, _, _, _) = f.body { return .function(params: params) }
            return .function(params: nil)
        }
    }

    /// The shape of a column's values.
    public static func of(_ type: ColumnType) -> Shape {
        switch type {
        case .int: .int
        case .float: .float
        case .bool: .bool
        case .date: .date
        case .string: .string
        case .value: .unknown
        }
    }

    public var isNumber: Bool {
        switch self {
        case .int, .float, .number: true
        default: false
        }
    }

    /// One value, not a collection: a reduction of it is the value itself.
    public var isScalar: Bool {
        switch self {
        case .bool, .int, .float, .number, .string, .date, .duration: true
        default: false
        }
    }

    /// "a string", "an int": for messages.
    public var described: String {
        switch self {
        case .int: "an int"
        case .float: "a float"
        case .number: "a number"
        case .string: "a string"
        case .date: "a date"
        case .bool: "a bool"
        case .duration: "a duration"
        case .null: "null"
        case .list: "a list"
        case .record: "a record"
        case .table: "a table"
        case .row: "a row"
        case .function: "a function"
        case .unknown: "a value"
        }
    }

    /// One shape for two branches (if, ??): the common one, else unknown.
    public static func join(_ a: Shape, _ b: Shape) -> Shape {
        switch (a, b) {
        case (.null, _): return b
        case (_, .null): return a
        case (.int, .int): return .int
        case (.float, .float): return .float
        case (.string, .string): return .string
        case (.date, .date): return .date
        case (.bool, .bool): return .bool
        case _ where a.isNumber && b.isNumber: return .number
        default: return .unknown
        }
    }
}

/// The columns of a table as the checker knows them, and the entity its rows belong to
/// (so links resolve).
public struct Schema: Sendable {
    public var columns: [String]
    public var types: [String: Shape]
    /// The entity of the account graph whose rows these are, for links.
    public var entity: Int?
    /// More columns than `columns` may exist: a name not found is not an error.
    public var open: Bool
    /// The table's name (an entity or the variable it was bound to), for join's prefixes.
    public var name: String?

    public init(columns: [String], types: [String: Shape] = [:], entity: Int? = nil, open: Bool = false, name: String? = nil) {
        self.columns = columns
        self.types = types
        self.entity = entity
        self.open = open
        self.name = name
    }

    public init(_ t: Table, graph: AccountGraph?) {
        columns = t.names
        var types: [String: Shape] = [:]
        for (n, c) in zip(t.names, t.columnTypes) where types[n] == nil { types[n] = Shape.of(c) }
        self.types = types
        entity = t.origin.flatMap { $0.graph === graph ? $0.entity : nil }
        open = false
        name = t.name
    }

    /// A table the checker knows nothing about.
    public static let unknown = Schema(columns: [], open: true)

    public func has(_ name: String) -> Bool { types[name] != nil || columns.contains(name) }

    public func type(_ name: String) -> Shape { types[name] ?? .unknown }

    /// Adds or replaces a column, keeping the order as derive does.
    public mutating func set(_ name: String, _ shape: Shape) {
        if !columns.contains(name) { columns.append(name) }
        types[name] = shape
    }
}
