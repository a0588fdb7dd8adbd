import KamEngine
import KamData
import KamSyntax

/// The standard library: modules written in kam (stdlib/*.kam), embedded at build time by
/// scripts/gen-stdlib. `core` is loaded into every session; the others by `import NAME`.
public enum Stdlib {
    public static var modules: [String: String] { sources }

    /// Parses every module; returns the diagnostics of those that do not parse.
    public static func check() -> [Diagnostic] {
        var problems: [Diagnostic] = []
        for (name, text) in sources.sorted(by: { $0.key < $1.key }) {
            do { _ = try Parser.parse(Source(name: "stdlib/\(name).kam", text: text)) } catch { problems += error.diagnostics }
        }
        return problems
    }
}
