import Foundation
import KamCore
import Testing

/// The editor set-ups docs/EDITORS.md points at: each one parses and starts `kam lsp`.
@Suite("editor set-ups")
struct EditorConfigTests {
    static func file(_ path: String) throws -> String {
        try String(contentsOf: Binary.packageRoot.appendingPathComponent("editors/" + path), encoding: .utf8)
    }

    @Test func vscodeExtensionNamesTheLanguageTheGrammarAndTheServer() throws {
        let package = try #require(
            try JSONSerialization.jsonObject(with: Data(Self.file("vscode/package.json").utf8)) as? [String: Any])
        let contributes = try #require(package["contributes"] as? [String: Any])
        let language = try #require((contributes["languages"] as? [[String: Any]])?.first)
        #expect(language["id"] as? String == "kam")
        #expect(language["extensions"] as? [String] == [".kam"])
        let grammar = try #require((contributes["grammars"] as? [[String: Any]])?.first)
        #expect(grammar["scopeName"] as? String == (try GrammarTests.grammar())["scopeName"] as? String)
        // Packaging copies the grammar in beside the extension.
        #expect((package["scripts"] as? [String: Any])?["prepackage"] as? String == "cp ../kam.tmLanguage.json .")
        #expect(grammar["path"] as? String == "./kam.tmLanguage.json")
        let configuration = try JSONSerialization.jsonObject(with: Data(Self.file("vscode/language-configuration.json").utf8))
        #expect(((configuration as? [String: Any])?["comments"] as? [String: Any])?["lineComment"] as? String == "#")
        #expect(try Self.file("vscode/extension.js").contains(#"{ command, args: ["lsp"] }"#))
    }

    @Test func helixRunsTheServer() throws {
        var reader = TOMLReader(try Self.file("helix/languages.toml"))
        let config = try reader.parse()
        guard case .list(let languages)? = config["language"], case .record(let kam)? = languages.first,
            case .record(let servers)? = config["language-server"], case .record(let server)? = servers["kam"]
        else {
            Issue.record("editors/helix/languages.toml has no kam language and server")
            return
        }
        #expect(kam["file-types"].map { Format.literal($0) } == #"["kam"]"#)
        #expect(kam["language-servers"].map { Format.literal($0) } == #"["kam"]"#)
        #expect(server["command"].map { Format.plain($0) } == "kam")
        #expect(server["args"].map { Format.literal($0) } == #"["lsp"]"#)
    }

    @Test func neovimRunsTheServer() throws {
        let lua = try Self.file("neovim/kam.lua")
        #expect(lua.contains(#"cmd = { "kam", "lsp" }"#))
        #expect(lua.contains(#"vim.filetype.add({ extension = { kam = "kam" } })"#))
    }
}
