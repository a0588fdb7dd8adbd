import Foundation
import KamSyntax

/// `kam.toml` or `kam.json` in a dataset directory: renames files and columns, declares
/// ids, links, column types and null tokens, so an export with other names loads as is.
///
/// ```toml
/// null = ["", "NULL", "N/A"]
/// [entities.accounts]
/// file = "customers.csv"
/// columns = { customerID = "id", companyName = "name" }
/// types = { postalCode = "string" }
/// [[links]]
/// from = "orders.customer_id"
/// to = "accounts"
/// ```
public struct Manifest {
    public struct EntitySpec {
        public var file: String?
        /// A SQLite dataset: the table this entity reads, or the query whose rows it is.
        public var table: String?
        public var sql: String?
        public var columns: [(String, String)] = []
        public var types: [String: ColumnType] = [:]
        public var nulls: [String]?
        public var derived: [Derived] = []
        /// The lines that declare it, its renames and its types, for messages.
        public var line: Int?
        public var columnsLine: Int?
        public var typesLine: Int?
    }

    /// A column computed after loading, from a kam expression over the entity's row and
    /// its links (`amount = "unit_price * quantity * (1 - discount)"`).
    public struct Derived {
        public var column: String
        public var expression: String
        public var line: Int?
        /// Where the expression starts in the manifest's text, when it is written as is.
        public var offset: Int?
    }

    public struct LinkSpec {
        public var entity: String
        public var column: String
        public var target: String
        public var name: String?
        /// The target's column the values match (default: its id).
        public var key: String?
        /// The line of its `from`, for messages.
        public var line: Int? = nil
    }

    public var entities: [(String, EntitySpec)] = []
    public var links: [LinkSpec] = []
    public var nulls: [String]?
    /// Where the queries run on a database (`engine = "sql"`, the default, or `"kam"`, the
    /// rows read into memory); `--engine` overrides it.
    public var engine: String?
    /// Its line, for messages.
    public var engineLine: Int?
    /// The manifest's path and text, for messages that point into it.
    public var file: String = "kam.toml"
    public var text: String = ""

    public static let topKeys = ["entities", "links", "null", "engine"]
    public static let entityKeys = ["file", "table", "sql", "columns", "types", "null", "derive"]
    public static let linkKeys = ["from", "to", "name", "key"]
    public static let typeNames = ["int", "float", "string", "date", "bool"]
    public static let names = ["kam.toml", "kam.json"]
    /// The entities the analytics read by name (docs/DATA.md, the standard entities).
    public static let standardEntities = ["accounts", "contacts", "employees", "relationships", "products", "orders", "opportunities",
                                          "surveys", "invoices", "contracts", "interactions"]

    /// Reads the manifest in `dir`, if there is one.
    public static func load(dir: String) throws -> Manifest? {
        for name in names where FileManager.default.fileExists(atPath: dir + "/" + name) {
            return try load(file: dir + "/" + name)
        }
        return nil
    }

