import ArgumentParser
import Foundation
import KamCore

/// `kam fmt`: rewrite scripts in the canonical layout, or (`--check`) list the ones that
/// are not in it, for CI.
struct FmtCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fmt",
        abstract: "Format scripts in kam's one canonical layout (or check that they are).",
        discussion: """
            Rewrites each FILE in place and prints the names of the files it changed; a \
            directory means every .kam file below it; a .md file has its ```kam blocks \
            formatted. With no FILE, formats stdin to stdout. The layout keeps your line \
            breaks, comments and blank lines; a pipeline that spans lines or does not fit in \
            100 columns gets one stage per line with a leading '|'. A file that does not \
            parse is reported and left alone (exit 3). Examples:
              kam fmt plans/                 format every script under plans/
              kam fmt --check .              exit 1 and list the files that are not formatted
              kam -c '...' | kam fmt         (or any text on stdin)
            """)

    @Flag(name: .long, help: "Change nothing: list the files that would change, and exit 1 if any would.")
    var check = false

    @Argument(help: "Script files, directories or Markdown files (default: stdin to stdout).")
    var files: [String] = []

    mutating func run() throws {
        if files.isEmpty {
            let text = readAllStdin()
            switch Self.format(text, name: "<stdin>", markdown: false) {
            case .success(let out):
                if check {
                    if out != text { Output.write("<stdin>\n") }
                    Output.flush()
                    throw ExitCode(out == text ? 0 : 1)
                }
                Output.write(out)
                Output.flush()
                return
            case .failure(let message, let code):
                Output.error(message)
                throw ExitCode(code)
            }
        }
        var worst: Int32 = 0
        var changed = 0
        for path in Self.expand(files) {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                Output.error("error: cannot read '\(path)'\n")
                worst = max(worst, 2)
                continue
            }
            switch Self.format(text, name: path, markdown: path.hasSuffix(".md")) {
            case .success(let out):
                guard out != text else { continue }
                changed += 1
                if !check {
                    do { try Data(out.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
                        Output.error("error: cannot write '\(path)': \(error.localizedDescription)\n")
                        worst = max(worst, 2)
                        continue
                    }
                }
                Output.write(path + "\n")
            case .failure(let message, let code):
                Output.error(message)
                worst = max(worst, code)
            }
        }
        Output.flush()
        if check && changed > 0 { worst = max(worst, 1) }
        throw ExitCode(worst)
    }

    enum Outcome {
        case success(String)
        case failure(String, Int32)
    }

    static func format(_ text: String, name: String, markdown: Bool) -> Outcome {
        if markdown { return .success(SourceFormatter.formatMarkdown(text, name: name)) }
        do {
            return .success(try SourceFormatter.format(text, name: name))
        } catch {
            switch error {
            case .syntax(let list):
                return .failure(list.render(), 3)
            case .meaningChanged(let why):
                return .failure("error: \(name): not formatted: \(why) (a bug in kam fmt; please report it)\n", 1)
            }
        }
    }

    /// Files as given; directories become the .kam files below them, in path order,
    /// skipping hidden and build directories.
    static func expand(_ paths: [String]) -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                out.append(path)
                continue
            }
            var found: [String] = []
            let base = URL(fileURLWithPath: path)
            if let walker = fm.enumerator(
                at: base, includingPropertiesForKeys: [.isDirectoryKey], options: [.skipsHiddenFiles])
            {
                for case let url as URL in walker {
                    if (try? url.resourceValues(forKeys: [.isDirectoryKey]))?.isDirectory == true {
                        if url.lastPathComponent == ".build" || url.lastPathComponent.hasPrefix(".build-") {
                            walker.skipDescendants()
                        }
                        continue
                    }
                    if url.pathExtension == "kam" {
                        let relative = String(url.path.dropFirst(base.path.count)).drop { $0 == "/" }
                        found.append(path == "." ? String(relative) : path.hasSuffix("/") ? path + relative : path + "/" + relative)
                    }
                }
            }
            out += found.sorted()
        }
        return out
    }
}
