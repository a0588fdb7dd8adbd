/// The one canonical layout of kam source, as gofmt and `zig fmt` have one: `kam fmt`.
///
/// The formatter keeps the author's line breaks, comments and (at most one) blank line,
/// and decides everything else: indentation (two spaces a level; a pipeline's stages two
/// deeper than its head, a stage's continued arguments four deeper than the stage),
/// spacing around operators, commas and brackets, and where a pipeline breaks: a pipeline
/// that spans lines, or does not fit in ``width`` columns, gets one stage per line with a
/// leading `|`. Tokens are copied from the source, never re-spelled, and the result is
/// parsed again and compared with the original tree (``ASTDump``), so formatting never
/// changes what a script means.
///
///     try SourceFormatter.format("accounts|where revenue>1M|take 5")
///     // "accounts | where revenue > 1M | take 5\n"
public enum SourceFormatter {
    /// Lines longer than this break their pipelines one stage per line.
    public static let width = 100

    public enum Failure: Error, Sendable {
        /// The text does not parse: nothing is formatted.
        case syntax(DiagnosticList)
        /// The layout would have changed the program's meaning (a formatter bug): the text
        /// is left as it was.
        case meaningChanged(String)
    }

    /// The formatted text of a kam script.
    public static func format(_ text: String, name: String = "<stdin>") throws(Failure) -> String {
        let source = Source(name: name, text: text)
        let program: Program
        do { program = try Parser.parse(source) } catch { throw .syntax(error) }
        var layout = Layout(source: source, program: program)
        let out = layout.render()
        let again: Program
        do { again = try Parser.parse(Source(name: name, text: out)) } catch {
            throw .meaningChanged("the formatted text does not parse: \(error.diagnostics.first?.message ?? "")")
        }
        guard ASTDump.of(again) == ASTDump.of(program) else {
            throw .meaningChanged("the formatted text parses to a different program")
        }
        return out
    }

    /// Formats the ```kam blocks of a Markdown file; blocks that do not parse (deliberate
    /// mistakes in the docs) are left as they are.
    public static func formatMarkdown(_ text: String, name: String = "<stdin>") -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var i = 0
        while i < lines.count {
            guard lines[i].trimmingTrailingBlanks() == "```kam" else { i += 1; continue }
            var j = i + 1
            while j < lines.count && lines[j].trimmingTrailingBlanks() != "```" { j += 1 }
            guard j < lines.count else { break }
            let code = lines[(i + 1)..<j].joined(separator: "\n") + "\n"
            if let formatted = try? format(code, name: name) {
                var body = formatted.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                if body.last == "" { body.removeLast() }
                lines.replaceSubrange((i + 1)..<j, with: body)
                j = i + 1 + body.count
            }
            i = j + 1
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func trimmingTrailingBlanks() -> String {
        var s = Substring(self)
        while let last = s.last, last == " " || last == "\t" || last == "\r" { s.removeLast() }
        return String(s)
    }
}

/// What lies between two tokens: a comment ending the first one's line, the lines in
/// between (blank or a whole-line comment), and whether the second starts a new line.
struct Gap {
    var trailing: String?
    /// The first line ends with `\` (a continuation, not a statement end).
    var backslash = false
    /// nil: a blank line; otherwise a comment line's text.
    var lines: [String?] = []
    var breaks = false
    /// A line break that the parser does not see (a `\` continuation only).
    var soft: Bool { backslash && lines.isEmpty }
}

/// A bracketed region (or the file): statements in the file and in `fn` blocks,
/// comma-separated items in (), [] and records.
struct Frame {
    enum Kind { case root, block, record, bracket }
    var kind: Kind
    var opener: Int
    var depth: Int
    var closer: Int? = nil
    var isStatements: Bool { kind == .root || kind == .block }
}

/// A statement of a statement frame, or an item of a bracket frame.
struct Segment {
    var frame: Int
    var first: Int
    var pipes: [Int] = []
    var hasBreak = false
    /// The segment's last stage takes command-style arguments, so a comma continues them.
    var inCommandStage = false
}

/// One rendering: the text, each token's line and the column its text ends at, and the
/// lines wider than the limit.
struct Rendering {
    var text: String
    var lineOf: [Int]
    var endColumn: [Int]
    var long: [Int]
    /// The first token of each line; a line's tokens run to the next line's first.
    var starts: [Int]

