/// Recursive-descent parser for kam. Precedence, loosest first:
/// `|`, `??`, `or`, `and`, `not`, comparisons (`== != < <= > >= in ~`), `+ -`, `* / %`,
/// unary `-`, then postfix `.field`, calls and `[index]`.
///
/// The parser recovers after an error (it skips to the next line that starts a statement)
/// so one run reports every syntax error in a file. Nesting is bounded by `maxDepth`.
public struct Parser {
    public static let maxDepth = 200
    /// Operators, stages and field accesses one statement may chain: each adds a level to
    /// the tree the checker and the interpreter walk, so a generated 100,000-term sum is a
    /// clean error rather than a stack overflow.
    public static let maxChain = 10_000

    public let source: Source
    public var tokens: [Token]
    public var index = 0
    /// Inside (), [] and record braces newlines are insignificant.
    public var nesting = 0
    public var depth = 0
    var chainLength = 0
    public private(set) var diagnostics: [Diagnostic] = []

    public init(source: Source, range: SourceRange? = nil) {
        self.source = source
        var lexer = Lexer(source, range: range)
        self.tokens = lexer.tokenize()
        self.diagnostics = lexer.diagnostics
    }

    /// Parses a whole program; throws a `DiagnosticList` with every error found.
    public static func parse(_ source: Source) throws(DiagnosticList) -> Program {
        var parser = Parser(source: source)
        let lexed = parser.diagnostics.count
        let statements = parser.parseProgram()
        if !parser.diagnostics.isEmpty {
            // A parse error on a line the lexer already complained about is usually an echo
            // of the same mistake: keep the lexer's, which says what is wrong.
            let lexLines = Set(parser.diagnostics.prefix(lexed).compactMap { $0.range.map { source.location(of: $0.start).line } })
            let kept = parser.diagnostics.enumerated().filter { i, d in
                i < lexed || !lexLines.contains(d.range.map { source.location(of: $0.start).line } ?? -1)
            }.map(\.element)
            throw DiagnosticList(kept.sorted { ($0.range?.start ?? 0) < ($1.range?.start ?? 0) })
        }
        return Program(statements: statements, source: source)
    }

    /// Whether `text` is an unfinished statement the REPL should keep reading for: an open
    /// bracket, or a last line ending in `|`, `,` or a binary operator.
    public static func isIncomplete(_ text: String) -> Bool {
        // The parser decides, as Lua's REPL does: the input is incomplete when it does not
        // parse and every error is at its very end (an open bracket, a trailing | or
        // operator). A string cannot span lines, so an unterminated one is an error now,
        // not a reason to wait for more.
        let source = Source(name: "<repl>", text: text)
        var lexer = Lexer(source)
        let tokens = lexer.tokenize()
        if lexer.diagnostics.contains(where: { $0.message.hasPrefix("unterminated string") }) { return false }
        guard let last = tokens.last(where: { $0.kind != .newline && $0.kind != .eof }) else { return false }
        // `| rfm recency: r, frequency: f,` parses (a stage's arguments may end at a comma),
        // but a line ending in ',' always goes on.
        if last.kind == .comma { return true }
        let end = last.range.end
        do {
            _ = try Parser.parse(source)
            return false
        } catch {
            return !error.diagnostics.isEmpty && error.diagnostics.allSatisfy { ($0.range?.start ?? 0) >= end }
        }
    }

    // MARK: token helpers

    private func rawPeek() -> Token { tokens[min(index, tokens.count - 1)] }

    /// The next token, skipping newlines when they are insignificant.
    private mutating func peek() -> Token {
        if nesting > 0 { while rawPeek().kind == .newline && !newlineEndsBracket(index) { index += 1 } }
        return rawPeek()
    }

