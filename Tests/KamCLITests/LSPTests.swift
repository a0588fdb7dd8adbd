import Foundation
import Testing

/// `kam lsp` driven as an editor drives it: JSON-RPC messages framed by Content-Length
/// over the real binary's stdin and stdout.
@Suite("kam lsp")
struct LSPTests {
    /// A minimal LSP client: sends requests and notifications, reads what the server sends.
    final class Client {
        let process = Process()
        let input = Pipe(), output = Pipe()
        var buffer = Data()
        var nextID = 1

        init() throws {
            process.executableURL = URL(fileURLWithPath: Binary.path)
            process.arguments = ["lsp"]
            var environment = ProcessInfo.processInfo.environment
            environment["XDG_CACHE_HOME"] = Binary.cacheHome
            process.environment = environment
            process.standardInput = input
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            // A server that hangs must not hang the suite.
            let p = process
            DispatchQueue.global().asyncAfter(deadline: .now() + 60) { if p.isRunning { p.terminate() } }
        }

        func send(_ message: [String: Any]) throws {
            var m = message
            m["jsonrpc"] = "2.0"
            let body = try JSONSerialization.data(withJSONObject: m)
            input.fileHandleForWriting.write(Data("Content-Length: \(body.count)\r\n\r\n".utf8) + body)
        }

        func notify(_ method: String, _ params: [String: Any]) throws { try send(["method": method, "params": params]) }

        /// Sends a request and returns its response (notifications before it are kept for `next`).
        func request(_ method: String, _ params: [String: Any] = [:]) throws -> [String: Any] {
            let id = nextID
            nextID += 1
            try send(["id": id, "method": method, "params": params])
            while true {
                let m = try next()
                if m["id"] as? Int == id { return m }
            }
        }

