/// A canonical text of a program's meaning: its tree without source positions.
///
/// `kam fmt` compares the dump before and after formatting and refuses to write a file
/// whose meaning would change; the formatter's property tests do the same over every
/// script in the repository. Floats are written by bit pattern so `1.0` and `1.00` agree
/// and no rounding hides a difference.
///
///     ASTDump.of(try Parser.parse(Source(name: "a", text: "let x = 1 +  2")))
///     // "let x = (+ 1 2)\n"
public enum ASTDump {
    public static func of(_ program: Program) -> String {
        var out = ""
        for s in program.statements { out += stmt(s) + "\n" }
        return out
    }

    static func stmt(_ s: Stmt) -> String {
        switch s.kind {
        case .letBinding(let name, let value): "let \(name) = \(expr(value))"
        case .function(let name, let params, let body): "fn \(name)(\(params.joined(separator: " "))) = \(expr(body))"
        case .importModule(let path, let isFile): "import \(isFile ? "file" : "module") \(String(reflecting: path))"
        case .parameter(let name, let value): "param \(name)" + (value.map { " = " + expr($0) } ?? "")
        case .assertion(let c, let m): "assert \(expr(c))" + (m.map { ", " + expr($0) } ?? "")
        case .expression(let e): expr(e)
        }
    }

    static func expr(_ e: Expr) -> String {
        switch e.kind {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .int(let v): "int:\(v)"
        case .float(let v): "float:\(v.bitPattern)"
        case .string(let s): String(reflecting: s)
        case .date(let d): "date:\(d)"
        case .duration(let m, let d): "duration:\(m)mo\(d)d"
        case .interpolation(let parts):
            "(interp " + parts.map { p in
                switch p {
                case .text(let s): String(reflecting: s)
                case .expr(let x): expr(x)
                }
            }.joined(separator: " ") + ")"
        case .name(let n): "name:\(n)"
        case .param(let n): "$\(n)"
        case .list(let xs): "[" + xs.map(expr).joined(separator: " ") + "]"
        case .record(let fields): "{" + fields.map { "\($0.0): \(expr($0.1))" }.joined(separator: " ") + "}"
        case .unary(let op, let x): "(\(op == .negate ? "neg" : "not") \(expr(x)))"
        case .binary(let op, let a, let b): "(\(op.rawValue) \(expr(a)) \(expr(b)))"
        case .and(let a, let b): "(and \(expr(a)) \(expr(b)))"
        case .or(let a, let b): "(or \(expr(a)) \(expr(b)))"
        case .coalesce(let a, let b): "(?? \(expr(a)) \(expr(b)))"
        case .member(let x, let name): "(. \(expr(x)) \(name))"
        case .index(let x, let i): "(index \(expr(x)) \(expr(i)))"
        case .call(let callee, let args, let piped):
            "(\(piped ? "stage" : "call") \(expr(callee))" + args.map { " " + arg($0) }.joined() + ")"
        case .lambda(let params, let body): "(fn (\(params.joined(separator: " "))) \(expr(body)))"
        case .block(let stmts, let value): "(block" + stmts.map { " " + stmt($0) + ";" }.joined() + " \(expr(value)))"
        }
    }

    static func arg(_ a: Arg) -> String {
        var out = ""
        if let clause = a.clause { out += clause + ":" }
        switch a.style {
        case .positional: break
        case .named: out += (a.name ?? "") + ": "
        case .assign: out += (a.name ?? "") + " = "
        }
        out += expr(a.value)
        if let alias = a.alias { out += " as " + alias }
        return out
    }
}
