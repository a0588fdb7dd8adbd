import Foundation
import KamSyntax

/// One table of the demo company while it is generated: its rows go either into typed,
/// dictionary-encoded columns (the in-memory demo) or straight into CSV text handed to a
/// writer a megabyte at a time (`kam demo --out`), so a large company is written without
/// its tables, or any string of it, in memory. Both give the same table: the CSV is the
/// text `CSVWriter` writes for the columns (a test holds them to it).
///
///     let t = output.table("products", [("id", .keyed), ("list_price", .float)])
///     t.id("P", 1, 3); t.float(450); t.endRow()
///     output.finish(t)
struct DemoTable {
    enum Kind { case text, keyed, int, float, date }

    let name: String
    let names: [String]
    private let kinds: [Kind]
    /// Column i is `slots[i]` in the builders of its kind.
    private let slots: [Int]
    private var texts: [StringBuilder] = []
    private var keyed: [KeyedStringBuilder] = []
    private var ints: [IntBuilder] = []
    private var floats: [FloatBuilder] = []
    private var dates: [DateBuilder] = []
    /// The e-mail codes of the current account by name key (column mode).
    private var scopedCode: [UInt32] = []
    private var scopedKeys: [Int] = []
    private var scope = -1

    /// CSV mode: the text not yet handed on, and where it goes.
    private let csv: Bool
    private var out = ByteBuffer(capacity: 0)
    private let flush: ([UInt8]) -> Void
    private var column = 0
    private(set) var rows = 0
    /// CSV mode: the file the writer writes.
    var file: DemoOutput.FileBox?

    init(name: String, columns: [(String, Kind)], csv flush: (([UInt8]) -> Void)?) {
        self.name = name
        names = columns.map(\.0)
        kinds = columns.map(\.1)
        csv = flush != nil
        self.flush = flush ?? { _ in }
        var slots: [Int] = []
        for kind in kinds {
            switch kind {
            case .text: slots.append(texts.count); texts.append(StringBuilder())
            case .keyed: slots.append(keyed.count); keyed.append(KeyedStringBuilder())
            case .int: slots.append(ints.count); ints.append(IntBuilder())
            case .float: slots.append(floats.count); floats.append(FloatBuilder())
            case .date: slots.append(dates.count); dates.append(DateBuilder())
            }
        }
        self.slots = slots
        if csv {
            out.release()
            out = ByteBuffer(capacity: 1 << 21)
            var header: [UInt8] = []
            for (i, n) in names.enumerated() {
                if i > 0 { header.append(comma) }
                CSVWriter.appendString(n, &header, comma)
            }
            header.append(10)
            out.bytes(header)
        }
    }

    private let comma = UInt8(ascii: ",")

    /// The next column's slot; in CSV mode also its separator.
    @inline(__always)
    private mutating func next(_ kind: Kind) -> Int {
        let c = column
        assert(c < kinds.count && kinds[c] == kind, "demo table \(name): column \(c) is not \(kind)")
        column += 1
        if csv && c > 0 { out.byte(comma) }
        return slots[c]
    }

    mutating func text(_ s: String) {
        let k = next(.text)
        if csv { out.text(s, comma) } else { texts[k].append(s) }
    }

    /// A string that stands for `key` in this column (a title by its index, say).
    mutating func choice(_ key: Int, _ s: String) {
        let k = next(.keyed)
        if csv { out.text(s, comma) } else { keyed[k].append(key: key) { s } }
    }

    /// A string no other row of the column has.
    mutating func unique(_ s: String) {
        let k = next(.keyed)
        if csv { out.text(s, comma) } else { keyed[k].appendNew(s) }
    }

    /// An id: `prefix` and `number` padded with zeros to `width` digits (`Demo.pad`).
    mutating func id(_ prefix: UInt8, _ number: Int, _ width: Int) {
        let k = next(.keyed)
        if csv {
            out.byte(prefix)
            out.int(Int64(number), width: width)
        } else {
            keyed[k].append(key: number) { Demo.pad(String(UnicodeScalar(prefix)), number, width) }
        }
    }

    /// A person's name, "First Last", by the indexes of the two names.
    mutating func person(_ first: Int, _ last: Int) {
        let k = next(.keyed)
        if csv {
            out.bytes(Demo.nameBytes.first[first])
            out.byte(UInt8(ascii: " "))
            out.bytes(Demo.nameBytes.last[last])
        } else {
            keyed[k].append(key: first * Demo.lastNames.count + last) { Demo.firstNames[first] + " " + Demo.lastNames[last] }
        }
    }

