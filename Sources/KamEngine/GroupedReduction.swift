import KamData

extension Reduce {
    /// sum, avg, min, max or count per group of an int or float column, fed a chunk of rows
    /// at a time in row order. `grouped` runs it over a column in memory as one chunk and
    /// over a snapshot's column streamed from the file (`grouped(_:_:gid:groups:)` with
    /// streams), so both give the same answer bit for bit: each group's values are added in
    /// row order, float sums compensated (TwoSum, as `Compensated`), int sums checked.
    public struct GroupedReduction {
        public let op: Op
        public let groups: Int
        /// Whether the values are floats (an int column is summed as ints, averaged as floats).
        let floats: Bool
        var ints: [Int64] = []
        /// Float sums and their compensations side by side (group t at 2t and 2t + 1): one
        /// cache line per value added, not two.
        var sums: [Double] = []
        var seen: [Int64]
        var overflow = false

        /// Nil for an op this does not compute (count_distinct).
        public init?(_ op: Op, groups: Int, floats: Bool) {
            guard op != .countDistinct else { return nil }
            self.op = op
            self.groups = groups
            self.floats = floats
            seen = [Int64](repeating: 0, count: groups)
            switch op {
            case .sum where !floats: ints = [Int64](repeating: 0, count: groups)
            case .sum, .avg: sums = [Double](repeating: 0, count: 2 * groups)
            case .min, .max:
                if floats { sums = [Double](repeating: 0, count: groups) } else { ints = [Int64](repeating: 0, count: groups) }
            default: break
            }
        }

        /// Rows `start..<start + gid.count`: row `start + i` is in group `gid[i]` (none when
        /// negative), with value `xs[i]`, null where `validity` says so.
        public mutating func add(_ gid: UnsafeBufferPointer<Int32>, ints xs: UnsafeBufferPointer<Int64>, validity: Bitmap?, start: Int) {
            if overflow { return }
            let wantMax = op == .max
            seen.withUnsafeMutableBufferPointer { k in
                switch op {
                case .count:
                    Self.count(gid, validity, start, k)
                case .sum:
                    ints.withUnsafeMutableBufferPointer { out in
                        for i in 0..<gid.count {
                            let t = Int(gid[i])
                            if t < 0 { continue }
                            if let validity, !validity[start + i] { continue }
                            let (r, o) = out[t].addingReportingOverflow(xs[i])
                            if o { overflow = true; return }
                            out[t] = r
                        }
                    }
                case .avg:
                    sums.withUnsafeMutableBufferPointer { s in Self.average(gid, xs, validity, start, s, k, Double.init) }
                case .min, .max:
                    ints.withUnsafeMutableBufferPointer { b in Self.extremes(gid, xs, validity, start, wantMax, b, k) }
                case .countDistinct: break
                }
            }
        }

        /// As `add(_:ints:validity:start:)`, for float values.
        public mutating func add(_ gid: UnsafeBufferPointer<Int32>, floats xs: UnsafeBufferPointer<Double>, validity: Bitmap?, start: Int) {
            let wantMax = op == .max
            seen.withUnsafeMutableBufferPointer { k in
                switch op {
                case .count:
                    Self.count(gid, validity, start, k)
                case .sum:
                    // (A sum needs no count.)
                    sums.withUnsafeMutableBufferPointer { s in
                        if let validity {
                            for i in 0..<gid.count where gid[i] >= 0 && validity[start + i] { Reduce.twoSum(s, Int(gid[i]), xs[i]) }
                        } else {
                            for i in 0..<gid.count where gid[i] >= 0 { Reduce.twoSum(s, Int(gid[i]), xs[i]) }
                        }
                    }
                case .avg:
                    sums.withUnsafeMutableBufferPointer { s in Self.average(gid, xs, validity, start, s, k) { $0 } }
                case .min, .max:
                    sums.withUnsafeMutableBufferPointer { b in Self.extremes(gid, xs, validity, start, wantMax, b, k) }
                case .countDistinct: break
                }
            }
        }

        /// How many values (not null) each group has so far.
        @inline(__always) static func count(
            _ gid: UnsafeBufferPointer<Int32>, _ validity: Bitmap?, _ start: Int, _ seen: UnsafeMutableBufferPointer<Int64>
        ) {
            for i in 0..<gid.count where gid[i] >= 0 && (validity?[start + i] ?? true) { seen[Int(gid[i])] += 1 }
        }

