import KamSyntax

/// TOML 1.0 (https://toml.io/en/v1.0.0), as manifests are written in it: tables, arrays of
/// tables, dotted keys, inline tables, the four kinds of strings, integers (decimal, hex,
/// octal, binary), floats, booleans, arrays, dates and date-times. Returns a kam record,
/// plus the line each key was set on and where each plain string starts, for messages.
///
/// Values are kam's: a date-time is its date (the time of day dropped, as in a CSV), a
/// local time is a string, and `inf` and `nan`, which kam has no numbers for, are errors.
/// The rules on defining a table once (a header, dotted keys, an inline table that is
/// complete as written) follow the specification; the toml-test cases that apply run in
/// the test suite.
public struct TOMLReader {
    public struct Failure: Error {
        public var message: String
        public var line: Int
    }

    public let b: [UInt8]
    public var i = 0
    public var line = 1
    public private(set) var keyLines: [String: Int] = [:]
    /// The byte offset where each key's string value starts in the text, for a string
    /// written as is (no escapes, one line): kam expressions in a manifest point their
    /// errors there.
    public private(set) var stringOffsets: [String: Int] = [:]
    var lastStringStart = 0
    var lastStringEscaped = false
    /// Arrays and inline tables nest at most this deep, and keys have at most this many
    /// parts: the reader, and what reads its result, recurse.
    public static let maxDepth = 128
    var depth = 0

    public init(_ text: String) { b = Array(text.utf8) }
    public init(bytes: [UInt8]) { b = bytes }

    // MARK: the document

    /// A table as it is built: its keys in order, and how it came to be.
    final class Table {
        var keys: [String] = []
        var values: [String: Node] = [:]
        /// Declared by a [header], or by dotted keys in an earlier section: no header may
        /// declare it again, and no dotted key may add to it from another section.
        var explicit = false
        /// An inline table, or a table inside one: complete as written.
        var frozen = false
        /// Made by dotted keys in the current section.
        var dotted = false
    }

    enum Node {
        case value(Value)
        case table(Table)
        /// An array of tables ([[name]]); `fixed` for an array written as a value.
        case tables([Table], fixed: Bool)
        case array([Node])
    }

    func fail(_ message: String) -> Failure { Failure(message: message, line: line) }

    public mutating func parse() throws(Failure) -> Record {
        if let bad = TOMLReader.firstInvalidUTF8(b) {
            line = 1 + b[..<bad].lazy.filter { $0 == 0x0A }.count
            throw fail("invalid UTF-8 at byte offset \(bad)")
        }
        if b.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
        let root = Table()
        var current = root
        var path: [String] = []
        var dottedHere: [Table] = []
        while true {
            try skipWhitespaceAndNewlines()
            guard i < b.count else { break }
            if b[i] == UInt8(ascii: "[") {
                // A new section: the tables dotted keys made in the last one are now defined.
                for t in dottedHere { t.explicit = true; t.dotted = false }
                dottedHere = []
                let headerLine = line
                let array = i + 1 < b.count && b[i + 1] == UInt8(ascii: "[")
                i += array ? 2 : 1
                skipWhitespace()
                let key = try dottedKey()
                skipWhitespace()
                guard i < b.count, b[i] == UInt8(ascii: "]") else { throw fail("expected ']' after the table name") }
                i += 1
                if array {
                    guard i < b.count, b[i] == UInt8(ascii: "]") else { throw fail("expected ']]' after the table name") }
                    i += 1
                }
                current = array ? try arrayTable(root, key) : try headerTable(root, key)
                try endOfLine()
                path = key
                for k in 0..<key.count { keyLines[key[0...k].joined(separator: "."), default: headerLine] = headerLine }
                continue
            }
            try keyValue(into: current, under: path, made: &dottedHere, where: "after the key")
            try endOfLine()
        }
        return TOMLReader.record(root)
    }

    /// `key = value` into `table`, whose own key is `base` (for the lines and offsets).
    mutating func keyValue(into table: Table, under base: [String], made: inout [Table], where context: String) throws(Failure) {
        let keyLine = line
        let key = try dottedKey()
        skipWhitespace()
        guard i < b.count, b[i] == UInt8(ascii: "=") else { throw fail("expected '=' \(context)") }
        i += 1
        skipWhitespace()
        let dotted = base + key
        let value = try parseValue(dotted)
        try assign(table, key, value, made: &made)
        keyLines[dotted.joined(separator: "."), default: keyLine] = keyLine
    }