    /// Inside brackets a newline is insignificant, except before a line that starts at
    /// column 1 after a line that looks finished: that is a new statement, and the bracket
    /// was left open by mistake. Stopping there keeps one typo from eating the file.
    private func newlineEndsBracket(_ i: Int) -> Bool {
        var j = i
        while j < tokens.count && tokens[j].kind == .newline { j += 1 }
        guard j < tokens.count, i > 0 else { return false }
        let next = tokens[j]
        if next.spaceBefore { return false }
        switch next.kind {
        case .rparen, .rbracket, .rbrace, .pipe: return false
        case .kwLet, .kwFn, .kwImport, .kwAssert: return true
        default: break
        }
        switch tokens[i - 1].kind {
        case .comma, .lparen, .lbracket, .lbrace, .colon, .assign, .arrow, .coalesce, .plus, .minus, .star, .slash, .percent,
            .eq, .ne, .lt, .le, .gt, .ge, .tilde, .kwAnd, .kwOr, .kwNot, .kwIn, .pipe:
            return false
        default:
            return true
        }
    }

    private mutating func peekKind() -> TokenKind { peek().kind }

    private mutating func peekAhead(_ n: Int) -> TokenKind {
        var i = index
        var seen = 0
        while i < tokens.count {
            if nesting > 0 && tokens[i].kind == .newline && !newlineEndsBracket(i) { i += 1; continue }
            if seen == n { return tokens[i].kind }
            seen += 1
            i += 1
        }
        return .eof
    }

    @discardableResult
    private mutating func advance() -> Token {
        let t = peek()
        if index < tokens.count - 1 { index += 1 }
        return t
    }

    private mutating func check(_ kind: TokenKind) -> Bool { peekKind() == kind }

    private mutating func match(_ kind: TokenKind) -> Bool {
        if check(kind) { advance(); return true }
        return false
    }

    private mutating func skipNewlines() { while rawPeek().kind == .newline { index += 1 } }

    /// Whether the line after a stage's trailing ',' starts a statement of its own: one that
    /// starts at column 1 (and not with '|'). Arguments go on on an indented line; a comma
    /// left after the last argument must not make the next statement an argument.
    private func lineStartsStatement() -> Bool {
        guard rawPeek().kind == .newline else { return false }
        var j = index
        while j < tokens.count && tokens[j].kind == .newline { j += 1 }
        guard j < tokens.count else { return false }
        let next = tokens[j]
        return !next.spaceBefore && next.kind != .pipe && next.kind != .eof
    }

    /// Whether `text` ends with a ',' (the REPL indents the line typed after it, which goes
    /// on with the arguments).
    public static func endsWithComma(_ text: String) -> Bool {
        var lexer = Lexer(Source(name: "<repl>", text: text))
        return lexer.tokenize().last(where: { $0.kind != .newline && $0.kind != .eof })?.kind == .comma
    }

    private func error(_ message: String, _ range: SourceRange, hint: String? = nil) -> Diagnostic {
        Diagnostic(.syntax, message, at: range, in: source, hints: hint.map { [$0] } ?? [])
    }

    private mutating func expect(_ kind: TokenKind, _ what: String, hint: String? = nil) throws(Diagnostic) -> Token {
        let t = peek()
        guard t.kind == kind else {
            throw error("expected \(what), found \(t.kind.describe)", t.range, hint: hint)
        }
        return advance()
    }

    private mutating func expectIdent(_ what: String) throws(Diagnostic) -> (String, SourceRange) {
        let t = peek()
        guard case .ident(let name) = t.kind else {
            var hint: String? = nil
            if TokenKind.keywords.values.contains(t.kind) { hint = "\(t.kind.describe) is a keyword and cannot be used as a name" }
            throw error("expected \(what), found \(t.kind.describe)", t.range, hint: hint)
        }
        advance()
        return (name, t.range)
    }

    /// Counts one more chained operator in the statement (see maxChain).
    private mutating func chained(_ at: SourceRange) throws(Diagnostic) {
        chainLength += 1
        if chainLength > Parser.maxChain {
            throw error("statement too long (more than \(Parser.maxChain) chained operators)", at, hint: "split it into smaller parts with let")
        }
    }

