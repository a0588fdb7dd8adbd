import Foundation
import Testing

/// `kam test` as a user runs it on a directory of test files.
@Suite("kam test")
struct TestCommandTests {
    func scratch(_ files: [String: String]) throws -> String {
        let dir = NSTemporaryDirectory() + "kam-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/plans", withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        return dir
    }

    @Test func passingAndFailingTestsEndWithTheSummary() throws {
        let dir = try scratch([
            "plans/math_test.kam": """
                # A prelude every test of the file runs first.
                fn double(x) = x * 2

                # test: double doubles
                assert double(2) == 4, "two twos"
                double(21)
                # expect:
                # 42

                # test: a failing assert shows its values
                let n = double(-1)
                assert n > 0 and double(n) == 4

                # test: output that differs
                table([{a: 1}, {a: 2}]) | where a > 1
                # expect:
                # ┌───┐
                # │ a │
                # ├───┤
                # │ 3 │
                # └───┘

                """,
            "plans/notes.kam": "assert false\n",  // not a test file: not run
        ])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Binary.run(["test"], cwd: dir)
        #expect(
            r.stdout == """
                plans/math_test.kam
                  ok    double doubles
                  FAIL  a failing assert shows its values
                        plans/math_test.kam:12:8: error: assertion failed: n > 0 and double(n) == 4
                         12 | assert n > 0 and double(n) == 4
                            |        ^^^^^^^^^^^^^^^^^^^^^^^^
                          n is -2
                          double(n) is -4
                  FAIL  output that differs
                        plans/math_test.kam:16: the output differs from the expected block
                        expected:
                          ┌───┐
                          │ a │
                          ├───┤
                          │ 3 │
                          └───┘
                        actual:
                          ┌───┐
                          │ a │
                          ├───┤
                          │ 2 │
                          └───┘

                1 passed, 2 failed

                """)
        #expect(r.status == 1)
    }

    @Test func eachTestHasAFreshSessionWithItsOwnToday() throws {
        let dir = try scratch([
            "dates_test.kam": """
                # today: 2026-03-01

                # test: the file's today
                let seen = today()
                today()
                # expect:
                # 2026-03-01

                # test: a test's own today
                # today: 2025-12-24
                today()
                # expect:
                # 2025-12-24

                # test: nothing from the test before
                seen

                """
        ])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Binary.run(["test", "dates_test.kam"], cwd: dir)
        #expect(r.stdout.contains("  ok    the file's today\n  ok    a test's own today\n  FAIL  nothing from the test before\n"))
        #expect(r.stdout.contains("dates_test.kam:16:1: error: unknown name 'seen'"))
        #expect(r.stdout.hasSuffix("\n2 passed, 1 failed\n"))
        #expect(r.status == 1)
    }

    @Test func anExpectedErrorAndTheDemoCompany() throws {
        let dir = try scratch([
            "errors_test.kam": """
                # test: a wrong type is an error
                1 / "x"
                # expect error:
                # errors_test.kam:2:1: error: cannot apply '/' to int and string
                #  2 | 1 / "x"
                #    | ^^^^^^^
                # hint: convert the string with float(...) or int(...), or the number with str(...)

                # test: the demo company is the default dataset
                assert count(accounts) > 100

                # test: an expected error that does not come
                1 + 1
                # expect error:
                # anything

                """
        ])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Binary.run(["test", "."], cwd: dir)
        #expect(
            r.stdout == """
                errors_test.kam
                  ok    a wrong type is an error
                  ok    the demo company is the default dataset
                  FAIL  an expected error that does not come
                        errors_test.kam:14: expected an error, but the statements before the block ran

                2 passed, 1 failed

                """)
    }

    @Test func anExpectedBlockIsNeverLeftUnchecked() throws {
        let dir = try scratch([
            "prelude_test.kam": "1 + 1\n# expect:\n# 3\n\n# test: t\nassert true\n",
            "typo_test.kam": "1 + 1\n#expect:\n#   3\n",
            "inline_test.kam": "# test: one line\n6 * 7\n# expect: 42\n# test: wrong\n6 * 7\n# expect: 41\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Binary.run(["test"], cwd: dir)
        #expect(r.stdout.contains("prelude_test.kam\n  FAIL  prelude_test.kam:2: an expected block before the first '# test:' belongs to no test"))
        #expect(r.stdout.contains("typo_test.kam:2: the output differs from the expected block"))
        #expect(r.stdout.contains("inline_test.kam\n  ok    one line\n  FAIL  wrong\n"))
        #expect(r.stdout.hasSuffix("\n1 passed, 3 failed\n"))
        #expect(r.status == 1)
    }

    @Test func filterAndNothingFound() throws {
        let dir = try scratch(["a_test.kam": "# test: alpha\nassert true\n# test: beta\nassert false\n"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Binary.run(["test", "--filter", "alp"], cwd: dir)
        #expect(r.stdout == "a_test.kam\n  ok    alpha\n\n1 passed, 0 failed\n")
        #expect(r.status == 0)
        let none = try Binary.run(["test", "plans"], cwd: try scratch([:]))
        #expect(none.stdout == "no tests found in plans (test files are named *_test.kam)\n0 passed, 0 failed\n")
        #expect(none.status == 1)
    }

    /// The test file docs/LANGUAGE.md shows passes.
    @Test func theDocumentedTestFilePasses() throws {
        let doc = try String(contentsOf: Binary.packageRoot.appendingPathComponent("docs/LANGUAGE.md"), encoding: .utf8)
        let lines = doc.components(separatedBy: "\n")
        guard let intro = lines.firstIndex(where: { $0.hasSuffix("A test file:") }),
            let start = lines[intro...].firstIndex(of: "```kam"), let end = lines[(start + 1)...].firstIndex(of: "```")
        else {
            Issue.record("docs/LANGUAGE.md shows no test file")
            return
        }
        let dir = try scratch(["doc_test.kam": lines[(start + 1)..<end].joined(separator: "\n") + "\n"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Binary.run(["test"], cwd: dir)
        #expect(r.stdout == "doc_test.kam\n  ok    double doubles\n  ok    a table\n\n2 passed, 0 failed\n")
    }

    /// The standard library's own tests, written as kam tests, pass.
    @Test func theStandardLibrarysTestsPass() throws {
        let r = try Binary.run(["test", "stdlib"], cwd: Binary.packageRoot.path)
        #expect(r.stdout.hasSuffix(" passed, 0 failed\n"), "\(r.stdout)")
        #expect(r.stdout.contains("stdlib/tests/core_test.kam\n"))
        #expect(r.status == 0)
    }
}
