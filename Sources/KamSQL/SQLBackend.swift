import Foundation
import KamData
import KamSyntax

/// A database kam runs queries on: the catalog the loader links (tables, keys, foreign
/// keys, typed columns) and a way to run a compiled query and read its rows as kam values.
///
///     let db = try DuckDBBackend(path: "crm.duckdb", rows: false)
///     let (graph, _) = try DatasetLoader.load(database: db)   // entities and links, no rows
///     let t = try db.run(query)                               // a compiled SQLQuery's rows
///
/// With `rows: false` a table is read as its typed columns only: the graph then has every
/// entity, column and link but no rows, for checking a script and compiling it, never for
/// answering with kam's own engine.
public protocol SQLBackend: DatabaseCatalog {
    var dialect: Dialect { get }
    /// The column that orders a base table's rows, if the tables have one.
    var orderColumn: String? { get }
    /// Runs a compiled query; the rows typed as the query says.
    func run(_ query: SQLQuery) throws -> Table
}

extension SQLBackend {
    public var orderColumn: String? { nil }
}

/// Values read as text or loosely typed JSON, made the kam type the query says: dates
/// from ISO text, booleans from 0/1 or t/f, ints and floats from numbers or text.
func typed(_ v: Value, _ t: SQLType) -> Value {
    switch (v, t) {
    case (.null, .textList): return .list([])
    case (.string(let s), .textList): return .list(s.split(separator: "\u{1F}", omittingEmptySubsequences: false).map { .string(String($0)) })
    case (.null, _): return .null
    case (.string(let s), .date):
        return Calendar.parse(Array(s.prefix(10).utf8)).map(Value.date) ?? v
    case (.string(let s), .int): return Int64(s).map(Value.int) ?? v
    case (.string(let s), .float): return Double(s).map(Value.float) ?? v
    case (.string(let s), .bool): return s == "t" || s == "true" ? .bool(true) : s == "f" || s == "false" ? .bool(false) : v
    case (.int(let n), .bool): return .bool(n != 0)
    case (.int(let n), .float): return .float(Double(n))
    case (.float(let x), .int) where x == x.rounded() && abs(x) < 9.2e18: return .int(Int64(x))
    case (.int(let n), .duration): return .duration(Duration(days: Int32(clamping: n)))
    case (.string(let s), .duration): return Int64(s).map { .duration(Duration(days: Int32(clamping: $0))) } ?? v
    default: return v
    }
}

extension SQLType {
    /// A value read from an engine, as the kam value of this type: `.textList` reads the
    /// text a query wrote for a list (`Dialect.textList`) as the list.
    ///
    ///     SQLType.textList.value(.string("a\u{1F}b"))   // ["a", "b"]
    public func value(_ v: Value) -> Value { typed(v, self) }
}

func typedTable(_ t: Table, _ q: SQLQuery) -> Table {
    var columns: [Column] = []
    for (k, name) in q.columns.enumerated() {
        let type = k < q.types.count ? q.types[k] : .unknown
        guard let c = t.column(name) else {
            columns.append(Column.from([Value](repeating: .null, count: t.count)))
            continue
        }
        let values = (0..<t.count).map { typed(c.value(at: $0), type) }
        // All null: still a column of the query's type (it prints as one).
        if values.allSatisfy({ $0.isNull }), type != .unknown, type != .null {
            columns.append(nullColumn(type, t.count))
            continue
        }
        columns.append(Column.from(values))
    }
    return Table(names: q.columns, columns: columns, count: t.count)
}

/// A column of `count` nulls of a kam type.
func nullColumn(_ t: SQLType, _ count: Int) -> Column {
    var b = Bitmap(count: count, allValid: true)
    for i in 0..<count { b[i] = false }
    let storage: ColumnStorage
    switch t {
    case .int, .duration: storage = .int([Int64](repeating: 0, count: count))
    case .float: storage = .float([Double](repeating: 0, count: count))
    case .bool: storage = .bool([Bool](repeating: false, count: count))
    case .date: storage = .date([Int32](repeating: 0, count: count))
    default: storage = .string(StringColumn(codes: [UInt32](repeating: 0, count: count), dictionary: [""]))
    }
    return Column(storage: storage, validity: b)
}

/// An empty column of a kam type, for a catalog read without rows.
func emptyColumn(_ t: SQLType) -> Column {
    switch t {
    case .int, .duration: Column(storage: .int([]))
    case .float: Column(storage: .float([]))
    case .bool: Column(storage: .bool([]))
    case .date: Column(storage: .date([]))
    default: Column(storage: .string(StringColumn(codes: [], dictionary: [])))
    }
}