    private mutating func enter(_ at: SourceRange) throws(Diagnostic) {
        depth += 1
        if depth > Parser.maxDepth {
            throw error("expression nested too deeply (more than \(Parser.maxDepth) levels)", at, hint: "split it into smaller parts with let")
        }
    }

    // MARK: statements

    public mutating func parseProgram() -> [Stmt] {
        var statements: [Stmt] = []
        while true {
            while rawPeek().kind == .newline || rawPeek().kind == .semicolon { index += 1 }
            if rawPeek().kind == .eof { break }
            do {
                chainLength = 0
                let stmt = try parseStatement()
                statements.append(stmt)
                try endStatement()
            } catch {
                diagnostics.append(error)
                synchronize()
            }
        }
        return statements
    }

    private mutating func endStatement() throws(Diagnostic) {
        let t = rawPeek()
        switch t.kind {
        case .newline, .semicolon, .eof: return
        default:
            var hint = "put each statement on its own line, or separate them with ';'"
            if case .lparen = t.kind, t.spaceBefore { hint = "a call's '(' must follow the name directly: f(x)" }
            if case .rparen = t.kind { hint = "there is a ')' without a matching '('" }
            if case .rbracket = t.kind { hint = "there is a ']' without a matching '['" }
            throw error("unexpected \(t.kind.describe)", t.range, hint: hint)
        }
    }

    /// Skips to the next line that starts at column 1 with something other than a
    /// continuation, so one error does not hide the next.
    private mutating func synchronize() {
        nesting = 0
        depth = 0
        while rawPeek().kind != .eof {
            let t = tokens[index]
            index += 1
            if t.kind == .newline || t.kind == .semicolon {
                let n = rawPeek()
                let startsLine = t.kind == .semicolon || !n.spaceBefore
                switch n.kind {
                case .pipe, .rparen, .rbracket, .rbrace, .newline, .comma: continue
                default: if startsLine { return }
                }
            }
        }
    }

    public mutating func parseStatement() throws(Diagnostic) -> Stmt {
        let t = peek()
        switch t.kind {
        case .kwLet:
            advance()
            let (name, _) = try expectIdent("a name after 'let'")
            _ = try expect(.assign, "'=' after the name", hint: "write: let \(name) = value")
            skipNewlines()
            let value = try parsePipe()
            return Stmt(.letBinding(name: name, value: value), t.range.to(value.range))
        case .kwFn:
            advance()
            let (name, _) = try expectIdent("a function name after 'fn'")
            _ = try expect(.lparen, "'(' after the function name", hint: "write: fn \(name)(x) = x * 2")
            var params: [String] = []
            nesting += 1
            while !check(.rparen) {
                let (p, _) = try expectIdent("a parameter name")
                params.append(p)
                if !match(.comma) { break }
            }
            _ = try expect(.rparen, "')' after the parameters")
            nesting -= 1
            let body: Expr
            if check(.lbrace) {
                body = try parseBlock()
            } else {
                _ = try expect(.assign, "'=' or '{' after the parameters", hint: "write: fn \(name)(...) = expr, or fn \(name)(...) { ... }")
                skipNewlines()
                body = try parsePipe()
            }
            return Stmt(.function(name: name, params: params, body: body), t.range.to(body.range))
        case .kwImport:
            advance()
            let p = peek()
            switch p.kind {
            case .string(let parts):
                advance()
                guard parts.allSatisfy({ if case .text = $0 { true } else { false } }) else {
                    throw error("an import path cannot be interpolated", p.range, hint: "use a plain string or a 'raw string'")
                }
                let path = parts.map { if case .text(let s) = $0 { s } else { "" } }.joined()
                return Stmt(.importModule(path: path, isFile: true), t.range.to(p.range))
            case .rawString(let s):
                advance()
                return Stmt(.importModule(path: s, isFile: true), t.range.to(p.range))
            case .ident(let name):
                advance()
                return Stmt(.importModule(path: name, isFile: false), t.range.to(p.range))
            default:
                throw error("expected a module name or a file path after 'import'", p.range, hint: "write: import scoring, or import \"lib/presets.kam\"")
            }
        case .kwAssert:
            advance()
            let cond = try parsePipe()
            var message: Expr? = nil
            if match(.comma) { message = try parsePipe() }
            return Stmt(.assertion(condition: cond, message: message), t.range.to(message?.range ?? cond.range))
        case .ident("param") where { if case .ident = tokens[min(index + 1, tokens.count - 1)].kind { true } else { false } }():
            // `param region = "EMEA"` or `param region`: a contextual word, so `param`
            // stays usable as a name elsewhere.
            advance()
            let (name, nameRange) = try expectIdent("a parameter name after 'param'")
            guard match(.assign) else { return Stmt(.parameter(name: name, defaultValue: nil), t.range.to(nameRange)) }
            skipNewlines()
            let value = try parsePipe()
            return Stmt(.parameter(name: name, defaultValue: value), t.range.to(value.range))
        default:
            let e = try parsePipe()
            return Stmt(.expression(e), e.range)
        }
    }

