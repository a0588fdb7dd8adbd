/// Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01).
/// Pure integer math: no Foundation, no time zones; kam dates are calendar dates.
public enum Calendar {
    /// Days since 1970-01-01 for a valid date, nil otherwise (Howard Hinnant's algorithm).
    @inlinable public static func days(year: Int, month: Int, day: Int) -> Int32? {
        guard year >= -9999 && year <= 9999, month >= 1 && month <= 12, day >= 1 && day <= daysIn(year: year, month: month) else { return nil }
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return Int32(era * 146097 + doe - 719468)
    }

    @inlinable public static func civil(_ days: Int32) -> (year: Int, month: Int, day: Int) {
        let z = Int(days) + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    @inlinable public static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    @inlinable public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// ISO weekday, 1 = Monday ... 7 = Sunday. 1970-01-01 was a Thursday.
    @inlinable public static func weekday(_ days: Int32) -> Int {
        let w = (Int(days) % 7 + 7 + 3) % 7  // 0 = Monday
        return w + 1
    }

    /// Adds months (clamping the day to the month's length), then days. Nil when out of range.
    @inlinable public static func add(_ date: Int32, months: Int32, days: Int32) -> Int32? {
        var (y, m, d) = civil(date)
        if months != 0 {
            let total = y * 12 + (m - 1) + Int(months)
            y = total >= 0 ? total / 12 : (total - 11) / 12
            m = total - y * 12 + 1
            d = min(d, daysIn(year: y, month: m))
        }
        guard let base = Calendar.days(year: y, month: m, day: d) else { return nil }
        let (r, o) = base.addingReportingOverflow(days)
        guard !o, let _ = Calendar.days(year: civil(r).year, month: 1, day: 1) else { return nil }
        return r
    }

    /// `YYYY-MM-DD`.
    public static func format(_ days: Int32) -> String {
        let (y, m, d) = civil(days)
        func pad(_ v: Int, _ n: Int) -> String {
            let s = String(abs(v))
            return (v < 0 ? "-" : "") + String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    /// Parses `YYYY-MM-DD`, optionally followed by `T` or a space and a time (ignored).
    @inlinable public static func parse(_ bytes: some Collection<UInt8>) -> Int32? {
        let b = Array(bytes)
        guard b.count >= 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return nil }
        var y = 0, m = 0, d = 0
        for i in 0..<4 { guard b[i] >= 48 && b[i] <= 57 else { return nil }; y = y * 10 + Int(b[i] - 48) }
        for i in 5..<7 { guard b[i] >= 48 && b[i] <= 57 else { return nil }; m = m * 10 + Int(b[i] - 48) }
        for i in 8..<10 { guard b[i] >= 48 && b[i] <= 57 else { return nil }; d = d * 10 + Int(b[i] - 48) }
        if b.count > 10 {
            guard b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " ") else { return nil }
            // A time part: digits, ':', '.', 'Z', '+', '-' only.
            for c in b[11...] {
                guard (c >= 48 && c <= 57) || c == UInt8(ascii: ":") || c == UInt8(ascii: ".") || c == UInt8(ascii: "Z")
                    || c == UInt8(ascii: "+") || c == UInt8(ascii: "-")
                else { return nil }
            }
        }
        return days(year: y, month: m, day: d)
    }
}
