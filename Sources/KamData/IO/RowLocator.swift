import Dispatch
import Foundation
import KamSyntax

/// Finds the line a row of a parsed file starts on (for messages about rows), from
/// checkpoints kept every 4096 rows. It keeps the file's bytes (mapped, not copied).
public struct RowLocator: @unchecked Sendable {
    public let name: String
    public let checkpoints: [(Int, Int, Int)]
    public let file: MappedFile?
    public let data: Data?
    public let delimiter: UInt8
    /// Blank lines the parser skipped, for the load summary.
    public internal(set) var blankLines = 0

    public init(name: String, checkpoints: [(Int, Int, Int)], data: Data?, file: MappedFile? = nil, delimiter: UInt8) {
        self.name = name
        self.checkpoints = checkpoints
        self.data = data
        self.file = file
        self.delimiter = delimiter
    }

    public func withBytes<T>(_ body: (UnsafeBufferPointer<UInt8>) -> T?) -> T? {
        if let file { return file.withBytes(body) }
        if let data { return data.withUnsafeBytes { body($0.bindMemory(to: UInt8.self)) } }
        return nil
    }

    public func line(of row: Int) -> Int? {
        guard let cp = checkpoints.last(where: { $0.0 <= row }) else { return nil }
        return withBytes { raw -> Int? in
            guard let base = raw.baseAddress else { return nil }
            let parser = CSVParser(base: base, count: raw.count, delimiter: delimiter, nullTokens: [], name: name)
            var r = cp.0, pos = cp.1, line = cp.2
            func skipBlank() {
                while pos < raw.count && (base[pos] == 10 || base[pos] == 13) {
                    if base[pos] == 10 { line += 1 }
                    pos += 1
                }
            }
            while r < row && pos < raw.count {
                skipBlank()
                guard let next = try? parser.readRecord(from: pos, line: &line, { _ in }) else { return nil }
                pos = next
                r += 1
            }
            skipBlank()
            return line
        }
    }
}
