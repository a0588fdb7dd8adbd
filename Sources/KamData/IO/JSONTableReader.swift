import Foundation
import KamSyntax

/// A JSON table (an array of objects, or one object per line) read straight into typed
/// columns, on every core: no record and no boxed value per row.
///
/// It gives exactly the table `JSONReader.readTable` gives for the same bytes (the same
/// columns in order of first appearance, the same types by the same rules as
/// `Column.from`, dictionaries in order of first appearance), or nil when the bytes are
/// not a table it reads: a syntax error, a row that is not an object, a key repeated in
/// one object, invalid UTF-8, nesting too deep. Then the record reader runs, so its message,
/// with its line and column, is the one the user sees, and no fault is reported twice.
///
///     let t = bytes.withUnsafeBufferPointer { JSONTableReader.read($0) }
public enum JSONTableReader {
    /// Files below this size are read on one core: splitting costs more than it saves.
    public static let parallelThreshold = 1 << 20

    /// `smallest`: the size below which the bytes are not split (tests split tiny files to
    /// try every cut). `release`: called with ranges of bytes parsed and checked, which the
    /// caller may drop from memory (a mapped file's pages).
    public static func read(_ bytes: UnsafeBufferPointer<UInt8>,
                            cores: Int = ProcessInfo.processInfo.activeProcessorCount,
                            smallest: Int = parallelThreshold, release: ((Int, Int) -> Void)? = nil) -> Table? {
        guard let base = bytes.baseAddress else { return Table(names: [], columns: [], count: 0) }
        var start = 0
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { start = 3 }
        start = skipSpace(base, start, bytes.count)
        if start >= bytes.count { return Table(names: [], columns: [], count: 0) }
        let array = base[start] == UInt8(ascii: "[")
        if array { start += 1 }
        let n = bytes.count
        // Chunks start after a newline near each share of the file. A cut that falls inside
        // an object leaves the chunk before it unfinished, which fails; so when every chunk
        // parses, every cut was between rows, and the whole file is read again on one core
        // otherwise.
        let pieces = n < smallest ? 1 : max(1, min(cores * 4, n / max(1, smallest / 2)))
        var cuts = [start]
        // A cut goes where a row likely starts: a newline after which the next byte that is
        // not a space is '{', and before which the last is ',', '[' or '}'. In a
        // pretty-printed array most newlines are inside rows, and a cut there would send the
        // whole file round again on one core.
        func rowStart(after c: Int) -> Bool {
            let next = skipSpace(base, c + 1, n)
            guard next < n, base[next] == UInt8(ascii: "{") else { return false }
            var before = c - 1
            while before >= start, base[before] == 0x20 || base[before] == 0x0D || base[before] == 0x09 || base[before] == 0x0A { before -= 1 }
            return before < start || base[before] == UInt8(ascii: ",") || base[before] == UInt8(ascii: "[") || base[before] == UInt8(ascii: "}")
        }
        for k in 1..<max(1, pieces) {
            var c = max(cuts[cuts.count - 1], start + (n - start) / pieces * k)
            let limit = min(n, start + (n - start) / pieces * (k + 1))
            while c < limit && (base[c] != 10 || !rowStart(after: c)) { c += 1 }
            if c < limit && c + 1 > cuts[cuts.count - 1] { cuts.append(c + 1) }
        }
        cuts.append(n)
        if start > 0, CSVReader.firstInvalidUTF8(UnsafeBufferPointer(start: base, count: start)) != nil { return nil }
        if cuts.count > 2, let t = parse(base, cuts: cuts, array: array, release: release) { return t }
        return parse(base, cuts: [start, n], array: array, release: release)
    }

    static func parse(_ base: UnsafePointer<UInt8>, cuts: [Int], array: Bool, release: ((Int, Int) -> Void)?) -> Table? {
        let count = cuts.count - 1
        var chunks = [Chunk?](repeating: nil, count: count)
        chunks.withUnsafeMutableBufferPointer { out in
            parallelFor(count) { k in
                var c = Chunk(base, from: cuts[k], to: cuts[k + 1], release: release)
                out[k] = c.rows(array: array, first: k == 0, last: k == count - 1) && c.checked(to: c.end) ? c : nil
            }
        }
        var parsed: [Chunk] = []
        for c in chunks {
            guard let c else { return nil }
            parsed.append(c)
        }
        return join(parsed)
    }

