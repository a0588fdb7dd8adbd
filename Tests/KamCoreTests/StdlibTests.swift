import Foundation
import Testing
@testable import KamCore

@Suite("standard library")
struct StdlibTests {
    @Test func everyModuleParses() {
        #expect(Stdlib.check().map { $0.render() } == [])
    }

    /// The embedded copy must match stdlib/*.kam: run scripts/gen-stdlib after editing.
    @Test func embeddedCopyIsCurrent() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = root.appendingPathComponent("stdlib")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".kam") }
        #expect(Set(files.map { String($0.dropLast(4)) }) == Set(Stdlib.modules.keys))
        for f in files {
            let text = try String(contentsOfFile: dir.appendingPathComponent(f).path, encoding: .utf8)
            #expect(Stdlib.modules[String(f.dropLast(4))] == text, "stdlib/\(f) changed: run scripts/gen-stdlib")
        }
    }

    @Test func diagnosticsRenderWideCharactersUnderTheirColumns() {
        let s = Source(name: "t.kam", text: "\"日本\" + 1")
        let d = Diagnostic(.runtime, "boom", at: SourceRange(9, 10), in: s)
        #expect(d.render() == "t.kam:1:6: error: boom\n 1 | \"日本\" + 1\n   |        ^\n")
    }
}
