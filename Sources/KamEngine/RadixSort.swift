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
        orderRows(keys, descending: descending).map { Int($0) }
    }

    /// `order` as 32-bit rows. Every byte's counts come from one read of the keys; a byte
    /// every key shares is no pass.
    public static func orderRows(_ keys: [UInt64], descending: Bool) -> [Int32] {
        let n = keys.count
        guard n > 1 else { return n == 1 ? [0] : [] }
        var k = descending ? keys.map { ~$0 } : keys
        var counts = [Int](repeating: 0, count: 8 * 256)
        counts.withUnsafeMutableBufferPointer { c in
            k.withUnsafeBufferPointer { kb in
                for x in kb {
                    for b in 0..<8 { c[b &* 256 &+ Int((x >> UInt64(b &* 8)) & 0xFF)] &+= 1 }
                }
            }
        }
        var rows = [Int32](unsafeUninitializedCapacity: n) { b, done in
            for i in 0..<n { b[i] = Int32(truncatingIfNeeded: i) }
            done = n
        }
        var k2 = [UInt64](repeating: 0, count: n), r2 = [Int32](repeating: 0, count: n)
        let first = k[0]
        for pass in 0..<8 {
            let shift = UInt64(pass * 8)
            // Every key has this byte: the pass would keep the order.
            if counts[pass * 256 + Int((first >> shift) & 0xFF)] == n { continue }
            var starts = [Int](repeating: 0, count: 256)
            var sum = 0
            for b in 0..<256 {
                starts[b] = sum
                sum += counts[pass * 256 + b]
            }
            k.withUnsafeBufferPointer { kb in
                rows.withUnsafeBufferPointer { rb in
                    k2.withUnsafeMutableBufferPointer { k2b in
                        r2.withUnsafeMutableBufferPointer { r2b in
                            starts.withUnsafeMutableBufferPointer { st in
                                for i in 0..<n {
                                    let x = kb[i]
                                    let b = Int((x >> shift) & 0xFF)
                                    let dst = st[b]
                                    st[b] = dst &+ 1
                                    k2b[dst] = x
                                    r2b[dst] = rb[i]
                                }
                            }
                        }
                    }
                }
            }
            swap(&k, &k2)
            swap(&rows, &r2)
        }
        return rows
    }
}
