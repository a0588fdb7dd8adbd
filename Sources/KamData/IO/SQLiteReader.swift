import CSQLite
import Foundation
import KamSyntax

/// Reads a SQLite database (opened read-only): its tables, the queries a manifest gives,
/// and the keys its schema declares (primary keys, foreign keys), which become links.
public final class SQLiteReader {
    /// A declared foreign key: `table.column` refers to `target.key` (nil: its primary key).
    public struct ForeignKey {
        public var column: String
        public var target: String
        public var key: String?
        public init(column: String, target: String, key: String?) {
            self.column = column
            self.target = target
            self.key = key
        }
    }

    let db: OpaquePointer
    public let path: String

    /// Whether the file starts with SQLite's header.
    public static func isDatabase(_ path: String) -> Bool {
        // A directory opens as a handle too, and reading it traps: regular files only.
        var directory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &directory), !directory.boolValue,
              let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        guard let head = try? h.read(upToCount: 16) else { return false }
        return head == Data("SQLite format 3\u{0}".utf8)
    }

    public init(_ path: String) throws {
        var db: OpaquePointer? = nil
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            throw Diagnostic.data(file: path, line: nil, "cannot open the SQLite database: \(message)")
        }
        self.db = db
        self.path = path
    }

    deinit { sqlite3_close(db) }

    func query(_ sql: String, _ row: (OpaquePointer) throws -> Void) throws {
        var stmt: OpaquePointer? = nil
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK, let stmt else {
            throw Diagnostic.data(file: path, line: nil, "SQLite: \(String(cString: sqlite3_errmsg(db)))")
        }
        defer { sqlite3_finalize(stmt) }
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw Diagnostic.data(file: path, line: nil, "SQLite: \(String(cString: sqlite3_errmsg(db)))") }
            try row(stmt)
        }
    }

    static func text(_ s: OpaquePointer, _ i: Int32) -> String? {
        sqlite3_column_text(s, i).map { String(cString: $0) }
    }

    static func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    /// The tables and views, by name.
    public func tables() throws -> [String] {
        try tablesAndViews().map(\.name)
    }

    /// The tables and views, by name, each with whether it is a view.
    public func tablesAndViews() throws -> [(name: String, view: Bool)] {
        var names: [(String, Bool)] = []
        try query("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name") { s in
            if let n = SQLiteReader.text(s, 0) { names.append((n, SQLiteReader.text(s, 1) == "view")) }
        }
        return names
    }

    /// The column of a one-column primary key, if the table has one.
    public func primaryKey(_ table: String) throws -> String? {
        var keys: [(Int64, String)] = []
        try query("PRAGMA table_info(\(SQLiteReader.quoted(table)))") { s in
            let pk = sqlite3_column_int64(s, 5)
            if pk > 0, let n = SQLiteReader.text(s, 1) { keys.append((pk, n)) }
        }
        return keys.count == 1 ? keys[0].1 : nil
    }

    /// The one-column foreign keys the table declares.
    public func foreignKeys(_ table: String) throws -> [ForeignKey] {
        var rows: [(id: Int64, column: String, target: String, key: String?)] = []
        try query("PRAGMA foreign_key_list(\(SQLiteReader.quoted(table)))") { s in
            guard let target = SQLiteReader.text(s, 2), let from = SQLiteReader.text(s, 3) else { return }
            rows.append((sqlite3_column_int64(s, 0), from, target, SQLiteReader.text(s, 4)))
        }
        // A key of several columns is not a link kam can follow.
        let counts = Dictionary(grouping: rows, by: \.id).mapValues(\.count)
        return rows.filter { counts[$0.id] == 1 }.map { ForeignKey(column: $0.column, target: $0.target, key: $0.key) }
    }

    /// A table's rows.
    public func read(table: String) throws -> Table {
        try read(sql: "SELECT * FROM \(SQLiteReader.quoted(table))", emptyColumns: {
            var names: [String] = []
            try self.query("PRAGMA table_info(\(SQLiteReader.quoted(table)))") { s in names.append(SQLiteReader.text(s, 1) ?? "") }
            return names
        })
    }

    /// One result column as it is read: typed while its values agree (ints, floats, text),
    /// boxed once they do not; the same column `Column.from` would give, without boxing
    /// every value of a large table. (A struct of arrays, not an enum with payloads: an
    /// append must not copy what was read.)
    struct Accumulator {
        enum Kind { case nulls, ints, floats, strings, mixed }
        var kind = Kind.nulls
        var count = 0
        var nulls: [Int] = []
        var ints: [Int64] = []
        var floats: [Double] = []
        var strings = StringBuilder()
        var mixed: [Value] = []

        mutating func appendNull() {
            nulls.append(count)
            switch kind {
            case .nulls: break
            case .ints: ints.append(0)
            case .floats: floats.append(0)
            case .strings: strings.appendNull()
            case .mixed: mixed.append(.null)
            }
            count += 1
        }

        /// The values so far, boxed (when the column turns out mixed).
        func boxed() -> [Value] {
            let nullSet = Set(nulls)
            let c: Column
            switch kind {
            case .nulls: return [Value](repeating: .null, count: count)
            case .ints: c = Column(storage: .int(ints))
            case .floats: c = Column(storage: .float(floats))
            case .strings: c = strings.column()
            case .mixed: return mixed
            }
            return (0..<count).map { nullSet.contains($0) ? .null : c.value(at: $0) }
        }

        mutating func box(_ v: Value) {
            if kind != .mixed {
                mixed = boxed()
                kind = .mixed
                ints = []; floats = []; strings = StringBuilder()
            }
            mixed.append(v)
            count += 1
        }

        mutating func append(_ x: Int64) {
            switch kind {
            case .nulls:
                kind = .ints
                ints = [Int64](repeating: 0, count: count)
                fallthrough
            case .ints: ints.append(x); count += 1
            case .floats: floats.append(Double(x)); count += 1
            default: box(.int(x))
            }
        }

        mutating func append(_ x: Double) {
            switch kind {
            case .nulls:
                kind = .floats
                floats = [Double](repeating: 0, count: count)
            case .ints:
                // Ints with a float: a float column, as in a CSV.
                kind = .floats
                floats = ints.map(Double.init)
                ints = []
            case .floats: break
            default:
                box(.float(x))
                return
            }
            floats.append(x)
            count += 1
        }

        mutating func append(_ x: String) {
            switch kind {
            case .nulls:
                kind = .strings
                for _ in 0..<count { strings.appendNull() }
                fallthrough
            case .strings: strings.append(x); count += 1
            default: box(.string(x))
            }
        }

        /// The column. SQLite keeps dates as text: a text column whose every value is a
        /// date is a date column.
        func column() -> Column {
            var validity: Bitmap? = nil
            if !nulls.isEmpty {
                var b = Bitmap(count: count, allValid: true)
                for i in nulls { b[i] = false }
                validity = b
            }
            switch kind {
            case .nulls: return Column.from([Value](repeating: .null, count: count))
            case .ints: return Column(storage: .int(ints), validity: validity)
            case .floats: return Column(storage: .float(floats), validity: validity)
            case .mixed: return Column.from(mixed)
            case .strings:
                // Every string seen is in the dictionary, so checking it is checking them all.
                let days = strings.dictionary.map { Calendar.parse(Array($0.utf8)) }
                guard !strings.dictionary.isEmpty, days.allSatisfy({ $0 != nil }) else { return strings.column() }
                return Column(storage: .date(strings.codes.map { days[Int($0)] ?? 0 }), validity: validity)
            }
        }
    }

    /// The rows of a query, typed column by column.
    public func read(sql: String, emptyColumns: (() throws -> [String])? = nil) throws -> Table {
        var stmt: OpaquePointer? = nil
        var tail: UnsafePointer<CChar>? = nil
        let utf8 = Array(sql.utf8CString)
        let rc = utf8.withUnsafeBufferPointer { buf in sqlite3_prepare_v2(db, buf.baseAddress, -1, &stmt, &tail) }
        guard rc == SQLITE_OK else {
            throw Diagnostic.data(file: path, line: nil, "SQLite: \(String(cString: sqlite3_errmsg(db)))")
        }
        guard let stmt else { throw Diagnostic.data(file: path, line: nil, "SQLite: the query is empty") }
        // One statement: what follows a ';' would be silently left out.
        let rest = utf8.withUnsafeBufferPointer { buf -> String in
            guard let base = buf.baseAddress, let tail else { return "" }
            let offset = base.distance(to: tail)
            return offset < buf.count ? String(cString: base + offset) : ""
        }
        if !rest.trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ";"))).isEmpty {
            sqlite3_finalize(stmt)
            throw Diagnostic.data(file: path, line: nil, "SQLite: the query has more than one statement",
                hints: ["an entity is one SELECT; join or union what it needs in it"])
        }
        defer { sqlite3_finalize(stmt) }
        let n = Int(sqlite3_column_count(stmt))
        var columnNames = (0..<n).map { sqlite3_column_name(stmt, Int32($0)).map { String(cString: $0) } ?? "column\($0 + 1)" }
        var columns = [Accumulator](repeating: Accumulator(), count: n)
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw Diagnostic.data(file: path, line: nil, "SQLite: \(String(cString: sqlite3_errmsg(db)))") }
            for c in 0..<n {
                let i = Int32(c)
                switch sqlite3_column_type(stmt, i) {
                case SQLITE_INTEGER: columns[c].append(sqlite3_column_int64(stmt, i))
                case SQLITE_FLOAT: columns[c].append(sqlite3_column_double(stmt, i))
                case SQLITE_TEXT:
                    if let t = SQLiteReader.text(stmt, i) { columns[c].append(t) } else { columns[c].appendNull() }
                case SQLITE_BLOB: columns[c].append("<blob \(sqlite3_column_bytes(stmt, i)) bytes>")
                default: columns[c].appendNull()
                }
            }
        }
        if n == 0, let emptyColumns {
            columnNames = try emptyColumns()
            columns = [Accumulator](repeating: Accumulator(), count: columnNames.count)
        }
        var seen = Set<String>()
        for name in columnNames where !seen.insert(name).inserted {
            throw Diagnostic.data(file: path, line: nil, "SQLite: two columns are named '\(name)'",
                hints: ["give each column its own name: SELECT a.id AS account_id, ..."])
        }
        let built = columns.map { $0.column() }
        return Table(names: columnNames, columns: built, count: built.first?.count ?? 0)
    }

    /// Writes a database from SQL text, replacing the file (the tests build their fixture
    /// databases from .sql files this way).
    public static func create(_ path: String, fromSQL sql: String) throws {
        try? FileManager.default.removeItem(atPath: path)
        var db: OpaquePointer? = nil
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK, let db else {
            sqlite3_close(db)
            throw Diagnostic.data(file: path, line: nil, "cannot create the SQLite database")
        }
        defer { sqlite3_close(db) }
        var message: UnsafeMutablePointer<CChar>? = nil
        guard sqlite3_exec(db, "BEGIN;\n" + sql + "\nCOMMIT;", nil, nil, &message) == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(message)
            throw Diagnostic.data(file: path, line: nil, "SQLite: \(text)")
        }
    }

    /// Every table as an entity (the old one-call form).
    public static func load(_ path: String) throws -> [(String, Table)] {
        let db = try SQLiteReader(path)
        return try db.tables().map { (DatasetLoader.entityName($0), try db.read(table: $0)) }
    }
}
