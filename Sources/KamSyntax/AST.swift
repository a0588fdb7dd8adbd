/// An expression node with the source range it came from.
public struct Expr: Sendable {
    public var kind: ExprKind
    public var range: SourceRange
    public init(_ kind: ExprKind, _ range: SourceRange) { self.kind = kind; self.range = range }
}

public enum UnaryOp: Sendable { case negate, not }

public enum BinaryOp: String, Sendable {
    case add = "+", sub = "-", mul = "*", div = "/", mod = "%"
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
    case inList = "in", notIn = "not in", match = "~"
}

/// A part of an interpolated string.
public enum InterpPart: Sendable {
    case text(String)
    case expr(Expr)
}

/// An argument of a call or a stage.
///
/// `f(x)` positional; `f(n: 5)` named; `derive total = a + b` assignment; `select a as b`
/// aliased; `aggregate ... by region` a `by` clause; `join t on a == b` an `on` clause.
public struct Arg: Sendable {
    public enum Style: Sendable { case positional, named, assign }
    public var style: Style
    public var name: String?
    public var value: Expr
    public var alias: String?
    public var clause: String?
    public init(_ value: Expr, style: Style = .positional, name: String? = nil, alias: String? = nil, clause: String? = nil) {
        self.value = value
        self.style = style
        self.name = name
        self.alias = alias
        self.clause = clause
    }
}

public indirect enum ExprKind: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case date(Int32)
    case duration(months: Int32, days: Int32)
    case interpolation([InterpPart])
    case name(String)
    /// `$region`: the value of --param region=...
    case param(String)
    case list([Expr])
    case record([(String, Expr)])
    case unary(UnaryOp, Expr)
    case binary(BinaryOp, Expr, Expr)
    case and(Expr, Expr)
    case or(Expr, Expr)
    case coalesce(Expr, Expr)
    case member(Expr, String)
    case index(Expr, Expr)
    /// A call; `piped` when written `input | f(...)` (the input is the first argument).
    case call(callee: Expr, args: [Arg], piped: Bool)
    case lambda(params: [String], body: Expr)
    case block([Stmt], Expr)
}

/// A statement; `expr` statements at top level print their value.
public struct Stmt: Sendable {
    /// Where the statement's text starts: a pipeline's range is its last stage's (so errors
    /// point at the stage), and its first input comes before it (`--timing` names a
    /// statement by this line).
    public var start: Int {
        func first(_ e: Expr) -> Int {
            if case .call(_, let args, true) = e.kind, let input = args.first { return min(e.range.start, first(input.value)) }
            return e.range.start
        }
        switch kind {
        case .expression(let e): return first(e)
        default: return range.start
        }
    }

    public enum Kind: Sendable {
        case letBinding(name: String, value: Expr)
        case function(name: String, params: [String], body: Expr)
        case importModule(path: String, isFile: Bool)
        /// `param region = "EMEA"`: declares a parameter and its default (nil: required).
        case parameter(name: String, defaultValue: Expr?)
        case assertion(condition: Expr, message: Expr?)
        case expression(Expr)
    }
    public var kind: Kind
    public var range: SourceRange
    public init(_ kind: Kind, _ range: SourceRange) { self.kind = kind; self.range = range }
}

/// A parsed file: its statements and the source they came from.
public struct Program: Sendable {
    public var statements: [Stmt]
    public var source: Source
    public init(statements: [Stmt], source: Source) {
        self.statements = statements
        self.source = source
    }
}
