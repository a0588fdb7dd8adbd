import Foundation
import KamSyntax
import Testing

/// The TextMate grammar editors highlight kam with (editors/kam.tmLanguage.json): valid
/// JSON with every pattern a regular expression, every keyword of the lexer in it, and the
/// scopes it gives the pieces of a real line.
@Suite("editor grammar")
struct GrammarTests {
    static func grammar() throws -> [String: Any] {
        let url = Binary.packageRoot.appendingPathComponent("editors/kam.tmLanguage.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        return try #require(object as? [String: Any])
    }

    /// Every `match`, `begin` and `end` of the grammar, with the repository key it is under.
    static func patterns(_ node: Any, _ key: String, into out: inout [(key: String, field: String, regex: String)]) {
        if let dict = node as? [String: Any] {
            for field in ["match", "begin", "end"] { if let r = dict[field] as? String { out.append((key, field, r)) } }
            for (k, v) in dict { patterns(v, k == "patterns" || k == "captures" ? key : k, into: &out) }
        } else if let list = node as? [Any] {
            for v in list { patterns(v, key, into: &out) }
        }
    }

    @Test func everyPatternCompilesAndEveryKeywordIsThere() throws {
        let g = try GrammarTests.grammar()
        #expect(g["scopeName"] as? String == "source.kam")
        #expect(g["fileTypes"] as? [String] == ["kam"])
        var all: [(key: String, field: String, regex: String)] = []
        GrammarTests.patterns(g["repository"] ?? [:], "repository", into: &all)
        #expect(all.count > 15)
        for p in all {
            #expect((try? NSRegularExpression(pattern: p.regex)) != nil, "\(p.key).\(p.field): \(p.regex)")
        }
        let keywordRegexes = all.filter { $0.key == "keyword" }.map(\.regex).joined(separator: " ")
        for word in TokenKind.keywords.keys {
            #expect(keywordRegexes.contains(word), "the grammar does not highlight the keyword '\(word)'")
        }
    }

    /// The grammar's top-level patterns tried in order at each position, as an editor does:
    /// the scope each piece of a line gets.
    static func scopes(_ line: String) throws -> [(String, String)] {
        let g = try grammar()
        let repository = try #require(g["repository"] as? [String: Any])
        let order = (g["patterns"] as? [[String: String]] ?? []).compactMap { $0["include"]?.dropFirst() }.map(String.init)
        var rules: [(NSRegularExpression, [String: Any])] = []
        for key in order {
            guard let node = repository[key] as? [String: Any] else { continue }
            let own = node["match"] != nil || node["begin"] != nil
            for rule in own ? [node] : (node["patterns"] as? [[String: Any]]) ?? [] {
                if let r = (rule["match"] ?? rule["begin"]) as? String { rules.append((try NSRegularExpression(pattern: r), rule)) }
            }
        }
        let text = line as NSString
        var at = 0
        var out: [(String, String)] = []
        while at < text.length {
            var best: (NSTextCheckingResult, [String: Any])? = nil
            for (regex, rule) in rules {
                guard let m = regex.firstMatch(in: line, range: NSRange(location: at, length: text.length - at)) else { continue }
                if best == nil || m.range.location < (best?.0.range.location ?? .max) { best = (m, rule) }
            }
            guard let (m, rule) = best else { break }
            var end = m.range.location + m.range.length
            if rule["begin"] != nil, let e = rule["end"] as? String {
                // As an editor does: at each position an inner pattern (an escape) first,
                // then the end.
                let close = try NSRegularExpression(pattern: e)
                let inner = try ((rule["patterns"] as? [[String: Any]]) ?? []).compactMap { $0["match"] as? String }.map { try NSRegularExpression(pattern: $0) }
                var pos = end
                end = text.length
                scan: while pos < text.length {
                    let rest = NSRange(location: pos, length: text.length - pos)
                    for r in inner {
                        if let m = r.firstMatch(in: line, options: .anchored, range: rest) { pos += max(1, m.range.length); continue scan }
                    }
                    if let m = close.firstMatch(in: line, options: .anchored, range: rest) { end = pos + m.range.length; break }
                    pos += 1
                }
            }
            let piece = text.substring(with: NSRange(location: m.range.location, length: end - m.range.location))
            if let name = rule["name"] as? String { out.append((piece, name)) }
            for (i, c) in ((rule["captures"] as? [String: [String: String]]) ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard let n = Int(i), m.range(at: n).location != NSNotFound, let name = c["name"] else { continue }
                out.append((text.substring(with: m.range(at: n)), name))
            }
            at = max(end, at + 1)
        }
        return out
    }

    @Test func aLineOfKamGetsItsScopes() throws {
        let s = try GrammarTests.scopes(
            #"fn rev(t) = t | where date >= 2026-01-01 - 6mo and region == $region | derive x = round(amount * 1.5M, 2) # note"#)
        let got = Dictionary(s.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        #expect(got["fn"] == "keyword.declaration.function.kam")
        #expect(got["rev"] == "entity.name.function.kam")
        #expect(got["where"] == "entity.name.function.verb.kam")
        #expect(got["derive"] == "entity.name.function.verb.kam")
        #expect(got["2026-01-01"] == "constant.numeric.date.kam")
        #expect(got["6mo"] == "constant.numeric.duration.kam")
        #expect(got["1.5M"] == "constant.numeric.kam")
        #expect(got["and"] == "keyword.operator.word.kam")
        #expect(got["$region"] == "variable.parameter.kam")
        #expect(got["round"] == "entity.name.function.call.kam")
        #expect(got["# note"] == "comment.line.number-sign.kam")
        let str = try GrammarTests.scopes(#"let s = "total {sum(x)}" ?? 'it''s'"#)
        #expect(str.contains { $0.0 == #""total {sum(x)}""# && $0.1 == "string.quoted.double.kam" })
        #expect(str.contains { $0.0 == "'it''s'" && $0.1 == "string.quoted.single.kam" })
        #expect(str.contains { $0.0 == "s" && $0.1 == "variable.other.definition.kam" })
    }
}
