import KamSyntax

/// Strings stored once in a dictionary; rows hold 32-bit codes into it.
///
/// The dictionary holds each string once: equal strings have equal codes. Grouping,
/// distinct counts and joins compare codes, so a dictionary with a repeated entry would
/// split one group into two; every builder looks each string up before adding it.
public struct StringColumn: Sendable {
    public var codes: [UInt32]
    public var dictionary: [String]
    public init(codes: [UInt32], dictionary: [String]) { self.codes = codes; self.dictionary = dictionary }
}

/// The typed storage of a column: one contiguous array per column.
public enum ColumnStorage: @unchecked Sendable {
    case int([Int64])
    case float([Double])
    case bool([Bool])
    case date([Int32])
    case string(StringColumn)
    /// Anything else (lists, records, rows, mixed kinds) kept boxed.
    case values([Value])
}

/// The logical type of a column, as `schema()` and error messages name it.
public enum ColumnType: String, Sendable {
    case int, float, bool, date, string, value
}

/// A typed column with a validity bitmap (nil = no nulls).
public struct Column: Sendable {
    public var storage: ColumnStorage
    public var validity: Bitmap?
    public let count: Int

    public init(storage: ColumnStorage, validity: Bitmap? = nil) {
        self.storage = storage
        self.validity = validity
        switch storage {
        case .int(let a): count = a.count
        case .float(let a): count = a.count
        case .bool(let a): count = a.count
        case .date(let a): count = a.count
        case .string(let s): count = s.codes.count
        case .values(let a): count = a.count
        }
    }

    public var type: ColumnType {
        switch storage {
        case .int: .int
        case .float: .float
        case .bool: .bool
        case .date: .date
        case .string: .string
        case .values: .value
        }
    }

    @inlinable public func isValid(_ i: Int) -> Bool { validity?[i] ?? true }

    /// The value of row `i`, boxed. Hot paths read the typed arrays instead.
    public func value(at i: Int) -> Value {
        guard isValid(i) else { return .null }
        switch storage {
        case .int(let a): return .int(a[i])
        case .float(let a): return .float(a[i])
        case .bool(let a): return .bool(a[i])
        case .date(let a): return .date(a[i])
        case .string(let s): return .string(s.dictionary[Int(s.codes[i])])
        case .values(let a): return a[i]
        }
    }

    /// The rows at `indices`, in that order.
    public func gather(_ indices: [Int]) -> Column {
        var validity: Bitmap? = nil
        if let v = self.validity {
            var b = Bitmap(count: indices.count, allValid: true)
            for (j, i) in indices.enumerated() where !v[i] { b[j] = false }
            validity = b
        }
        switch storage {
        case .int(let a): return Column(storage: .int(indices.map { a[$0] }), validity: validity)
        case .float(let a): return Column(storage: .float(indices.map { a[$0] }), validity: validity)
        case .bool(let a): return Column(storage: .bool(indices.map { a[$0] }), validity: validity)
        case .date(let a): return Column(storage: .date(indices.map { a[$0] }), validity: validity)
        case .string(let s):
            return Column(storage: .string(StringColumn(codes: indices.map { s.codes[$0] }, dictionary: s.dictionary)), validity: validity)
        case .values(let a): return Column(storage: .values(indices.map { a[$0] }), validity: validity)
        }
    }

    /// Builds the tightest typed column for boxed values: ints stay ints, ints mixed with
    /// floats widen to float (unless `widening` is false), strings are dictionary-encoded,
    /// anything mixed stays boxed.
    public static func from(_ values: [Value], widening: Bool = true) -> Column {
        var sawInt = false, sawFloat = false, sawBool = false, sawDate = false, sawString = false, sawOther = false
        var nulls = 0
        for v in values {
            switch v {
            case .null: nulls += 1
            case .int: sawInt = true
            case .float: sawFloat = true
            case .bool: sawBool = true
            case .date: sawDate = true
            case .string: sawString = true
            default: sawOther = true
            }
        }
        var validity: Bitmap? = nil
        if nulls > 0 {
            var b = Bitmap(count: values.count, allValid: true)
            for (i, v) in values.enumerated() where v.isNull { b[i] = false }
            validity = b
        }
        let kinds = [sawInt || sawFloat, sawBool, sawDate, sawString, sawOther].filter { $0 }.count
        if kinds > 1 || sawOther || (!widening && sawInt && sawFloat) {
            return Column(storage: .values(values), validity: validity)
        }
        if sawFloat {
            return Column(storage: .float(values.map { $0.asDouble ?? 0 }), validity: validity)
        }
        if sawInt {
            return Column(storage: .int(values.map { if case .int(let x) = $0 { x } else { 0 } }), validity: validity)
        }
        if sawBool {
            return Column(storage: .bool(values.map { if case .bool(let x) = $0 { x } else { false } }), validity: validity)
        }
        if sawDate {
            return Column(storage: .date(values.map { if case .date(let x) = $0 { x } else { 0 } }), validity: validity)
        }
        if sawString {
            var dict: [String] = []
            var lookup: [String: UInt32] = [:]
            var codes = [UInt32]()
            codes.reserveCapacity(values.count)
            for v in values {
                if case .string(let s) = v {
                    if let c = lookup[s] { codes.append(c) } else {
                        let c = UInt32(dict.count)
                        lookup[s] = c
                        dict.append(s)
                        codes.append(c)
                    }
                } else {
                    codes.append(0)
                }
            }
            if dict.isEmpty { dict.append("") }
            return Column(storage: .string(StringColumn(codes: codes, dictionary: dict)), validity: validity)
        }
        // All null (or empty): boxed nulls keep their type open.
        return Column(storage: .values(values), validity: validity)
    }
}
