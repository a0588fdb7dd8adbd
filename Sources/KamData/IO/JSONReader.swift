import KamSyntax

/// JSON on bytes into kam values: objects become records (key order kept), arrays lists.
/// Iterative (an explicit stack), so nesting depth is bounded by `maxDepth` and never by
/// the machine's stack: 100,000 levels is a clean error.
public struct JSONReader {
    public static let maxDepth = 512

    public struct Failure: Error {
        public var message: String
        public var offset: Int
    }

    public let b: [UInt8]
    public var i = 0

    public init(_ bytes: [UInt8]) { b = bytes }

    /// Line (1-based) and column of a byte offset, for messages.
    public static func location(_ bytes: [UInt8], _ offset: Int) -> (Int, Int) {
        var line = 1, col = 1
        for k in 0..<min(offset, bytes.count) {
            if bytes[k] == UInt8(ascii: "\n") { line += 1; col = 1 } else if bytes[k] & 0xC0 != 0x80 { col += 1 }
        }
        return (line, col)
    }

    public mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    /// Parses one value starting at the current position.
    public mutating func parseValue() throws(Failure) -> Value {
        enum Frame {
            case list([Value])
            case object(keys: [String], values: [Value], key: String?)
        }
        var stack: [Frame] = []
        var result: Value = .null
        while true {
            skipSpace()
            guard i < b.count else { throw Failure(message: "unexpected end of JSON", offset: i) }
            var value: Value? = nil
            let c = b[i]
            switch c {
            case UInt8(ascii: "{"):
                i += 1
                if stack.count >= JSONReader.maxDepth { throw Failure(message: "JSON nested deeper than \(JSONReader.maxDepth) levels", offset: i - 1) }
                skipSpace()
                if i < b.count && b[i] == UInt8(ascii: "}") { i += 1; value = .record(Record()) } else {
                    let k = try parseKey()
                    stack.append(.object(keys: [], values: [], key: k))
                    continue
                }
            case UInt8(ascii: "["):
                i += 1
                if stack.count >= JSONReader.maxDepth { throw Failure(message: "JSON nested deeper than \(JSONReader.maxDepth) levels", offset: i - 1) }
                skipSpace()
                if i < b.count && b[i] == UInt8(ascii: "]") { i += 1; value = .list([]) } else {
                    stack.append(.list([]))
                    continue
                }
            case UInt8(ascii: "\""): value = .string(try parseString())
            case UInt8(ascii: "t"): try word("true"); value = .bool(true)
            case UInt8(ascii: "f"): try word("false"); value = .bool(false)
            case UInt8(ascii: "n"): try word("null"); value = .null
            default:
                if c == UInt8(ascii: "-") || (c >= 48 && c <= 57) { value = try parseNumber() } else {
                    throw Failure(message: "unexpected character '\(Character(Unicode.Scalar(c)))' in JSON", offset: i)
                }
            }
            // Attach the finished value to its container, closing containers as they end.
            var done = value ?? .null
            while true {
                guard let top = stack.popLast() else { result = done; return result }
                skipSpace()
                switch top {
                case .list(var items):
                    items.append(done)
                    guard i < b.count else { throw Failure(message: "unexpected end of JSON in an array", offset: i) }
                    if b[i] == UInt8(ascii: ",") { i += 1; stack.append(.list(items)); break }
                    if b[i] == UInt8(ascii: "]") { i += 1; done = .list(items); continue }
                    throw Failure(message: "expected ',' or ']' in an array", offset: i)
                case .object(var keys, var values, let key):
                    keys.append(key ?? "")
                    values.append(done)
                    guard i < b.count else { throw Failure(message: "unexpected end of JSON in an object", offset: i) }
                    if b[i] == UInt8(ascii: ",") {
                        i += 1
                        skipSpace()
                        let k = try parseKey()
                        stack.append(.object(keys: keys, values: values, key: k))
                        break
                    }
                    if b[i] == UInt8(ascii: "}") {
                        i += 1
                        // A repeated key keeps the last value, as most JSON readers do.
                        var r = Record()
                        for (k, v) in zip(keys, values) { r.set(k, v) }
                        done = .record(r)
                        continue
                    }
                    throw Failure(message: "expected ',' or '}' in an object", offset: i)
                }
                break
            }
        }
    }