    /// `{ stmt; stmt; expr }`: newlines and ';' separate; the last expression is the value.
    private mutating func parseBlock() throws(Diagnostic) -> Expr {
        let open = try expect(.lbrace, "'{'")
        let saved = nesting
        nesting = 0
        defer { nesting = saved }
        var stmts: [Stmt] = []
        while true {
            while rawPeek().kind == .newline || rawPeek().kind == .semicolon { index += 1 }
            if rawPeek().kind == .rbrace || rawPeek().kind == .eof { break }
            stmts.append(try parseStatement())
            let t = rawPeek()
            if t.kind != .newline && t.kind != .semicolon && t.kind != .rbrace {
                throw error("expected ';', a new line or '}' in the block, found \(t.kind.describe)", t.range)
            }
        }
        let close = try expect(.rbrace, "'}' to close the block", hint: "the block opened here: line \(source.location(of: open.range.start).line)")
        guard let last = stmts.last, case .expression(let value) = last.kind else {
            throw error("a block must end with an expression, its value", open.range.to(close.range), hint: "add the value as the last line of the block")
        }
        return Expr(.block(Array(stmts.dropLast()), value), open.range.to(close.range))
    }

    // MARK: expressions

    public mutating func parsePipe() throws(Diagnostic) -> Expr {
        var lhs = try parseCoalesce()
        while true {
            // A newline followed by '|' continues the pipeline.
            var look = index
            while look < tokens.count && tokens[look].kind == .newline { look += 1 }
            guard look < tokens.count, tokens[look].kind == .pipe else { break }
            index = look
            advance()
            skipNewlines()
            try chained(tokens[max(0, index - 1)].range)
            lhs = try parseStage(lhs)
        }
        return lhs
    }

    private mutating func parseStage(_ input: Expr) throws(Diagnostic) -> Expr {
        let t = peek()
        if case .ident(let name) = t.kind, peekAhead(1) != .arrow {
            advance()
            let callee = Expr(.name(name), t.range)
            let args: [Arg]
            var end = t.range
            if rawPeek().kind == .lparen && !rawPeek().spaceBefore {
                let open = advance()
                nesting += 1
                args = try parseArgs(until: .rparen)
                let close = try expect(.rparen, "')' to close the call", hint: "the call opened here: \(open.range.start)")
                nesting -= 1
                end = close.range
            } else {
                // `chart bar revenue by region`: the chart's kind is a word before its value.
                var kind: [Arg] = []
                if name == "chart", case .ident(let k) = peek().kind, peekAhead(1) != .comma,
                   ["bar", "line", "hist"].contains(k) || { if case .ident = peekAhead(1) { return true } else { return false } }() {
                    let word = advance()
                    kind = [Arg(Expr(.name(k), word.range))]
                }
                args = try kind + parseArgs(until: nil)
                if let last = args.last { end = last.value.range }
            }
            // The range is the stage's own text, so errors point at the stage, not the pipeline.
            return Expr(.call(callee: callee, args: [Arg(input)] + args, piped: true), t.range.to(end))
        }
        if case .ident = t.kind {} else if t.kind != .lparen {
            throw error("expected a stage after '|', found \(t.kind.describe)", t.range, hint: "a stage is a verb or function: | where x > 1, | take 10, | f(a)")
        }
        let f = try parsePostfix()
        return Expr(.call(callee: f, args: [Arg(input)], piped: true), input.range.to(f.range))
    }

