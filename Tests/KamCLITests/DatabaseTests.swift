import Foundation
import KamCore
import Testing

/// Running a script on a database (`--data sqlite:FILE`, `duckdb:FILE`, `postgres://...`):
/// what compiles runs there as SQL, a pipeline that compiles up to a stage runs that part
/// there and the rest in kam, and the answers are kam's own on the same data.
@Suite("running on databases")
struct DatabaseTests {
    /// Results that compile, one that compiles up to a stage (rank), and a scalar.
    static let script = """
        accounts | derive revenue = sum(orders.amount), owner = owner.name | top 5 by revenue | select name, owner, revenue
        orders | aggregate n = count(), revenue = sum(amount) by account.region
        accounts | derive revenue = sum(orders.amount) | concentration revenue
        accounts | derive revenue = sum(orders.amount) | top 3 by revenue | derive r = rank(revenue) | select name, r
        orders | where date >= 2026-01-01 | count
        len(accounts)
        let big = 1000
        accounts | where employees > big | derive w = split(name, " ") | select name, w | take 3
        sum(map([1, 2, 3], x => x * big))
        """

    /// kam's answers on the demo company, which the databases are loaded with.
    static func expected() throws -> String {
        let r = try Binary.run(["--today", "2026-11-01", "--format", "table", "-c", script])
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout
    }

    static func dump(_ dialect: Dialect) -> String { SQLDump.script(Demo.build().0, dialect: dialect) }

    /// The DuckDB CLI the tests run, or nil (the test says it is skipped).
    static func duckdbCLI(_ test: String) -> String? {
        guard let cli = ProcessInfo.processInfo.environment["KAM_DUCKDB"], FileManager.default.isExecutableFile(atPath: cli) else {
            print("\(test): skipped (KAM_DUCKDB is not set; scripts/test installs the DuckDB CLI)")
            return nil
        }
        return cli
    }

