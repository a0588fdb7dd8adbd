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
        public var columns: [(String, String)] = []
        public var types: [String: ColumnType] = [:]
        public var nulls: [String]?
    }

    public struct LinkSpec {
        public var entity: String
        public var column: String
        public var target: String
        public var name: String?
    }

    public var entities: [(String, EntitySpec)] = []
    public var links: [LinkSpec] = []
    public var nulls: [String]?

    public static let topKeys = ["entities", "links", "null"]
    public static let entityKeys = ["file", "columns", "types", "null"]
    public static let linkKeys = ["from", "to", "name"]
    public static let typeNames = ["int", "float", "string", "date", "bool"]

    /// Reads the manifest in `dir`, if there is one.
    public static func load(dir: String) throws -> Manifest? {
        for name in ["kam.toml", "kam.json"] {
            let path = dir + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            let root: Record
            var lines: [String: Int] = [:]
            if name.hasSuffix(".toml") {
                var reader = TOMLReader(text)
                do { root = try reader.parse() } catch { throw Diagnostic.data(file: path, line: error.line, error.message) }
                lines = reader.keyLines
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
            return try Manifest(root, file: path, text: text, lines: lines)
        }
        return nil
    }

    public init(_ root: Record, file: String, text: String, lines: [String: Int]) throws {
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
        for (k, v) in zip(root.keys, root.values) {
            switch k {
            case "null": nulls = try strings(v, k)
            case "entities":
                guard case .record(let ents) = v else { throw Diagnostic.data(file: file, line: lineOf(k, k), "'entities' must be a table") }
                for (name, spec) in zip(ents.keys, ents.values) {
                    guard case .record(let fields) = spec else { throw Diagnostic.data(file: file, line: lineOf(name, "entities.\(name)"), "'entities.\(name)' must be a table") }
                    var e = EntitySpec()
                    for (fk, fv) in zip(fields.keys, fields.values) {
                        let dotted = "entities.\(name).\(fk)"
                        switch fk {
                        case "file":
                            guard case .string(let s) = fv else { throw Diagnostic.data(file: file, line: lineOf(fk, dotted), "'\(dotted)' must be a string") }
                            e.file = s
                        case "columns":
                            guard case .record(let m) = fv else { throw Diagnostic.data(file: file, line: lineOf(fk, dotted), "'\(dotted)' must map old names to new ones") }
                            for (old, new) in zip(m.keys, m.values) {
                                guard case .string(let n) = new else { throw Diagnostic.data(file: file, line: lineOf(old, dotted + "." + old), "'\(dotted).\(old)' must be a string") }
                                e.columns.append((old, n))
                            }
                        case "types":
                            guard case .record(let m) = fv else { throw Diagnostic.data(file: file, line: lineOf(fk, dotted), "'\(dotted)' must map columns to types") }
                            for (col, t) in zip(m.keys, m.values) {
                                guard case .string(let tn) = t, let type = ColumnType(rawValue: tn), Manifest.typeNames.contains(tn) else {
                                    throw Diagnostic.data(file: file, line: lineOf(col, dotted + "." + col), "unknown type for '\(dotted).\(col)'",
                                        hints: ["types: " + Manifest.typeNames.joined(separator: ", ")])
                                }
                                e.types[col] = type
                            }
                        case "null": e.nulls = try strings(fv, dotted)
                        default: throw unknown(fk, dotted, Manifest.entityKeys)
                        }
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
                    var name: String? = nil
                    if case .string(let n)? = r["name"] { name = n }
                    links.append(LinkSpec(entity: String(from[..<dot]), column: String(from[from.index(after: dot)...]), target: to, name: name))
                }
            default:
                throw unknown(k, k, Manifest.topKeys)
            }
        }
    }
}
