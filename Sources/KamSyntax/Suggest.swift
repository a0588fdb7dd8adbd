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

    /// "did you mean 'x'?" or "did you mean 'x' or 'y'?", nil when nothing is near.
    public static func hint(_ name: String, in candidates: [String]) -> String? {
        let found = near(name, in: candidates)
        guard !found.isEmpty else { return nil }
        let quoted = found.map { "'\($0)'" }
        if quoted.count == 1 { return "did you mean \(quoted[0])?" }
        return "did you mean \(quoted.dropLast().joined(separator: ", ")) or \(quoted[quoted.count - 1])?"
    }
}
