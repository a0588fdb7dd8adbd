import Foundation

/// RFC 4180 CSV on bytes: quoted fields with commas, doubled quotes and newlines, CRLF or
/// LF, a UTF-8 BOM, a missing final newline. Column types are inferred from the values.
public struct CSVReader {
    public var delimiter: UInt8 = UInt8(ascii: ",")
    public var nullTokens: Set<String> = ["", "NULL"]
    public init() {}

    /// Parses `bytes` into a table; `name` is used in error messages (file:line).
    public func read(_ bytes: [UInt8], name: String) throws -> Table {
        try readWithLines(bytes, name: name).table
    }

    /// The table and the line each row starts on (for messages about rows).
    public func readWithLines(_ bytes: [UInt8], name: String) throws -> (table: Table, lines: [Int]) {
        var pos = 0
        let n = bytes.count
        if n >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { pos = 3 }
        // All field contents, unescaped, one after another; fields are (start, end) pairs.
        var buffer = [UInt8]()
        buffer.reserveCapacity(n)
        var records: [[(Int, Int)]] = []
        var lineOfRecord: [Int] = []
        var line = 1
        var fields: [(Int, Int)] = []
        var recordLine = 1
        while pos < n {
            // One field.
            let start = buffer.count
            if bytes[pos] == UInt8(ascii: "\"") {
                let quoteLine = line
                pos += 1
                var closed = false
                while pos < n {
                    let c = bytes[pos]
                    if c == UInt8(ascii: "\"") {
                        if pos + 1 < n && bytes[pos + 1] == UInt8(ascii: "\"") { buffer.append(c); pos += 2; continue }
                        pos += 1
                        closed = true
                        break
                    }
                    if c == UInt8(ascii: "\n") { line += 1 }
                    buffer.append(c)
                    pos += 1
                }
                if !closed {
                    throw Diagnostic.data(file: name, line: quoteLine, "unterminated quoted field", hints: ["a field that starts with \" must end with \"; write \"\" for a quote inside it"])
                }
                if pos < n, bytes[pos] != delimiter, bytes[pos] != UInt8(ascii: "\n"), bytes[pos] != UInt8(ascii: "\r") {
                    throw Diagnostic.data(file: name, line: line, "unexpected text after a closing quote", hints: ["quote the whole field, and write \"\" for a quote inside it"])
                }
            } else {
                while pos < n {
                    let c = bytes[pos]
                    if c == delimiter || c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") { break }
                    buffer.append(c)
                    pos += 1
                }
            }
            fields.append((start, buffer.count))
            if pos < n && bytes[pos] == delimiter {
                pos += 1
                if pos == n { fields.append((buffer.count, buffer.count)) }
                continue
            }
            // End of record.
            if pos < n && bytes[pos] == UInt8(ascii: "\r") { pos += 1 }
            if pos < n && bytes[pos] == UInt8(ascii: "\n") { pos += 1 }
            let isBlank = fields.count == 1 && fields[0].0 == fields[0].1
            if !isBlank {
                records.append(fields)
                lineOfRecord.append(recordLine)
            }
            fields.removeAll(keepingCapacity: true)
            line += 1
            recordLine = line
        }
        guard let header = records.first else { return (Table(names: [], columns: [], count: 0, name: nil), []) }
        var names = header.map { String(decoding: buffer[$0.0..<$0.1], as: UTF8.self).trimmingCharacters(in: .whitespaces) }
        for (i, nm) in names.enumerated() where nm.isEmpty { names[i] = "column\(i + 1)" }
        var seen: Set<String> = []
        for nm in names where !seen.insert(nm).inserted {
            throw Diagnostic.data(file: name, line: 1, "duplicate column name '\(nm)' in the header")
        }
        let width = names.count
        let rows = records.count - 1
        for r in 1..<max(1, records.count) where records[r].count != width {
            throw Diagnostic.data(file: name, line: lineOfRecord[r], "row has \(records[r].count) field\(records[r].count == 1 ? "" : "s"), expected \(width) (as in the header)",
                hints: ["quote fields that contain the delimiter: \"a, b\""])
        }
        if let bad = CSVReader.firstInvalidUTF8(bytes) {
            let line = 1 + bytes[..<bad].lazy.filter { $0 == UInt8(ascii: "\n") }.count
            throw Diagnostic.data(file: name, line: line, "invalid UTF-8 at byte offset \(bad)", hints: ["save the file as UTF-8"])
        }
        var columns: [Column] = []
        for c in 0..<width {
            var refs = [(Int, Int)]()
            refs.reserveCapacity(rows)
            for r in 0..<rows { refs.append(records[r + 1][c]) }
            columns.append(inferColumn(refs, buffer))
        }
        return (Table(names: names, columns: columns, count: rows, name: nil), Array(lineOfRecord.dropFirst()))
    }