    func tokens(ofLine n: Int, count: Int) -> Range<Int> { starts[n]..<(n + 1 < starts.count ? starts[n + 1] : count) }
}

struct Layout {
    let source: Source
    var tokens: [Token]
    var originalGaps: [Gap]
    var gaps: [Gap] = []
    var frameOf: [Int]
    var closes: [Int?]
    var frames: [Frame]
    var segmentOf: [Int]
    var segments: [Segment]
    var binaryOperators: Set<Int> = []
    var blockOpeners: Set<Int> = []
    var forced: Set<Int> = []
    /// Commas a line too wide breaks after (when no pipeline on it can break).
    var wraps: Set<Int> = []

    init(source: Source, program: Program) {
        self.source = source
        var lexer = Lexer(source)
        tokens = lexer.tokenize().filter { $0.kind != .newline && $0.kind != .eof }
        originalGaps = []
        frameOf = []
        closes = []
        frames = []
        segmentOf = []
        segments = []
        collectSyntax(program)
        scanGaps()
        buildFrames()
    }

    // MARK: what the tree tells: which '-' is binary, which '{' opens a block

    private mutating func collectSyntax(_ program: Program) {
        var lhsEnds: [Int] = []
        var blocks: [Int] = []
        for s in program.statements {
            s.visit { e in
                switch e.kind {
                case .binary(_, let a, _), .and(let a, _), .or(let a, _), .coalesce(let a, _): lhsEnds.append(a.range.end)
                case .block: blocks.append(e.range.start)
                default: break
                }
            }
        }
        let starts = tokens.map(\.range.start)
        for end in lhsEnds {
            var lo = 0, hi = starts.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if starts[mid] < end { lo = mid + 1 } else { hi = mid }
            }
            if lo < starts.count { binaryOperators.insert(starts[lo]) }
        }
        blockOpeners = Set(blocks)
    }

    // MARK: gaps: comments, blank lines and line breaks between tokens

    private mutating func scanGaps() {
        let bytes = source.bytes
        var previousEnd = 0
        for i in 0...tokens.count {
            let end = i < tokens.count ? tokens[i].range.start : bytes.count
            originalGaps.append(scanGap(bytes, from: previousEnd, to: end, afterToken: i > 0, atEnd: i == tokens.count))
            if i < tokens.count { previousEnd = tokens[i].range.end }
        }
    }

    private func scanGap(_ bytes: [UInt8], from start: Int, to end: Int, afterToken: Bool, atEnd: Bool) -> Gap {
        var gap = Gap()
        var lineEnded = !afterToken
        var comment: String? = nil
        var i = start
        func endLine(backslash: Bool) {
            if !lineEnded {
                lineEnded = true
                gap.breaks = true
                gap.backslash = backslash
            } else {
                gap.lines.append(comment)
                comment = nil
            }
        }
        while i < end {
            let c = bytes[i]
            if c == UInt8(ascii: "#") {
                var j = i
                while j < end && bytes[j] != UInt8(ascii: "\n") { j += 1 }
                let text = String(decoding: bytes[i..<j], as: UTF8.self).trimmingTrailingBlanks()
                if lineEnded { comment = text } else { gap.trailing = text }
                i = j
            } else if c == UInt8(ascii: "\n") {
                endLine(backslash: false)
                i += 1
            } else if c == UInt8(ascii: "\\"), i + 1 < end, bytes[i + 1] == UInt8(ascii: "\n") {
                endLine(backslash: true)
                i += 2
            } else {
                i += 1
            }
        }
        if atEnd || !afterToken {
            if let comment { gap.lines.append(comment) }
        }
        if !afterToken { gap.breaks = false }
        return gap
    }

