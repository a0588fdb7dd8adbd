import KamSyntax

/// The part of TOML a dataset manifest needs: `[table]` and `[[array.of.tables]]` headers,
/// `key = value` with strings, integers, floats, booleans, arrays and inline tables, and
/// comments. Returns a kam record, plus the line each key was set on for messages.
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
    /// The dotted key of the value being read, so keys of inline tables are recorded too.
    var valuePath: [String] = []
    var lastStringEscaped = false

    public init(_ text: String) { b = Array(text.utf8) }

    public mutating func parse() throws(Failure) -> Record {
        var root = Record()
        var path: [String] = []
        var arrayPath = false
        while true {
            skipBlank()
            guard i < b.count else { break }
            if b[i] == UInt8(ascii: "[") {
                i += 1
                arrayPath = i < b.count && b[i] == UInt8(ascii: "[")
                if arrayPath { i += 1 }
                path = try dottedKey(until: UInt8(ascii: "]"))
                guard i < b.count, b[i] == UInt8(ascii: "]") else { throw Failure(message: "expected ']'", line: line) }
                i += 1
                if arrayPath {
                    guard i < b.count, b[i] == UInt8(ascii: "]") else { throw Failure(message: "expected ']]'", line: line) }
                    i += 1
                    root = try appendTable(root, path)
                } else {
                    root = try ensureTable(root, path)
                }
                for k in 0..<path.count { keyLines[path[0...k].joined(separator: "."), default: line] = line }
                try endOfLine()
                continue
            }
            let key = try dottedKey(until: UInt8(ascii: "="))
            guard i < b.count, b[i] == UInt8(ascii: "=") else { throw Failure(message: "expected '=' after the key", line: line) }
            i += 1
            skipInline()
            let valueLine = line
            valuePath = path + key
            let value = try parseValue()
            keyLines[(path + key).joined(separator: "."), default: valueLine] = valueLine
            if case .string = value, !lastStringEscaped { stringOffsets[(path + key).joined(separator: ".")] = lastStringStart }
            root = try set(root, path, arrayPath, key, value)
            try endOfLine()
        }
        return root
    }

    public mutating func skipInline() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
    }

    public mutating func skipBlank() {
        while i < b.count {
            let c = b[i]
            if c == 0x20 || c == 0x09 || c == 0x0D { i += 1 } else if c == 0x0A { i += 1; line += 1 } else if c == UInt8(ascii: "#") {
                while i < b.count && b[i] != 0x0A { i += 1 }
            } else { break }
        }
    }

    public mutating func endOfLine() throws(Failure) {
        skipInline()
        if i < b.count && b[i] == UInt8(ascii: "#") { while i < b.count && b[i] != 0x0A { i += 1 } }
        if i < b.count && b[i] == 0x0D { i += 1 }
        guard i >= b.count || b[i] == 0x0A else { throw Failure(message: "unexpected text after the value", line: line) }
    }

    public mutating func dottedKey(until stop: UInt8) throws(Failure) -> [String] {
        var parts: [String] = []
        while true {
            skipInline()
            guard i < b.count else { throw Failure(message: "unexpected end of file in a key", line: line) }
            if b[i] == UInt8(ascii: "\"") || b[i] == UInt8(ascii: "'") {
                parts.append(try basicString())
            } else {
                let start = i
                while i < b.count, isBare(b[i]) { i += 1 }
                guard i > start else { throw Failure(message: "expected a key", line: line) }
                parts.append(String(decoding: b[start..<i], as: UTF8.self))
            }
            skipInline()
            if i < b.count && b[i] == UInt8(ascii: ".") { i += 1; continue }
            return parts
        }
    }

    public func isBare(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
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
        if multi {
            if i < b.count && b[i] == 0x0D && i + 1 < b.count && b[i + 1] == 0x0A { i += 2; line += 1 } else if i < b.count && b[i] == 0x0A { i += 1; line += 1 }
        }
        lastStringStart = i
        var out: [UInt8] = []
        var escaped = false
        while true {
            guard i < b.count else { throw Failure(message: "unterminated string (opened on line \(opened))", line: line) }
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
            }
            if c == 0x0A {
                guard multi else { throw Failure(message: "unterminated string", line: line) }
                line += 1
            }
            if basic && c == UInt8(ascii: "\\") {
                escaped = true
                guard i + 1 < b.count else { throw Failure(message: "unterminated string", line: line) }
                i += 1
                let e = b[i]
                switch e {
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "e"): out.append(27)
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(e)
                case UInt8(ascii: "u"), UInt8(ascii: "U"):
                    let n = e == UInt8(ascii: "u") ? 4 : 8
                    guard i + n < b.count, let code = UInt32(String(decoding: b[(i + 1)...(i + n)], as: UTF8.self), radix: 16),
                          let scalar = Unicode.Scalar(code) else {
                        throw Failure(message: "invalid \\\(e == UInt8(ascii: "u") ? "u" : "U") escape: it needs \(n) hex digits of a Unicode scalar", line: line)
                    }
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    i += n
                case 0x20, 0x09, 0x0D, 0x0A where multi:
                    // A line-ending backslash: drop the newline and the whitespace after it.
                    var j = i
                    while j < b.count && (b[j] == 0x20 || b[j] == 0x09) { j += 1 }
                    guard j < b.count, b[j] == 0x0A || b[j] == 0x0D else {
                        throw Failure(message: "invalid escape '\\ ' in a string", line: line)
                    }
                    while j < b.count && (b[j] == 0x20 || b[j] == 0x09 || b[j] == 0x0A || b[j] == 0x0D) {
                        if b[j] == 0x0A { line += 1 }
                        j += 1
                    }
                    i = j
                    continue
                default:
                    throw Failure(message: "invalid escape '\\\(String(decoding: [e], as: UTF8.self))' in a string",
                        line: line)
                }
                i += 1
                continue
            }
            out.append(c)
            i += 1
        }
        i += multi ? 3 : 1
        lastStringEscaped = escaped || multi
        return String(decoding: out, as: UTF8.self)
    }

    public mutating func parseValue() throws(Failure) -> Value {
        guard i < b.count else { throw Failure(message: "expected a value", line: line) }
        let c = b[i]
        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") { return .string(try basicString()) }
        if c == UInt8(ascii: "[") {
            i += 1
            var items: [Value] = []
            while true {
                skipBlank()
                guard i < b.count else { throw Failure(message: "unterminated array", line: line) }
                if b[i] == UInt8(ascii: "]") { i += 1; return .list(items) }
                items.append(try parseValue())
                skipBlank()
                if i < b.count && b[i] == UInt8(ascii: ",") { i += 1 }
            }
        }
        if c == UInt8(ascii: "{") {
            i += 1
            var r = Record()
            while true {
                skipInline()
                guard i < b.count else { throw Failure(message: "unterminated inline table", line: line) }
                if b[i] == UInt8(ascii: "}") { i += 1; return .record(r) }
                let key = try dottedKey(until: UInt8(ascii: "="))
                guard i < b.count, b[i] == UInt8(ascii: "=") else { throw Failure(message: "expected '=' in an inline table", line: line) }
                i += 1
                skipInline()
                let outer = valuePath
                valuePath = outer + key
                let keyLine = line
                let v = try parseValue()
                keyLines[valuePath.joined(separator: "."), default: keyLine] = keyLine
                if case .string = v, !lastStringEscaped { stringOffsets[valuePath.joined(separator: ".")] = lastStringStart }
                valuePath = outer
                r.set(key.joined(separator: "."), v)
                skipInline()
                if i < b.count && b[i] == UInt8(ascii: ",") { i += 1 }
            }
        }
        let start = i
        while i < b.count, b[i] != 0x0A, b[i] != UInt8(ascii: ","), b[i] != UInt8(ascii: "]"), b[i] != UInt8(ascii: "}"), b[i] != UInt8(ascii: "#") { i += 1 }
        let text = String(decoding: b[start..<i], as: UTF8.self).trimmingCharacters(in: [" ", "\t", "\r"])
        if text == "true" { return .bool(true) }
        if text == "false" { return .bool(false) }
        if let v = Int64(text.replacingOccurrences(of: "_", with: "")) { return .int(v) }
        if let d = Double(text), d.isFinite { return .float(d) }
        throw Failure(message: "cannot read value '\(text)'", line: line)
    }

    // MARK: building nested records

    public func ensureTable(_ r: Record, _ path: [String]) throws(Failure) -> Record {
        guard let first = path.first else { return r }
        var r = r
        var inner = Record()
        if let existing = r[first] {
            guard case .record(let rec) = existing else { throw Failure(message: "'\(first)' is not a table", line: line) }
            inner = rec
        }
        r.set(first, .record(try ensureTable(inner, Array(path.dropFirst()))))
        return r
    }

    public func appendTable(_ r: Record, _ path: [String]) throws(Failure) -> Record {
        guard let first = path.first else { return r }
        var r = r
        if path.count == 1 {
            var items: [Value] = []
            if case .list(let xs)? = r[first] { items = xs }
            items.append(.record(Record()))
            r.set(first, .list(items))
            return r
        }
        var inner = Record()
        if case .record(let rec)? = r[first] { inner = rec }
        r.set(first, .record(try appendTable(inner, Array(path.dropFirst()))))
        return r
    }

    public func set(_ r: Record, _ path: [String], _ inArray: Bool, _ key: [String], _ value: Value) throws(Failure) -> Record {
        var r = r
        if let first = path.first {
            if path.count == 1 && inArray {
                guard case .list(var items)? = r[first], case .record(let last)? = items.last else { throw Failure(message: "bad array of tables", line: line) }
                items[items.count - 1] = .record(try set(last, [], false, key, value))
                r.set(first, .list(items))
                return r
            }
            guard case .record(let inner)? = r[first] else { throw Failure(message: "'\(first)' is not a table", line: line) }
            r.set(first, .record(try set(inner, Array(path.dropFirst()), inArray, key, value)))
            return r
        }
        if key.count == 1 {
            if r[key[0]] != nil { throw Failure(message: "key '\(key[0])' is set twice", line: line) }
            r.set(key[0], value)
            return r
        }
        var inner = Record()
        if case .record(let rec)? = r[key[0]] { inner = rec }
        r.set(key[0], .record(try set(inner, [], false, Array(key.dropFirst()), value)))
        return r
    }
}
