import KamEngine
import KamData
import KamSyntax

/// The one registry of native functions, as Lua's luaL_Reg lists: every built-in with its
/// signature and doc. `:help`, completion and "did you mean" read this table.
public enum Builtins {
    /// The natives of the language itself; the analytics stages register theirs on top
    /// (`register`), since they live in a layer above this one.
    public static let core: [Builtin] = NativeFunctions.list + Verbs.list + Aggregates.list + Windows.list + GraphFunctions.list

    /// Every registered built-in, in registration order.
    public private(set) nonisolated(unsafe) static var all: [Builtin] = core

    /// The registry by name. Written only by `register`, before any session runs code.
    public private(set) nonisolated(unsafe) static var table: [String: Builtin] = {
        var t: [String: Builtin] = [:]
        for b in core { t[b.name] = b }
        return t
    }()

    /// Adds built-ins from a layer above (the analytics stages); a name registered twice
    /// keeps its first definition.
    public static func register(_ list: [Builtin]) {
        for b in list where table[b.name] == nil {
            table[b.name] = b
            all.append(b)
        }
    }
}

extension CallContext {
    /// A string argument; nil when it is null (the caller returns null).
    public func string(_ v: Value, _ i: Int, _ fn: String) throws -> String? {
        switch v {
        case .null: return nil
        case .string(let s): return s
        default: throw failArg(i, "\(fn) needs a string, got \(v.aTypeName)", hints: v.asDouble != nil ? ["convert with str(...)"] : [])
        }
    }
    public func int(_ v: Value, _ i: Int, _ fn: String) throws -> Int64? {
        switch v {
        case .null: return nil
        case .int(let x): return x
        case .float(let f) where f.rounded() == f && abs(f) < 9.2e18: return Int64(f)
        default: throw failArg(i, "\(fn) needs a whole number, got \(v.aTypeName)")
        }
    }
    public func number(_ v: Value, _ i: Int, _ fn: String) throws -> Double? {
        switch v {
        case .null: return nil
        case .int(let x): return Double(x)
        case .float(let f): return f
        default: throw failArg(i, "\(fn) needs a number, got \(v.aTypeName)", hints: v.typeName == "string" ? ["convert with float(...)"] : [])
        }
    }
    public func date(_ v: Value, _ i: Int, _ fn: String) throws -> Int32? {
        switch v {
        case .null: return nil
        case .date(let d): return d
        case .string(let s):
            if let d = Calendar.parse(Array(s.utf8)) { return d }
            throw failArg(i, "\(fn) needs a date, got the string \"\(s)\"", hints: ["dates are written YYYY-MM-DD"])
        default: throw failArg(i, "\(fn) needs a date, got \(v.aTypeName)")
        }
    }
    public func list(_ v: Value, _ i: Int, _ fn: String) throws -> [Value]? {
        switch v {
        case .null: return nil
        case .list(let xs): return xs
        case .table(let t): return (0..<t.count).map { .row(t, $0) }
        default: throw failArg(i, "\(fn) needs a list, got \(v.aTypeName)")
        }
    }
    public func function(_ v: Value, _ i: Int, _ fn: String) throws -> Function {
        guard case .function(let f) = v else {
            throw failArg(i, "\(fn) needs a function, got \(v.aTypeName)", hints: ["write a lambda: x => x * 2"])
        }
        return f
    }
    /// Converts a Double result back to a kam int when it is integral and in range.
    public func intOrFail(_ d: Double) throws -> Value {
        guard d.isFinite, d >= -9.223372036854775e18, d < 9.223372036854775e18 else {
            throw fail("result \(Format.float(d)) does not fit in a 64-bit integer")
        }
        return .int(Int64(d))
    }
}
