import KamData
import KamSyntax

/// Which entities of a dataset a script can read, known from its text before any data is
/// read, so `kam run` parses only their files.
///
/// A script reaches an entity only by a name in its text: the entity's own (`orders`), a
/// link's (`account` of `account_id`, `orders` backwards), or a string (`"orders"`). So the
/// entities it needs are those its words name, directly or as a link's target. The text
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
                for token in lexer.tokenize() {
                    switch token.kind {
                    case .kwImport: return nil
                    case .ident(let name):
                        if Builtins.table[name] != nil && !transparent.contains(name) { return nil }
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

    /// The entities among `entities` the words need: those they name, and the target of
    /// any link they name (`account` is accounts, `owner` employees, as the linker reads
    /// `account_id` and `owner_id`). Nil when that is all of them.
    public static func entities(_ words: Set<String>, of entities: [String]) -> Set<String>? {
        let names = Set(entities)
        var needed = names.intersection(words)
        for w in words {
            // The same entity (parent, reports_to) is needed already when it is walked.
            if let target = Linker.target(of: w, from: "", in: names), !target.isEmpty { needed.insert(target) }
        }
        return needed == names || needed.isEmpty ? nil : needed
    }
}