    private func isTerminator(_ kind: TokenKind) -> Bool {
        switch kind {
        case .newline, .pipe, .rparen, .rbracket, .rbrace, .semicolon, .eof: true
        default: false
        }
    }

    private mutating func clauseWord() -> String? {
        // (`by` in backquotes is a column's name, not the clause.)
        if case .ident(let w) = peekKind(), w == "by" || w == "on", peek().range.end - peek().range.start == w.utf8.count,
            !isTerminator(peekAhead(1)), peekAhead(1) != .comma, peekAhead(1) != .assign, peekAhead(1) != .colon
        {
            return w
        }
        return nil
    }

    /// Arguments of a call (until ')') or of a command-style stage (until the end of the stage).
    private mutating func parseArgs(until close: TokenKind?) throws(Diagnostic) -> [Arg] {
        var args: [Arg] = []
        var clause: String? = nil
        func atEnd(_ p: inout Parser) -> Bool {
            if let close { return p.check(close) }
            return p.isTerminator(p.peekKind())
        }
        while !atEnd(&self) {
            if let word = clauseWord() {
                advance()
                clause = word
                continue
            }
            var arg: Arg
            let t = peek()
            if case .ident(let name) = t.kind, peekAhead(1) == .assign {
                advance(); advance()
                skipNewlines()
                arg = Arg(close != nil ? try parsePipe() : try parseCoalesce(), style: .assign, name: name)
            } else if case .ident(let name) = t.kind, peekAhead(1) == .colon {
                advance(); advance()
                skipNewlines()
                arg = Arg(close != nil ? try parsePipe() : try parseCoalesce(), style: .named, name: name)
            } else {
                // Inside parentheses a pipeline is an argument; a command-style stage ends at '|'.
                arg = Arg(close != nil ? try parsePipe() : try parseCoalesce())
                if match(.kwAs) {
                    let (alias, _) = try expectIdent("a column name after 'as'")
                    arg.alias = alias
                }
            }
            arg.clause = arg.style == .named ? nil : clause
            args.append(arg)
            if match(.comma) {
                if close == nil && lineStartsStatement() {
                    // Either reading could be meant (the next statement, or one more argument
                    // not indented); neither is taken silently.
                    let comma = tokens[max(0, index - 1)]
                    throw error("a ',' ends the line, and the next line starts a new statement", comma.range,
                        hint: "remove the ',' to end the arguments, or indent the next line to go on with them")
                }
                if close == nil { skipNewlines() }
                continue
            }
            if clauseWord() != nil { continue }
            if !atEnd(&self) {
                let n = peek()
                var hint = "separate arguments with ','"
                if case .ident(let w) = n.kind, let near = Suggest.near(w, in: ["by", "on", "as"]).first { hint = "did you mean '\(near)'?" }
                if case .ident(let w) = n.kind, let habit = Suggest.sqlHabit(w) { hint = habit }
                if n.kind == .assign { hint = "'=' names a new column (total = a + b); use '==' to compare" }
                throw error("unexpected \(n.kind.describe) in the arguments", n.range, hint: hint)
            }
        }
        return args
    }


    private mutating func parseCoalesce() throws(Diagnostic) -> Expr {
        var lhs = try parseOr()
        while match(.coalesce) {
            try chained(lhs.range)
            let rhs = try parseOr()
            lhs = Expr(.coalesce(lhs, rhs), lhs.range.to(rhs.range))
        }
        return lhs
    }


