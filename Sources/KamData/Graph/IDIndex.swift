import KamSyntax

/// The row of each id of an entity, typed so that resolving millions of references is an
/// array lookup (dense integer ids) or one hash per distinct string, never a boxed hash.
public enum IDIndex: @unchecked Sendable {
    case none
    /// Integer ids within a compact range: rows[id - min], -1 where absent.
    case dense(min: Int64, rows: [Int32])
    case ints([Int64: Int32])
    case strings([String: Int32])
    case values([HashKey: Int32])

    public var isEmpty: Bool { if case .none = self { true } else { false } }

    /// Whether `build` over the key column gives this index again (a snapshot stores the
    /// column's name instead of the index): every kind but `values`, which skips nulls.
    var byColumn: Bool {
        switch self {
        case .dense, .ints, .strings: true
        case .none, .values: false
        }
    }

    /// Builds the index; reports the first duplicate as (row, first row with that id).
    /// With `skippingNulls` (a link that matches another column than the key), a null is
    /// no key and matches nothing; otherwise it is reported as missing.
    public static func build(_ c: Column, skippingNulls: Bool = false) -> (IDIndex, duplicate: (Int, Int)?, missing: Int?) {
        let n = c.count
        if let r = (0..<n).first(where: { !c.isValid($0) }) {
            guard skippingNulls else { return (.none, nil, r) }
            var map: [HashKey: Int32] = [:]
            for r in 0..<n where c.isValid(r) {
                let k = HashKey(c.value(at: r))
                if let first = map.updateValue(Int32(r), forKey: k) { return (.none, (r, Int(first)), nil) }
            }
            return (.values(map), nil, nil)
        }
        switch c.storage {
        case .int(let ids):
            guard let lo = ids.min(), let hi = ids.max() else { return (.dense(min: 0, rows: []), nil, nil) }
            let span = hi.subtractingReportingOverflow(lo)
            if !span.overflow, span.partialValue < Int64(max(1024, n * 4)) {
                var rows = [Int32](repeating: -1, count: Int(span.partialValue) + 1)
                for (r, id) in ids.enumerated() {
                    let k = Int(id - lo)
                    if rows[k] >= 0 { return (.none, (r, Int(rows[k])), nil) }
                    rows[k] = Int32(r)
                }
                return (.dense(min: lo, rows: rows), nil, nil)
            }
            var map: [Int64: Int32] = [:]
            map.reserveCapacity(n)
            for (r, id) in ids.enumerated() {
                if let first = map.updateValue(Int32(r), forKey: id) { return (.none, (r, Int(first)), nil) }
            }
            return (.ints(map), nil, nil)
        case .string(let s):
            var byCode = [Int32](repeating: -1, count: s.dictionary.count)
            for (r, code) in s.codes.enumerated() {
                if byCode[Int(code)] >= 0 { return (.none, (r, Int(byCode[Int(code)])), nil) }
                byCode[Int(code)] = Int32(r)
            }
            var map: [String: Int32] = [:]
            map.reserveCapacity(n)
            for (code, row) in byCode.enumerated() where row >= 0 { map[s.dictionary[code]] = row }
            return (.strings(map), nil, nil)
        default:
            var map: [HashKey: Int32] = [:]
            for r in 0..<n {
                let k = HashKey(c.value(at: r))
                if let first = map.updateValue(Int32(r), forKey: k) { return (.none, (r, Int(first)), nil) }
            }
            return (.values(map), nil, nil)
        }
    }

    /// The row of one id value (ints and their decimal strings match each other).
    public func row(_ v: Value) -> Int32? {
        switch (self, v) {
        case (.none, _), (_, .null): return nil
        case (.dense(let lo, let rows), .int(let i)):
            let (k, o) = i.subtractingReportingOverflow(lo)
            guard !o, k >= 0, k < Int64(rows.count), rows[Int(k)] >= 0 else { return nil }
            return rows[Int(k)]
        case (.dense, .string(let s)), (.ints, .string(let s)):
            // Only the integer's own digits: "01" is a code, not the id 1, as 1 is "1" and
            // not "01" against ids that are text. Either way, the same rows match.
            guard let i = Int64(s), String(i) == s else { return nil }
            return row(.int(i))
        case (.ints(let m), .int(let i)): return m[i]
        case (.strings(let m), .string(let s)): return m[s]
        case (.strings(let m), .int(let i)): return m[String(i)]
        case (.values(let m), _): return m[HashKey(v)]
        default: return nil
        }
    }

    /// Target rows for a whole reference column, -1 where null or dangling.
    public func resolve(_ c: Column) -> [Int32] {
        let n = c.count
        var out = [Int32](repeating: -1, count: n)
        switch (self, c.storage) {
        case (.dense(let lo, let rows), .int(let refs)):
            let count = Int64(rows.count)
            refs.withUnsafeBufferPointer { refs in
                rows.withUnsafeBufferPointer { rows in
                    for i in 0..<n {
                        let k = refs[i] &- lo
                        if k >= 0 && k < count { out[i] = rows[Int(k)] }
                    }
                }
            }
        case (.ints(let m), .int(let refs)):
            for i in 0..<n { out[i] = m[refs[i]] ?? -1 }
        case (_, .string(let s)):
            // One lookup per distinct reference, then a code -> row table.
            let byCode = s.dictionary.map { row(.string($0)) ?? -1 }
            for i in 0..<n { out[i] = byCode[Int(s.codes[i])] }
        default:
            for i in 0..<n { out[i] = row(c.value(at: i)) ?? -1 }
        }
        if let v = c.validity { for i in 0..<n where !v[i] { out[i] = -1 } }
        return out
    }
}
