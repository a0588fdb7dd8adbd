import KamData
import KamSyntax

/// The one reduction library: sum, avg, min, max, count and count_distinct over a typed
/// column, whole (one value) or by group ids (one value per group). `aggregate ... by`,
/// aggregates over reverse links (`sum(orders.amount)` per account), aggregates of a
/// table's column and the analytics stages all reduce through here, so each reduction has
/// one definition:
///
/// - sum: of the non-null values; 0 when there are none, typed as the column (0 for an int
///   column, 0.0 for a float column). Int sums are checked (overflow is an error), float
///   sums are compensated (Neumaier), so sums of cents stay cents.
/// - avg: the float mean of the non-null values; null when there are none.
/// - min, max: of the non-null values; null when there are none.
/// - count: how many values are not null.
/// - count_distinct: how many distinct values are not null.
///
/// Columns of boxed values (mixed kinds, lists) return nil: the caller reduces the values
/// one by one with the same rules (`Aggregates`).
public enum Reduce {
    public enum Op: String, Sendable {
        case sum, avg, min, max, count
        case countDistinct = "count_distinct"
    }

    /// An int sum left the 64-bit range.
    /// A sum left the range of its type (64-bit ints, or doubles).
    public struct Overflow: Error {
        public var float = false
        public init(float: Bool = false) { self.float = float }
        public var message: String { float ? "float overflow in sum" : "integer overflow in sum" }
        public var hints: [String] { float ? ["the total is beyond ±1.8e308"] : ["sum float(x) for very large totals"] }
    }


    /// Neumaier's compensated sum: the running sum and the low-order bits it lost.
    public struct Compensated {
        public init() {}
        public var sum = 0.0
        public var compensation = 0.0
        @inline(__always) public mutating func add(_ x: Double) {
            let t = sum + x
            guard t.isFinite else {
                // Past the float range (or an infinity in the data): the sum is that
                // infinity, not the NaN the compensation would make of it.
                sum = t
                return
            }
            // Knuth's TwoSum: the exact rounding error of sum + x without a branch (the
            // same error Neumaier's |sum| >= |x| test picks, so the same result).
            let xPart = t - sum
            compensation += (sum - (t - xPart)) + (x - xPart)
            sum = t
        }
        public mutating func add(_ other: Compensated) {
            add(other.sum)
            compensation += other.compensation
        }
        public var value: Double { sum.isFinite ? Reduce.cents(sum + compensation) : sum }
    }

    /// A total within a few units in the last place of a whole number of cents, as that
    /// number of cents: amounts of 0.1 and 0.2 in binary are a little off, and their exact
    /// sum can sit just beside the cents it stands for (458048.52999999997 for 458048.53).
    /// The compensated sum is off by less than that already; this moves it by at most four
    /// units in the last place, to the total an accountant writes.
    @inline(__always) public static func cents(_ r: Double) -> Double {
        // Past 10^12 four units in the last place are a tenth of a cent or more: a genuine
        // fraction of a cent would be taken for an error of the binary sum.
        guard r.magnitude < 1e12 else { return r }
        let y = r * 100
        let k = y.rounded()
        guard (y - k).magnitude <= 8 * y.ulp else { return r }
        let c = k / 100
        return (c - r).magnitude <= 4 * r.ulp ? c : r
    }

    /// The compensated sum of `xs`.
    public static func sum(_ xs: [Double]) -> Double {
        var acc = Compensated()
        for x in xs { acc.add(x) }
        return acc.value
    }

    // MARK: whole columns