    /// "first.last@N.example.com" for a contact of account N: unique but for namesakes in
    /// one account, so the account's codes are kept by name while its contacts are made.
    mutating func email(_ first: Int, _ last: Int, account: Int) {
        let k = next(.keyed)
        if csv {
            out.bytes(Demo.nameBytes.firstLower[first])
            out.byte(UInt8(ascii: "."))
            out.bytes(Demo.nameBytes.lastLower[last])
            out.byte(UInt8(ascii: "@"))
            out.int(Int64(account))
            out.bytes(Demo.nameBytes.domain)
            return
        }
        if account != scope {
            for key in scopedKeys { scopedCode[key] = 0 }
            scopedKeys.removeAll(keepingCapacity: true)
            if scopedCode.isEmpty { scopedCode = [UInt32](repeating: 0, count: Demo.firstNames.count * Demo.lastNames.count) }
            scope = account
        }
        let key = first * Demo.lastNames.count + last
        if scopedCode[key] != 0 {
            keyed[k].append(code: scopedCode[key] - 1)
        } else {
            let s = "\(Demo.firstNames[first].lowercased()).\(Demo.lastNames[last].lowercased())@\(account).example.com"
            scopedCode[key] = keyed[k].appendNew(s) + 1
            scopedKeys.append(key)
        }
    }

    mutating func int(_ v: Int64) {
        let k = next(.int)
        if csv { out.int(v) } else { ints[k].append(v) }
    }

    mutating func float(_ v: Double) {
        let k = next(.float)
        if csv { out.float(v) } else { floats[k].append(v) }
    }

    mutating func date(_ v: Int32) {
        let k = next(.date)
        if csv { appendDate(v) } else { dates[k].append(v) }
    }

    /// A null in the next column (of any kind).
    mutating func null() {
        let c = column
        column += 1
        guard c < kinds.count else { return }
        if csv {
            if c > 0 { out.byte(comma) }
            return
        }
        let k = slots[c]
        switch kinds[c] {
        case .text: texts[k].appendNull()
        case .keyed: keyed[k].appendNull()
        case .int: ints[k].appendNull()
        case .float: floats[k].appendNull()
        case .date: dates[k].appendNull()
        }
    }

    mutating func endRow() {
        assert(column == kinds.count, "demo table \(name): a row of \(column) cells, not \(kinds.count)")
        column = 0
        rows += 1
        if csv {
            out.byte(10)
            if out.count >= 1 << 20 {
                flush(out.array)
                out.clear()
            }
        }
    }

    /// Column mode: the table. CSV mode: hands on the rest of the text.
    mutating func finish() -> Table? {
        if csv {
            flush(out.array)
            out.release()
            return nil
        }
        var columns: [Column] = []
        for (c, kind) in kinds.enumerated() {
            let k = slots[c]
            switch kind {
            case .text: columns.append(texts[k].column())
            case .keyed: columns.append(keyed[k].column())
            case .int: columns.append(ints[k].column())
            case .float: columns.append(floats[k].column())
            case .date: columns.append(dates[k].column())
            }
        }
        texts = []; keyed = []; ints = []; floats = []; dates = []
        out.release()
        return Table(names: names, columns: columns)
    }

    /// `Calendar.format`, without a String per value.
    private mutating func appendDate(_ v: Int32) {
        // The demo's dates lie within a few years: each day's text is made once.
        let slot = Int(v) - Int(Demo.startDate) + 4000
        if slot >= 0 && slot < 12_000 {
            if dateText.isEmpty { dateText = [UInt8](repeating: 0, count: 12_000 * 10) }
            let at = slot * 10
            if dateText[at] == 0 {
                var text: [UInt8] = []
                formatDate(v, &text)
                if text.count == 10 { for k in 0..<10 { dateText[at + k] = text[k] } }
                out.bytes(text)
                return
            }
            dateText.withUnsafeBytes { out.bytes(UnsafeRawBufferPointer(rebasing: $0[at..<at + 10])) }
            return
        }
        var text: [UInt8] = []
        formatDate(v, &text)
        out.bytes(text)
    }

    private var dateText: [UInt8] = []

    private func formatDate(_ v: Int32, _ out: inout [UInt8]) {
        let (y, m, d) = Calendar.civil(v)
        guard y >= 1000 && y <= 9999 else {
            out.append(contentsOf: Calendar.format(v).utf8)
            return
        }
        CSVWriter.appendInt(Int64(y), &out)
        out.append(UInt8(ascii: "-"))
        out.append(UInt8(48 + m / 10)); out.append(UInt8(48 + m % 10))
        out.append(UInt8(ascii: "-"))
        out.append(UInt8(48 + d / 10)); out.append(UInt8(48 + d % 10))
    }
}

/// Bytes appended into memory the buffer holds itself: no uniqueness check and no growth
/// test of an Array on every append, for text made a byte at a time. It has one owner,
/// which calls `release()` once.
struct ByteBuffer {
    private var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    @inline(__always) private mutating func reserve(_ n: Int) { if count + n > capacity { grow(count + n) } }

    private mutating func grow(_ need: Int) {
        let c = max(need, capacity * 2)
        let b = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
        b.update(from: base, count: count)
        base.deallocate()
        base = b
        capacity = c
    }

    @inline(__always) mutating func byte(_ b: UInt8) {
        reserve(1)
        base[count] = b
        count += 1
    }