    // MARK: frames and segments

    private mutating func buildFrames() {
        frames = [Frame(kind: .root, opener: -1, depth: 0)]
        var stack = [0]
        frameOf = Array(repeating: 0, count: tokens.count)
        closes = Array(repeating: nil, count: tokens.count)
        for (i, t) in tokens.enumerated() {
            let top = stack[stack.count - 1]
            switch t.kind {
            // (A closer with no opener, which a parsed program never has, stays in the root.)
            case .rparen where stack.count > 1, .rbracket where stack.count > 1, .rbrace where stack.count > 1:
                closes[i] = top
                frames[top].closer = i
                stack.removeLast()
                frameOf[i] = stack[stack.count - 1]
            case .lparen, .lbracket, .lbrace:
                frameOf[i] = top
                let kind: Frame.Kind =
                    t.kind == .lbrace ? (blockOpeners.contains(t.range.start) ? .block : .record) : .bracket
                frames.append(Frame(kind: kind, opener: i, depth: frames[top].depth + 1))
                stack.append(frames.count - 1)
            default:
                frameOf[i] = top
            }
        }
    }

    private static func continues(_ kind: TokenKind) -> Bool {
        switch kind {
        case .comma, .assign, .arrow, .pipe, .colon, .coalesce, .plus, .minus, .star, .slash, .percent, .eq, .ne, .lt, .le,
            .gt, .ge, .tilde, .kwAnd, .kwOr, .kwNot, .kwIn, .kwAs, .lparen, .lbracket, .lbrace:
            true
        default: false
        }
    }

    private mutating func buildSegments() {
        segments = []
        segmentOf = Array(repeating: 0, count: tokens.count)
        var current: [Int: Int] = [:]  // frame -> its open segment
        for i in tokens.indices {
            let f = frameOf[i]
            let frame = frames[f]
            let firstInFrame = i == frame.opener + 1
            var starts = firstInFrame || current[f] == nil
            if !starts && i > 0 {
                let previous = tokens[i - 1].kind
                if frame.isStatements {
                    // After a stage's trailing ',' a line at column 1 is a new statement, as
                    // the parser reads it; an indented one goes on with the arguments.
                    starts =
                        previous == .semicolon
                        || (gaps[i].breaks && !gaps[i].soft && tokens[i].kind != .pipe
                            && (!Layout.continues(previous) || (previous == .comma && !tokens[i].spaceBefore)))
                } else {
                    // After a stage, commas separate the stage's arguments, not the items:
                    // `f(t | take 5, 2)` is `f(t | take(5, 2))`.
                    starts = previous == .comma && frameOf[i - 1] == f && !segments[current[f] ?? 0].inCommandStage
                }
            }
            if starts {
                segments.append(Segment(frame: f, first: i))
                current[f] = segments.count - 1
            }
            let s = current[f] ?? 0
            segmentOf[i] = s
            if tokens[i].kind == .pipe {
                segments[s].pipes.append(i)
                // `| take 5, 2` takes both; `| g(), 2` ends the stage at its ')'.
                var command = false
                if i + 1 < tokens.count, case .ident = tokens[i + 1].kind {
                    command = !(i + 2 < tokens.count && tokens[i + 2].kind == .lparen && !tokens[i + 2].spaceBefore)
                }
                segments[s].inCommandStage = command
            }
            if !starts && gaps[i].breaks && closes[i] == nil { segments[s].hasBreak = true }
        }
    }

