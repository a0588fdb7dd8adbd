import Foundation
import KamCore
import KamTestSupport
import Testing

/// The language is specified by a corpus of .kam scripts under Golden/, each with the
/// expected output beside it in NAME.out:
///
///     <stdout>
///     --- stderr
///     <stderr, when any>
///     --- exit N            (when not 0)
///
/// A script may start with directives in comments: `# format: csv`, `# today: 2025-01-31`,
/// `# param: name=value`, `# data: DIR` (a dataset, relative to Golden/) and
/// `# manifest: FILE` (as --manifest), `# sql: DIALECT` (print the SQL `kam sql` prints
/// instead of running the script). Set KAM_UPDATE_GOLDEN=1 to write the .out files anew (then
/// read the diff before committing it).
enum Corpus {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static var files: [String] {
        guard let e = FileManager.default.enumerator(atPath: root.path) else { return [] }
        return e.compactMap { $0 as? String }.filter { $0.hasSuffix(".kam") && !$0.contains("/lib/") }.sorted()
    }

    static func run(_ relative: String, evaluation: Interpreter.Evaluation = .columnar) -> String {
        let (session, text) = session(relative, evaluation: evaluation)
        var out = "", err = ""
        // Run with the relative name so diagnostics are stable across machines.
        let dialect = text.split(separator: "\n").prefix { $0.hasPrefix("# ") }.first { $0.hasPrefix("# sql: ") }
            .flatMap { Dialect(rawValue: String($0.dropFirst(7))) }
        let code = withLargeStack {
            FileManager.default.changeCurrentDirectoryPath(root.path)
            if let dialect {
                do throws(DiagnosticList) {
                    out = try session.compileSQL(text, name: relative, dialect: dialect).map { $0.sql + ";\n" }.joined(separator: "\n")
                    return Int32(0)
                } catch {
                    err = error.render()
                    return error.exitCode
                }
            }
            return session.run(text, name: relative, out: { out += $0 }, err: { err += $0 })
        }
        var result = out
        if !err.isEmpty { result += "--- stderr\n" + err }
        if code != 0 { result += "--- exit \(code)\n" }
        return result
    }

    /// The session a golden script runs in, as its directives set it up, and its text.
    static func session(_ relative: String, evaluation: Interpreter.Evaluation = .columnar) -> (Session, String) {
        precondition(Fixtures.built, "the SQLite fixtures could not be built")
        let path = root.appendingPathComponent(relative).path
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        var options = Interpreter.Options(today: KamCore.Calendar.days(year: 2025, month: 6, day: 30) ?? 0, evaluation: evaluation)
        var format = OutputFormat.table
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix("# ") else { break }
            let body = line.dropFirst(2)
            if body.hasPrefix("format: "), let f = OutputFormat(rawValue: String(body.dropFirst(8))) { format = f }
            if body.hasPrefix("today: "), let d = KamCore.Calendar.parse(Array(body.dropFirst(7).utf8)) { options.today = d }
            if body.hasPrefix("param: "), let eq = body.firstIndex(of: "=") {
                let name = String(body.dropFirst(7)[..<eq])
                let value = String(body[body.index(after: eq)...])
                options.params[name] = value
            }
        }
        let session = Session(options: options, writer: Writer(format: format))
        // --manifest: a manifest for the data that is not beside it.
        let manifest = text.split(separator: "\n").prefix { $0.hasPrefix("# ") }.first { $0.hasPrefix("# manifest: ") }.map { String($0.dropFirst(12)) }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix("# ") else { break }
            if line == "# data: demo" { session.interpreter.datasetProvider = { Demo.build() } }
            else if line.hasPrefix("# data: ") {
                // Relative to the corpus (the working directory of the run), so paths in
                // messages are the same on every machine.
                let dir = String(line.dropFirst(8))
                let opts = options
                session.interpreter.datasetProvider = { try DerivedColumns.load(dir, manifest: manifest, options: opts) }
            }
        }
        return (session, text)
    }
}

@Suite("golden corpus")
struct GoldenTests {
    @Test("corpus is large enough")
    func corpusSize() {
        #expect(Corpus.files.count >= 150)
    }

