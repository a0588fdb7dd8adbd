/// Turns source bytes into tokens. Works on UTF-8 bytes, never on Characters.
///
/// Errors do not stop the lexer: a bad token is reported and skipped, so the parser can go
/// on and report every problem in the file at once.
public struct Lexer {
    public let source: Source
    public let bytes: [UInt8]
    public var pos: Int
    public let end: Int
    public private(set) var diagnostics: [Diagnostic] = []

    public init(_ source: Source, range: SourceRange? = nil) {
        self.source = source
        self.bytes = source.bytes
        self.pos = range?.start ?? 0
        self.end = min(range?.end ?? source.bytes.count, source.bytes.count)
    }

    public mutating func tokenize() -> [Token] {
        var tokens: [Token] = []
        if pos == 0, end >= 2, bytes[0] == UInt8(ascii: "#"), bytes[1] == UInt8(ascii: "!") {
            while pos < end && bytes[pos] != UInt8(ascii: "\n") { pos += 1 }  // shebang line
        }
        var space = true
        while true {
            space = skipSpace() || space
            guard pos < end else {
                tokens.append(Token(kind: .eof, range: SourceRange(end, end), spaceBefore: space))
                return tokens
            }
            let start = pos
            if let kind = next() {
                tokens.append(Token(kind: kind, range: SourceRange(start, pos), spaceBefore: space))
                space = false
            } else {
                space = true
            }
        }
    }

    private func peek(_ k: Int = 0) -> UInt8 { pos + k < end ? bytes[pos + k] : 0 }

