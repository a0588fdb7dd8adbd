import KamEngine
import KamData
import KamSyntax

/// `+ - * / %` on kam values: checked integer math (overflow is an error, never a trap),
/// `/` always gives a float, dates move by durations.
public enum Arithmetic {
    /// A float result past the range of a double: an error, as integer overflow is, not
    /// an infinity that would print and compare as a number.
    public static func floatOverflow(_ op: BinaryOp, _ range: SourceRange, _ interp: Interpreter) -> Diagnostic {
        interp.fail("float overflow in '\(op.rawValue)'", range, hints: ["the result is beyond ±1.8e308"])
    }

    public static func apply(_ op: BinaryOp, _ x: Value, _ y: Value, range: SourceRange, interp: Interpreter) throws -> Value {
        func overflow() -> Diagnostic {
            Diagnostic.inThisRow(interp.fail("integer overflow in '\(op.rawValue)'", range, hints: ["the result does not fit in 64 bits; use float(...) for very large numbers"]))
        }
        switch (x, y) {
        case (.null, _), (_, .null): return .null
        case (.int(let a), .int(let b)):
            switch op {
            case .add: let (r, o) = a.addingReportingOverflow(b); if o { throw overflow() }; return .int(r)
            case .sub: let (r, o) = a.subtractingReportingOverflow(b); if o { throw overflow() }; return .int(r)
            case .mul: let (r, o) = a.multipliedReportingOverflow(by: b); if o { throw overflow() }; return .int(r)
            case .div:
                if b == 0 { throw Diagnostic.inThisRow(interp.fail("division by zero", range)) }
                return .float(Double(a) / Double(b))
            case .mod:
                if b == 0 { throw Diagnostic.inThisRow(interp.fail("division by zero in '%'", range)) }
                let (r, o) = a.remainderReportingOverflow(dividingBy: b)
                if o { throw overflow() }
                return .int(r)
            default: break
            }
        case (.int, .float), (.float, .int), (.float, .float):
            let a = x.asDouble ?? 0, b = y.asDouble ?? 0
            func finite(_ r: Double) throws -> Value {
                guard r.isFinite else { throw floatOverflow(op, range, interp) }
                return .float(r)
            }
            switch op {
            case .add: return try finite(a + b)
            case .sub: return try finite(a - b)
            case .mul: return try finite(a * b)
            case .div:
                if b == 0 { throw Diagnostic.inThisRow(interp.fail("division by zero", range)) }
                return try finite(a / b)
            case .mod:
                if b == 0 { throw Diagnostic.inThisRow(interp.fail("division by zero in '%'", range)) }
                return .float(a.truncatingRemainder(dividingBy: b))
            default: break
            }
        case (.string(let a), .string(let b)) where op == .add:
            return .string(a + b)
        case (.date(let d), .duration(let u)) where op == .add || op == .sub:
            let sign: Int32 = op == .add ? 1 : -1
            guard let r = Calendar.add(d, months: sign &* u.months, days: sign &* u.days) else {
                throw interp.fail("date out of range", range)
            }
            return .date(r)
        case (.duration(let u), .date(let d)) where op == .add:
            guard let r = Calendar.add(d, months: u.months, days: u.days) else { throw interp.fail("date out of range", range) }
            return .date(r)
        case (.date(let a), .date(let b)) where op == .sub:
            return .duration(Duration(days: a &- b))
        case (.duration(let a), .duration(let b)) where op == .add || op == .sub:
            let s: Int32 = op == .add ? 1 : -1
            let (m, o1) = a.months.addingReportingOverflow(s &* b.months)
            let (d, o2) = a.days.addingReportingOverflow(s &* b.days)
            if o1 || o2 { throw overflow() }
            return .duration(Duration(months: m, days: d))
        case (.duration(let a), .int(let k)) where op == .mul, (.int(let k), .duration(let a)) where op == .mul:
            guard let k32 = Int32(exactly: k) else { throw overflow() }
            let (m, o1) = a.months.multipliedReportingOverflow(by: k32)
            let (d, o2) = a.days.multipliedReportingOverflow(by: k32)
            if o1 || o2 { throw overflow() }
            return .duration(Duration(months: m, days: d))
        default: break
        }
        var hints: [String] = []
        if case .string = x, y.asDouble != nil { hints.append("convert the string with float(...) or int(...), or the number with str(...)") }
        if case .string = y, x.asDouble != nil { hints.append("convert the string with float(...) or int(...), or the number with str(...)") }
        if case .date = x, y.asDouble != nil { hints.append("add a duration such as 30d or 3mo") }
        throw interp.fail("cannot apply '\(op.rawValue)' to \(x.typeName) and \(y.typeName)", range, hints: hints)
    }
}
