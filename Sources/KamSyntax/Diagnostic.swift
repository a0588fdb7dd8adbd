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
    /// For errors in data files: `file:line` (or `file:line:column`) to report instead of a
    /// script position.
    public var fileLocation: String?
    /// The row of the table being evaluated where a row expression failed; the evaluator
    /// that knows the table turns it into a note (`note: in row 2 of orders (id 57)`).
    public var row: Int?
    /// The table `row` is a row of (its identity), once an evaluator has placed it, and the
    /// note that says so (replaced when a row of a subset is placed in the table it is of).
    public var rowTable: ObjectIdentifier?
    public var rowNote: Int?
    /// `row` of an error the row's own values caused, before the evaluator knows which row.
    public static let thisRow = -1
    public static func inThisRow(_ d: Diagnostic) -> Diagnostic { d.inRow(thisRow) }

    /// The same error, placed at row `i` of the table being evaluated.
    public func inRow(_ i: Int) -> Diagnostic {
        var d = self
        d.row = i
        return d
    }

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

    /// The source line and a caret underline of the range. A very long line is shown as
    /// a window around the error.
    public func excerpt(_ source: Source, _ range: SourceRange, line: Int, column: Int) -> String {
        var scalars = Array(source.lineText(line).unicodeScalars)
        let (endLine, endColumn) = source.location(of: range.end)
        var start = column - 1
        var stop = endLine == line ? max(start + 1, endColumn - 1) : scalars.count
        var lead = ""
        if scalars.count > 120 {
            let from = max(0, start - 60)
            let to = min(scalars.count, from + 100)
            lead = from > 0 ? "…" : ""
            let trail = to < scalars.count ? "…" : ""
            scalars = Array(scalars[from..<to])
            start = start - from
            stop = min(stop - from, scalars.count)
            scalars += trail.unicodeScalars
        }
        let text = lead + String(String.UnicodeScalarView(scalars))
        let before = lead + String(String.UnicodeScalarView(scalars[..<min(start, scalars.count)]))
        let marked = start < stop && stop <= scalars.count ? String(String.UnicodeScalarView(scalars[start..<stop])) : " "
        let gutter = String(line)
        var out = " \(gutter) | \(text)\n"
        out += " \(String(repeating: " ", count: gutter.count)) | \(String(repeating: " ", count: displayWidth(before)))"
        out += String(repeating: "^", count: max(1, displayWidth(marked))) + "\n"
        return out
    }

    /// An error in a data file at `file:line`.
    public static func data(file: String, line: Int?, column: Int? = nil, _ message: String, hints: [String] = []) -> Diagnostic {
        var d = Diagnostic(.data, message, hints: hints)
        d.fileLocation = file + (line.map { ":\($0)" } ?? "") + (column.map { ":\($0)" } ?? "")
        return d
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
        if let fileLocation {
            out += "\(fileLocation): \(label): \(message)\n"
        } else if let source, let range {
            let (line, column) = source.location(of: range.start)
            out += "\(source.name):\(line):\(column): \(label): \(message)\n"
            out += excerpt(source, range, line: line, column: column)
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
