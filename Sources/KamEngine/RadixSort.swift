import KamData
import KamSyntax

/// A float sort key with its row: ordered by value, then row (a stable sort).
public struct FloatKey: Comparable {
    public var value: Double
    public var row: Int32
    @inline(__always) public init(value: Double, row: Int32) {
        self.value = value
        self.row = row
    }
    @inline(__always) public static func < (a: FloatKey, b: FloatKey) -> Bool { a.value != b.value ? a.value < b.value : a.row < b.row }
}

/// A stable LSD radix sort of rows by 64-bit keys, one byte per pass, skipping the bytes
/// every key shares. Stability gives the same tie order as the comparison sort.
public enum RadixSort {
    /// An order-preserving key for a double (-0.0 and 0.0 are the same key).
    @inline(__always) public static func key(_ d: Double) -> UInt64 {
        let bits = (d == 0 ? 0.0 : d).bitPattern
        return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
    }

    public static func order(_ keys: [UInt64], descending: Bool) -> [Int] {
        let n = keys.count
        var k = descending ? keys.map { ~$0 } : keys
        var rows = (0..<n).map { Int32(truncatingIfNeeded: $0) }
        var k2 = [UInt64](repeating: 0, count: n), r2 = [Int32](repeating: 0, count: n)
        var same: UInt64 = 0, first = k.first ?? 0
        for x in k { same |= x ^ first }
        for pass in 0..<8 {
            let shift = UInt64(pass * 8)
            if (same >> shift) & 0xFF == 0 { continue }  // every key has the same byte here
            var counts = [Int](repeating: 0, count: 257)
            for x in k { counts[Int((x >> shift) & 0xFF) + 1] += 1 }
            for b in 0..<256 { counts[b + 1] += counts[b] }
            for i in 0..<n {
                let b = Int((k[i] >> shift) & 0xFF)
                let dst = counts[b]
                counts[b] = dst + 1
                k2[dst] = k[i]
                r2[dst] = rows[i]
            }
            swap(&k, &k2)
            swap(&rows, &r2)
        }
        first = 0
        return rows.map { Int($0) }
    }
}