    /// The offset of the first byte that is not part of valid UTF-8, or nil.
    static func firstInvalidUTF8(_ b: [UInt8]) -> Int? {
        var i = 0
        let n = b.count
        while i < n {
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            let len: Int
            if c >= 0xC2 && c <= 0xDF { len = 2 } else if c >= 0xE0 && c <= 0xEF { len = 3 } else if c >= 0xF0 && c <= 0xF4 { len = 4 } else { return i }
            guard i + len <= n else { return i }
            for k in 1..<len where b[i + k] & 0xC0 != 0x80 { return i }
            // Overlong and surrogate forms.
            if c == 0xE0 && b[i + 1] < 0xA0 { return i }
            if c == 0xED && b[i + 1] > 0x9F { return i }
            if c == 0xF0 && b[i + 1] < 0x90 { return i }
            if c == 0xF4 && b[i + 1] > 0x8F { return i }
            i += len
        }
        return nil
    }

    func isNull(_ f: (Int, Int), _ buf: [UInt8]) -> Bool {
        let len = f.1 - f.0
        if len == 0 { return nullTokens.contains("") }
        if len > 8 { return false }
        return nullTokens.contains(String(decoding: buf[f.0..<f.1], as: UTF8.self))
    }

    /// Picks the narrowest type every non-null value fits: int, float, bool, date, string.
    func inferColumn(_ refs: [(Int, Int)], _ buf: [UInt8]) -> Column {
        var canInt = true, canFloat = true, canBool = true, canDate = true
        var nulls = 0
        for f in refs where isNull(f, buf) { nulls += 1 }
        for f in refs {
            if isNull(f, buf) { continue }
            let s = buf[f.0..<f.1]
            if canInt && parseInt(s) == nil { canInt = false }
            if canFloat && !canInt && parseFloat(s) == nil { canFloat = false }
            if canBool && parseBool(s) == nil { canBool = false }
            if canDate && Calendar.parse(s) == nil { canDate = false }
            if !canInt && !canFloat && !canBool && !canDate { break }
        }
        var validity: Bitmap? = nil
        if nulls > 0 {
            var b = Bitmap(count: refs.count, allValid: true)
            for (i, f) in refs.enumerated() where isNull(f, buf) { b[i] = false }
            validity = b
        }
        if nulls == refs.count {
            return Column(storage: .values([Value](repeating: .null, count: refs.count)), validity: validity)
        }
        func valid(_ i: Int) -> Bool { validity?[i] ?? true }
        if canInt {
            return Column(storage: .int(refs.enumerated().map { valid($0.offset) ? parseInt(buf[$0.element.0..<$0.element.1]) ?? 0 : 0 }), validity: validity)
        }
        if canFloat {
            return Column(storage: .float(refs.enumerated().map { valid($0.offset) ? parseFloat(buf[$0.element.0..<$0.element.1]) ?? 0 : 0 }), validity: validity)
        }
        if canBool {
            return Column(storage: .bool(refs.enumerated().map { valid($0.offset) ? parseBool(buf[$0.element.0..<$0.element.1]) ?? false : false }), validity: validity)
        }
        if canDate {
            return Column(storage: .date(refs.enumerated().map { valid($0.offset) ? Calendar.parse(buf[$0.element.0..<$0.element.1]) ?? 0 : 0 }), validity: validity)
        }
        var dict: [String] = []
        var lookup: [ArraySlice<UInt8>: UInt32] = [:]
        var codes = [UInt32]()
        codes.reserveCapacity(refs.count)
        for (i, f) in refs.enumerated() {
            guard valid(i) else { codes.append(0); continue }
            let s = buf[f.0..<f.1]
            if let c = lookup[s] { codes.append(c); continue }
            let c = UInt32(dict.count)
            lookup[s] = c
            dict.append(String(decoding: s, as: UTF8.self))
            codes.append(c)
        }
        if dict.isEmpty { dict.append("") }
        return Column(storage: .string(StringColumn(codes: codes, dictionary: dict)), validity: validity)
    }