    /// `op` over every row of `c`; nil when `c` holds boxed values.
    public static func whole(_ op: Op, _ c: Column) throws(Overflow) -> Value? {
        let n = c.count
        switch (op, c.storage) {
        case (.count, _):
            var k: Int64 = 0
            for i in 0..<n where !Selection.isNull(c, i) { k += 1 }
            return .int(k)
        case (_, .values): return nil
        case (.sum, .int(let xs)):
            var s: Int64 = 0
            for i in 0..<n where c.isValid(i) {
                let (r, o) = s.addingReportingOverflow(xs[i])
                if o { throw Overflow() }
                s = r
            }
            return .int(s)
        case (.sum, .float(let xs)):
            var acc = Compensated()
            if c.validity == nil { for x in xs { acc.add(x) } } else { for i in 0..<n where c.isValid(i) { acc.add(xs[i]) } }
            guard acc.value.isFinite else { throw Overflow(float: true) }
            return .float(acc.value)
        case (.avg, .int(let xs)):
            var acc = Compensated()
            var k = 0
            for i in 0..<n where c.isValid(i) {
                acc.add(Double(xs[i]))
                k += 1
            }
            return k == 0 ? .null : .float(acc.value / Double(k))
        case (.avg, .float(let xs)):
            var acc = Compensated()
            var k = 0
            for i in 0..<n where c.isValid(i) {
                acc.add(xs[i])
                k += 1
            }
            return k == 0 ? .null : .float(acc.value / Double(k))
        case (.min, .int(let xs)), (.max, .int(let xs)): return best(xs, c, op == .max).map { .int($0) } ?? .null
        case (.min, .float(let xs)), (.max, .float(let xs)): return best(xs, c, op == .max).map { .float($0) } ?? .null
        case (.min, .date(let xs)), (.max, .date(let xs)): return best(xs, c, op == .max).map { .date($0) } ?? .null
        case (.min, .string(let s)), (.max, .string(let s)):
            var found: String? = nil
            for i in 0..<n where c.isValid(i) {
                let x = s.dictionary[Int(s.codes[i])]
                if let f = found { if op == .max ? x > f : x < f { found = x } } else { found = x }
            }
            return found.map { .string($0) } ?? .null
        case (.countDistinct, .int(let xs)): return .int(distinct(xs, c))
        case (.countDistinct, .float(let xs)): return .int(distinct(xs.map { $0 == 0 ? 0 : $0 }, c))
        case (.countDistinct, .date(let xs)): return .int(distinct(xs, c))
        case (.countDistinct, .bool(let xs)): return .int(distinct(xs, c))
        case (.countDistinct, .string(let s)): return .int(distinct(s.codes, c))
        default: return nil
        }
    }

    public static func best<T: Comparable>(_ xs: [T], _ c: Column, _ wantMax: Bool) -> T? {
        var found: T? = nil
        for i in 0..<xs.count where c.isValid(i) {
            if let f = found { if wantMax ? xs[i] > f : xs[i] < f { found = xs[i] } } else { found = xs[i] }
        }
        return found
    }

    public static func distinct<T: Hashable>(_ xs: [T], _ c: Column) -> Int64 {
        var seen = Set<T>()
        for i in 0..<xs.count where c.isValid(i) { seen.insert(xs[i]) }
        return Int64(seen.count)
    }

    // MARK: running totals

    /// Running totals in the column's order (cumsum): checked for ints, compensated for
    /// floats; a null adds nothing. nil for other columns.
    public static func running(_ c: Column) throws(Overflow) -> Column? {
        switch c.storage {
        case .int(let xs):
            var out = [Int64](repeating: 0, count: xs.count)
            var s: Int64 = 0
            for i in 0..<xs.count {
                if c.isValid(i) {
                    let (r, o) = s.addingReportingOverflow(xs[i])
                    if o { throw Overflow() }
                    s = r
                }
                out[i] = s
            }
            return Column(storage: .int(out))
        case .float(let xs):
            var out = [Double](repeating: 0, count: xs.count)
            var acc = Compensated()
            for i in 0..<xs.count {
                if c.isValid(i) { acc.add(xs[i]) }
                out[i] = acc.value
            }
            guard acc.value.isFinite else { throw Overflow(float: true) }
            return Column(storage: .float(out))
        default:
            return nil
        }
    }

    // MARK: by group

