import CEditLine
import Foundation
import KamCore

/// The interactive loop: libedit line editing with history and Tab completion, multi-line
/// input decided by the parser, meta commands, Ctrl-C that clears the line or cancels a
/// running query, results in the session's format, errors printed and the session kept.
final class REPL {
    let driver: Driver
    var timing = false
    var historyPath: String?
    var historyWarned = false

    init(driver: Driver) {
        self.driver = driver
        driver.session.warnsUnusedParameters = false
    }

    var session: Session { driver.session }

    /// Whether the line just read is drawn again in colour: on a terminal, unless NO_COLOR
    /// is set (and not empty) or TERM is dumb.
    lazy var colorInput: Bool = {
        let env = ProcessInfo.processInfo.environment
        return isatty(1) != 0 && (env["NO_COLOR"] ?? "").isEmpty && env["TERM"] != "dumb"
    }()

    /// Draws the line the editor has just echoed again, coloured by its tokens: up to the
    /// prompt's row, clear to the end of the screen, prompt and coloured line. Lines with
    /// tabs or control characters, whose width the terminal decides, are left as they are.
    func redrawInColor(_ line: String, prompt: String) {
        guard !line.hasPrefix(":"), !line.isEmpty, !line.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return }
        let colored = Highlight.ansi(line)
        guard colored != line else { return }
        // The rows the prompt and line took: the editor wraps at the width, and the Enter
        // that ended the line moved to the row below.
        let rows = (displayWidth(prompt) + displayWidth(line)) / max(1, Terminal.width()) + 1
        Output.write("\u{1B}[\(rows)A\r\u{1B}[J" + prompt + colored + "\n")
        Output.flush()
    }

    func run() -> Int32 {
        setlocale(LC_CTYPE, "")
        guard let editor = kam_editor_open("kam") else {
            Output.error("error: cannot start the line editor\n")
            return 1
        }
        defer { kam_editor_close(editor) }
        REPL.current = self
        kam_editor_set_completer(editor, replComplete)
        kam_install_sigint(session.interpreter.cancellation.rawFlag)
        historyPath = REPL.historyPath()
        if let historyPath { _ = kam_editor_history_load(editor, historyPath) }
        if !driver.quiet { Output.write(banner()) }
        session.writer.maxRows = max(10, Terminal.height() - 8)
        session.writer.seeAll = ":format csv"
        Output.flush()
        var buffer = ""
        while true {
            kam_editor_set_prompt(editor, buffer.isEmpty ? "kam> " : "...> ")
            var length: Int32 = 0
            let raw = kam_editor_read(editor, &length)
            if kam_interrupted() != 0 {
                // Ctrl-C at the prompt: drop what was typed, or say how to leave.
                if buffer.isEmpty && (raw == nil || length <= 1) {
                    Output.write("\n(to quit, type :quit or press Ctrl-D)\n")
                } else {
                    Output.write("^C\n")
                }
                buffer = ""
                held = nil
                session.interpreter.cancellation.clear()
                Output.flush()
                continue
            }
            guard let raw else {
                if let held { execute(held, editor) }
                Output.write("\n")
                Output.flush()
                return 0
            }
            var line = String(cString: raw)
            if line.hasSuffix("\n") { line.removeLast() }
            if colorInput { redrawInColor(line, prompt: buffer.isEmpty ? "kam> " : "...> ") }
            // A line typed after a trailing ',' goes on with the arguments: indented, as a
            // script would write it (at column 1 a script starts a new statement there).
            if !buffer.isEmpty, let first = line.first, first != " ", first != "\t", first != "|", Parser.endsWithComma(buffer) {
                line = "    " + line
            }
            buffer += buffer.isEmpty ? line : "\n" + line
            if buffer.trimmingCharacters(in: .whitespaces).isEmpty { buffer = ""; continue }
            if !buffer.hasPrefix(":") && Parser.isIncomplete(buffer) { continue }
            var statement = buffer
            buffer = ""
            let continues = statement.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("|")
            if continues, let h = held {
                // Pasted lines: the one held back goes on with this stage.
                statement = h + "\n" + statement
                held = nil
            } else if continues, let last = lastStatement {
                // Typed after a result: the last statement again, with this stage.
                statement = last + "\n" + statement
            } else if let h = held {
                held = nil
                execute(h, editor)
            }
            if statement.hasPrefix(":") {
                kam_editor_history_add(editor, statement)
                saveHistory(editor)
                if meta(statement) { return 0 }
                Output.flush()
                continue
            }
            // More input already waiting (a paste): its next line may start with | and go on
            // with this statement, so hold it until that line is read.
            if kam_input_pending() != 0 {
                held = statement
                continue
            }
            execute(statement, editor)
        }
    }

    /// Limits set with :maxwidth and :maxrows (0 there: none), else the terminal's.
    var maxWidth: Int?
    var maxRows: Int?
    /// Results going to a file (:output FILE), for one result only with :once.
    var outputFile: FileHandle?
    var once = false

    func openOutput(_ path: String, once: Bool) {
        guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
            Output.error("error: cannot write '\(path)'\n")
            return
        }
        closeOutput()
        outputFile = h
        self.once = once
        driver.sink = { text in h.write(Data(text.utf8)) }
    }

    func closeOutput() {
        try? outputFile?.close()
        outputFile = nil
        once = false
        driver.sink = nil
    }

    /// A script file run into the session: its variables stay, and its header comments
    /// (# today:, # param:, # data:) apply as they do for kam run.
    func runScript(_ path: String) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            Output.error("error: cannot read script '\(path)'\n")
            return
        }
        let d = ScriptHeader.read(text, scriptPath: path)
        if let t = d.today, let day = KamCore.Calendar.parse(Array(t.utf8)) { session.interpreter.options.today = day }
        for p in d.params { if let eq = p.firstIndex(of: "=") { session.interpreter.options.params[String(p[..<eq])] = String(p[p.index(after: eq)...]) } }
        if let data = d.data { _ = meta(":load " + data) }
        _ = driver.runText(text, name: path)
        Output.flush()
    }

    /// A statement held back while pasted lines that may continue it are read.
    var held: String?
    /// The last statement run, which a line starting with | continues.
    var lastStatement: String?

    func execute(_ statement: String, _ editor: OpaquePointer) {
        kam_editor_history_add(editor, statement)
        saveHistory(editor)
        lastStatement = statement
        // The terminal may have been resized since the last statement (unless the limits
        // were set with :maxwidth/:maxrows; results sent to a file have none).
        let toFile = driver.sink != nil
        session.writer.maxWidth = toFile ? nil : maxWidth ?? Terminal.width()
        session.writer.maxRows = toFile ? nil : maxRows ?? max(10, Terminal.height() - 8)
        session.writer.color = !toFile && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
        defer { if once { closeOutput() } }
        session.interpreter.cancellation.clear()
        let started = Clock.now()
        let status = driver.runText(statement, name: "<repl>")
        // `quit` or `exit` typed as in other shells: an unknown name, and the way out.
        if status != 0, ["quit", "exit"].contains(statement.trimmingCharacters(in: .whitespacesAndNewlines)) {
            Output.write("(to quit, type :quit or press Ctrl-D)\n")
        }
        _ = kam_interrupted()  // a Ctrl-C that cancelled the query is spent
        if timing { Output.write("(\(String(format: "%.1f", (Clock.now() - started) * 1000)) ms)\n") }
        Output.flush()
    }

    func banner() -> String {
        var data = "demo company (built when first used)"
        if let label = driver.dataLabel, let g = session.interpreter.dataset {
            if let (_, rows) = driver.backend, !rows {
                // On the database: its tables, no rows in memory to count.
                data = label + " (queries run there): " + g.entities.map(\.name).joined(separator: ", ")
            } else {
                data = label + ": " + g.entities.map { "\($0.name) \($0.table.count)" }.joined(separator: ", ")
            }
        }
        return "kam \(kamVersion): \(data)\nType an expression; :help for help, Tab to complete, Ctrl-D to quit.\n"
    }

    /// $KAM_HISTORY, else $XDG_STATE_HOME/kam/history, else ~/.local/state/kam/history.
    static func historyPath() -> String? {
        let env = ProcessInfo.processInfo.environment
        if let p = env["KAM_HISTORY"], !p.isEmpty { return p }
        let base: String
        if let x = env["XDG_STATE_HOME"], !x.isEmpty { base = x } else if let h = env["HOME"], !h.isEmpty { base = h + "/.local/state" } else { return nil }
        return base + "/kam/history"
    }

    func saveHistory(_ editor: OpaquePointer) {
        guard let historyPath else { return }
        let dir = (historyPath as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if kam_editor_history_save(editor, historyPath) < 0 && !historyWarned {
            historyWarned = true
            Output.error("warning: cannot write the history file \(historyPath); history will not be kept\n")
        }
    }

    /// Meta commands; returns true to quit.
    func meta(_ line: String) -> Bool {
        let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
        let word = parts[0]
        let arg = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        switch word {
        case ":quit", ":q", ":exit": return true
        case ":run", ":read":
            guard !arg.isEmpty else { Output.error("error: :run needs a script\nhint: :run plan.kam\n"); break }
            runScript(arg)
        case ":output", ":once":
            if arg.isEmpty {
                closeOutput()
                Output.write("results go to the terminal\n")
            } else {
                openOutput(arg, once: word == ":once")
                if outputFile != nil { Output.write(word == ":once" ? "the next result goes to \(arg)\n" : "results go to \(arg) (:output alone: back to the terminal)\n") }
            }
        case ":maxrows", ":maxwidth":
            if arg.isEmpty {
                let v = word == ":maxrows" ? maxRows : maxWidth
                Output.write("\(word.dropFirst()) is \(v.map { $0 == Int.max ? "none" : String($0) } ?? "the terminal's")\n")
                break
            }
            guard let n = Int(arg), n >= 0 else { Output.error("error: \(word) takes a number (0: no limit)\n"); break }
            let value = n == 0 ? Int.max : n
            if word == ":maxrows" { maxRows = value } else { maxWidth = value }
        case ":thousands":
            if arg.isEmpty { Output.write("thousands is \(session.writer.thousands ? "on" : "off")\n"); break }
            guard arg == "on" || arg == "off" else { Output.error("error: :thousands takes on or off\n"); break }
            session.writer.thousands = arg == "on"
        case ":nullvalue":
            session.writer.nullText = arg.isEmpty ? "null" : arg
        case ":help": Output.write(help(arg))
        case ":schema":
            _ = driver.runText(arg.isEmpty ? "schema()" : "schema(\(JSON.quote(arg)))", name: "<repl>")
            if arg.isEmpty && session.writer.format == .table {
                Output.write("(:schema ENTITY lists one entity's columns and links in full)\n")
            }
        case ":load":
            guard !arg.isEmpty else { Output.error("error: :load needs a path\nhint: :load crm/ (or :load demo for the demo company)\n"); break }
            if arg == "demo" && !FileManager.default.fileExists(atPath: "demo") {
                // Back to the embedded demo company.
                let (g, _) = Demo.build()
                session.interpreter.install(g)
                driver.dataLabel = nil
                Output.error("loaded the demo company\n")
                break
            }
            do {
                let (g, report) = try DerivedColumns.load(arg, options: session.interpreter.options)
                session.interpreter.install(g)
                driver.dataLabel = arg
                Output.error("loaded \(arg)\n" + report.summary.map { "  \($0)\n" }.joined())
                for w in report.warnings { Output.error(w.render()) }
            } catch let d as Diagnostic {
                Output.error(d.render())
            } catch {
                Output.error("error: \(error)\n")
            }
        case ":format":
            if arg.isEmpty { Output.write("format is \(session.writer.format.rawValue)\n"); break }
            guard let f = OutputFormat(rawValue: arg) else {
                Output.error("error: unknown format '\(arg)'\nhint: formats: " + OutputFormat.allCases.map(\.rawValue).joined(separator: ", ") + "\n")
                break
            }
            session.writer.format = f
        case ":timing":
            if arg.isEmpty { Output.write("timing is \(timing ? "on" : "off")\n"); break }
            guard arg == "on" || arg == "off" else { Output.error("error: :timing takes on or off\n"); break }
            timing = arg == "on"
        case ":vars":
            // What the user defined: not the entities, not the core library's functions.
            let entities = Set(session.interpreter.dataset?.entities.map(\.name) ?? [])
            let vars = session.interpreter.globals.vars.filter { !entities.contains($0.key) && !REPL.coreNames.contains($0.key) }
            if vars.isEmpty { Output.write("(no variables)\n") }
            for (k, v) in vars.sorted(by: { $0.key < $1.key }) {
                Output.write("\(k): \(v.typeName)" + (v.isFunctionOrTable ? "" : " = \(Format.literal(v, depth: 1))") + "\n")
            }
        case ":reset":
            session.interpreter.reset()
            Output.write("variables cleared\n")
        case ":today":
            if arg.isEmpty { Output.write("today is \(KamCore.Calendar.format(session.interpreter.options.today))\n"); break }
            guard let d = KamCore.Calendar.parse(Array(arg.utf8)) else {
                Output.error("error: :today needs a date as YYYY-MM-DD\n")
                break
            }
            session.interpreter.options.today = d
            Output.write("today is \(KamCore.Calendar.format(d))\n")
        default:
            let near = Suggest.hint(word, in: Completer.metaCommands) ?? "type :help for the commands"
            Output.error("error: unknown command '\(word)'\nhint: \(near)\n")
        }
        return false
    }

    func help(_ topic: String) -> String {
        if topic.isEmpty {
            return """
                kam: a query language for account analytics. Examples:
                  accounts | where region == "EMEA" | top 10 by sum(orders.amount)
                  accounts | derive revenue = sum(orders.amount) | abc revenue
                Meta commands:
                  :help [NAME]     this help, or a function's
                  :schema [ENTITY] the dataset's entities, or one entity's columns and links
                  :load PATH       load a dataset (directory, file or SQLite; demo: the demo)
                  :format [FMT]    table, csv, tsv, json, jsonl, markdown or line (none: show it)
                  :timing [on|off] print the time of each result (none: show it)
                  :vars            the variables defined
                  :reset           clear the variables (the dataset stays)
                  :today [DATE]    pin today's date (none: show it)
                  :run FILE        run a script into the session (also :read)
                  :output [FILE]   send results to a file (none: back); :once FILE, the next only
                  :maxrows N       rows shown (0: all); :maxwidth N, width (0: no limit)
                  :nullvalue TEXT  how null shows in a table; :format line, a row as lines
                  :thousands [on|off]  thousands separators in tables (1,234,567.5)
                  :quit            leave (or Ctrl-D)
                Functions:
                \(REPL.wrap(Builtins.all.map(\.name).sorted(), width: min(100, Terminal.width()) - 2))
                Library (in kam): \(REPL.coreNames.sorted().joined(separator: ", ")); import scoring, import analytics

                """
        }
        if let text = REPL.topicHelp(topic) { return text }
        return "no function '\(topic)'" + (Suggest.hint(topic, in: Array(Builtins.table.keys) + Array(REPL.coreNames)).map { "; \($0)" } ?? "") + "\n"
    }

    /// The help of a built-in or a library function (`:help NAME`, and the language
    /// server's hover): its signature, doc and, for a stage, what it reads.
    /// Names that are neither functions nor library code: what they are.
    static let specialNames: [String: String] = [
        "input": "input  [name]\n  The table piped into kam on stdin, CSV or JSON (detected by its first character):\n  cat orders.csv | kam -c 'input | aggregate total = sum(amount) by region'\n",
        "it": "it  [name]\n  In a row expression, the row itself: it[\"Annual Revenue\"] reads a column by its name as text.\n",
    ]

    static func topicHelp(_ topic: String) -> String? {
        if let text = specialNames[topic] { return text }
        guard let b = Builtins.table[topic] else { return REPL.stdlibHelp(topic) }
        var text = "\(b.signature)  [\(b.category.rawValue)]\n  \(b.doc)\n"
        if !b.inputs.isEmpty {
            // What the stage reads, and the option that points each input elsewhere.
            text += "  reads (option: default path):\n"
            for i in b.inputs {
                let absent = i.signal.map { i.optionalColumn ? " (optional: \($0))" : " (without \(i.path[0]): \($0) not assessed)" } ?? ""
                text += "    \(i.option): \(i.path.joined(separator: "."))  \(i.purpose)\(absent)\n"
            }
        }
        return text
    }

    /// The names the core library (stdlib/core.kam) defines in every session.
    static let coreNames: Set<String> = {
        let i = Interpreter()
        let before = Set(i.globals.vars.keys)
        try? i.importModule("core", isFile: false, range: SourceRange(0, 0), into: i.globals)
        return Set(i.globals.vars.keys).subtracting(before)
    }()

    /// A library function's help: its definition and the comment above it.
    static func stdlibHelp(_ name: String) -> String? {
        for (module, text) in Stdlib.modules.sorted(by: { $0.key < $1.key }) {
            let lines = text.components(separatedBy: "\n")
            guard let k = lines.firstIndex(where: { $0.hasPrefix("fn \(name)(") }) else { continue }
            var comment: [String] = []
            var j = k - 1
            while j >= 0, lines[j].hasPrefix("#") { comment.insert(String(lines[j].dropFirst().trimmingCharacters(in: .whitespaces)), at: 0); j -= 1 }
            let signature = lines[k].split(separator: "=", maxSplits: 1).first.map { $0.dropFirst(3).trimmingCharacters(in: .whitespaces) } ?? name
            let origin = module == "core" ? "library" : "library, import \(module)"
            return "\(signature)  [\(origin)]\n" + comment.map { "  \($0)\n" }.joined()
        }
        return nil
    }

    /// Names in lines of at most `width` characters, broken between names, never inside one.
    static func wrap(_ names: [String], width: Int) -> String {
        var lines: [String] = [], line = " "
        for n in names {
            if line.count + n.count + 2 > max(20, width), line.count > 1 { lines.append(line); line = " " }
            line += " " + n + ","
        }
        lines.append(String(line.dropLast()))
        return lines.joined(separator: "\n")
    }

    // The completion callback is a C function: it reaches the session through this.
    nonisolated(unsafe) static var current: REPL?

    func completions(_ before: String) -> String {
        let (insert, candidates) = Completer(session.interpreter).complete(before)
        guard candidates.count > 1 else { return insert }
        let width = (candidates.map(\.count).max() ?? 0) + 2
        let perLine = max(1, Terminal.width() / width)
        var listing = ""
        for (i, c) in candidates.prefix(200).enumerated() {
            listing += c.padding(toLength: width, withPad: " ", startingAt: 0)
            if (i + 1) % perLine == 0 { listing += "\n" }
        }
        if !listing.hasSuffix("\n") { listing += "\n" }
        if candidates.count > 200 { listing += "(\(candidates.count - 200) more)\n" }
        return insert + "\n" + listing
    }
}

private func replComplete(_ before: UnsafePointer<CChar>?) -> UnsafeMutablePointer<CChar>? {
    guard let before, let repl = REPL.current else { return nil }
    return strdup(repl.completions(String(cString: before)))
}

extension Value {
    var isFunctionOrTable: Bool {
        switch self {
        case .function, .table: true
        default: false
        }
    }
}