    /// Skips blanks and comments (not newlines); returns whether anything was skipped.
    private mutating func skipSpace() -> Bool {
        let start = pos
        while pos < end {
            let c = bytes[pos]
            if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") {
                pos += 1
            } else if c == UInt8(ascii: "#") {
                while pos < end && bytes[pos] != UInt8(ascii: "\n") { pos += 1 }
            } else if c == UInt8(ascii: "\\") && peek(1) == UInt8(ascii: "\n") {
                pos += 2  // explicit line continuation
            } else {
                break
            }
        }
        return pos != start
    }

    private mutating func error(_ message: String, _ start: Int, _ stop: Int, hint: String? = nil) {
        diagnostics.append(
            Diagnostic(.syntax, message, at: SourceRange(start, max(stop, start + 1)), in: source, hints: hint.map { [$0] } ?? []))
    }

    private mutating func next() -> TokenKind? {
        let start = pos
        let c = bytes[pos]
        pos += 1
        switch c {
        case UInt8(ascii: "\n"): return .newline
        case UInt8(ascii: "("): return .lparen
        case UInt8(ascii: ")"): return .rparen
        case UInt8(ascii: "["): return .lbracket
        case UInt8(ascii: "]"): return .rbracket
        case UInt8(ascii: "{"): return .lbrace
        case UInt8(ascii: "}"): return .rbrace
        case UInt8(ascii: ","): return .comma
        case UInt8(ascii: ":"): return .colon
        case UInt8(ascii: ";"): return .semicolon
        case UInt8(ascii: "."): return .dot
        case UInt8(ascii: "|"):
            if peek() == UInt8(ascii: "|") {
                pos += 1
                error("unexpected '||'", start, pos, hint: "use 'or'")
                return .kwOr
            }
            return .pipe
        case UInt8(ascii: "~"): return .tilde
        case UInt8(ascii: "+"): return .plus
        case UInt8(ascii: "-"): return .minus
        case UInt8(ascii: "*"): return .star
        case UInt8(ascii: "/"): return .slash
        case UInt8(ascii: "%"): return .percent
        case UInt8(ascii: "?"):
            if peek() == UInt8(ascii: "?") { pos += 1; return .coalesce }
            error("unexpected '?'", start, pos, hint: "use '??' for a default when a value is null, or if(cond, a, b)")
            return .coalesce
        case UInt8(ascii: "="):
            if peek() == UInt8(ascii: "=") { pos += 1; return .eq }
            if peek() == UInt8(ascii: ">") { pos += 1; return .arrow }
            return .assign
        case UInt8(ascii: "!"):
            if peek() == UInt8(ascii: "=") { pos += 1; return .ne }
            error("unexpected '!'", start, pos, hint: "use 'not' for negation and '!=' for inequality")
            return .kwNot
        case UInt8(ascii: "<"):
            if peek() == UInt8(ascii: "=") { pos += 1; return .le }
            if peek() == UInt8(ascii: ">") { pos += 1; error("unexpected '<>'", start, pos, hint: "use '!=' for inequality"); return .ne }
            return .lt
        case UInt8(ascii: ">"):
            if peek() == UInt8(ascii: "=") { pos += 1; return .ge }
            return .gt
        case UInt8(ascii: "&"), UInt8(ascii: "^"):
            if c == UInt8(ascii: "&") && peek() == UInt8(ascii: "&") { pos += 1 }
            error("unexpected '\(String(decoding: bytes[start..<pos], as: UTF8.self))'", start, pos, hint: c == UInt8(ascii: "&") ? "use 'and'" : "use pow(x, y) for powers")
            return c == UInt8(ascii: "&") ? .kwAnd : .star
        case UInt8(ascii: "\""): return lexString(start)
        case UInt8(ascii: "'"): return lexRawString(start)
        case UInt8(ascii: "`"):
            // `Annual Revenue`: a name that is not a plain word (a CSV header with spaces,
            // a column called by), written in backquotes; it is a name like any other.
            let first = pos
            while pos < end && bytes[pos] != UInt8(ascii: "`") && bytes[pos] != UInt8(ascii: "\n") { pos += 1 }
            guard pos < end, bytes[pos] == UInt8(ascii: "`"), pos > first else {
                error(pos > first || pos >= end || bytes[pos] == UInt8(ascii: "\n") ? "unterminated name in backquotes" : "empty name in backquotes",
                      start, pos, hint: "a name in backquotes ends on its line: `Annual Revenue`")
                return nil
            }
            let name = String(decoding: bytes[first..<pos], as: UTF8.self)
            pos += 1
            return .ident(name)
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return lexNumber(start)
        case UInt8(ascii: "$"):
            guard pos < end, isIdentStart(bytes[pos]) else {
                error("expected a parameter name after '$'", start, pos, hint: "write $region and run with --param region=EMEA")
                return nil
            }
            while pos < end && isIdentChar(bytes[pos]) { pos += 1 }
            return .param(String(decoding: bytes[(start + 1)..<pos], as: UTF8.self))
        default:
            if isIdentStart(c) {
                while pos < end && isIdentChar(bytes[pos]) { pos += 1 }
                let word = String(decoding: bytes[start..<pos], as: UTF8.self)
                return TokenKind.keywords[word] ?? .ident(word)
            }
            // Skip one whole UTF-8 scalar so the message names the character.
            while pos < end && bytes[pos] & 0xC0 == 0x80 { pos += 1 }
            let text = String(decoding: bytes[start..<pos], as: UTF8.self)
            error("unexpected character '\(text)'", start, pos)
            return nil
        }
    }

    private func isIdentStart(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || c == UInt8(ascii: "_") || c >= 0xC0
    }
    private func isIdentChar(_ c: UInt8) -> Bool {
        isIdentStart(c) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || (c >= 0x80)
    }
    private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    private mutating func lexNumber(_ start: Int) -> TokenKind? {
        // Date literal: exactly dddd-dd-dd.
        if end - start >= 10, (0..<10).allSatisfy({ i in i == 4 || i == 7 ? bytes[start + i] == UInt8(ascii: "-") : isDigit(bytes[start + i]) }),
            start + 10 >= end || !isIdentChar(bytes[start + 10])
        {
            pos = start + 10
            let bytes = self.bytes
            let digits = { (a: Int, n: Int) -> Int in (0..<n).reduce(0) { $0 * 10 + Int(bytes[a + $1] - 48) } }
            let y = digits(start, 4), m = digits(start + 5, 2), d = digits(start + 8, 2)
            guard let days = Calendar.days(year: y, month: m, day: d) else {
                error("invalid date \(source.slice(SourceRange(start, pos)))", start, pos, hint: "dates are written YYYY-MM-DD")
                return .kwNull
            }
            return .date(days)
        }
        pos = start
        var digits: [UInt8] = []
        var isFloat = false
        func scanDigits() {
            while pos < end && (isDigit(bytes[pos]) || (bytes[pos] == UInt8(ascii: "_") && pos + 1 < end && isDigit(bytes[pos + 1]))) {
                if bytes[pos] != UInt8(ascii: "_") { digits.append(bytes[pos]) }
                pos += 1
            }
        }
        scanDigits()
        if peek() == UInt8(ascii: "."), isDigit(peek(1)) {
            isFloat = true
            digits.append(UInt8(ascii: "."))
            pos += 1
            scanDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E"),
            isDigit(peek(1)) || ((peek(1) == UInt8(ascii: "-") || peek(1) == UInt8(ascii: "+")) && isDigit(peek(2)))
        {
            isFloat = true
            digits.append(UInt8(ascii: "e"))
            pos += 1
            if !isDigit(peek()) { digits.append(bytes[pos]); pos += 1 }
            scanDigits()
        }
        let text = String(decoding: digits, as: UTF8.self)
        // Suffix: k/M/B multipliers or d/w/mo/y durations.
        let suffixStart = pos
        while pos < end && isIdentChar(bytes[pos]) { pos += 1 }
        let suffix = String(decoding: bytes[suffixStart..<pos], as: UTF8.self)
        switch suffix {
        case "":
            if isFloat {
                guard let v = Double(text), v.isFinite else { error("number out of range", start, pos); return .float(0) }
                return .float(v)
            }
            guard let v = Int64(text) else {
                error("integer literal \(text) does not fit in 64 bits", start, pos, hint: "write it as a float, e.g. \(text).0")
                return .int(0)
            }
            return .int(v)
        case "k", "K", "M", "B":
            let scale: Double = suffix == "M" ? 1e6 : suffix == "B" ? 1e9 : 1e3
            guard let base = Double(text) else { error("bad number", start, pos); return .int(0) }
            let v = base * scale
            if v.rounded() == v && abs(v) < 9.2e18 { return .int(Int64(v)) }
            return .float(v)
        case "d", "w", "mo", "y":
            guard !isFloat, let n = Int32(text) else {
                error("a duration needs a whole number", start, pos, hint: "write e.g. 90d, 12w, 6mo or 1y")
                return .duration(months: 0, days: 0)
            }
            switch suffix {
            case "d": return .duration(months: 0, days: n)
            case "w":
                let (v, o) = n.multipliedReportingOverflow(by: 7)
                if o { error("duration too large", start, pos) }
                return .duration(months: 0, days: o ? 0 : v)
            case "mo": return .duration(months: n, days: 0)
            default:
                let (v, o) = n.multipliedReportingOverflow(by: 12)
                if o { error("duration too large", start, pos) }
                return .duration(months: o ? 0 : v, days: 0)
            }
        default:
            error(
                "unknown number suffix '\(suffix)'", suffixStart, pos,
                hint: "numbers take k, M or B (250k, 1.5M, 2B); durations d, w, mo or y (90d, 6mo)")
            return .int(0)
        }
    }

    /// `"text {expr} more"`: escapes \n \t \r \\ \" \{ \} \u{XXXX}; `{` opens an interpolation.
    private mutating func lexString(_ start: Int) -> TokenKind? {
        var parts: [StringPart] = []
        var buffer: [UInt8] = []
        func flush() {
            if !buffer.isEmpty { parts.append(.text(String(decoding: buffer, as: UTF8.self))); buffer.removeAll() }
        }
        while pos < end {
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") {
                pos += 1
                flush()
                return .string(parts)
            }
            if c == UInt8(ascii: "\\") {
                let escStart = pos
                pos += 1
                guard pos < end else { break }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "n"): buffer.append(10)
                case UInt8(ascii: "t"): buffer.append(9)
                case UInt8(ascii: "r"): buffer.append(13)
                case UInt8(ascii: "0"): buffer.append(0)
                case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "'"): buffer.append(e)
                case UInt8(ascii: "u"):
                    var hex = 0, ok = peek() == UInt8(ascii: "{"), count = 0
                    if ok {
                        pos += 1
                        while pos < end, let d = hexValue(bytes[pos]) { hex = hex * 16 + d; pos += 1; count += 1; if count > 6 { break } }
                        ok = peek() == UInt8(ascii: "}") && count > 0
                        if ok { pos += 1 }
                    }
                    if ok, let scalar = Unicode.Scalar(UInt32(clamping: hex)) {
                        buffer.append(contentsOf: Array(String(Character(scalar)).utf8))
                    } else {
                        error("invalid unicode escape", escStart, pos, hint: "write \\u{1F600}")
                    }
                default:
                    error("unknown escape '\\\(Character(Unicode.Scalar(e)))'", escStart, pos, hint: "escapes are \\n \\t \\r \\\\ \\\" \\{ \\} \\u{...}; use a 'raw string' to keep backslashes")
                }
                continue
            }
            if c == UInt8(ascii: "{") {
                flush()
                let exprStart = pos + 1
                var depth = 1
                pos += 1
                while pos < end && depth > 0 {
                    let b = bytes[pos]
                    if b == UInt8(ascii: "{") { depth += 1 }
                    else if b == UInt8(ascii: "}") { depth -= 1 }
                    else if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") {
                        // skip a nested string
                        pos += 1
                        while pos < end && bytes[pos] != b && bytes[pos] != UInt8(ascii: "\n") {
                            if bytes[pos] == UInt8(ascii: "\\") { pos += 1 }
                            pos += 1
                        }
                    } else if b == UInt8(ascii: "\n") { break }
                    if depth > 0 { pos += 1 }
                }
                guard depth == 0, pos < end else {
                    error("unclosed '{' in string", exprStart - 1, exprStart, hint: "close the interpolation with '}', or write \\{ for a literal brace")
                    return .string(parts)
                }
                parts.append(.expr(SourceRange(exprStart, pos)))
                pos += 1
                continue
            }
            if c == UInt8(ascii: "\n") { break }
            buffer.append(c)
            pos += 1
        }
        error("unterminated string", start, pos, hint: "close the string with \" on the same line")
        flush()
        return .string(parts)
    }

    /// `'raw text'`: no escapes, no interpolation; '' stands for one quote.
    private mutating func lexRawString(_ start: Int) -> TokenKind? {
        var buffer: [UInt8] = []
        while pos < end {
            let c = bytes[pos]
            if c == UInt8(ascii: "'") {
                if peek(1) == UInt8(ascii: "'") { buffer.append(c); pos += 2; continue }
                pos += 1
                return .rawString(String(decoding: buffer, as: UTF8.self))
            }
            if c == UInt8(ascii: "\n") { break }
            buffer.append(c)
            pos += 1
        }
        error("unterminated string", start, pos, hint: "close the string with ' on the same line")
        return .rawString(String(decoding: buffer, as: UTF8.self))
    }

    private func hexValue(_ c: UInt8) -> Int? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(c - 48)
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(c - 87)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(c - 55)
        default: nil
        }
    }
}
