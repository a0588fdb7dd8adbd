import KamCore

/// An open document of the language server: its text, and the conversions between kam's
/// byte offsets and LSP positions (a line and a column in UTF-16 code units).
struct TextDocument {
    var uri: String
    var path: String
    var version: Int
    let source: Source

    init(uri: String, path: String, version: Int, text: String) {
        self.uri = uri
        self.path = path
        self.version = version
        source = Source(name: path, text: text)
    }

    var text: String { source.text }

    /// The LSP position of a byte offset.
    func position(_ offset: Int) -> JSONMessage {
        let offset = max(0, min(offset, source.bytes.count))
        let line = source.lineIndex(of: offset)
        let prefix = String(decoding: source.bytes[source.lineStart(line)..<offset], as: UTF8.self)
        return .object(["line": .number(Double(line)), "character": .number(Double(prefix.utf16.count))])
    }

    func range(_ r: SourceRange) -> JSONMessage { .object(["start": position(r.start), "end": position(r.end)]) }

    /// The byte offset of an LSP position (clamped to its line).
    func offset(_ position: JSONMessage?) -> Int {
        let bytes = source.bytes
        var units = max(0, position?["character"]?.int ?? 0)
        var i = source.lineStart(position?["line"]?.int ?? 0)
        while i < bytes.count, bytes[i] != 0x0A, units > 0 {
            let lead = bytes[i]
            let length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
            units -= length == 4 ? 2 : 1
            i = min(bytes.count, i + length)
        }
        return i
    }

    /// The name (letters, digits, `_`) around a byte offset, and its range.
    func word(at offset: Int) -> (String, SourceRange)? {
        let bytes = source.bytes
        func isWord(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b >= 0x80
        }
        var start = min(offset, bytes.count), end = start
        while start > 0, isWord(bytes[start - 1]) { start -= 1 }
        while end < bytes.count, isWord(bytes[end]) { end += 1 }
        guard start < end else { return nil }
        return (String(decoding: bytes[start..<end], as: UTF8.self), SourceRange(start, end))
    }

    /// The text of the statement the offset is in, from its first line up to the offset:
    /// what the REPL's completer reads as the line before the cursor.
    func statementPrefix(_ offset: Int) -> String {
        let bytes = source.bytes
        var first = source.lineIndex(of: offset)
        // Lines that start with blanks or '|' continue the statement above them.
        while first > 0, let b = bytes[safe: source.lineStart(first)], b == 0x20 || b == 0x09 || b == UInt8(ascii: "|") { first -= 1 }
        return String(decoding: bytes[source.lineStart(first)..<min(offset, bytes.count)], as: UTF8.self)
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { i >= 0 && i < count ? self[i] : nil }
}
