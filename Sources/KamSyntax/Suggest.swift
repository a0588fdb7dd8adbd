/// "Did you mean" suggestions by edit distance.
public enum Suggest {
    /// Levenshtein distance, bounded to keep it cheap on long names.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.lowercased().unicodeScalars), b = Array(b.lowercased().unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count), cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }

    /// The candidates close to `name`, nearest first (at most three).
    public static func near(_ name: String, in candidates: [String]) -> [String] {
        // One edit in four letters at the most: 'revenu' finds 'revenue', not 'level'.
        let limit = max(1, min(3, name.count / 4 + 1))
        let scored = Set(candidates).compactMap { c -> (Int, String)? in
            let d = distance(name, c)
            let prefix = c.lowercased().hasPrefix(name.lowercased()) && name.count >= 2
            return d <= limit || prefix ? (prefix ? min(d, limit) : d, c) : nil
        }
        return scored.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.prefix(3).map(\.1)
    }

    /// What kam writes for a word SQL or pandas habits bring (limit, order by, group by,
    /// desc): a hint, or nil.
    public static func sqlHabit(_ word: String) -> String? {
        switch word.lowercased() {
        case "limit", "head": return "kam keeps the first rows with take: ... | take 5 (or the largest: top 5 by revenue)"
        case "order", "orderby", "order_by", "sort_by": return "kam sorts with sort: ... | sort name (sort -name for descending)"
        case "desc", "descending": return "kam sorts descending with a minus: sort -name"
        case "asc", "ascending": return "kam sorts ascending by default: sort name"
        case "group", "groupby", "group_by": return "kam groups with aggregate: ... | aggregate n = count(), total = sum(amount) by region"
        case "having": return "filter groups after aggregate with where: ... | aggregate n = count() by region | where n > 5"
        case "like", "ilike": return "kam matches with ~ (a regular expression: name ~ \"^Ac\") or contains(name, \"Ac\")"
        default: return nil
        }
    }

    /// A name as a hint shows it: 'region', or in backquotes when it is not a plain word
    /// (`Annual Revenue`), the way a script writes it.
    public static func written(_ name: String) -> String {
        plainWord(name) ? "'\(name)'" : "`\(name)`"
    }

    /// A name a script can write as it is: a letter or '_' first, then letters, digits and
    /// '_', and not a keyword.
    public static func plainWord(_ name: String) -> Bool {
        guard let first = name.utf8.first, first == UInt8(ascii: "_") || first >= 0xC0 || (first | 0x20 >= 97 && first | 0x20 <= 122) else { return false }
        return TokenKind.keywords[name] == nil && name.utf8.allSatisfy { c in
            c == UInt8(ascii: "_") || c >= 0x80 || (c >= 48 && c <= 57) || (c | 0x20 >= 97 && c | 0x20 <= 122)
        }
    }

    /// "did you mean 'x'?" or "did you mean 'x' or 'y'?", nil when nothing is near.
    /// With `names`, the candidates are names a script writes (columns, links, fields),
    /// shown in backquotes when they are not plain words.
    public static func hint(_ name: String, in candidates: [String], names: Bool = false) -> String? {
        let found = near(name, in: candidates)
        guard !found.isEmpty else { return nil }
        let quoted = found.map { names ? written($0) : "'\($0)'" }
        if quoted.count == 1 { return "did you mean \(quoted[0])?" }
        return "did you mean \(quoted.dropLast().joined(separator: ", ")) or \(quoted[quoted.count - 1])?"
    }
}