    @Test("golden script", arguments: Corpus.files)
    func golden(_ file: String) throws {
        let actual = Corpus.run(file)
        let expectedPath = Corpus.root.appendingPathComponent(String(file.dropLast(4)) + ".out").path
        if ProcessInfo.processInfo.environment["KAM_UPDATE_GOLDEN"] != nil {
            try actual.write(toFile: expectedPath, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOfFile: expectedPath, encoding: .utf8) else {
            Issue.record("missing \(expectedPath); run with KAM_UPDATE_GOLDEN=1 to create it")
            return
        }
        #expect(actual == expected, "\(file): output differs\n--- expected\n\(expected)--- actual\n\(actual)")
    }

    /// The same script evaluated one row at a time (no kernels, no typed group-by, no
    /// segment sums) must print exactly what the columnar engine prints.
    @Test("golden script, row at a time", arguments: Corpus.files)
    func rowwise(_ file: String) throws {
        let expectedPath = Corpus.root.appendingPathComponent(String(file.dropLast(4)) + ".out").path
        guard let expected = try? String(contentsOfFile: expectedPath, encoding: .utf8) else { return }
        let actual = Corpus.run(file, evaluation: .rowwise)
        #expect(actual == expected, "\(file): row-at-a-time output differs\n--- columnar\n\(expected)--- row at a time\n\(actual)")
    }

    /// The relational part of the golden corpus on SQL: every result that compiles to SQL
    /// (what reads only the dataset's entities) runs on SQLite, and DuckDB when present,
    /// from the SQL kam compiles, and must give kam's answer row for row.
    @Test("golden corpus, compiled to SQL")
    func goldenOnSQL() throws {
        var engines: [String: [SQLEngines.Engine]] = [:]
        var compared: [Dialect: Int] = [:], files = 0, skipped = 0
        for file in Corpus.files {
            let (session, text) = Corpus.session(file)
            guard !text.contains("# sql: "), let data = text.split(separator: "\n").prefix(while: { $0.hasPrefix("# ") })
                .first(where: { $0.hasPrefix("# data: ") }) else { continue }
            let program: Program
            do { program = try Parser.parse(Source(name: file, text: text)) } catch { continue }
            let expected: [SQLEngines.Result]? = withLargeStack {
                FileManager.default.changeCurrentDirectoryPath(Corpus.root.path)
                guard Checker(session.interpreter).check(program).allSatisfy({ $0.kind == .warning }) else { return nil }
                return try? SQLEngines.kamResults(session, program)
            }
            let statements = program.statements.filter { if case .expression = $0.kind { return true } else { return false } }
            guard let expected, expected.count == statements.count, let graph = try? session.interpreter.currentDataset() else { continue }
            // One database per dataset: the data and manifest directives together.
            let key = text.split(separator: "\n").prefix(while: { $0.hasPrefix("# ") })
                .filter { $0.hasPrefix("# data: ") || $0.hasPrefix("# manifest: ") }.joined(separator: "|")
            _ = data
            if engines[key] == nil {
                engines[key] = [try SQLEngines.sqlite(graph)] + ((try? SQLEngines.duckdb(graph)).flatMap { $0 }.map { [$0] } ?? [])
            }
            files += 1
            for engine in engines[key] ?? [] {
                let compiler = SQLCompiler(schema: SQLSchema(graph: graph, sourceTables: false), dialect: engine.dialect, today: session.interpreter.options.today,
                                           params: session.interpreter.options.params, options: engine.options)
                for (result, want) in zip(compiler.compileEach(program), expected) {
                    guard case .success(let q) = result else {
                        if case .failure(let d) = result, ProcessInfo.processInfo.environment["KAM_SQL_REASONS"] != nil { print("not compiled: \(d.message) :: \(d.range.map { program.source.slice($0) } ?? "")") }
                        skipped += 1
                        continue
                    }
                    let line = program.source.location(of: q.range.start).line
                    if let problem = SQLEngines.differs(q, from: want, on: engine, at: "\(file):\(line)") { Issue.record("\(problem)") }
                    compared[engine.dialect, default: 0] += 1
                }
            }
        }
        print("golden corpus on SQL: \(files) scripts; " + compared.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) results equal on \($0.key)" }.joined(separator: ", ")
            + "; \(skipped) results do not compile")
        #expect((compared[.sqlite] ?? 0) >= 40)
    }
}
