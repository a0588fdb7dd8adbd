import KamRuntime
import KamEngine
import KamData
import KamSyntax

/// Shared helpers for the analytics stages.
extension CallSite {
    /// A numeric column of `t` by name, as doubles (nil for null); an error with the near
    /// names when it is missing, or when it is not numeric.
    func numbers(_ t: Table, column name: String, at range: SourceRange, role: String) throws -> [Double?] {
        guard let c = t.column(name) else {
            throw interp.fail("no column '\(name)' for \(role)", range,
                hints: [Suggest.hint(name, in: t.names) ?? "columns: " + t.names.prefix(20).joined(separator: ", ")])
        }
        return try numbers(c, name: name, at: range, role: role)
    }

    func numbers(_ c: Column, name: String, at range: SourceRange, role: String) throws -> [Double?] {
        switch c.storage {
        case .int(let xs): return xs.enumerated().map { c.isValid($0.offset) ? Double($0.element) : nil }
        case .float(let xs): return xs.enumerated().map { c.isValid($0.offset) ? $0.element : nil }
        case .values(let vs) where vs.allSatisfy({ $0.isNull || $0.asDouble != nil }):
            return vs.map(\.asDouble)
        default:
            throw interp.fail("'\(name)' is not numeric (it holds \(c.type.rawValue) values), so it cannot be used for \(role)", range,
                hints: ["derive a number first, e.g. derive \(name)_n = ..."])
        }
    }

    /// Shares of a total need values of 0 or more (abc, concentration, lose): one rule for
    /// all three, an error naming the first account below zero and how many there are.
    func requireNonNegative(_ xs: [Double?], in t: Table, name: String, at range: SourceRange, role: String) throws {
        let negative = xs.indices.filter { (xs[$0] ?? 0) < 0 }
        guard let first = negative.first, let x = xs[first] else { return }
        // The account by name; a row with only an id by its entity and id ("order 4").
        let entity = t.origin.map { $0.graph.entities[$0.entity].name }
        let singular = entity.map { $0.hasSuffix("s") ? String($0.dropLast()) + " " : $0 + " " } ?? ""
        let label = t.column("name").map { Format.plain($0.value(at: first)) }
            ?? t.column("id").map { singular + Format.plain($0.value(at: first)) } ?? "row \(first + 1)"
        let others = negative.count > 1 ? " (and \(negative.count - 1) more)" : ""
        throw interp.fail("\(role) needs values of 0 or more: \(label) has \(name) \(Format.float(x))\(others)", range,
            hints: ["a refund or credit: net it into the account's value, or leave it out first: where \(name) >= 0"])
    }

    /// The value of a named option, or nil.
    func option(_ name: String) throws -> Value? {
        guard let a = named(name) else { return nil }
        return try eval(a.value)
    }

    func optionRange(_ name: String) -> SourceRange { named(name)?.value.range ?? range }

    /// A column computed from the expression of option `name`, or of the first positional
    /// argument after the input when `positionalIndex` is given.
    func expressionColumn(_ t: Table, option name: String, positional index: Int? = nil) throws -> (Column, String, SourceRange)? {
        var arg = named(name)
        if arg == nil, let index, positional.count > index { arg = positional[index] }
        guard let arg else { return nil }
        return (try interp.evalColumn(arg.value, over: t, env), Verbs.naturalName(arg.value, interp), arg.value.range)
    }
}

/// Adds columns to a table (replacing same-named ones), keeping its rows and links.
func adding(_ t: Table, _ extra: [(String, Column)]) -> Table {
    // Column by column, so a mapped table's other columns stay unread.
    var out = t
    for (n, c) in extra { out = out.setting(c, as: n) }
    return out
}

/// The column `Column.from` makes of these numbers (nil as null), without a boxed value
/// per row: a float column, or with no number at all its untyped column of nulls.
func floatColumn(_ xs: [Double?]) -> Column {
    guard xs.contains(where: { $0 != nil }) else { return Column.from([Value](repeating: .null, count: xs.count)) }
    let (values, valid) = Bitmap.split(xs)
    return Column(storage: .float(values), validity: valid)
}

/// Herfindahl-Hirschman index of non-negative values: the sum of squared shares x 10,000.
func hhi(_ xs: [Double]) -> Double {
    let total = Reduce.sum(xs)
    guard total > 0 else { return 0 }
    return Reduce.sum(xs.map { ($0 / total) * ($0 / total) }) * 10_000
}

/// Which of the two years before `today` a date falls in: 0 for the last 365 days, 1 for
/// the 365 before them, nil otherwise (life cycle and health compare these two years).
func yearWindow(_ date: Int, today: Int) -> Int? {
    let age = today - date
    return age >= 0 && age < 365 ? 0 : age >= 365 && age < 730 ? 1 : nil
}
