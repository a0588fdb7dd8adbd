import KamSyntax

/// A span of calendar time: months and days kept apart, since a month has no fixed length.
public struct Duration: Hashable, Sendable {
    public var months: Int32
    public var days: Int32
    public init(months: Int32 = 0, days: Int32 = 0) { self.months = months; self.days = days }

    /// Approximate length in days, used only to order mixed durations (1mo = 30.436875d).
    public var approximateDays: Double { Double(months) * 30.436875 + Double(days) }

    public var description: String {
        if months == 0 {
            if days != 0 && days % 7 == 0 { return "\(days / 7)w" }
            return "\(days)d"
        }
        var s = months % 12 == 0 ? "\(months / 12)y" : "\(months)mo"
        if days != 0 { s += " \(days)d" }
        return s
    }
}

/// A record: fields in the order they were written.
public struct Record: Sendable {
    public var keys: [String]
    public var values: [Value]
    public init(keys: [String] = [], values: [Value] = []) { self.keys = keys; self.values = values }
    public init(_ pairs: [(String, Value)]) { keys = pairs.map(\.0); values = pairs.map(\.1) }
    public subscript(key: String) -> Value? {
        guard let i = keys.firstIndex(of: key) else { return nil }
        return values[i]
    }
    public mutating func set(_ key: String, _ value: Value) {
        if let i = keys.firstIndex(of: key) { values[i] = value } else { keys.append(key); values.append(value) }
    }
}

/// Every kam value. A closed enum: there is no `Any` anywhere in kam.
public enum Value: @unchecked Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case date(Int32)
    case duration(Duration)
    case list([Value])
    case record(Record)
    case table(Table)
    /// Row `index` of `table`: a node of the account graph.
    case row(Table, Int)
    case function(Function)

    /// The type name shown in error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "string"
        case .date: "date"
        case .duration: "duration"
        case .list: "list"
        case .record: "record"
        case .table: "table"
        case .row: "row"
        case .function: "function"
        }
    }

    /// The type name with its article: "an int", "a string".
    public var aTypeName: String {
        let n = typeName
        return (n.first.map { "aeiou".contains($0) } ?? false ? "an " : "a ") + n
    }

    public var isNull: Bool { if case .null = self { true } else { false } }

    /// A number as a Double (ints widen), nil for anything else.
    public var asDouble: Double? {
        switch self {
        case .int(let v): Double(v)
        case .float(let v): v
        default: nil
        }
    }
}

/// A callable value: a kam function (closure) or a built-in.
public final class Function: @unchecked Sendable {
    public enum Body {
        case closure(params: [String], body: Expr, env: Env, source: Source)
        /// A native function of the registry, by name and signature (the runtime's
        /// `Builtins` holds the implementation).
        case builtin(name: String, signature: String, arity: Int)
    }
    public let name: String
    public let body: Body
    public init(name: String, body: Body) { self.name = name; self.body = body }

    public var arity: Int? {
        switch body {
        case .closure(let params, _, _, _): params.count
        case .builtin(_, _, let arity): arity
        }
    }
}