/// The kam type of a database column type (DuckDB's and PostgreSQL's names).
func kamType(ofDatabaseType raw: String) -> SQLType {
    let t = raw.uppercased()
    if t.hasPrefix("BOOL") { return .bool }
    // HUGEINT and UBIGINT hold values beyond a 64-bit int: not a kam int.
    if ["BIGINT", "INTEGER", "INT", "INT4", "INT8", "INT2", "SMALLINT", "TINYINT", "UINTEGER", "USMALLINT", "UTINYINT"].contains(t) { return .int }
    if t.hasPrefix("DOUBLE") || t.hasPrefix("FLOAT") || t == "REAL" || t.hasPrefix("DECIMAL") || t.hasPrefix("NUMERIC") { return .float }
    if t == "DATE" { return .date }
    if t.hasPrefix("VARCHAR") || t.hasPrefix("CHARACTER") || t == "TEXT" || t.hasPrefix("CHAR") || t == "STRING" || t == "UUID" { return .string }
    return .unknown
}

/// A DuckDB database file, through the DuckDB CLI (`duckdb`, or KAM_DUCKDB): each query is
/// one run of the CLI with JSON output.
public final class DuckDBBackend: SQLBackend {
    public let path: String
    public let cli: String
    public let rows: Bool
    public var dialect: Dialect { .duckdb }

    public init(path: String, rows: Bool, cli: String? = nil) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw Diagnostic(.data, "no such DuckDB database: \(path)") }
        guard let found = cli ?? DuckDBBackend.findCLI() else {
            throw Diagnostic(.data, "running on DuckDB needs the DuckDB CLI", hints: ["install it: pip install duckdb-cli, or name it with KAM_DUCKDB=/path/to/duckdb"])
        }
        self.path = path
        self.cli = found
        self.rows = rows
    }

    public static func findCLI() -> String? {
        let env = ProcessInfo.processInfo.environment
        let candidates = [env["KAM_DUCKDB"]].compactMap { $0 } + (env["PATH"] ?? "").split(separator: ":").map { "\($0)/duckdb" }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The rows of `sql` as JSON objects read into a table (nothing printed: no rows).
    func json(_ sql: String) throws -> Table {
        let out = try runProcess(cli, ["-readonly", "-json", path, "-c", sql], what: "DuckDB")
        let text = out.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty || text == "[]" { return Table(names: [], columns: [], count: 0) }
        do {
            return try JSONReader.readTable(Array(text.utf8), name: path)
        } catch {
            // DuckDB writes a float past its range as Infinity or NaN, which is no JSON and
            // no kam number: kam stops where a float leaves its range.
            if text.contains("Infinity") || text.contains("NaN") {
                throw Diagnostic(.runtime, "the result holds a float beyond ±1.8e308 (an infinity or NaN), which kam stops at",
                    hints: ["a division by 0.0 or an overflowing product: where the divisor != 0, or check the magnitudes"])
            }
            throw error
        }
    }

    func strings(_ sql: String, _ column: String) throws -> [String] {
        let t = try json(sql)
        guard let c = t.column(column) else { return [] }
        return (0..<t.count).compactMap { if case .string(let s) = c.value(at: $0) { return s } else { return nil } }
    }

    /// The whole catalog in one run of the CLI (each run costs a process start): tables,
    /// their columns and types, primary keys, one-column foreign keys.
    struct Catalog {
        var tables: [(name: String, view: Bool)] = []
        var columns: [String: [(String, SQLType)]] = [:]
        var keys: [String: [String]] = [:]
        var foreign: [String: [SQLiteReader.ForeignKey]] = [:]
    }
    var cached: Catalog?

    func catalog() throws -> Catalog {
        if let cached { return cached }
        let t = try json("""
            SELECT 'table' AS kind, table_name AS t, table_type AS a, NULL AS b, NULL AS c, 0 AS o FROM information_schema.tables WHERE table_schema = 'main'
            UNION ALL SELECT 'column', table_name, column_name, data_type, NULL, ordinal_position FROM information_schema.columns WHERE table_schema = 'main'
            UNION ALL SELECT 'pk', table_name, array_to_string(constraint_column_names, ','), NULL, NULL, len(constraint_column_names)
              FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY'
            UNION ALL SELECT 'fk', table_name, array_to_string(constraint_column_names, ','), referenced_table, array_to_string(referenced_column_names, ','),
              len(constraint_column_names) FROM duckdb_constraints() WHERE constraint_type = 'FOREIGN KEY'
            ORDER BY 1, 2, 6
            """)
        var c = Catalog()
        func text(_ name: String, _ i: Int) -> String? {
            if case .string(let s)? = t.column(name)?.value(at: i) { return s }
            return nil
        }
        for i in 0..<t.count {
            guard let kind = text("kind", i), let table = text("t", i) else { continue }
            let count: Int64
            if case .int(let n)? = t.column("o")?.value(at: i) { count = n } else { count = 0 }
            switch kind {
            case "table": c.tables.append((table, text("a", i) == "VIEW"))
            case "column": c.columns[table, default: []].append((text("a", i) ?? "", kamType(ofDatabaseType: text("b", i) ?? "")))
            case "pk" where count == 1: c.keys[table, default: []].append(text("a", i) ?? "")
            case "fk" where count == 1:
                c.foreign[table, default: []].append(SQLiteReader.ForeignKey(column: text("a", i) ?? "", target: text("b", i) ?? "", key: text("c", i)))
            default: break
            }
        }
        c.tables.sort { $0.name < $1.name }
        cached = c
        return c
    }

    public func tablesAndViews() throws -> [(name: String, view: Bool)] { try catalog().tables }

    public func primaryKey(_ table: String) throws -> String? {
        let keys = try catalog().keys[table] ?? []
        return keys.count == 1 ? keys[0] : nil
    }

    public func foreignKeys(_ table: String) throws -> [SQLiteReader.ForeignKey] { try catalog().foreign[table] ?? [] }

    func columns(ofQuery sql: String) throws -> [(String, SQLType)] {
        let t = try json("DESCRIBE \(sql)")
        guard let n = t.column("column_name"), let ty = t.column("column_type") else { return [] }
        return (0..<t.count).map { (Format.plain(n.value(at: $0)), kamType(ofDatabaseType: Format.plain(ty.value(at: $0)))) }
    }

    func read(_ source: String) throws -> Table {
        let cols = try columns(ofQuery: source)
        if !rows {
            return Table(names: cols.map(\.0), columns: cols.map { emptyColumn($0.1) }, count: 0)
        }
        let q = SQLQuery(sql: source, columns: cols.map(\.0), types: cols.map(\.1), kind: .table, range: SourceRange(0, 0))
        return typedTable(try json(source), q)
    }

    public func read(table: String) throws -> Table {
        if !rows, let cols = try catalog().columns[table] {
            return Table(names: cols.map(\.0), columns: cols.map { emptyColumn($0.1) }, count: 0)
        }
        return try read("SELECT * FROM \(dialect.quote(table))")
    }

    public func read(sql: String, emptyColumns: (() throws -> [String])?) throws -> Table { try read(sql) }

    public func run(_ query: SQLQuery) throws -> Table { typedTable(try json(query.sql), query) }
}

