import Foundation
import Testing
@testable import KamCore

@Suite("completion")
struct CompletionTests {
    func session() -> Interpreter {
        let s = Session()
        s.interpreter.datasetProvider = { Demo.build(accounts: 30) }
        s.run("let sales = table([{region: \"EU\", revenue: 5}])", name: "t", out: { _ in }, err: { _ in })
        return s.interpreter
    }

    @Test func columnsOfThePipedTableComeFirst() {
        let c = Completer(session())
        #expect(c.complete("sales | where reg") == ("ion", []))
        #expect(c.complete("sales | derive total = revenue | select tot") == ("al", []))
    }

    @Test func fieldsAndLinksAfterADot() {
        let c = Completer(session())
        let (_, candidates) = c.complete("accounts.o")
        #expect(candidates.contains("orders") && candidates.contains("owner") && candidates.contains("owner_id"))
    }

    @Test func functionsVariablesKeywordsAndEntities() {
        let c = Completer(session())
        #expect(c.complete("count_dis") == ("tinct", []))
        #expect(c.complete("sal") == ("es", []))
        #expect(c.complete("opportun") == ("ities", []))
        #expect(c.complete("ass") == ("ert", []))
    }

    @Test func parameterNamesInsideACall() {
        let c = Completer(session())
        #expect(c.complete("round(2.5, dig") == ("its:", []))
        #expect(c.complete("accounts | key_accounts per_") == ("manager:", []))
    }

    @Test func filePathsInsideLoadStrings() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kam-complete-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/crm", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir + "/orders.csv", contents: Data())
        let c = Completer(session())
        #expect(c.complete("load \"\(dir)/ord") == ("ers.csv", []))
        #expect(c.complete("load \"\(dir)/cr") == ("m/", []))
    }

    @Test func metaCommands() {
        #expect(Completer(session()).complete(":sch") == ("ema", []))
    }
}
