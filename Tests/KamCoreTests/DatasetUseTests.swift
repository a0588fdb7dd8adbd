import Foundation
import Testing
@testable import KamCore

/// Which entities a script's text can reach (`kam run` reads only those files).
@Suite("the entities a script uses")
struct DatasetUseTests {
    /// Headers only: accounts, orders (to accounts and products), products, employees
    /// (accounts' owners), contacts, and deals with two links to employees (so the
    /// reverse links are deals and deals_by_owner).
    let headers: AccountGraph

    init() throws {
        // The analytics stages are in the registry once a session is made.
        _ = Session()
        let dir = NSTemporaryDirectory() + "kam-use-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let files = [
            "accounts": "id,name,owner_id\n", "orders": "id,account_id,product_id,amount\n", "products": "id,category\n",
            "employees": "id,name\n", "contacts": "id,account_id\n", "deals": "id,owner_id,employee_id,amount\n",
        ]
        for (name, text) in files { try text.write(toFile: "\(dir)/\(name).csv", atomically: true, encoding: .utf8) }
        headers = try #require(DatasetLoader.headerGraph(inDirectory: dir))
        // A small JSON file's columns are its records' keys.
        try "[{\"id\": 1, \"account_id\": 2}]".write(toFile: dir + "/notes.json", atomically: true, encoding: .utf8)
        let withJSON = try #require(DatasetLoader.headerGraph(inDirectory: dir))
        #expect(withJSON.entity("notes")?.forward.map(\.name) == ["account"])
    }

    func needed(_ script: String) -> Set<String>? {
        DatasetUse.words(of: script).flatMap { DatasetUse.entities($0, in: headers) }
    }

    @Test func namesAndLinksChooseTheEntities() {
        #expect(needed("accounts | derive rev = sum(orders.amount) | top 3 by rev") == ["accounts", "orders"])
        // A link's name reads the entity at its other end.
        #expect(needed("orders | derive c = product.category") == ["orders", "products"])
        #expect(needed("accounts | derive who = owner.name") == ["accounts", "employees"])
        #expect(needed("employees | derive n = count(deals_by_owner)") == ["employees", "deals"])
        // A string names an entity too, and so does an interpolation's expression.
        #expect(needed("let t = \"orders\"\naccounts") == ["accounts", "orders"])
        #expect(needed("accounts | derive s = \"{count(contacts)} people\"") == ["accounts", "contacts"])
        #expect(needed("fn f(t) = t | where x > 1\nf(products)") == ["products"])
        // A link named like a stage (account) is no call of it.
        #expect(needed("orders | select account.name") == ["orders", "accounts"])
    }

    @Test func whatTheTextCannotTellReadsEverything() {
        // All of them, or none named: every entity is read.
        #expect(needed("1 + 1") == nil)
        #expect(needed("accounts\norders\nproducts\nemployees\ncontacts\ndeals") == nil)
        // An import, or a built-in that reads entities it is not given.
        for script in ["import reports\naccounts", "accounts | health", "if(has(contracts), 1, 0)", "schema(\"orders\")",
                       "account(\"A-1\")", "accounts | score revenue: 1", "load \"other\"\naccounts"] {
            #expect(DatasetUse.words(of: script) == nil, "\(script)")
        }
    }

    /// A directory the header graph cannot tell about: every file is read.
    @Test func aManifestOrAHeaderThatDoesNotLinkReadsEverything() throws {
        let noKey = "id,name\n"  // with orders.csv's product_id below: products has no id
        for (name, text) in [("kam.toml", "[entities.accounts]\nfile = \"accounts.csv\"\n"), ("products.csv", "pid,name\n"),
                             ("orders.csv", "id,product_id\n")] where name != "orders.csv" {
            let dir = NSTemporaryDirectory() + "kam-use-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try noKey.write(toFile: dir + "/accounts.csv", atomically: true, encoding: .utf8)
            try "id,product_id\n".write(toFile: dir + "/orders.csv", atomically: true, encoding: .utf8)
            try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
            #expect(DatasetLoader.headerGraph(inDirectory: dir) == nil, "\(name)")
        }
    }
}