    /// The manifest of a database file: `crm.toml` or `crm.json` beside `crm.db`, else a
    /// `kam.toml` or `kam.json` in its directory.
    public static func besides(_ database: String) -> String? {
        let dir = (database as NSString).deletingLastPathComponent
        let base = ((database as NSString).lastPathComponent as NSString).deletingPathExtension
        let prefix = dir.isEmpty ? "" : dir + "/"
        return ([base + ".toml", base + ".json"] + names).map { prefix + $0 }.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Reads one manifest file: TOML, or JSON when it ends in .json.
    public static func load(file path: String) throws -> Manifest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Diagnostic(.data, "no such manifest: \(path)", hints: ["--manifest names a kam.toml or kam.json file"])
        }
        let text = String(decoding: data, as: UTF8.self)
        let root: Record
        var lines: [String: Int] = [:]
        var offsets: [String: Int] = [:]
        if !path.lowercased().hasSuffix(".json") {
            var reader = TOMLReader(bytes: Array(data))
            do { root = try reader.parse() } catch { throw Diagnostic.data(file: path, line: error.line, error.message) }
            lines = reader.keyLines
            offsets = reader.stringOffsets
        } else {
            var reader = JSONReader(Array(data))
            do {
                guard case .record(let r) = try reader.parseValue() else {
                    throw Diagnostic.data(file: path, line: 1, "the manifest must be a JSON object")
                }
                root = r
            } catch let f as JSONReader.Failure {
                let (l, c) = JSONReader.location(Array(data), f.offset)
                throw Diagnostic.data(file: path, line: l, column: c, f.message)
            }
        }
        var m = try Manifest(root, file: path, text: text, lines: lines, offsets: offsets)
        m.file = path
        m.text = text
        return m
    }

    public init(_ root: Record, file: String, text: String, lines: [String: Int], offsets: [String: Int] = [:]) throws {
        self.file = file
        self.text = text
        func lineOf(_ key: String, _ dotted: String) -> Int? {
            if let l = lines[dotted] { return l }
            // JSON: the first line that mentions the key in quotes.
            for (n, l) in text.components(separatedBy: "\n").enumerated() where l.contains("\"\(key)\"") { return n + 1 }
            return nil
        }
        func unknown(_ key: String, _ dotted: String, _ allowed: [String]) -> Diagnostic {
            Diagnostic.data(file: file, line: lineOf(key, dotted), "unknown manifest key '\(dotted)'",
                hints: [Suggest.hint(key, in: allowed) ?? "known keys here: " + allowed.joined(separator: ", ")])
        }
        func strings(_ v: Value, _ dotted: String) throws -> [String] {
            guard case .list(let xs) = v else { throw Diagnostic.data(file: file, line: lines[dotted], "'\(dotted)' must be a list of strings") }
            return try xs.map {
                guard case .string(let s) = $0 else { throw Diagnostic.data(file: file, line: lines[dotted], "'\(dotted)' must be a list of strings") }
                return s
            }
        }
        func string(_ v: Value, _ key: String, _ dotted: String) throws -> String {
            guard case .string(let s) = v else { throw Diagnostic.data(file: file, line: lineOf(key, dotted), "'\(dotted)' must be a string") }
            return s
        }
        func suggestion(_ t: Value) -> String? {
            guard case .string(let tn) = t else { return nil }
            return Suggest.hint(tn, in: Manifest.typeNames) ?? (tn.lowercased().hasPrefix("int") ? "did you mean 'int'?" : nil)
        }
        for (k, v) in zip(root.keys, root.values) {
            switch k {
            case "null": nulls = try strings(v, k)
            case "engine":
                let e = try string(v, k, k)
                guard e == "sql" || e == "kam" else {
                    throw Diagnostic.data(file: file, line: lineOf(k, k), "unknown engine '\(e)'",
                        hints: ["engine = \"sql\" runs the queries on the database, engine = \"kam\" reads the rows into memory"])
                }
                engine = e
                engineLine = lineOf(k, k)
            case "entities":
                guard case .record(let ents) = v else { throw Diagnostic.data(file: file, line: lineOf(k, k), "'entities' must be a table") }
                for (name, spec) in zip(ents.keys, ents.values) {
                    guard case .record(let fields) = spec else { throw Diagnostic.data(file: file, line: lineOf(name, "entities.\(name)"), "'entities.\(name)' must be a table") }
                    var e = EntitySpec()
                    e.line = lineOf(name, "entities.\(name)")
                    for (fk, fv) in zip(fields.keys, fields.values) {
                        let dotted = "entities.\(name).\(fk)"
                        switch fk {
                        case "file": e.file = try string(fv, fk, dotted)
                        case "table": e.table = try string(fv, fk, dotted)
                        case "sql": e.sql = try string(fv, fk, dotted)
                        case "columns":
                            e.columnsLine = lineOf(fk, dotted)
                            guard case .record(let m) = fv else { throw Diagnostic.data(file: file, line: lineOf(fk, dotted), "'\(dotted)' must map old names to new ones") }
                            for (old, new) in zip(m.keys, m.values) {
                                guard case .string(let n) = new else { throw Diagnostic.data(file: file, line: lineOf(old, dotted + "." + old), "'\(dotted).\(old)' must be a string") }
                                e.columns.append((old, n))
                            }
                        case "types":
                            e.typesLine = lineOf(fk, dotted)
                            guard case .record(let m) = fv else { throw Diagnostic.data(file: file, line: lineOf(fk, dotted), "'\(dotted)' must map columns to types") }
                            for (col, t) in zip(m.keys, m.values) {
                                guard case .string(let tn) = t, let type = ColumnType(rawValue: tn), Manifest.typeNames.contains(tn) else {
                                    let given = if case .string(let tn) = t { "'\(tn)'" } else { Format.literal(t, depth: 1) }
                                    throw Diagnostic.data(file: file, line: lineOf(col, dotted + "." + col), "unknown type \(given) for '\(dotted).\(col)'",
                                        hints: [suggestion(t) ?? "types: " + Manifest.typeNames.joined(separator: ", ")])
                                }
                                e.types[col] = type
                            }
                        case "null": e.nulls = try strings(fv, dotted)
                        case "derive":
                            guard case .record(let m) = fv else {
                                throw Diagnostic.data(file: file, line: lineOf(fk, dotted), "'\(dotted)' must map new columns to kam expressions",
                                    hints: ["write: derive = { amount = \"unit_price * quantity\" }"])
                            }
                            for (col, x) in zip(m.keys, m.values) {
                                guard case .string(let expr) = x else {
                                    throw Diagnostic.data(file: file, line: lineOf(col, dotted + "." + col), "'\(dotted).\(col)' must be a kam expression in a string",
                                        hints: ["write: \(col) = \"unit_price * quantity\""])
                                }
                                let key = dotted + "." + col
                                e.derived.append(Derived(column: col, expression: expr, line: lineOf(col, key) ?? lineOf(fk, dotted), offset: offsets[key]))
                            }
                        default: throw unknown(fk, dotted, Manifest.entityKeys)
                        }
                    }
                    if [e.file, e.table, e.sql].compactMap({ $0 }).count > 1 {
                        throw Diagnostic.data(file: file, line: lineOf(name, "entities.\(name)"), "entity '\(name)' gives more than one of file, table and sql",
                            hints: ["an entity reads one source: a file (a directory dataset), a table or a query (a SQLite database)"])
                    }
                    entities.append((name, e))
                }
            case "links":
                guard case .list(let items) = v else { throw Diagnostic.data(file: file, line: lineOf(k, k), "'links' must be a list of tables") }
                for item in items {
                    guard case .record(let r) = item else { throw Diagnostic.data(file: file, line: lineOf(k, k), "each link must be a table with from and to") }
                    for key in r.keys where !Manifest.linkKeys.contains(key) { throw unknown(key, "links.\(key)", Manifest.linkKeys) }
                    guard case .string(let from)? = r["from"], case .string(let to)? = r["to"], let dot = from.firstIndex(of: ".") else {
                        throw Diagnostic.data(file: file, line: lineOf("from", "links.from"), "a link needs from = \"entity.column\" and to = \"entity\"")
                    }
                    var name: String? = nil, key: String? = nil
                    if case .string(let n)? = r["name"] { name = n }
                    if case .string(let n)? = r["key"] { key = n }
                    // Its line: the one that gives this from.
                    let line = text.components(separatedBy: "\n").firstIndex { $0.contains("from") && $0.contains("\"\(from)\"") }.map { $0 + 1 }
                    links.append(LinkSpec(entity: String(from[..<dot]), column: String(from[from.index(after: dot)...]), target: to, name: name, key: key,
                                          line: line))
                }
            default:
                throw unknown(k, k, Manifest.topKeys)
            }
        }
    }
}
