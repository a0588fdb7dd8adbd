import Foundation
import KamSyntax

/// Writes a table as RFC 4180 CSV straight from its typed columns into a byte buffer:
/// no boxed values, no per-cell Strings for numbers and dates.
public enum CSVWriter {
    public static func bytes(_ t: Table, separator: UInt8 = UInt8(ascii: ",")) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + t.count * t.columns.count * 8)
        for (i, n) in t.names.enumerated() {
            if i > 0 { out.append(separator) }
            appendString(n, &out, separator)
        }
        out.append(10)
        // Per-column precomputed text for dictionary strings.
        let dicts: [[[UInt8]]?] = t.columns.map { c in
            if case .string(let s) = c.storage {
                return s.dictionary.map { d in
                    var b: [UInt8] = []
                    appendString(d, &b, separator)
                    return b
                }
            }
            return nil
        }
        var dateCache: [Int32: [UInt8]] = [:]
        for r in 0..<t.count {
            for (ci, c) in t.columns.enumerated() {
                if ci > 0 { out.append(separator) }
                guard c.isValid(r) else { continue }
                switch c.storage {
                case .int(let a): appendInt(a[r], &out)
                case .float(let a): out.append(contentsOf: Format.float(a[r]).utf8)
                case .bool(let a): out.append(contentsOf: (a[r] ? "true" : "false").utf8)
                case .date(let a):
                    if let cached = dateCache[a[r]] { out.append(contentsOf: cached) } else {
                        let b = Array(Calendar.format(a[r]).utf8)
                        dateCache[a[r]] = b
                        out.append(contentsOf: b)
                    }
                case .string(let s): out.append(contentsOf: dicts[ci]?[Int(s.codes[r])] ?? [])
                case .values(let a):
                    let v = a[r]
                    if case .string(let str) = v { appendString(str, &out, separator) } else { appendString(Format.literal(v), &out, separator) }
                }
            }
            out.append(10)
        }
        return out
    }

    @inline(__always)
    public static func appendInt(_ v: Int64, _ out: inout [UInt8]) {
        if v == 0 { out.append(48); return }
        var x = v.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            while x > 0 {
                buf[n] = UInt8(48 + x % 10)
                x /= 10
                n += 1
            }
            if v < 0 { out.append(UInt8(ascii: "-")) }
            for k in stride(from: n - 1, through: 0, by: -1) { out.append(buf[k]) }
        }
    }

    public static func appendString(_ s: String, _ out: inout [UInt8], _ separator: UInt8) {
        let u = s.utf8
        if !u.contains(where: { $0 == separator || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 }) {
            out.append(contentsOf: u)
            return
        }
        out.append(UInt8(ascii: "\""))
        for b in u {
            if b == UInt8(ascii: "\"") { out.append(b) }
            out.append(b)
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Writes the demo company (or any tables) into `dir` as NAME.csv files.
    public static func writeDataset(_ tables: [(String, Table)], to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, t) in tables {
            let data = Data(bytes(t))
            guard FileManager.default.createFile(atPath: dir + "/" + name + ".csv", contents: data) else {
                throw Diagnostic(.data, "cannot write \(dir)/\(name).csv")
            }
        }
    }
}
