/// One piece of a string literal: literal text or an interpolated `{expr}` (its byte range).
public enum StringPart: Sendable, Equatable {
    case text(String)
    case expr(SourceRange)
}

/// The kinds of token the lexer produces.
public enum TokenKind: Sendable, Equatable {
    case int(Int64)
    case float(Double)
    case string([StringPart])
    case rawString(String)
    case date(Int32)
    case duration(months: Int32, days: Int32)
    case ident(String)
    /// `$region`: a script parameter, set with --param region=...
    case param(String)
    // keywords
    case kwLet, kwFn, kwImport, kwAssert, kwTrue, kwFalse, kwNull, kwAnd, kwOr, kwNot, kwIn, kwAs
    // punctuation and operators
    case lparen, rparen, lbracket, rbracket, lbrace, rbrace
    case comma, colon, semicolon, dot, pipe, coalesce, arrow, assign
    case eq, ne, lt, le, gt, ge, tilde, plus, minus, star, slash, percent
    case newline
    case eof

    public static let keywords: [String: TokenKind] = [
        "let": .kwLet, "fn": .kwFn, "import": .kwImport, "assert": .kwAssert, "true": .kwTrue,
        "false": .kwFalse, "null": .kwNull, "and": .kwAnd, "or": .kwOr, "not": .kwNot, "in": .kwIn,
        "as": .kwAs,
    ]

    /// How the token reads in an error message.
    public var describe: String {
        switch self {
        case .int(let v): "number \(v)"
        case .float(let v): "number \(v)"
        case .string, .rawString: "string"
        case .date: "date"
        case .duration: "duration"
        case .ident(let n): "'\(n)'"
        case .param(let n): "'$\(n)'"
        case .newline: "end of line"
        case .eof: "end of input"
        default:
            if let word = TokenKind.keywords.first(where: { $0.value == self })?.key { "'\(word)'" } else { "'\(symbol)'" }
        }
    }

    public var symbol: String {
        switch self {
        case .lparen: "("
        case .rparen: ")"
        case .lbracket: "["
        case .rbracket: "]"
        case .lbrace: "{"
        case .rbrace: "}"
        case .comma: ","
        case .colon: ":"
        case .semicolon: ";"
        case .dot: "."
        case .pipe: "|"
        case .coalesce: "??"
        case .arrow: "=>"
        case .assign: "="
        case .eq: "=="
        case .ne: "!="
        case .lt: "<"
        case .le: "<="
        case .gt: ">"
        case .ge: ">="
        case .tilde: "~"
        case .plus: "+"
        case .minus: "-"
        case .star: "*"
        case .slash: "/"
        case .percent: "%"
        default: "?"
        }
    }
}

public struct Token: Sendable {
    public var kind: TokenKind
    public var range: SourceRange
    /// True when whitespace or a comment came right before: `f(x)` calls, `f (x)` in a stage does not.
    public var spaceBefore: Bool
}