    @inline(__always)
    static func skipSpace(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        var i = i
        while i < end, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x0D || p[i] == 0x09 { i += 1 }
        return i
    }

    /// The columns of every chunk joined: names in order of first appearance, each column
    /// typed by every chunk's values together.
    static func join(_ chunks: [Chunk]) -> Table {
        var names = ByteDictionary()
        var columnsOf: [[Int]] = []  // for each chunk, the global column of each local one
        for c in chunks {
            var map: [Int] = []
            for k in 0..<c.keys.count {
                let key = c.keys.storage[c.keys.offsets[k]..<c.keys.offsets[k + 1]]
                map.append(Int(Array(key).withUnsafeBufferPointer { names.code($0) }))
            }
            columnsOf.append(map)
        }
        let total = chunks.reduce(0) { $0 + $1.rowCount }
        if total == 0 { return Table(names: [], columns: [], count: 0) }
        var partsOf = [[UnsafeMutablePointer<Part>?]](repeating: [UnsafeMutablePointer<Part>?](repeating: nil, count: chunks.count), count: names.count)
        for (k, c) in chunks.enumerated() {
            for (local, global) in columnsOf[k].enumerated() {
                c.parts.base[local].pad(to: c.rowCount)
                partsOf[global][k] = c.parts.base + local
            }
        }
        let rows = chunks.map(\.rowCount)
        var columns = [Column](repeating: Column(storage: .int([])), count: names.count)
        let workers = max(1, min(names.count, ProcessInfo.processInfo.activeProcessorCount))
        columns.withUnsafeMutableBufferPointer { out in
            parallelFor(workers) { w in
                var g = w
                while g < out.count {
                    out[g] = column(partsOf[g].map { $0?.pointee }, rows: rows, total: total)
                    // A column's parts go as soon as it is made: the table is not held twice.
                    for part in partsOf[g] { part?.pointee = Part(rows: 0) }
                    g += workers
                }
            }
        }
        return Table(names: names.strings(), columns: columns, count: total)
    }

    /// One column from its parts, typed as `Column.from` types the same values: numbers
    /// with a fraction make it float, kinds mixed (or a list or object) keep it boxed, only
    /// nulls keep it boxed nulls.
    static func column(_ parts: [Part?], rows: [Int], total: Int) -> Column {
        var kinds = Set<Part.Kind>()
        for p in parts { if let p, p.kind != .none { kinds.insert(p.kind) } }
        var validity = Bitmap(count: total, allValid: true)
        var anyNull = false
        var offset = 0
        for (k, p) in parts.enumerated() {
            if let p {
                for r in p.nulls { validity[offset + Int(r)] = false }
                anyNull = anyNull || !p.nulls.isEmpty
            } else {
                for r in 0..<rows[k] { validity[offset + r] = false }
                anyNull = anyNull || rows[k] > 0
            }
            offset += rows[k]
        }
        let valid = anyNull ? validity : nil
        let categories = Set(kinds.map { $0 == .float ? Part.Kind.int : $0 })
        if kinds.isEmpty || kinds.contains(.boxed) || categories.count > 1 {
            var values: [Value] = []
            values.reserveCapacity(total)
            for (k, p) in parts.enumerated() {
                if let p { values.append(contentsOf: p.boxedValues()) } else {
                    values.append(contentsOf: repeatElement(Value.null, count: rows[k]))
                }
            }
            return Column(storage: .values(values), validity: valid)
        }
        switch kinds.contains(.float) ? Part.Kind.float : categories.first ?? .none {
        case .float:
            var out: [Double] = []
            out.reserveCapacity(total)
            for (k, p) in parts.enumerated() {
                switch p?.kind {
                case .float?: out.append(contentsOf: p?.floats.buffer ?? UnsafeBufferPointer(start: nil, count: 0))
                case .int?: out.append(contentsOf: (p?.ints.buffer ?? UnsafeBufferPointer(start: nil, count: 0)).lazy.map { Double($0) })
                default: out.append(contentsOf: repeatElement(0, count: rows[k]))
                }
            }
            return Column(storage: .float(out), validity: valid)
        case .int:
            var out: [Int64] = []
            out.reserveCapacity(total)
            for (k, p) in parts.enumerated() {
                if let p, p.kind == .int { out.append(contentsOf: p.ints.buffer) } else { out.append(contentsOf: repeatElement(0, count: rows[k])) }
            }
            return Column(storage: .int(out), validity: valid)
        case .bool:
            var out: [Bool] = []
            out.reserveCapacity(total)
            for (k, p) in parts.enumerated() {
                if let p, p.kind == .bool { out.append(contentsOf: p.bools.buffer) } else { out.append(contentsOf: repeatElement(false, count: rows[k])) }
            }
            return Column(storage: .bool(out), validity: valid)
        default:
            var dictionary = ByteDictionary()
            var codes: [UInt32] = []
            codes.reserveCapacity(total)
            for (k, p) in parts.enumerated() {
                guard let p, p.kind == .string else {
                    codes.append(contentsOf: repeatElement(0, count: rows[k]))
                    continue
                }
                // Each chunk's dictionary is in order of first appearance, and the chunks are
                // in file order, so the joined dictionary is too.
                var remap: [UInt32] = []
                remap.reserveCapacity(p.dictionary.count)
                p.dictionary.storage.withUnsafeBufferPointer { s in
                    for e in 0..<p.dictionary.count {
                        remap.append(dictionary.code(UnsafeBufferPointer(rebasing: s[p.dictionary.offsets[e]..<p.dictionary.offsets[e + 1]])))
                    }
                }
                codes.append(contentsOf: p.codes.buffer.lazy.map { remap[Int($0)] })
                // A null row's code is 0, as Column.from gives it.
                if !p.nulls.isEmpty {
                    let first = codes.count - p.codes.count
                    for r in p.nulls { codes[first + Int(r)] = 0 }
                }
            }
            let strings = dictionary.strings()
            return Column(storage: .string(StringColumn(codes: codes, dictionary: strings.isEmpty ? [""] : strings)), validity: valid)
        }
    }

