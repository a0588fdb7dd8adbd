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

    /// A number's text with its digits before the point grouped by three: "1234567.5" as
    /// "1,234,567.5"; with "." as the separator the decimal mark becomes a comma
    /// ("1.234.567,5"). Text with an exponent, or that is no number, stays as it is.
    public static func groupThousands(_ text: String, separator: String = ",") -> String {
        guard !text.contains("e") else { return text }
        let negative = text.hasPrefix("-")
        let body = negative ? String(text.dropFirst()) : text
        let dot = body.firstIndex(of: ".") ?? body.endIndex
        var whole = String(body[..<dot])
        guard !whole.isEmpty, whole.allSatisfy(\.isNumber) else { return text }
        var out = ""
        while whole.count > 3 {
            out = separator + whole.suffix(3) + out
            whole = String(whole.dropLast(3))
        }
        let fraction = body[dot...].dropFirst()
        let mark = separator == "." ? "," : "."
        return (negative ? "-" : "") + whole + out + (dot < body.endIndex ? mark + fraction : "")
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