    /// An integer without a leading zero (so zip codes like 08123 stay strings).
    func parseInt(_ s: ArraySlice<UInt8>) -> Int64? {
        var i = s.startIndex
        var neg = false
        if i < s.endIndex && (s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+")) { neg = s[i] == UInt8(ascii: "-"); i += 1 }
        guard i < s.endIndex else { return nil }
        if s[i] == UInt8(ascii: "0") && s.endIndex - i > 1 { return nil }
        var v: Int64 = 0
        while i < s.endIndex {
            let c = s[i]
            guard c >= 48 && c <= 57 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(c - 48))
            if o1 || o2 { return nil }
            v = a
            i += 1
        }
        return neg ? -v : v
    }

    func parseFloat(_ s: ArraySlice<UInt8>) -> Double? {
        guard !s.isEmpty, s.count < 64 else { return nil }
        // Digits, one '.', an exponent: reject "inf", "nan", hex and leading-zero integers.
        var sawDigit = false
        var i = s.startIndex
        if s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+") { i += 1 }
        let intStart = i
        while i < s.endIndex && s[i] >= 48 && s[i] <= 57 { i += 1; sawDigit = true }
        if i - intStart > 1 && s[intStart] == UInt8(ascii: "0") { return nil }
        if i < s.endIndex && s[i] == UInt8(ascii: ".") {
            i += 1
            while i < s.endIndex && s[i] >= 48 && s[i] <= 57 { i += 1; sawDigit = true }
        }
        guard sawDigit else { return nil }
        if i < s.endIndex && (s[i] == UInt8(ascii: "e") || s[i] == UInt8(ascii: "E")) {
            i += 1
            if i < s.endIndex && (s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+")) { i += 1 }
            var expDigit = false
            while i < s.endIndex && s[i] >= 48 && s[i] <= 57 { i += 1; expDigit = true }
            guard expDigit else { return nil }
        }
        guard i == s.endIndex else { return nil }
        guard let d = Double(String(decoding: s, as: UTF8.self)), d.isFinite else { return nil }
        return d
    }

    func parseBool(_ s: ArraySlice<UInt8>) -> Bool? {
        switch s.count {
        case 4: return s.elementsEqual("true".utf8) || s.elementsEqual("TRUE".utf8) || s.elementsEqual("True".utf8) ? true : nil
        case 5: return s.elementsEqual("false".utf8) || s.elementsEqual("FALSE".utf8) || s.elementsEqual("False".utf8) ? false : nil
        default: return nil
        }
    }
}

/// Reading a table from a file by its extension.
public enum TableReader {
    /// A path as written in a script: relative to the script's directory.
    public static func resolve(_ path: String, relativeTo scriptName: String) -> String {
        if path.hasPrefix("/") || scriptName.hasPrefix("<") { return path }
        let dir = (scriptName as NSString).deletingLastPathComponent
        return dir.isEmpty ? path : dir + "/" + path
    }

    public static func readFile(_ path: String, relativeTo scriptName: String) throws -> Table {
        let full = resolve(path, relativeTo: scriptName)
        let (t, _) = try DatasetLoader.readFile(full, nulls: nil)
        t.name = DatasetLoader.entityName(((path as NSString).lastPathComponent as NSString).deletingPathExtension)
        return t
    }
}