        /// The compensated sums (as floats) and counts of each group so far, for avg.
        @inline(__always) static func average<T>(
            _ gid: UnsafeBufferPointer<Int32>, _ xs: UnsafeBufferPointer<T>, _ validity: Bitmap?, _ start: Int,
            _ sums: UnsafeMutableBufferPointer<Double>, _ seen: UnsafeMutableBufferPointer<Int64>, _ double: (T) -> Double
        ) {
            for i in 0..<gid.count where gid[i] >= 0 && (validity?[start + i] ?? true) {
                Reduce.twoSum(sums, Int(gid[i]), double(xs[i]))
                seen[Int(gid[i])] += 1
            }
        }

        /// The least or greatest value per group so far, and how many each group has seen.
        @inline(__always) static func extremes<T: Comparable>(
            _ gid: UnsafeBufferPointer<Int32>, _ xs: UnsafeBufferPointer<T>, _ validity: Bitmap?, _ start: Int, _ wantMax: Bool,
            _ best: UnsafeMutableBufferPointer<T>, _ seen: UnsafeMutableBufferPointer<Int64>
        ) {
            for i in 0..<gid.count {
                let t = Int(gid[i])
                if t < 0 { continue }
                if let validity, !validity[start + i] { continue }
                if seen[t] == 0 || (wantMax ? xs[i] > best[t] : xs[i] < best[t]) { best[t] = xs[i] }
                seen[t] += 1
            }
        }

        /// One value per group: sums typed as the column, avg, min and max null for a group
        /// with no values, count an int.
        public func result() throws(Overflow) -> Column {
            func nullsWhereEmpty() -> Bitmap? {
                guard seen.contains(0) else { return nil }
                var b = Bitmap(count: groups, allValid: true)
                for g in 0..<groups where seen[g] == 0 { b[g] = false }
                return b
            }
            switch op {
            case .count: return Column(storage: .int(seen))
            case .sum where !floats:
                if overflow { throw Overflow() }
                return Column(storage: .int(ints))
            case .sum, .avg:
                // Past the float range the sum is that infinity (reported), not the NaN its
                // compensation would make.
                let total = (0..<groups).map { sums[2 * $0].isFinite ? Reduce.cents(sums[2 * $0] + sums[2 * $0 + 1]) : sums[2 * $0] }
                if total.contains(where: { !$0.isFinite }) { throw Overflow(float: true) }
                if op == .sum { return Column(storage: .float(total)) }
                return Column(storage: .float((0..<groups).map { seen[$0] == 0 ? 0 : total[$0] / Double(seen[$0]) }), validity: nullsWhereEmpty())
            case .min, .max:
                return Column(storage: floats ? .float(sums) : .int(ints), validity: nullsWhereEmpty())
            case .countDistinct: return Column(storage: .int(seen))
            }
        }
    }

    /// TwoSum into group t's sum (at 2t) and compensation (at 2t + 1).
    @inline(__always) static func twoSum(_ s: UnsafeMutableBufferPointer<Double>, _ t: Int, _ v: Double) {
        let a = s[2 * t], sum = a + v, vPart = sum - a
        s[2 * t + 1] += (a - (sum - vPart)) + (v - vPart)
        s[2 * t] = sum
    }

    /// `op` per group of a numeric column read once in row order (a snapshot's column and
    /// link are read from the file a chunk at a time, never whole): row i is in group
    /// `gid[i]`. Nil for count_distinct.
    public static func grouped(_ op: Op, _ values: ColumnStream, gid: ArrayStream<Int32>, groups: Int) throws(Overflow) -> Column? {
        let isFloat: Bool
        switch values {
        case .floats, .scaled: isFloat = true
        case .ints, .ints32: isFloat = false
        }
        guard var r = GroupedReduction(op, groups: groups, floats: isFloat) else { return nil }
        switch values {
        case .ints(let s, let v):
            Streams.zip(gid, s) { start, g, x in r.add(g, ints: x, validity: v, start: start) }
        case .floats(let s, let v):
            Streams.zip(gid, s) { start, g, x in r.add(g, floats: x, validity: v, start: start) }
        case .scaled(let s, let divisor, let v):
            var floats = [Double](repeating: 0, count: Streams.chunkRows)
            Streams.zip(gid, s) { start, g, x in
                floats.withUnsafeMutableBufferPointer { f in
                    for i in 0..<x.count { f[i] = Double(x[i]) / divisor }
                    r.add(g, floats: UnsafeBufferPointer(rebasing: f[0..<x.count]), validity: v, start: start)
                }
            }
        case .ints32(let s, let v):
            var wide = [Int64](repeating: 0, count: Streams.chunkRows)
            Streams.zip(gid, s) { start, g, x in
                wide.withUnsafeMutableBufferPointer { w in
                    for i in 0..<x.count { w[i] = Int64(x[i]) }
                    r.add(g, ints: UnsafeBufferPointer(rebasing: w[0..<x.count]), validity: v, start: start)
                }
            }
        }
        return try r.result()
    }
}
