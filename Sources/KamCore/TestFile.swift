import Foundation

/// A kam test file (`*_test.kam`), as `kam test` reads it: tests, each from a
/// `# test: NAME` line to the next, after a prelude they all share (the file's header
/// directives, imports, lets and fns); each test's `assert`s and the expected-output
/// blocks in it.
///
///     # data: demo
///     # today: 2026-11-01
///     import scoring
///
///     # test: twenty key accounts
///     let k = accounts | kam_metrics | score selection_weights | key_accounts per_manager: 4
///     assert count(k | where key) == 20, "four per manager"
///
///     # test: the share of a total
///     share(1, 4)
///     # expect:
///     # 0.25
///
/// An expected block is `# expect:` and the comment lines right after it (`#` alone is an
/// empty line; the first line that is not a comment, or a blank one, ends it), or one line
/// `# expect: TEXT`: what the
/// statements since the test's start or the previous block print must be exactly that.
/// `# expect error:` expects those statements to fail with that message. A file without
/// `# test:` lines is one test.
public struct TestFile: Sendable {
    /// An expected-output block: its lines (0-based) and the text it expects.
    public struct Expectation: Sendable {
        public var line: Int
        public var lastLine: Int
        public var expected: String
        public var isError: Bool
    }

    public struct Test: Sendable {
        public var name: String
        /// The `# test:` line (0-based), or -1 for a file that is one test.
        public var line: Int
        /// The lines of the test after its `# test:` line (0-based, half-open).
        public var body: Range<Int>
        /// Its own directives (`# today: ...` right after `# test:`), before the file's.
        public var directives: [String]
        public var expectations: [Expectation]
    }

    public var lines: [String]
    public var prelude: Range<Int>
    public var tests: [Test]
    /// The file's header: its first comment lines, where `# data:` and `# today:` are.
    public var header: [String]

    public init(_ text: String, name: String) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        self.lines = lines
        header = Array(lines.prefix { $0.hasPrefix("#") })
        let starts = lines.indices.filter { TestFile.testName(lines[$0]) != nil }
        if starts.isEmpty {
            prelude = 0..<0
            var base = name.split(separator: "/").last.map(String.init) ?? name
            for suffix in ["_test.kam", ".kam"] where base.hasSuffix(suffix) { base = String(base.dropLast(suffix.count)) }
            tests = [TestFile.test(base, line: -1, body: 0..<lines.count, lines)]
            return
        }
        prelude = 0..<starts[0]
        tests = starts.enumerated().map { n, start in
            let end = n + 1 < starts.count ? starts[n + 1] : lines.count
            return TestFile.test(TestFile.testName(lines[start]) ?? "", line: start, body: (start + 1)..<end, lines)
        }
    }

    /// Whether a line opens an expected block (`# expect:`, or `# expect error:`: true),
    /// spaced however it is: a block mistyped as a comment would check nothing.
    static func expectation(_ line: String) -> Bool? {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "#" }).joined(separator: " ")
        if line.hasPrefix("#"), words == "expect:" || words == "expect :" { return false }
        if line.hasPrefix("#"), words == "expect error:" || words == "expect error :" { return true }
        return nil
    }

    /// `# expect: 42`: a one-line expected block.
    static func inlineExpectation(_ line: String) -> String? {
        guard line.hasPrefix("# expect: ") else { return nil }
        let text = String(line.dropFirst(10))
        return text.trimmingCharacters(in: .whitespaces).isEmpty ? nil : text
    }

    /// Lines of the prelude that open an expected block: nothing would check them.
    public var uncheckedExpectations: [Int] {
        prelude.filter {
            let l = lines[$0].trimmingCharacters(in: .whitespaces)
            return TestFile.expectation(l) != nil || TestFile.inlineExpectation(l) != nil
        }
    }

    static func testName(_ line: String) -> String? {
        guard line.hasPrefix("# test:") else { return nil }
        return String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }

    static func test(_ name: String, line: Int, body: Range<Int>, _ lines: [String]) -> Test {
        var directives: [String] = []
        if line >= 0 {
            for i in body {
                let l = lines[i]
                guard l.hasPrefix("# "), ["data:", "today:", "param:", "manifest:", "format:"].contains(where: { l.dropFirst(2).hasPrefix($0) })
                else { break }
                directives.append(l)
            }
        }
        var expectations: [Expectation] = []
        var i = body.lowerBound
        while i < body.upperBound {
            let l = lines[i].trimmingCharacters(in: .whitespaces)
            if let text = TestFile.inlineExpectation(l) {
                expectations.append(Expectation(line: i, lastLine: i, expected: text + "\n", isError: false))
                i += 1
                continue
            }
            guard let isError = TestFile.expectation(l) else { i += 1; continue }
            var j = i + 1
            var expected = ""
            while j < body.upperBound {
                let e = lines[j].trimmingCharacters(in: .whitespaces)
                if e == "#" { expected += "\n" } else if e.hasPrefix("# ") {
                    // Keep the line's own leading spaces: the block is text to the character.
                    let raw = lines[j].drop { $0 == " " || $0 == "\t" }
                    expected += String(raw.dropFirst(2)) + "\n"
                } else {
                    break
                }
                j += 1
            }
            expectations.append(Expectation(line: i, lastLine: j - 1, expected: expected, isError: isError))
            i = j
        }
        return Test(name: name, line: line, body: body, directives: directives, expectations: expectations)
    }

    /// The steps a test runs, in one session: the lines of each (the prelude with the
    /// first), each ending at an expected block (the last step, after the last block, has
    /// none).
    public func steps(_ test: Test) -> [(lines: [Range<Int>], expectation: Expectation?)] {
        var out: [(lines: [Range<Int>], expectation: Expectation?)] = []
        var from = test.body.lowerBound
        for e in test.expectations {
            out.append(([from..<e.line], e))
            from = e.lastLine + 1
        }
        if from < test.body.upperBound || out.isEmpty { out.append(([from..<test.body.upperBound], nil)) }
        if !prelude.isEmpty { out[0].lines.insert(prelude, at: 0) }
        return out
    }

    /// The file's text with every line outside `keep` left empty, so line numbers in
    /// messages are the file's own.
    public func text(keeping keep: [Range<Int>]) -> String {
        var out = ""
        for (i, line) in lines.enumerated() {
            if keep.contains(where: { $0.contains(i) }) { out += line }
            out += "\n"
        }
        return out
    }

    /// The directives a test runs with: its own, then the file's header.
    public func directives(_ test: Test) -> String {
        (test.directives + header).joined(separator: "\n") + "\n"
    }
}
