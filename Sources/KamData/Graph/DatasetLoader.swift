import Foundation
import KamSyntax

/// Loads a dataset: a directory of CSV/TSV/JSON/JSONL files (one entity per file, the
/// file name is the entity name, a manifest may rename), or a single file (one entity).
/// Then links the entities into an account graph.
public enum DatasetLoader {
    public struct Options {
        public var strict = false
        public init(strict: Bool = false) { self.strict = strict }
    }

    /// What a load produced besides the graph: a summary to print and warnings.
    public struct Report {
        public var summary: [String] = []
        public var warnings: [Diagnostic] = []
        /// Seconds spent reading each file, and linking.
        public var timings: [(String, Double)] = []
    }

    public static let extensions = ["csv", "tsv", "json", "jsonl", "ndjson"]

    public static func load(_ path: String, options: Options = Options()) throws -> (AccountGraph, Report) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw Diagnostic(.data, "no such file or directory: \(path)")
        }
        var report = Report()
        let graph = AccountGraph(label: path)
        var tables: [(name: String, table: Table, lines: RowLocator?, file: String)] = []
        if isDir.boolValue {
            let manifest = try Manifest.load(dir: path)
            let files = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
            var byFile: [String: (String, Manifest.EntitySpec)] = [:]
            for (name, spec) in manifest?.entities ?? [] {
                let file = spec.file ?? files.first { base($0) == name && extensions.contains(ext($0)) } ?? name + ".csv"
                guard files.contains(file) else {
                    throw Diagnostic.data(file: path + "/kam.toml", line: nil, "entity '\(name)' names file '\(file)', which is not in \(path)",
                        hints: [Suggest.hint(file, in: files) ?? "files: " + files.joined(separator: ", ")])
                }
                byFile[file] = (name, spec)
            }
            for f in files where extensions.contains(ext(f)) {
                let spec = byFile[f]
                let name = spec?.0 ?? entityName(base(f))
                let nulls = spec?.1.nulls ?? manifest?.nulls
                let started = Clock.now()
                var (table, lines) = try readFile(path + "/" + f, nulls: nulls)
                if let spec = spec?.1 { table = try apply(spec, to: table, lines: lines, file: path + "/" + f) }
                tables.append((name, table, lines, path + "/" + f))
                report.timings.append((name, Clock.now() - started))
                memTrace("after \(f)")
            }
            if tables.isEmpty {
                throw Diagnostic(.data, "no data files in \(path)", hints: ["a dataset directory holds .csv, .tsv, .json or .jsonl files, one per entity"])
            }
            let linking = Clock.now()
            try Linker.link(graph, tables, manifest: manifest, options: options, report: &report)
            report.timings.append(("(links)", Clock.now() - linking))
            memTrace("after link")
        } else if SQLiteReader.isDatabase(path) {
            for (name, table) in try SQLiteReader.load(path) { tables.append((name, table, nil, path)) }
            try Linker.link(graph, tables, manifest: nil, options: options, report: &report)
        } else {
            let (table, lines) = try readFile(path, nulls: nil)
            tables.append((entityName(base((path as NSString).lastPathComponent)), table, lines, path))
            try Linker.link(graph, tables, manifest: nil, options: options, report: &report)
        }
        return (graph, report)
    }

    public static func ext(_ f: String) -> String { (f as NSString).pathExtension.lowercased() }
    public static func base(_ f: String) -> String { (f as NSString).deletingPathExtension }

    /// "Order Details" -> "order_details": entity names are identifiers.
    public static func entityName(_ s: String) -> String {
        var out = ""
        for ch in s.lowercased() {
            if ch.isLetter || ch.isNumber { out.append(ch) } else if !out.hasSuffix("_") { out.append("_") }
        }
        return out.trimmingCharacters(in: ["_"])
    }

    /// A table from standard input: JSON when it starts with '[' or '{', else CSV.
    public static func readStdin(_ bytes: [UInt8]) throws -> Table {
        var i = 0
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 || bytes[i] == 0xEF || bytes[i] == 0xBB || bytes[i] == 0xBF { i += 1 }
        if i < bytes.count, bytes[i] == UInt8(ascii: "[") || bytes[i] == UInt8(ascii: "{") {
            return try JSONReader.readTable(bytes, name: "<stdin>")
        }
        return try CSVReader().read(bytes, name: "<stdin>")
    }

    /// Reads one file by its extension; CSV also returns the line of each row.
    public static func readFile(_ path: String, nulls: [String]?) throws -> (Table, RowLocator?) {
        guard let file = MappedFile(path: path) else {
            if !FileManager.default.fileExists(atPath: path) {
                throw Diagnostic(.data, "no such file: \(path)", hints: ["a relative path in a script is relative to the script's directory"])
            }
            throw Diagnostic(.data, "cannot read '\(path)'", hints: ["check the file's permissions"])
        }
        switch ext(path) {
        case "csv", "txt", "tsv":
            var r = CSVReader()
            if ext(path) == "tsv" { r.delimiter = UInt8(ascii: "\t") }
            if let nulls { r.nullTokens = Set(nulls) }
            let (t, lines) = try r.read(file, name: path)
            return (t, lines)
        case "json", "jsonl", "ndjson":
            let bytes = file.withBytes { Array($0) }
            if let bad = CSVReader.firstInvalidUTF8(bytes) {
                let line = 1 + bytes[..<bad].lazy.filter { $0 == UInt8(ascii: "\n") }.count
                throw Diagnostic.data(file: path, line: line, "invalid UTF-8 at byte offset \(bad)", hints: ["save the file as UTF-8"])
            }
            return (try JSONReader.readTable(bytes, name: path), nil)
        default:
            throw Diagnostic(.data, "cannot load '\(path)': unknown file type", hints: ["kam reads .csv, .tsv, .json and .jsonl files, SQLite databases and dataset directories"])
        }
    }

    /// Renames columns and converts the types a manifest declares.
    public static func apply(_ spec: Manifest.EntitySpec, to t: Table, lines: RowLocator?, file: String) throws -> Table {
        var names = t.names
        var columns = t.columns
        // The column a manifest names: the exact name, else the one name that differs only
        // in case (exports spell CategoryID and categoryId alike); several such is an error.
        func index(of wanted: String, _ what: String) throws -> Int {
            if let i = names.firstIndex(of: wanted) { return i }
            let folded = names.indices.filter { names[$0].lowercased() == wanted.lowercased() }
            if folded.count == 1, let i = folded.first { return i }
            if folded.count > 1 {
                throw Diagnostic.data(file: file, line: 1, "the manifest \(what) column '\(wanted)', which matches \(folded.map { "'\(names[$0])'" }.joined(separator: " and ")) but none exactly",
                    hints: ["write the name exactly as the file spells it"])
            }
            throw Diagnostic.data(file: file, line: 1, "the manifest \(what) column '\(wanted)', which \(file) does not have",
                hints: [Suggest.hint(wanted, in: names) ?? "columns: " + names.joined(separator: ", ")])
        }
        for (old, new) in spec.columns { names[try index(of: old, "renames")] = new }
        for (col, type) in spec.types {
            let c = try index(of: col, "types")
            columns[c] = try convert(columns[c], to: type) { row, text in
                Diagnostic.data(file: file, line: lines?.line(of: row), column: c + 1,
                    "value '\(text)' in column '\(col)' is not \(type == .int ? "an" : "a") \(type.rawValue)",
                    hints: ["the manifest declares \(col) as \(type.rawValue)"])
            }
        }
        return Table(names: names, columns: columns, count: t.count, name: t.name)
    }

    public static func convert(_ c: Column, to type: ColumnType, error: (Int, String) -> Diagnostic) throws -> Column {
        if c.type == type { return c }
        var out: [Value] = []
        out.reserveCapacity(c.count)
        let reader = CSVReader()
        for i in 0..<c.count {
            let v = c.value(at: i)
            if v.isNull { out.append(.null); continue }
            let text = Format.plain(v)
            let bytes = ArraySlice(Array(text.utf8))
            switch type {
            case .string: out.append(.string(text))
            case .int:
                guard let x = Int64(text) else { throw error(i, text) }
                out.append(.int(x))
            case .float:
                guard let x = reader.parseFloat(bytes) ?? Int64(text).map(Double.init) else { throw error(i, text) }
                out.append(.float(x))
            case .date:
                guard let d = Calendar.parse(bytes) else { throw error(i, text) }
                out.append(.date(d))
            case .bool:
                guard let b = reader.parseBool(bytes) else { throw error(i, text) }
                out.append(.bool(b))
            case .value: out.append(v)
            }
        }
        var col = Column.from(out)
        if type == .string, case .values = col.storage { col = Column(storage: .string(StringColumn(codes: [UInt32](repeating: 0, count: out.count), dictionary: [""])), validity: Bitmap(count: out.count, allValid: false)) }
        return col
    }
}

public func memTrace(_ label: String) {
    guard ProcessInfo.processInfo.environment["KAM_MEMTRACE"] != nil else { return }
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let lines = status.split(separator: "\n").filter { $0.hasPrefix("VmHWM") || $0.hasPrefix("VmRSS") }
    FileHandle.standardError.write(Data("\(label): \(lines.joined(separator: " "))\n".utf8))
}
