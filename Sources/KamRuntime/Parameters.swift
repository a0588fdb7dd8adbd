import Foundation
import KamEngine
import KamData
import KamSyntax

/// Script parameters: `$region` reads the value given with `--param region=EMEA`, and
/// `param region = "EMEA"` declares it with a default. Parameters have a syntax of their own
/// so that one can never be mistaken for a column of the same name.
///
/// A value from the command line is text. With a declared default it is read as the
/// default's type (a date default takes `--param since=2025-01-01` as a date); without one
/// it is read as a CSV cell would be: `42` an int, `4.5` a float, `true` a bool,
/// `2025-01-31` a date, and anything else, `007` included, a string.
public enum Parameters {
    /// The value of `text` as a CSV cell would read it.
    public static func infer(_ text: String) -> Value {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { b -> Value in
            if let i = CSVParser.parseInt(b) { return .int(i) }
            if let d = CSVParser.parseDouble(b), d.isFinite { return .float(d) }
            if let v = CSVParser.parseBool(b) { return .bool(v) }
            if let d = Calendar.parse(bytes) { return .date(d) }
            return .string(text)
        }
    }

    /// `text` read as the type of `model` (a declared default); nil when it does not read
    /// as one, with the type's name for the message.
    public static func convert(_ text: String, like model: Value) -> Result<Value, Mismatch> {
        let bytes = Array(text.utf8)
        switch model {
        case .int:
            return bytes.withUnsafeBufferPointer { CSVParser.parseInt($0) }.map { .success(.int($0)) }
                ?? Int64(text).map { .success(.int($0)) } ?? .failure(Mismatch(expected: "a whole number"))
        case .float:
            if let d = Double(text), d.isFinite { return .success(.float(d)) }
            return .failure(Mismatch(expected: "a number"))
        case .bool:
            return bytes.withUnsafeBufferPointer { CSVParser.parseBool($0) }.map { .success(.bool($0)) }
                ?? .failure(Mismatch(expected: "true or false"))
        case .date:
            return Calendar.parse(bytes).map { .success(.date($0)) } ?? .failure(Mismatch(expected: "a date (YYYY-MM-DD)"))
        case .duration:
            return duration(text).map { .success(.duration($0)) } ?? .failure(Mismatch(expected: "a duration such as 90d, 12w, 6mo or 1y"))
        case .null:
            return .success(infer(text))
        case .string:
            return .success(.string(text))
        case .list(let items):
            // --param regions=EMEA,APAC: each item read as the default's items are.
            var out: [Value] = []
            if text.trimmingCharacters(in: .whitespaces).isEmpty { return .success(.list([])) }
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                let item = part.trimmingCharacters(in: .whitespaces)
                switch convert(item, like: items.first ?? .null) {
                case .success(let v): out.append(v)
                case .failure(let m): return .failure(Mismatch(expected: "a list of \(m.expected.hasPrefix("a ") ? String(m.expected.dropFirst(2)) + "s" : m.expected), separated by commas"))
                }
            }
            return .success(.list(out))
        default:
            return .failure(Mismatch(expected: "nothing: a \(model.typeName) default cannot be given with --param"))
        }
    }

    /// `90d`, `12w`, `6mo`, `1y`, as the language writes durations.
    public static func duration(_ text: String) -> Duration? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard let n = Int32(digits), n <= 100_000 else { return nil }
        switch text.dropFirst(digits.count) {
        case "d": return Duration(days: n)
        case "w": return Duration(days: n * 7)
        case "mo": return Duration(months: n)
        case "y": return Duration(months: n * 12)
        default: return nil
        }
    }

    /// `missing --param NAME`: the one text for the checker and the interpreter.
    public static func missing(_ name: String, at range: SourceRange, in source: Source) -> Diagnostic {
        Diagnostic(.usage, "missing --param \(name)", at: range, in: source,
            hints: ["run with --param \(name)=VALUE, or give it a default: param \(name) = ..."])
    }

    /// A given value its declared default's type cannot read.
    public static func mismatch(_ name: String, _ text: String, _ model: Value, _ m: Mismatch, at range: SourceRange, in source: Source) -> Diagnostic {
        Diagnostic(.usage, "--param \(name)=\(text): expected \(m.expected)", at: range, in: source,
            hints: ["the default \(Format.plain(model)) is \(model.aTypeName), so the value must be one too"])
    }

    public struct Mismatch: Error {
        public let expected: String
    }
}
