import CPlatform
import Foundation
import KamSyntax

/// Loads a dataset: a directory of CSV/TSV/JSON/JSONL files (one entity per file, the
/// file name is the entity name, a manifest may rename), or a single file (one entity).
/// Then links the entities into an account graph.
public enum DatasetLoader {
    /// Computes a column a manifest derives, from the graph as loaded so far: the entity,
    /// the column's spec and the manifest (for messages that point into it). The loader
    /// has no evaluator of its own; the runtime gives one.
    public typealias Deriver = (AccountGraph, String, Manifest.Derived, Manifest) throws -> Column

    public struct Options {
        public var strict = false
        /// A manifest given with --manifest, instead of the one beside the data.
        public var manifest: String?
        public var deriver: Deriver?
        /// In a directory without a manifest, the entities to read; the other files are
        /// left unread (a script that names none of them cannot reach them: `DatasetUse`).
        public var only: Set<String>?
        /// Called with each file's table as soon as it is read (before the links), from the
        /// loading thread: a snapshot writes it while the next file parses.
        public var loaded: ((Table) -> Void)?
        public init(strict: Bool = false, manifest: String? = nil, deriver: Deriver? = nil, only: Set<String>? = nil,
                    loaded: ((Table) -> Void)? = nil) {
            self.strict = strict
            self.manifest = manifest
            self.deriver = deriver
            self.only = only
            self.loaded = loaded
        }
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
        // While loading, large arrays go back to the system as soon as they are freed (the
        // chunks' parts as their columns are made), so the peak stays near the tables' size;
        // after it, the queries' short-lived arrays are reused from the heap.
        kam_tune_malloc()
        defer { kam_tune_malloc_for_queries() }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw Diagnostic(.data, "no such file or directory: \(path)")
        }
        var report = Report()
        var tables: [Linker.Loaded] = []
        var hints = Linker.Hints()
        var notes: [String] = []
        let manifest: Manifest?
        if isDir.boolValue {
            manifest = try options.manifest.map { try Manifest.load(file: $0) } ?? Manifest.load(dir: path)
            let files = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
            var byFile: [String: (String, Manifest.EntitySpec)] = [:]
            for (name, spec) in manifest?.entities ?? [] {
                if spec.table != nil || spec.sql != nil {
                    throw Diagnostic.data(file: manifest?.file ?? path, line: spec.line, "entity '\(name)' reads a \(spec.sql != nil ? "query" : "table"), but \(path) is a directory",
                        hints: ["table = and sql = are for a SQLite database; in a directory an entity reads file = \"NAME.csv\""])
                }
                // The file named after the entity, in any case (Accounts.csv for accounts).
                let file = spec.file ?? files.first { base($0) == name && extensions.contains(ext($0)) }
                    ?? files.first { entityName(base($0)) == name && extensions.contains(ext($0)) } ?? name + ".csv"
                guard files.contains(file) else {
                    throw Diagnostic.data(file: manifest?.file ?? path + "/kam.toml", line: spec.line, "entity '\(name)' names file '\(file)', which is not in \(path)",
                        hints: [Suggest.hint(file, in: files) ?? "files: " + files.joined(separator: ", ")])
                }
                byFile[file] = (name, spec)
            }
            var unread: [String] = [], reading: [String] = []
            for f in files where extensions.contains(ext(f)) {
                let name = byFile[f]?.0 ?? entityName(base(f))
                if manifest == nil, let only = options.only, !only.contains(name) {
                    unread.append(name)
                    continue
                }
                reading.append(f)
            }
            // The largest file first: its table is written to the snapshot while the others
            // are parsed and linked. The tables and timings keep the files' order, and of
            // two files that fail, the error is the first's by name, as it always was.
            func size(_ f: String) -> Int {
                var st = stat()
                return stat(path + "/" + f, &st) == 0 ? Int(st.st_size) : 0
            }
            let sizes = Dictionary(reading.map { ($0, size($0)) }, uniquingKeysWith: { a, _ in a })
            func readOne(_ f: String) throws -> (Linker.Loaded, Double) {
                let spec = byFile[f]
                let name = spec?.0 ?? entityName(base(f))
                let nulls = spec?.1.nulls ?? manifest?.nulls
                let started = Clock.now()
                // Columns typed string are read as text, never through a number.
                let text = Set((spec?.1.types ?? [:]).filter { $0.value == .string }.keys.map { key in
                    (spec?.1.columns.first { $0.1 == key }?.0 ?? key).lowercased()
                })
                var (table, lines) = try readFile(path + "/" + f, nulls: nulls, text: text)
                if let spec = spec?.1 { table = try apply(spec, to: table, lines: lines, file: path + "/" + f, entity: name, manifest: manifest) }
                return ((name, table, lines, path + "/" + f), Clock.now() - started)
            }
            var read: [(file: String, loaded: Linker.Loaded, seconds: Double)] = []
            for f in reading.sorted(by: { (sizes[$0] ?? 0, $1) > (sizes[$1] ?? 0, $0) }) {
                let loaded: Linker.Loaded, seconds: Double
                do {
                    (loaded, seconds) = try readOne(f)
                } catch {
                    let done = Set(read.map(\.file))
                    for g in reading where g < f && !done.contains(g) { _ = try readOne(g) }
                    throw error
                }
                // A table a derived column widens is written whole once it is made.
                if byFile[f]?.1.derived.isEmpty ?? true { options.loaded?(loaded.table) }
                read.append((f, loaded, seconds))
                memTrace("after \(f)")
            }
            for r in read.sorted(by: { $0.file < $1.file }) {
                tables.append(r.loaded)
                report.timings.append((r.loaded.0, r.seconds))
                if ["csv", "tsv"].contains(ext(r.file)) { report.warnings += numbersReadAsText(r.loaded) }
            }
            if tables.isEmpty {
                throw Diagnostic(.data, "no data files in \(path)", hints: ["a dataset directory holds .csv, .tsv, .json or .jsonl files, one per entity"])
            }
            if !unread.isEmpty { notes.append("not read (the script names none of them): " + unread.joined(separator: ", ")) }
        } else if SQLiteReader.isDatabase(path) {
            manifest = try (options.manifest ?? Manifest.besides(path)).map { try Manifest.load(file: $0) }
            try loadSQLite(path, manifest: manifest, into: &tables, hints: &hints, notes: &notes, report: &report)
        } else {
            if let m = options.manifest {
                throw Diagnostic(.data, "--manifest \(m) is for a dataset directory or a SQLite database, and \(path) is one file",
                    hints: ["put the file in a directory with the manifest, or rename its columns in the query"])
            }
            manifest = nil
            let (table, lines) = try readFile(path, nulls: nil)
            options.loaded?(table)
            tables.append((entityName(base((path as NSString).lastPathComponent)), table, lines, path))
            if ["csv", "tsv"].contains(ext(path)), let l = tables.last { report.warnings += numbersReadAsText(l) }
        }
        // An entity the manifest names almost like a standard one is likely meant to be it.
        for (name, spec) in manifest?.entities ?? [] where !Manifest.standardEntities.contains(name) {
            guard let near = Suggest.near(name, in: Manifest.standardEntities).first else { continue }
            var w = Diagnostic.data(file: manifest?.file ?? path, line: spec.line,
                "entity '\(name)' is not one of kam's standard entities, which the analytics read by name",
                hints: ["did you mean '\(near)'?"])
            w.kind = .warning
            report.warnings.append(w)
        }
        let linking = Clock.now()
        let graph = try link(path, &tables, manifest: manifest, hints: hints, options: options, report: &report)
        report.timings.append(("(links)", Clock.now() - linking))
        report.summary += notes
        memTrace("after link")
        return (graph, report)
    }

    /// Links the tables, then computes the manifest's derived columns in the order it
    /// gives them (one that reads a column derived later waits for it); each sees the
    /// columns and links before it, the graph being linked again after each.
    static func link(_ path: String, _ tables: inout [Linker.Loaded], manifest: Manifest?, hints: Linker.Hints, options: Options,
                     report: inout Report) throws -> AccountGraph {
        var hints = hints
        let derived = (manifest?.entities ?? []).flatMap { e in e.1.derived.map { (entity: e.0, spec: $0) } }
        hints.pending = Set(derived.map { $0.entity + "." + $0.spec.column })
        var graph = AccountGraph(label: path)
        var linked = Report()
        try Linker.link(graph, tables, manifest: manifest, options: options, report: &linked, hints: hints)
        if let manifest, !derived.isEmpty {
            guard let deriver = options.deriver else {
                throw Diagnostic.data(file: manifest.file, line: derived[0].spec.line, "derived columns need kam's evaluator, which this load has none of")
            }
            // In the manifest's order; one that fails waits until the others are done (it
            // may read a column derived after it), and fails for good only when a whole
            // round makes no progress.
            var waiting = derived
            var done: [(entity: String, spec: Manifest.Derived)] = []
            defer {
                graph.derivations = done
                graph.manifest = manifest
            }
            while !waiting.isEmpty {
                var failed: [(entity: String, spec: Manifest.Derived)] = []
                var errors: [Error] = []
                for (entity, spec) in waiting {
                    guard let k = tables.firstIndex(where: { $0.name == entity }) else { continue }
                    let column: Column
                    do {
                        column = try deriver(graph, entity, spec, manifest)
                    } catch {
                        failed.append((entity, spec))
                        errors.append(error)
                        continue
                    }
                    guard column.count == tables[k].table.count else {
                        throw Diagnostic.data(file: manifest.file, line: spec.line, "the derived column \(entity).\(spec.column) has \(column.count) values for \(tables[k].table.count) rows")
                    }
                    var names = tables[k].table.names, columns = tables[k].table.columns
                    if let i = names.firstIndex(of: spec.column) { columns[i] = column } else { names.append(spec.column); columns.append(column) }
                    tables[k].table = Table(names: names, columns: columns, count: tables[k].table.count, name: tables[k].table.name)
                    hints.pending.remove(entity + "." + spec.column)
                    done.append((entity, spec))
                    // Linked again after every derived column: a new column may be a link,
                    // the key a link matches, or hide a link's name; no derivation after it
                    // may see the graph as it was.
                    graph = AccountGraph(label: path)
                    linked = Report()
                    try Linker.link(graph, tables, manifest: manifest, options: options, report: &linked, hints: hints)
                }
                if failed.count == waiting.count {
                    throw stuck(failed.map { ($0.entity, $0.spec) }, errors)
                }
                waiting = failed
            }
        }
        // The summary and warnings of the last linking, whose graph is the one used.
        report.summary += linked.summary
        report.warnings += linked.warnings
        return graph
    }

    /// The error when no derived column that is left can be computed: the first one whose
    /// error is its own (it reads no column still to be derived: a typo, a wrong type),
    /// else the columns read each other.
    static func stuck(_ failed: [(String, Manifest.Derived)], _ errors: [Error]) -> Error {
        // An error waits when it quotes a column another derivation still has to give.
        func waits(_ k: Int) -> Bool {
            guard let d = errors[k] as? Diagnostic else { return false }
            return failed.indices.contains { j in j != k && d.message.contains("'\(failed[j].1.column)'") }
        }
        if let own = errors.indices.first(where: { !waits($0) }) { return errors[own] }
        guard var d = errors.first as? Diagnostic else { return errors.first ?? Diagnostic(.data, "derived columns fail") }
        let names = failed.map { "\($0.0).\($0.1.column)" }
        d.message = "the derived columns \(names.joined(separator: ", ")) read each other, so none can be computed first"
        d.hints = ["derive one of them from the file's columns alone"]
        return d
    }

    /// A SQLite database: the manifest's entities (a table or a query each), then every
    /// other table; primary keys are the entities' keys and declared foreign keys links.
    static func loadSQLite(_ path: String, manifest: Manifest?, into tables: inout [Linker.Loaded], hints: inout Linker.Hints,
                           notes: inout [String], report: inout Report) throws {
        try loadDatabase(try SQLiteReader(path), manifest: manifest, into: &tables, hints: &hints, notes: &notes, report: &report)
    }

    /// A database given as a catalog (DuckDB, PostgreSQL, or a catalog that reads only the
    /// tables' columns, for running on the database itself): linked as a SQLite database is.
    public static func load(database db: DatabaseCatalog, manifestFile: String? = nil, options: Options = Options()) throws -> (AccountGraph, Report) {
        kam_tune_malloc()  // as `load(_:options:)`
        defer { kam_tune_malloc_for_queries() }
        var report = Report()
        var tables: [Linker.Loaded] = []
        var hints = Linker.Hints()
        var notes: [String] = []
        let manifest = try (manifestFile ?? options.manifest).map { try Manifest.load(file: $0) }
        try loadDatabase(db, manifest: manifest, into: &tables, hints: &hints, notes: &notes, report: &report)
        let graph = try link(db.path, &tables, manifest: manifest, hints: hints, options: options, report: &report)
        report.summary += notes
        return (graph, report)
    }

    static func loadDatabase(_ db: DatabaseCatalog, manifest: Manifest?, into tables: inout [Linker.Loaded], hints: inout Linker.Hints,
                             notes: inout [String], report: inout Report) throws {
        let path = db.path
        let all = try db.tablesAndViews()
        let tableNames = all.map(\.name)
        let views = Set(all.filter(\.view).map(\.name))
        var entityOf: [String: String] = [:]
        var specOf: [String: Manifest.EntitySpec] = [:]
        let manifestFile = manifest?.file ?? path
        func renamed(_ column: String, _ entity: String) -> String {
            guard let spec = specOf[entity] else { return column }
            return spec.columns.first { $0.0 == column }?.1 ?? spec.columns.first { $0.0.lowercased() == column.lowercased() }?.1 ?? column
        }
        for (name, spec) in manifest?.entities ?? [] {
            let started = Clock.now()
            specOf[name] = spec
            if spec.file != nil {
                throw Diagnostic.data(file: manifestFile, line: spec.line, "entity '\(name)' names a file, but \(path) is a SQLite database",
                    hints: ["in a database an entity reads table = \"Customers\" or sql = \"SELECT ...\""])
            }
            var table: Table
            var sourceTable: String? = nil
            if let sql = spec.sql {
                do { table = try db.read(sql: sql, emptyColumns: nil) } catch let d as Diagnostic {
                    throw Diagnostic.data(file: manifestFile, line: spec.line, "the query of entity '\(name)' fails: " + d.message.replacingOccurrences(of: "SQLite: ", with: ""),
                        hints: d.hints + ["try it in the sqlite3 shell: sqlite3 \(path)"])
                }
            } else {
                let wanted = spec.table ?? name
                guard let t = tableNames.first(where: { $0 == wanted }) ?? tableNames.first(where: { $0.lowercased() == wanted.lowercased() })
                        ?? (spec.table == nil ? tableNames.first(where: { entityName($0) == name }) : nil) else {
                    throw Diagnostic.data(file: manifestFile, line: spec.line, "entity '\(name)' reads table '\(wanted)', which \(path) does not have",
                        hints: [Suggest.hint(wanted, in: tableNames) ?? "tables: " + tableNames.joined(separator: ", ")])
                }
                entityOf[t] = name
                sourceTable = t
                table = try db.read(table: t)
                if let pk = try db.primaryKey(t) { hints.keys[name] = pk }
            }
            let before = table.names
            table = try apply(spec, to: table, lines: nil, file: path, entity: name, manifest: manifest,
                              source: spec.sql != nil ? "its query" : "table \(sourceTable ?? name)")
            // What running on the database needs to read the entity as kam does.
            for (old, new) in zip(before, table.names) where old != new { hints.sourceColumns[name, default: [:]][new] = old }
            if let t = sourceTable {
                hints.sourceTables[name] = t
                if views.contains(t) { hints.views.insert(name) }
            }
            if let sql = spec.sql { hints.sourceQueries[name] = sql }
            var kamOnly: [String] = []
            if !spec.types.isEmpty { kamOnly.append("types") }
            if !kamOnly.isEmpty { hints.inMemoryOnly[name] = kamOnly }
            if let pk = hints.keys[name] {
                hints.sourceKeys[name] = pk
                hints.keys[name] = renamed(pk, name)
            }
            tables.append((name, table, nil, path))
            report.timings.append((name, Clock.now() - started))
        }
        let taken = Set(tables.map(\.name))
        for t in tableNames where entityOf[t] == nil {
            let name = entityName(t)
            if taken.contains(name) {
                notes.append("table \(t) not loaded: the manifest's entity \(name) has its name")
                continue
            }
            let started = Clock.now()
            let table: Table
            do {
                table = try db.read(table: t)
            } catch let d as Diagnostic {
                // A view that no longer works is left out, with a warning; a table is an error.
                guard views.contains(t) else { throw Diagnostic.data(file: path, line: nil, "cannot read table \(t): " + d.message) }
                var w = Diagnostic.data(file: path, line: nil, "view \(t) not loaded: " + d.message.replacingOccurrences(of: "SQLite: ", with: ""))
                w.kind = .warning
                report.warnings.append(w)
                continue
            }
            entityOf[t] = name
            tables.append((name, table, nil, path))
            hints.sourceTables[name] = t
            if views.contains(t) { hints.views.insert(name) }
            if let pk = try db.primaryKey(t) { hints.keys[name] = pk }
            report.timings.append((name, Clock.now() - started))
        }
        // Foreign keys, with the names the manifest gives the columns.
        let byLower = Dictionary(entityOf.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        for (t, entity) in entityOf.sorted(by: { $0.key < $1.key }) {
            for f in try db.foreignKeys(t) {
                guard let target = entityOf[f.target] ?? byLower[f.target.lowercased()] else { continue }
                hints.foreign.append((entity, renamed(f.column, entity), target, f.key.map { renamed($0, target) }))
            }
        }
        hints.camelCase = true
    }

    /// The entities a directory's files give when it has no manifest (nil when it has one,
    /// or is not a directory): what `Options.only` chooses from.
    public static func entityNames(inDirectory path: String) -> [String]? {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue,
              !Manifest.names.contains(where: { FileManager.default.fileExists(atPath: path + "/" + $0) }),
              let files = try? FileManager.default.contentsOfDirectory(atPath: path) else { return nil }
        return files.filter { extensions.contains(ext($0)) }.map { entityName(base($0)) }
    }

    /// The graph a directory's files give with no rows: each CSV/TSV file's header alone,
    /// linked as the files would be, so every link's name is known before any row is read
    /// (`DatasetUse` maps a script's words to entities through it); a small JSON file is
    /// read whole, since only its records tell its columns. Nil when the directory has a
    /// manifest or a large JSON file, or a header does not parse or link: then every file
    /// is read, and says what is wrong.
    public static func headerGraph(inDirectory path: String) -> AccountGraph? {
        guard let names = entityNames(inDirectory: path), !names.isEmpty,
              let files = try? FileManager.default.contentsOfDirectory(atPath: path).sorted() else { return nil }
        var tables: [Linker.Loaded] = []
        for f in files where extensions.contains(ext(f)) {
            guard let file = MappedFile(path: path + "/" + f) else { return nil }
            if !["csv", "tsv"].contains(ext(f)) {
                // JSON's columns are its records' keys: a small file is read whole for them.
                guard file.count <= 4 << 20, let (table, _) = try? readFile(path + "/" + f, nulls: nil) else { return nil }
                tables.append((entityName(base(f)), table, nil, path + "/" + f))
                continue
            }
            let header: Table? = file.withBytes { bytes in
                guard let base = bytes.baseAddress else { return nil }
                // The header's record: to the first newline outside quotes.
                var end = 0, quoted = false
                while end < bytes.count {
                    if bytes[end] == UInt8(ascii: "\"") { quoted.toggle() } else if bytes[end] == 10 && !quoted { end += 1; break }
                    end += 1
                }
                let delimiter = ext(f) == "tsv" ? UInt8(ascii: "\t") : CSVReader.sniffDelimiter(UnsafeBufferPointer(rebasing: bytes.prefix(65_536)))
                return try? CSVParser(base: base, count: end, delimiter: delimiter, nullTokens: [[]], name: f).parse().0
            }
            guard let header else { return nil }
            tables.append((entityName(base(f)), header, nil, path + "/" + f))
        }
        let graph = AccountGraph(label: path)
        var report = Report()
        guard (try? Linker.link(graph, tables, manifest: nil, options: Options(), report: &report)) != nil else { return nil }
        return graph
    }

    public static func ext(_ f: String) -> String { (f as NSString).pathExtension.lowercased() }

    /// A column of numbers that a few other values (`N/A`, `n.a.`, `-`) made text: said at
    /// load, with the first of them and its line, because everything after (a sum, a
    /// comparison) would otherwise fail far from the cause, or sort the numbers as text.
    /// At least nine in ten of its values are numbers; a column of names or codes is
    /// turned down by its first few distinct values, so the check costs nothing there.
    static func numbersReadAsText(_ l: Linker.Loaded) -> [Diagnostic] {
        var out: [Diagnostic] = []
        for (name, c) in zip(l.table.names, l.table.columns) {
            guard case .string(let s) = c.storage, !s.dictionary.isEmpty else { continue }
            let sample = s.dictionary.prefix(64)
            guard sample.filter(CSVParser.isNumber).count * 4 >= sample.count * 3 else { continue }
            // Codes (ZIP codes 02134, long ids) make a column text on purpose.
            if s.dictionary.contains(where: CSVParser.isCode) { continue }
            let numeric = s.dictionary.map(CSVParser.isNumber)
            var numbers = 0, others = 0, first: Int? = nil
            for i in 0..<s.codes.count where c.isValid(i) {
                if numeric[Int(s.codes[i])] { numbers += 1 } else {
                    others += 1
                    if first == nil { first = i }
                }
            }
            guard let first, others * 9 <= numbers else { continue }
            let value = s.dictionary[Int(s.codes[first])]
            let at = Linker.line(l, first).map { " (line \($0))" } ?? ""
            var d = Diagnostic.data(file: l.file, line: nil,
                "\(l.name).\(name) is read as text: \(others) of its \(numbers + others) values \(others == 1 ? "is" : "are") not a number, first \(Format.literal(.string(value), depth: 1))\(at)",
                hints: ["if it means no value, list it among the nulls in kam.toml: null = [\"\", \"NULL\", \(Format.literal(.string(value), depth: 1))]"])
            d.kind = .warning
            out.append(d)
        }
        return out
    }
    public static func base(_ f: String) -> String { (f as NSString).deletingPathExtension }

    /// "Order Details" and "OrderDetails" -> "order_details": entity names are identifiers.
    public static func entityName(_ s: String) -> String {
        var out = ""
        let chars = Array(s)
        for (k, ch) in chars.enumerated() {
            if ch.isLetter || ch.isNumber {
                // A word starts at an upper-case letter after a lower-case one or a digit
                // (OrderDetails), or before a lower-case one after capitals (XMLFile).
                if ch.isUppercase, k > 0, !out.isEmpty, !out.hasSuffix("_") {
                    let prev = chars[k - 1]
                    let nextLower = k + 1 < chars.count && chars[k + 1].isLowercase
                    if prev.isLowercase || prev.isNumber || (prev.isUppercase && nextLower) { out.append("_") }
                }
                out.append(contentsOf: ch.lowercased())
            } else if !out.hasSuffix("_") {
                out.append("_")
            }
        }
        return out.trimmingCharacters(in: ["_"])
    }

    /// A table from standard input: JSON when it starts with '[' or '{', else CSV.
    public static func readStdin(_ bytes: [UInt8]) throws -> Table {
        var i = 0
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 || bytes[i] == 0xEF || bytes[i] == 0xBB || bytes[i] == 0xBF { i += 1 }
        if i < bytes.count, bytes[i] == UInt8(ascii: "[") || bytes[i] == UInt8(ascii: "{") {
            return codesAsText(try JSONReader.readTable(bytes, name: "<stdin>"))
        }
        var r = CSVReader()
        r.delimiter = bytes.withUnsafeBufferPointer { CSVReader.sniffDelimiter($0) }
        return try r.read(bytes, name: "<stdin>")
    }

    /// A JSON column of integers and codes (an integer past 64 bits, kept as its digits;
    /// "02134") is text, every value its digits, as the same column in CSV is: left mixed,
    /// the id 1 and the text "1" of another file would not be one key.
    static func codesAsText(_ t: Table) -> Table {
        var changed = false
        let columns = t.columns.map { c -> Column in
            guard case .values(let vs) = c.storage else { return c }
            var sawCode = false
            for v in vs {
                switch v {
                case .null, .int: continue
                case .string(let s):
                    guard CSVParser.isCode(s) else { return c }
                    sawCode = true
                default: return c
                }
            }
            guard sawCode else { return c }
            changed = true
            return Column.from(vs.map { v -> Value in if case .int(let i) = v { return .string(String(i)) } else { return v } })
        }
        return changed ? Table(names: t.names, columns: columns, count: t.count, name: t.name) : t
    }

    /// Reads one file by its extension; CSV also returns the line of each row.
    public static func readFile(_ path: String, nulls: [String]?, text: Set<String> = []) throws -> (Table, RowLocator?) {
        guard let file = MappedFile(path: path) else {
            if !FileManager.default.fileExists(atPath: path) {
                throw Diagnostic(.data, "no such file: \(path)", hints: ["a relative path in a script is relative to the script's directory"])
            }
            throw Diagnostic(.data, "cannot read '\(path)'", hints: ["check the file's permissions"])
        }
        switch ext(path) {
        case "csv", "txt", "tsv":
            var r = CSVReader()
            // .tsv is tab-separated; a .csv or .txt says by its header (a ; export reads too).
            r.delimiter = ext(path) == "tsv" ? UInt8(ascii: "\t") : file.withBytes { CSVReader.sniffDelimiter(UnsafeBufferPointer(rebasing: $0.prefix(65_536))) }
            if let nulls { r.nullTokens = Set(nulls) }
            r.textColumns = text
            let (t, lines) = try r.read(file, name: path)
            return (t, lines)
        case "json", "jsonl", "ndjson":
            // Typed columns straight from the mapped file, its pages given back as they are
            // parsed; the records below read anything else, and say what is wrong with it.
            if let t = file.withBytes({ JSONTableReader.read($0, release: file.release) }) {
                return (codesAsText(t), nil)
            }
            let bytes = file.withBytes { Array($0) }
            if let bad = CSVReader.firstInvalidUTF8(bytes) {
                let line = 1 + bytes[..<bad].lazy.filter { $0 == UInt8(ascii: "\n") }.count
                throw Diagnostic.data(file: path, line: line, "invalid UTF-8 at byte offset \(bad)", hints: ["save the file as UTF-8"])
            }
            return (codesAsText(try JSONReader.readRecords(bytes, name: path)), nil)
        default:
            throw Diagnostic(.data, "cannot load '\(path)': unknown file type", hints: ["kam reads .csv, .tsv, .json and .jsonl files, SQLite databases and dataset directories"])
        }
    }

    /// Renames columns and converts the types a manifest declares.
    /// `entity`, `manifest` and `source` ("customers.csv", "table Customers") say where a
    /// name the manifest gives is missing: the message points at the manifest's line.
    public static func apply(_ spec: Manifest.EntitySpec, to t: Table, lines: RowLocator?, file: String, entity: String = "",
                             manifest: Manifest? = nil, source: String? = nil) throws -> Table {
        let names = t.names
        var columns = t.columns
        let source = source ?? (file as NSString).lastPathComponent
        // The column a manifest names: the exact name, else the one name that differs only
        // in case (exports spell CategoryID and categoryId alike); several such is an error.
        func index(of wanted: String, _ what: String) throws -> Int {
            if let i = names.firstIndex(of: wanted) { return i }
            let folded = names.indices.filter { names[$0].lowercased() == wanted.lowercased() }
            if folded.count == 1, let i = folded.first { return i }
            let at = manifest.map { m in (m.file, (what == "renames" ? spec.columnsLine : spec.typesLine) ?? spec.line) } ?? (file, 1)
            let who = entity.isEmpty ? "the manifest" : "entity '\(entity)'"
            if folded.count > 1 {
                throw Diagnostic.data(file: at.0, line: at.1, "\(who) \(what) column '\(wanted)', which matches \(folded.map { "'\(names[$0])'" }.joined(separator: " and ")) in \(source) but none exactly",
                    hints: ["write the name exactly as \(source) spells it"])
            }
            throw Diagnostic.data(file: at.0, line: at.1, "\(who) \(what) column '\(wanted)', which \(source) does not have",
                hints: [Suggest.hint(wanted, in: names) ?? "columns: " + names.joined(separator: ", ")])
        }
        // Renames resolve against the file's names, then apply at once ({a = "b", b = "a"}
        // swaps); two columns may not end with one name.
        let original = names
        var renamed = names
        for (old, new) in spec.columns { renamed[try index(of: old, "renames")] = new }
        var seenNames: [String: String] = [:]
        for (k, n) in renamed.enumerated() {
            if let other = seenNames[n] {
                let at = manifest.map { ($0.file, spec.columnsLine ?? spec.line) } ?? (file, 1)
                throw Diagnostic.data(file: at.0, line: at.1, "\(entity.isEmpty ? "the manifest" : "entity '\(entity)'") gives two columns the name '\(n)' ('\(other)' and '\(original[k])')",
                    hints: ["rename one of them to another name"])
            }
            seenNames[n] = original[k]
        }
        var typed: [Int: String] = [:]
        for (col, type) in spec.types.sorted(by: { $0.key < $1.key }) {
            // A type names the column as the file does, or as the manifest renames it.
            let c: Int
            if let i = try? index(of: col, "types") { c = i } else if let i = renamed.firstIndex(of: col) { c = i } else { c = try index(of: col, "types") }
            if let other = typed[c] {
                let at = manifest.map { ($0.file, spec.typesLine ?? spec.line) } ?? (file, 1)
                throw Diagnostic.data(file: at.0, line: at.1, "\(entity.isEmpty ? "the manifest" : "entity '\(entity)'") types column '\(original[c])' twice, as '\(other)' and as '\(col)'",
                    hints: ["give it one type"])
            }
            typed[c] = col
            columns[c] = try convert(columns[c], to: type) { row, text in
                Diagnostic.data(file: file, line: lines?.line(of: row), column: c + 1,
                    "value '\(text)' in column '\(col)' is not \(type == .int ? "an" : "a") \(type.rawValue)",
                    hints: ["the manifest declares \(col) as \(type.rawValue)"])
            }
        }
        return Table(names: renamed, columns: columns, count: t.count, name: t.name)
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
