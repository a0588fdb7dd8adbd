import Foundation
import KamEngine
import KamData
import KamSyntax

/// Scalar natives: strings, numbers, dates, lists, conversions, null handling, control.
public enum NativeFunctions {
    public static let list: [Builtin] = strings + numbers + dates + lists + conversions + control

    public static let strings: [Builtin] = [
        Builtin("len", ["x"], .string, "Length of a string (characters), list, record or table.", .eager { ctx, a in
            switch a[0] {
            case .null: return .null
            case .string(let s): return .int(Int64(s.count))
            case .list(let xs): return .int(Int64(xs.count))
            case .record(let r): return .int(Int64(r.keys.count))
            case .table(let t): return .int(Int64(t.count))
            default: throw ctx.failArg(0, "len needs a string, list, record or table, got \(a[0].aTypeName)")
            }
        }),
        Builtin("lower", ["s"], .string, "Lower-case a string.", .eager { ctx, a in
            guard let s = try ctx.string(a[0], 0, "lower") else { return .null }
            return .string(s.lowercased())
        }),
        Builtin("upper", ["s"], .string, "Upper-case a string.", .eager { ctx, a in
            guard let s = try ctx.string(a[0], 0, "upper") else { return .null }
            return .string(s.uppercased())
        }),
        Builtin("trim", ["s"], .string, "Remove leading and trailing whitespace.", .eager { ctx, a in
            guard let s = try ctx.string(a[0], 0, "trim") else { return .null }
            return .string(s.trimmingCharacters(in: .whitespacesAndNewlines))
        }),
        Builtin("contains", ["x", "item"], .string, "Whether a string contains a substring, or a list an item.", .eager { ctx, a in
            switch a[0] {
            case .null: return .null
            case .list(let xs): return .bool(xs.contains { $0.kamEquals(a[1]) })
            case .string(let s):
                guard let t = try ctx.string(a[1], 1, "contains") else { return .null }
                return .bool(s.contains(t))
            default: throw ctx.failArg(0, "contains needs a string or a list, got \(a[0].aTypeName)")
            }
        }),
        Builtin("starts_with", ["s", "prefix"], .string, "Whether a string starts with a prefix.", .eager { ctx, a in
            guard let s = try ctx.string(a[0], 0, "starts_with"), let p = try ctx.string(a[1], 1, "starts_with") else { return .null }
            return .bool(s.hasPrefix(p))
        }),
        Builtin("ends_with", ["s", "suffix"], .string, "Whether a string ends with a suffix.", .eager { ctx, a in
            guard let s = try ctx.string(a[0], 0, "ends_with"), let p = try ctx.string(a[1], 1, "ends_with") else { return .null }
            return .bool(s.hasSuffix(p))
        }),
        Builtin("replace", ["s", "old", "new"], .string, "Replace every occurrence of old with new.", .eager { ctx, a in
            guard let s = try ctx.string(a[0], 0, "replace"), let o = try ctx.string(a[1], 1, "replace"),
                let n = try ctx.string(a[2], 2, "replace")
            else { return .null }
            if o.isEmpty { throw ctx.failArg(1, "replace needs a non-empty string to find") }
            return .string(s.replacingOccurrences(of: o, with: n))
        }),
        Builtin("split", ["s", "sep"], .string, "Split a string on a separator into a list.", .eager { ctx, a in
            guard let s = try ctx.string(a[0], 0, "split"), let sep = try ctx.string(a[1], 1, "split") else { return .null }
            if sep.isEmpty { return .list(s.map { .string(String($0)) }) }
            return .list(s.components(separatedBy: sep).map { .string($0) })
        }),
        Builtin("substr", ["s", "start", "length?"], .string, "Characters from start (0-based; negative counts from the end), optionally length of them.", .eager { ctx, a in
            guard let s = try ctx.string(a[0], 0, "substr"), let start = try ctx.int(a[1], 1, "substr") else { return .null }
            let chars = Array(s)
            let n = Int64(chars.count)
            let from = max(0, min(n, start < 0 ? start + n : start))
            var to = n
            if let len = try ctx.int(a[2], 2, "substr") {
                guard len >= 0 else { throw ctx.failArg(2, "substr needs a length of 0 or more") }
                to = min(n, from + min(len, n))
            }
            return .string(String(chars[Int(from)..<Int(max(from, to))]))
        }),
        Builtin("match", ["s", "pattern"], .string, "First regex match: the matched text, or the list of groups when the pattern has groups; null if none.", .eager { ctx, a in
            guard let s = try ctx.string(a[0], 0, "match"), let p = try ctx.string(a[1], 1, "match") else { return .null }
            let re = try ctx.interp.regex(p, ctx.argRange(1))
            guard let m = re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) else { return .null }
            func text(_ r: NSRange) -> Value {
                guard r.location != NSNotFound, let range = Range(r, in: s) else { return .null }
                return .string(String(s[range]))
            }
            if m.numberOfRanges == 1 { return text(m.range) }
            return .list((1..<m.numberOfRanges).map { text(m.range(at: $0)) })
        }),
        Builtin("pad_left", ["s", "width", "fill?"], .string, "Pad a string on the left to a width.", .eager { ctx, a in
            guard let s = try ctx.string(a[0], 0, "pad_left"), let w = try ctx.int(a[1], 1, "pad_left") else { return .null }
            let fill = try ctx.string(a[2], 2, "pad_left") ?? " "
            guard fill.count == 1 else { throw ctx.failArg(2, "pad_left needs a single fill character") }
            // A width past any report's column is a mistake, said, not a shorter string.
            guard w <= 10_000 else { throw ctx.failArg(1, "pad_left pads to at most 10000 characters, got \(w)") }
            let missing = max(0, Int(w) - s.count)
            return .string(String(repeating: fill, count: missing) + s)
        }),
    ]

    /// `x` rounded half away from zero to `digits` decimals, as the number is written: 1.005,
    /// 0.285 and 2.675 round to 1.01, 0.29 and 2.68, as in a spreadsheet. (In binary 1.005
    /// is a little below, 2.675 a little above, so scaling and rounding the binary value
    /// went down for one and up for the other.) Away from a tie the binary value decides;
    /// at one, the shortest decimal that reads back as `x` does.
    public static func roundTo(_ x: Double, _ digits: Int64) -> Double {
        let d = max(-15, min(15, digits))
        let p = pow(10.0, Double(d))
        let y = x * p
        guard y.isFinite, x.isFinite else { return x }
        let fraction = y.magnitude - y.magnitude.rounded(.down)
        if (fraction - 0.5).magnitude <= 4 * y.ulp, let r = decimalRound(x, Int(d)) { return r }
        let r = y.rounded(.toNearestOrAwayFromZero) / p
        return r.isFinite ? r : x
    }

    /// The shortest decimal of `x` rounded half away from zero at `digits` decimals, read
    /// back as a double; nil when the text is not a plain decimal.
    static func decimalRound(_ x: Double, _ digits: Int) -> Double? {
        // "2.675", "1e-05", "1.2345e+20": the digits, and where the point goes.
        var text = Substring("\(x.magnitude)")
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let n = Int(text[text.index(after: e)...]) else { return nil }
            exponent = n
            text = text[..<e]
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first else { return nil }
        var ds = Array((whole + (parts.count == 2 ? parts[1] : "")).utf8).map { Int($0) - 48 }
        guard ds.allSatisfy({ $0 >= 0 && $0 <= 9 }) else { return nil }
        // The point sits after `point` digits; keep point + digits of them.
        let point = whole.count + exponent
        let keep = point + digits
        guard keep >= 0 else { return 0 }
        guard keep < ds.count else { return x }
        var up = ds[keep] >= 5
        ds = Array(ds[..<keep])
        var k = ds.count - 1
        while up && k >= 0 {
            ds[k] += 1
            if ds[k] == 10 { ds[k] = 0; k -= 1 } else { up = false }
        }
        if up { ds.insert(1, at: 0) }
        // The kept digits, as an integer, are the rounded value times 10^digits.
        let mantissa = ds.map(String.init).joined()
        guard let v = Double((mantissa.isEmpty ? "0" : mantissa) + "e\(-digits)") else { return nil }
        return x < 0 ? -v : v
    }

    public static let numbers: [Builtin] = [
        Builtin("abs", ["x"], .number, "Absolute value.", .eager { ctx, a in
            switch a[0] {
            case .null: return .null
            case .int(let i):
                guard i != Int64.min else { throw ctx.fail("integer overflow in abs") }
                return .int(abs(i))
            case .float(let f): return .float(abs(f))
            default: throw ctx.failArg(0, "abs needs a number, got \(a[0].aTypeName)")
            }
        }),
        Builtin("round", ["x", "digits?"], .number, "Round half away from zero; with digits, to that many decimals (a float).", .eager { ctx, a in
            guard let x = try ctx.number(a[0], 0, "round") else { return .null }
            if case .int(let n) = a[0] {
                // Negative digits round an integer to tens, hundreds, ... half away from zero
                // (round(25, -1) is 30); others leave it as it is.
                guard let d = try ctx.int(a[1], 1, "round"), d < 0 else { return a[0] }
                guard d >= -18 else { return .int(0) }
                var p: Int64 = 1
                for _ in 0..<(-d) { p *= 10 }
                let (q, r) = n.quotientAndRemainder(dividingBy: p)
                let away = r.magnitude * 2 >= UInt64(p) ? (n < 0 ? -1 : 1) : 0
                let (m, o1) = (q + Int64(away)).multipliedReportingOverflow(by: p)
                if o1 { throw ctx.fail("integer overflow in round") }
                return .int(m)
            }
            guard let digits = try ctx.int(a[1], 1, "round"), digits != 0 else { return try ctx.intOrFail(x.rounded(.toNearestOrAwayFromZero)) }
            return .float(roundTo(x, digits))
        }),
        Builtin("format_number", ["x", "decimals?", "separator?"], .string,
                "A number as text for a report: format_number(1234567.891, 2) is \"1,234,567.89\"; separator: \"\" for none, \".\" with a decimal comma.", .eager { ctx, a in
            guard let x = try ctx.number(a[0], 0, "format_number") else { return .null }
            let decimals = try ctx.int(a[1], 1, "format_number") ?? ({ if case .int = a[0] { return 0 } else { return 2 } }())
            guard decimals >= 0, decimals <= 12 else { throw ctx.failArg(1, "format_number takes 0 to 12 decimals, got \(decimals)") }
            let separator = try ctx.string(a[2], 2, "format_number") ?? ","
            guard x.isFinite, abs(x) < 1e18 else { throw ctx.failArg(0, "format_number cannot write \(Format.float(x))") }
            return .string(formatNumber(x, decimals: Int(decimals), separator: separator))
        }),
        Builtin("sparkline", ["values", "ascii?"], .string,
                "A trend as one line of block characters, lowest to highest: sparkline([1, 5, 3]) is \"▁█▄\"; ascii: true for plain characters; null values are gaps.", .eager { ctx, a in
            let items: [Value]
            switch a[0] {
            case .list(let xs): items = xs
            case .null: return .null
            default: throw ctx.failArg(0, "sparkline needs a list of numbers, got \(a[0].aTypeName)", hints: ["give it a list of numbers: sparkline([3, 1, 4])"])
            }
            var xs: [Double?] = []
            for v in items {
                if v.isNull { xs.append(nil); continue }
                guard let x = v.asDouble, x.isFinite else { throw ctx.failArg(0, "sparkline needs numbers, got \(v.aTypeName)") }
                xs.append(x)
            }
            var ascii = ctx.interp.options.plainText
            if case .bool(let b) = a[1] { ascii = b }
            return .string(sparkline(xs, ascii: ascii))
        }),
        Builtin("floor", ["x"], .number, "Largest whole number not above x.", .eager { ctx, a in
            guard let x = try ctx.number(a[0], 0, "floor") else { return .null }
            if case .int = a[0] { return a[0] }
            return try ctx.intOrFail(x.rounded(.down))
        }),
        Builtin("ceil", ["x"], .number, "Smallest whole number not below x.", .eager { ctx, a in
            guard let x = try ctx.number(a[0], 0, "ceil") else { return .null }
            if case .int = a[0] { return a[0] }
            return try ctx.intOrFail(x.rounded(.up))
        }),
        Builtin("sqrt", ["x"], .number, "Square root.", .eager { ctx, a in
            guard let x = try ctx.number(a[0], 0, "sqrt") else { return .null }
            guard x >= 0 else { throw ctx.failArg(0, "sqrt of a negative number (\(Format.float(x)))") }
            return .float(x.squareRoot())
        }),
        Builtin("ln", ["x"], .number, "Natural logarithm.", .eager { ctx, a in
            guard let x = try ctx.number(a[0], 0, "ln") else { return .null }
            guard x > 0 else { throw ctx.failArg(0, "ln needs a positive number, got \(Format.float(x))") }
            return .float(log(x))
        }),
        Builtin("exp", ["x"], .number, "e raised to x.", .eager { ctx, a in
            guard let x = try ctx.number(a[0], 0, "exp") else { return .null }
            let r = exp(x)
            guard r.isFinite else { throw ctx.fail("exp(\(Format.float(x))) is too large") }
            return .float(r)
        }),
        Builtin("pow", ["x", "y"], .number, "x raised to y (an int when both are ints and y >= 0).", .eager { ctx, a in
            guard let x = try ctx.number(a[0], 0, "pow"), let y = try ctx.number(a[1], 1, "pow") else { return .null }
            if case .int(var base) = a[0], case .int(var e) = a[1], e >= 0 {
                var result: Int64 = 1
                while e > 0 {
                    if e & 1 == 1 {
                        let (r, o) = result.multipliedReportingOverflow(by: base)
                        if o { throw ctx.fail("integer overflow in pow", hints: ["use pow(float(x), y)"]) }
                        result = r
                    }
                    e >>= 1
                    if e > 0 {
                        let (b, o) = base.multipliedReportingOverflow(by: base)
                        if o { throw ctx.fail("integer overflow in pow", hints: ["use pow(float(x), y)"]) }
                        base = b
                    }
                }
                return .int(result)
            }
            let r = pow(x, y)
            guard r.isFinite else { throw ctx.fail("pow(\(Format.float(x)), \(Format.float(y))) is not a finite number") }
            return .float(r)
        }),
        Builtin("clamp", ["x", "lo", "hi"], .number, "x limited to the range lo..hi.", .eager { ctx, a in
            if a[0].isNull { return .null }
            guard let c1 = a[0].compare(a[1]), let c2 = a[0].compare(a[2]) else {
                throw ctx.fail("clamp needs values that compare, got \(a[0].aTypeName), \(a[1].aTypeName) and \(a[2].aTypeName)")
            }
            if let lh = a[1].compare(a[2]), lh > 0 { throw ctx.fail("clamp needs lo <= hi") }
            return c1 < 0 ? a[1] : c2 > 0 ? a[2] : a[0]
        }),
        Builtin("div", ["a", "b"], .number, "Integer division, rounding toward negative infinity.", .eager { ctx, a in
            guard let x = try ctx.int(a[0], 0, "div"), let y = try ctx.int(a[1], 1, "div") else { return .null }
            if y == 0 { throw Diagnostic.inThisRow(ctx.fail("division by zero")) }
            if x == Int64.min && y == -1 { throw ctx.fail("integer overflow in div") }
            var q = x / y
            if (x % y != 0) && ((x < 0) != (y < 0)) { q -= 1 }
            return .int(q)
        }),
    ]

    public static let dates: [Builtin] = [
        Builtin("today", [], .date, "Today's date (pinned by --today or KAM_TODAY).", .eager { ctx, _ in .date(ctx.interp.options.today) }),
        Builtin("date", ["text"], .date, "Parse a YYYY-MM-DD date (a time part is ignored); or date(year, month, day).", .eager { ctx, a in
            switch a[0] {
            case .null: return .null
            case .date: return a[0]
            case .string(let s):
                guard let d = Calendar.parse(Array(s.utf8)) else {
                    throw ctx.failArg(0, "cannot read \"\(s)\" as a date", hints: ["dates are written YYYY-MM-DD"])
                }
                return .date(d)
            default: throw ctx.failArg(0, "date needs a string, got \(a[0].aTypeName)")
            }
        }),
        Builtin("make_date", ["year", "month", "day"], .date, "The date with the given year, month and day.", .eager { ctx, a in
            guard let y = try ctx.int(a[0], 0, "make_date"), let m = try ctx.int(a[1], 1, "make_date"), let d = try ctx.int(a[2], 2, "make_date") else { return .null }
            guard let y1 = Int(exactly: y), let m1 = Int(exactly: m), let d1 = Int(exactly: d), let r = Calendar.days(year: y1, month: m1, day: d1) else {
                throw ctx.fail("\(y)-\(m)-\(d) is not a valid date")
            }
            return .date(r)
        }),
        Builtin("year", ["d"], .date, "The year of a date.", .eager { ctx, a in
            guard let d = try ctx.date(a[0], 0, "year") else { return .null }
            return .int(Int64(Calendar.civil(d).year))
        }).vectorized(dateParts { Int64(Calendar.civil($0).year) }),
        Builtin("quarter", ["d"], .date, "The quarter (1-4) of a date.", .eager { ctx, a in
            guard let d = try ctx.date(a[0], 0, "quarter") else { return .null }
            return .int(Int64((Calendar.civil(d).month - 1) / 3 + 1))
        }).vectorized(dateParts { Int64((Calendar.civil($0).month - 1) / 3 + 1) }),
        Builtin("month", ["d"], .date, "The month (1-12) of a date.", .eager { ctx, a in
            guard let d = try ctx.date(a[0], 0, "month") else { return .null }
            return .int(Int64(Calendar.civil(d).month))
        }).vectorized(dateParts { Int64(Calendar.civil($0).month) }),
        Builtin("day", ["d"], .date, "The day of the month of a date.", .eager { ctx, a in
            guard let d = try ctx.date(a[0], 0, "day") else { return .null }
            return .int(Int64(Calendar.civil(d).day))
        }).vectorized(dateParts { Int64(Calendar.civil($0).day) }),
        Builtin("weekday", ["d"], .date, "ISO weekday: 1 = Monday ... 7 = Sunday.", .eager { ctx, a in
            guard let d = try ctx.date(a[0], 0, "weekday") else { return .null }
            return .int(Int64(Calendar.weekday(d)))
        }).vectorized(dateParts { Int64(Calendar.weekday($0)) }),
        Builtin("days_since", ["d"], .date, "Days from d to today (positive for past dates).", .eager { ctx, a in
            guard let d = try ctx.date(a[0], 0, "days_since") else { return .null }
            return .int(Int64(ctx.interp.options.today) - Int64(d))
        }),
        Builtin("days_between", ["a", "b"], .date, "Days from a to b (b - a).", .eager { ctx, a in
            guard let x = try ctx.date(a[0], 0, "days_between"), let y = try ctx.date(a[1], 1, "days_between") else { return .null }
            return .int(Int64(y) - Int64(x))
        }),
        Builtin("days", ["duration"], .date, "A duration in days (months count as 30.436875 days, rounded).", .eager { ctx, a in
            switch a[0] {
            case .null: return .null
            case .duration(let d): return d.months == 0 ? .int(Int64(d.days)) : .int(Int64(d.approximateDays.rounded()))
            default: throw ctx.failArg(0, "days needs a duration, got \(a[0].aTypeName)")
            }
        }),
        Builtin("trunc", ["d", "unit"], .date, "Start of the date's \"week\", \"month\", \"quarter\" or \"year\".", .eager { ctx, a in
            guard let d = try ctx.date(a[0], 0, "trunc"), let unit = try ctx.string(a[1], 1, "trunc") else { return .null }
            let (y, m, _) = Calendar.civil(d)
            let r: Int32?
            switch unit {
            case "week": r = d - Int32(Calendar.weekday(d) - 1)
            case "month": r = Calendar.days(year: y, month: m, day: 1)
            case "quarter": r = Calendar.days(year: y, month: (m - 1) / 3 * 3 + 1, day: 1)
            case "year": r = Calendar.days(year: y, month: 1, day: 1)
            default:
                throw ctx.failArg(1, "trunc has no unit \"\(unit)\"", hints: [Suggest.hint(unit, in: ["week", "month", "quarter", "year"]) ?? "units: week, month, quarter, year"])
            }
            return r.map { .date($0) } ?? .null
        }),
    ]

    public static let lists: [Builtin] = [
        Builtin("map", ["xs", "f"], .list, "Apply f to each item: map([1, 2], x => x * 10).", .eager { ctx, a in
            guard let xs = try ctx.list(a[0], 0, "map") else { return .null }
            let f = try ctx.function(a[1], 1, "map")
            return .list(try xs.map { try ctx.interp.apply(f, [$0], ctx.range) })
        }),
        Builtin("filter", ["xs", "f"], .list, "Keep the items where f is true.", .eager { ctx, a in
            guard let xs = try ctx.list(a[0], 0, "filter") else { return .null }
            let f = try ctx.function(a[1], 1, "filter")
            return .list(try xs.filter { if case .bool(true) = try ctx.interp.apply(f, [$0], ctx.range) { true } else { false } })
        }),
        Builtin("reduce", ["xs", "init", "f"], .list, "Fold a list: reduce([1, 2, 3], 0, (acc, x) => acc + x).", .eager { ctx, a in
            guard let xs = try ctx.list(a[0], 0, "reduce") else { return .null }
            let f = try ctx.function(a[2], 2, "reduce")
            var acc = a[1]
            for x in xs { acc = try ctx.interp.apply(f, [acc, x], ctx.range) }
            return acc
        }),
        Builtin("reverse", ["xs"], .list, "A list in reverse order (or a reversed string).", .eager { ctx, a in
            if case .string(let s) = a[0] { return .string(String(s.reversed())) }
            guard let xs = try ctx.list(a[0], 0, "reverse") else { return .null }
            return .list(xs.reversed())
        }),
        Builtin("unique", ["xs"], .list, "Distinct items, first occurrence kept, in order.", .eager { ctx, a in
            guard let xs = try ctx.list(a[0], 0, "unique") else { return .null }
            var seen = Set<HashKey>()
            return .list(xs.filter { seen.insert(HashKey($0)).inserted })
        }),
        Builtin("last", ["xs"], .list, "The last item of a list (or row of a table), null when empty.", .eager { ctx, a in
            switch a[0] {
            case .table(let t): return t.count > 0 ? .row(t, t.count - 1) : .null
            default:
                guard let xs = try ctx.list(a[0], 0, "last") else { return .null }
                return xs.last ?? .null
            }
        }),
        Builtin("range", ["start", "stop?", "step?"], .list, "Integers: range(3) = [0, 1, 2]; range(1, 4) = [1, 2, 3].", .eager { ctx, a in
            guard let p = try ctx.int(a[0], 0, "range") else { return .null }
            var start: Int64 = 0, stop = p
            if let s = try ctx.int(a[1], 1, "range") { start = p; stop = s }
            let step = try ctx.int(a[2], 2, "range") ?? 1
            guard step != 0 else { throw ctx.failArg(2, "range needs a step other than 0") }
            // Count in floating point first: huge bounds must not overflow.
            let span = (Double(stop) - Double(start)) / Double(step)
            guard span <= 10_000_000 else {
                throw ctx.fail(span < 9e18 ? "range of \(Int64(span.rounded(.up))) items is too large (limit 10,000,000)" : "range is far too large (limit 10,000,000 items)")
            }
            let n = max(0, Int64(span.rounded(.up)))
            var out: [Value] = []
            var v = start
            for _ in 0..<max(0, n) { out.append(.int(v)); v &+= step }
            return .list(out)
        }),
        Builtin("flatten", ["xs"], .list, "Join a list of lists into one list.", .eager { ctx, a in
            guard let xs = try ctx.list(a[0], 0, "flatten") else { return .null }
            return .list(xs.flatMap { if case .list(let inner) = $0 { inner } else { [$0] } })
        }),
        Builtin("join_str", ["xs", "sep?"], .list, "Join list items into one string: join_str([\"a\", \"b\"], \", \").", .eager { ctx, a in
            guard let xs = try ctx.list(a[0], 0, "join_str") else { return .null }
            let sep = try ctx.string(a[1], 1, "join_str") ?? ""
            return .string(xs.filter { !$0.isNull }.map(Format.plain).joined(separator: sep))
        }),
        Builtin("keys", ["r"], .list, "The field names of a record (or column names of a table).", .eager { ctx, a in
            switch a[0] {
            case .null: return .null
            case .record(let r): return .list(r.keys.map { .string($0) })
            case .row(let t, _), .table(let t): return .list(t.names.map { .string($0) })
            default: throw ctx.failArg(0, "keys needs a record, got \(a[0].aTypeName)")
            }
        }),
    ]

    /// A stable ascending sort of `xs` by `keys` (nulls last).
    public static func sortList(_ xs: [Value], keys: [Value], fail: (String) -> Diagnostic) throws -> [Value] {
        var failure: Diagnostic? = nil
        let order = Array(xs.indices).sorted { i, j in
            let x = keys[i], y = keys[j]
            if x.isNull || y.isNull { return !x.isNull && y.isNull ? true : (x.isNull && y.isNull ? i < j : false) }
            guard let c = x.compare(y) else {
                if failure == nil { failure = fail("sort cannot compare \(x.typeName) with \(y.typeName)") }
                return i < j
            }
            return c != 0 ? c < 0 : i < j
        }
        if let failure { throw failure }
        return order.map { xs[$0] }
    }

    public static let conversions: [Builtin] = [
        Builtin("int", ["x"], .conversion, "Convert to int: floats truncate toward zero; strings are parsed.", .eager { ctx, a in
            switch a[0] {
            case .null, .int: return a[0]
            case .bool(let b): return .int(b ? 1 : 0)
            case .float(let f): return try ctx.intOrFail(f.rounded(.towardZero))
            case .string(let s):
                let t = s.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
                if let i = Int64(t) { return .int(i) }
                if let f = Double(t), f.isFinite { return try ctx.intOrFail(f.rounded(.towardZero)) }
                throw Diagnostic.inThisRow(ctx.failArg(0, "cannot convert \"\(s)\" to int"))
            case .date(let d): return .int(Int64(d))
            default: throw Diagnostic.inThisRow(ctx.failArg(0, "cannot convert \(a[0].aTypeName) to int"))
            }
        }),
        Builtin("float", ["x"], .conversion, "Convert to float; strings are parsed.", .eager { ctx, a in
            switch a[0] {
            case .null, .float: return a[0]
            case .int(let i): return .float(Double(i))
            case .bool(let b): return .float(b ? 1 : 0)
            case .string(let s):
                if let f = Double(s.trimmingCharacters(in: .whitespaces)), f.isFinite { return .float(f) }
                throw Diagnostic.inThisRow(ctx.failArg(0, "cannot convert \"\(s)\" to float"))
            default: throw Diagnostic.inThisRow(ctx.failArg(0, "cannot convert \(a[0].aTypeName) to float"))
            }
        }),
        Builtin("str", ["x"], .conversion, "Convert to string (null stays null).", .eager { _, a in
            a[0].isNull ? .null : .string(Format.plain(a[0]))
        }),
        Builtin("bool", ["x"], .conversion, "Convert \"true\"/\"false\", 1/0 to bool.", .eager { ctx, a in
            switch a[0] {
            case .null, .bool: return a[0]
            case .int(let i) where i == 0 || i == 1: return .bool(i == 1)
            case .string(let s) where ["true", "false"].contains(s.lowercased()): return .bool(s.lowercased() == "true")
            default: throw Diagnostic.inThisRow(ctx.failArg(0, "cannot convert \(Format.literal(a[0], depth: 1)) to bool"))
            }
        }),
        Builtin("type", ["x"], .conversion, "The type name of a value.", .eager { _, a in .string(a[0].typeName) }),
        Builtin("is_null", ["x"], .null, "Whether x is null.", .eager { _, a in .bool(a[0].isNull) }),
        Builtin("coalesce", ["values..."], .null, "The first argument that is not null.", .eager { _, a in
            if case .list(let xs) = a[0] { return xs.first { !$0.isNull } ?? .null }
            return .null
        }),
        Builtin("table", ["rows"], .table, "A table from a list of records: table([{a: 1}, {a: 2}]).", .eager { ctx, a in
            switch a[0] {
            case .table: return a[0]
            case .list(let xs):
                var records: [Record] = []
                for (i, x) in xs.enumerated() {
                    switch x {
                    case .record(let r): records.append(r)
                    case .row(let t, let j): records.append(t.record(at: j))
                    default: throw ctx.failArg(0, "table needs a list of records; item \(i) is \(x.aTypeName)", hints: ["write table([{a: 1}, {a: 2}])"])
                    }
                }
                return .table(Table.fromRecords(records))
            default: throw ctx.failArg(0, "table needs a list of records, got \(a[0].aTypeName)", hints: ["write table([{a: 1}, {a: 2}])"])
            }
        }),
        Builtin("has", ["name"], .table,
                "Whether the dataset has an entity, or an entity's column or link: has(\"contracts\"), has(\"products.name\"). In if(has(\"contracts\"), ..., ...) the checker checks only the branch that can run, so a script (a report) can do without what a dataset lacks.", .eager { ctx, a in
            guard case .string(let name) = a[0] else { throw ctx.failArg(0, "has needs a name as text, got \(a[0].aTypeName)", hints: ["has(\"contracts\")"]) }
            return .bool(NativeFunctions.dataset(try ctx.interp.currentDataset(), has: name))
        }),
        Builtin("columns", ["t"], .table, "The column names of a table.", .eager { ctx, a in
            switch a[0] {
            case .table(let t), .row(let t, _): return .list(t.names.map { .string($0) })
            default: throw ctx.failArg(0, "columns needs a table, got \(a[0].aTypeName)")
            }
        }),
        Builtin("load", ["path", "manifest?"], .table,
                "Read a file as a table (CSV, TSV, JSON, JSONL), or a dataset directory or SQLite database as the session's dataset (with a manifest from elsewhere: load(\"crm.db\", \"crm.toml\")).", .eager { ctx, a in
            guard let path = try ctx.string(a[0], 0, "load") else { return .null }
            do {
                let full = TableReader.resolve(path, relativeTo: ctx.interp.currentSource.name)
                let manifest = try ctx.string(a[1], 1, "load").map { TableReader.resolve($0, relativeTo: ctx.interp.currentSource.name) }
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: full, isDirectory: &isDir), isDir.boolValue || SQLiteReader.isDatabase(full) {
                    let (g, report) = try DerivedColumns.load(full, manifest: manifest, options: ctx.interp.options)
                    ctx.interp.install(g)
                    ctx.interp.warnings += report.warnings
                    return .record(Record(g.entities.map { ($0.name, Value.table($0.table)) }))
                }
                if manifest != nil {
                    throw ctx.failArg(1, "a manifest is for a dataset directory or a SQLite database, and \(path) is one file",
                        hints: ["put the file in a directory with the manifest: load(\"crm/\")"])
                }
                return .table(try TableReader.readFile(path, relativeTo: ctx.interp.currentSource.name))
            } catch let d as Diagnostic {
                var d = d
                if d.fileLocation != nil {
                    let (l, c) = ctx.interp.currentSource.location(of: ctx.range.start)
                    d.notes.append("note: loaded at \(ctx.interp.currentSource.name):\(l):\(c)")
                } else if d.range == nil {
                    d.range = ctx.argRange(0)
                    d.source = ctx.interp.currentSource
                }
                throw d
            }
        }),
    ]

    public static let control: [Builtin] = [
        Builtin("if", ["cond", "then", "else?"], .control, "if(cond, a, b): a when cond is true, else b (null when b is omitted). Only the branch taken is evaluated.", .special { site in
            try site.checkNamed([])
            let p = site.positional
            guard p.count == 2 || p.count == 3 else { throw site.fail("if takes 2 or 3 arguments, got \(p.count)", hints: ["usage: if(cond, then, else)"]) }
            let c = try site.eval(p[0].value)
            switch c {
            case .bool(true): return try site.eval(p[1].value)
            case .bool(false), .null: return p.count == 3 ? try site.eval(p[2].value) : .null
            default: throw site.interp.fail("if needs a bool condition, got \(c.aTypeName)", p[0].value.range)
            }
        }),
        Builtin("error", ["message"], .control, "Stop with a runtime error.", .eager { ctx, a in
            throw ctx.fail(Format.plain(a[0]))
        }),
    ]
}

