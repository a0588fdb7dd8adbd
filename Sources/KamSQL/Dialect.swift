/// The SQL engines kam compiles to, and what each spells its own way.
///
///     kam sql -c 'accounts | where tier == "key" | take 5' --dialect postgres
///
/// Everything a dialect decides is here, so the compiler reads as one language: quoting,
/// types, dates and durations, booleans, string functions, regular expressions, the
/// aggregates some engines lack.
public enum Dialect: String, CaseIterable, Sendable {
    case duckdb, postgres, sqlite, spark

    /// An identifier, quoted: "name" (backticks for Spark).
    public func quote(_ name: String) -> String {
        switch self {
        case .spark: "`" + name.replacingOccurrences(of: "`", with: "``") + "`"
        default: "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
    }

    /// A string literal.
    public func string(_ s: String) -> String {
        switch self {
        case .spark: "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
        default: "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
        }
    }

    /// A date literal. SQLite has no date type: kam dates are ISO text there.
    public func date(_ iso: String) -> String {
        switch self {
        case .sqlite: "'\(iso)'"
        default: "DATE '\(iso)'"
        }
    }

    public func bool(_ b: Bool) -> String {
        switch self {
        case .sqlite: b ? "1" : "0"
        default: b ? "TRUE" : "FALSE"
        }
    }

    /// The column type of a kam type, for CREATE TABLE and CAST.
    public func typeName(_ t: SQLType) -> String {
        switch (self, t) {
        case (_, .int), (_, .duration): "BIGINT"
        case (.postgres, .float): "DOUBLE PRECISION"
        case (.sqlite, .float): "REAL"
        case (_, .float): "DOUBLE"
        case (.sqlite, .bool): "INTEGER"
        case (_, .bool): "BOOLEAN"
        case (.sqlite, .date): "TEXT"
        case (_, .date): "DATE"
        case (.spark, .string): "STRING"
        case (_, .string), (_, .null), (_, .unknown), (_, .textList): "TEXT"
        }
    }

    /// Ordering for a text key: PostgreSQL sorts by its locale unless told to compare
    /// bytes, as kam does (and the other engines do by default).
    public func byteOrder(_ sql: String, _ t: SQLType) -> String {
        self == .postgres && t == .string ? sql + " COLLATE \"C\"" : sql
    }

    /// `a IS NOT DISTINCT FROM b`: equal, two nulls counting as equal.
    public func sameAs(_ a: String, _ b: String) -> String {
        switch self {
        case .sqlite: "\(a) IS \(b)"
        case .spark: "\(a) <=> \(b)"
        default: "\(a) IS NOT DISTINCT FROM \(b)"
        }
    }

    /// The position of `needle` in `hay` (1-based, 0 when absent).
    public func position(_ needle: String, in hay: String) -> String {
        switch self {
        case .sqlite, .spark: "instr(\(hay), \(needle))"
        default: "strpos(\(hay), \(needle))"
        }
    }

    /// A date moved by whole months (the day clamped to the month's length, as kam does),
    /// nil when the dialect cannot say it.
    public func addMonths(_ d: String, _ months: String) -> String {
        switch self {
        case .duckdb: "CAST(\(d) + to_months(CAST(\(months) AS INTEGER)) AS DATE)"
        case .postgres: "CAST(\(d) + make_interval(months => CAST(\(months) AS INTEGER)) AS DATE)"
        case .spark: "add_months(\(d), CAST(\(months) AS INT))"
        case .sqlite:
            // SQLite's '+N months' overflows into the next month (Jan 31 + 1 month is
            // March 3rd); the smaller of that day in the target month and its last day is
            // kam's clamp.
            "min(date(\(d), 'start of month', (\(months)) || ' months', '+' || (CAST(strftime('%d', \(d)) AS INTEGER) - 1) || ' days'), "
                + "date(\(d), 'start of month', ((\(months)) + 1) || ' months', '-1 day'))"
        }
    }

    /// A date moved by days.
    public func addDays(_ d: String, _ days: String) -> String {
        switch self {
        case .duckdb: "CAST(\(d) + CAST(\(days) AS INTEGER) AS DATE)"
        case .postgres: "(\(d) + CAST(\(days) AS INTEGER))"
        case .spark: "date_add(\(d), CAST(\(days) AS INT))"
        case .sqlite: "date(\(d), (\(days)) || ' days')"
        }
    }

    /// Days from `b` to `a`.
    public func daysBetween(_ a: String, _ b: String) -> String {
        switch self {
        case .duckdb: "CAST(date_diff('day', \(b), \(a)) AS BIGINT)"
        case .postgres: "CAST((\(a) - \(b)) AS BIGINT)"
        case .spark: "CAST(datediff(\(a), \(b)) AS BIGINT)"
        case .sqlite: "CAST(julianday(\(a)) - julianday(\(b)) AS INTEGER)"
        }
    }

    /// A part of a date as an integer: year, month, day, quarter, dow (ISO: 1 Monday).
    public func datePart(_ part: String, _ d: String) -> String? {
        switch self {
        case .sqlite:
            switch part {
            case "year": return "CAST(strftime('%Y', \(d)) AS INTEGER)"
            case "month": return "CAST(strftime('%m', \(d)) AS INTEGER)"
            case "day": return "CAST(strftime('%d', \(d)) AS INTEGER)"
            case "quarter": return "((CAST(strftime('%m', \(d)) AS INTEGER) + 2) / 3)"
            default: return nil
            }
        case .spark:
            switch part {
            case "year", "month", "day", "quarter": return "CAST(\(part)(\(d)) AS BIGINT)"
            default: return nil
            }
        default:
            return "CAST(EXTRACT(\(part.uppercased()) FROM \(d)) AS BIGINT)"
        }
    }

    /// The first day of the date's year, quarter, month or (ISO) week.
    public func truncate(_ d: String, _ unit: String) -> String? {
        switch self {
        case .sqlite:
            switch unit {
            case "year": return "date(\(d), 'start of year')"
            case "month": return "date(\(d), 'start of month')"
            case "quarter":
                return "date(\(d), 'start of year', ((CAST(strftime('%m', \(d)) AS INTEGER) - 1) / 3 * 3) || ' months')"
            case "week": return "date(\(d), '-' || ((CAST(strftime('%w', \(d)) AS INTEGER) + 6) % 7) || ' days')"
            default: return nil
            }
        case .spark:
            return ["year", "quarter", "month", "week"].contains(unit) ? "CAST(date_trunc('\(unit)', \(d)) AS DATE)" : nil
        default:
            return ["year", "quarter", "month", "week"].contains(unit) ? "CAST(date_trunc('\(unit)', \(d)) AS DATE)" : nil
        }
    }

    /// Integer division rounding down, as kam's div (every engine's own division truncates
    /// toward zero, or divides as floats).
    public func floorDiv(_ a: String, _ b: String) -> String {
        let q = self == .duckdb ? "(\(a) // \(b))" : self == .spark ? "div(\(a), \(b))" : "(\(a) / \(b))"
        return "(CASE WHEN (\(a) % \(b) <> 0) AND ((\(a) < 0) <> (\(b) < 0)) THEN \(q) - 1 ELSE \(q) END)"
    }

    /// Toward zero, as a whole float: for the remainder of floats.
    public func truncFloat(_ x: String) -> String {
        switch self {
        case .duckdb, .postgres: "trunc(\(x))"
        case .sqlite: "CAST(CAST(\(x) AS INTEGER) AS REAL)"
        case .spark: "CAST(CAST(\(x) AS BIGINT) AS DOUBLE)"
        }
    }

    /// An expression that stops the query with `message`, where kam stops with an error
    /// (a negative value in abc): DuckDB's error(), Spark's raise_error(), a failing cast
    /// in PostgreSQL (its message quotes ours), a failing json() in SQLite (which reads
    /// "malformed JSON": SQLite has no way to raise an error from a query).
    public func raise(_ message: String, value: String, as type: SQLType) -> String {
        // The offending value is part of the message: it says which, and it keeps PostgreSQL
        // from folding the cast (and failing) before any row is read.
        let text = "(\(string("kam: " + message + ": ")) || CAST(\(value) AS \(typeName(.string))))"
        switch self {
        case .duckdb: return "error(\(text))"
        case .spark: return "raise_error(\(text))"
        case .postgres: return "CAST(\(text) AS \(typeName(type)))"
        case .sqlite: return "json(\(text))"
        }
    }

    /// A compensated float sum, as kam's (Neumaier), where the engine has one at little cost:
    /// DuckDB's fsum; SQLite's SUM compensates since 3.43. PostgreSQL and Spark sum plainly
    /// (a sum through NUMERIC would be exact but several times slower), so their last digit
    /// may differ from kam's, far below what a table shows.
    /// `over`: a window (`ORDER BY ... ROWS ...`), for a running or whole-table sum.
    public func floatSum(_ x: String, over window: String? = nil) -> String {
        let w = window.map { " OVER (\($0))" } ?? ""
        switch self {
        // Over a window DuckDB's fsum costs a fifth of the query (abc's running shares), and
        // buys no equality with kam's running sums: a plain SUM there.
        case .duckdb: return window == nil ? "fsum(\(x))" : "SUM(\(x))\(w)"
        default: return "SUM(\(x))\(w)"
        }
    }

    /// A float, for `/` that always divides as floats.
    public func toFloat(_ a: String) -> String { "CAST(\(a) AS \(typeName(.float)))" }

    /// The regular-expression test `s ~ pattern`, nil when the engine has none built in.
    public func matches(_ s: String, _ pattern: String) -> String? {
        switch self {
        case .duckdb: "regexp_matches(\(s), \(pattern))"
        case .postgres: "(\(s) ~ \(pattern))"
        case .spark: "(\(s) RLIKE \(pattern))"
        case .sqlite: nil
        }
    }

    /// The median and percentiles (linear interpolation), nil where the engine lacks them.
    public func percentile(_ x: String, _ p: String) -> String? {
        switch self {
        case .duckdb: "quantile_cont(\(x), \(p))"
        case .postgres: "percentile_cont(\(p)) WITHIN GROUP (ORDER BY \(x))"
        case .spark: "percentile(\(x), \(p))"
        case .sqlite: nil
        }
    }

    /// The texts of a table's rows joined in the order of `order`, separated by the unit
    /// separator (U+001F), which kam reads back as a list (`SQLType.textList`); null when
    /// there are no rows. SQLite before 3.44 has no ORDER BY inside an aggregate: a window
    /// gives the order there.
    public func textList(_ x: String, orderBy order: String, from table: String) -> String {
        let sep = self == .sqlite ? "char(31)" : "chr(31)"
        switch self {
        case .duckdb, .postgres: return "(SELECT string_agg(\(x), \(sep) ORDER BY \(order)) FROM \(table))"
        case .sqlite:
            return "(SELECT MAX(l) FROM (SELECT group_concat(\(x), \(sep)) OVER (ORDER BY \(order) ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS l FROM \(table)))"
        case .spark:
            return "(SELECT CASE WHEN COUNT(*) = 0 THEN NULL ELSE array_join(transform(array_sort(collect_list(named_struct('o', \(order), 'x', \(x)))), e -> e.x), \(sep)) END FROM \(table))"
        }
    }

    public func stddev(_ x: String) -> String? { self == .sqlite ? nil : "stddev_samp(\(x))" }

    /// `OFFSET n` with no limit.
    public func offset(_ n: Int64) -> String { self == .sqlite ? "LIMIT -1 OFFSET \(n)" : "OFFSET \(n)" }

    /// The text length in characters.
    public func length(_ s: String) -> String { self == .spark ? "char_length(\(s))" : "length(\(s))" }

    /// The row order of a base table when no column gives it: SQLite and DuckDB keep the
    /// insertion order as rowid; elsewhere the key orders the rows.
    public var hasRowid: Bool { self == .sqlite || self == .duckdb }
}

/// The kam type of a compiled SQL expression.
public enum SQLType: Equatable, Sendable {
    case int, float, bool, date, string
    /// A duration in whole days (durations with months compile only in date arithmetic).
    case duration
    case null, unknown
    /// A list of texts, written by the query as one text (`Dialect.textList`).
    case textList

    public var isNumber: Bool { self == .int || self == .float }
    public var name: String {
        switch self {
        case .int: "int"
        case .float: "float"
        case .bool: "bool"
        case .date: "date"
        case .string: "string"
        case .duration: "duration"
        case .null: "null"
        case .unknown: "a value of unknown type"
        case .textList: "list"
        }
    }
}
