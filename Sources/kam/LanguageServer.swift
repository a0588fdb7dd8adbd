import ArgumentParser
import Foundation
import KamCore

/// `kam lsp`: a language server over stdio (JSONMessage-RPC 2.0, LSP 3.17) for editors: the
/// parser's and the checker's diagnostics as you type, completion from the REPL's
/// completer, hover with a built-in's help, go to definition of `let`, `fn` and `param`,
/// and formatting by `kam fmt`.
struct LSPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lsp",
        abstract: "Run the language server (LSP over stdin and stdout) for an editor.",
        discussion: """
            Diagnostics (syntax and every name checked against the dataset the script's \
            '# data:' line names, the demo company otherwise), completion, hover, go to \
            definition and formatting. See docs/EDITORS.md for VS Code, Neovim and Helix.
            """)

    mutating func run() throws {
        var server = LanguageServer()
        throw ExitCode(server.serve())
    }
}

struct LanguageServer {
    private var documents: [String: TextDocument] = [:]
    private var initialized = false
    private var shuttingDown = false
    private var input: [UInt8] = []
    private var inputStart = 0
    /// Datasets already loaded, by what the script's directives name.
    private var datasets: [String: (AccountGraph, DatasetLoader.Report)] = [:]

    /// Serves until `exit` (or the end of stdin); the process's exit code.
    mutating func serve() -> Int32 {
        while let body = readMessage() {
            guard let message = try? JSONMessage.parse(body) else {
                send(.object(["jsonrpc": .string("2.0"), "id": .null, "error": error(-32700, "parse error")]))
                continue
            }
            if message["method"]?.string == "exit" { return shuttingDown ? 0 : 1 }
            handle(message)
        }
        return shuttingDown ? 0 : 1
    }

    // MARK: framing: `Content-Length: N\r\n\r\n` then N bytes of JSONMessage

