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

    /// Parses one JSON document with kam's JSON reader (iterative, its nesting bounded, and
    /// fuzzed with the other readers).
    static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONMessage {
        var reader = JSONReader(bytes)
        let v: Value
        do { v = try reader.parseValue() } catch { throw Failure(message: "\(error.message) at \(error.offset)") }
        reader.skipSpace()
        guard reader.i == bytes.count else { throw Failure(message: "trailing characters at \(reader.i)") }
        return JSONMessage(v)
    }

    /// A value the reader gave (JSON has nothing else: no dates, tables or functions).
    init(_ v: Value) {
        switch v {
        case .bool(let b): self = .bool(b)
        case .int(let n): self = .number(Double(n))
        case .float(let d): self = .number(d)
        case .string(let s): self = .string(s)
        case .list(let xs): self = .array(xs.map(JSONMessage.init))
        case .record(let r): self = .object(Dictionary(zip(r.keys, r.values.map(JSONMessage.init)), uniquingKeysWith: { _, last in last }))
        default: self = .null
        }
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
}
