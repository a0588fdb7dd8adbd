import Dispatch
import Foundation
import KamSyntax

/// Distinct byte strings with dense codes: an open-addressing hash table over one byte
/// store, so a string column costs no String per row.
public struct ByteDictionary {
    public var storage: [UInt8] = []
    public var offsets: [Int] = [0]
    public var slots: [Int32] = [Int32](repeating: -1, count: 64)
    public var hashes: [UInt64] = []

    public var count: Int { offsets.count - 1 }

    /// A hash of the bytes eight at a time (ids and e-mail addresses are 8 to 40 bytes),
    /// mixed so that the low bits, which pick the slot, depend on every byte.
    @inline(__always)
    public static func hash(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: b.count)
        guard let p = b.baseAddress else { return h }
        let raw = UnsafeRawPointer(p)
        var i = 0
        while i + 8 <= b.count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0, shift: UInt64 = 0
        while i < b.count {
            tail |= UInt64(p[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 31)
    }

    public mutating func code(_ b: UnsafeBufferPointer<UInt8>) -> UInt32 {
        let h = ByteDictionary.hash(b)
        var mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = slots[i]
            if s < 0 { break }
            let e = Int(s)
            if hashes[e] == h {
                let start = offsets[e], len = offsets[e + 1] - start
                if len == b.count && (len == 0 || storage.withUnsafeBufferPointer({ sb in
                    guard let sp = sb.baseAddress, let bp = b.baseAddress else { return false }
                    return memcmp(sp + start, bp, len) == 0
                })) {
                    return UInt32(e)
                }
            }
            i = (i + 1) & mask
        }
        let e = count
        storage.append(contentsOf: b)
        offsets.append(storage.count)
        hashes.append(h)
        slots[i] = Int32(e)
        if count * 2 > slots.count {
            slots = [Int32](repeating: -1, count: slots.count * 2)
            mask = slots.count - 1
            for (k, hk) in hashes.enumerated() {
                var j = Int(truncatingIfNeeded: hk) & mask
                while slots[j] >= 0 { j = (j + 1) & mask }
                slots[j] = Int32(k)
            }
        }
        return UInt32(e)
    }

    public mutating func code(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBufferPointer { code($0) } }

    public var entries: [[UInt8]] { (0..<count).map { Array(storage[offsets[$0]..<offsets[$0 + 1]]) } }

    public func strings() -> [String] { (0..<count).map { String(decoding: storage[offsets[$0]..<offsets[$0 + 1]], as: UTF8.self) } }
}
