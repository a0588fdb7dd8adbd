import CSQLite
import Foundation
import KamSyntax

/// Reads every table of a SQLite database (read-only) as an entity.
public enum SQLiteReader {
    /// Whether the file starts with SQLite's header.
    public static func isDatabase(_ path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        let head = h.readData(ofLength: 16)
        return head == Data("SQLite format 3\u{0}".utf8)
    }

    public static func load(_ path: String) throws -> [(String, Table)] {
        var db: OpaquePointer? = nil
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            throw Diagnostic.data(file: path, line: nil, "cannot open the SQLite database: \(message)")
        }
        defer { sqlite3_close(db) }
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
        var names: [String] = []
        try query("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name") { s in
            names.append(String(cString: sqlite3_column_text(s, 0)))
        }
        var tables: [(String, Table)] = []
        for name in names {
            var columnNames: [String] = []
            var columns: [[Value]] = []
            let quoted = "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            var first = true
            try query("SELECT * FROM \(quoted)") { s in
                let n = Int(sqlite3_column_count(s))
                if first {
                    columnNames = (0..<n).map { String(cString: sqlite3_column_name(s, Int32($0))) }
                    columns = Array(repeating: [], count: n)
                    first = false
                }
                for c in 0..<n {
                    let i = Int32(c)
                    switch sqlite3_column_type(s, i) {
                    case SQLITE_INTEGER: columns[c].append(.int(sqlite3_column_int64(s, i)))
                    case SQLITE_FLOAT: columns[c].append(.float(sqlite3_column_double(s, i)))
                    case SQLITE_TEXT: columns[c].append(.string(String(cString: sqlite3_column_text(s, i))))
                    case SQLITE_BLOB: columns[c].append(.string("<blob \(sqlite3_column_bytes(s, i)) bytes>"))
                    default: columns[c].append(.null)
                    }
                }
            }
            if first {
                // An empty table: its columns from the schema.
                try query("PRAGMA table_info(\(quoted))") { s in columnNames.append(String(cString: sqlite3_column_text(s, 1))) }
                columns = Array(repeating: [], count: columnNames.count)
            }
            // SQLite keeps dates as text: a text column whose every value is a date is one.
            let built: [Column] = columns.map { values in
                let strings = values.compactMap { if case .string(let s) = $0 { s } else { nil } }
                let nonNull = values.filter { !$0.isNull }.count
                if !strings.isEmpty, strings.count == nonNull, strings.allSatisfy({ Calendar.parse(Array($0.utf8)) != nil }) {
                    return Column.from(values.map { if case .string(let s) = $0 { .date(Calendar.parse(Array(s.utf8)) ?? 0) } else { .null } })
                }
                return Column.from(values)
            }
            tables.append((DatasetLoader.entityName(name), Table(names: columnNames, columns: built, count: built.first?.count ?? 0)))
        }
        return tables
    }
}
