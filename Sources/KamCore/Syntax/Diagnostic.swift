/// What kind of failure a diagnostic reports; it decides the process exit code.
public enum DiagnosticKind: Sendable {
    case syntax, runtime, data, usage, warning

    /// Exit codes: 1 runtime error or failed assert, 2 usage, 3 syntax, 4 data.
    public var exitCode: Int32 {
        switch self {
        case .runtime: 1
        case .usage: 2
        case .syntax: 3
        case .data: 4
        case .warning: 0
        }
    }
}

/// An error as a value: a message, where it happened, and hints on how to fix it.
///
/// Rendered as a compiler would:
/// ```
/// plan.kam:2:9: error: unknown name 'revenu'
///  2 | top 10 by revenu
///    |           ^^^^^^
/// hint: did you mean 'revenue'?
/// ```
public struct Diagnostic: Error, Sendable {
    public var kind: DiagnosticKind
    public var message: String
    public var range: SourceRange?
    public var source: Source?
    public var hints: [String]
    /// Extra lines printed after the hints (a call chain, examples of bad rows).
    public var notes: [String]

    public init(
        _ kind: DiagnosticKind, _ message: String, at range: SourceRange? = nil, in source: Source? = nil,
        hints: [String] = [], notes: [String] = []
    ) {
        self.kind = kind
        self.message = message
        self.range = range
        self.source = source
        self.hints = hints
        self.notes = notes
    }

    public func withHint(_ hint: String?) -> Diagnostic {
        var d = self
        if let hint { d.hints.append(hint) }
        return d
    }

    /// The text printed on stderr: location, message, the source line with a caret
    /// underline of the range, then hints and notes.
    public func render() -> String {
        let label = kind == .warning ? "warning" : "error"
        var out = ""
        if let source, let range {
            let (line, column) = source.location(of: range.start)
            out += "\(source.name):\(line):\(column): \(label): \(message)\n"
            let text = source.lineText(line)
            let gutter = String(line)
            out += " \(gutter) | \(text)\n"
            let prefix = String(text.unicodeScalars.prefix(column - 1).map(Character.init))
            let (endLine, endColumn) = source.location(of: range.end)
            let underlineEnd = endLine == line ? endColumn : text.unicodeScalars.count + 1
            let underlinedScalars = text.unicodeScalars.dropFirst(column - 1).prefix(max(0, underlineEnd - column))
            let width = max(1, displayWidth(String(String.UnicodeScalarView(underlinedScalars))))
            let pad = String(repeating: " ", count: displayWidth(prefix))
            out += " \(String(repeating: " ", count: gutter.count)) | \(pad)\(String(repeating: "^", count: width))\n"
        } else if let source {
            out += "\(source.name): \(label): \(message)\n"
        } else {
            out += "\(label): \(message)\n"
        }
        for hint in hints { out += "hint: \(hint)\n" }
        for note in notes { out += "\(note)\n" }
        return out
    }
}

/// Several diagnostics at once: a parse that recovered and found more than one error.
public struct DiagnosticList: Error, Sendable {
    public var diagnostics: [Diagnostic]
    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
    public func render() -> String { diagnostics.map { $0.render() }.joined() }
    public var exitCode: Int32 { diagnostics.map(\.kind.exitCode).max() ?? 1 }
}
