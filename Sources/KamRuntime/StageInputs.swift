import KamData
import KamEngine
import KamSyntax

/// A column a stage reads beyond its input's own: reached from the input's rows through
/// links (`orders.amount` from accounts), with a default path that fits the standard
/// entities and a named option that points it elsewhere (`health revenue: lines.total`).
///
/// One check resolves them, for the checker before anything runs and for the stage when
/// it runs: a missing input is an error that says what is missing and how to supply it;
/// a signal the dataset legitimately lacks (no surveys at all) is reported as absent.
public struct StageInput: Sendable {
    /// The named option that points the input elsewhere.
    public var option: String
    /// Links from the stage's rows, then a column.
    public var path: [String]
    /// What the stage uses it for, for messages ("the revenue trend").
    public var purpose: String
    /// The signal that goes unassessed when a link on the default path is not in the
    /// dataset; nil when the stage cannot run without it.
    public var signal: String?
    /// Whether a missing column (the link is there) also leaves the signal unassessed,
    /// instead of being an error (orders without cost: no margin signal).
    public var optionalColumn: Bool
    /// Inputs of one group are read from the same rows (an order's amount with its date).
    public var group: String?
    /// The values it must hold.
    public var expects: Expect
    /// Read per person at the account: the path starts with a reverse link (contacts).
    public var perPerson = false
    /// Other default paths, tried in turn when a link of the first is not in the dataset
    /// (surveys of the account, else of its contacts).
    public var alternatives: [[String]] = []

    public enum Expect: Sendable {
        /// `fraction`: numbers from 0 to 1 (a discount of 5% is 0.05); `dateOrFlag`: a
        /// date (when it happened) or true/false, null meaning not (yet).
        case any, number, date, fraction, dateOrFlag
    }

    /// The same input, read per person.
    public func perPersonInput() -> StageInput {
        var i = self
        i.perPerson = true
        return i
    }

    /// The same input, with other default paths.
    public func or(_ paths: String...) -> StageInput {
        var i = self
        i.alternatives = paths.map { $0.split(separator: ".").map(String.init) }
        return i
    }

    public init(_ option: String, _ path: String, for purpose: String, expects: Expect = .any, signal: String? = nil,
                optionalColumn: Bool = false, group: String? = nil) {
        self.expects = expects
        self.option = option
        self.path = path.split(separator: ".").map(String.init)
        self.purpose = purpose
        self.signal = signal
        self.optionalColumn = optionalColumn
        self.group = group
    }
}

/// An input resolved on a graph: the links to follow and the column at their end.
public struct ResolvedInput {
    public enum Step {
        case forward(AccountGraph.ForwardLink)
        case reverse(AccountGraph.ReverseLink)
    }
    public var steps: [Step]
    public var entity: Int
    public var column: Column
    public var path: [String]

    /// The rows of the input's entity that row `r` of the stage's entity reaches; with
    /// `depth`, `r` is a row of the entity that many links along (a contact, for
    /// contacts.relationships.strength at depth 1).
    public func rows(from r: Int, depth: Int = 0) -> [Int] { rows(from: r, steps: steps.indices.dropFirst(depth)) }

    /// The rows the links `taken` (indexes into `steps`, in order) reach from row `r`.
    func rows(from r: Int, steps taken: Range<Int>) -> [Int] {
        var current = [r]
        for s in taken {
            var next: [Int] = []
            // A link's arrays are taken once per step, not once per row they give.
            switch steps[s] {
            case .forward(let l):
                let targets = l.rows
                for x in current where targets[x] >= 0 { next.append(Int(targets[x])) }
            case .reverse(let l):
                let offsets = l.offsets, sources = l.rows
                for x in current {
                    for k in Int(offsets[x])..<Int(offsets[x + 1]) { next.append(Int(sources[k])) }
                }
            }
            current = next
        }
        return current
    }

    /// The rows the last link reaches, one list per row before it (for each contact of an
    /// account, our relationships with them).
    public func rowsByParent(from r: Int) -> [[Int]] {
        guard let last = steps.last else { return [[r]] }
        let parents = rows(from: r, steps: 0..<steps.count - 1)
        switch last {
        case .forward(let l):
            let targets = l.rows
            return parents.map { x in targets[x] >= 0 ? [Int(targets[x])] : [] }
        case .reverse(let l):
            let offsets = l.offsets, sources = l.rows
            return parents.map { x in (Int(offsets[x])..<Int(offsets[x + 1])).map { Int(sources[$0]) } }
        }
    }

    /// The people an account has, each with the rows that say we know them: through two
    /// links (contacts.relationships.x) a contact with at least one relationship; through
    /// one (contacts.x) a contact whose value is there.
    public func people(from r: Int) -> [[Int]] {
        if steps.count <= 1 { return rows(from: r).filter { column.isValid($0) && !value($0).isNull }.map { [$0] } }
        return rowsByParent(from: r).filter { !$0.isEmpty }
    }

