import Foundation
import KamCore

/// The SQLite fixtures, built from the .sql files beside them before any test reads them
/// (a database is a binary; the repository keeps its SQL text). The golden tests and the
/// documentation examples both load them.
public enum Fixtures {
    /// The package root, from this file's place in it.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Each .sql file under Tests/KamGoldenTests/Golden, and the databases built from it.
    public static let databases = [
        ("graph/sqlite_crm/crm.sql", ["graph/sqlite_crm/crm.db", "graph/sqlite_plain/crm.db"]),
        ("graph/sqlite_company/company.sql", ["graph/sqlite_company/company.db"]),
        ("graph/sqlite_twins/twins.sql", ["graph/sqlite_twins/twins.db"]),
        ("graph/sqlite_twins/split.sql", ["graph/sqlite_twins/split.db"]),
    ]

    /// Builds them once per process; false if one could not be built.
    public static let built: Bool = {
        let golden = root.appendingPathComponent("Tests/KamGoldenTests/Golden")
        for (sql, outputs) in databases {
            guard let text = try? String(contentsOf: golden.appendingPathComponent(sql), encoding: .utf8) else { return false }
            for out in outputs {
                let path = golden.appendingPathComponent(out)
                try? FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
                // Another test process may be writing the same file: build aside, then move.
                let temp = path.path + ".\(getpid()).tmp"
                do {
                    try SQLiteReader.create(temp, fromSQL: text)
                    guard rename(temp, path.path) == 0 else { return false }
                } catch {
                    return false
                }
            }
        }
        return true
    }()
}
