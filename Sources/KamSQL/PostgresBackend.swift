import CLibPQ
import Foundation
import KamData
import KamSyntax

/// A PostgreSQL database through libpq: `--data postgres://user@host/crm`, or libpq's
/// `key=value` connection string. The catalog is read from information_schema; results
/// come back as text and are typed as the compiled query says.
public final class PostgresBackend: SQLBackend {
    public let path: String
    public let rows: Bool
    /// A column that orders each table's rows (when the tables have one), else the key.
    public let orderColumn: String?
    public var dialect: Dialect { .postgres }
    let conn: OpaquePointer

    public init(connection: String, rows: Bool, orderColumn: String? = nil) throws {
        guard let c = PQconnectdb(connection) else { throw Diagnostic(.data, "PostgreSQL: cannot connect to \(connection)") }
        guard PQstatus(c) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(c)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(c)
            throw Diagnostic(.data, "PostgreSQL: cannot connect to \(connection): \(message)",
                hints: ["a connection is postgres://user@host:port/database, or host=... dbname=..."])
        }
        conn = c
        path = connection
        self.rows = rows
        self.orderColumn = orderColumn
    }

    deinit { PQfinish(conn) }

    /// The names, type oids and text values of a query's rows (nil for null).
    func exec(_ sql: String) throws -> (names: [String], oids: [UInt32], rows: [[String?]]) {
        guard let r = PQexec(conn, sql) else { throw Diagnostic(.data, "PostgreSQL: out of memory") }
        defer { PQclear(r) }
        let status = PQresultStatus(r)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else {
            let message = String(cString: PQresultErrorMessage(r)).trimmingCharacters(in: .whitespacesAndNewlines)
            throw Diagnostic(.data, "PostgreSQL: " + message)
        }
        let n = Int(PQnfields(r)), m = Int(PQntuples(r))
        let names = (0..<n).map { String(cString: PQfname(r, Int32($0))) }
        let oids = (0..<n).map { UInt32(PQftype(r, Int32($0))) }
        var rows: [[String?]] = []
        rows.reserveCapacity(m)
        for i in 0..<m {
            rows.append((0..<n).map { c in
                PQgetisnull(r, Int32(i), Int32(c)) != 0 ? nil : String(cString: PQgetvalue(r, Int32(i), Int32(c)))
            })
        }
        return (names, oids, rows)
    }

    static func type(oid: UInt32) -> SQLType {
        switch oid {
        case 16: .bool
        case 20, 21, 23: .int
        case 700, 701, 1700: .float
        case 1082: .date
        case 25, 1043, 18, 19, 1042: .string
        default: .unknown
        }
    }

    func table(_ result: (names: [String], oids: [UInt32], rows: [[String?]]), types: [SQLType]? = nil) -> Table {
        var columns: [Column] = []
        for c in result.names.indices {
            let t = types.map { c < $0.count ? $0[c] : .unknown } ?? PostgresBackend.type(oid: result.oids[c])
            if result.rows.isEmpty { columns.append(emptyColumn(t)); continue }
            columns.append(Column.from(result.rows.map { row in row[c].map { typed(.string($0), t) } ?? .null }))
        }
        return Table(names: result.names, columns: columns, count: result.rows.count)
    }

    public func tablesAndViews() throws -> [(name: String, view: Bool)] {
        let r = try exec("SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name")
        return r.rows.compactMap { row in row[0].map { ($0, row[1] == "VIEW") } }
    }

    public func primaryKey(_ table: String) throws -> String? {
        let r = try exec("""
            SELECT k.column_name FROM information_schema.table_constraints c
            JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name AND k.table_schema = c.table_schema
            WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = current_schema() AND c.table_name = \(dialect.string(table))
            """)
        return r.rows.count == 1 ? r.rows[0][0] : nil
    }

    public func foreignKeys(_ table: String) throws -> [SQLiteReader.ForeignKey] {
        let r = try exec("""
            SELECT c.constraint_name, k.column_name, u.table_name, u.column_name FROM information_schema.table_constraints c
            JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name AND k.table_schema = c.table_schema
            JOIN information_schema.constraint_column_usage u ON u.constraint_name = c.constraint_name AND u.table_schema = c.table_schema
            WHERE c.constraint_type = 'FOREIGN KEY' AND c.table_schema = current_schema() AND c.table_name = \(dialect.string(table))
            """)
        // A key of several columns is not a link kam can follow.
        let counts = Dictionary(grouping: r.rows, by: { $0[0] ?? "" }).mapValues(\.count)
        return r.rows.filter { counts[$0[0] ?? ""] == 1 }.compactMap { row in
            guard let col = row[1], let target = row[2] else { return nil }
            return SQLiteReader.ForeignKey(column: col, target: target, key: row[3])
        }
    }

    func read(_ source: String) throws -> Table {
        var t = table(try exec(rows ? source : "SELECT * FROM (\(source)) AS q LIMIT 0"))
        // A position column the data carries for its order is not a column of the entity.
        if let o = orderColumn, let i = t.names.firstIndex(of: o) {
            var names = t.names, columns = t.columns
            names.remove(at: i)
            columns.remove(at: i)
            t = Table(names: names, columns: columns, count: t.count)
        }
        return t
    }

    public func read(table: String) throws -> Table {
        let order = orderColumn.map { " ORDER BY \(dialect.quote($0))" } ?? ""
        return try read("SELECT * FROM \(dialect.quote(table))" + (rows ? order : ""))
    }

    public func read(sql: String, emptyColumns: (() throws -> [String])?) throws -> Table { try read(sql) }

    public func run(_ query: SQLQuery) throws -> Table {
        let r = try exec(query.sql)
        return table(r, types: query.types)
    }
}