    /// `op` per group: row i belongs to group `gid[i]` (a negative id: to none). nil when
    /// `c` holds boxed values or `op` does not apply to its type.
    public static func grouped(_ op: Op, _ c: Column, gid: [Int32], groups: Int) throws(Overflow) -> Column? {
        let n = gid.count
        let validity = c.validity
        // How many values each group has (not null), for count, avg and the empty groups
        // of min and max.
        func counts() -> [Int64] {
            var seen = [Int64](repeating: 0, count: groups)
            if case .values(let vs) = c.storage {
                for i in 0..<n where gid[i] >= 0 && c.isValid(i) && !vs[i].isNull { seen[Int(gid[i])] += 1 }
                return seen
            }
            seen.withUnsafeMutableBufferPointer { out in
                gid.withUnsafeBufferPointer { g in
                    for i in 0..<n {
                        let t = Int(g[i])
                        if t < 0 { continue }
                        if let validity, !validity[i] { continue }
                        out[t] += 1
                    }
                }
            }
            return seen
        }
        func nullsWhereEmpty(_ seen: [Int64]) -> Bitmap? {
            guard seen.contains(0) else { return nil }
            var b = Bitmap(count: groups, allValid: true)
            for g in 0..<groups where seen[g] == 0 { b[g] = false }
            return b
        }
        switch (op, c.storage) {
        case (.count, _):
            return Column(storage: .int(counts()))
        case (_, .values):
            return nil
        case (.sum, .int), (.sum, .float), (.avg, .int), (.avg, .float), (.min, .int), (.max, .int), (.min, .float), (.max, .float):
            // The one definition a snapshot's streamed columns use too.
            guard let values = ColumnStream(c), values.count == n else { return nil }
            return try grouped(op, values, gid: ArrayStream(gid), groups: groups)
        case (.min, .date(let xs)), (.max, .date(let xs)):
            let (best, seen) = extremes(xs, validity, gid, groups, op == .max, zero: 0)
            return Column(storage: .date(best), validity: nullsWhereEmpty(seen))
        case (.countDistinct, .int(let xs)): return Column(storage: .int(distinctPerGroup(xs, c, gid, groups)))
        case (.countDistinct, .float(let xs)): return Column(storage: .int(distinctPerGroup(xs.map { $0 == 0 ? 0 : $0 }, c, gid, groups)))
        case (.countDistinct, .date(let xs)): return Column(storage: .int(distinctPerGroup(xs, c, gid, groups)))
        case (.countDistinct, .string(let s)): return Column(storage: .int(distinctPerGroup(s.codes, c, gid, groups)))
        default: return nil
        }
    }

    /// The least or greatest value per group, and how many values each group has.
    public static func extremes<T: Comparable>(_ xs: [T], _ validity: Bitmap?, _ gid: [Int32], _ groups: Int, _ wantMax: Bool, zero: T) -> ([T], [Int64]) {
        var best = [T](repeating: zero, count: groups)
        var seen = [Int64](repeating: 0, count: groups)
        best.withUnsafeMutableBufferPointer { b in
            seen.withUnsafeMutableBufferPointer { k in
                gid.withUnsafeBufferPointer { g in
                    xs.withUnsafeBufferPointer { x in
                        for i in 0..<g.count {
                            let t = Int(g[i])
                            if t < 0 { continue }
                            if let validity, !validity[i] { continue }
                            if k[t] == 0 || (wantMax ? x[i] > b[t] : x[i] < b[t]) { b[t] = x[i] }
                            k[t] += 1
                        }
                    }
                }
            }
        }
        return (best, seen)
    }

    /// Distinct values per group: the rows bucketed by group (a counting sort), then each
    /// group's values sorted and their runs counted.
    public static func distinctPerGroup<T: Comparable>(_ xs: [T], _ c: Column, _ gid: [Int32], _ groups: Int) -> [Int64] {
        var offsets = [Int](repeating: 0, count: groups + 1)
        for i in 0..<gid.count where gid[i] >= 0 && c.isValid(i) { offsets[Int(gid[i]) + 1] += 1 }
        for g in 0..<groups { offsets[g + 1] += offsets[g] }
        guard let first = xs.first else { return [Int64](repeating: 0, count: groups) }
        var bucket = [T](repeating: first, count: offsets[groups])
        var next = offsets
        for i in 0..<gid.count where gid[i] >= 0 && c.isValid(i) {
            let g = Int(gid[i])
            bucket[next[g]] = xs[i]
            next[g] += 1
        }
        var out = [Int64](repeating: 0, count: groups)
        bucket.withUnsafeMutableBufferPointer { b in
            for g in 0..<groups where offsets[g + 1] > offsets[g] {
                var part = UnsafeMutableBufferPointer(rebasing: b[offsets[g]..<offsets[g + 1]])
                part.sort()
                var k: Int64 = 1
                for j in 1..<part.count where part[j] != part[j - 1] { k += 1 }
                out[g] = k
            }
        }
        return out
    }
}
