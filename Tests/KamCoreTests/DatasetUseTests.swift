import Testing
@testable import KamCore

/// Which entities a script's text can reach (`kam run` reads only those files).
@Suite("the entities a script uses")
struct DatasetUseTests {
    let entities = ["accounts", "orders", "products", "employees", "contacts"]
    // The analytics stages are in the registry once a session is made.
    init() { _ = Session() }

    func needed(_ script: String) -> Set<String>? {
        DatasetUse.words(of: script).flatMap { DatasetUse.entities($0, of: entities) }
    }

    @Test func namesAndLinksChooseTheEntities() {
        #expect(needed("accounts | derive rev = sum(orders.amount) | top 3 by rev") == ["accounts", "orders"])
        // A link's name reads its target, as the linker reads product_id and owner_id.
        #expect(needed("orders | derive c = product.category") == ["orders", "products"])
        #expect(needed("accounts | derive who = owner.name") == ["accounts", "employees"])
        // A string names an entity too, and so does an interpolation's expression.
        #expect(needed("let t = \"orders\"\naccounts") == ["accounts", "orders"])
        #expect(needed("accounts | derive s = \"{count(contacts)} people\"") == ["accounts", "contacts"])
        #expect(needed("fn f(t) = t | where x > 1\nf(products)") == ["products"])
    }

    @Test func whatTheTextCannotTellReadsEverything() {
        // All of them, or none named: every entity is read.
        #expect(needed("1 + 1") == nil)
        #expect(needed("accounts\norders\nproducts\nemployees\ncontacts") == nil)
        // An import, or a built-in that reads entities it is not given.
        for script in ["import reports\naccounts", "accounts | health", "if(has(contracts), 1, 0)", "schema(\"orders\")",
                       "account(\"A-1\")", "accounts | score revenue: 1", "load \"other\"\naccounts"] {
            #expect(DatasetUse.words(of: script) == nil, "\(script)")
        }
    }
}