/// The vector form of a date part: an int column from a date column, nulls kept; nil for a
/// column of anything else (the per-row form then reports it).
func dateParts(_ part: @escaping @Sendable (Int32) -> Int64) -> Builtin.Vector {
    { c in
        guard case .date(let ds) = c.storage else { return nil }
        return Column(storage: .int(ds.map(part)), validity: c.validity)
    }
}


/// `1234567.891` with 2 decimals and "," as "1,234,567.89"; with "." as the thousands
/// separator the decimal mark is a comma ("1.234.567,89").
public func formatNumber(_ x: Double, decimals: Int, separator: String) -> String {
    // Half away from zero, as round() does (printf would round half to even).
    let scale = pow(10, Double(decimals))
    let fixed = String(format: "%.\(decimals)f", (abs(x) * scale).rounded(.toNearestOrAwayFromZero) / scale)
    let negative = x < 0 && fixed.contains(where: { $0 != "0" && $0 != "." })
    return Format.groupThousands((negative ? "-" : "") + fixed, separator: separator)
}


/// Values as block characters scaled from the lowest to the highest (all equal: the
/// middle block, all zero: the lowest, so no revenue reads as nothing); nil is a space.
func sparkline(_ xs: [Double?], ascii: Bool) -> String {
    let marks: [Character] = ascii ? Array("_.-~=*#") : Array("▁▂▃▄▅▆▇█")
    let present = xs.compactMap { $0 }
    guard let lo = present.min(), let hi = present.max() else { return String(repeating: " ", count: xs.count) }
    return String(xs.map { x -> Character in
        guard let x else { return " " }
        if hi == lo { return hi == 0 ? marks[0] : marks[marks.count / 2] }
        let k = Int(((x - lo) / (hi - lo) * Double(marks.count - 1)).rounded())
        return marks[max(0, min(marks.count - 1, k))]
    })
}

extension NativeFunctions {
    /// Whether `g` has the entity `name`, or (`entity.field`) that entity's column or link.
    /// The checker asks it too, for `if(has("..."), ...)`: one answer before and while running.
    public static func dataset(_ g: AccountGraph?, has name: String) -> Bool {
        guard let g else { return false }
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        guard let i = g.byName[parts[0]] else { return false }
        guard parts.count == 2 else { return true }
        let e = g.entities[i]
        return e.table.columnIndex(parts[1]) != nil || e.forwardLink(parts[1]) != nil || e.reverseLink(parts[1]) != nil
    }
}