        /// The next message from the server.
        func next() throws -> [String: Any] {
            while true {
                if let end = buffer.range(of: Data("\r\n\r\n".utf8)) {
                    let header = String(decoding: buffer[buffer.startIndex..<end.lowerBound], as: UTF8.self)
                    let length = Int(header.components(separatedBy: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0
                    if buffer.count - (end.upperBound - buffer.startIndex) >= length {
                        let body = buffer[end.upperBound..<(end.upperBound + length)]
                        buffer = Data(buffer[(end.upperBound + length)...])
                        return try JSONSerialization.jsonObject(with: body) as? [String: Any] ?? [:]
                    }
                }
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { throw CocoaError(.fileReadUnknown) }
                buffer += chunk
            }
        }

        /// The next publishDiagnostics notification's diagnostics.
        func diagnostics() throws -> [[String: Any]] {
            while true {
                let m = try next()
                if m["method"] as? String == "textDocument/publishDiagnostics" {
                    return (m["params"] as? [String: Any])?["diagnostics"] as? [[String: Any]] ?? []
                }
            }
        }
    }

    static func range(_ d: [String: Any]?) -> [Int] {
        let r = d?["range"] as? [String: Any]
        let s = r?["start"] as? [String: Any], e = r?["end"] as? [String: Any]
        return [s?["line"], s?["character"], e?["line"], e?["character"]].map { $0 as? Int ?? -1 }
    }

    @Test func anEditorSessionOpenChangeCompleteHoverDefinitionFormat() throws {
        let client = try Client()
        let uri = "file:///tmp/kam-lsp-test/plan.kam"

        // A request before initialize is refused.
        let early = try client.request("textDocument/hover", ["textDocument": ["uri": uri], "position": ["line": 0, "character": 0]])
        #expect((early["error"] as? [String: Any])?["code"] as? Int == -32002)

        let initialized = try client.request("initialize", ["processId": NSNull(), "capabilities": [:]])
        let capabilities = (initialized["result"] as? [String: Any])?["capabilities"] as? [String: Any]
        #expect(capabilities?["hoverProvider"] as? Bool == true)
        #expect(capabilities?["definitionProvider"] as? Bool == true)
        #expect(capabilities?["documentFormattingProvider"] as? Bool == true)
        #expect(capabilities?["completionProvider"] != nil)
        try client.notify("initialized", [:])

        // Open: the checker's error, with its range and hint.
        try client.notify("textDocument/didOpen", [
            "textDocument": ["uri": uri, "languageId": "kam", "version": 1, "text": "accounts | where revenu > 1\n"]
        ])
        let opened = try client.diagnostics()
        #expect(opened.count == 1)
        #expect((opened.first?["message"] as? String)?.hasPrefix("unknown name 'revenu'\nhint: columns here: id, name") == true)
        #expect(Self.range(opened.first) == [0, 17, 0, 23])
        #expect(opened.first?["severity"] as? Int == 1)

        // Change: columns count UTF-16 units (the emoji is two), and a syntax error is reported too.
        let text = """
            let s = "😀"; s + undefined_name
            fn double(x) = x * 2
            double(21)
            accounts|where reg
            round(1.5)

            """
        try client.notify("textDocument/didChange", [
            "textDocument": ["uri": uri, "version": 2], "contentChanges": [["text": text]],
        ])
        let changed = try client.diagnostics()
        let messages = changed.compactMap { $0["message"] as? String }
        #expect(messages.contains { $0.hasPrefix("unknown name 'undefined_name'") })
        #expect(Self.range(changed.first { ($0["message"] as? String)?.contains("undefined_name") == true }) == [0, 18, 0, 32])
        #expect(messages.contains { $0.hasPrefix("unknown name 'reg'\nhint: did you mean 'region'?") })

        // Completion: the columns of the stage's table.
        let completion = try client.request("textDocument/completion", [
            "textDocument": ["uri": uri], "position": ["line": 3, "character": 18],
        ])
        let items = ((completion["result"] as? [String: Any])?["items"] as? [[String: Any]]) ?? []
        #expect(items.compactMap { $0["label"] as? String } == ["region"])
        let functions = try client.request("textDocument/completion", [
            "textDocument": ["uri": uri], "position": ["line": 4, "character": 3],
        ])
        let rounds = ((functions["result"] as? [String: Any])?["items"] as? [[String: Any]]) ?? []
        #expect(rounds.contains { $0["label"] as? String == "round" && $0["detail"] as? String == "round(x, digits?)" })

        // A table the file binds: the checker knows its columns, and those a stage adds.
        try client.notify("textDocument/didChange", [
            "textDocument": ["uri": uri, "version": 3],
            "contentChanges": [["text": "let t = accounts | derive revenue = sum(orders.amount)\nt | derive big = revenue > 1 | where re"]],
        ])
        _ = try client.diagnostics()
        let bound = try client.request("textDocument/completion", [
            "textDocument": ["uri": uri], "position": ["line": 1, "character": 39],
        ])
        let boundItems = ((bound["result"] as? [String: Any])?["items"] as? [[String: Any]]) ?? []
        #expect(boundItems.compactMap { $0["label"] as? String } == ["region", "revenue"])
        let added = try client.request("textDocument/completion", [
            "textDocument": ["uri": uri], "position": ["line": 1, "character": 37],
        ])
        let addedItems = ((added["result"] as? [String: Any])?["items"] as? [[String: Any]]) ?? []
        #expect(addedItems.compactMap { $0["label"] as? String }.contains("big"))
        try client.notify("textDocument/didChange", [
            "textDocument": ["uri": uri, "version": 4], "contentChanges": [["text": text]],
        ])
        _ = try client.diagnostics()

        // Hover: a built-in's help, the text of :help; a function of the file, its definition.
        let hover = try client.request("textDocument/hover", ["textDocument": ["uri": uri], "position": ["line": 4, "character": 2]])
        let contents = ((hover["result"] as? [String: Any])?["contents"] as? [String: Any])?["value"] as? String
        #expect(
            contents == "```\nround(x, digits?)  [number]\n  Round half away from zero; with digits, to that many decimals (a float).\n```")
        let own = try client.request("textDocument/hover", ["textDocument": ["uri": uri], "position": ["line": 2, "character": 1]])
        #expect(((own["result"] as? [String: Any])?["contents"] as? [String: Any])?["value"] as? String == "```\nfn double(x) = x * 2\n```")

        // Go to definition: the name in `fn double`.
        let definition = try client.request("textDocument/definition", [
            "textDocument": ["uri": uri], "position": ["line": 2, "character": 3],
        ])
        let location = definition["result"] as? [String: Any]
        #expect(location?["uri"] as? String == uri)
        #expect(Self.range(location) == [1, 3, 1, 9])

        // Formatting: one edit, the whole document in kam fmt's layout.
        let formatting = try client.request("textDocument/formatting", [
            "textDocument": ["uri": uri], "options": ["tabSize": 2, "insertSpaces": true],
        ])
        let edits = formatting["result"] as? [[String: Any]] ?? []
        #expect(edits.count == 1)
        #expect(edits.first?["newText"] as? String == text.replacingOccurrences(of: "accounts|where", with: "accounts | where"))
        #expect(Self.range(edits.first) == [0, 0, 5, 0])

        // An unknown method is an error; shutdown then exit ends the process with 0.
        let unknown = try client.request("textDocument/rename", [:])
        #expect((unknown["error"] as? [String: Any])?["code"] as? Int == -32601)
        let shutdown = try client.request("shutdown")
        #expect(shutdown["result"] is NSNull)
        try client.notify("exit", [:])
        client.process.waitUntilExit()
        #expect(client.process.terminationStatus == 0)
    }

    @Test func closingADocumentClearsItsDiagnosticsAndExitWithoutShutdownIsOne() throws {
        let client = try Client()
        _ = try client.request("initialize", ["capabilities": [:]])
        // A body that is not JSON is answered with a parse error, and the server goes on.
        client.input.fileHandleForWriting.write(Data("Content-Length: 9\r\n\r\n{\"id\": 1,".utf8))
        let bad = try client.next()
        #expect((bad["error"] as? [String: Any])?["code"] as? Int == -32700)
        let uri = "file:///tmp/kam-lsp-test/other.kam"
        try client.notify("textDocument/didOpen", ["textDocument": ["uri": uri, "version": 1, "text": "let x = (1 +\n"]])
        let opened = try client.diagnostics()
        #expect(opened.compactMap { $0["message"] as? String }.first?.hasPrefix("unexpected end of input") == true)
        try client.notify("textDocument/didClose", ["textDocument": ["uri": uri]])
        #expect(try client.diagnostics().isEmpty)
        try client.notify("exit", [:])
        client.process.waitUntilExit()
        #expect(client.process.terminationStatus == 1)
    }
}