    /// Every stage of a pipeline that spans lines (or is forced for width) on its own line.
    private mutating func breakPipelines() {
        for (s, segment) in segments.enumerated() where !segment.pipes.isEmpty && (segment.hasBreak || forced.contains(s)) {
            for p in segment.pipes where !gaps[p].breaks {
                if p + 1 < tokens.count && gaps[p + 1].breaks {
                    // `a |` at a line's end: the `|` moves to the start of the next line.
                    gaps[p] = gaps[p + 1]
                    gaps[p].backslash = false
                    gaps[p + 1] = Gap()
                } else {
                    gaps[p].breaks = true
                }
            }
            segments[s].hasBreak = true
            for p in segment.pipes where p + 1 < tokens.count && gaps[p].breaks && gaps[p + 1].breaks {
                if gaps[p + 1].trailing == nil && gaps[p + 1].lines.allSatisfy({ $0 == nil }) { gaps[p + 1] = Gap() }
            }
        }
    }

    // MARK: rendering

    func spacing(_ i: Int) -> String {
        let a = tokens[i - 1], b = tokens[i]
        switch b.kind {
        case .comma, .semicolon, .rparen, .rbracket, .colon, .dot: return ""
        case .rbrace:
            if a.kind == .lbrace { return "" }
            return closes[i].map { frames[$0].kind == .block } == true ? " " : ""
        default: break
        }
        switch a.kind {
        case .lparen, .lbracket, .dot: return ""
        case .lbrace:
            return blockOpeners.contains(a.range.start) ? " " : ""
        case .minus where !binaryOperators.contains(a.range.start): return ""
        default: break
        }
        if b.kind == .lparen || b.kind == .lbracket {
            // `f(x)` calls and `x[0]` indexes; `| take (n)` passes a value: keep which one it was.
            switch a.kind {
            case .ident, .int, .float, .string, .rawString, .date, .duration, .param, .kwTrue, .kwFalse, .kwNull, .rparen,
                .rbracket, .rbrace:
                return b.spaceBefore ? " " : ""
            default: break
            }
        }
        return " "
    }

    /// The formatted text.
    mutating func render() -> String {
        while true {
            gaps = originalGaps
            buildSegments()
            breakPipelines()
            for comma in wraps where comma + 1 < tokens.count { gaps[comma + 1].breaks = true }
            let r = emit()
            var grew = false
            for line in r.long {
                // The outermost pipeline on the line that does not fit breaks: one whose
                // stages are on the line and whose text goes past the limit (a short
                // pipeline that a long line merely contains stays as it is).
                var reach: [Int: Int] = [:]
                for i in r.tokens(ofLine: line, count: tokens.count) {
                    reach[segmentOf[i], default: 0] = max(reach[segmentOf[i], default: 0], r.endColumn[i])
                }
                let candidates = reach.keys.sorted().filter { s in
                    !segments[s].hasBreak && (reach[s] ?? 0) > SourceFormatter.width
                        && segments[s].pipes.contains { r.lineOf[$0] == line }
                }
                if let s = candidates.min(by: { frames[segments[$0].frame].depth < frames[segments[$1].frame].depth }) {
                    forced.insert(s)
                    grew = true
                }
            }
            if grew { continue }
            // Still too wide, with no pipeline to break: break after the last comma that
            // fits, in the outermost list of arguments or items on the line.
            for line in r.long {
                // (A comma with only a few characters after it is not worth a line.)
                let onLine = r.tokens(ofLine: line, count: tokens.count)
                let end = onLine.map { r.endColumn[$0] }.max() ?? 0
                let commas = onLine.filter { i in
                    tokens[i].kind == .comma && r.endColumn[i] <= SourceFormatter.width
                        && end - r.endColumn[i] >= 12 && i + 1 < tokens.count && r.lineOf[i + 1] == line
                        && commaMayBreak(i)
                }
                let depths = commas.map { frames[frameOf[$0]].depth }
                guard let shallowest = depths.min(), let at = depths.lastIndex(of: shallowest) else { continue }
                wraps.insert(commas[at])
                grew = true
            }
            if !grew { return r.text }
        }
    }