    private mutating func parseOr() throws(Diagnostic) -> Expr {
        var lhs = try parseAnd()
        while match(.kwOr) {
            try chained(lhs.range)
            let rhs = try parseAnd()
            lhs = Expr(.or(lhs, rhs), lhs.range.to(rhs.range))
        }
        return lhs
    }

    private mutating func parseAnd() throws(Diagnostic) -> Expr {
        var lhs = try parseNot()
        while match(.kwAnd) {
            try chained(lhs.range)
            let rhs = try parseNot()
            lhs = Expr(.and(lhs, rhs), lhs.range.to(rhs.range))
        }
        return lhs
    }

    private mutating func parseNot() throws(Diagnostic) -> Expr {
        let t = peek()
        if t.kind == .kwNot {
            advance()
            try enter(t.range)
            defer { depth -= 1 }
            let operand = try parseNot()
            return Expr(.unary(.not, operand), t.range.to(operand.range))
        }
        return try parseComparison()
    }

    private mutating func comparisonOp() -> (BinaryOp, Int)? {
        switch peekKind() {
        case .eq: (.eq, 1)
        case .ne: (.ne, 1)
        case .lt: (.lt, 1)
        case .le: (.le, 1)
        case .gt: (.gt, 1)
        case .ge: (.ge, 1)
        case .tilde: (.match, 1)
        case .kwIn: (.inList, 1)
        case .kwNot: peekAhead(1) == .kwIn ? (.notIn, 2) : nil
        default: nil
        }
    }

    private mutating func parseComparison() throws(Diagnostic) -> Expr {
        let lhs = try parseAdditive()
        guard let (op, n) = comparisonOp() else { return lhs }
        let opToken = peek()
        for _ in 0..<n { advance() }
        let rhs = try parseAdditive()
        let result = Expr(.binary(op, lhs, rhs), lhs.range.to(rhs.range))
        if let (_, _) = comparisonOp() {
            let t = peek()
            throw error("comparisons cannot be chained", t.range, hint: "write a \(opToken.kind.symbol) b and b ... c")
        }
        return result
    }

    private mutating func parseAdditive() throws(Diagnostic) -> Expr {
        var lhs = try parseMultiplicative()
        while true {
            let op: BinaryOp
            switch peekKind() {
            case .plus: op = .add
            case .minus: op = .sub
            default: return lhs
            }
            advance()
            try chained(lhs.range)
            let rhs = try parseMultiplicative()
            lhs = Expr(.binary(op, lhs, rhs), lhs.range.to(rhs.range))
        }
    }

    private mutating func parseMultiplicative() throws(Diagnostic) -> Expr {
        var lhs = try parseUnary()
        while true {
            let op: BinaryOp
            switch peekKind() {
            case .star: op = .mul
            case .slash: op = .div
            case .percent: op = .mod
            default: return lhs
            }
            advance()
            try chained(lhs.range)
            let rhs = try parseUnary()
            lhs = Expr(.binary(op, lhs, rhs), lhs.range.to(rhs.range))
        }
    }

    private mutating func parseUnary() throws(Diagnostic) -> Expr {
        let t = peek()
        if t.kind == .minus {
            advance()
            try enter(t.range)
            defer { depth -= 1 }
            let operand = try parseUnary()
            switch operand.kind {
            case .int(let v) where v != Int64.min: return Expr(.int(-v), t.range.to(operand.range))
            case .float(let v): return Expr(.float(-v), t.range.to(operand.range))
            default: return Expr(.unary(.negate, operand), t.range.to(operand.range))
            }
        }
        if t.kind == .plus {
            throw error("unexpected '+'", t.range, hint: "numbers need no leading '+'")
        }
        return try parsePostfix()
    }

