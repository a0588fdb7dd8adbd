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

    /// `validated`: the caller has checked the bytes are UTF-8. `smallest`: the size below
    /// which a file is not split (tests split tiny files to try every cut).
    public static func read(_ bytes: UnsafeBufferPointer<UInt8>, validated: Bool = false,
                            cores: Int = ProcessInfo.processInfo.activeProcessorCount,
                            smallest: Int = parallelThreshold) -> Table? {
        guard let base = bytes.baseAddress else { return Table(names: [], columns: [], count: 0) }
        if !validated && CSVReader.firstInvalidUTF8(bytes) != nil { return nil }
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
        for k in 1..<max(1, pieces) {
            var c = max(cuts[cuts.count - 1], start + (n - start) / pieces * k)
            while c < n && base[c] != 10 { c += 1 }
            if c < n && c + 1 > cuts[cuts.count - 1] { cuts.append(c + 1) }
        }
        cuts.append(n)
        if cuts.count > 2, let t = parse(base, cuts: cuts, array: array) { return t }
        return parse(base, cuts: [start, n], array: array)
    }

    static func parse(_ base: UnsafePointer<UInt8>, cuts: [Int], array: Bool) -> Table? {
        let count = cuts.count - 1
        var chunks = [Chunk?](repeating: nil, count: count)
        chunks.withUnsafeMutableBufferPointer { out in
            parallelFor(count) { k in
                var c = Chunk(base, from: cuts[k], to: cuts[k + 1])
                out[k] = c.rows(array: array, first: k == 0, last: k == count - 1) ? c : nil
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
        var partsOf = [[Part?]](repeating: [Part?](repeating: nil, count: chunks.count), count: names.count)
        for (k, c) in chunks.enumerated() {
            for (local, global) in columnsOf[k].enumerated() {
                let part = c.parts[local]
                part.pad(to: c.rowCount)
                partsOf[global][k] = part
            }
        }
        let rows = chunks.map(\.rowCount)
        var columns = [Column](repeating: Column(storage: .int([])), count: names.count)
        let workers = max(1, min(names.count, ProcessInfo.processInfo.activeProcessorCount))
        columns.withUnsafeMutableBufferPointer { out in
            parallelFor(workers) { w in
                var g = w
                while g < out.count {
                    out[g] = column(partsOf[g], rows: rows, total: total)
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
                for r in p.nulls { validity[offset + r] = false }
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
                case .float?: out.append(contentsOf: p?.floats ?? [])
                case .int?: out.append(contentsOf: (p?.ints ?? []).lazy.map { Double($0) })
                default: out.append(contentsOf: repeatElement(0, count: rows[k]))
                }
            }
            return Column(storage: .float(out), validity: valid)
        case .int:
            var out: [Int64] = []
            out.reserveCapacity(total)
            for (k, p) in parts.enumerated() {
                if let p, p.kind == .int { out.append(contentsOf: p.ints) } else { out.append(contentsOf: repeatElement(0, count: rows[k])) }
            }
            return Column(storage: .int(out), validity: valid)
        case .bool:
            var out: [Bool] = []
            out.reserveCapacity(total)
            for (k, p) in parts.enumerated() {
                if let p, p.kind == .bool { out.append(contentsOf: p.bools) } else { out.append(contentsOf: repeatElement(false, count: rows[k])) }
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
                codes.append(contentsOf: p.codes.lazy.map { remap[Int($0)] })
                // A null row's code is 0, as Column.from gives it.
                if !p.nulls.isEmpty {
                    let first = codes.count - p.codes.count
                    for r in p.nulls { codes[first + r] = 0 }
                }
            }
            let strings = dictionary.strings()
            return Column(storage: .string(StringColumn(codes: codes, dictionary: strings.isEmpty ? [""] : strings)), validity: valid)
        }
    }

    /// The values of one key in one chunk, typed as far as they allow.
    final class Part {
        enum Kind: Hashable { case none, int, float, bool, string, boxed }
        var kind = Kind.none
        /// Rows so far, nulls included.
        var count = 0
        var nulls: [Int] = []
        var ints: [Int64] = []
        var floats: [Double] = []
        /// In a float part: the rows written as integers, with their values, so that boxing
        /// the part later gives them back as integers (Column.from keeps a mixed column's
        /// values as they were written).
        var intRows: [(Int, Int64)] = []
        var bools: [Bool] = []
        var codes: [UInt32] = []
        var dictionary = ByteDictionary()
        var boxed: [Value] = []
        /// The last row a value was written for: a key twice in one object is left to the
        /// record reader.
        var lastRow = -1

        init(rows: Int) { pad(to: rows) }

        func pad(to rows: Int) {
            while count < rows { addNull() }
        }

        func addNull() {
            nulls.append(count)
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
        func become(_ k: Kind) {
            kind = k
            switch k {
            case .int: ints = [Int64](repeating: 0, count: count)
            case .float: floats = [Double](repeating: 0, count: count)
            case .bool: bools = [Bool](repeating: false, count: count)
            case .string: codes = [UInt32](repeating: 0, count: count)
            case .boxed: boxed = [Value](repeating: .null, count: count)
            case .none: break
            }
        }

        func boxedValues() -> [Value] {
            if kind == .boxed { return boxed }
            var out = [Value](repeating: .null, count: count)
            switch kind {
            case .int: for r in 0..<count { out[r] = .int(ints[r]) }
            case .float:
                for r in 0..<count { out[r] = .float(floats[r]) }
                for (r, v) in intRows { out[r] = .int(v) }
            case .bool: for r in 0..<count { out[r] = .bool(bools[r]) }
            case .string:
                let strings = dictionary.strings()
                for r in 0..<count { out[r] = .string(strings[Int(codes[r])]) }
            case .none, .boxed: break
            }
            for r in nulls { out[r] = .null }
            return out
        }

        func box() {
            boxed = boxedValues()
            kind = .boxed
            ints = []
            floats = []
            intRows = []
            bools = []
            codes = []
        }

        func add(int v: Int64) {
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
            count += 1
        }

        func add(float v: Double) {
            switch kind {
            case .float: floats.append(v)
            case .int:
                // The nulls are in row order: walk them beside the rows.
                var nextNull = 0
                intRows = []
                for (r, x) in ints.enumerated() {
                    if nextNull < nulls.count && nulls[nextNull] == r {
                        nextNull += 1
                        continue
                    }
                    intRows.append((r, x))
                }
                floats = ints.map { Double($0) }
                ints = []
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
            count += 1
        }

        func add(bool v: Bool) {
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

        func add(string s: UnsafeBufferPointer<UInt8>) {
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
            count += 1
        }

        func add(value v: Value) {
            if kind != .boxed {
                if kind == .none { become(.boxed) } else { box() }
            }
            boxed.append(v)
            count += 1
        }
    }

    /// One share of the file, parsed row by row into its own parts.
    struct Chunk {
        let p: UnsafePointer<UInt8>
        var i: Int
        let end: Int
        var keys = ByteDictionary()
        var parts: [Part] = []
        var rowCount = 0
        var scratch: [UInt8] = []

        init(_ p: UnsafePointer<UInt8>, from: Int, to: Int) {
            self.p = p
            i = from
            end = to
        }

        /// Every row of the chunk; false when the bytes are not whole rows that end with it.
        /// In an array each row is followed by ',' except the file's last, which `]` and
        /// only spaces follow; so a chunk other than the last must end after a comma.
        mutating func rows(array: Bool, first: Bool, last: Bool) -> Bool {
            while true {
                i = JSONTableReader.skipSpace(p, i, end)
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
            i += 1
            i = JSONTableReader.skipSpace(p, i, end)
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
                let part = parts[column]
                guard part.lastRow != row else { return false }
                part.lastRow = row
                part.pad(to: row)
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
        /// its bytes before any hashing.
        mutating func key(guess: Int) -> Int? {
            guard let (s, e, escaped) = string() else { return nil }
            if escaped {
                let c = scratch.withUnsafeBufferPointer { keys.code($0) }
                return column(Int(c))
            }
            let bytes = UnsafeBufferPointer(start: p + s, count: e - s)
            if guess < keys.count {
                let a = keys.offsets[guess], b = keys.offsets[guess + 1]
                if b - a == e - s && keys.storage.withUnsafeBufferPointer({ k in
                    guard let kb = k.baseAddress else { return e == s }
                    return memcmp(kb + a, p + s, e - s) == 0
                }) {
                    return guess
                }
            }
            return column(Int(keys.code(bytes)))
        }

        mutating func column(_ c: Int) -> Int {
            if c == parts.count { parts.append(Part(rows: rowCount)) }
            return c
        }

        /// A string at `i` (its opening quote): its bytes' range when it has no escape,
        /// else its decoded bytes in `scratch` (`escaped` true). Moves past the closing quote.
        mutating func string() -> (Int, Int, Bool)? {
            i += 1
            let s = i
            while i < end {
                let c = p[i]
                if c == UInt8(ascii: "\"") {
                    i += 1
                    return (s, i - 1, false)
                }
                if c == UInt8(ascii: "\\") { return escapedString(from: s) }
                if c < 0x20 { return nil }
                i += 1
            }
            return nil
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

        mutating func value(into part: Part) -> Bool {
            let c = p[i]
            switch c {
            case UInt8(ascii: "\""):
                guard let (s, e, escaped) = string() else { return false }
                if escaped { scratch.withUnsafeBufferPointer { part.add(string: $0) } } else {
                    part.add(string: UnsafeBufferPointer(start: p + s, count: e - s))
                }
            case UInt8(ascii: "t"):
                guard literal("true") else { return false }
                part.add(bool: true)
            case UInt8(ascii: "f"):
                guard literal("false") else { return false }
                part.add(bool: false)
            case UInt8(ascii: "n"):
                guard literal("null") else { return false }
                part.addNull()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard let v = nested() else { return false }
                part.add(value: v)
            default:
                guard c == UInt8(ascii: "-") || (c >= 48 && c <= 57) else { return false }
                return number(into: part)
            }
            return true
        }

        mutating func literal(_ w: StaticString) -> Bool {
            let n = w.utf8CodeUnitCount
            guard i + n <= end, memcmp(p + i, w.utf8Start, n) == 0 else { return false }
            i += n
            return true
        }

        /// A number, scanned over the same bytes as the record reader's and converted to the
        /// same value: an integer unless it has a fraction or exponent or overflows.
        mutating func number(into part: Part) -> Bool {
            let s = i
            var isFloat = false
            var digits = 0
            if p[i] == UInt8(ascii: "-") { i += 1 }
            while i < end {
                let c = p[i]
                if c &- 48 <= 9 {
                    digits += 1
                    i += 1
                    continue
                }
                if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                    isFloat = true
                    i += 1
                    continue
                }
                break
            }
            let text = UnsafeBufferPointer(start: p + s, count: i - s)
            if !isFloat {
                if digits > 0 && digits <= 18 {
                    var v: Int64 = 0
                    for k in (p[s] == UInt8(ascii: "-") ? s + 1 : s)..<i { v = v * 10 + Int64(p[k] - 48) }
                    part.add(int: p[s] == UInt8(ascii: "-") ? -v : v)
                    return true
                }
                if let v = Int64(String(decoding: text, as: UTF8.self)) {
                    part.add(int: v)
                    return true
                }
            }
            if let d = CSVParser.parseDouble(text) ?? Double(String(decoding: text, as: UTF8.self)), d.isFinite {
                part.add(float: d)
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
