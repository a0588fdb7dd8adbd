import Foundation
import KamEngine
import KamData
import KamSyntax

/// Tab completion for the REPL, from what the session knows: keywords, built-ins and
/// their parameter names, variables, entities, the columns and links of the table a stage
/// reads or of the value before a '.', and file paths inside the string after load/import.
///
/// ```
/// let c = Completer(interpreter)
/// c.complete("accounts | where indus")   // (insert: "try", candidates: ["industry"])
/// ```
public struct Completer {
    public let interp: Interpreter
    public init(_ interp: Interpreter) { self.interp = interp }

    public static let keywords = ["let", "fn", "import", "assert", "true", "false", "null", "and", "or", "not", "in", "as", "by", "on"]
    public static let metaCommands = [":help", ":schema", ":load", ":format", ":timing", ":vars", ":reset", ":today", ":quit", ":run", ":read",
                                      ":output", ":once", ":maxrows", ":maxwidth", ":nullvalue", ":thousands"]

    /// What to insert after the cursor, and the candidates when there is more than one.
    public func complete(_ before: String) -> (insert: String, candidates: [String]) {
        let scalars = Array(before.unicodeScalars)
        var start = scalars.count
        while start > 0, isWordScalar(scalars[start - 1]) { start -= 1 }
        let prefix = String(String.UnicodeScalarView(scalars[start...]))
        let head = String(String.UnicodeScalarView(scalars[..<start]))
        var pool: [String]
        if let (dir, partial) = pathContext(before) {
            pool = files(dir, partial)
            return finish(partial, pool.map { $0 })
        } else if before.hasPrefix(":") && !before.contains(" ") {
            return finish(before, Completer.metaCommands)
        } else if head.hasSuffix(".") {
            pool = fieldsOf(String(head.dropLast()))
        } else {
            // Inside a stage, the table's columns and links come first: when some match,
            // they are the candidates.
            let columns = stageNames(head) + parameterNames(head).map { $0 + ":" }
            if columns.contains(where: { $0.hasPrefix(prefix) && $0.count > prefix.count }) { return finish(prefix, columns) }
            pool = Completer.keywords + Array(Builtins.table.keys) + Array(interp.globals.vars.keys)
            if let g = try? interp.currentDataset() { pool += g.entities.map(\.name) }
        }
        return finish(prefix, pool)
    }

    public func finish(_ prefix: String, _ pool: [String]) -> (insert: String, candidates: [String]) {
        let matches = Array(Set(pool.filter { $0.hasPrefix(prefix) && $0.count > prefix.count })).sorted()
        guard !matches.isEmpty else { return ("", []) }
        if matches.count == 1 { return (String(matches[0].dropFirst(prefix.count)), []) }
        var common = matches[0]
        for m in matches.dropFirst() {
            while !m.hasPrefix(common) { common.removeLast() }
        }
        return (String(common.dropFirst(prefix.count)), matches)
    }

    public func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        s.properties.isAlphabetic || (s.value >= 48 && s.value <= 57) || s == "_"
    }

    /// Inside an open string after load or import: the directory and partial file name.
    public func pathContext(_ before: String) -> (String, String)? {
        guard let quote = before.lastIndex(of: "\"") else { return nil }
        let quotes = before.filter { $0 == "\"" }.count
        guard quotes % 2 == 1 else { return nil }
        let lead = before[..<quote].trimmingCharacters(in: .whitespaces)
        guard lead.hasSuffix("load") || lead.hasSuffix("import") else { return nil }
        let typed = String(before[before.index(after: quote)...])
        if let slash = typed.lastIndex(of: "/") {
            return (String(typed[...slash]), String(typed[typed.index(after: slash)...]))
        }
        return ("", typed)
    }

    public func files(_ dir: String, _ partial: String) -> [String] {
        let path = dir.isEmpty ? "." : dir
        guard let items = try? FileManager.default.contentsOfDirectory(atPath: path) else { return [] }
        return items.filter { !$0.hasPrefix(".") || partial.hasPrefix(".") }.map { name in
            var isDir: ObjCBool = false
            FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent(name), isDirectory: &isDir)
            return isDir.boolValue ? name + "/" : name
        }
    }

    /// Fields of the value a dotted name chain points to: `accounts.` or `account("A1").owner.`.
    public func fieldsOf(_ text: String) -> [String] {
        // The trailing chain of names and dots, evaluated name by name (no calls are run).
        let scalars = Array(text.unicodeScalars)
        var start = scalars.count
        while start > 0, isWordScalar(scalars[start - 1]) || scalars[start - 1] == "." { start -= 1 }
        let chain = String(String.UnicodeScalarView(scalars[start...])).split(separator: ".").map(String.init)
        guard let first = chain.first else { return [] }
        var value: Value
        switch interp.globals.lookup(first) {
        case .value(let v): value = v
        default:
            guard let g = try? interp.currentDataset(), let e = g.entity(first) else { return [] }
            value = .table(e.table)
        }
        for name in chain.dropFirst() {
            guard let next = try? interp.member(value, name, SourceRange(0, 0), base: SourceRange(0, 0)) else { return [] }
            value = next
        }
        return fields(value)
    }

    public func fields(_ v: Value) -> [String] {
        switch v {
        case .record(let r): return r.keys
        case .row(let t, _), .table(let t): return t.names + (t.origin?.graph.linkNames(t) ?? [])
        default: return []
        }
    }

    /// Inside a stage: the columns and links of the table the pipeline starts from, and
    /// the names that derive, select and aggregate add on the way.
    public func stageNames(_ head: String) -> [String] {
        guard head.contains("|") else { return [] }
        let trimmed = head.trimmingCharacters(in: .whitespacesAndNewlines)
        let first = trimmed.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        var names: [String] = []
        if !first.isEmpty {
            if case .value(let v) = interp.globals.lookup(String(first)) { names += fields(v) } else if let g = try? interp.currentDataset(), let e = g.entity(String(first)) {
                names += fields(.table(e.table))
            }
        }
        // Names assigned in earlier stages: `name =` and `as name`.
        let words = head.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == "=") })
        for (i, w) in words.enumerated() {
            if w.hasSuffix("="), w.count > 1, !w.hasSuffix("==") { names.append(String(w.dropLast())) }
            if w == "=", i > 0 { names.append(String(words[i - 1])) }
            if w == "as", i + 1 < words.count { names.append(String(words[i + 1])) }
        }
        return names
    }

    /// Inside an open call of a built-in: its parameter names.
    public func parameterNames(_ head: String) -> [String] {
        var depth = 0
        var chars = Array(head)
        while let c = chars.popLast() {
            if c == ")" { depth += 1 } else if c == "(" {
                if depth == 0 {
                    let name = String(String(chars).reversed().prefix { $0.isLetter || $0.isNumber || $0 == "_" }.reversed())
                    return Builtins.table[name]?.params.map(\.name) ?? []
                }
                depth -= 1
            }
        }
        // A command-style stage: `| name ...`.
        if let bar = head.lastIndex(of: "|") {
            let stage = String(head[head.index(after: bar)...].drop { $0 == " " || $0 == "\t" })
            let name = String(stage.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
            if name.count < stage.count, let b = Builtins.table[name] { return b.params.dropFirst().map(\.name) }
        }
        return []
    }
}
