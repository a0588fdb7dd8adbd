import KamData
import KamSyntax

/// Which entities of a dataset a script can read, known from its text before any data is
/// read, so `kam run` parses only their files.
///
/// A script reaches an entity only by a name in its text: the entity's own (`orders`), a
/// link's (`account` of `account_id`, `orders` or `deals_by_owner` backwards), or a string
/// (`"orders"`). So the entities it needs are those its words name, directly or at the far
/// end of a link they name; the links and their names are the dataset's headers linked
/// (`DatasetLoader.headerGraph`), and a graph read in part is checked to have the links
/// the whole one has among its entities (`agrees`). The text
/// alone cannot tell when the script imports a module, or calls a built-in that reads
/// entities it is not given (the analytics stages follow links of their own, `has` and
/// `schema` look the dataset up by a name computed at run time): then every entity is read.
///
/// ```
/// DatasetUse.words(of: "accounts | derive rev = sum(orders.amount)")
/// // ["accounts", "derive", "rev", "sum", "orders", "amount"]
/// ```
public enum DatasetUse {
    /// The built-ins that read only the values they are given: the language's own
    /// functions, verbs, aggregates and windows, less those that look the dataset up.
    static let transparent: Set<String> = {
        let lookups: Set<String> = ["has", "load", "columns", "schema", "account", "table"]
        let core = NativeFunctions.list + Verbs.list + Aggregates.list + Windows.list
        return Set(core.map(\.name)).subtracting(lookups).subtracting(GraphFunctions.list.map(\.name))
    }()

    /// Every identifier and string in the texts (string interpolations included); nil
    /// when one imports a module or names a built-in that reads entities of its own.
    public static func words(of texts: [String]) -> Set<String>? {
        var words: Set<String> = []
        for text in texts {
            let source = Source(name: "<script>", text: text)
            var pending: [SourceRange?] = [nil]
            var depth = 0
            while let range = pending.popLast() {
                depth += 1
                // Interpolations nest; a text deeper than this is not worth the guess.
                if depth > 10_000 { return nil }
                var lexer = Lexer(source, range: range)
                let tokens = lexer.tokenize()
                for (k, token) in tokens.enumerated() {
                    switch token.kind {
                    case .kwImport: return nil
                    case .ident(let name):
                        // A field or link of that name (`order.account`) calls nothing.
                        let field = (k > 0 && tokens[k - 1].kind == .dot) || (k + 1 < tokens.count && tokens[k + 1].kind == .dot)
                        if !field && Builtins.table[name] != nil && !transparent.contains(name) { return nil }
                        words.insert(name)
                    case .string(let parts):
                        for part in parts {
                            switch part {
                            case .text(let t): words.insert(t)
                            case .expr(let r): pending.append(r)
                            }
                        }
                    case .rawString(let t): words.insert(t)
                    default: break
                    }
                }
            }
        }
        return words
    }

    /// The words of a script and of the core module every session loads.
    public static func words(of script: String) -> Set<String>? {
        words(of: [script] + (Stdlib.modules["core"].map { [$0] } ?? []))
    }

    /// The entities of the dataset (`graph`: its headers linked, no rows) the words need:
    /// those they name, the target of any forward link they name (`product` of
    /// `product_id`), and the source of any reverse link they name (`orders` of accounts,
    /// `deals_by_owner` of employees). Nil when that is all of them, or none.
    public static func entities(_ words: Set<String>, in graph: AccountGraph) -> Set<String>? {
        var needed: Set<String> = []
        for e in graph.entities {
            if words.contains(e.name) { needed.insert(e.name) }
            for f in e.forward where words.contains(f.name) { needed.insert(graph.entities[f.target].name) }
            for r in e.reverse where words.contains(r.name) { needed.insert(graph.entities[r.source].name) }
        }
        return needed.count == graph.entities.count || needed.isEmpty ? nil : needed
    }

    /// Whether a graph of some of the entities has the links the whole dataset has among
    /// them, by the same names (`headers`: `entities(_:in:)`'s graph). A link named after
    /// what else is in the dataset would otherwise point elsewhere, or be named otherwise.
    public static func agrees(_ some: AccountGraph, with headers: AccountGraph) -> Bool {
        let loaded = Set(some.entities.map(\.name))
        func links(_ g: AccountGraph, _ e: AccountGraph.Entity) -> [String] {
            let forward = e.forward.map { "\($0.name) -> \(g.entities[$0.target].name)" }
            let reverse = e.reverse.map { "\($0.name) <- \(g.entities[$0.source].name)" }
            return (forward + reverse).sorted()
        }
        for e in some.entities {
            guard let h = headers.entity(e.name) else { return false }
            let whole = links(headers, h).filter { link in loaded.contains(String(link.split(separator: " ").last ?? "")) }
            if links(some, e) != whole { return false }
        }
        return true
    }
}
