import Foundation
import Testing

/// `kam fmt` as a user and CI run it: stdin to stdout, files in place, `--check`.
@Suite("kam fmt")
struct FmtCommandTests {
    func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "kam-fmt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/plans/sub", withIntermediateDirectories: true)
        return dir
    }

    func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    @Test func stdinToStdout() throws {
        let r = try Binary.run(["fmt"], stdin: "accounts|where revenue>1M\n|take 5")
        #expect(r.stdout == "accounts\n  | where revenue > 1M\n  | take 5\n")
        #expect(r.stderr == "")
        #expect(r.status == 0)
    }

    @Test func filesAreRewrittenInPlaceAndNamed() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "let x=1\n".write(toFile: dir + "/plans/a.kam", atomically: true, encoding: .utf8)
        try "let y = 2\n".write(toFile: dir + "/plans/sub/b.kam", atomically: true, encoding: .utf8)
        try "notes\n\n```kam\nt|take 1\n```\n".write(toFile: dir + "/README.md", atomically: true, encoding: .utf8)
        let r = try Binary.run(["fmt", "plans", "README.md"], cwd: dir)
        #expect(r.stdout == "plans/a.kam\nREADME.md\n")
        #expect(r.status == 0)
        #expect(try read(dir + "/plans/a.kam") == "let x = 1\n")
        #expect(try read(dir + "/plans/sub/b.kam") == "let y = 2\n")
        #expect(try read(dir + "/README.md") == "notes\n\n```kam\nt | take 1\n```\n")
        // A second run finds nothing to do.
        let again = try Binary.run(["fmt", "--check", "plans", "README.md"], cwd: dir)
        #expect(again.stdout == "")
        #expect(again.status == 0)
    }

    @Test func checkListsWhatWouldChangeAndExitsOne() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "let x=1\n".write(toFile: dir + "/plans/a.kam", atomically: true, encoding: .utf8)
        try "let y = 2\n".write(toFile: dir + "/plans/b.kam", atomically: true, encoding: .utf8)
        let r = try Binary.run(["fmt", "--check", "plans"], cwd: dir)
        #expect(r.stdout == "plans/a.kam\n")
        #expect(r.status == 1)
        #expect(try read(dir + "/plans/a.kam") == "let x=1\n")  // untouched
        let stdin = try Binary.run(["fmt", "--check"], stdin: "let x=1\n")
        #expect(stdin.stdout == "<stdin>\n")
        #expect(stdin.status == 1)
    }

    @Test func aFileThatDoesNotParseIsReportedAndLeftAlone() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "let x = (1 +\n".write(toFile: dir + "/bad.kam", atomically: true, encoding: .utf8)
        try "let y=2\n".write(toFile: dir + "/good.kam", atomically: true, encoding: .utf8)
        let r = try Binary.run(["fmt", "bad.kam", "good.kam", "missing.kam"], cwd: dir)
        #expect(
            r.stderr == """
                bad.kam:1:13: error: unexpected end of input
                 1 | let x = (1 +
                   |             ^
                hint: the expression is not finished
                error: cannot read 'missing.kam'

                """)
        #expect(r.stdout == "good.kam\n")
        #expect(r.status == 3)
        #expect(try read(dir + "/bad.kam") == "let x = (1 +\n")
        #expect(try read(dir + "/good.kam") == "let y = 2\n")
    }
}