extension Value {
    /// Equality as `==` sees it: 1 == 1.0; null equals only null (for `== null` tests).
    public func kamEquals(_ other: Value) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.null, _), (_, .null): return false
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.int, .float), (.float, .int), (.float, .float):
            if case .int(let a) = self, case .float(let b) = other { return Double(a) == b && Int64(exactly: b) == a }
            if case .float(let a) = self, case .int(let b) = other { return a == Double(b) && Int64(exactly: a) == b }
            return asDouble == other.asDouble
        case (.string(let a), .string(let b)): return a == b
        case (.date(let a), .date(let b)): return a == b
        case (.duration(let a), .duration(let b)): return a == b
        case (.list(let a), .list(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.kamEquals($1) }
        case (.record(let a), .record(let b)):
            return a.keys == b.keys && zip(a.values, b.values).allSatisfy { $0.kamEquals($1) }
        case (.row(let t1, let i1), .row(let t2, let i2)):
            // Rows of one entity are equal when they are the same entity row, whichever
            // filtered or sorted table they were read from; other rows by their values.
            if let o1 = t1.origin, let o2 = t2.origin, o1.graph === o2.graph, o1.entity == o2.entity {
                return t1.entityRow(i1) == t2.entityRow(i2)
            }
            return t1.names == t2.names && t1.columns.indices.allSatisfy { t1.columns[$0].value(at: i1).kamEquals(t2.columns[$0].value(at: i2)) }
        case (.table(let a), .table(let b)):
            // The same columns, in order, holding equal values row by row.
            if a === b { return true }
            guard a.names == b.names, a.count == b.count else { return false }
            return a.columns.indices.allSatisfy { c in (0..<a.count).allSatisfy { a.columns[c].value(at: $0).kamEquals(b.columns[c].value(at: $0)) } }
        case (.function(let a), .function(let b)): return a === b
        default: return false
        }
    }

    /// Total order used by sort, min and max: numbers < strings < dates < ... ; nil when the
    /// two are of kinds that do not compare (a string and a number in `<`).
    public func compare(_ other: Value) -> Int? {
        switch (self, other) {
        case (.int(let a), .int(let b)): return a < b ? -1 : a > b ? 1 : 0
        case (.int, .float), (.float, .int), (.float, .float):
            guard let a = asDouble, let b = other.asDouble else { return nil }
            if case .int(let x) = self, case .float(let y) = other, Double(x) == y { return 0 }
            return a < b ? -1 : a > b ? 1 : 0
        case (.string(let a), .string(let b)): return a < b ? -1 : a > b ? 1 : 0
        case (.date(let a), .date(let b)): return a < b ? -1 : a > b ? 1 : 0
        case (.bool(let a), .bool(let b)): return a == b ? 0 : (a ? 1 : -1)
        case (.duration(let a), .duration(let b)):
            if a == b { return 0 }
            if a.months == b.months { return a.days < b.days ? -1 : 1 }
            if a.days == b.days { return a.months < b.months ? -1 : 1 }
            return a.approximateDays < b.approximateDays ? -1 : 1
        case (.list(let a), .list(let b)):
            for (x, y) in zip(a, b) {
                if x.isNull && y.isNull { continue }
                if x.isNull { return 1 }
                if y.isNull { return -1 }
                guard let c = x.compare(y) else { return nil }
                if c != 0 { return c }
            }
            return a.count < b.count ? -1 : a.count > b.count ? 1 : 0
        default: return nil
        }
    }
}

/// A hashable wrapper used for group-by keys, distinct and joins (1 and 1.0 hash alike).
public struct HashKey: Hashable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
    public static func == (a: HashKey, b: HashKey) -> Bool {
        // Strings group by their bytes, as dictionary codes do: two spellings of one
        // name (composed and decomposed accents) are two keys on every path.
        if case .string(let x) = a.value, case .string(let y) = b.value { return x.utf8.elementsEqual(y.utf8) }
        return a.value.kamEquals(b.value)
    }
    public func hash(into h: inout Hasher) { HashKey.feed(value, &h) }
    public static func feed(_ v: Value, _ h: inout Hasher) {
        switch v {
        case .null: h.combine(0)
        case .bool(let b): h.combine(b)
        case .int(let i): h.combine(Double(i))
        case .float(let d): h.combine(d)
        case .string(let s):
            var bytes = s
            bytes.withUTF8 { h.combine(bytes: UnsafeRawBufferPointer($0)) }
        case .date(let d): h.combine(d); h.combine(7)
        case .duration(let d): h.combine(d)
        case .list(let xs): h.combine(xs.count); for x in xs { feed(x, &h) }
        case .record(let r): h.combine(r.keys); for x in r.values { feed(x, &h) }
        case .row(let t, let i): h.combine(ObjectIdentifier(t)); h.combine(i)
        case .table(let t): h.combine(ObjectIdentifier(t))
        case .function(let f): h.combine(ObjectIdentifier(f))
        }
    }
}
