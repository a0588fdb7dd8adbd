import KamSyntax

/// How values read as text: in interpolations, `str()`, and the table writer.
public enum Format {
    /// Shortest text that reads back as the same double; integral values keep a ".0".
    public static func float(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        return d.description
    }

    /// Plain text: strings without quotes, null as "null".
    public static func plain(_ v: Value) -> String {
        if case .string(let s) = v { return s }
        return literal(v)
    }

    /// kam-literal-like text: strings quoted, lists and records in brackets.
    public static func literal(_ v: Value, depth: Int = 0) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .float(let f): return float(f)
        case .string(let s): return depth == 0 ? s : quote(s)
        case .date(let d): return Calendar.format(d)
        case .duration(let d): return d.description
        case .list(let items):
            if depth > 20 { return "[...]" }
            return "[" + items.map { literal($0, depth: depth + 1) }.joined(separator: ", ") + "]"
        case .record(let r):
            if depth > 20 { return "{...}" }
            return "{" + zip(r.keys, r.values).map { "\($0): \(literal($1, depth: depth + 1))" }.joined(separator: ", ") + "}"
        case .row(let t, let i):
            return literal(.record(t.record(at: i)), depth: depth)
        case .table(let t):
            return "<table: \(t.count) row\(t.count == 1 ? "" : "s") x \(t.names.count) column\(t.names.count == 1 ? "" : "s")>"
        case .function(let f):
            switch f.body {
            case .closure(let params, _, _, _): return "<fn \(f.name)(\(params.joined(separator: ", ")))>"
            case .builtin(_, let signature, _): return "<builtin \(signature)>"
            }
        }
    }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "{": out += "\\{"
            case "}": out += "\\}"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}
