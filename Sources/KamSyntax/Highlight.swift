/// Syntax colouring for a line of kam, with ANSI escapes, for the REPL to draw the line it
/// has just read in colour.
///
///     Highlight.ansi("accounts | where tier == \"A\"  # key")
///     // accounts \e[1m|\e[0m \e[34mwhere\e[0m tier == \e[32m"A"\e[0m  \e[2m# key\e[0m
///
/// The tokens are the lexer's, so the colours never disagree with what the parser reads:
/// keywords magenta, the verb after a `|` blue, strings green, numbers, dates and durations
/// cyan, `$parameters` yellow, comments dim. Text the lexer rejects is left as it is.
public enum Highlight {
    public enum Role: Equatable, Sendable {
        case keyword, verb, string, number, parameter, comment, pipe
    }

    static func code(_ role: Role) -> String {
        switch role {
        case .keyword: "35"
        case .verb: "34"
        case .string: "32"
        case .number: "36"
        case .parameter: "33"
        case .comment: "2"
        case .pipe: "1"
        }
    }

    /// The coloured spans of `text`: byte ranges with their role, in order.
    public static func spans(_ text: String) -> [(range: SourceRange, role: Role)] {
        let source = Source(name: "<line>", text: text)
        var lexer = Lexer(source)
        let tokens = lexer.tokenize()
        var spans: [(range: SourceRange, role: Role)] = []
        var previous: TokenKind? = nil
        var gapStart = 0
        for token in tokens {
            // A comment sits in the gap before a token (the lexer skips it with the blanks).
            if let hash = source.bytes[gapStart..<token.range.start].firstIndex(of: UInt8(ascii: "#")) {
                let end = source.bytes[hash..<token.range.start].firstIndex(of: UInt8(ascii: "\n")) ?? token.range.start
                spans.append((SourceRange(hash, end), .comment))
            }
            gapStart = token.range.end
            let role: Role?
            switch token.kind {
            case .kwLet, .kwFn, .kwImport, .kwAssert, .kwTrue, .kwFalse, .kwNull, .kwAnd, .kwOr, .kwNot, .kwIn, .kwAs:
                role = .keyword
            case .string, .rawString: role = .string
            case .int, .float, .date, .duration: role = .number
            case .param: role = .parameter
            case .pipe: role = .pipe
            case .ident: role = previous == .pipe ? .verb : nil
            default: role = nil
            }
            if let role, token.range.end > token.range.start { spans.append((token.range, role)) }
            previous = token.kind
        }
        return spans
    }

    /// `text` with ANSI colours around each span.
    public static func ansi(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        var at = 0
        for (range, role) in spans(text) where range.start >= at && range.end <= bytes.count {
            out += bytes[at..<range.start]
            out += Array("\u{1B}[\(code(role))m".utf8)
            out += bytes[range.start..<range.end]
            out += Array("\u{1B}[0m".utf8)
            at = range.end
        }
        out += bytes[at...]
        return String(decoding: out, as: UTF8.self)
    }
}