    /// Runs SQL on a DuckDB file with the CLI (to make the databases the tests read).
    static func duckdb(_ cli: String, _ file: String, _ sql: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: cli)
        p.arguments = [file, "-c", sql]
        try p.run()
        p.waitUntilExit()
    }

    @Test func sqliteAnswersAsKam() throws {
        let db = try tempDir() + "/demo.db"
        try SQLiteReader.create(db, fromSQL: Self.dump(.sqlite))
        let r = try Binary.run(["--data", "sqlite:" + db, "--engine", "sql", "--today", "2026-11-01", "--format", "table", "--timing", "-c", Self.script])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == (try Self.expected()))
        #expect(r.stderr.contains("timing: line 1: on sqlite"))
        // The rows are in memory too: what does not compile runs in kam, whole.
        #expect(r.stderr.contains("timing: line 4: in kam"))
    }

    @Test func duckdbAnswersAsKam() throws {
        guard let cli = Self.duckdbCLI("running on DuckDB") else { return }
        let dir = try tempDir()
        try Self.dump(.duckdb).write(toFile: dir + "/dump.sql", atomically: true, encoding: .utf8)
        try Self.duckdb(cli, dir + "/demo.duckdb", ".read \(dir)/dump.sql")
        let r = try Binary.run(["--data", "duckdb:" + dir + "/demo.duckdb", "--today", "2026-11-01", "--format", "table", "--timing", "-c", Self.script])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == (try Self.expected()))
        #expect(r.stderr.contains("timing: line 1: on duckdb"))
        #expect(r.stderr.contains("timing: line 4: on duckdb up to a stage, the rest in kam"))
        #expect(r.stderr.contains("accounts: 10 columns (2 int, 8 string); links parent -> accounts, owner -> employees"), "\(r.stderr)")
        // What does not compile, with no rows in memory, is an error that says what to do.
        let bad = try Binary.run(["--data", "duckdb:" + dir + "/demo.duckdb", "--quiet", "-c", "account(\"A0001\").name"])
        #expect(bad.status == 3)
        #expect(bad.stderr.contains("error: a value that is not a table of the dataset does not compile to SQL (duckdb)"), "\(bad.stderr)")
        #expect(bad.stderr.contains("hint: to run what does not compile with the rows in memory: --engine kam"))
        // The part kam runs on the rows reads no links (the rows no longer know their
        // entity): such a pipeline is not split, and the error says what does not compile.
        let linked = try Binary.run(["--data", "duckdb:" + dir + "/demo.duckdb", "--quiet", "-c", "orders | derive x = rank(amount) | derive r = account.region"])
        #expect(linked.status == 3, "\(linked.stdout)")
        #expect(linked.stderr.contains("error: rank (kam ranks runs of equal values in the current order) does not compile to SQL (duckdb)"), "\(linked.stderr)")
        // A value the database computes, bound by let, is read by the queries after it.
        let bound = try Binary.run(["--data", "duckdb:" + dir + "/demo.duckdb", "--quiet", "-c",
                                    "let n = accounts | where tier == \"key\" | count\nlet avg_size = accounts | avg(employees)\naccounts | where employees > avg_size | take n | count"])
        let local = try Binary.run(["--quiet", "-c", "let n = accounts | where tier == \"key\" | count\nlet avg_size = accounts | avg(employees)\naccounts | where employees > avg_size | take n | count"])
        #expect(bound.status == 0, "\(bound.stderr)")
        #expect(bound.stdout == local.stdout)
        // A negative value in abc stops the query as kam stops, at the statement.
        let negative = try Binary.run(["--data", "duckdb:" + dir + "/demo.duckdb", "--quiet", "-c", "orders | derive a = amount - 50000 | abc a"])
        #expect(negative.status == 1)
        #expect(negative.stderr.contains("error: abc needs values of 0 or more, a is: -"), "\(negative.stderr)")
        // What the engine refuses (an int overflow) is a run-time error at the statement.
        let overflow = try Binary.run(["--data", "duckdb:" + dir + "/demo.duckdb", "--quiet", "-c", "orders | derive q = quantity * 4611686018427387904 | select q"])
        #expect(overflow.status == 1, "\(overflow.stderr)")
        #expect(overflow.stderr.contains("error: the database stopped the query: DuckDB: Out of Range Error: Overflow in multiplication of INT64"), "\(overflow.stderr)")
        #expect(overflow.stderr.contains("hint: kam with the rows in memory (--engine kam) says where in the script"))
        // schema() reads the catalog; the counts it cannot know are null.
        let schema = try Binary.run(["--data", "duckdb:" + dir + "/demo.duckdb", "--quiet", "-c", "schema()"])
        #expect(schema.status == 0, "\(schema.stderr)")
        #expect(schema.stdout.contains("accounts,,10,"), "\(schema.stdout)")
        // A stage that reads the account graph does not compile and is not split either.
        let health = try Binary.run(["--data", "duckdb:" + dir + "/demo.duckdb", "--quiet", "-c", "accounts | health"])
        #expect(health.status == 3)
        #expect(health.stderr.contains("error: the stage 'health' does not compile to SQL (duckdb)"), "\(health.stderr)")
        #expect(health.stderr.components(separatedBy: "--engine kam").count == 2, "one hint: \(health.stderr)")
        // A view is an entity too; it has no rowid, and its rows keep the order it gives.
        try Self.duckdb(cli, dir + "/demo.duckdb", "CREATE VIEW big_accounts AS SELECT * FROM accounts WHERE employees > 1000")
        let onView = try Binary.run(["--data", "duckdb:" + dir + "/demo.duckdb", "--quiet", "-c", "big_accounts | take 4 | select id, employees"])
        let sameRows = try Binary.run(["--quiet", "-c", "accounts | where employees > 1000 | take 4 | select id, employees"])
        #expect(onView.status == 0, "\(onView.stderr)")
        #expect(onView.stdout == sameRows.stdout)
        // A narrower int column (SMALLINT) is widened as kam's ints are 64-bit.
        try Self.duckdb(cli, dir + "/narrow.duckdb", "CREATE TABLE accounts AS SELECT 1 AS id, CAST(1951 AS SMALLINT) AS founded")
        let wide = try Binary.run(["--data", "duckdb:" + dir + "/narrow.duckdb", "--quiet", "-c", "accounts | derive k = founded * 100 + 1 | select k"])
        #expect(wide.stdout == "k\n195101\n", "\(wide.stderr)")
        // profitability compiles; a discount that is no fraction stops the query, as kam stops.
        try Self.duckdb(cli, dir + "/percent.duckdb", "CREATE TABLE accounts AS SELECT 'A1' AS id; "
            + "CREATE TABLE orders AS SELECT * FROM (VALUES ('O1', 'A1', 100.0, 0.05), ('O2', 'A1', 50.0, 5.0)) AS o(id, account_id, amount, discount)")
        // (kam finds it when it checks the script, exit 3; the database when it runs, exit 1.)
        for (engine, status) in [("sql", 1), ("kam", 3)] {
            let p = try Binary.run(["--data", "duckdb:" + dir + "/percent.duckdb", "--engine", engine, "--quiet", "-c", "accounts | profitability"])
            #expect(p.status == status, "\(engine): \(p.stdout)")
            #expect(p.stderr.contains("profitability needs orders.discount as a fraction from 0 to 1 for the average discount (0.05 for 5%), but orders"), "\(engine): \(p.stderr)")
        }
        for script in ["accounts | profitability | top 2 by net_margin | select id, net_margin",
                       "accounts | derive revenue = sum(orders.amount) | lose tier == \"key\""] {
            let there = try Binary.run(["--data", "duckdb:" + dir + "/demo.duckdb", "--quiet", "--format", "table", "-c", script])
            let here = try Binary.run(["--quiet", "--format", "table", "-c", script])
            #expect(there.status == 0, "\(there.stderr)")
            #expect(there.stdout == here.stdout)
        }
        // With --engine kam the rows are read into memory and kam answers.
        let inMemory = try Binary.run(["--data", "duckdb:" + dir + "/demo.duckdb", "--engine", "kam", "--quiet", "-c", "accounts | derive w = len(split(name, \" \")) | aggregate n = count() by w"])
        #expect(inMemory.status == 0, "\(inMemory.stderr)")
        #expect(inMemory.stdout.hasPrefix("w,n\n"))
    }

    /// A CRM in a DuckDB file whose names are not kam's, read through a manifest beside it
    /// (tables, renames, a query, links, derived columns): the queries compute the derived
    /// columns on the database and answer as kam does with the rows in memory.
    @Test func aManifestOnDuckDB() throws {
        guard let cli = Self.duckdbCLI("a manifest on DuckDB") else { return }
        let dir = try tempDir()
        let crm = Binary.packageRoot.appendingPathComponent("Tests/KamGoldenTests/Golden/graph/sqlite_crm/crm.sql").path
        // The sample's SQL in DuckDB's words (REAL is 4 bytes there).
        let sql = try String(contentsOfFile: crm, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("PRAGMA") }
            .joined(separator: "\n").replacingOccurrences(of: " REAL", with: " DOUBLE")
        try sql.write(toFile: dir + "/crm.sql", atomically: true, encoding: .utf8)
        try Self.duckdb(cli, dir + "/crm.duckdb", ".read \(dir)/crm.sql")
        let manifest = """
            engine = "sql"

            [entities.accounts]
            table = "Customers"
            columns = { CustomerID = "id", CompanyName = "name", Country = "region" }

            [entities.order_headers]
            table = "Orders"

            [entities.orders]  # kam's orders are the order lines
            table = "OrderDetails"
            columns = { ProductID = "product_id", UnitPrice = "unit_price", Quantity = "quantity", Discount = "discount" }

            [entities.orders.derive]
            account_id = "order.CustomerID"
            employee_id = "order.EmployeeID"
            date = "order.OrderDate"
            amount = "unit_price * quantity * (1 - discount)"

            [entities.products.derive]
            category = "category.CategoryName"

            [entities.employees]
            sql = "SELECT EmployeeID AS id, FirstName || ' ' || LastName AS name, Title FROM Employees"

            """
        try manifest.write(toFile: dir + "/crm.toml", atomically: true, encoding: .utf8)
        let script = """
            orders | aggregate revenue = sum(amount), lines = count() by account_id | sort -revenue
            accounts | derive revenue = sum(orders.amount), n = count(orders), last = max(orders.date) | select name, region, revenue, n, last
            orders | derive c = product.category, who = account.name | select c, who, amount | take 25
            products | derive sold = sum(orders.quantity) | select ProductName, category, sold
            employees | select name, Title
            accounts | derive revenue = sum(orders.amount) | abc revenue | select name, class
            """
        let there = try Binary.run(["--data", "duckdb:" + dir + "/crm.duckdb", "--format", "table", "--timing", "-c", script])
        let here = try Binary.run(["--data", "duckdb:" + dir + "/crm.duckdb", "--engine", "kam", "--quiet", "--timing", "--format", "table", "-c", script])
        // --engine kam answers with the rows in memory: no statement runs on the database.
        #expect(here.stderr.contains("timing: load (rows in memory)"), "\(here.stderr)")
        #expect(!here.stderr.contains("on duckdb"), "\(here.stderr)")
        #expect(there.status == 0, "\(there.stderr)")
        #expect(here.status == 0, "\(here.stderr)")
        #expect(there.stdout == here.stdout)
        #expect(there.stderr.contains("(queries run on the database where they compile)"), "\(there.stderr)")
        #expect(!there.stderr.contains("in kam"), "\(there.stderr)")
        // --engine overrides the manifest's engine.
        let sqlOut = try Binary.run(["sql", "--data", "duckdb:" + dir + "/crm.duckdb", "--quiet", "-c", "orders | select amount"])
        #expect(sqlOut.stdout.contains("\"__src_orders\" AS ("), "\(sqlOut.stdout)")
        #expect(sqlOut.stdout.contains("FROM \"OrderDetails\" AS v"), "\(sqlOut.stdout)")
        // A derived column with no SQL form fails the queries that read its entity, with
        // its place in the manifest; the others still run.
        try (manifest + "[entities.accounts.derive]\nowner_id = \"first(orders | aggregate n = count() by employee_id | sort -n, employee_id).employee_id\"\n")
            .write(toFile: dir + "/crm.toml", atomically: true, encoding: .utf8)
        let owner = try Binary.run(["--data", "duckdb:" + dir + "/crm.duckdb", "--quiet", "-c", "orders | count\naccounts | count"])
        #expect(owner.status == 3)
        #expect(owner.stdout == "142\n", "\(owner.stdout)")
        #expect(owner.stderr.contains("crm.toml:26:13: error: the derived column accounts.owner_id: a field of this value does not compile to SQL (duckdb)"), "\(owner.stderr)")
        #expect(owner.stderr.contains("hint: read the rows into memory instead: --engine kam, or engine = \"kam\" in the manifest"), "\(owner.stderr)")
        // engine = "kam" in the manifest reads the rows into memory.
        try manifest.replacingOccurrences(of: "engine = \"sql\"", with: "engine = \"kam\"").write(toFile: dir + "/crm.toml", atomically: true, encoding: .utf8)
        let inMemory = try Binary.run(["--data", "duckdb:" + dir + "/crm.duckdb", "-c", "orders | count"])
        #expect(inMemory.stderr.contains("(queries run in kam)"), "\(inMemory.stderr)")
        #expect(inMemory.stdout == "142\n")
        // An engine that is neither is an error at its line.
        try manifest.replacingOccurrences(of: "engine = \"sql\"", with: "engine = \"fast\"").write(toFile: dir + "/crm.toml", atomically: true, encoding: .utf8)
        let unknown = try Binary.run(["--data", "duckdb:" + dir + "/crm.duckdb", "-c", "orders | count"])
        #expect(unknown.status == 4)
        #expect(unknown.stderr.contains("crm.toml:1: error: unknown engine 'fast'\nhint: engine = \"sql\" runs the queries on the database, engine = \"kam\" reads the rows into memory"), "\(unknown.stderr)")
        // Types are kam's conversions of the rows: not yet on the database.
        try (manifest + "[entities.categories]\ntypes = { CategoryID = \"string\" }\n").write(toFile: dir + "/crm.toml", atomically: true, encoding: .utf8)
        let typed = try Binary.run(["--data", "duckdb:" + dir + "/crm.duckdb", "--quiet", "-c", "orders | count"])
        #expect(typed.status != 0)
        #expect(typed.stderr.contains("error: the manifest's types for entity 'categories'"), "\(typed.stderr)")
    }

    @Test func postgresAnswersAsKam() throws {
        guard let conn = ProcessInfo.processInfo.environment["KAM_PG"], !conn.isEmpty else {
            print("running on PostgreSQL: skipped (KAM_PG is not set; scripts/test sets it when PostgreSQL is installed)")
            return
        }
        // psql's options (-h DIR -p PORT -U USER -d DB) as a libpq connection string.
        let parts = conn.split(separator: " ").map(String.init)
        var info: [String] = []
        for (k, key) in [("-h", "host"), ("-p", "port"), ("-U", "user")] {
            if let i = parts.firstIndex(of: k), i + 1 < parts.count { info.append("\(key)=\(parts[i + 1])") }
        }
        let database = "kam_cli_\(getpid())"
        let psql = ["/usr/bin/psql", "/usr/local/bin/psql"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/psql"
        func run(_ args: [String]) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: psql)
            p.arguments = parts + ["-q", "-v", "ON_ERROR_STOP=1"] + args
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
        }
        try run(["-c", "CREATE DATABASE \(database)"])
        let dump = try tempDir() + "/dump.sql"
        try Self.dump(.postgres).write(toFile: dump, atomically: true, encoding: .utf8)
        let target = parts.map { $0 == "postgres" ? database : $0 }
        let load = Process()
        load.executableURL = URL(fileURLWithPath: psql)
        load.arguments = target + ["-q", "-v", "ON_ERROR_STOP=1", "-f", dump]
        load.standardOutput = FileHandle.nullDevice
        try load.run()
        load.waitUntilExit()
        // PostgreSQL keeps no insertion order: results that depend on it are sorted here.
        let script = """
            orders | aggregate n = count(), revenue = sum(amount) by account.region
            accounts | derive revenue = sum(orders.amount) | concentration revenue
            accounts | derive revenue = sum(orders.amount) | top 3 by revenue | derive r = rank(revenue) | select name, r
            """
        let want = try Binary.run(["--format", "table", "-c", script])
        let r = try Binary.run(["--data", "postgres:" + (info + ["dbname=\(database)"]).joined(separator: " "), "--format", "table", "-c", script])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == want.stdout)
    }
}