/// Runs a program to its end; its stdout, or an error with its stderr. `environment` is
/// added to this process's.
public func runProcess(_ path: String, _ args: [String], what: String, environment: [String: String] = [:]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    do { try p.run() } catch { throw Diagnostic(.data, "cannot run \(what) (\(path)): \(error)") }
    // Read both pipes while it runs: a large result would otherwise fill one and stall it.
    final class Box: @unchecked Sendable { var data = Data() }
    let errBox = Box()
    let group = DispatchGroup()
    group.enter()
    let errHandle = err.fileHandleForReading
    DispatchQueue.global().async {
        errBox.data = errHandle.readDataToEndOfFile()
        group.leave()
    }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    let errData = errBox.data
    p.waitUntilExit()
    if p.terminationStatus != 0 {
        let message = String(decoding: errData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        throw Diagnostic(.data, "\(what): " + (message.isEmpty ? "exit \(p.terminationStatus)" : message))
    }
    return String(decoding: data, as: UTF8.self)
}

/// A SQLite database, in process: its catalog and rows are the ones kam loads it with.
public final class SQLiteBackend: SQLBackend {
    let reader: SQLiteReader
    public var path: String { reader.path }
    public var dialect: Dialect { .sqlite }

    public init(path: String) throws { reader = try SQLiteReader(path) }

    public func tablesAndViews() throws -> [(name: String, view: Bool)] { try reader.tablesAndViews() }
    public func primaryKey(_ table: String) throws -> String? { try reader.primaryKey(table) }
    public func foreignKeys(_ table: String) throws -> [SQLiteReader.ForeignKey] { try reader.foreignKeys(table) }
    public func read(table: String) throws -> Table { try reader.read(table: table) }
    public func read(sql: String, emptyColumns: (() throws -> [String])?) throws -> Table { try reader.read(sql: sql, emptyColumns: emptyColumns) }
    public func run(_ query: SQLQuery) throws -> Table { typedTable(try reader.read(sql: query.sql), query) }
}
