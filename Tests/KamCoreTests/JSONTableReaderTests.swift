import Foundation
import Testing

@testable import KamData
@testable import KamSyntax

/// The typed JSON reader against the record reader: the same bytes give the same table,
/// column for column and bit for bit, however the file is cut into chunks; and what the
/// typed reader turns down, the record reader reads or rejects with its message.
@Suite("typed JSON tables")
struct JSONTableReaderTests {
    typealias Generator = DifferentialTests.RNG

    enum Flavor: CaseIterable { case ints, floats, numbers, strings, bools, mixed, nested, nulls, bigInts, oddNumbers, longStrings }

    static func cell(_ f: Flavor, _ g: inout Generator) -> String {
        if g.chance(8) { return "null" }
        switch f {
        case .ints: return String(Int(g.below(2000)) - 1000)
        case .floats: return ["12.5", "-0.0", "1e3", "3.14159", "0.1", "2.5E-3", "123456789.123456789"][g.below(7)]
        case .numbers: return g.chance(50) ? String(g.below(100)) : "\(g.below(100)).25"
        case .strings:
            return ["\"EMEA\"", "\"APAC\"", "\"Amer\\u00e9ica\"", "\"tab\\there\"", "\"\"", "\"Zürich\"", "\"q\\\"uote\"", "\"\\ud83d\\ude00\""][g.below(8)]
        case .bools: return g.chance(50) ? "true" : "false"
        case .mixed: return ["1", "\"1\"", "true", "2.5", "[1, 2]"][g.below(5)]
        case .nested: return ["{\"a\": [1, {\"b\": \"]}\"}]}", "[]", "{}", "[\"x\", null]"][g.below(4)]
        case .nulls: return "null"
        case .oddNumbers:
            // Rarely one the record reader rejects: the typed reader must reject it too.
            if g.chance(2) { return ["1e400", "-", "1.5e", "1.", "-.5"][g.below(5)] }
            return ["00.5", "-0", "1.0000000000000002", "12345678901234567.5", "0.1234567890123456789", "2E+3", "1234567890123456789012", "-0.0"][g.below(8)]
        case .longStrings:
            return ["\"Zürich Hauptbahnhof, Gleis 7\\n\"", "\"a plain string longer than eight bytes\"", "\"0123456\\\"89abcdef\"", "\"tab\\tinside\""][g.below(4)]
        case .bigInts: return ["9223372036854775807", "-9223372036854775808", "9223372036854775808", "123456789012345678", "007"][g.below(5)]
        }
    }

    /// A table's text: an array (one line, a row a line, or pretty) or JSON lines.
    static func document(_ g: inout Generator, rows: Int) -> (text: String, clean: Bool) {
        let keys = (0..<(1 + g.below(6))).map { k in (k == 3 ? "k\\u00e9y" : "c\(k)", Flavor.allCases[g.below(Flavor.allCases.count)]) }
        var objects: [String] = []
        for _ in 0..<rows {
            var fields = keys.filter { _ in !g.chance(10) }
            if g.chance(15) { fields.shuffle(using: &g) }
            objects.append("{" + fields.map { "\"\($0.0)\": \(cell($0.1, &g))" }.joined(separator: g.chance(50) ? ", " : ",") + "}")
        }
        var clean = true
        if g.chance(20), !objects.isEmpty {
            // One fault somewhere: each must be turned down by the typed reader.
            let r = g.below(objects.count)
            clean = false
            switch g.below(6) {
            case 0: objects[r] = "{\"c0\": 1, \"c0\": \"twice\"}"
            case 1: objects[r] = "{\"c0\": 1,}"
            case 2: objects[r] = "[1, 2]"
            case 3: objects[r] = "{\"c0\": tru}"
            case 4: objects[r] = "{\"c0\": \"cut"
            default: objects[r] = "{\"c0\" 1}"
            }
        }
        switch g.below(4) {
        case 0: return ("[" + objects.joined(separator: ",") + "]", clean)
        case 1: return ("[\n" + objects.joined(separator: ",\n") + "\n]\n", clean)
        case 2: return ("[\n  " + objects.map { $0.replacingOccurrences(of: ", \"", with: ",\n    \"") }.joined(separator: ",\n  ") + "\n]", clean)
        default: return (objects.joined(separator: "\n") + (g.chance(50) ? "\n" : ""), clean)
        }
    }

