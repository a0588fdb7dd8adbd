import Foundation
import KamSyntax

/// Writes a table as RFC 4180 CSV straight from its typed columns into a byte buffer:
/// no boxed values, no per-cell Strings for numbers and dates.
public enum CSVWriter {
    public static func bytes(_ t: Table, separator: UInt8 = UInt8(ascii: ",")) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + t.count * t.columns.count * 8)
        var encoder = RowEncoder(t, separator: separator)
        encoder.header(&out)
        encoder.rows(0..<t.count, &out)
        return out
    }

    /// Writes `t` as a CSV file a block of rows at a time, so the file's text is never
    /// all in memory.
    public static func write(_ t: Table, toFile path: String, separator: UInt8 = UInt8(ascii: ",")) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw Diagnostic(.data, "cannot write \(path)")
        }
        defer { try? handle.close() }
        var encoder = RowEncoder(t, separator: separator)
        var out: [UInt8] = []
        out.reserveCapacity(1 << 22)
        encoder.header(&out)
        var start = 0
        repeat {
            let end = min(t.count, start + 32_768)
            encoder.rows(start..<end, &out)
            if out.count >= 1 << 21 || end == t.count {
                do { try handle.write(contentsOf: out) } catch { throw Diagnostic(.data, "cannot write \(path): \(error.localizedDescription)") }
                out.removeAll(keepingCapacity: true)
            }
            start = end
        } while start < t.count
    }

    /// The text of a table's rows, column by column typed: dictionary strings quoted once
    /// per distinct value, dates formatted once per distinct day.
    struct RowEncoder {
        let table: Table
        let separator: UInt8
        let columns: [Column]
        let dicts: [[[UInt8]]?]
        var dateCache: [Int32: [UInt8]] = [:]

        init(_ t: Table, separator: UInt8) {
            table = t
            self.separator = separator
            columns = t.columns
            // (A few rows of a large dictionary, as after top or a gather: each text is
            // encoded where it is written.)
            dicts = columns.map { c in
                if case .string(let s) = c.storage, s.dictionary.count <= max(64, t.count) {
                    return s.dictionary.map { d in
                        var b: [UInt8] = []
                        CSVWriter.appendString(d, &b, separator)
                        return b
                    }
                }
                return nil
            }
        }

        func header(_ out: inout [UInt8]) {
            for (i, n) in table.names.enumerated() {
                if i > 0 { out.append(separator) }
                CSVWriter.appendString(n, &out, separator)
            }
            out.append(10)
        }

        mutating func rows(_ range: Range<Int>, _ out: inout [UInt8]) {
            for r in range {
                for (ci, c) in columns.enumerated() {
                    if ci > 0 { out.append(separator) }
                    guard c.isValid(r) else { continue }
                    switch c.storage {
                    case .int(let a): CSVWriter.appendInt(a[r], &out)
                    case .float(let a): CSVWriter.appendFloat(a[r], &out)
                    case .bool(let a): out.append(contentsOf: (a[r] ? "true" : "false").utf8)
                    case .date(let a):
                        if let cached = dateCache[a[r]] { out.append(contentsOf: cached) } else {
                            let b = Array(Calendar.format(a[r]).utf8)
                            dateCache[a[r]] = b
                            out.append(contentsOf: b)
                        }
                    case .string(let s):
                        if let d = dicts[ci] { out.append(contentsOf: d[Int(s.codes[r])]) } else {
                            CSVWriter.appendString(s.dictionary[Int(s.codes[r])], &out, separator)
                        }
                    case .values(let a):
                        let v = a[r]
                        if case .string(let str) = v { CSVWriter.appendString(str, &out, separator) } else {
                            CSVWriter.appendString(Format.literal(v), &out, separator)
                        }
                    }
                }
                out.append(10)
            }
        }
    }

    /// Appends `Format.float(d)`. A value of whole cents below 1e13 (money, discounts) is
    /// written from its integer number of cents: its shortest round-trip text is then those
    /// digits, as `description` gives (doubles that large are 0.002 apart at most, so no
    /// shorter decimal reads back as the same value). Anything else goes through `description`.
    @inline(__always)
    public static func appendFloat(_ d: Double, _ out: inout [UInt8]) {
        let m = d.magnitude
        if m >= 0.01 && m < 1e13 {
            let cents = (m * 100).rounded()
            if cents / 100 == m {
                var k = UInt64(cents)
                var buffer: (UInt64, UInt64, UInt64) = (0, 0, 0)
                withUnsafeMutableBytes(of: &buffer) { b in
                    var i = 24
                    let f = k % 100
                    if f % 10 != 0 {
                        i -= 1
                        b[i] = UInt8(truncatingIfNeeded: 48 &+ f % 10)
                    }
                    i -= 1
                    b[i] = UInt8(truncatingIfNeeded: 48 &+ f / 10)
                    i -= 1
                    b[i] = UInt8(ascii: ".")
                    k /= 100
                    repeat {
                        i -= 1
                        b[i] = UInt8(truncatingIfNeeded: 48 &+ k % 10)
                        k /= 10
                    } while k > 0
                    if d < 0 {
                        i -= 1
                        b[i] = UInt8(ascii: "-")
                    }
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[i...]))
                }
                return
            }
        }
        out.append(contentsOf: Format.float(d).utf8)
    }

    /// Appends the decimal digits of `v`, with zeros in front up to `width` digits.
    @inline(__always)
    public static func appendInt(_ v: Int64, _ out: inout [UInt8], width: Int = 0) {
        // Digits are made backwards in a buffer on the stack and appended at once.
        var buffer: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &buffer) { b in
            var i = 24
            var x = v.magnitude
            repeat {
                i -= 1
                b[i] = UInt8(truncatingIfNeeded: 48 &+ x % 10)
                x /= 10
            } while x > 0
            while 24 - i < width && i > 1 {
                i -= 1
                b[i] = 48
            }
            if v < 0 {
                i -= 1
                b[i] = UInt8(ascii: "-")
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[i...]))
        }
    }

    public static func appendString(_ s: String, _ out: inout [UInt8], _ separator: UInt8) {
        var s = s
        s.withUTF8 { u in
            var plain = true
            for b in u where b == separator || b == UInt8(ascii: "\"") || b == 10 || b == 13 {
                plain = false
                break
            }
            if plain {
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
    }

    /// Writes the demo company (or any tables) into `dir` as NAME.csv files.
    public static func writeDataset(_ tables: [(String, Table)], to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, t) in tables { try write(t, toFile: dir + "/" + name + ".csv") }
    }
}
