/// A piece of kam source text with a name for diagnostics (a file path, `<command>`, `<repl>`).
///
/// Positions in kam are byte offsets into `bytes`; line and column are computed on demand
/// for diagnostics, so the lexer never pays for them.
public final class Source: @unchecked Sendable {
    public let name: String
    public let text: String
    public let bytes: [UInt8]
    private lazy var lineStarts: [Int] = {
        var starts = [0]
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") { starts.append(i + 1) }
        return starts
    }()

    public init(name: String, text: String) {
        self.name = name
        self.text = text
        self.bytes = Array(text.utf8)
    }

    /// How many lines the text has (a final newline starts an empty last one).
    public var lineCount: Int { lineStarts.count }

    /// The byte offset where 0-based line `index` starts.
    public func lineStart(_ index: Int) -> Int { lineStarts[max(0, min(index, lineStarts.count - 1))] }

    /// The 0-based line a byte offset is on.
    public func lineIndex(of offset: Int) -> Int {
        let offset = max(0, min(offset, bytes.count))
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// 1-based line and column (columns count Unicode scalars) of a byte offset.
    public func location(of offset: Int) -> (line: Int, column: Int) {
        let offset = max(0, min(offset, bytes.count))
        let lo = lineIndex(of: offset)
        let start = lineStarts[lo]
        var column = 1
        var i = start
        while i < offset {
            // Count scalars: skip UTF-8 continuation bytes.
            if bytes[i] & 0xC0 != 0x80 { column += 1 }
            i += 1
        }
        return (lo + 1, column)
    }

    /// The text of 1-based line `line`, without its newline.
    public func lineText(_ line: Int) -> String {
        guard line >= 1 && line <= lineStarts.count else { return "" }
        let start = lineStarts[line - 1]
        var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
        if end > start && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return String(decoding: bytes[start..<max(start, end)], as: UTF8.self)
    }

    public func slice(_ range: SourceRange) -> String {
        let lo = max(0, min(range.start, bytes.count)), hi = max(lo, min(range.end, bytes.count))
        return String(decoding: bytes[lo..<hi], as: UTF8.self)
    }
}
