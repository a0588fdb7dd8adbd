import KamCore

/// A JSONMessage value, for the language server's messages: a closed enum, read and written here.
///
///     let m = try JSONMessage.parse(Array(#"{"id": 1, "method": "shutdown"}"#.utf8))
///     m["method"]?.string  // "shutdown"
enum JSONMessage: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONMessage])
    case object([String: JSONMessage])

    subscript(key: String) -> JSONMessage? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    var string: String? { if case .string(let s) = self { s } else { nil } }
    var int: Int? {
        if case .number(let d) = self, d.rounded() == d, abs(d) < 1e15 { return Int(d) }
        return nil
    }
    var array: [JSONMessage]? { if case .array(let a) = self { a } else { nil } }

    struct Failure: Error { var message: String }

    /// Parses one JSONMessage document; nesting is bounded, so a hostile message cannot overflow the stack.
    static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONMessage {
        var p = Reader(bytes: bytes)
        let v = try p.value(depth: 0)
        p.space()
        guard p.i == bytes.count else { throw Failure(message: "trailing characters at \(p.i)") }
        return v
    }

    /// The compact text, keys sorted so the same message is always the same bytes.
    var text: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d):
            if d.rounded() == d && abs(d) < 1e15 { return String(Int64(d)) }
            return d.isFinite ? "\(d)" : "null"
        case .string(let s): return JSONMessage.quote(s)
        case .array(let a): return "[" + a.map(\.text).joined(separator: ",") + "]"
        case .object(let o):
            return "{" + o.keys.sorted().map { JSONMessage.quote($0) + ":" + (o[$0] ?? .null).text }.joined(separator: ",") + "}"
        }
    }

    /// Strings are escaped as kam's JSON output escapes them.
    static func quote(_ s: String) -> String { JSON.quote(s) }

    private struct Reader {
        let bytes: [UInt8]
        var i = 0

        mutating func space() {
            while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
        }

        mutating func value(depth: Int) throws(Failure) -> JSONMessage {
            guard depth < 200 else { throw Failure(message: "nested too deeply") }
            space()
            guard i < bytes.count else { throw Failure(message: "unexpected end") }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                var o: [String: JSONMessage] = [:]
                space()
                if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                while true {
                    space()
                    let k = try string()
                    space()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw Failure(message: "expected ':' at \(i)") }
                    i += 1
                    o[k] = try value(depth: depth + 1)
                    space()
                    guard i < bytes.count else { throw Failure(message: "unexpected end") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                    throw Failure(message: "expected ',' or '}' at \(i)")
                }
            case UInt8(ascii: "["):
                i += 1
                var a: [JSONMessage] = []
                space()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                while true {
                    a.append(try value(depth: depth + 1))
                    space()
                    guard i < bytes.count else { throw Failure(message: "unexpected end") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                    throw Failure(message: "expected ',' or ']' at \(i)")
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try word("true"); return .bool(true)
            case UInt8(ascii: "f"): try word("false"); return .bool(false)
            case UInt8(ascii: "n"): try word("null"); return .null
            default:
                let start = i
                while i < bytes.count, "+-0123456789.eE".utf8.contains(bytes[i]) { i += 1 }
                guard let d = Double(String(decoding: bytes[start..<i], as: UTF8.self)) else {
                    throw Failure(message: "unexpected character at \(start)")
                }
                return .number(d)
            }
        }

        mutating func word(_ w: String) throws(Failure) {
            let u = Array(w.utf8)
            guard i + u.count <= bytes.count, Array(bytes[i..<(i + u.count)]) == u else { throw Failure(message: "bad literal at \(i)") }
            i += u.count
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16) else {
                throw Failure(message: "bad \\u escape at \(i)")
            }
            i += 4
            return v
        }

        mutating func string() throws(Failure) -> String {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw Failure(message: "expected a string at \(i)") }
            i += 1
            var out: [UInt8] = []
            while i < bytes.count {
                let c = bytes[i]
                i += 1
                if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                guard c == UInt8(ascii: "\\") else { out.append(c); continue }
                guard i < bytes.count else { break }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar), i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"),
                        bytes[i + 1] == UInt8(ascii: "u")
                    {
                        i += 2
                        let low = try hex4()
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low &- 0xDC00) & 0x3FF
                    }
                    out += Array(String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
                default: out.append(e)
                }
            }
            throw Failure(message: "unterminated string")
        }
    }
}