    /// The table a [header] opens: it may exist only as a table made on the way to another.
    func headerTable(_ root: Table, _ key: [String]) throws(Failure) -> Table {
        let parent = try walk(root, key.dropLast())
        let last = key[key.count - 1]
        switch parent.values[last] {
        case nil:
            let t = Table()
            t.explicit = true
            add(parent, last, .table(t))
            return t
        case .table(let t)?:
            if t.explicit || t.frozen || t.dotted { throw fail("table '\(key.joined(separator: "."))' is defined twice") }
            t.explicit = true
            return t
        default:
            throw fail("'\(key.joined(separator: "."))' is already a value, not a table")
        }
    }

    /// A new table at the end of the array [[header]] names.
    func arrayTable(_ root: Table, _ key: [String]) throws(Failure) -> Table {
        let parent = try walk(root, key.dropLast())
        let last = key[key.count - 1]
        let t = Table()
        t.explicit = true
        switch parent.values[last] {
        case nil:
            add(parent, last, .tables([t], fixed: false))
        case .tables(var items, false)?:
            items.append(t)
            parent.values[last] = .tables(items, fixed: false)
        default:
            throw fail("'\(key.joined(separator: "."))' is not an array of tables")
        }
        return t
    }

    /// Down the tables of a header's name, making those that are missing; an array of
    /// tables leads to its last table.
    func walk(_ root: Table, _ keys: ArraySlice<String>) throws(Failure) -> Table {
        var t = root
        for k in keys {
            switch t.values[k] {
            case nil:
                let n = Table()
                add(t, k, .table(n))
                t = n
            case .table(let n)?:
                if n.frozen { throw fail("'\(k)' is an inline table, complete as written") }
                t = n
            case .tables(let items, false)?:
                guard let lastTable = items.last else { throw fail("'\(k)' is an empty array") }
                t = lastTable
            default:
                throw fail("'\(k)' is a value, not a table")
            }
        }
        return t
    }

    /// `a.b.c = value` in `table`: the dotted parts are tables made (or extended) here.
    func assign(_ table: Table, _ key: [String], _ value: Node, made: inout [Table]) throws(Failure) {
        var t = table
        for k in key.dropLast() {
            switch t.values[k] {
            case nil:
                let n = Table()
                n.dotted = true
                add(t, k, .table(n))
                made.append(n)
                t = n
            case .table(let n)?:
                if n.frozen { throw fail("'\(k)' is an inline table, complete as written") }
                if n.explicit && !n.dotted { throw fail("table '\(k)' is defined elsewhere; dotted keys cannot add to it") }
                t = n
            default:
                throw fail("'\(k)' is a value, not a table")
            }
        }
        let last = key[key.count - 1]
        if t.frozen { throw fail("an inline table is complete as written") }
        guard t.values[last] == nil else { throw fail("key '\(key.joined(separator: "."))' is set twice") }
        add(t, last, value)
    }

    func add(_ t: Table, _ key: String, _ node: Node) {
        t.keys.append(key)
        t.values[key] = node
    }

    static func record(_ t: Table) -> Record {
        var r = Record()
        for k in t.keys { if let n = t.values[k] { r.set(k, value(n)) } }
        return r
    }

    static func value(_ n: Node) -> Value {
        switch n {
        case .value(let v): return v
        case .table(let t): return .record(record(t))
        case .tables(let ts, _): return .list(ts.map { .record(record($0)) })
        case .array(let xs): return .list(xs.map(value))
        }
    }

    // MARK: lexical

