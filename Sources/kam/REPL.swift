import CEditLine
import Foundation
import KamCore

/// The interactive loop: libedit line editing, multi-line input decided by the parser,
/// results printed in the session's format, errors printed and the session kept.
struct REPL {
    let driver: Driver

    func run() -> Int32 {
        setlocale(LC_CTYPE, "")
        guard let editor = kam_editor_open("kam") else {
            Output.error("error: cannot start the line editor\n")
            return 1
        }
        defer { kam_editor_close(editor) }
        Output.write("kam \(kamVersion): type an expression, :help for help, Ctrl-D to quit\n")
        Output.flush()
        var buffer = ""
        while true {
            kam_editor_set_prompt(editor, buffer.isEmpty ? "kam> " : "...> ")
            var length: Int32 = 0
            guard let raw = kam_editor_read(editor, &length) else {
                Output.write("\n")
                Output.flush()
                return 0
            }
            var line = String(cString: raw)
            if line.hasSuffix("\n") { line.removeLast() }
            buffer += buffer.isEmpty ? line : "\n" + line
            if buffer.trimmingCharacters(in: .whitespaces).isEmpty { buffer = ""; continue }
            if Parser.isIncomplete(buffer) { continue }
            let statement = buffer
            buffer = ""
            kam_editor_history_add(editor, statement)
            if statement.hasPrefix(":") {
                if meta(statement) { return 0 }
                continue
            }
            _ = driver.runText(statement, name: "<repl>")
            Output.flush()
        }
    }

    /// Meta commands; returns true to quit.
    func meta(_ line: String) -> Bool {
        let word = line.split(separator: " ").first.map(String.init) ?? line
        switch word {
        case ":quit", ":q", ":exit": return true
        case ":help":
            Output.write("Type a kam expression, or let/fn definitions. Meta commands: :help, :quit.\n")
        default:
            let near = Suggest.hint(word, in: [":help", ":quit"]) ?? "try :help"
            Output.error("error: unknown command '\(word)'\nhint: \(near)\n")
        }
        Output.flush()
        return false
    }
}
