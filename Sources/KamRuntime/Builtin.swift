import KamEngine
import KamData
import KamSyntax

/// A parameter of a built-in: `round(x, digits?)`.
public struct Param: Sendable {
    public var name: String
    public var optional: Bool
    public var variadic: Bool
    public init(_ spec: String) {
        variadic = spec.hasSuffix("...")
        optional = spec.hasSuffix("?") || variadic
        name = String(spec.prefix { $0 != "?" && $0 != "." })
    }
}

/// What an eager built-in sees besides its evaluated arguments.
public struct CallContext {
    public let interp: Interpreter
    public let range: SourceRange
    public let args: [Arg]
    public func fail(_ message: String, hints: [String] = []) -> Diagnostic { interp.fail(message, range, hints: hints) }
    /// The source range of argument `i`, for errors that point at one argument.
    public func argRange(_ i: Int) -> SourceRange { i < args.count ? args[i].value.range : range }
    public func failArg(_ i: Int, _ message: String, hints: [String] = []) -> Diagnostic { interp.fail(message, argRange(i), hints: hints) }
}

/// What a special built-in (a verb, an aggregate, `if`) sees: its arguments unevaluated.
public struct CallSite {
    public let interp: Interpreter
    public let args: [Arg]
    public let env: Env
    public let range: SourceRange
    public let builtin: Builtin

    public func fail(_ message: String, hints: [String] = []) -> Diagnostic { interp.fail(message, range, hints: hints) }

    public var positional: [Arg] { args.filter { $0.style == .positional && $0.clause == nil } }
    public func named(_ name: String) -> Arg? { args.first { $0.style == .named && $0.name == name } }
    public func clause(_ word: String) -> [Arg] { args.filter { $0.clause == word } }

    public func eval(_ e: Expr) throws -> Value { try interp.eval(e, env) }

    /// The stage's declared inputs resolved on the table's graph: the first problem (with
    /// the others as notes) is thrown; signals the dataset does not have are in `absent`.
    public func stageInputs(_ t: Table) throws -> StageInputs {
        guard let origin = t.origin else {
            throw fail("\(builtin.name) works on the rows of a dataset's entity", hints: ["usage: accounts | \(builtin.name)"])
        }
        var given: [String: (path: [String]?, range: SourceRange)] = [:]
        for input in builtin.inputs {
            if let a = named(input.option) { given[input.option] = (StageInputs.path(of: a.value), a.value.range) }
        }
        let r = StageInputs.resolve(builtin.inputs, stage: builtin.name, from: origin.entity, in: origin.graph, given: given)
        if let first = r.problems.first {
            var d = interp.fail(first.message, first.at ?? range, hints: first.hints)
            d.notes += r.problems.dropFirst().map { "also: " + $0.message }
            throw d
        }
        return r
    }

    /// The input table (first positional argument), or an error naming the verb.
    public func inputTable() throws -> Table {
        guard let first = positional.first else { throw fail("\(builtin.name) needs a table", hints: ["usage: \(builtin.signature)"]) }
        let v = try eval(first.value)
        return try asTable(v, first.value.range)
    }

    public func asTable(_ v: Value, _ range: SourceRange) throws -> Table {
        switch v {
        case .table(let t): return t
        case .record(let r): return Table.fromRecords([r])
        case .row(let t, let i): return t.gather([i])
        case .list(let items) where items.allSatisfy({ if case .record = $0 { true } else { false } }):
            return Table.fromRecords(items.map { if case .record(let r) = $0 { r } else { Record() } })
        default:
            throw interp.fail("\(builtin.name) needs a table, got \(v.aTypeName)", range, hints: ["usage: \(builtin.signature)"])
        }
    }

    /// Rejects named arguments the built-in does not know.
    public func checkNamed(_ allowed: [String]) throws {
        let allowed = allowed + builtin.inputs.map(\.option)
        for a in args where a.style == .named {
            if let n = a.name, !allowed.contains(n) {
                throw interp.fail("\(builtin.name) has no option '\(n)'", a.value.range,
                    hints: [Suggest.hint(n, in: allowed) ?? (allowed.isEmpty ? "\(builtin.name) takes no options" : "options: " + allowed.joined(separator: ", "))])
            }
        }
    }
}

