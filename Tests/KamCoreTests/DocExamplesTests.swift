import Foundation
import KamTestSupport
import Testing
@testable import KamCore

/// Every ```kam block in the docs runs without error; one followed by a ```text block
/// must print exactly that text.
@Suite("documentation examples")
struct DocExamplesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Example: CustomTestStringConvertible, Sendable {
        var file: String
        var line: Int
        var code: String
        var expected: String?
        var testDescription: String { "\(file):\(line)" }
    }

    static var examples: [Example] {
        var out: [Example] = []
        for doc in ["README.md", "docs/LANGUAGE.md", "docs/DATA.md", "docs/ANALYTICS.md", "docs/ENGINES.md"] {
            guard let text = try? String(contentsOfFile: root.appendingPathComponent(doc).path, encoding: .utf8) else { continue }
            let lines = text.components(separatedBy: "\n")
            var i = 0
            while i < lines.count {
                if lines[i] == "```kam" {
                    let start = i + 1
                    var j = start
                    while j < lines.count && lines[j] != "```" { j += 1 }
                    let code = lines[start..<min(j, lines.count)].joined(separator: "\n") + "\n"
                    var k = j + 1
                    while k < lines.count && lines[k].isEmpty { k += 1 }
                    var expected: String? = nil
                    if k < lines.count && lines[k] == "```text" {
                        var e = k + 1
                        while e < lines.count && lines[e] != "```" { e += 1 }
                        expected = lines[(k + 1)..<min(e, lines.count)].map { $0 + "\n" }.joined()
                        j = e
                    }
                    out.append(Example(file: doc, line: start, code: code, expected: expected))
                    i = j + 1
                } else {
                    i += 1
                }
            }
        }
        return out
    }

    /// What an example prints, and its exit code and the code it is meant to exit with.
    static func run(_ ex: Example) -> (shown: String, code: Int32, expectedExit: Int32, err: String) {
        let session = Session(options: .init(today: KamCore.Calendar.days(year: 2025, month: 6, day: 30) ?? 0), writer: Writer(format: .table))
        // Leading `# data: PATH` (relative to the package root, or `demo`), `# today: DATE`,
        // `# param: NAME=VALUE` and `# exit: N` (the exit code the example shows).
        var expectedExit: Int32 = 0
        for line in ex.code.split(separator: "\n") {
            guard line.hasPrefix("# ") else { break }
            if line == "# data: demo" {
                session.interpreter.datasetProvider = { Demo.build() }
            } else if line.hasPrefix("# data: ") {
                let path = DocExamplesTests.root.appendingPathComponent(String(line.dropFirst(8))).path
                _ = Fixtures.built
                session.interpreter.datasetProvider = { [session] in try DerivedColumns.load(path, options: session.interpreter.options) }
            } else if line.hasPrefix("# today: "), let d = KamCore.Calendar.parse(Array(line.dropFirst(9).utf8)) {
                session.interpreter.options.today = d
            } else if line.hasPrefix("# param: "), let eq = line.firstIndex(of: "=") {
                session.interpreter.options.params[String(line.dropFirst(9)[..<eq])] = String(line[line.index(after: eq)...])
            } else if line.hasPrefix("# exit: "), let code = Int32(line.dropFirst(8)) {
                expectedExit = code
            }
        }
        var out = "", err = ""
        let name = expectedExit == 0 ? ex.file : "plan.kam"
        let code = withLargeStack { session.run(ex.code, name: name, out: { out += $0 }, err: { err += $0 }) }
        // An example that shows an error (`# exit: N`) prints what a terminal shows: the
        // results, then the messages, as if the script were plan.kam.
        return (expectedExit == 0 ? out : out + err, code, expectedExit, err)
    }

    @Test("doc example", arguments: examples)
    func example(_ ex: Example) {
        #expect(Fixtures.built, "the SQLite fixtures could not be built")
        let r = DocExamplesTests.run(ex)
        #expect(r.code == r.expectedExit, "\(ex.file):\(ex.line): \(r.err)")
        if let expected = ex.expected {
            #expect(r.shown == expected, "\(ex.file):\(ex.line)\n--- expected\n\(expected)--- actual\n\(r.shown)")
        }
    }

    /// KAM_UPDATE_DOCS=1 writes each example's output into the text block after it (then
    /// read the diff before committing it), as KAM_UPDATE_GOLDEN does for the corpus.
    @Test func updateDocsWhenAsked() throws {
        guard ProcessInfo.processInfo.environment["KAM_UPDATE_DOCS"] != nil else { return }
        for doc in Set(DocExamplesTests.examples.map(\.file)).sorted() {
            let path = DocExamplesTests.root.appendingPathComponent(doc).path
            var lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")
            // From the end, so earlier line numbers stay right.
            for ex in DocExamplesTests.examples.filter({ $0.file == doc && $0.expected != nil }).sorted(by: { $0.line > $1.line }) {
                let shown = DocExamplesTests.run(ex).shown
                var k = ex.line
                while k < lines.count && lines[k] != "```" { k += 1 }
                k += 1
                while k < lines.count && lines[k].isEmpty { k += 1 }
                guard k < lines.count, lines[k] == "```text" else { continue }
                var e = k + 1
                while e < lines.count && lines[e] != "```" { e += 1 }
                let body = shown.hasSuffix("\n") ? String(shown.dropLast()) : shown
                lines.replaceSubrange((k + 1)..<e, with: body.components(separatedBy: "\n"))
            }
            try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    /// A block after `<!-- file: PATH -->` is that file as it is; a text block after
    /// `<!-- golden: NAME -->` is part of that golden test's expected output.
    @Test func quotedFilesAndOutputsAreCurrent() throws {
        var checked = 0
        for doc in ["README.md", "docs/LANGUAGE.md", "docs/DATA.md", "docs/ANALYTICS.md", "docs/ENGINES.md"] {
            guard let text = try? String(contentsOfFile: DocExamplesTests.root.appendingPathComponent(doc).path, encoding: .utf8) else { continue }
            let lines = text.components(separatedBy: "\n")
            for (n, line) in lines.enumerated() where line.hasPrefix("<!-- file: ") || line.hasPrefix("<!-- golden: ") {
                let target = line.split(separator: " ").dropFirst(2).first.map(String.init) ?? ""
                guard n + 1 < lines.count, lines[n + 1].hasPrefix("```") else {
                    Issue.record("\(doc):\(n + 1): the marker must stand right before a fenced block")
                    continue
                }
                var end = n + 2
                while end < lines.count && lines[end] != "```" { end += 1 }
                let block = lines[(n + 2)..<min(end, lines.count)].map { $0 + "\n" }.joined()
                if line.hasPrefix("<!-- file: ") {
                    let actual = try String(contentsOfFile: DocExamplesTests.root.appendingPathComponent(target).path, encoding: .utf8)
                    #expect(block == actual, "\(doc):\(n + 1): the block differs from \(target)")
                } else {
                    let out = DocExamplesTests.root.appendingPathComponent("Tests/KamGoldenTests/Golden/\(target).out").path
                    let actual = try String(contentsOfFile: out, encoding: .utf8)
                    #expect(actual.contains(block), "\(doc):\(n + 1): the block is not in \(target).out")
                }
                checked += 1
            }
        }
        #expect(checked >= 2)
    }

    @Test func docsHaveExamples() {
        #expect(DocExamplesTests.examples.count >= 10)
    }
}

