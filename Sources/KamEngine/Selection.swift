import KamData
import KamSyntax

/// Merging the parts of a conditional result: each branch of `if`, `and`, `or` and `??`
/// runs on the rows that take it, and the parts become one column here (see the runtime's
/// `Selection.eval`).
public enum Selection {
    /// A per-row truth value: true, false or null; nil when the value is not a bool.
    public enum Truth { case yes, no, unknown }

    /// The truth of each row of a condition column, or the first row that is not a bool.
    public static func truths(_ c: Column) -> Result<[Truth], NotBool> {
        var out = [Truth](repeating: .unknown, count: c.count)
        switch c.storage {
        case .bool(let bs):
            for i in 0..<c.count where c.isValid(i) { out[i] = bs[i] ? .yes : .no }
        case .values(let vs):
            for i in 0..<c.count where c.isValid(i) {
                switch vs[i] {
                case .bool(let b): out[i] = b ? .yes : .no
                case .null: break
                default: return .failure(NotBool(value: vs[i]))
                }
            }
        default:
            for i in 0..<c.count where c.isValid(i) { return .failure(NotBool(value: c.value(at: i))) }
        }
        return .success(out)
    }

    public struct NotBool: Error { public let value: Value }

    /// Rows of a result computed in parts (each part's column holds the values of its rows,
    /// in order); rows in no part are null. Ints and floats from different parts stay boxed
    /// (each value as it was), as they would flowing row by row into the next function.
    public static func merge(_ parts: [(column: Column?, rows: [Int])], count n: Int) -> Column {
        enum Kind { case int, float, bool, date, string, boxed }
        var kinds: [Kind] = []
        for (c, _) in parts {
            guard let c, hasValue(c) else { continue }
            switch c.storage {
            case .int: kinds.append(.int)
            case .float: kinds.append(.float)
            case .bool: kinds.append(.bool)
            case .date: kinds.append(.date)
            case .string: kinds.append(.string)
            case .values: kinds.append(.boxed)
            }
        }
        var validity = Bitmap(count: n, allValid: false)
        var anyNull = false
        for (c, rows) in parts {
            guard let c else { continue }
            for (k, r) in rows.enumerated() where !isNull(c, k) { validity[r] = true }
        }
        for i in 0..<n where !validity[i] { anyNull = true; break }
        let valid: Bitmap? = anyNull ? validity : nil
        let unique = Set(kinds.map { "\($0)" })
        func scatter<T>(_ zero: T, _ read: (Column) -> [T]?) -> [T] {
            var out = [T](repeating: zero, count: n)
            for (c, rows) in parts {
                guard let c, let xs = read(c) else { continue }
                for (k, r) in rows.enumerated() { out[r] = xs[k] }
            }
            return out
        }
        if unique == ["int"] {
            return Column(storage: .int(scatter(0) { if case .int(let xs) = $0.storage { xs } else { nil } }), validity: valid)
        }
        if unique == ["float"] {
            return Column(storage: .float(scatter(0.0) { if case .float(let xs) = $0.storage { xs } else { nil } }), validity: valid)
        }
        if unique == ["bool"] {
            return Column(storage: .bool(scatter(false) { if case .bool(let xs) = $0.storage { xs } else { nil } }), validity: valid)
        }
        if unique == ["date"] {
            return Column(storage: .date(scatter(Int32(0)) { if case .date(let xs) = $0.storage { xs } else { nil } }), validity: valid)
        }
        if unique == ["string"] {
            var dictionary: [String] = [], lookup: [String: UInt32] = [:]
            var codes = [UInt32](repeating: 0, count: n)
            for (c, rows) in parts {
                guard let c, case .string(let s) = c.storage else { continue }
                let remap = s.dictionary.map { word -> UInt32 in
                    if let code = lookup[word] { return code }
                    let code = UInt32(dictionary.count)
                    lookup[word] = code
                    dictionary.append(word)
                    return code
                }
                for (k, r) in rows.enumerated() { codes[r] = remap[Int(s.codes[k])] }
            }
            return Column(storage: .string(StringColumn(codes: codes, dictionary: dictionary.isEmpty ? [""] : dictionary)), validity: valid)
        }
        var values = [Value](repeating: .null, count: n)
        for (c, rows) in parts {
            guard let c else { continue }
            for (k, r) in rows.enumerated() { values[r] = c.value(at: k) }
        }
        return Column.from(values, widening: false)
    }

    /// Whether row `i` of `c` is null.
    @inlinable public static func isNull(_ c: Column, _ i: Int) -> Bool {
        guard c.isValid(i) else { return true }
        if case .values(let vs) = c.storage { return vs[i].isNull }
        return false
    }

    /// Whether any row of `c` holds a value (not null).
    public static func hasValue(_ c: Column) -> Bool {
        if case .values(let vs) = c.storage {
            for i in 0..<c.count where c.isValid(i) && !vs[i].isNull { return true }
            return false
        }
        guard let v = c.validity else { return c.count > 0 }
        for i in 0..<c.count where v[i] { return true }
        return false
    }
}

