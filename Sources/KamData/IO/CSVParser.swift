import Dispatch
import CBytes
import Foundation
import KamSyntax

/// The CSV engine behind `CSVReader`: one pass over the bytes (memory-mapped, never copied),
/// parsing each field straight into its column's typed array. A column's type is guessed
/// from its first value and widened as values demand (int to float); a column that turns
/// out to hold text is parsed again as strings, so no value is ever reformatted. Large
/// files are split at row boundaries and parsed on every core, then the parts are joined.
public struct CSVParser {
    public enum Kind: Int { case unknown, int, float, date, bool, string }

    public let base: UnsafePointer<UInt8>
    public let count: Int
    public let delimiter: UInt8
    public let nullTokens: Set<[UInt8]>
    public let name: String
    /// About how many bytes each parallel chunk gets (smaller in tests).
    public var chunkTarget = 4 << 20
    /// Called with each chunk's byte range once parsed, so the caller can drop the pages.
    public var release: ((Int, Int) -> Void)? = nil
    /// Columns read as text whatever they hold (lower-cased names): a manifest's
    /// `types = { zip = "string" }` keeps 08123 and 12345678901234567890 as written.
    public var textColumns: Set<String> = []
    /// Numbers and dates of typed columns scanned and parsed in one pass (`fastField`);
    /// off, every field takes the general path (the differential tests compare the two).
    public var typedFastPath = true

    public init(base: UnsafePointer<UInt8>, count: Int, delimiter: UInt8, nullTokens: Set<[UInt8]>, name: String) {
        self.base = base
        self.count = count
        self.delimiter = delimiter
        self.nullTokens = nullTokens
        self.name = name
        emptyIsNull = nullTokens.contains([])
        tokenList = nullTokens.filter { !$0.isEmpty }.sorted { $0.lexicographicallyPrecedes($1) }
        longestToken = tokenList.map(\.count).max() ?? 0
        var low: UInt64 = 0, high: UInt64 = 0
        for t in tokenList {
            if t[0] < 64 { low |= 1 << UInt64(t[0]) } else if t[0] < 128 { high |= 1 << UInt64(t[0] - 64) }
        }
        tokenStartsLow = low
        tokenStartsHigh = high
        tokenStartsBeyondASCII = tokenList.contains { $0[0] >= 128 }
        // Digits and '-' that no null token starts with; none when the delimiter is one of
        // them, so the typed fast path below never reads a delimiter as part of a number.
        var starts: UInt64 = (1 << 45) | (0x3FF << 48)
        starts &= ~low
        if delimiter == UInt8(ascii: "-") || delimiter == UInt8(ascii: ".") || (48...57).contains(delimiter) { starts = 0 }
        numberStarts = starts
    }

    /// The first bytes the typed fast path takes (`fastField`), as bits.
    let numberStarts: UInt64
    /// 10^0 ... 10^15, as integers and as doubles: looked up, not switched on, since a
    /// number's digit count changes from row to row and a jump table would mispredict.
    let intPowers: [Int64] = (0...15).map { k in (0..<k).reduce(Int64(1)) { p, _ in p * 10 } }
    let floatPowers: [Double] = (0...15).map { CSVParser.powerOfTen($0) }

    public let emptyIsNull: Bool
    public let tokenList: [[UInt8]]
    public let longestToken: Int
    /// The bytes a null token starts with, as bits: most fields (a digit first) are not a
    /// token, known from one test.
    let tokenStartsLow: UInt64, tokenStartsHigh: UInt64, tokenStartsBeyondASCII: Bool

    /// One column of one chunk.
    public struct ColumnPart {
        public var kind: Kind = .unknown
        public var failed = false
        public var ints = Growable<Int64>()
        public var floats = Growable<Double>()
        public var dates = Growable<Int32>()
        public var bools = Growable<Bool>()
        public var strings = ByteDictionary()
        public var codes = Growable<UInt32>()
        public var nullRows: [Int32] = []
        /// Nulls seen before the first value fixed the kind.
        public var leadingNulls = 0
        /// Expected rows: arrays are sized once instead of growing by doubling.
        public var reserve = 0
        /// The last ISO date read (its 10 bytes) and its day: order lines come by the day,
        /// so most dates are the one before.
        var lastDateHead: UInt64 = 0, lastDateTail: UInt16 = 0, lastDate: Int32? = nil

        public var length: Int {
            switch kind {
            case .unknown: leadingNulls
            case .int: ints.count
            case .float: floats.count
            case .date: dates.count
            case .bool: bools.count
            case .string: codes.count
            }
        }
    }

    public struct Chunk {
        public var start: Int
        public var end: Int
        public var firstLine: Int
        public var rows = 0
        public var columns: [ColumnPart] = []
        /// Every 4096th row: (row, byte offset, line), to find a row's line later.
        public var checkpoints: [(Int, Int, Int)] = []
        /// Lines in the chunk: close to its row count, used to size the column arrays.
        public var estimatedRows = 0
        /// Blank lines skipped.
        public var blank = 0
        /// No byte of the chunk is outside ASCII, so it is valid UTF-8 without a look.
        public var ascii = false
        /// A quote stood inside an unquoted field (kept as text; see `parse()`).
        public var strayQuote = false
    }

    // MARK: entry