    /// The same path one link shorter: its rows are those the last link starts from.
    public func droppingLastStep() -> ResolvedInput {
        ResolvedInput(steps: Array(steps.dropLast()), entity: entity, column: column, path: path)
    }

    /// The value at row `row`, null past the end.
    public func value(_ row: Int) -> Value { row >= 0 && row < column.count ? column.value(at: row) : .null }

    /// The value at the input's row `row` as a number, nil for null or a non-number.
    public func number(_ row: Int) -> Double? { column.isValid(row) ? column.value(at: row).asDouble : nil }

    /// `number(row)` for every row of the column, typed columns read without boxing.
    public func numbers() -> [Double?] {
        let n = column.count
        switch column.storage {
        case .float(let a): return (0..<n).map { column.isValid($0) ? a[$0] : nil }
        case .int(let a): return (0..<n).map { column.isValid($0) ? Double(a[$0]) : nil }
        default: return (0..<n).map { number($0) }
        }
    }

    /// `numbers()` as one array of doubles and the rows that hold a number (`valid`, nil
    /// when every row does; a value where it is false is 0): a float column's own array,
    /// not a copy, and no optional per row.
    public func doubles() -> (values: [Double], valid: Bitmap?) {
        switch column.storage {
        case .float(let a): return (a, column.validity)
        case .int(let a): return (a.map(Double.init), column.validity)
        default: return Bitmap.split(numbers())
        }
    }

    /// `date(row)` for every row of the column, a date column read without boxing.
    public func dates() -> [Int?] {
        let n = column.count
        if case .date(let a) = column.storage { return (0..<n).map { column.isValid($0) ? Int(a[$0]) : nil } }
        return (0..<n).map { date($0) }
    }

    /// How many rows `rows(from: r)` gives, without making the list when the last link is
    /// a reverse one.
    public func count(from r: Int) -> Int {
        guard case .reverse(let last)? = steps.last else { return rows(from: r).count }
        let offsets = last.offsets
        var n = 0
        for x in rows(from: r, steps: 0..<steps.count - 1) { n += Int(offsets[x + 1] - offsets[x]) }
        return n
    }

    /// `count(from:)` as a function that takes the links' arrays once, for a loop over
    /// every row: no list of rows is made when every link is a reverse one (an account's
    /// contacts' interactions).
    public func counter() -> (Int) -> Int {
        if steps.count == 1, case .reverse(let l) = steps[0] {
            let offsets = l.offsets
            return { r in Int(offsets[r + 1] - offsets[r]) }
        }
        if steps.count == 2, case .reverse(let a) = steps[0], case .reverse(let b) = steps[1] {
            let outer = a.offsets, middle = a.rows, inner = b.offsets
            return { r in
                var n = 0
                for k in Int(outer[r])..<Int(outer[r + 1]) {
                    let x = Int(middle[k])
                    n += Int(inner[x + 1] - inner[x])
                }
                return n
            }
        }
        return { r in self.count(from: r) }
    }

    /// The value as a day number, nil unless a date.
    public func date(_ row: Int) -> Int? { if case .date(let d) = column.value(at: row) { Int(d) } else { nil } }
}

/// The first row whose number lies outside 0...1 (nulls and non-numbers pass), a typed
/// column read without boxing.
func firstOutsideZeroToOne(_ column: Column) -> Int? {
    switch column.storage {
    case .float(let a):
        for i in a.indices where (a[i] < 0 || a[i] > 1) && column.isValid(i) { return i }
        return nil
    case .int(let a):
        for i in a.indices where (a[i] < 0 || a[i] > 1) && column.isValid(i) { return i }
        return nil
    default:
        return (0..<column.count).first { column.value(at: $0).asDouble.map { $0 < 0 || $0 > 1 } ?? false }
    }
}

/// What resolving a stage's inputs gave: the inputs found, the signals the dataset does not
/// have, and the problems (each with where to point: the option's range, or nil for the
/// stage's own call).
public struct StageInputs {
    public var found: [String: ResolvedInput] = [:]
    /// "NPS: no surveys" for each signal not assessed, in the order the stage lists them.
    public var absent: [String] = []
    public var problems: [(message: String, hints: [String], at: SourceRange?)] = []

    public subscript(_ option: String) -> ResolvedInput? { found[option] }

