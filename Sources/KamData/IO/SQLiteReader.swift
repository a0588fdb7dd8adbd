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
    }

    let db: OpaquePointer
    public let path: String

    /// Whether the file starts with SQLite's header.
    public static func isDatabase(_ path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        let head = h.readData(ofLength: 16)
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
        var names: [String] = []
        try query("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name") { s in
            if let n = SQLiteReader.text(s, 0) { names.append(n) }
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

    /// The rows of a query. SQLite keeps dates as text: a text column whose every value
    /// is a date is a date column.
    public func read(sql: String, emptyColumns: (() throws -> [String])? = nil) throws -> Table {
        var columnNames: [String] = []
        var columns: [[Value]] = []
        var stmt: OpaquePointer? = nil
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK, let stmt else {
            throw Diagnostic.data(file: path, line: nil, "SQLite: \(String(cString: sqlite3_errmsg(db)))")
        }
        defer { sqlite3_finalize(stmt) }
        let n = Int(sqlite3_column_count(stmt))
        columnNames = (0..<n).map { sqlite3_column_name(stmt, Int32($0)).map { String(cString: $0) } ?? "column\($0 + 1)" }
        columns = Array(repeating: [], count: n)
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw Diagnostic.data(file: path, line: nil, "SQLite: \(String(cString: sqlite3_errmsg(db)))") }
            for c in 0..<n {
                let i = Int32(c)
                switch sqlite3_column_type(stmt, i) {
                case SQLITE_INTEGER: columns[c].append(.int(sqlite3_column_int64(stmt, i)))
                case SQLITE_FLOAT: columns[c].append(.float(sqlite3_column_double(stmt, i)))
                case SQLITE_TEXT: columns[c].append(SQLiteReader.text(stmt, i).map(Value.string) ?? .null)
                case SQLITE_BLOB: columns[c].append(.string("<blob \(sqlite3_column_bytes(stmt, i)) bytes>"))
                default: columns[c].append(.null)
                }
            }
        }
        if n == 0, let emptyColumns {
            columnNames = try emptyColumns()
            columns = Array(repeating: [], count: columnNames.count)
        }
        var seen = Set<String>()
        for name in columnNames where !seen.insert(name).inserted {
            throw Diagnostic.data(file: path, line: nil, "SQLite: two columns are named '\(name)'",
                hints: ["give each column its own name: SELECT a.id AS account_id, ..."])
        }
        let built: [Column] = columns.map { values in
            let strings = values.compactMap { if case .string(let s) = $0 { s } else { nil } }
            let nonNull = values.filter { !$0.isNull }.count
            if !strings.isEmpty, strings.count == nonNull, strings.allSatisfy({ Calendar.parse(Array($0.utf8)) != nil }) {
                return Column.from(values.map { if case .string(let s) = $0 { .date(Calendar.parse(Array(s.utf8)) ?? 0) } else { .null } })
            }
            return Column.from(values)
        }
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