/// A native function: its name, parameters, one-line doc and implementation. All of them
/// are listed in one table (`Builtins.table`), which `:help` and completion read.
public struct Builtin: @unchecked Sendable {
    public enum Impl {
        case eager((inout CallContext, [Value]) throws -> Value)
        case special((inout CallSite) throws -> Value)
    }
    public enum Category: String, Sendable {
        case verb, aggregate, window, string, number, date, list, conversion, null, table, control
    }
    public let name: String
    public let params: [Param]
    public let doc: String
    public let category: Category
    public let impl: Impl
    /// A column-at-a-time form of a one-argument eager built-in (year over a date column):
    /// the same values the per-row form gives, nil when it does not apply to the column.
    public typealias Vector = @Sendable (Column) -> Column?
    public private(set) var vector: Vector? = nil
    /// For a stage: the table it returns, so names after it are checked before running.
    public private(set) var output: StageOutput = .unknown
    /// For a stage: the columns it reads through links, each with the option that points
    /// it elsewhere; checked by `StageInputs.resolve` before running and when it runs.
    public private(set) var inputs: [StageInput] = []

    public init(_ name: String, _ params: [String], _ category: Category, _ doc: String, _ impl: Impl) {
        self.name = name
        self.params = params.map(Param.init)
        self.category = category
        self.doc = doc
        self.impl = impl
    }

    /// The built-in as a function value (`map(names, upper)`).
    public var value: Function { Function(name: name, body: .builtin(name: name, signature: signature, arity: params.count)) }

    /// The same built-in, with its column-at-a-time form.
    public func vectorized(_ form: @escaping Vector) -> Builtin {
        var b = self
        b.vector = form
        return b
    }

    /// The same built-in, declaring the table it returns.
    public func producing(_ output: StageOutput) -> Builtin {
        var b = self
        b.output = output
        return b
    }

    /// For an option that takes one of some words (`period: "month"`): the words, so the
    /// checker rejects a literal that is none of them before anything runs.
    public private(set) var choices: [String: [String]] = [:]

    /// The same built-in, with an option that takes one of `words`.
    public func choosing(_ option: String, from words: [String]) -> Builtin {
        var b = self
        b.choices[option] = words
        return b
    }

    /// What is said when an option's word is none of them, by the checker and when it runs.
    public static func choiceMessage(_ option: String, _ words: [String]) -> String {
        let quoted = words.map { "\"\($0)\"" }
        let list = quoted.count > 1 ? quoted.dropLast().joined(separator: ", ") + " or " + (quoted.last ?? "") : quoted.joined()
        return "\(option) must be \(list)"
    }

    /// The same stage, declaring the inputs it reads.
    public func needing(_ inputs: [StageInput]) -> Builtin {
        var b = self
        b.inputs = inputs
        return b
    }

    /// The kinds `chart` draws (`chart bar revenue by region`): one list for the checker
    /// and the stage.
    public static let chartKinds = ["bar", "line", "hist", "pareto", "lorenz"]

    /// `round(x, digits?)`, or for verbs the stage form.
    public var signature: String {
        "\(name)(\(params.map { ($0.variadic ? "" : "") + $0.name + ($0.variadic ? "..." : $0.optional ? "?" : "") }.joined(separator: ", ")))"
    }
}

/// What a stage returns, as the checker sees it.
public enum StageOutput: Sendable {
    /// The checker has no rule: names after the stage are not checked.
    case unknown
    /// The input's rows and columns, then these columns (a same-named one is replaced);
    /// links keep working.
    case adds([String])
    /// A new table of these columns, not rows of an entity.
    case table([String])
    /// A record of these fields (concentration's figures).
    case record([String])
    /// A table whose columns depend on the data (whitespace: one column per item).
    case openTable
}