    private mutating func parsePostfix() throws(Diagnostic) -> Expr {
        var e = try parsePrimary()
        while true {
            let t = rawPeek()
            switch t.kind {
            case .dot:
                advance()
                try chained(e.range)
                let n = peek()
                switch n.kind {
                case .ident(let name):
                    advance()
                    e = Expr(.member(e, name), e.range.to(n.range))
                case let k where TokenKind.keywords.values.contains(k):
                    // Keywords are fine as field names: r.in, row.as
                    advance()
                    e = Expr(.member(e, TokenKind.keywords.first { $0.value == k }?.key ?? ""), e.range.to(n.range))
                default:
                    throw error("expected a field name after '.', found \(n.kind.describe)", n.range)
                }
            case .lparen where !t.spaceBefore:
                let open = advance()
                try enter(open.range)
                nesting += 1
                let args = try parseArgs(until: .rparen)
                let close = try expect(.rparen, "')' to close the call", hint: "the call opened at column \(source.location(of: open.range.start).column)")
                nesting -= 1
                depth -= 1
                e = Expr(.call(callee: e, args: args, piped: false), e.range.to(close.range))
            case .lbracket where !t.spaceBefore:
                let open = advance()
                try enter(open.range)
                nesting += 1
                let i = try parsePipe()
                let close = try expect(.rbracket, "']' to close the index")
                nesting -= 1
                depth -= 1
                e = Expr(.index(e, i), e.range.to(close.range))
            default:
                return e
            }
        }
    }

    private mutating func isLambdaAhead() -> Bool {
        // '(' [ident {',' ident}] ')' '=>'
        var i = index + 1
        func kind(_ i: Int) -> TokenKind { i < tokens.count ? tokens[i].kind : .eof }
        while kind(i) == .newline { i += 1 }
        if kind(i) == .rparen { return kind(i + 1) == .arrow }
        while true {
            guard case .ident = kind(i) else { return false }
            i += 1
            if kind(i) == .comma { i += 1; continue }
            if kind(i) == .rparen { return kind(i + 1) == .arrow }
            return false
        }
    }