    /// Parses the whole buffer: header, then rows (in parallel for large inputs).
    public func parse() throws -> (Table, RowLocator) {
        var pos = 0
        if count >= 3 && base[0] == 0xEF && base[1] == 0xBB && base[2] == 0xBF { pos = 3 }
        // Skip blank lines before the header.
        while pos < count && (base[pos] == 10 || base[pos] == 13) { pos += 1 }
        if pos >= count { return (Table(names: [], columns: [], count: 0), RowLocator(name: name, checkpoints: [], data: nil, delimiter: delimiter)) }
        var headerFields: [[UInt8]] = []
        var line = 1
        pos = try readRecord(from: pos, line: &line) { headerFields.append($0) }
        var names = headerFields.map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespaces) }
        for (i, n) in names.enumerated() where n.isEmpty { names[i] = "column\(i + 1)" }
        var seen = Set<String>()
        for n in names where !seen.insert(n).inserted {
            throw Diagnostic.data(file: name, line: 1, "duplicate column name '\(n)' in the header")
        }
        if let bad = CSVReader.firstInvalidUTF8(UnsafeBufferPointer(start: base, count: pos)) {
            throw invalidUTF8(at: bad, line: 1)
        }
        let chunks = try split(from: pos, line: line)
        guard chunks.count > 1 else { return try parse(chunks, names: names).table }
        // The cuts follow the quotes' parity, which is the reader's view of them unless a
        // quote stands inside an unquoted field (5" screen), which the reader keeps as text:
        // then, or when a chunk fails (a cut inside a quoted field makes one), the file is
        // read again as one chunk, which says what it holds or what is wrong with it.
        do {
            let parsed = try parse(chunks, names: names)
            if !parsed.strayQuote { return parsed.table }
        } catch {}
        let counts = kam_count_bytes(base + pos, count - pos)
        var whole = Chunk(start: pos, end: count, firstLine: line)
        whole.estimatedRows = counts.newlines + 1
        whole.ascii = counts.non_ascii == 0
        return try parse([whole], names: names).table
    }

    /// The rows of `chunks` (cut at row ends) as one table; `strayQuote` when a chunk met
    /// a quote inside an unquoted field.
    func parse(_ chunks: [Chunk], names: [String]) throws -> (table: (Table, RowLocator), strayQuote: Bool) {
        let width = names.count
        // The first chunk alone: its columns' kinds say which columns the others write
        // straight into the final arrays (numbers and dates; a column whose values all
        // agree is then never copied whole).
        var first = chunks[0]
        try parseChunk(&first, width: width, strings: nil)
        release?(first.start, first.end)
        var windowed: [(column: Int, kind: Kind)] = []
        if chunks.count > 1 {
            for c in 0..<width where !first.columns[c].failed && !textColumns.contains(names[c].lowercased()) {
                switch first.columns[c].kind {
                case .int, .float, .date: windowed.append((c, first.columns[c].kind))
                default: break
                }
            }
        }
        // Where each chunk's rows start in the final arrays: after every row the chunks
        // before it can hold (their line counts), gaps closed once the rows are known.
        var starts = [0]
        for k in chunks.indices { starts.append(starts[k] + (k == 0 ? first.rows : max(0, chunks[k].estimatedRows))) }
        let capacity = starts[chunks.count]
        let (made, storages) = try withWindows(windowed[...], capacity: capacity, [:]) { windows in
            try parseRest(chunks, first: first, names: names, windowed: windowed, windows: windows, starts: starts)
        }
        var columns = made.columns
        for (c, storage) in storages where made.direct[c] != nil { columns[c] = Column(storage: storage, validity: made.direct[c] ?? nil) }
        return ((Table(names: names, columns: columns.map { $0 ?? Column(storage: .values([])) }, count: made.total), made.locator), made.strayQuote)
    }

    /// What the chunks after the first gave: the columns joined from parts, the columns
    /// whose values lie in their windows (by column: its nulls), the row count, where rows are.
    struct Parsed {
        var columns: [Column?]
        var direct: [Int: Bitmap?]
        var total: Int
        var locator: RowLocator
        var strayQuote: Bool
    }

    /// Runs `body` with an array of `capacity` elements for each windowed column (its
    /// kind's element type), made one inside the other; each array keeps the rows `body`
    /// says its column has (`Parsed.direct`), and none for the others.
    func withWindows(_ list: ArraySlice<(column: Int, kind: Kind)>, capacity: Int, _ windows: [Int: UnsafeMutableRawPointer],
                     _ body: ([Int: UnsafeMutableRawPointer]) throws -> Parsed) throws -> (Parsed, [Int: ColumnStorage]) {
        guard let (c, kind) = list.first, capacity > 0 else { return (try body(windows), [:]) }
        var result: (Parsed, [Int: ColumnStorage])? = nil
        func inner<T>(_: T.Type) throws -> [T] {
            try [T](unsafeUninitializedCapacity: capacity) { buf, initialized in
                var w = windows
                if let b = buf.baseAddress { w[c] = UnsafeMutableRawPointer(b) }
                let r = try withWindows(list.dropFirst(), capacity: capacity, w, body)
                result = r
                initialized = r.0.direct[c] != nil ? r.0.total : 0
            }
        }
        let storage: ColumnStorage
        switch kind {
        case .int: storage = .int(try inner(Int64.self))
        case .float: storage = .float(try inner(Double.self))
        default: storage = .date(try inner(Int32.self))
        }
        guard let (parsed, found) = result else { return (try body(windows), [:]) }
        var storages = found
        storages[c] = storage
        return (parsed, storages)
    }

    /// The chunks after the first, parsed on the cores (a windowed column's values into its
    /// window), then every column made: in place where each chunk's values of it are where
    /// they were put, joined from the parts otherwise.
    func parseRest(_ chunks: [Chunk], first: Chunk, names: [String], windowed: [(column: Int, kind: Kind)],
                   windows: [Int: UnsafeMutableRawPointer], starts: [Int]) throws -> Parsed {
        let width = names.count
        var parsed = [Chunk?](repeating: nil, count: chunks.count)
        parsed[0] = first
        var failure: Error? = nil
        let lock = NSLock()
        parsed.withUnsafeMutableBufferPointer { out in
            let outBase = out.baseAddress
            parallelFor(chunks.count - 1) { j in
                let k = j + 1
                var c = chunks[k]
                do {
                    try parseChunk(&c, width: width, strings: nil) { cols in
                        for (col, kind) in windowed {
                            guard let w = windows[col] else { continue }
                            cols[col].kind = kind
                            let at = starts[k], room = starts[k + 1] - starts[k]
                            switch kind {
                            case .int: cols[col].ints = Growable(window: w.assumingMemoryBound(to: Int64.self) + at, capacity: room)
                            case .float: cols[col].floats = Growable(window: w.assumingMemoryBound(to: Double.self) + at, capacity: room)
                            default: cols[col].dates = Growable(window: w.assumingMemoryBound(to: Int32.self) + at, capacity: room)
                            }
                        }
                    }
                    outBase?[k] = c
                    release?(c.start, c.end)
                } catch {
                    lock.lock()
                    if failure == nil { failure = error }
                    lock.unlock()
                }
            }
        }
        if let failure { throw failure }
        var parts = parsed.compactMap { $0 }
        parsed = []  // parts now holds the only reference, so joining can free as it goes
        // Columns that met text in any chunk are read again as strings in every chunk.
        var stringColumns = Set<Int>()
        for c in 0..<width {
            let kinds = Set(parts.map { $0.columns[c].kind }).subtracting([.unknown])
            let failed = parts.contains { $0.columns[c].failed }
            if failed || kinds.count > 1 && kinds != [.int, .float] || textColumns.contains(names[c].lowercased()) { stringColumns.insert(c) }
        }
        if !stringColumns.isEmpty {
            parts.withUnsafeMutableBufferPointer { buf in
                let b = buf.baseAddress
                parallelFor(buf.count) { k in
                    guard let b else { return }
                    var c = Chunk(start: b[k].start, end: b[k].end, firstLine: b[k].firstLine)
                    c.estimatedRows = b[k].rows
                    try? parseChunk(&c, width: width, strings: stringColumns)
                    release?(c.start, c.end)
                    for s in stringColumns { b[k].columns[s] = c.columns[s] }
                }
            }
        }
        let total = parts.reduce(0) { $0 + $1.rows }
        let rowCounts = parts.map(\.rows)
        var pieces: [[ColumnPart]] = (0..<width).map { c in parts.map { $0.columns[c] } }
        for k in parts.indices { parts[k].columns = [] }
        let windowKind = Dictionary(windowed.map { ($0.column, $0.kind) }, uniquingKeysWith: { a, _ in a })
        // The columns made side by side on the cores (merging the chunks' dictionaries of a
        // string column is most of it); each column's pieces are freed as soon as it is made,
        // so peak memory stays near the size of the final table.
        var joined = [Column?](repeating: nil, count: width)
        var inPlace = [Bitmap??](repeating: nil, count: width)
        pieces.withUnsafeMutableBufferPointer { pb in
            joined.withUnsafeMutableBufferPointer { jb in
                inPlace.withUnsafeMutableBufferPointer { ib in
                    guard let pieceBase = pb.baseAddress, let joinedBase = jb.baseAddress, let inPlaceBase = ib.baseAddress else { return }
                    parallelFor(width) { c in
                        var own = pieceBase[c]
                        pieceBase[c] = []
                        if let kind = windowKind[c], let w = windows[c], settle(&own, kind: kind, window: w, starts: starts, rows: rowCounts) {
                            inPlaceBase[c] = .some(CSVParser.validity(own, rows: rowCounts, total: total))
                        } else {
                            joinedBase[c] = join(&own, rows: rowCounts, total: total)
                        }
                    }
                }
            }
        }
        var direct: [Int: Bitmap?] = [:]
        for (c, v) in inPlace.enumerated() { if let v { direct[c] = v } }
        var checkpoints: [(Int, Int, Int)] = []
        var offset = 0
        for p in parts {
            checkpoints += p.checkpoints.map { ($0.0 + offset, $0.1, $0.2) }
            offset += p.rows
        }
        var locator = RowLocator(name: name, checkpoints: checkpoints, data: nil, delimiter: delimiter)
        locator.blankLines = parts.reduce(0) { $0 + $1.blank }
        return Parsed(columns: joined, direct: direct, total: total, locator: locator, strayQuote: parts.contains { $0.strayQuote })
    }

    /// A windowed column made in place: when every chunk after the first kept its kind and
    /// left its values where its window starts, the first chunk's values are copied to the
    /// array's start and each other chunk's moved down to where its rows begin (closing
    /// the room its blank or quoted lines left); true when done. Otherwise nothing is moved
    /// and the column is joined from its parts, which still read their windows.
    func settle(_ parts: inout [ColumnPart], kind: Kind, window: UnsafeMutableRawPointer, starts: [Int], rows: [Int]) -> Bool {
        func inPlace<T>(_ w: UnsafeMutablePointer<T>, _ buffer: (ColumnPart) -> Growable<T>) -> Bool {
            for k in 1..<parts.count {
                let g = buffer(parts[k])
                guard parts[k].kind == kind, !parts[k].failed, g.lives(at: w + starts[k]), g.count == rows[k] else { return false }
            }
            let head = buffer(parts[0])
            guard parts[0].kind == kind, !parts[0].failed, head.count == rows[0], rows[0] == 0 || head.buffer.baseAddress != nil else { return false }
            if rows[0] > 0, let src = head.buffer.baseAddress { w.initialize(from: src, count: rows[0]) }
            var at = rows[0]
            for k in 1..<parts.count {
                // Down, never up (a chunk's rows start at or before its window): memmove.
                if at != starts[k] && rows[k] > 0 { memmove(w + at, w + starts[k], rows[k] * MemoryLayout<T>.stride) }
                at += rows[k]
            }
            return true
        }
        guard parts.count > 1 else { return false }
        let done: Bool
        switch kind {
        case .int: done = inPlace(window.assumingMemoryBound(to: Int64.self)) { $0.ints }
        case .float: done = inPlace(window.assumingMemoryBound(to: Double.self)) { $0.floats }
        case .date: done = inPlace(window.assumingMemoryBound(to: Int32.self)) { $0.dates }
        default: done = false
        }
        return done
    }

    /// Row-aligned chunks of about `chunkTarget` bytes, cut at a newline outside quotes.
    /// Quotes and newlines are counted per range in parallel; a prefix sum then tells the
    /// quote parity at each range start, so no core scans the whole file alone.
    public func split(from start: Int, line: Int) throws -> [Chunk] {
        // A large file in chunks of a 16th of it per core, up to 32 MiB: a column's part of a
        // chunk then spans megabytes, in huge pages (Growable).
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let target = chunkTarget == 4 << 20 ? min(32 << 20, max(chunkTarget, (count - start) / (16 * cores))) : chunkTarget
        if count - start <= target * 2 {
            let counts = kam_count_bytes(base + start, count - start)
            var c = Chunk(start: start, end: count, firstLine: line)
            c.estimatedRows = counts.newlines + 1
            c.ascii = counts.non_ascii == 0
            return [c]
        }
        let ranges = stride(from: start, to: count, by: target).map { ($0, min(count, $0 + target)) }
        var counts = [kam_byte_counts](repeating: kam_byte_counts(), count: ranges.count)
        counts.withUnsafeMutableBufferPointer { out in
            let slots = out
            parallelFor(ranges.count) { k in
                slots[k] = kam_count_bytes(base + ranges[k].0, ranges[k].1 - ranges[k].0)
            }
        }
        // Cut points: the first newline outside quotes at or after each range start.
        var cuts: [(pos: Int, line: Int)] = [(start, line)]
        var parity = 0, lineAt = line
        for k in 1..<ranges.count {
            parity = (parity + counts[k - 1].quotes) & 1
            lineAt += counts[k - 1].newlines
            let (i, l) = rowEnd(from: ranges[k].0, parity: parity, line: lineAt, notBefore: ranges[k].0, limit: count)
            if i > cuts[cuts.count - 1].pos && i < count { cuts.append((i, l)) }
        }
        // The first chunk is parsed alone, before the others (its kinds say which columns
        // are made in place): a small one keeps the other core from waiting. Cut after the
        // first newline outside quotes past 256 KiB (a quarter chunk for small chunks).
        if cuts.count > 1 {
            let (i, l) = rowEnd(from: start, parity: 0, line: line, notBefore: start + min(256 << 10, target / 4), limit: cuts[1].pos)
            if i < cuts[1].pos { cuts.insert((i, l), at: 1) }
        }
        var chunks: [Chunk] = []
        for (k, c) in cuts.enumerated() {
            let end = k + 1 < cuts.count ? cuts[k + 1].pos : count
            var chunk = Chunk(start: c.pos, end: end, firstLine: c.line)
            chunk.estimatedRows = (k + 1 < cuts.count ? cuts[k + 1].line : lineAt + counts[ranges.count - 1].newlines + 1) - c.line + 1
            // ASCII when every range it overlaps is: then it needs no UTF-8 validation.
            let first = (c.pos - start) / target, last = (max(c.pos, end - 1) - start) / target
            chunk.ascii = (first...min(last, ranges.count - 1)).allSatisfy { counts[$0].non_ascii == 0 }
            chunks.append(chunk)
        }
        return chunks
    }

    /// The position after the first newline outside quotes (by their parity, `parity` at
    /// `from`) whose end is at or past `notBefore`, with its line; `limit` and the line there
    /// when none comes before it.
    func rowEnd(from: Int, parity: Int, line: Int, notBefore: Int, limit: Int) -> (pos: Int, line: Int) {
        var i = from, p = parity, l = line
        while i < limit {
            let b = base[i]
            i += 1
            if b == 34 { p ^= 1 } else if b == 10 {
                l += 1
                if p == 0 && i >= notBefore { break }
            }
        }
        return (i, l)
    }

    /// Counts '"' and '\n' bytes (the vector loop of `kam_count_bytes`).
    public static func countQuotesAndNewlines(_ p: UnsafePointer<UInt8>, _ n: Int) -> (Int, Int) {
        let c = kam_count_bytes(p, n)
        return (c.quotes, c.newlines)
    }

    // MARK: records

    /// Reads one record from `pos`, calling `field` with each field's bytes (unescaped);
    /// returns the position after the record's line end.
    public func readRecord(from start: Int, line: inout Int, _ field: ([UInt8]) -> Void) throws -> Int {
        var pos = start
        var scratch: [UInt8] = []
        var stray = false
        while true {
            let f = try scanField(&pos, end: count, line: &line, scratch: &scratch, strayQuote: &stray)
            field(f.escaped ? scratch : Array(UnsafeBufferPointer(start: base + f.start, count: f.end - f.start)))
            if pos < count && base[pos] == delimiter {
                pos += 1
                if pos >= count { field([]) }
                continue
            }
            if pos < count && base[pos] == 13 { pos += 1 }
            if pos < count && base[pos] == 10 { pos += 1 }
            line += 1
            return pos
        }
    }

    /// Scans one field at `pos` (up to the delimiter or line end, which it leaves in
    /// place). The field is bytes start..<end of the file, or, when `escaped` (a quoted
    /// field with doubled quotes), the unescaped bytes in `scratch`.
    @inline(__always)
    public func scanField(_ pos: inout Int, end: Int, line: inout Int, scratch: inout [UInt8], strayQuote: inout Bool) throws
        -> (start: Int, end: Int, escaped: Bool)
    {
        guard pos < end && base[pos] == UInt8(ascii: "\"") else {
            let fs = pos
            while pos < end {
                let c = base[pos]
                if c == delimiter || c == 10 || c == 13 { break }
                if c == UInt8(ascii: "\"") { strayQuote = true }
                pos += 1
            }
            return (fs, pos, false)
        }
        let quoteLine = line
        pos += 1
        let fs = pos
        var fe = pos
        var escaped = false
        var closed = false
        while pos < end {
            let c = base[pos]
            if c == UInt8(ascii: "\"") {
                if pos + 1 < end && base[pos + 1] == UInt8(ascii: "\"") {
                    if !escaped {
                        scratch.removeAll(keepingCapacity: true)
                        scratch.append(contentsOf: UnsafeBufferPointer(start: base + fs, count: pos - fs))
                        escaped = true
                    }
                    scratch.append(c)
                    pos += 2
                    continue
                }
                fe = pos
                pos += 1
                closed = true
                break
            }
            if c == 10 { line += 1 }
            if escaped { scratch.append(c) }
            pos += 1
        }
        if !closed { throw Diagnostic.data(file: name, line: quoteLine, "unterminated quoted field", hints: ["a field that starts with \" must end with \"; write \"\" for a quote inside it"]) }
        if pos < end, base[pos] != delimiter, base[pos] != 10, base[pos] != 13 {
            throw Diagnostic.data(file: name, line: line, "unexpected text after a closing quote", hints: ["quote the whole field, and write \"\" for a quote inside it"])
        }
        return (fs, fe, escaped)
    }

    /// The error for bytes that are not UTF-8, saying what the file likely is: UTF-16 (its
    /// byte order mark), or a single-byte code page as Excel on Windows writes (the byte
    /// and the letter it is in Windows-1252), with the way to convert it.
    func invalidUTF8(at bad: Int, line: Int) -> Diagnostic {
        if bad <= 3, count >= 2, (base[0] == 0xFF && base[1] == 0xFE) || (base[0] == 0xFE && base[1] == 0xFF) {
            return Diagnostic.data(file: name, line: 1, "the file is UTF-16 (its first bytes mark it so), not UTF-8",
                hints: ["save it as UTF-8 (Excel: CSV UTF-8), or convert it: iconv -f UTF-16 -t UTF-8 FILE > FILE-utf8.csv"])
        }
        let byte = bad < count ? base[bad] : 0
        var what = String(format: "0x%02X", byte)
        if byte >= 0xA0, let u = Unicode.Scalar(UInt32(byte)) { what += ", '\(Character(u))' in Windows-1252" }
        return Diagnostic.data(file: name, line: line, "invalid UTF-8 at byte offset \(bad) (the byte \(what))",
            hints: ["save the file as UTF-8; from Windows-1252 (Latin-1): iconv -f WINDOWS-1252 -t UTF-8 FILE > FILE-utf8.csv"])
    }

    /// Parses the rows of one chunk into typed column parts. With `strings`, parses only
    /// those columns, as strings.
    public func parseChunk(_ chunk: inout Chunk, width: Int, strings: Set<Int>?,
                           prepare: ((UnsafeMutablePointer<ColumnPart>) -> Void)? = nil) throws {
        // Chunks end at newlines, so each holds whole UTF-8 sequences: validate in parallel.
        if strings == nil, !chunk.ascii, let bad = CSVReader.firstInvalidUTF8(UnsafeBufferPointer(start: base + chunk.start, count: chunk.end - chunk.start)) {
            var l = chunk.firstLine
            for k in chunk.start..<(chunk.start + bad) where base[k] == 10 { l += 1 }
            throw invalidUTF8(at: chunk.start + bad, line: l)
        }
        // The chunk's pages mapped in one call, not a fault every 4 KiB.
        Snapshot.advise(UnsafeRawPointer(base + chunk.start), chunk.end - chunk.start, 22)  // MADV_POPULATE_READ
        // The column parts live in a raw buffer for the loop: no uniqueness or exclusivity
        // checks on each field's append.
        let cols = UnsafeMutablePointer<ColumnPart>.allocate(capacity: max(1, width))
        // One part per column, each with its own buffers.
        for c in 0..<width { (cols + c).initialize(to: ColumnPart()) }
        defer {
            cols.deinitialize(count: width)
            cols.deallocate()
        }
        for c in 0..<width { cols[c].reserve = chunk.estimatedRows }
        prepare?(cols)
        chunk.rows = try parseRows(&chunk, cols, width: width, strings: strings)
        chunk.columns = Array(UnsafeBufferPointer(start: cols, count: width))
    }

    /// The row loop of `parseChunk`, on its own so that it stays small: the optimizer then
    /// inlines `fastField` into it (in a larger function it makes a call per field), and
    /// the general path is a call out of line.
    func parseRows(_ chunk: inout Chunk, _ cols: UnsafeMutablePointer<ColumnPart>, width: Int, strings: Set<Int>?) throws -> Int {
        var pos = chunk.start
        let end = chunk.end
        var line = chunk.firstLine
        var row = 0
        var scratch: [UInt8] = []
        scratch.reserveCapacity(256)
        let fast = typedFastPath && strings == nil && numberStarts != 0
        while pos < end {
            // Blank lines are skipped, as most readers do.
            if base[pos] == 10 || base[pos] == 13 {
                if base[pos] == 10 { line += 1; chunk.blank += 1 }
                pos += 1
                continue
            }
            if row & 4095 == 0 { chunk.checkpoints.append((row, pos, line)) }
            let rowLine = line
            var col = 0
            while true {
                if fast, col < width, let next = fastField(&cols[col], at: pos, end: end) {
                    pos = next
                } else {
                    try generalField(cols, col, width: width, strings: strings, pos: &pos, end: end, line: &line, row: row, scratch: &scratch,
                                     strayQuote: &chunk.strayQuote)
                }
                col += 1
                if pos < end && base[pos] == delimiter {
                    pos += 1
                    if pos >= end || base[pos] == 10 || base[pos] == 13 {
                        // A trailing delimiter: one more empty field.
                        if col < width && (strings == nil || strings?.contains(col) == true) { addEmpty(cols, col, row: row, strings: strings, at: pos) }
                        col += 1
                    } else {
                        continue
                    }
                }
                if pos < end && base[pos] == 13 { pos += 1 }
                if pos < end && base[pos] == 10 { pos += 1 }
                line += 1
                break
            }
            if col != width { throw ragged(col, width: width, line: rowLine) }
            row += 1
        }
        return row
    }

    /// One field by the general path: scanned (quotes, escapes), then added to its column
    /// unless the column is not read.
    @inline(never)
    func generalField(_ cols: UnsafeMutablePointer<ColumnPart>, _ col: Int, width: Int, strings: Set<Int>?, pos: inout Int, end: Int,
                      line: inout Int, row: Int, scratch: inout [UInt8], strayQuote: inout Bool) throws {
        // One field: [fs, fe) in the file, or unescaped in scratch.
        let (fs, fe, escaped) = try scanField(&pos, end: end, line: &line, scratch: &scratch, strayQuote: &strayQuote)
        guard col < width && (strings == nil || strings?.contains(col) == true) else { return }
        if escaped {
            scratch.withUnsafeBufferPointer { buf in
                add(&cols[col], buf, row: row, forceString: strings != nil)
            }
        } else {
            add(&cols[col], UnsafeBufferPointer(start: base + fs, count: fe - fs), row: row, forceString: strings != nil)
        }
    }

    /// The empty field after a trailing delimiter.
    @inline(never)
    func addEmpty(_ cols: UnsafeMutablePointer<ColumnPart>, _ col: Int, row: Int, strings: Set<Int>?, at pos: Int) {
        add(&cols[col], UnsafeBufferPointer(start: base + pos, count: 0), row: row, forceString: strings != nil)
    }

    @inline(never)
    func ragged(_ count: Int, width: Int, line: Int) -> Diagnostic {
        Diagnostic.data(file: name, line: line, "row has \(count) field\(count == 1 ? "" : "s"), expected \(width) (as in the header)",
            hints: ["quote fields that contain the delimiter: \"a, b\""])
    }


    // MARK: values

    /// Reads the ASCII digits from `i` (before `end`) into `value` (wrapping: the caller
    /// limits the count), eight bytes at a time where eight can be read.
    @inline(__always)
    func digits(_ i: inout Int, end: Int, into value: inout Int64) {
        while i + 8 <= end {
            let (n, v) = CSVParser.leadingDigits(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
            value = value &* intPowers[n] &+ Int64(v)
            i += n
            if n < 8 { return }
        }
        while i < end, base[i] &- 48 <= 9 {
            value = value &* 10 &+ Int64(base[i] &- 48)
            i += 1
        }
    }

    /// How many of eight bytes (little-endian, first byte lowest) are ASCII digits before
    /// the first that is not, and their value (SWAR: Lemire's eight-digit multiply).
    @inline(__always)
    static func leadingDigits(_ word: UInt64) -> (count: Int, value: UInt64) {
        let x = word ^ 0x3030_3030_3030_3030
        // A byte's top bit is set unless it was '0'...'9' (no carries cross bytes).
        let notDigit = (((x & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080
        let n = notDigit == 0 ? 8 : notDigit.trailingZeroBitCount >> 3
        if n == 0 { return (0, 0) }
        // The n digits moved to the top bytes: the bytes below are leading zeros.
        var v = x << UInt64(64 - 8 * n)
        v = ((v & 0x0F0F_0F0F_0F0F_0F0F) &* 2561) >> 8
        v = ((v & 0x00FF_00FF_00FF_00FF) &* 6_553_601) >> 16
        v = ((v & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) >> 32
        return (n, v)
    }

    /// The typed fast path: a field of an int, float or date column that is a plain number
    /// (`-`, digits, at most one `.`) or a 10-byte ISO date, followed by the delimiter or a
    /// line end, is scanned and parsed in one pass and appended; returns the position after
    /// it. Anything else (quotes, nulls, exponents, leading zeros, long numbers, a value
    /// that changes the column's kind) returns nil and takes the general path
    /// (`scanField` + `add`), whose answer this one equals for every field it takes.
    @inline(__always)
    func fastField(_ c: inout ColumnPart, at start: Int, end: Int) -> Int? {
        guard start < end else { return nil }
        let first = base[start]
        guard first < 64, (numberStarts >> UInt64(first)) & 1 == 1, !c.failed else { return nil }
        @inline(__always) func ends(_ i: Int) -> Bool {
            i == end || base[i] == delimiter || base[i] == 10 || base[i] == 13
        }
        switch c.kind {
        case .int, .float:
            var i = start
            let neg = first == UInt8(ascii: "-")
            if neg { i += 1 }
            let digitsStart = i
            var mantissa: Int64 = 0
            digits(&i, end: end, into: &mantissa)
            let intDigits = i - digitsStart
            if intDigits > 1 && base[digitsStart] == UInt8(ascii: "0") { return nil }
            if c.kind == .int {
                guard intDigits > 0, intDigits <= 18, ends(i) else { return nil }
                c.ints.append(neg ? -mantissa : mantissa)
                return i
            }
            var fraction = 0
            if i < end && base[i] == UInt8(ascii: ".") {
                i += 1
                let fractionStart = i
                digits(&i, end: end, into: &mantissa)
                fraction = i - fractionStart
            }
            let digits = intDigits + fraction
            guard digits > 0, digits <= 15, ends(i) else { return nil }
            let v = Double(mantissa) / floatPowers[fraction]
            c.floats.append(neg ? -v : v)
            return i
        case .date:
            guard end - start >= 10, ends(start + 10) else { return nil }
            let p = UnsafeRawPointer(base + start)
            let head = p.loadUnaligned(as: UInt64.self), tail = p.loadUnaligned(fromByteOffset: 8, as: UInt16.self)
            if let d = c.lastDate, head == c.lastDateHead, tail == c.lastDateTail {
                c.dates.append(d)
                return start + 10
            }
            guard let d = Calendar.parse(UnsafeBufferPointer(start: base + start, count: 10)) else { return nil }
            c.dates.append(d)
            (c.lastDateHead, c.lastDateTail, c.lastDate) = (head, tail, d)
            return start + 10
        default:
            return nil
        }
    }

    @inline(__always)
    public func isNull(_ f: UnsafeBufferPointer<UInt8>) -> Bool {
        if f.count == 0 { return emptyIsNull }
        if f.count > longestToken { return false }
        let b = f[0]
        if b < 64 ? (tokenStartsLow >> UInt64(b)) & 1 == 0 : b < 128 ? (tokenStartsHigh >> UInt64(b - 64)) & 1 == 0 : !tokenStartsBeyondASCII {
            return false
        }
        for t in tokenList where t.count == f.count && t.elementsEqual(f) { return true }
        return false
    }

    @inline(__always)
    public func add(_ c: inout ColumnPart, _ f: UnsafeBufferPointer<UInt8>, row: Int, forceString: Bool) {
        if isNull(f) {
            c.nullRows.append(Int32(truncatingIfNeeded: row))
            switch c.kind {
            case .unknown: c.leadingNulls += 1
            case .int: c.ints.append(0)
            case .float: c.floats.append(0)
            case .date: c.dates.append(0)
            case .bool: c.bools.append(false)
            case .string: c.codes.append(0)
            }
            return
        }
        if c.failed { return }
        if forceString { setKind(&c, .string) }
        switch c.kind {
        case .unknown:
            if CSVParser.parseInt(f) != nil { setKind(&c, .int) }
            else if CSVParser.isCode(f) { setKind(&c, .string) }
            else if CSVParser.parseDouble(f) != nil { setKind(&c, .float) }
            else if Calendar.parse(f) != nil { setKind(&c, .date) }
            else if CSVParser.parseBool(f) != nil { setKind(&c, .bool) }
            else { setKind(&c, .string) }
            add(&c, f, row: row, forceString: forceString)
        case .int:
            if let v = CSVParser.parseInt(f) { c.ints.append(v); return }
            if !CSVParser.isCode(f), let d = CSVParser.parseDouble(f) {
                setKind(&c, .float)
                c.floats.append(d)
                return
            }
            c.failed = true
        case .float:
            if !CSVParser.isCode(f), let d = CSVParser.parseDouble(f) { c.floats.append(d) } else { c.failed = true }
        case .date:
            if f.count == 10, let p = f.baseAddress {
                let head = UnsafeRawPointer(p).loadUnaligned(as: UInt64.self), tail = UnsafeRawPointer(p + 8).loadUnaligned(as: UInt16.self)
                if let d = c.lastDate, head == c.lastDateHead, tail == c.lastDateTail { c.dates.append(d); return }
                guard let d = Calendar.parse(f) else { c.failed = true; return }
                c.dates.append(d)
                (c.lastDateHead, c.lastDateTail, c.lastDate) = (head, tail, d)
                return
            }
            if let d = Calendar.parse(f) { c.dates.append(d) } else { c.failed = true }
        case .bool:
            if let b = CSVParser.parseBool(f) { c.bools.append(b) } else { c.failed = true }
        case .string:
            c.codes.append(c.strings.code(f))
        }
    }

    public func setKind(_ c: inout ColumnPart, _ k: Kind) {
        if c.kind == k { return }
        let n = c.length
        switch (c.kind, k) {
        case (.int, .float):
            c.floats.reserve(max(c.reserve, n))
            for x in c.ints.buffer { c.floats.append(Double(x)) }
            c.ints = Growable()
        case (.unknown, .int): c.ints.reserve(c.reserve); c.ints.append(0, repeating: n)
        case (.unknown, .float): c.floats.reserve(c.reserve); c.floats.append(0, repeating: n)
        case (.unknown, .date): c.dates.reserve(c.reserve); c.dates.append(0, repeating: n)
        case (.unknown, .bool): c.bools.reserve(c.reserve); c.bools.append(false, repeating: n)
        case (.unknown, .string): c.codes.reserve(c.reserve); c.codes.append(0, repeating: n)
        default: c.failed = true
        }
        c.kind = k
    }

    /// The rows of a column's parts that are null, as one bitmap (nil when none is).
    static func validity(_ parts: [ColumnPart], rows: [Int], total: Int) -> Bitmap? {
        var validity: Bitmap? = nil
        var offset = 0
        for (p, n) in zip(parts, rows) {
            if !p.nullRows.isEmpty {
                if validity == nil { validity = Bitmap(count: total, allValid: true) }
                for r in p.nullRows { validity?[offset + Int(r)] = false }
            }
            offset += n
        }
        return validity
    }

    /// Joins the chunks' parts of one column into a typed column, freeing each part once it
    /// is copied: the column's next pages are then the ones just given back, which the
    /// kernel hands out again at once, not fresh memory it must first come by (on a virtual
    /// machine that returns free memory to its host, the slowest part of a large load).
    public func join(_ parts: inout [ColumnPart], rows: [Int], total: Int) -> Column {
        let kinds = Set(parts.map(\.kind)).subtracting([.unknown])
        let kind: Kind = kinds.isEmpty ? .unknown : kinds.count == 1 ? kinds.first ?? .string : .float
        let validity = CSVParser.validity(parts, rows: rows, total: total)
        func append<T>(_ xs: Growable<T>, _ n: Int, _ zero: T, to out: inout [T]) {
            out.append(contentsOf: xs.buffer)
            if xs.count < n { out.append(contentsOf: repeatElement(zero, count: n - xs.count)) }
        }
        // The parts of a column of one kind copied into one array. Not in huge pages: the
        // pages the parts give back as they are copied are reused at once, where a huge
        // page asked for must be found whole (on a virtual machine that hands free memory
        // back to its host, those faults were a third of a first run's time).
        func joined<T>(_ part: (ColumnPart) -> Growable<T>?, _ zero: T) -> [T] {
            [T](unsafeUninitializedCapacity: total) { out, initialized in
                guard let b = out.baseAddress else { initialized = 0; return }
                var at = 0
                for (j, rowCount) in rows.enumerated() where j < parts.count {
                    let n = min(rowCount, total - at)
                    let xs = part(parts[j])
                    let k = min(n, xs?.count ?? 0)
                    if let xs, k > 0, let src = xs.buffer.baseAddress { (b + at).initialize(from: src, count: k) }
                    if k < n { (b + at + k).initialize(repeating: zero, count: n - k) }
                    at += n
                    parts[j] = ColumnPart()
                }
                initialized = at
            }
        }
        switch kind {
        case .unknown:
            return Column(storage: .values([Value](repeating: .null, count: total)), validity: validity ?? Bitmap(count: total, allValid: false))
        case .int:
            return Column(storage: .int(joined({ $0.kind == .int ? $0.ints : nil }, 0)), validity: validity)
        case .float where parts.allSatisfy({ $0.kind != .int }):
            return Column(storage: .float(joined({ $0.kind == .float ? $0.floats : nil }, 0)), validity: validity)
        case .float:
            var out: [Double] = []
            out.reserveCapacity(total)
            for (p, n) in zip(parts, rows) {
                switch p.kind {
                case .float: append(p.floats, n, 0, to: &out)
                case .int:
                    out += p.ints.buffer.lazy.map(Double.init)
                    if p.ints.count < n { out += repeatElement(0, count: n - p.ints.count) }
                default: out += repeatElement(0, count: n)
                }
            }
            return Column(storage: .float(out), validity: validity)
        case .date:
            return Column(storage: .date(joined({ $0.kind == .date ? $0.dates : nil }, 0)), validity: validity)
        case .bool:
            var out: [Bool] = []
            out.reserveCapacity(total)
            for (p, n) in zip(parts, rows) { if p.kind == .bool { append(p.bools, n, false, to: &out) } else { out += repeatElement(false, count: n) } }
            return Column(storage: .bool(out), validity: validity)
        case .string:
            if parts.count == 1, let p = parts.first, p.kind == .string {
                let strings = p.strings.strings()
                var codes: [UInt32] = []
                codes.reserveCapacity(total)
                append(p.codes, total, 0, to: &codes)
                return Column(storage: .string(StringColumn(codes: codes, dictionary: strings.isEmpty ? [""] : strings)), validity: validity)
            }
            // Merge the chunks' dictionaries into one.
            var dict = ByteDictionary()
            var codes: [UInt32] = []
            codes.reserveCapacity(total)
            for (j, n) in rows.enumerated() where j < parts.count {
                let p = parts[j]
                defer { parts[j] = ColumnPart() }
                guard p.kind == .string else { codes += [UInt32](repeating: 0, count: n); continue }
                let remap = (0..<p.strings.count).map { e in
                    p.strings.storage.withUnsafeBufferPointer { sb in
                        dict.code(UnsafeBufferPointer(rebasing: sb[p.strings.offsets[e]..<p.strings.offsets[e + 1]]))
                    }
                }
                for c in p.codes.buffer { codes.append(remap.isEmpty ? 0 : remap[Int(c)]) }
                if p.codes.count < n { codes += repeatElement(0, count: n - p.codes.count) }
            }
            let strings = dict.strings()
            return Column(storage: .string(StringColumn(codes: codes, dictionary: strings.isEmpty ? [""] : strings)), validity: validity)
        }
    }

    // MARK: scalar parsers on bytes

    /// An integer without a leading zero (so zip codes like 08123 stay strings).
    @inline(__always)
    /// Digits that are not an integer: a leading zero (`007`, a ZIP code `02134`) or more
    /// than 64 bits take (a 25-digit external id). They are codes, read as text: as a
    /// number they would lose their zeros or their last digits, and two ids would become
    /// one. Whichever row comes first, the column is text.
    public static func isCode(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        if i < s.count && (s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+")) { i += 1 }
        guard i < s.count else { return false }
        for k in i..<s.count where s[k] &- 48 > 9 { return false }
        return parseInt(s) == nil
    }

    /// `isCode` of a text.
    public static func isCode(_ text: String) -> Bool {
        var t = text
        return t.withUTF8 { isCode($0) }
    }

    /// Whether a text reads as a number (not a code).
    public static func isNumber(_ text: String) -> Bool {
        var t = text
        return t.withUTF8 { parseDouble($0) != nil && !isCode($0) }
    }

    public static func parseInt(_ s: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        let n = s.count
        var neg = false
        if i < n && (s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+")) { neg = s[i] == UInt8(ascii: "-"); i += 1 }
        guard i < n, n - i <= 19 else { return nil }
        if s[i] == UInt8(ascii: "0") && n - i > 1 { return nil }
        var v: Int64 = 0
        while i < n {
            let d = s[i] &- 48
            guard d <= 9 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(d))
            if o1 || o2 { return nil }
            v = a
            i += 1
        }
        return neg ? -v : v
    }

    /// 10^k for k in 0...15, exact (a switch: a global table is a lazy global, checked on
    /// every access).
    @inline(__always) static func powerOfTen(_ k: Int) -> Double {
        switch k {
        case 0: 1
        case 1: 10
        case 2: 100
        case 3: 1e3
        case 4: 1e4
        case 5: 1e5
        case 6: 1e6
        case 7: 1e7
        case 8: 1e8
        case 9: 1e9
        case 10: 1e10
        case 11: 1e11
        case 12: 1e12
        case 13: 1e13
        case 14: 1e14
        default: 1e15
        }
    }

    /// A decimal number. Plain `123.45` with at most 15 digits is computed exactly from its
    /// digits (one correctly rounded division); anything else goes through strtod.
    @inline(__always)
    public static func parseDouble(_ s: UnsafeBufferPointer<UInt8>) -> Double? {
        let n = s.count
        guard n > 0, n < 64 else { return nil }
        var i = 0
        var neg = false
        if s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+") { neg = s[i] == UInt8(ascii: "-"); i += 1 }
        let intStart = i
        var mantissa: Int64 = 0
        var digits = 0
        while i < n, s[i] &- 48 <= 9 { mantissa = mantissa &* 10 &+ Int64(s[i] - 48); digits += 1; i += 1 }
        if i - intStart > 1 && s[intStart] == UInt8(ascii: "0") { return nil }
        var fraction = 0
        if i < n && s[i] == UInt8(ascii: ".") {
            i += 1
            while i < n, s[i] &- 48 <= 9 { mantissa = mantissa &* 10 &+ Int64(s[i] - 48); digits += 1; fraction += 1; i += 1 }
        }
        guard digits > 0 else { return nil }
        if i == n {
            if digits <= 15 {
                let v = Double(mantissa) / powerOfTen(fraction)
                return neg ? -v : v
            }
        } else {
            guard s[i] == UInt8(ascii: "e") || s[i] == UInt8(ascii: "E") else { return nil }
            i += 1
            if i < n && (s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+")) { i += 1 }
            var expDigits = 0
            while i < n, s[i] &- 48 <= 9 { i += 1; expDigits += 1 }
            guard expDigits > 0, i == n else { return nil }
        }
        guard let d = Double(String(decoding: s, as: UTF8.self)), d.isFinite else { return nil }
        return d
    }

    @inline(__always)
    public static func parseBool(_ s: UnsafeBufferPointer<UInt8>) -> Bool? {
        switch s.count {
        case 4: return s.elementsEqual("true".utf8) || s.elementsEqual("TRUE".utf8) || s.elementsEqual("True".utf8) ? true : nil
        case 5: return s.elementsEqual("false".utf8) || s.elementsEqual("FALSE".utf8) || s.elementsEqual("False".utf8) ? false : nil
        default: return nil
        }
    }
}