    /// Whether `n` bytes at `a` and `b` are equal: eight at a time, inline (keys and
    /// repeated cells are short, where a call to memcmp costs more than the compare).
    @inline(__always)
    static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        var k = 0
        while k + 8 <= n {
            if UnsafeRawPointer(a + k).loadUnaligned(as: UInt64.self) != UnsafeRawPointer(b + k).loadUnaligned(as: UInt64.self) { return false }
            k += 8
        }
        while k < n {
            if a[k] != b[k] { return false }
            k += 1
        }
        return true
    }

    /// The values of one key in one chunk, typed as far as they allow. Kept in a
    /// `PartList` and changed in place through its pointer: the row loop touches no
    /// reference count.
    struct Part {
        enum Kind: Hashable { case none, int, float, bool, string, boxed }
        var kind = Kind.none
        /// Rows so far, nulls included.
        var count = 0
        var nulls: [Int32] = []
        var ints = Growable<Int64>()
        var floats = Growable<Double>()
        /// In a float part: the rows written as integers, with their values, so that boxing
        /// the part later gives them back as integers (Column.from keeps a mixed column's
        /// values as they were written).
        var intRows: [(Int, Int64)] = []
        var bools = Growable<Bool>()
        var codes = Growable<UInt32>()
        var dictionary = ByteDictionary()
        /// The last string written and its code: rows often repeat the row before (a day,
        /// a region), which a compare of bytes finds without hashing.
        var lastString: UnsafePointer<UInt8>? = nil
        var lastLength = 0
        var lastCode: UInt32 = 0
        var boxed: [Value] = []
        /// The last row a value was written for: a key twice in one object is left to the
        /// record reader.
        var lastRow = -1

        init(rows: Int) { pad(to: rows) }

        @inline(__always) mutating func pad(to rows: Int) {
            while count < rows { addNull() }
        }

        mutating func addNull() {
            nulls.append(Int32(truncatingIfNeeded: count))
            switch kind {
            case .none: break
            case .int: ints.append(0)
            case .float: floats.append(0)
            case .bool: bools.append(false)
            case .string: codes.append(0)
            case .boxed: boxed.append(.null)
            }
            count += 1
        }

        /// From only nulls to a kind: the nulls so far get the kind's zero.
        mutating func become(_ k: Kind) {
            kind = k
            switch k {
            case .int: ints.append(0, repeating: count)
            case .float: floats.append(0, repeating: count)
            case .bool: bools.append(false, repeating: count)
            case .string: codes.append(0, repeating: count)
            case .boxed: boxed = [Value](repeating: .null, count: count)
            case .none: break
            }
        }

        func boxedValues() -> [Value] {
            if kind == .boxed { return boxed }
            var out = [Value](repeating: .null, count: count)
            switch kind {
            case .int: for (r, x) in ints.buffer.enumerated() { out[r] = .int(x) }
            case .float:
                for (r, x) in floats.buffer.enumerated() { out[r] = .float(x) }
                for (r, v) in intRows { out[r] = .int(v) }
            case .bool: for (r, x) in bools.buffer.enumerated() { out[r] = .bool(x) }
            case .string:
                let strings = dictionary.strings()
                for (r, c) in codes.buffer.enumerated() { out[r] = .string(strings[Int(c)]) }
            case .none, .boxed: break
            }
            for r in nulls { out[Int(r)] = .null }
            return out
        }

        mutating func box() {
            boxed = boxedValues()
            kind = .boxed
            ints = Growable()
            floats = Growable()
            intRows = []
            bools = Growable()
            codes = Growable()
        }

        @inline(__always) mutating func add(int v: Int64) {
            if kind == .int { ints.append(v) } else { addSlow(int: v) }
            count += 1
        }

        mutating func addSlow(int v: Int64) {
            switch kind {
            case .int: ints.append(v)
            case .float:
                intRows.append((count, v))
                floats.append(Double(v))
            case .none:
                become(.int)
                ints.append(v)
            case .boxed: boxed.append(.int(v))
            case .bool, .string:
                box()
                boxed.append(.int(v))
            }
        }

        @inline(__always) mutating func add(float v: Double) {
            if kind == .float { floats.append(v) } else { addSlow(float: v) }
            count += 1
        }

        mutating func addSlow(float v: Double) {
            switch kind {
            case .float: floats.append(v)
            case .int:
                // The nulls are in row order: walk them beside the rows.
                var nextNull = 0
                intRows = []
                for (r, x) in ints.buffer.enumerated() {
                    if nextNull < nulls.count && Int(nulls[nextNull]) == r {
                        nextNull += 1
                        continue
                    }
                    intRows.append((r, x))
                }
                floats.reserve(count * 2)
                for x in ints.buffer { floats.append(Double(x)) }
                ints = Growable()
                kind = .float
                floats.append(v)
            case .none:
                become(.float)
                floats.append(v)
            case .boxed: boxed.append(.float(v))
            case .bool, .string:
                box()
                boxed.append(.float(v))
            }
        }

        mutating func add(bool v: Bool) {
            switch kind {
            case .bool: bools.append(v)
            case .none:
                become(.bool)
                bools.append(v)
            case .boxed: boxed.append(.bool(v))
            default:
                box()
                boxed.append(.bool(v))
            }
            count += 1
        }

        /// A string; `stable`: its bytes stay where they are (in the file, not in scratch),
        /// so the next row may compare against them.
        @inline(__always) mutating func add(string s: UnsafeBufferPointer<UInt8>, stable: Bool) {
            if kind == .string, let base = s.baseAddress {
                if let last = lastString, lastLength == s.count, JSONTableReader.equal(last, base, s.count) {
                    codes.append(lastCode)
                } else {
                    let c = dictionary.code(s)
                    codes.append(c)
                    (lastString, lastLength, lastCode) = (stable ? base : nil, s.count, c)
                }
                count += 1
                return
            }
            addSlow(string: s)
            count += 1
        }

        mutating func addSlow(string s: UnsafeBufferPointer<UInt8>) {
            switch kind {
            case .string: codes.append(dictionary.code(s))
            case .none:
                become(.string)
                codes.append(dictionary.code(s))
            case .boxed: boxed.append(.string(String(decoding: s, as: UTF8.self)))
            default:
                box()
                boxed.append(.string(String(decoding: s, as: UTF8.self)))
            }
        }

        mutating func add(value v: Value) {
            if kind != .boxed {
                if kind == .none { become(.boxed) } else { box() }
            }
            boxed.append(v)
            count += 1
        }
    }

    /// A chunk's parts, in one buffer that grows when a new key appears.
    final class PartList {
        private(set) var base: UnsafeMutablePointer<Part>
        private(set) var count = 0
        private var capacity = 16

        init() { base = UnsafeMutablePointer<Part>.allocate(capacity: capacity) }

        deinit {
            base.deinitialize(count: count)
            base.deallocate()
        }

        func append(_ p: Part) {
            if count == capacity {
                let grown = UnsafeMutablePointer<Part>.allocate(capacity: capacity * 2)
                grown.moveInitialize(from: base, count: count)
                base.deallocate()
                base = grown
                capacity *= 2
            }
            (base + count).initialize(to: p)
            count += 1
        }
    }

    /// One share of the file, parsed row by row into its own parts.
    struct Chunk {
        let p: UnsafePointer<UInt8>
        var i: Int
        let end: Int
        var keys = ByteDictionary()
        /// Keys read with no escape: their bytes in the file are their bytes in `keys`.
        var plainKeys: [Bool] = []
        let parts = PartList()
        var rowCount = 0
        var scratch: [UInt8] = []
        /// Bytes before this are checked to be UTF-8; bytes before `released` are given back.
        var checkedTo: Int
        var released: Int
        let release: ((Int, Int) -> Void)?

        init(_ p: UnsafePointer<UInt8>, from: Int, to: Int, release: ((Int, Int) -> Void)?) {
            self.p = p
            i = from
            end = to
            checkedTo = from
            released = from
            self.release = release
        }

        /// Checks the bytes to `target` (and a little beyond, a block at a time) are UTF-8,
        /// and gives back what is behind. A block ends where a character starts.
        mutating func checked(to target: Int) -> Bool {
            while checkedTo < min(target, end) {
                var e = min(end, checkedTo + (1 << 18))
                while e < end && p[e] & 0xC0 == 0x80 { e += 1 }
                if CSVReader.firstInvalidUTF8(UnsafeBufferPointer(start: p + checkedTo, count: e - checkedTo)) != nil { return false }
                checkedTo = e
            }
            if let release, i - released >= 1 << 23 {
                release(released, i)
                released = i
            }
            return true
        }

        /// Every row of the chunk; false when the bytes are not whole rows that end with it.
        /// In an array each row is followed by ',' except the file's last, which `]` and
        /// only spaces follow; so a chunk other than the last must end after a comma.
        mutating func rows(array: Bool, first: Bool, last: Bool) -> Bool {
            while true {
                i = JSONTableReader.skipSpace(p, i, end)
                // Rows are parsed before their bytes are checked; a fault fails the chunk
                // all the same, before any of it is used.
                if i >= checkedTo, !checked(to: i + 1) { return false }
                // Here a row may start: the file's last chunk may not end here, in an array.
                if i >= end { return !array || !last }
                if array && first && last && rowCount == 0 && p[i] == UInt8(ascii: "]") {
                    // An empty array: nothing may follow it.
                    return JSONTableReader.skipSpace(p, i + 1, end) == end
                }
                guard object() else { return false }
                guard array else { continue }
                i = JSONTableReader.skipSpace(p, i, end)
                guard i < end else { return false }
                if p[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                guard p[i] == UInt8(ascii: "]"), last else { return false }
                return JSONTableReader.skipSpace(p, i + 1, end) == end
            }
        }

        mutating func object() -> Bool {
            guard p[i] == UInt8(ascii: "{") else { return false }
            i = JSONTableReader.skipSpace(p, i + 1, end)
            guard i < end else { return false }
            let row = rowCount
            if p[i] == UInt8(ascii: "}") {
                i += 1
                rowCount += 1
                return true
            }
            var guess = 0
            while true {
                guard i < end, p[i] == UInt8(ascii: "\"") else { return false }
                guard let column = key(guess: guess) else { return false }
                let part = parts.base + column
                guard part.pointee.lastRow != row else { return false }
                part.pointee.lastRow = row
                part.pointee.pad(to: row)
                i = JSONTableReader.skipSpace(p, i, end)
                guard i < end, p[i] == UInt8(ascii: ":") else { return false }
                i = JSONTableReader.skipSpace(p, i + 1, end)
                guard i < end, value(into: part) else { return false }
                i = JSONTableReader.skipSpace(p, i, end)
                guard i < end else { return false }
                if p[i] == UInt8(ascii: ",") {
                    i = JSONTableReader.skipSpace(p, i + 1, end)
                    guess = column + 1
                    continue
                }
                guard p[i] == UInt8(ascii: "}") else { return false }
                i += 1
                rowCount += 1
                return true
            }
        }

        /// The column of the key at `i` (its opening quote), made on first sight. Rows
        /// mostly list their keys in one order, so the key after the last one is tried by
        /// its bytes, and the closing quote after them, before any scan or hash. Only a key
        /// read with no escape is tried so: it holds no quote or backslash, so the file's
        /// string ends exactly where its bytes do.
        mutating func key(guess: Int) -> Int? {
            if guess < plainKeys.count && plainKeys[guess] {
                let a = keys.offsets[guess], n = keys.offsets[guess + 1] - a
                if i + 1 + n < end && p[i + 1 + n] == UInt8(ascii: "\"") && keys.storage.withUnsafeBufferPointer({ k in
                    guard let kb = k.baseAddress else { return n == 0 }
                    return JSONTableReader.equal(kb + a, p + i + 1, n)
                }) {
                    i += n + 2
                    return guess
                }
            }
            guard let (s, e, escaped) = string() else { return nil }
            let c: UInt32
            if escaped { c = scratch.withUnsafeBufferPointer { keys.code($0) } } else {
                c = keys.code(UnsafeBufferPointer(start: p + s, count: e - s))
            }
            if Int(c) == parts.count {
                parts.append(Part(rows: rowCount))
                plainKeys.append(!escaped)
            }
            return Int(c)
        }

        /// The first byte at or after `k` that ends a string's plain run: a quote, a
        /// backslash or a control character. Eight bytes at a time: the lowest byte a
        /// test flags is always a true match (borrows only carry upwards).
        @inline(__always)
        func plainRun(from k: Int) -> Int {
            var k = k
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            while k + 8 <= end {
                let w = UnsafeRawPointer(p + k).loadUnaligned(as: UInt64.self)
                let q = w ^ (ones &* 0x22), b = w ^ (ones &* 0x5C)
                let m = ((q &- ones) & ~q | (b &- ones) & ~b | (w &- ones &* 0x20) & ~w) & highs
                if m != 0 { return k + m.trailingZeroBitCount >> 3 }
                k += 8
            }
            while k < end && p[k] != UInt8(ascii: "\"") && p[k] != UInt8(ascii: "\\") && p[k] >= 0x20 { k += 1 }
            return k
        }

        /// A string at `i` (its opening quote): its bytes' range when it has no escape,
        /// else its decoded bytes in `scratch` (`escaped` true). Moves past the closing quote.
        mutating func string() -> (Int, Int, Bool)? {
            let s = i + 1
            let k = plainRun(from: s)
            guard k < end else { return nil }
            if p[k] == UInt8(ascii: "\"") {
                i = k + 1
                return (s, k, false)
            }
            if p[k] < 0x20 { return nil }
            i = k
            return escapedString(from: s)
        }

        mutating func escapedString(from s: Int) -> (Int, Int, Bool)? {
            // The record reader decodes escapes; it reads just this string.
            var q = i
            while q < end {
                if p[q] == UInt8(ascii: "\\") { q += 2; continue }
                if p[q] == UInt8(ascii: "\"") { break }
                q += 1
            }
            guard q < end else { return nil }
            var r = JSONReader(Array(UnsafeBufferPointer(start: p + s - 1, count: q + 2 - s)))
            guard let decoded = try? r.parseString(), r.i == r.b.count else { return nil }
            scratch = Array(decoded.utf8)
            i = q + 1
            return (0, 0, true)
        }

        mutating func value(into part: UnsafeMutablePointer<Part>) -> Bool {
            let c = p[i]
            if c &- 48 <= 9 || c == UInt8(ascii: "-") { return number(into: part) }
            switch c {
            case UInt8(ascii: "\""):
                guard let (s, e, escaped) = string() else { return false }
                if escaped { scratch.withUnsafeBufferPointer { part.pointee.add(string: $0, stable: false) } } else {
                    part.pointee.add(string: UnsafeBufferPointer(start: p + s, count: e - s), stable: true)
                }
            case UInt8(ascii: "t"):
                guard literal("true") else { return false }
                part.pointee.add(bool: true)
            case UInt8(ascii: "f"):
                guard literal("false") else { return false }
                part.pointee.add(bool: false)
            case UInt8(ascii: "n"):
                guard literal("null") else { return false }
                part.pointee.addNull()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard let v = nested() else { return false }
                part.pointee.add(value: v)
            default: return false
            }
            return true
        }

        mutating func literal(_ w: StaticString) -> Bool {
            let n = w.utf8CodeUnitCount
            guard i + n <= end, memcmp(p + i, w.utf8Start, n) == 0 else { return false }
            i += n
            return true
        }

        /// Reads the ASCII digits from `k` into `value` (wrapping: the caller limits the
        /// count), eight bytes at a time where eight can be read.
        @inline(__always)
        func digits(_ k: inout Int, into value: inout Int64) {
            while k + 8 <= end {
                let (n, v) = CSVParser.leadingDigits(UnsafeRawPointer(p + k).loadUnaligned(as: UInt64.self))
                value = value &* Chunk.power(n) &+ Int64(v)
                k += n
                if n < 8 { return }
            }
            while k < end, p[k] &- 48 <= 9 {
                value = value &* 10 &+ Int64(p[k] &- 48)
                k += 1
            }
        }

        /// 10^n for n in 0...8 (a switch: a global table is a lazy global, checked on
        /// every access).
        @inline(__always) static func power(_ n: Int) -> Int64 {
            switch n {
            case 0: 1
            case 1: 10
            case 2: 100
            case 3: 1000
            case 4: 10000
            case 5: 100_000
            case 6: 1_000_000
            case 7: 10_000_000
            default: 100_000_000
            }
        }

        /// A byte the record reader scans as part of a number.
        @inline(__always) func inNumber(_ k: Int) -> Bool {
            guard k < end else { return false }
            let c = p[k]
            return c &- 48 <= 9 || c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
                || c == UInt8(ascii: "+") || c == UInt8(ascii: "-")
        }

        /// A number, converted to the value the record reader gives: an integer unless it
        /// has a fraction or exponent or overflows. Plain `-123` and `-123.45` (at most 15
        /// digits) are computed from their digits as they are scanned, exactly (one
        /// correctly rounded division); anything else is scanned and converted as the
        /// record reader does.
        mutating func number(into part: UnsafeMutablePointer<Part>) -> Bool {
            let s = i
            var k = i
            let negative = p[k] == UInt8(ascii: "-")
            if negative { k += 1 }
            let digitsStart = k
            var mantissa: Int64 = 0
            digits(&k, into: &mantissa)
            let whole = k - digitsStart
            if whole > 0 && whole <= 18 && !inNumber(k) {
                i = k
                part.pointee.add(int: negative ? -mantissa : mantissa)
                return true
            }
            if whole > 0 && k < end && p[k] == UInt8(ascii: ".") {
                var f = k + 1
                digits(&f, into: &mantissa)
                let fraction = f - k - 1
                if fraction > 0 && whole + fraction <= 15 && !inNumber(f) {
                    i = f
                    let v = Double(mantissa) / CSVParser.powerOfTen(fraction)
                    part.pointee.add(float: negative ? -v : v)
                    return true
                }
            }
            var isFloat = false
            k = negative ? s + 1 : s
            while inNumber(k) {
                if p[k] &- 48 > 9 { isFloat = true }
                k += 1
            }
            i = k
            let text = String(decoding: UnsafeBufferPointer(start: p + s, count: k - s), as: UTF8.self)
            if !isFloat, let v = Int64(text) {
                part.pointee.add(int: v)
                return true
            }
            // Past 64 bits: its digits, as text (the record reader's rule).
            if !isFloat, k - s > 1 || p[s] != UInt8(ascii: "-") {
                part.pointee.add(string: UnsafeBufferPointer(start: p + s, count: k - s), stable: true)
                return true
            }
            if let d = Double(text), d.isFinite {
                part.pointee.add(float: d)
                return true
            }
            return false
        }

        /// A list or object as a cell: its extent found by brackets outside strings, then
        /// read by the record reader into a value.
        mutating func nested() -> Value? {
            var depth = 0
            var q = i
            while q < end {
                let c = p[q]
                if c == UInt8(ascii: "\"") {
                    q += 1
                    while q < end && p[q] != UInt8(ascii: "\"") { q += p[q] == UInt8(ascii: "\\") ? 2 : 1 }
                } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                    depth += 1
                    if depth > JSONReader.maxDepth { return nil }
                } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 { break }
                }
                q += 1
            }
            guard q < end else { return nil }
            var r = JSONReader(Array(UnsafeBufferPointer(start: p + i, count: q + 1 - i)))
            guard let v = try? r.parseValue(), r.i == r.b.count else { return nil }
            i = q + 1
            return v
        }
    }
}