    /// Equal and of the same type, all the way down: 1 and 1.0 differ, and so do 0.0 and -0.0.
    static func exact(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.float(let x), .float(let y)): return x.bitPattern == y.bitPattern
        case (.list(let x), .list(let y)): return x.count == y.count && !zip(x, y).contains { !exact($0, $1) }
        case (.record(let x), .record(let y)):
            return x.keys == y.keys && x.values.count == y.values.count && !zip(x.values, y.values).contains { !exact($0, $1) }
        default: return a.typeName == b.typeName && a.kamEquals(b)
        }
    }

    static func same(_ a: Table, _ b: Table) -> String? {
        guard a.names == b.names else { return "names \(a.names) vs \(b.names)" }
        guard a.count == b.count else { return "count \(a.count) vs \(b.count)" }
        for (k, (x, y)) in zip(a.columns, b.columns).enumerated() {
            guard x.type == y.type else { return "column \(a.names[k]): \(x.type) vs \(y.type)" }
            guard x.validity?.words == y.validity?.words else { return "column \(a.names[k]): validity differs" }
            switch (x.storage, y.storage) {
            case (.int(let p), .int(let q)): if p != q { return "column \(a.names[k]): ints differ" }
            case (.float(let p), .float(let q)):
                if p.map(\.bitPattern) != q.map(\.bitPattern) { return "column \(a.names[k]): floats differ \(p) vs \(q)" }
            case (.bool(let p), .bool(let q)): if p != q { return "column \(a.names[k]): bools differ" }
            case (.string(let p), .string(let q)):
                if p.codes != q.codes || p.dictionary != q.dictionary { return "column \(a.names[k]): strings differ" }
            case (.values(let p), .values(let q)):
                if p.count != q.count || zip(p, q).contains(where: { !Self.exact($0, $1) }) {
                    return "column \(a.names[k]): values differ \(p) vs \(q)"
                }
            default: return "column \(a.names[k]): storage differs"
            }
        }
        return nil
    }

    @Test func typedTablesAreTheRecordReadersTablesForEveryCut() throws {
        var g = Generator(state: 2026)
        var typedCount = 0, turnedDown = 0
        for round in 0..<600 {
            let (text, clean) = Self.document(&g, rows: g.below(round % 10 == 0 ? 400 : 40))
            let bytes = Array(text.utf8)
            let records = try? JSONReader.readRecords(bytes, name: "t.json")
            for smallest in [1 << 20, 64, 7] {
                let typed = bytes.withUnsafeBufferPointer { JSONTableReader.read($0, cores: 3, smallest: smallest) }
                if let typed {
                    typedCount += 1
                    let reference = try #require(records, "typed read what the records reader rejects:\n\(text)")
                    if let d = Self.same(typed, reference) { Issue.record("\(d) (cut at \(smallest)):\n\(text)") }
                } else {
                    turnedDown += 1
                    // Only a key twice in one object is turned down and read by the records.
                    #expect(!clean || records == nil, "a clean table was turned down (cut at \(smallest)):\n\(text)")
                }
            }
        }
        #expect(typedCount > 1000 && turnedDown > 100)
    }

    @Test func aMappedFileReadOnEveryCoreIsTheRecordReadersTable() throws {
        // Over a MiB, so the file is cut into chunks and read from its mapping.
        var g = Generator(state: 7)
        let lines = (0..<30_000).map { r in
            "{\"id\": \(r), \"account_id\": \(g.below(500)), \"date\": \"2026-0\(1 + g.below(9))-1\(g.below(10))\", "
                + "\"amount\": \(g.below(100_000)).\(g.below(10))\(g.below(10)), \"note\": \(g.chance(5) ? "null" : "\"ok \\u00e9\"")}"
        }
        let text = lines.joined(separator: "\n") + "\n"
        #expect(text.utf8.count > JSONTableReader.parallelThreshold)
        let path = NSTemporaryDirectory() + "kam-json-\(getpid()).jsonl"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (typed, _) = try DatasetLoader.readFile(path, nulls: nil)
        let records = try JSONReader.readRecords(Array(text.utf8), name: path)
        #expect(Self.same(typed, records) == nil)
        #expect(Array(text.utf8).withUnsafeBufferPointer { JSONTableReader.read($0) } != nil, "the typed reader took it")
        #expect(typed.columns.map(\.type) == [.int, .int, .string, .float, .string])
    }

    @Test func anEmptyArrayEmptyLinesAndEmptyObjects() throws {
        for text in ["", "  \n", "[]", " [ ] ", "[{}, {}]", "{}\n{}\n", "\u{FEFF}[{\"a\": 1}]"] {
            let typed = try #require(Array(text.utf8).withUnsafeBufferPointer { JSONTableReader.read($0) }, "\(text)")
            let records = try JSONReader.readRecords(Array(text.utf8), name: "t.json")
            #expect(Self.same(typed, records) == nil, "\(text)")
        }
    }

    @Test func whatTheTypedReaderTurnsDownTheRecordReaderNames() {
        // A trailing comma cut into its own chunk, text after the array, a bare value.
        let big = "[\n" + (0..<50).map { "{\"id\": \($0)}" }.joined(separator: ",\n") + ",\n]"
        for (text, message) in [
            (big, "t.json:52:1: error: unexpected character ']' in JSON\n"),
            ("[{\"a\": 1}] x", "t.json:1:12: error: unexpected text after the JSON array\n"),
            ("{\"a\": 1}\n3\n", "t.json:2:1: error: each JSON line must be an object, got an int\n"),
            ("[{\"a\": 1}, 2]", "t.json: error: item 1 of the array is an int, not an object\nhint: a table is an array of objects: [{\"id\": 1}, ...]\n"),
        ] {
            let bytes = Array(text.utf8)
            #expect(bytes.withUnsafeBufferPointer { JSONTableReader.read($0, smallest: 16) } == nil)
            do {
                _ = try JSONReader.readTable(bytes, name: "t.json")
                Issue.record("read: \(text)")
            } catch let d as Diagnostic {
                #expect(d.render() == message)
            } catch { Issue.record("\(error)") }
        }
    }
}

extension DifferentialTests.RNG: RandomNumberGenerator {
    mutating func below(_ n: Int) -> Int { int(n) }
    mutating func chance(_ percent: Int) -> Bool { int(100) < percent }
}