    public mutating func parseKey() throws(Failure) -> String {
        skipSpace()
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw Failure(message: "expected a string key in an object", offset: i) }
        let k = try parseString()
        skipSpace()
        guard i < b.count, b[i] == UInt8(ascii: ":") else { throw Failure(message: "expected ':' after an object key", offset: i) }
        i += 1
        return k
    }

    public mutating func word(_ w: String) throws(Failure) {
        let u = Array(w.utf8)
        guard i + u.count <= b.count, Array(b[i..<(i + u.count)]) == u else { throw Failure(message: "invalid JSON literal", offset: i) }
        i += u.count
    }

    public mutating func parseNumber() throws(Failure) -> Value {
        let start = i
        var isFloat = false
        if b[i] == UInt8(ascii: "-") { i += 1 }
        while i < b.count {
            let c = b[i]
            if c >= 48 && c <= 57 { i += 1; continue }
            if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                isFloat = true
                i += 1
                continue
            }
            break
        }
        let text = String(decoding: b[start..<i], as: UTF8.self)
        if !isFloat, let v = Int64(text) { return .int(v) }
        // An integer past 64 bits (an external id) keeps its digits, as text: as a float
        // it would lose the last ones, and two ids would become one.
        if !isFloat, text.utf8.count > 1 || text != "-" { return .string(text) }
        guard let d = Double(text), d.isFinite else { throw Failure(message: "invalid number '\(text)' in JSON", offset: start) }
        return .float(d)
    }

    public mutating func parseString() throws(Failure) -> String {
        let start = i
        i += 1
        var out: [UInt8] = []
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                guard let s = String(validating: out, as: UTF8.self) else { throw Failure(message: "invalid UTF-8 in a JSON string", offset: start) }
                return s
            }
            if c == UInt8(ascii: "\\") {
                i += 1
                guard i < b.count else { break }
                let e = b[i]
                i += 1
                switch e {
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: "\""): out.append(e)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if code >= 0xD800 && code < 0xDC00, i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
                        let second = i
                        i += 2
                        let low = try hex4()
                        if (0xDC00...0xDFFF).contains(low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            // A high surrogate not followed by a low one: a replacement
                            // character, and the second escape read on its own.
                            i = second
                            code = 0xFFFD
                        }
                    }
                    let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: throw Failure(message: "invalid escape in a JSON string", offset: i - 2)
                }
                continue
            }
            if c < 0x20 { throw Failure(message: "control character in a JSON string", offset: i) }
            out.append(c)
            i += 1
        }
        throw Failure(message: "unterminated JSON string", offset: start)
    }

    public mutating func hex4() throws(Failure) -> UInt32 {
        guard i + 4 <= b.count else { throw Failure(message: "invalid \\u escape", offset: i) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 97...102: d = UInt32(c - 87)
            case 65...70: d = UInt32(c - 55)
            default: throw Failure(message: "invalid \\u escape", offset: i)
            }
            v = v * 16 + d
            i += 1
        }
        return v
    }

    /// A table from a JSON array of objects, or from JSON lines (one object per line).
    public static func readTable(_ bytes: [UInt8], name: String) throws -> Table {
        // Typed columns straight from the bytes when they are a table; the records below
        // read anything else, and say what is wrong with it.
        if let t = bytes.withUnsafeBufferPointer({ JSONTableReader.read($0) }) { return t }
        return try readRecords(bytes, name: name)
    }

    /// `readTable` by way of records: the reference the typed reader is tested against, and
    /// the reader of every message.
    public static func readRecords(_ bytes: [UInt8], name: String) throws -> Table {
        var start = 0
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { start = 3 }
        var r = JSONReader(Array(bytes[start...]))
        r.skipSpace()
        func failure(_ f: Failure) -> Diagnostic {
            let (l, c) = location(r.b, f.offset)
            return Diagnostic.data(file: name, line: l, column: c, f.message)
        }
        if r.i >= r.b.count { return Table(names: [], columns: [], count: 0) }
        if r.b[r.i] == UInt8(ascii: "[") {
            let v: Value
            do { v = try r.parseValue() } catch { throw failure(error) }
            r.skipSpace()
            if r.i < r.b.count { throw failure(Failure(message: "unexpected text after the JSON array", offset: r.i)) }
            guard case .list(let items) = v else { throw failure(Failure(message: "expected an array of objects", offset: 0)) }
            var records: [Record] = []
            for (k, item) in items.enumerated() {
                guard case .record(let rec) = item else {
                    throw Diagnostic.data(file: name, line: nil, "item \(k) of the array is \(item.aTypeName), not an object", hints: ["a table is an array of objects: [{\"id\": 1}, ...]"])
                }
                records.append(rec)
            }
            return Table.fromRecords(records)
        }
        // JSON lines.
        var records: [Record] = []
        while true {
            r.skipSpace()
            if r.i >= r.b.count { break }
            let v: Value
            do { v = try r.parseValue() } catch { throw failure(error) }
            guard case .record(let rec) = v else {
                throw failure(Failure(message: "each JSON line must be an object, got \(v.aTypeName)", offset: r.i - 1))
            }
            records.append(rec)
        }
        return Table.fromRecords(records)
    }
}
