import Foundation
import Testing
@testable import KamCore

/// The TOML 1.0 cases of toml-test (Tests/TOML/toml-test, MIT, the TOML authors) that
/// apply to kam: every valid document reads to the values its .json gives, and every
/// invalid one is an error, never a value and never a trap. kam holds values the way it
/// holds a CSV's: a date-time is its date (the time of day dropped), a local time a
/// string; infinities and NaN, which kam has no numbers for, are errors.
@Suite("TOML conformance")
struct TOMLConformanceTests {
    static let root = DocExamplesTests.root.appendingPathComponent("Tests/TOML/toml-test")

    static func files(_ kind: String) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: root.appendingPathComponent(kind).path) else { return [] }
        return e.compactMap { $0 as? String }.filter { $0.hasSuffix(".toml") }.sorted().map { kind + "/" + $0 }
    }

    /// The tagged JSON of toml-test as kam values; nil for a value kam does not hold.
    static func expected(_ v: Value) -> Value?? {
        switch v {
        case .record(let r):
            if r.keys.count == 2, case .string(let type)? = r["type"], case .string(let text)? = r["value"] {
                switch type {
                case "string": return .string(text)
                case "integer": return Int64(text).map(Value.int)
                case "float":
                    guard let d = Double(text), d.isFinite else { return .some(nil) }
                    return .float(d)
                case "bool": return .bool(text == "true")
                case "date-local", "datetime", "datetime-local":
                    return KamCore.Calendar.parse(Array(text.prefix(10).utf8)).map(Value.date)
                case "time-local": return .string(text)
                default: return .some(nil)
                }
            }
            var out = Record()
            for (k, x) in zip(r.keys, r.values) {
                guard let e = expected(x) else { return nil }
                guard let e else { return .some(nil) }
                out.set(k, e)
            }
            return .record(out)
        case .list(let xs):
            var out: [Value] = []
            for x in xs {
                guard let e = expected(x) else { return nil }
                guard let e else { return .some(nil) }
                out.append(e)
            }
            return .list(out)
        default:
            return nil
        }
    }

    /// Equal as TOML means it: tables whatever the order of their keys.
    static func same(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.record(let x), .record(let y)):
            guard Set(x.keys) == Set(y.keys), x.keys.count == y.keys.count else { return false }
            return x.keys.allSatisfy { k in same(x[k] ?? .null, y[k] ?? .null) }
        case (.list(let x), .list(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.float(let x), .float(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        default: return Format.literal(a, depth: 0) == Format.literal(b, depth: 0) && a.typeName == b.typeName
        }
    }

    @Test func validDocumentsReadAsTheirJSON() throws {
        var passed = 0, skipped = 0
        var failures: [String] = []
        for file in TOMLConformanceTests.files("valid") {
            let toml = try Data(contentsOf: TOMLConformanceTests.root.appendingPathComponent(file))
            let json = try Data(contentsOf: TOMLConformanceTests.root.appendingPathComponent(String(file.dropLast(5)) + ".json"))
            var jr = JSONReader(Array(json))
            guard let want = TOMLConformanceTests.expected(try jr.parseValue()) else { failures.append("\(file): the .json does not read"); continue }
            guard let want else { skipped += 1; continue }
            var reader = TOMLReader(bytes: Array(toml))
            do {
                let got = try reader.parse()
                if TOMLConformanceTests.same(.record(got), want) { passed += 1 } else {
                    failures.append("\(file): got \(Format.literal(.record(got), depth: 0)), want \(Format.literal(want, depth: 0))")
                }
            } catch {
                failures.append("\(file): line \(error.line): \(error.message)")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) valid documents fail (\(passed) pass, \(skipped) do not apply):\n\(failures.joined(separator: "\n"))")
        #expect(passed >= 150)
    }

    @Test func invalidDocumentsAreErrors() throws {
        var failures: [String] = []
        let files = TOMLConformanceTests.files("invalid")
        for file in files {
            let toml = try Data(contentsOf: TOMLConformanceTests.root.appendingPathComponent(file))
            var reader = TOMLReader(bytes: Array(toml))
            if let got = try? reader.parse() { failures.append("\(file): read as \(Format.literal(.record(got), depth: 0))") }
        }
        #expect(failures.isEmpty, "\(failures.count) of \(files.count) invalid documents read:\n\(failures.joined(separator: "\n"))")
        #expect(files.count >= 200)
    }

    /// What the reviewers and the fuzzer found: each an error with its line, not a trap.
    @Test func edgeCasesAreErrorsWithTheirLine() {
        func failure(_ text: String) -> (String, Int)? {
            var r = TOMLReader(text)
            do { _ = try r.parse(); return nil } catch { return (error.message, error.line) }
        }
        #expect(failure("a = " + String(repeating: "[", count: 3000))?.0 == "values nest deeper than 128 levels")
        #expect(failure("a = " + String(repeating: "{a=", count: 3000))?.0 == "values nest deeper than 128 levels")
        #expect(failure(String(repeating: "a.", count: 500) + "b = 1")?.0 == "a key of more than 128 parts")
        #expect(failure("x = \"a\\\n b\"\n")?.0.hasPrefix("a backslash before the end of a line joins lines only in a multi-line string") == true)
        #expect(failure("[a]\nx=1\n\n[a]\ny=2\n").map { "\($0.1): \($0.0)" } == "4: table 'a' is defined twice")
        #expect(failure("a = inf")?.0 == "'inf' is not a number kam can hold")
    }
}
