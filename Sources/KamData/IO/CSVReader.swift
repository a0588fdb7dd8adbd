import Foundation
import KamSyntax

/// RFC 4180 CSV on bytes: quoted fields with commas, doubled quotes and newlines, CRLF or
/// LF, a UTF-8 BOM, a missing final newline. Column types are inferred from the values.
public struct CSVReader {
    public var delimiter: UInt8 = UInt8(ascii: ",")
    public var nullTokens: Set<String> = ["", "NULL"]

    /// The field separator a header line uses: the most frequent of , ; tab and | outside
    /// quotes (a comma when none is there), so a semicolon-separated export reads as one.
    public static func sniffDelimiter(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt8 {
        var counts: [UInt8: Int] = [:]
        var quoted = false
        for b in bytes {
            if b == UInt8(ascii: "\"") { quoted.toggle(); continue }
            if quoted { continue }
            if b == 10 || b == 13 { break }
            if b == UInt8(ascii: ",") || b == UInt8(ascii: ";") || b == 9 || b == UInt8(ascii: "|") { counts[b, default: 0] += 1 }
        }
        let comma = counts[UInt8(ascii: ",")] ?? 0
        guard let best = counts.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }), best.value > comma else {
            return UInt8(ascii: ",")
        }
        return best.key
    }
    /// Columns read as text (lower-cased names).
    public var textColumns: Set<String> = []
    public init() {}

    /// Parses `bytes` into a table; `name` is used in error messages (file:line).
    public func read(_ bytes: [UInt8], name: String) throws -> Table {
        try readWithLines(bytes, name: name).table
    }

    /// The table and a locator for the line each row starts on (for messages about rows).
    public func readWithLines(_ bytes: [UInt8], name: String) throws -> (table: Table, lines: RowLocator) {
        try read(Data(bytes), name: name)
    }

    /// Parses a memory-mapped file, releasing its pages chunk by chunk as they are parsed.
    public func read(_ file: MappedFile, name: String) throws -> (table: Table, lines: RowLocator) {
        let tokens = Set(nullTokens.map { Array($0.utf8) })
        let (table, locator) = try file.withBytes { raw -> (Table, RowLocator) in
            guard let base = raw.baseAddress else {
                return (Table(names: [], columns: [], count: 0), RowLocator(name: name, checkpoints: [], data: nil, delimiter: delimiter))
            }
            var parser = CSVParser(base: base, count: raw.count, delimiter: delimiter, nullTokens: tokens, name: name)
            parser.release = { file.release($0, $1) }
            parser.textColumns = textColumns
            return try parser.parse()
        }
        var result = RowLocator(name: name, checkpoints: locator.checkpoints, data: nil, file: file, delimiter: delimiter)
        result.blankLines = locator.blankLines
        return (table, result)
    }

    /// Parses file contents without copying them.
    public func read(_ data: Data, name: String) throws -> (table: Table, lines: RowLocator) {
        let tokens = Set(nullTokens.map { Array($0.utf8) })
        let (table, locator) = try data.withUnsafeBytes { raw -> (Table, RowLocator) in
            guard let base = raw.bindMemory(to: UInt8.self).baseAddress else {
                return (Table(names: [], columns: [], count: 0), RowLocator(name: name, checkpoints: [], data: nil, delimiter: delimiter))
            }
            var parser = CSVParser(base: base, count: raw.count, delimiter: delimiter, nullTokens: tokens, name: name)
            parser.textColumns = textColumns
            return try parser.parse()
        }
        var result = RowLocator(name: name, checkpoints: locator.checkpoints, data: data, delimiter: delimiter)
        result.blankLines = locator.blankLines
        return (table, result)
    }

    /// The offset of the first byte that is not part of valid UTF-8, or nil.
    public static func firstInvalidUTF8(_ b: [UInt8]) -> Int? {
        b.withUnsafeBufferPointer { firstInvalidUTF8($0) }
    }

    public static func firstInvalidUTF8(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        let n = b.count
        // ASCII fast path: eight bytes at a time while no byte has its high bit set.
        if let base = b.baseAddress {
            let raw = UnsafeRawPointer(base)
            while i + 8 <= n {
                if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { break }
                i += 8
            }
        }
        while i < n {
            let c = b[i]
            if c < 0x80 {
                i += 1
                // Back to the word-at-a-time path after a multi-byte sequence.
                if let base = b.baseAddress {
                    while i + 8 <= n && UnsafeRawPointer(base).loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { i += 8 }
                }
                continue
            }
            let len: Int
            if c >= 0xC2 && c <= 0xDF { len = 2 } else if c >= 0xE0 && c <= 0xEF { len = 3 } else if c >= 0xF0 && c <= 0xF4 { len = 4 } else { return i }
            guard i + len <= n else { return i }
            for k in 1..<len where b[i + k] & 0xC0 != 0x80 { return i }
            // Overlong and surrogate forms.
            if c == 0xE0 && b[i + 1] < 0xA0 { return i }
            if c == 0xED && b[i + 1] > 0x9F { return i }
            if c == 0xF0 && b[i + 1] < 0x90 { return i }
            if c == 0xF4 && b[i + 1] > 0x8F { return i }
            i += len
        }
        return nil
    }

    public func parseFloat(_ s: ArraySlice<UInt8>) -> Double? {
        Array(s).withUnsafeBufferPointer { CSVParser.parseDouble($0) }
    }

    public func parseBool(_ s: ArraySlice<UInt8>) -> Bool? {
        Array(s).withUnsafeBufferPointer { CSVParser.parseBool($0) }
    }
}

/// Reading a table from a file by its extension.
public enum TableReader {
    /// A path as written in a script: relative to the script's directory.
    public static func resolve(_ path: String, relativeTo scriptName: String) -> String {
        if path.hasPrefix("/") || scriptName.hasPrefix("<") { return path }
        let dir = (scriptName as NSString).deletingLastPathComponent
        return dir.isEmpty ? path : dir + "/" + path
    }

    public static func readFile(_ path: String, relativeTo scriptName: String) throws -> Table {
        let full = resolve(path, relativeTo: scriptName)
        let (t, _) = try DatasetLoader.readFile(full, nulls: nil)
        return t.renamed(DatasetLoader.entityName(((path as NSString).lastPathComponent as NSString).deletingPathExtension))
    }
}