    @inline(__always) mutating func bytes(_ p: UnsafeRawBufferPointer) {
        guard let from = p.baseAddress, p.count > 0 else { return }
        reserve(p.count)
        UnsafeMutableRawPointer(base + count).copyMemory(from: from, byteCount: p.count)
        count += p.count
    }

    @inline(__always) mutating func bytes(_ a: [UInt8]) { a.withUnsafeBytes { bytes($0) } }

    /// The decimal digits of `v`, with zeros in front up to `width` digits (`CSVWriter.appendInt`).
    @inline(__always) mutating func int(_ v: Int64, width: Int = 0) {
        reserve(24 + width)
        var x = v.magnitude
        var digits = 1
        var p: UInt64 = 10
        while digits < 20 && x >= p {
            digits += 1
            p = p &* 10
        }
        if v < 0 {
            base[count] = UInt8(ascii: "-")
            count += 1
        }
        var z = digits
        while z < width {
            base[count] = 48
            count += 1
            z += 1
        }
        var at = count + digits
        count = at
        repeat {
            at -= 1
            base[at] = UInt8(truncatingIfNeeded: 48 &+ x % 10)
            x /= 10
        } while x > 0
    }

    /// `CSVWriter.appendFloat`.
    @inline(__always) mutating func float(_ d: Double) {
        let m = d.magnitude
        if m >= 0.01 && m < 1e13 {
            let cents = (m * 100).rounded()
            if cents / 100 == m {
                let k = Int64(cents)
                if d < 0 { byte(UInt8(ascii: "-")) }
                int(k / 100)
                let f = k % 100
                reserve(3)
                base[count] = UInt8(ascii: ".")
                base[count + 1] = UInt8(truncatingIfNeeded: 48 &+ f / 10)
                count += 2
                if f % 10 != 0 {
                    base[count] = UInt8(truncatingIfNeeded: 48 &+ f % 10)
                    count += 1
                }
                return
            }
        }
        bytes(Array(Format.float(d).utf8))
    }

    /// `CSVWriter.appendString`: quoted when it holds the separator, a quote or a line break.
    mutating func text(_ s: String, _ separator: UInt8) {
        var s = s
        let plain = s.withUTF8 { u -> Bool in
            for b in u where b == separator || b == UInt8(ascii: "\"") || b == 10 || b == 13 { return false }
            bytes(UnsafeRawBufferPointer(u))
            return true
        }
        if !plain {
            var quoted: [UInt8] = []
            CSVWriter.appendString(s, &quoted, separator)
            bytes(quoted)
        }
    }

    var array: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    mutating func clear() { count = 0 }

    func release() { base.deallocate() }
}

/// Where the demo's tables go: kept as tables, or written as NAME.csv files into a
/// directory by a second thread while the generator goes on.
final class DemoOutput {
    private let directory: String?
    private(set) var tables: [String: Table] = [:]
    private(set) var counts: [String: Int] = [:]
    private let writer = DispatchQueue(label: "kam.demo.writer")
    private let failure = FailureBox()

    init(directory: String?) { self.directory = directory }

    func table(_ name: String, _ columns: [(String, DemoTable.Kind)]) -> DemoTable {
        guard let dir = directory else { return DemoTable(name: name, columns: columns, csv: nil) }
        let path = dir + "/" + name + ".csv"
        let file = FileBox(path: path)
        let failure = self.failure
        writer.async {
            if !FileManager.default.createFile(atPath: path, contents: nil) { failure.record(Diagnostic(.data, "cannot write \(path)")) }
            file.handle = FileHandle(forWritingAtPath: path)
        }
        var t = DemoTable(name: name, columns: columns) { bytes in
            let chunk = Chunk(bytes: bytes)
            self.writer.async {
                guard failure.first == nil else { return }
                guard let h = file.handle else { failure.record(Diagnostic(.data, "cannot write \(path)")); return }
                do { try h.write(contentsOf: chunk.bytes) } catch {
                    failure.record(Diagnostic(.data, "cannot write \(path): \(error.localizedDescription)"))
                }
            }
        }
        t.file = file
        return t
    }

    func finish(_ t: inout DemoTable) {
        counts[t.name] = t.rows
        if let table = t.finish() { tables[t.name] = table }
        if let file = t.file {
            writer.async { try? file.handle?.close(); file.handle = nil }
        }
    }

    /// Waits for the writes; the first that failed.
    func wait() throws {
        writer.sync {}
        if let e = failure.first { throw e }
    }

    final class FileBox: @unchecked Sendable {
        let path: String
        var handle: FileHandle?
        init(path: String) { self.path = path }
    }

    private struct Chunk: @unchecked Sendable { let bytes: [UInt8] }

    private final class FailureBox: @unchecked Sendable {
        private let lock = NSLock()
        private var error: Error?
        var first: Error? { lock.withLock { error } }
        func record(_ e: Error) { lock.withLock { if error == nil { error = e } } }
    }
}
