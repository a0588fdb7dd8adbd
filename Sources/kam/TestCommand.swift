import ArgumentParser
import Foundation
import KamCore

/// `kam test`: runs the tests in `*_test.kam` files, each in a fresh session, and ends
/// with `N passed, N failed`.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the tests in *_test.kam files: asserts and expected-output blocks.",
        discussion: """
            A test runs from a '# test: NAME' line to the next, after the file's prelude (its \
            header, imports, lets and fns), in a fresh session with the dataset and today the \
            file or the test declares ('# data:', '# today:', '# param:', '# format:'; the demo \
            company and the real today otherwise). It passes when every assert holds and each \
            '# expect:' block (the comment lines after it, or '# expect: TEXT') is exactly what the statements \
            before it printed; '# expect error:' expects them to fail with that message (file \
            names in it without their directory). A file without '# test:' lines is one test. \
            Exit 0 when all pass, 1 otherwise. Examples:
              kam test                       every *_test.kam under this directory
              kam test plans/ --filter abc   the tests whose name contains abc
            """)

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: ArgumentHelp("Run only the tests whose name contains TEXT.", valueName: "text"))
    var filter: String?

    @Argument(help: "Test files or directories (default: the current directory).")
    var paths: [String] = []

    mutating func run() throws {
        let files = Self.expand(paths.isEmpty ? ["."] : paths)
        let color = isatty(1) == 1 && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
        func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
        var passed = 0, failed = 0
        for path in files {
            guard let data = FileManager.default.contents(atPath: path) else {
                Output.write("\(path)\n  \(paint("FAIL", "31"))  cannot read the file\n")
                failed += 1
                continue
            }
            let file = TestFile(String(decoding: data, as: UTF8.self), name: path)
            if let line = file.uncheckedExpectations.first {
                // An expected block no test owns would pass unchecked: the file fails instead.
                Output.write("\(path)\n  \(paint("FAIL", "31"))  \(path):\(line + 1): an expected block before the first '# test:' "
                    + "belongs to no test; move it into one\n")
                failed += 1
                continue
            }
            let tests = file.tests.filter { filter == nil || $0.name.contains(filter ?? "") }
            if tests.isEmpty { continue }
            Output.write(path + "\n")
            for test in tests {
                let failure = run(test, of: file, path: path)
                if let failure {
                    failed += 1
                    Output.write("  \(paint("FAIL", "31"))  \(test.name)\n")
                    Output.write(failure.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { "        " + $0 + "\n" }.joined())
                } else {
                    passed += 1
                    Output.write("  \(paint("ok", "32"))    \(test.name)\n")
                }
            }
        }
        if passed + failed == 0 {
            Output.write("no tests found" + (filter.map { " matching '\($0)'" } ?? "") + " in \(paths.isEmpty ? "." : paths.joined(separator: " ")) (test files are named *_test.kam)\n")
        } else {
            Output.write("\n")
        }
        Output.write("\(passed) passed, \(failed) failed\n")
        Output.flush()
        throw ExitCode(failed == 0 && passed > 0 ? 0 : 1)
    }

    /// Runs one test; nil when it passes, else what went wrong.
    func run(_ test: TestFile.Test, of file: TestFile, path: String) -> String? {
        var options = common
        options.quiet = true
        let directives = file.directives(test)
        ScriptHeader.apply(directives, scriptPath: path, to: &options)
        var format = OutputFormat.table
        for line in directives.split(separator: "\n") where line.hasPrefix("# format:") {
            guard let f = OutputFormat(rawValue: line.dropFirst(9).trimmingCharacters(in: .whitespaces)) else {
                return "\(path): unknown format in '\(line)'"
            }
            format = f
            break
        }
        let driver: Driver
        do { driver = try Driver(options) } catch { return "\(path): \(error)" }
        // Results as a pipe sees them, whatever the terminal: the same on every machine.
        driver.session.writer = Writer(format: format)
        for step in file.steps(test) {
            var out = "", err = ""
            let code = driver.run(file.text(keeping: step.lines), name: path, out: { out += $0 }, err: { err += $0 })
            guard let expected = step.expectation else {
                return code == 0 ? nil : err
            }
            let at = "\(path):\(expected.line + 1)"
            if expected.isError {
                if code == 0 { return "\(at): expected an error, but the statements before the block ran\n" }
                let shown = err.replacingOccurrences(of: path, with: (path as NSString).lastPathComponent)
                if shown != expected.expected {
                    return "\(at): a different error than expected\n" + Self.compare(expected.expected, shown)
                }
                continue
            }
            if code != 0 { return err }
            if out != expected.expected {
                return "\(at): the output differs from the expected block\n" + Self.compare(expected.expected, out)
            }
        }
        return nil
    }

    static func compare(_ expected: String, _ actual: String) -> String {
        func block(_ s: String) -> String {
            if s.isEmpty { return "  (nothing)\n" }
            return s.split(separator: "\n", omittingEmptySubsequences: false).dropLast(s.hasSuffix("\n") ? 1 : 0).map { "  " + $0 + "\n" }.joined()
        }
        return "expected:\n" + block(expected) + "actual:\n" + block(actual)
    }

    /// Files as given; directories become the *_test.kam files below them, in path order.
    static func expand(_ paths: [String]) -> [String] {
        var out: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                out.append(path)
                continue
            }
            out += FmtCommand.expand([path]).filter { $0.hasSuffix("_test.kam") }
        }
        return out
    }
}
