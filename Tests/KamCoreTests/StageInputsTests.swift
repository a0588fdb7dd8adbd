import Foundation
import Testing
@testable import KamCore

/// The inputs each stage declares: the documentation lists every one as the registry has
/// it, and the one requirement check treats the three ways an input can be missing apart.
@Suite("stage inputs")
struct StageInputsTests {
    static func row(_ b: Builtin, _ i: StageInput) -> String {
        let absent: String
        switch (i.signal, i.optionalColumn) {
        case (nil, _): absent = "error"
        case (let s?, true): absent = "\(s) not assessed"
        case (let s?, false): absent = "no \(i.path.dropLast().joined(separator: " or ")): \(s) not assessed; no column: error"
        }
        return "| `\(b.name)` | `\(i.option):` | `\(i.path.joined(separator: "."))` | \(i.purpose) | \(absent) |"
    }

    @Test func analyticsDocumentsEveryInput() throws {
        _ = Session()
        let doc = try String(contentsOfFile: DocExamplesTests.root.appendingPathComponent("docs/ANALYTICS.md").path, encoding: .utf8)
        let rows = Builtins.all.sorted { $0.name < $1.name }.flatMap { b in b.inputs.map { StageInputsTests.row(b, $0) } }
        #expect(rows.count >= 30)
        let missing = rows.filter { !doc.contains($0) }
        #expect(missing.isEmpty, "docs/ANALYTICS.md lacks these rows:\n\(missing.joined(separator: "\n"))")
    }

    @Test func missingLinkColumnAndExplicitPathAreTold() throws {
        // Accounts with orders (amount, no cost) and no surveys.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kam-inputs-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "id,name\nA1,Acme\n".write(to: dir.appendingPathComponent("accounts.csv"), atomically: true, encoding: .utf8)
        try "id,account_id,amount,date\nO1,A1,10,2025-01-01\n".write(to: dir.appendingPathComponent("orders.csv"), atomically: true, encoding: .utf8)
        let (g, _) = try DatasetLoader.load(dir.path)
        let accounts = try #require(g.byName["accounts"])
        let inputs = [
            StageInput("revenue", "orders.amount", for: "revenue", expects: .number, group: "orders"),
            StageInput("cost", "orders.cost", for: "margin", expects: .number, signal: "margin", optionalColumn: true, group: "orders"),
            StageInput("nps", "surveys.score", for: "NPS", expects: .number, signal: "NPS"),
            StageInput("date", "orders.date", for: "recency", expects: .date),
        ]
        let r = StageInputs.resolve(inputs, stage: "s", from: accounts, in: g, given: [:])
        #expect(r.problems.isEmpty)
        #expect(r["revenue"] != nil && r["date"] != nil && r["cost"] == nil && r["nps"] == nil)
        #expect(r.absent == ["margin: orders have no cost", "NPS: no surveys"])
        // Pointed elsewhere, an absent link is an error, never an absent signal.
        let given: [String: (path: [String]?, range: SourceRange)] = ["nps": (["surveys", "score"], SourceRange(0, 1))]
        let pointed = StageInputs.resolve(inputs, stage: "s", from: accounts, in: g, given: given)
        #expect(pointed.problems.map(\.message) == ["s needs surveys.score for NPS, but accounts has no link 'surveys'"])
        let revenue = try #require(r["revenue"])
        #expect(revenue.rows(from: 0) == [0])
        #expect(revenue.number(0) == 10)
    }
}