    /// Whether a line may end after the comma without changing the parse: between items
    /// and arguments in brackets (not a lambda's parameters), and between a command-style
    /// stage's arguments.
    func commaMayBreak(_ i: Int) -> Bool {
        let f = frameOf[i]
        if !frames[f].isStatements {
            if let closer = frames[f].closer, closer + 1 < tokens.count, tokens[closer + 1].kind == .arrow { return false }
            return true
        }
        let first = segments[segmentOf[i]].first
        var j = i - 1
        while j >= first, !(frameOf[j] == f && tokens[j].kind == .pipe) { j -= 1 }
        guard j >= first, j + 1 < tokens.count, case .ident = tokens[j + 1].kind else { return false }
        return !(j + 2 < tokens.count && tokens[j + 2].kind == .lparen && !tokens[j + 2].spaceBefore)
    }

    private var lineStarts: [Int] { tokens.indices.filter { $0 == 0 || gaps[$0].breaks } }

    private func emit() -> Rendering {
        let starts = lineStarts
        var lineIndex = Array(repeating: 0, count: tokens.count)
        for (n, s) in starts.enumerated() {
            let end = n + 1 < starts.count ? starts[n + 1] : tokens.count
            for i in s..<end { lineIndex[i] = n }
        }
        var indents = Array(repeating: 0, count: starts.count)
        var pipeLineSeen = Set<Int>()
        for (n, t) in starts.enumerated() {
            // A segment's stages indent from the line it starts on, which is the opener's
            // line when it starts right after the bracket: `f(x, (t` then `  | stage`.
            if let closed = closes[t] {
                indents[n] = indents[lineIndex[frames[closed].opener]]
                continue
            }
            let f = frameOf[t]
            // Items of a bracket opened on a stage's line indent like the stage's own
            // continued arguments, four deeper than its `|`.
            let openerLine = f == 0 ? 0 : lineIndex[frames[f].opener]
            let base = f == 0 ? 0 : indents[openerLine] + (tokens[starts[openerLine]].kind == .pipe ? 4 : 2)
            let s = segmentOf[t]
            if segments[s].first == t {
                indents[n] = base
                continue
            }
            let anchor = indents[lineIndex[segments[s].first]]
            if tokens[t].kind == .pipe {
                indents[n] = anchor + 2
                pipeLineSeen.insert(s)
            } else {
                indents[n] = pipeLineSeen.contains(s) ? anchor + 6 : anchor + 2
            }
        }
        var out: [String] = []
        var long: [Int] = []
        var endColumn = Array(repeating: 0, count: tokens.count)
        func comments(_ gap: Gap, indent: Int) {
            for line in gap.lines {
                if let text = line {
                    out.append(String(repeating: " ", count: indent) + text)
                } else if let last = out.last, !last.isEmpty {
                    out.append("")
                }
            }
        }
        if let first = starts.first {
            comments(originalGaps[0], indent: indents[lineIndex[first]])
        }
        for (n, s) in starts.enumerated() {
            let end = n + 1 < starts.count ? starts[n + 1] : tokens.count
            var line = String(repeating: " ", count: indents[n])
            var column = indents[n]
            for i in s..<end {
                let piece = (i > s ? spacing(i) : "") + source.slice(tokens[i].range)
                line += piece
                column += displayWidth(piece)
                endColumn[i] = column
            }
            if column > SourceFormatter.width { long.append(n) }
            let next = gaps[end]
            if next.backslash { line += " \\" }
            if let trailing = next.trailing { line += "  " + trailing }
            out.append(line)
            if end < tokens.count {
                let nextIndent = closes[end] != nil ? indents[n + 1] + 2 : indents[n + 1]
                comments(next, indent: nextIndent)
            } else {
                comments(next, indent: 0)
            }
        }
        if tokens.isEmpty { comments(originalGaps[0], indent: 0) }
        while let last = out.last, last.isEmpty { out.removeLast() }
        return Rendering(
            text: out.isEmpty ? "" : out.joined(separator: "\n") + "\n", lineOf: lineIndex, endColumn: endColumn, long: long,
            starts: starts)
    }
}
