import Foundation
import Testing
@testable import KamCore
@testable import KamData

@Suite("account graph")
struct GraphTests {
    @Test func demoIsDeterministic() {
        let a = Demo.generate(accounts: 60, seed: 7).map { CSVWriter.bytes($0.1) }
        let b = Demo.generate(accounts: 60, seed: 7).map { CSVWriter.bytes($0.1) }
        let c = Demo.generate(accounts: 60, seed: 8).map { CSVWriter.bytes($0.1) }
        #expect(a == b)
        #expect(a != c)
    }

    /// `kam demo` writes the CSV while it generates, without the tables: the files are the
    /// text of the tables `Demo.generate` makes, byte for byte.
    @Test(arguments: [(1, 42), (60, 7), (2500, 3)] as [(Int, UInt64)])
    func demoWrittenWhileMadeIsTheTablesText(accounts: Int, seed: UInt64) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kam-demo-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let counts = try Demo.write(accounts: accounts, seed: seed, to: dir)
        let tables = Demo.generate(accounts: accounts, seed: seed)
        #expect(counts.map(\.0) == tables.map(\.0))
        #expect(counts.map(\.1) == tables.map(\.1.count))
        for (name, table) in tables {
            let file = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name + ".csv"))
            #expect(Array(file) == CSVWriter.bytes(table), "\(name).csv")
        }
    }

    /// A snapshot keeps a float column as scaled 32-bit integers only when every value
    /// comes back bit for bit; anything else (-0.0, NaN, too large, more decimals) keeps
    /// the column as floats.
    @Test func floatsStoredAsScaledIntegersComeBackBitForBit() throws {
        var r = SplitMix64(seed: 5)
        // Whole cents as the CSV reader makes them from their text: Double(digits) / 100.
        var cents: [Double] = [0, 0.01, -0.01, 21_474_836.47, -21_474_836.47, 1245.19, 0.3]
        for _ in 0..<100_000 { cents.append(Double(Int64(bitPattern: r.next()) % 2_000_000_000) / 100) }
        let (scaled, scale) = try #require(Snapshot.scaled(cents))
        #expect(scale == 2)
        #expect(zip(Snapshot.unscaled(scaled, scale), cents).allSatisfy { $0.bitPattern == $1.bitPattern })
        // Parsed text with four decimals: ten-thousandths.
        let rates = ["0.0425", "-1.5", "3", "0.0001", "214748.3647"].map { s in
            Array(s.utf8).withUnsafeBufferPointer { CSVParser.parseDouble($0) ?? .nan }
        }
        let (r4, s4) = try #require(Snapshot.scaled(rates))
        #expect(s4 == 4)
        #expect(zip(Snapshot.unscaled(r4, s4), rates).allSatisfy { $0.bitPattern == $1.bitPattern })
        for bad: [Double] in [[1, -0.0], [1, .nan], [1, .infinity], [21_474_836.48 * 100], [1.0 / 3], [0.00001], []] {
            #expect(Snapshot.scaled(bad) == nil, "\(bad)")
        }
    }

    /// A reverse link's rows are made from the forward link's and the offsets, which must
    /// count them exactly (a snapshot stores only the offsets).
    @Test func reverseRowsAreTheForwardRowsSortedByTarget() {
        let forward: [Int32] = [2, 0, -1, 2, 1, 0]
        #expect(AccountGraph.ReverseLink.rows(forward: forward, offsets: [0, 2, 3, 5]) == [1, 5, 4, 0, 3])
        for offsets: [Int32] in [[0, 2, 3, 4], [0, 2, 3, 6], [0, 3, 2, 5], [1, 2, 3, 5], [0, 2, 3], []] {
            #expect(AccountGraph.ReverseLink.rows(forward: forward, offsets: offsets) == nil, "\(offsets)")
        }
    }

    /// The CSV writer's fast path for whole cents writes what `Format.float` writes.
    @Test func floatTextIsTheShortestRoundTrip() {
        var values: [Double] = [0, -0.0, 0.01, -0.01, 0.05, 0.1, 0.3, 0.1 + 0.2, 1, 5, 10, 100, 1234.5, 1e-5, 0.009, 0.015,
                                9_999_999_999_999.99, 1e13, 1e13 - 0.01, 123_456_789_012.34, 1e15, 1e16, 2e-308,
                                .nan, .infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude]
        var r = SplitMix64(seed: 11)
        for _ in 0..<200_000 {
            let cents = Double(Int64(bitPattern: r.next()) % 10_000_000_000_000)
            values.append(cents / 100)
            values.append((r.unit() * 1e6 * 100).rounded() / 100)
            values.append(Double(bitPattern: r.next()))
            values.append(r.unit() * 1000)
        }
        // The demo's writer appends into its own buffer the same text.
        var buffer = ByteBuffer(capacity: 16)
        defer { buffer.release() }
        for v in values {
            var out: [UInt8] = []
            CSVWriter.appendFloat(v, &out)
            buffer.clear()
            buffer.float(v)
            if String(decoding: out, as: UTF8.self) != Format.float(v) || buffer.array != out {
                Issue.record("\(v): \(String(decoding: out, as: UTF8.self)), \(String(decoding: buffer.array, as: UTF8.self)) != \(Format.float(v))")
                return
            }
        }
        buffer.clear()
        for (v, w) in [(0, 4), (7, 4), (12345, 4), (-42, 0), (Int64.min, 0), (Int64.max, 3)] as [(Int64, Int)] {
            buffer.int(v, width: w)
            buffer.byte(32)
        }
        #expect(String(decoding: buffer.array, as: UTF8.self) == "0000 0007 12345 -42 -9223372036854775808 9223372036854775807 ")
        var out: [UInt8] = []
        for (v, w) in [(0, 4), (7, 4), (12345, 4), (-42, 0), (Int64.min, 0), (Int64.max, 3)] as [(Int64, Int)] {
            CSVWriter.appendInt(v, &out, width: w)
            out.append(32)
        }
        #expect(String(decoding: out, as: UTF8.self) == "0000 0007 12345 -42 -9223372036854775808 9223372036854775807 ")
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