    public mutating func skipWhitespace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
    }

    /// A comment, to the end of the line; control characters other than tab are errors.
    mutating func skipComment() throws(Failure) {
        guard i < b.count, b[i] == UInt8(ascii: "#") else { return }
        while i < b.count, b[i] != 0x0A {
            if b[i] == 0x0D, i + 1 < b.count, b[i + 1] == 0x0A { return }
            if TOMLReader.isControl(b[i]) { throw fail("control character \(TOMLReader.hex(b[i])) in a comment") }
            i += 1
        }
    }

    mutating func newline() throws(Failure) -> Bool {
        guard i < b.count else { return false }
        if b[i] == 0x0A { i += 1; line += 1; return true }
        if b[i] == 0x0D {
            guard i + 1 < b.count, b[i + 1] == 0x0A else { throw fail("a carriage return must be followed by a newline") }
            i += 2
            line += 1
            return true
        }
        return false
    }

    mutating func skipWhitespaceAndNewlines() throws(Failure) {
        while i < b.count {
            skipWhitespace()
            try skipComment()
            if try !newline() { return }
        }
    }

    public mutating func endOfLine() throws(Failure) {
        skipWhitespace()
        try skipComment()
        if i >= b.count { return }
        guard try newline() else { throw fail("unexpected text after the value") }
    }

    static func isControl(_ c: UInt8) -> Bool { (c < 0x20 && c != 0x09) || c == 0x7F }
    static func hex(_ c: UInt8) -> String {
        let h = String(c, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: 4 - h.count) + h
    }

    public func isBare(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
    }

    /// `a.b."c d"`: bare or quoted parts (one-line strings), separated by dots.
    public mutating func dottedKey() throws(Failure) -> [String] {
        var parts: [String] = []
        while true {
            skipWhitespace()
            guard i < b.count else { throw fail("unexpected end of file in a key") }
            if b[i] == UInt8(ascii: "\"") || b[i] == UInt8(ascii: "'") {
                if i + 2 < b.count, b[i + 1] == b[i], b[i + 2] == b[i] { throw fail("a key cannot be a multi-line string") }
                parts.append(try basicString())
            } else {
                let start = i
                while i < b.count, isBare(b[i]) { i += 1 }
                guard i > start else { throw fail("expected a key") }
                parts.append(String(decoding: b[start..<i], as: UTF8.self))
            }
            skipWhitespace()
            if i < b.count && b[i] == UInt8(ascii: ".") {
                guard parts.count < TOMLReader.maxDepth else { throw fail("a key of more than \(TOMLReader.maxDepth) parts") }
                i += 1
                continue
            }
            return parts
        }
    }

    /// A string: basic ("..." with escapes), literal ('...'), or their multi-line forms
    /// (triple quotes; a newline right after the opening quotes is dropped, and in a basic
    /// one a backslash at the end of a line joins it to the next).
    public mutating func basicString() throws(Failure) -> String {
        let quote = b[i]
        let basic = quote == UInt8(ascii: "\"")
        let multi = i + 2 < b.count && b[i + 1] == quote && b[i + 2] == quote
        let opened = line
        i += multi ? 3 : 1
        if multi { _ = try newline() }
        lastStringStart = i
        var out: [UInt8] = []
        var escaped = false
        while true {
            guard i < b.count else { throw fail("unterminated string (opened on line \(opened))") }
            let c = b[i]
            if c == quote {
                if !multi { break }
                if i + 2 < b.count && b[i + 1] == quote && b[i + 2] == quote {
                    // Up to two quotes right before the closing three belong to the string.
                    var extra = 0
                    while extra < 2 && i + 3 + extra < b.count && b[i + 3 + extra] == quote { extra += 1 }
                    out.append(contentsOf: [UInt8](repeating: quote, count: extra))
                    i += extra
                    break
                }
                out.append(c)
                i += 1
                continue
            }
            if c == 0x0A || c == 0x0D {
                guard multi else { throw fail("unterminated string") }
                _ = try newline()
                out.append(0x0A)
                continue
            }
            if TOMLReader.isControl(c) { throw fail("control character \(TOMLReader.hex(c)) in a string; write it as an escape") }
            if basic && c == UInt8(ascii: "\\") {
                escaped = true
                guard i + 1 < b.count else { throw fail("unterminated string") }
                i += 1
                let e = b[i]
                switch e {
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(e)
                case UInt8(ascii: "u"), UInt8(ascii: "U"):
                    let n = e == UInt8(ascii: "u") ? 4 : 8
                    guard i + n < b.count, b[(i + 1)...(i + n)].allSatisfy({ TOMLReader.isHex($0) }),
                        let code = UInt32(String(decoding: b[(i + 1)...(i + n)], as: UTF8.self), radix: 16),
                        let scalar = Unicode.Scalar(code)
                    else {
                        throw fail("invalid \\\(e == UInt8(ascii: "u") ? "u" : "U") escape: it needs \(n) hex digits of a Unicode scalar")
                    }
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    i += n
                case 0x20, 0x09, 0x0D, 0x0A:
                    // A line-ending backslash (multi-line strings only): drop the newline
                    // and the whitespace after it.
                    guard multi else { throw fail("a backslash before the end of a line joins lines only in a multi-line string (\"\"\"...\"\"\")") }
                    skipWhitespace()
                    guard try newline() else { throw fail("invalid escape '\\ ' in a string") }
                    while i < b.count {
                        skipWhitespace()
                        if try !newline() { break }
                    }
                    continue
                default:
                    throw fail("invalid escape '\\\(String(decoding: [e], as: UTF8.self))' in a string")
                }
                i += 1
                continue
            }
            out.append(c)
            i += 1
        }
        i += multi ? 3 : 1
        lastStringEscaped = escaped
        return String(decoding: out, as: UTF8.self)
    }

    static func isHex(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)
    }

    // MARK: values

    mutating func parseValue(_ dotted: [String]) throws(Failure) -> Node {
        guard i < b.count else { throw fail("expected a value") }
        guard depth < TOMLReader.maxDepth, dotted.count < TOMLReader.maxDepth else {
            throw fail("values nest deeper than \(TOMLReader.maxDepth) levels")
        }
        depth += 1
        defer { depth -= 1 }
        let c = b[i]
        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
            let s = try basicString()
            if !lastStringEscaped { stringOffsets[dotted.joined(separator: ".")] = lastStringStart }
            return .value(.string(s))
        }
        if c == UInt8(ascii: "[") {
            i += 1
            var items: [Node] = []
            while true {
                try skipWhitespaceAndNewlines()
                guard i < b.count else { throw fail("unterminated array") }
                if b[i] == UInt8(ascii: "]") { i += 1; break }
                items.append(try parseValue(dotted + ["[]"]))
                try skipWhitespaceAndNewlines()
                guard i < b.count else { throw fail("unterminated array") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                guard b[i] == UInt8(ascii: "]") else { throw fail("expected ',' or ']' in an array") }
            }
            // An array of inline tables is a value: [[name]] cannot add to it.
            if !items.isEmpty, items.allSatisfy({ if case .table = $0 { true } else { false } }) {
                return .tables(items.compactMap { if case .table(let t) = $0 { t } else { nil } }, fixed: true)
            }
            return .array(items)
        }
        if c == UInt8(ascii: "{") {
            i += 1
            let t = Table()
            var made: [Table] = []
            skipWhitespace()
            if i < b.count, b[i] == UInt8(ascii: "}") {
                i += 1
                t.frozen = true
                return .table(t)
            }
            while true {
                skipWhitespace()
                try keyValue(into: t, under: dotted, made: &made, where: "in an inline table")
                skipWhitespace()
                guard i < b.count else { throw fail("unterminated inline table") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                guard b[i] == UInt8(ascii: "}") else { throw fail("expected ',' or '}' in an inline table (on one line)") }
                i += 1
                break
            }
            TOMLReader.freeze(t)
            return .table(t)
        }
        return .value(try scalar())
    }

    static func freeze(_ t: Table) {
        t.frozen = true
        for n in t.values.values {
            switch n {
            case .table(let inner): freeze(inner)
            case .tables(let ts, _): ts.forEach(freeze)
            case .array(let xs): for case .table(let inner) in xs { freeze(inner) }
            case .value: break
            }
        }
    }

    /// A boolean, number, date, date-time or time: the bare text up to a delimiter.
    mutating func scalar() throws(Failure) -> Value {
        let start = i
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: ",") || c == UInt8(ascii: "]") || c == UInt8(ascii: "}") || c == UInt8(ascii: "#") || c == 0x0A || c == 0x0D || c == 0x09 { break }
            if c == 0x20 {
                // A date and a time may be separated by one space.
                let soFar = b[start..<i]
                if soFar.count == 10, TOMLReader.isDate(soFar), i + 3 < b.count, TOMLReader.isDigit(b[i + 1]), TOMLReader.isDigit(b[i + 2]), b[i + 3] == UInt8(ascii: ":") {
                    i += 1
                    continue
                }
                break
            }
            i += 1
        }
        let text = Array(b[start..<i])
        let s = String(decoding: text, as: UTF8.self)
        guard !text.isEmpty else { throw fail("expected a value") }
        if s == "true" { return .bool(true) }
        if s == "false" { return .bool(false) }
        if ["inf", "+inf", "-inf", "nan", "+nan", "-nan"].contains(s) {
            throw fail("'\(s)' is not a number kam can hold")
        }
        if let v = try integer(text) { return .int(v) }
        if let d = float(text) { return .float(d) }
        if let d = try dateTime(text) { return d }
        throw fail("cannot read value '\(s)'")
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    /// Digits with single underscores between them.
    static func digits(_ s: ArraySlice<UInt8>, _ ok: (UInt8) -> Bool) -> String? {
        guard let first = s.first, let last = s.last, ok(first), ok(last) else { return nil }
        var out = ""
        var previousUnderscore = false
        for c in s {
            if c == UInt8(ascii: "_") {
                if previousUnderscore { return nil }
                previousUnderscore = true
                continue
            }
            guard ok(c) else { return nil }
            previousUnderscore = false
            out.append(Character(Unicode.Scalar(c)))
        }
        return out
    }

    func integer(_ t: [UInt8]) throws(Failure) -> Int64? {
        var s = t[...]
        if s.count > 2, s.first == UInt8(ascii: "0"), let p = s.dropFirst().first, [UInt8(ascii: "x"), UInt8(ascii: "o"), UInt8(ascii: "b")].contains(p) {
            let radix: Int
            let ok: (UInt8) -> Bool
            switch p {
            case UInt8(ascii: "x"): radix = 16; ok = TOMLReader.isHex
            case UInt8(ascii: "o"): radix = 8; ok = { c in c >= 48 && c <= 55 }
            default: radix = 2; ok = { c in c == 48 || c == 49 }
            }
            guard let d = TOMLReader.digits(s.dropFirst(2), ok) else { return nil }
            guard let v = Int64(d, radix: radix) else { throw fail("integer '\(String(decoding: t, as: UTF8.self))' is out of range") }
            return v
        }
        var sign = ""
        if let f = s.first, f == UInt8(ascii: "+") || f == UInt8(ascii: "-") {
            sign = f == UInt8(ascii: "-") ? "-" : ""
            s = s.dropFirst()
        }
        guard let d = TOMLReader.digits(s, TOMLReader.isDigit) else { return nil }
        if d.count > 1 && d.hasPrefix("0") { return nil }
        guard let v = Int64(sign + d) else { throw fail("integer '\(String(decoding: t, as: UTF8.self))' is out of range") }
        return v
    }

    func float(_ t: [UInt8]) -> Double? {
        var s = t[...]
        var text = ""
        if let f = s.first, f == UInt8(ascii: "+") || f == UInt8(ascii: "-") {
            if f == UInt8(ascii: "-") { text = "-" }
            s = s.dropFirst()
        }
        let e = s.firstIndex { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
        let mantissa = e.map { s[..<$0] } ?? s
        let dot = mantissa.firstIndex(of: UInt8(ascii: "."))
        let whole = dot.map { mantissa[..<$0] } ?? mantissa
        guard let w = TOMLReader.digits(whole, TOMLReader.isDigit), !(w.count > 1 && w.hasPrefix("0")) else { return nil }
        text += w
        if let dot {
            guard let f = TOMLReader.digits(mantissa[(dot + 1)...], TOMLReader.isDigit) else { return nil }
            text += "." + f
        }
        if let e {
            var exp = s[(e + 1)...]
            var expSign = ""
            if let f = exp.first, f == UInt8(ascii: "+") || f == UInt8(ascii: "-") {
                expSign = f == UInt8(ascii: "-") ? "-" : ""
                exp = exp.dropFirst()
            }
            guard let x = TOMLReader.digits(exp, TOMLReader.isDigit) else { return nil }
            text += "e" + expSign + x
        }
        guard dot != nil || e != nil, let d = Double(text), d.isFinite else { return nil }
        return d
    }

    static func isDate(_ s: ArraySlice<UInt8>) -> Bool {
        let a = Array(s)
        return a.count == 10 && a[4] == UInt8(ascii: "-") && a[7] == UInt8(ascii: "-") && [0, 1, 2, 3, 5, 6, 8, 9].allSatisfy { isDigit(a[$0]) }
    }

    static func number(_ a: ArraySlice<UInt8>) -> Int? {
        guard !a.isEmpty, a.allSatisfy(isDigit) else { return nil }
        return a.reduce(0) { $0 * 10 + Int($1 - 48) }
    }

    /// HH:MM:SS with optional fraction, valid ranges.
    static func isTime(_ a: ArraySlice<UInt8>) -> Bool {
        let t = Array(a)
        guard t.count >= 8, t[2] == UInt8(ascii: ":"), t[5] == UInt8(ascii: ":"),
            let h = number(a.prefix(2)), let m = number(t[3..<5]), let s = number(t[6..<8]), h < 24, m < 60, s < 60
        else { return false }
        if t.count == 8 { return true }
        return t[8] == UInt8(ascii: ".") && t.count > 9 && t[9...].allSatisfy(isDigit)
    }

    /// A date (a kam date), a date-time (its date) or a local time (a string).
    func dateTime(_ t: [UInt8]) throws(Failure) -> Value? {
        let text = String(decoding: t, as: UTF8.self)
        if TOMLReader.isTime(t[...]) { return .string(text) }
        guard t.count >= 10, TOMLReader.isDate(t[0..<10]) else { return nil }
        guard let y = TOMLReader.number(t[0..<4]), let mo = TOMLReader.number(t[5..<7]), let d = TOMLReader.number(t[8..<10]),
            mo >= 1, mo <= 12, d >= 1, d <= Calendar.daysIn(year: y, month: mo), let day = Calendar.days(year: y, month: mo, day: d)
        else { throw fail("'\(text)' is not a valid date") }
        if t.count == 10 { return .date(day) }
        let sep = t[10]
        guard sep == UInt8(ascii: "T") || sep == UInt8(ascii: "t") || sep == 0x20 else { return nil }
        var rest = t[11...]
        // The offset: Z, or +HH:MM / -HH:MM.
        if let last = rest.last, last == UInt8(ascii: "Z") || last == UInt8(ascii: "z") {
            rest = rest.dropLast()
        } else if rest.count > 6, let sign = rest.dropLast(5).last, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            let offset = Array(rest.suffix(5))
            guard offset[2] == UInt8(ascii: ":"), let oh = TOMLReader.number(offset[0..<2]), let om = TOMLReader.number(offset[3..<5]), oh < 24, om < 60 else {
                throw fail("'\(text)' has an invalid time offset")
            }
            rest = rest.dropLast(6)
        }
        guard TOMLReader.isTime(rest) else { throw fail("'\(text)' is not a valid date-time") }
        return .date(day)
    }

    /// The byte offset of the first invalid UTF-8 sequence, or nil.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var k = 0
        while k < bytes.count {
            let c = bytes[k]
            if c < 0x80 { k += 1; continue }
            let n: Int
            var lower: UInt8 = 0x80, upper: UInt8 = 0xBF
            switch c {
            case 0xC2...0xDF: n = 1
            case 0xE0: n = 2; lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: n = 2
            case 0xED: n = 2; upper = 0x9F
            case 0xF0: n = 3; lower = 0x90
            case 0xF1...0xF3: n = 3
            case 0xF4: n = 3; upper = 0x8F
            default: return k
            }
            guard k + n < bytes.count else { return k }
            for j in 1...n {
                let x = bytes[k + j]
                let lo: UInt8 = j == 1 ? lower : 0x80, hi: UInt8 = j == 1 ? upper : 0xBF
                if x < lo || x > hi { return k }
            }
            k += n + 1
        }
        return nil
    }
}