    private mutating func parsePrimary() throws(Diagnostic) -> Expr {
        let t = peek()
        switch t.kind {
        case .int(let v): advance(); return Expr(.int(v), t.range)
        case .float(let v): advance(); return Expr(.float(v), t.range)
        case .date(let d): advance(); return Expr(.date(d), t.range)
        case .duration(let m, let d): advance(); return Expr(.duration(months: m, days: d), t.range)
        case .kwTrue: advance(); return Expr(.bool(true), t.range)
        case .kwFalse: advance(); return Expr(.bool(false), t.range)
        case .kwNull: advance(); return Expr(.null, t.range)
        case .rawString(let s): advance(); return Expr(.string(s), t.range)
        case .param(let name): advance(); return Expr(.param(name), t.range)
        case .string(let parts):
            advance()
            return try stringExpr(parts, t.range)
        case .ident(let name):
            advance()
            if peekKind() == .arrow {
                advance()
                try enter(t.range)
                defer { depth -= 1 }
                skipNewlines()
                let body = try parsePipe()
                return Expr(.lambda(params: [name], body: body), t.range.to(body.range))
            }
            // `load "file.csv"`: the one function commonly written without parentheses.
            if name == "load", case .string = rawPeek().kind {
                let arg = try parsePrimary()
                return Expr(.call(callee: Expr(.name(name), t.range), args: [Arg(arg)], piped: false), t.range.to(arg.range))
            }
            return Expr(.name(name), t.range)
        case .lparen:
            try enter(t.range)
            defer { depth -= 1 }
            if isLambdaAhead() {
                advance()
                nesting += 1
                var params: [String] = []
                while !check(.rparen) {
                    let (p, _) = try expectIdent("a parameter name")
                    params.append(p)
                    if !match(.comma) { break }
                }
                _ = try expect(.rparen, "')'")
                nesting -= 1
                _ = try expect(.arrow, "'=>'")
                skipNewlines()
                let body = try parsePipe()
                return Expr(.lambda(params: params, body: body), t.range.to(body.range))
            }
            advance()
            nesting += 1
            let inner = try parsePipe()
            let close = try expect(.rparen, "')'", hint: "the '(' at line \(source.location(of: t.range.start).line), column \(source.location(of: t.range.start).column) is not closed")
            nesting -= 1
            return Expr(inner.kind, t.range.to(close.range))
        case .lbracket:
            try enter(t.range)
            defer { depth -= 1 }
            advance()
            nesting += 1
            var items: [Expr] = []
            while !check(.rbracket) {
                items.append(try parsePipe())
                if !match(.comma) { break }
            }
            let close = try expect(.rbracket, "']' to close the list", hint: "separate items with ','")
            nesting -= 1
            return Expr(.list(items), t.range.to(close.range))
        case .lbrace:
            try enter(t.range)
            defer { depth -= 1 }
            advance()
            nesting += 1
            var fields: [(String, Expr)] = []
            while !check(.rbrace) {
                let k = peek()
                let key: String
                switch k.kind {
                case .ident(let n): key = n
                case .rawString(let s): key = s
                case .string(let parts) where parts.allSatisfy({ if case .text = $0 { true } else { false } }):
                    key = parts.map { if case .text(let s) = $0 { s } else { "" } }.joined()
                default:
                    if let word = TokenKind.keywords.first(where: { $0.value == k.kind })?.key { key = word } else {
                        throw error("expected a field name in the record, found \(k.kind.describe)", k.range, hint: "records are written {name: value, ...}")
                    }
                }
                advance()
                if fields.contains(where: { $0.0 == key }) {
                    throw error("duplicate field '\(key)' in the record", k.range)
                }
                if check(.comma) || check(.rbrace) {
                    fields.append((key, Expr(.name(key), k.range)))  // {a} is {a: a}
                } else {
                    _ = try expect(.colon, "':' after the field name", hint: "records are written {name: value, ...}")
                    fields.append((key, try parsePipe()))
                }
                if !match(.comma) { break }
            }
            let close = try expect(.rbrace, "'}' to close the record", hint: "separate fields with ','")
            nesting -= 1
            return Expr(.record(fields), t.range.to(close.range))
        case .eof:
            // Point just after the last real token, not at an empty last line.
            var j = index - 1
            while j > 0 && tokens[j].kind == .newline { j -= 1 }
            let at = j >= 0 && j < tokens.count ? SourceRange(tokens[j].range.end, tokens[j].range.end) : t.range
            throw error("unexpected end of input", at, hint: "the expression is not finished")
        case .newline:
            throw error("unexpected end of line", t.range, hint: "the expression is not finished; continue it on the same line")
        case .assign:
            throw error("unexpected '='", t.range, hint: "use '==' to compare")
        default:
            throw error("unexpected \(t.kind.describe)", t.range, hint: "expected a value, a name or '('")
        }
    }

    private mutating func stringExpr(_ parts: [StringPart], _ range: SourceRange) throws(Diagnostic) -> Expr {
        if parts.allSatisfy({ if case .text = $0 { true } else { false } }) {
            return Expr(.string(parts.map { if case .text(let s) = $0 { s } else { "" } }.joined()), range)
        }
        var out: [InterpPart] = []
        for part in parts {
            switch part {
            case .text(let s): out.append(.text(s))
            case .expr(let r):
                var sub = Parser(source: source, range: r)
                sub.depth = depth
                if sub.rawPeek().kind == .eof {
                    throw error("empty interpolation '{}' in string", SourceRange(r.start - 1, r.end + 1), hint: "write \\{ for a literal brace")
                }
                let e = try sub.parsePipe()
                if !sub.diagnostics.isEmpty, let first = sub.diagnostics.first { throw first }
                if sub.rawPeek().kind != .eof {
                    throw error("unexpected \(sub.rawPeek().kind.describe) in the interpolation", sub.rawPeek().range)
                }
                out.append(.expr(e))
            }
        }
        return Expr(.interpolation(out), range)
    }
}