    /// A signal not assessed, and why; signals missing for one reason are told together
    /// ("revenue, discount, margin: no orders").
    mutating func addAbsent(_ signal: String, _ reason: String) {
        if absent.contains(where: { $0.hasPrefix(signal + ":") || $0.hasPrefix(signal + ", ") || $0.contains(", \(signal),") || $0.contains(", \(signal):") }) { return }
        if let k = absent.firstIndex(where: { $0.hasSuffix(": " + reason) }) {
            absent[k] = String(absent[k].dropLast(reason.count + 2)) + ", \(signal): " + reason
        } else {
            absent.append("\(signal): \(reason)")
        }
    }

    /// `a.b.c` as its names, or nil for any other expression.
    public static func path(of e: Expr) -> [String]? {
        switch e.kind {
        case .name(let n): return [n]
        case .member(let base, let field): return path(of: base).map { $0 + [field] }
        default: return nil
        }
    }

    /// The one requirement check. `given` maps options to the paths written for them.
    /// (An input moved with its group reports at the option that moved it.)
    public static func resolve(_ inputs: [StageInput], stage: String, from entity: Int, in graph: AccountGraph,
                               given: [String: (path: [String]?, range: SourceRange)]) -> StageInputs {
        var out = StageInputs()
        let root = graph.entities[entity]
        // An option that points one input of a group elsewhere moves the whole group: with
        // revenue: lines.net, the date is lines.date unless date: says otherwise.
        var bases: [String: [String]] = [:]
        // (Only an input the group cannot do without moves it: cost: alone is checked
        // against where the revenue is read.)
        for input in inputs where !input.optionalColumn {
            guard let g = input.group, bases[g] == nil, let p = given[input.option]?.path, p.count > 1 else { continue }
            bases[g] = Array(p.dropLast())
        }
        func groupRange(_ input: StageInput) -> SourceRange? {
            inputs.first { $0.group == input.group && given[$0.option]?.path != nil }.flatMap { given[$0.option]?.range }
        }
        // The options written first: an input moved with its group is only told about when
        // the option that moved it resolved (one mistake, one error).
        var failedOptions = Set<String>()
        let ordered = inputs.filter { given[$0.option] != nil } + inputs.filter { given[$0.option] == nil }
        for input in ordered {
            let problemsBefore = out.problems.count
            defer { if out.problems.count > problemsBefore { failedOptions.insert(input.option) } }
            if given[input.option] == nil, let g = input.group,
               inputs.contains(where: { $0.group == g && given[$0.option] != nil && failedOptions.contains($0.option) }) {
                continue
            }
            let explicit = given[input.option]
            let moved = explicit == nil ? input.group.flatMap { bases[$0] }.map { $0 + [input.path[input.path.count - 1]] } : nil
            if let e = explicit, e.path == nil {
                out.problems.append(("\(stage)'s \(input.option): needs a path of links and a column, such as \(input.path.joined(separator: "."))",
                    ["\(input.option) is read through links from each row of \(root.name): \(stage) \(input.option): \(input.path.joined(separator: "."))"], e.range))
                continue
            }
            // The first default path whose links are all there (else the first, to say so).
            func linksThere(_ p: [String]) -> Bool {
                var e = root
                for name in p.dropLast() {
                    if let l = e.reverseLink(name) { e = graph.entities[l.source] } else if let l = e.forwardLink(name) { e = graph.entities[l.target] } else { return false }
                }
                return true
            }
            let fallback = ([input.path] + input.alternatives).first(where: linksThere) ?? input.path
            let path = explicit?.path ?? moved ?? fallback
            // Pointed by the user (this option, or another of its group): what is missing is
            // an error, not an absent signal, except a column that is optional.
            let pointed = explicit != nil || moved != nil
            var steps: [ResolvedInput.Step] = []
            var current = root
            var failed = false
            let usage = "point \(stage) elsewhere with \(input.option): LINK.COLUMN"
            for name in path.dropLast() {
                if let l = current.reverseLink(name) {
                    steps.append(.reverse(l))
                    current = graph.entities[l.source]
                } else if let l = current.forwardLink(name) {
                    steps.append(.forward(l))
                    current = graph.entities[l.target]
                } else {
                    failed = true
                    if !pointed, let signal = input.signal {
                        out.addAbsent(signal, "no \(name)")
                    } else {
                        let links = current.linkNames
                        out.problems.append(("\(stage) needs \(path.joined(separator: ".")) for \(input.purpose), but \(current.name) has no link '\(name)'",
                            [Suggest.hint(name, in: links) ?? (links.isEmpty ? "\(current.name) has no links" : "links of \(current.name): " + links.joined(separator: ", ")),
                             !pointed ? "load \(name) with a column linking it to \(current.name) (\(current.name.hasSuffix("s") ? String(current.name.dropLast()) : current.name)_id), or \(usage)"
                                : "write a path of links from \(root.name), then a column"], explicit?.range ?? groupRange(input)))
                    }
                    break
                }
            }
            if failed { continue }
            guard let columnName = path.last, let column = current.table.column(columnName) else {
                let c = path.last ?? ""
                if explicit == nil, input.optionalColumn, let signal = input.signal {
                    out.addAbsent(signal, "\(current.name) have no \(c)")
                } else {
                    out.problems.append(("\(stage) needs \(path.joined(separator: ".")) for \(input.purpose), but \(current.name) has no column '\(c)'",
                        [Suggest.hint(c, in: current.table.names) ?? "columns of \(current.name): " + current.table.names.prefix(20).joined(separator: ", "),
                         !pointed ? "rename the column that holds it in the manifest (columns = { TheirName = \"\(c)\" }), or \(usage)"
                            : explicit == nil ? "\(input.option) follows the other options of its group; point \(input.option): at a column of \(current.name)" : "name a column of \(current.name)"],
                        explicit?.range ?? groupRange(input)))
                }
                continue
            }
            if input.perPerson, let first = steps.first, case .forward = first {
                out.problems.append(("\(stage) reads \(input.option) per person at each \(root.name.hasSuffix("s") ? String(root.name.dropLast()) : root.name), but \(path.joined(separator: ".")) starts with a link to one row",
                    ["start the path with the account's people: \(input.option): \(input.path.joined(separator: "."))"], explicit?.range ?? groupRange(input)))
                continue
            }
            // A column of nulls only (or none) holds anything.
            let values = (0..<column.count).lazy.map { column.value(at: $0) }
            let holds: Bool
            switch input.expects {
            case .any: holds = true
            case .number: holds = column.type == .int || column.type == .float || values.allSatisfy { $0.isNull || $0.asDouble != nil }
            case .date: holds = column.type == .date || values.allSatisfy { v in if case .date = v { true } else { v.isNull } }
            case .fraction: holds = column.type == .int || column.type == .float || values.allSatisfy { $0.isNull || $0.asDouble != nil }
            case .dateOrFlag:
                holds = column.type == .date || column.type == .bool || values.allSatisfy { v in
                    switch v {
                    case .null, .date, .bool: return true
                    case .int(let x): return x == 0 || x == 1
                    default: return false
                    }
                }
            }
            if holds, input.expects == .fraction, let bad = firstOutsideZeroToOne(column) {
                let row = bad
                let label = current.table.column("id").map { "\(current.name) \(Format.literal($0.value(at: row), depth: 1))" } ?? "row \(row + 1) of \(current.name)"
                out.problems.append(("\(stage) needs \(path.joined(separator: ".")) as a fraction from 0 to 1 for \(input.purpose) (0.05 for 5%), but \(label) has \(Format.plain(column.value(at: row)))",
                    [explicit == nil ? "a percentage? derive the fraction in the manifest: [entities.\(current.name).derive] \(path.last ?? "") = \"\(path.last ?? "")_pct / 100\""
                        : "point \(input.option): at a column of fractions"], explicit?.range))
                continue
            }
            if !holds {
                let what = input.expects == .date ? "dates" : input.expects == .dateOrFlag ? "dates or true/false" : "numbers"
                out.problems.append(("\(stage) needs \(path.joined(separator: ".")) to hold \(what) for \(input.purpose), but it holds \(column.type.rawValue) values",
                    [input.expects == .dateOrFlag ? "derive a flag in the manifest: [entities.\(current.name).derive] \(path.last ?? "") = \"\(path.last ?? "") == 'Y'\" (a date or true: paid; null or false: not)"
                        : explicit == nil ? "declare its type in the manifest: [entities.\(current.name)] types = { \(path.last ?? "") = \"\(input.expects == .number ? "float" : "date")\" }"
                        : "point \(input.option): at a column of \(what)"],
                    explicit?.range))
                continue
            }
            out.found[input.option] = ResolvedInput(steps: steps, entity: graph.byName[current.name] ?? 0, column: column, path: path)
        }
        // One group's inputs come from the same rows.
        for input in inputs {
            guard let group = input.group, let r = out.found[input.option] else { continue }
            guard let first = inputs.first(where: { $0.group == group && out.found[$0.option] != nil }), first.option != input.option,
                  let f = out.found[first.option] else { continue }
            if f.path.dropLast() != r.path.dropLast() {
                out.problems.append(("\(stage) reads \(first.option) and \(input.option) from the same rows, but \(first.option) is \(f.path.joined(separator: ".")) and \(input.option) is \(r.path.joined(separator: "."))",
                    ["point both through the same links: \(input.option): \(f.path.dropLast().joined(separator: ".")).\(r.path.last ?? "")"], given[input.option]?.range ?? given[first.option]?.range))
            }
        }
        return out
    }
}
