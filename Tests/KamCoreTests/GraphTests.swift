import Foundation
import Testing
@testable import KamCore

@Suite("account graph")
struct GraphTests {
    @Test func demoIsDeterministic() {
        let a = Demo.generate(accounts: 60, seed: 7).map { CSVWriter.bytes($0.1) }
        let b = Demo.generate(accounts: 60, seed: 7).map { CSVWriter.bytes($0.1) }
        let c = Demo.generate(accounts: 60, seed: 8).map { CSVWriter.bytes($0.1) }
        #expect(a == b)
        #expect(a != c)
    }

    /// What `kam demo` writes reads back as the same tables.
    @Test func demoRoundTripsThroughCSV() throws {
        for (name, table) in Demo.generate(accounts: 50, seed: 3) {
            let back = try CSVReader().read(CSVWriter.bytes(table), name: name)
            #expect(back.names == table.names)
            #expect(back.count == table.count)
            for c in 0..<table.names.count {
                for r in 0..<table.count where !table.columns[c].value(at: r).kamEquals(back.columns[c].value(at: r)) {
                    Issue.record("\(name).\(table.names[c]) row \(r): \(table.columns[c].value(at: r)) != \(back.columns[c].value(at: r))")
                    return
                }
            }
        }
    }

    @Test func demoHasEveryStandardEntityAndALongTail() throws {
        let (g, report) = Demo.build()
        #expect(report.warnings.isEmpty)
        for e in ["accounts", "contacts", "employees", "relationships", "products", "orders", "opportunities", "surveys", "invoices", "contracts", "interactions"] {
            #expect((g.entity(e)?.table.count ?? 0) > 0, "\(e)")
        }
        let accounts = try #require(g.entity("accounts"))
        let rev = try #require(accounts.reverseLink("orders"))
        let orders = try #require(g.entity("orders")?.table)
        guard case .float(let amount) = try #require(orders.column("amount")).storage else { Issue.record("amount not float"); return }
        var revenue = (0..<accounts.table.count).map { a in rev.segment(a).reduce(0.0) { $0 + amount[Int(rev.rows[$1])] } }
        revenue.sort(by: >)
        let top20 = revenue.prefix(revenue.count / 5).reduce(0, +) / revenue.reduce(0, +)
        #expect(top20 > 0.65 && top20 < 0.85, "top 20% share \(top20)")
    }

    @Test func jsonHundredThousandLevelsIsACleanError() {
        let deep = Array(String(repeating: "[", count: 100_000).utf8)
        #expect(throws: Diagnostic.self) { try JSONReader.readTable(deep, name: "deep.json") }
        do { _ = try JSONReader.readTable(deep, name: "deep.json") } catch let d as Diagnostic {
            #expect(d.render().hasPrefix("deep.json:1:513: error: JSON nested deeper than 512 levels"))
        } catch { Issue.record("\(error)") }
    }

    @Test func jsonValues() throws {
        var r = JSONReader(Array(#"{"a": [1, 2.5, "x\u00e9\n", true, null], "b": {"c": -3e2}}"#.utf8))
        let v = try r.parseValue()
        #expect(Format.literal(v) == #"{a: [1, 2.5, "xé\n", true, null], b: {c: -300.0}}"#)
    }

    @Test func tomlManifestSubset() throws {
        var t = TOMLReader("""
            null = ["", "NA"]  # tokens
            [entities.accounts]
            file = "customers.csv"
            columns = { customerID = "id", "company name" = "name" }
            [[links]]
            from = "orders.customer_id"
            to = "accounts"
            """)
        let r = try t.parse()
        #expect(Format.literal(.record(r)) == #"{null: ["", "NA"], entities: {accounts: {file: "customers.csv", columns: {customerID: "id", company name: "name"}}}, links: [{from: "orders.customer_id", to: "accounts"}]}"#)
        #expect(t.keyLines["entities.accounts.file"] == 3)
    }
}