    private mutating func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { return true }
        guard n > 0 else { return false }
        if inputStart > 0 {
            input.removeFirst(inputStart)
            inputStart = 0
        }
        input += chunk[0..<n]
        return true
    }

    private mutating func readMessage() -> [UInt8]? {
        while true {
            if let end = headerEnd() {
                let header = String(decoding: input[inputStart..<end], as: UTF8.self)
                var length: Int? = nil
                for line in header.split(separator: "\r\n") {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    if parts.count == 2, parts[0].lowercased() == "content-length" {
                        length = Int(parts[1].trimmingCharacters(in: .whitespaces))
                    }
                }
                let bodyStart = end + 4
                guard let length, length >= 0 else {
                    inputStart = bodyStart
                    continue
                }
                while input.count - bodyStart < length {
                    guard fill() else { return nil }
                }
                let body = Array(input[bodyStart..<(bodyStart + length)])
                inputStart = bodyStart + length
                return body
            }
            guard fill() else { return nil }
        }
    }

    private func headerEnd() -> Int? {
        var i = inputStart
        while i + 3 < input.count {
            if input[i] == 13, input[i + 1] == 10, input[i + 2] == 13, input[i + 3] == 10 { return i }
            i += 1
        }
        return nil
    }

    private func send(_ message: JSONMessage) {
        let body = Array(message.text.utf8)
        let bytes = Array("Content-Length: \(body.count)\r\n\r\n".utf8) + body
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += n
        }
    }

    private func error(_ code: Int, _ message: String) -> JSONMessage {
        .object(["code": .number(Double(code)), "message": .string(message)])
    }

    private func respond(_ id: JSONMessage, _ result: JSONMessage) {
        send(.object(["jsonrpc": .string("2.0"), "id": id, "result": result]))
    }

    private func notify(_ method: String, _ params: JSONMessage) {
        send(.object(["jsonrpc": .string("2.0"), "method": .string(method), "params": params]))
    }

    // MARK: dispatch

    private mutating func handle(_ message: JSONMessage) {
        let method = message["method"]?.string ?? ""
        let params = message["params"]
        guard let id = message["id"] else {
            notification(method, params)
            return
        }
        if !initialized && method != "initialize" {
            send(.object(["jsonrpc": .string("2.0"), "id": id, "error": error(-32002, "the server is not initialized")]))
            return
        }
        switch method {
        case "initialize":
            initialized = true
            respond(id, .object([
                "capabilities": .object([
                    "textDocumentSync": .object(["openClose": .bool(true), "change": .number(1)]),
                    "completionProvider": .object(["triggerCharacters": .array([".", "|", " "].map(JSONMessage.string))]),
                    "hoverProvider": .bool(true),
                    "definitionProvider": .bool(true),
                    "documentFormattingProvider": .bool(true),
                ]),
                "serverInfo": .object(["name": .string("kam"), "version": .string(kamVersion)]),
            ]))
        case "shutdown":
            shuttingDown = true
            respond(id, .null)
        case "textDocument/completion": respond(id, completion(params))
        case "textDocument/hover": respond(id, hover(params))
        case "textDocument/definition": respond(id, definition(params))
        case "textDocument/formatting": respond(id, formatting(params))
        default:
            send(.object(["jsonrpc": .string("2.0"), "id": id, "error": error(-32601, "no method '\(method)'")]))
        }
    }

    private mutating func notification(_ method: String, _ params: JSONMessage?) {
        switch method {
        case "textDocument/didOpen":
            guard let doc = params?["textDocument"], let uri = doc["uri"]?.string, let text = doc["text"]?.string else { return }
            open(uri, version: doc["version"]?.int ?? 0, text: text)
        case "textDocument/didChange":
            guard let uri = params?["textDocument"]?["uri"]?.string, let text = params?["contentChanges"]?.array?.last?["text"]?.string
            else { return }
            open(uri, version: params?["textDocument"]?["version"]?.int ?? 0, text: text)
        case "textDocument/didClose":
            guard let uri = params?["textDocument"]?["uri"]?.string else { return }
            documents[uri] = nil
            notify("textDocument/publishDiagnostics", .object(["uri": .string(uri), "diagnostics": .array([])]))
        default:
            break  // initialized, $/cancelRequest, didSave, ...: nothing to do
        }
    }

    private func document(_ params: JSONMessage?) -> TextDocument? {
        params?["textDocument"]?["uri"]?.string.flatMap { documents[$0] }
    }

    static func path(of uri: String) -> String {
        guard uri.hasPrefix("file://"), let url = URL(string: uri) else { return uri }
        return url.path
    }

    // MARK: diagnostics

    private mutating func open(_ uri: String, version: Int, text: String) {
        let doc = TextDocument(uri: uri, path: Self.path(of: uri), version: version, text: text)
        documents[uri] = doc
        let problems = analyze(doc)
        notify("textDocument/publishDiagnostics", .object([
            "uri": .string(uri), "version": .number(Double(version)), "diagnostics": .array(problems.map { lspDiagnostic($0, in: doc) }),
        ]))
    }

    /// A fresh session for the document, on the dataset its directives name (loaded once).
    private mutating func session(for doc: TextDocument) -> Session {
        var options = (try? CommonOptions.parse([])) ?? CommonOptions()
        options.quiet = true
        ScriptHeader.apply(doc.text, scriptPath: doc.path, to: &options)
        let key = (options.data ?? "demo") + "\u{0}" + (options.manifest ?? "")
        if let loaded = datasets[key] {
            let session = Session()
            session.interpreter.datasetProvider = { loaded }
            if let today = options.today, let d = KamCore.Calendar.parse(Array(today.utf8)) { session.interpreter.options.today = d }
            return session
        }
        guard let driver = try? Driver(options) else { return Session() }
        // Load it now, once; later sessions get the same graph (and its load warnings).
        let interpreter = driver.session.interpreter
        if let provider = interpreter.datasetProvider, let loaded = withLargeStack({ try? provider() }) {
            datasets[key] = loaded
            interpreter.datasetProvider = { loaded }
        }
        return driver.session
    }

    private mutating func analyze(_ doc: TextDocument) -> [Diagnostic] {
        let session = session(for: doc)
        let source = doc.source
        return withLargeStack {
            do {
                let program = try Parser.parse(source)
                let problems = Checker(session.interpreter).check(program, requireParameters: false)
                let warnings = session.interpreter.warnings
                session.interpreter.warnings.removeAll()
                return problems + warnings
            } catch let list as DiagnosticList {
                return list.diagnostics
            } catch {
                return [Diagnostic(.syntax, "\(error)")]
            }
        }
    }

    private func lspDiagnostic(_ d: Diagnostic, in doc: TextDocument) -> JSONMessage {
        var message = d.message
        for hint in d.hints { message += "\nhint: " + hint }
        for note in d.notes { message += "\n" + note.trimmingCharacters(in: .whitespaces) }
        var range = JSONMessage.object(["start": doc.position(0), "end": doc.position(0)])
        if let r = d.range, d.source === doc.source || d.source?.name == doc.path {
            range = doc.range(r)
        } else if let s = d.source, let r = d.range {
            // In an imported file: say where, at the top of this one.
            let (line, column) = s.location(of: r.start)
            message = "\(s.name):\(line):\(column): " + message
        } else if let at = d.fileLocation {
            message = at + ": " + message
        }
        return .object([
            "range": range, "severity": .number(d.kind == .warning ? 2 : 1), "source": .string("kam"), "message": .string(message),
        ])
    }

    // MARK: completion, hover, definition, formatting

    /// `let`, `fn` and `param` names the document defines, with the range of each name.
    private func definitions(_ doc: TextDocument) -> [(name: String, range: SourceRange)] {
        var lexer = Lexer(doc.source)
        let tokens = lexer.tokenize().filter { $0.kind != .newline }
        var out: [(String, SourceRange)] = []
        for (i, t) in tokens.enumerated() where i + 1 < tokens.count {
            guard case .ident(let name) = tokens[i + 1].kind else { continue }
            switch t.kind {
            case .kwLet, .kwFn: out.append((name, tokens[i + 1].range))
            case .ident("param") where i == 0 || tokens[i - 1].range.end <= t.range.start: out.append((name, tokens[i + 1].range))
            default: break
            }
        }
        return out
    }

    private mutating func completion(_ params: JSONMessage?) -> JSONMessage {
        guard let doc = document(params) else { return .array([]) }
        let offset = doc.offset(params?["position"])
        let before = doc.statementPrefix(offset)
        let session = session(for: doc)
        let completer = Completer(session.interpreter)
        let prefix = String(before.reversed().prefix { $0.isLetter || $0.isNumber || $0 == "_" }.reversed())
        let (insert, candidates) = withLargeStack { completer.complete(before) }
        var names = Set(candidates.isEmpty ? (insert.isEmpty ? [] : [prefix + insert]) : candidates)
        // In a stage of a table the file binds (`let t = ...` above, then `t | where `),
        // nothing has run: the checker, over the statements before this one, knows its columns.
        let columns = boundColumns(doc, before: before, offset: offset, session: session)
            .filter { $0.hasPrefix(prefix) && $0 != prefix }
        if !columns.isEmpty { names = Set(columns) }
        let defined = definitions(doc).map(\.name)
        for name in defined where name.hasPrefix(prefix) && name != prefix { names.insert(name) }
        let entities = Set((try? session.interpreter.currentDataset())?.entities.map(\.name) ?? [])
        let items: [JSONMessage] = names.sorted().map { name in
            var item: [String: JSONMessage] = ["label": .string(name)]
            if let b = Builtins.table[name] {
                item["kind"] = .number(3)  // Function
                item["detail"] = .string(b.signature)
            } else if Completer.keywords.contains(name) {
                item["kind"] = .number(14)  // Keyword
            } else if entities.contains(name) {
                item["kind"] = .number(7)  // Class: an entity of the dataset
            } else if defined.contains(name) || session.interpreter.globals.vars[name] != nil {
                item["kind"] = .number(6)  // Variable
            } else {
                item["kind"] = .number(5)  // Field: a column or a link
            }
            return .object(item)
        }
        return .object(["isIncomplete": .bool(false), "items": .array(items)])
    }

    /// The columns and links of the table a `let` of the file binds, when the statement at
    /// the cursor pipes it into a stage; with the names the stages before the cursor add.
    private func boundColumns(_ doc: TextDocument, before: String, offset: Int, session: Session) -> [String] {
        guard before.contains("|") else { return [] }
        let head = before.trimmingCharacters(in: .whitespacesAndNewlines)
        let first = String(head.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
        guard !first.isEmpty, definitions(doc).contains(where: { $0.name == first }) else { return [] }
        let start = max(0, offset - before.utf8.count)
        let earlier = String(decoding: doc.source.bytes[0..<start], as: UTF8.self)
        return withLargeStack {
            guard let program = try? Parser.parse(Source(name: doc.path, text: earlier)) else { return [] }
            let checker = Checker(session.interpreter)
            _ = checker.check(program, requireParameters: false)
            guard case .table(let schema)? = checker.globals.vars[first] else { return [] }
            return schema.columns + checker.linkNames(schema.entity) + Completer(session.interpreter).stageNames(before)
        }
    }

    private func hover(_ params: JSONMessage?) -> JSONMessage {
        guard let doc = document(params), let (word, range) = doc.word(at: doc.offset(params?["position"])) else { return .null }
        var text = REPL.topicHelp(word)
        if text == nil, let def = definitions(doc).last(where: { $0.name == word }) {
            // The line that defines it, and the comment above it.
            let (line, _) = doc.source.location(of: def.range.start)
            var lines = [doc.source.lineText(line)]
            var above = line - 1
            while above >= 1, doc.source.lineText(above).hasPrefix("#") {
                lines.insert(doc.source.lineText(above), at: 0)
                above -= 1
            }
            text = lines.joined(separator: "\n") + "\n"
        }
        guard let text else { return .null }
        return .object([
            "contents": .object(["kind": .string("markdown"), "value": .string("```\n" + text + "```")]), "range": doc.range(range),
        ])
    }

    private func definition(_ params: JSONMessage?) -> JSONMessage {
        guard let doc = document(params) else { return .null }
        let offset = doc.offset(params?["position"])
        guard let (word, _) = doc.word(at: offset) else { return .null }
        let defs = definitions(doc).filter { $0.name == word }
        // The last definition before the use (a later `let` replaces an earlier one), else the first.
        guard let def = defs.last(where: { $0.range.start <= offset }) ?? defs.first else { return .null }
        return .object(["uri": .string(doc.uri), "range": doc.range(def.range)])
    }

    private func formatting(_ params: JSONMessage?) -> JSONMessage {
        guard let doc = document(params), let formatted = try? SourceFormatter.format(doc.text, name: doc.path),
            formatted != doc.text
        else { return .array([]) }
        let whole = JSONMessage.object(["start": doc.position(0), "end": doc.position(doc.source.bytes.count)])
        return .array([.object(["range": whole, "newText": .string(formatted)])])
    }
}
