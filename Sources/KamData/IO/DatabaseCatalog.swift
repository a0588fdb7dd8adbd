/// A database kam reads entities from: its tables and views, their keys and declared
/// foreign keys, a table's rows and a query's rows. SQLite is read in process
/// (`SQLiteReader`); DuckDB and PostgreSQL through their clients (KamSQL). The loader links
/// any of them with the same rules, so a dataset has one set of entities and links
/// whichever database holds it.
public protocol DatabaseCatalog: AnyObject {
    /// Where the data is, for messages.
    var path: String { get }
    func tablesAndViews() throws -> [(name: String, view: Bool)]
    func primaryKey(_ table: String) throws -> String?
    func foreignKeys(_ table: String) throws -> [SQLiteReader.ForeignKey]
    func read(table: String) throws -> Table
    func read(sql: String, emptyColumns: (() throws -> [String])?) throws -> Table
}

extension SQLiteReader: DatabaseCatalog {}
