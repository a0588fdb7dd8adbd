import KamRuntime
import KamEngine
import KamData
import KamSyntax

/// Stakeholder governance: who the people at each account are, who of ours knows them,
/// and where coverage is thin.
enum Stakeholders {
    static let list: [Builtin] = [
        Builtin("stakeholders", ["table", "stale_after?"], .verb,
            "The governance map: one row per contact of the accounts with role, level, influence, attitude, our strongest relationship, last contact and flags (uncovered decision maker, hostile and powerful, stale, unknown).",
            .special(stakeholders)).producing(.table(["account", "contact", "title", "level", "role", "influence", "attitude", "our_contact", "strength", "last_contact", "flags"])),
        Builtin("coverage", ["table", "stale_after?"], .verb,
            "Relationship coverage per account: contacts, known, coverage, decision makers covered, single-threaded, executive coverage, hostile-and-powerful and stale contacts.",
            .special(coverage)).producing(.adds(["contacts", "known", "coverage", "decision_makers", "decision_makers_covered", "exec_covered", "single_threaded", "hostile_powerful", "stale", "their_top_known", "our_top", "exec_alignment"])),
    ]

    static let deciders: Set<String> = ["economic_buyer", "decision_maker"]

    /// What the map needs, resolved once.
    struct Map {
        let t: Table
        let contacts: AccountGraph.ReverseLink
        let contactTable: Table
        let relationships: AccountGraph.ReverseLink?
        let relationshipTable: Table?
        let employee: AccountGraph.ForwardLink?
        let employeeTable: Table?
        let staleAfter: Int
        let today: Int32

        func text(_ table: Table?, _ column: String, _ row: Int) -> Value { table?.column(column)?.value(at: row) ?? .null }

        /// The highest level among our people who know a contact.
        func ourLevel(_ contact: Int) -> String? {
            guard let relationships, let employee, let et = employeeTable else { return nil }
            let order = ["staff", "manager", "director", "vp", "exec"]
            var best: String? = nil
            for k in relationships.segment(contact) {
                let r = Int(relationships.rows[k])
                guard employee.rows[r] >= 0 else { continue }
                let level = Format.plain(text(et, "level", Int(employee.rows[r])))
                if let l = order.firstIndex(of: level), l > (best.flatMap { order.firstIndex(of: $0) } ?? -1) { best = level }
            }
            return best
        }

        /// Our strongest relationship with a contact: (employee name, strength, last contact).
        func strongest(_ contact: Int) -> (Value, Value, Int32?) {
            guard let relationships, let rt = relationshipTable else { return (.null, .null, nil) }
            var best: (Int, Double) = (-1, -1)
            var last: Int32? = nil
            for k in relationships.segment(contact) {
                let r = Int(relationships.rows[k])
                let s = rt.column("strength")?.value(at: r).asDouble ?? 0
                if s > best.1 { best = (r, s) }
                if case .date(let d)? = rt.column("last_contact")?.value(at: r) { last = max(last ?? d, d) }
            }
            guard best.0 >= 0 else { return (.null, .null, nil) }
            var name: Value = .null
            if let employee, let et = employeeTable, employee.rows[best.0] >= 0 { name = text(et, "name", Int(employee.rows[best.0])) }
            return (name, text(rt, "strength", best.0), last)
        }
    }

    static func map(_ site: inout CallSite, _ verb: String) throws -> Map {
        try site.checkNamed(["stale_after"])
        let t = try site.inputTable()
        guard let origin = t.origin, let contacts = origin.graph.entities[origin.entity].reverseLink("contacts") else {
            throw site.fail("\(verb) needs accounts with contacts linked to them", hints: ["usage: accounts | \(verb)"])
        }
        let g = origin.graph
        let contactEntity = g.entities[contacts.source]
        let rel = contactEntity.reverseLink("relationships")
        let relEntity = rel.map { g.entities[$0.source] }
        let employee = relEntity?.forwardLink("employee")
        var staleAfter = 90
        if let v = try site.option("stale_after") {
            guard case .int(let d) = v, d >= 1, d <= 100_000 else { throw site.interp.fail("stale_after must be a number of days", site.optionRange("stale_after")) }
            staleAfter = Int(d)
        }
        return Map(t: t, contacts: contacts, contactTable: contactEntity.table, relationships: rel, relationshipTable: relEntity?.table,
                   employee: employee, employeeTable: employee.map { g.entities[$0.target].table }, staleAfter: staleAfter, today: site.interp.options.today)
    }

    static func stakeholders(_ site: inout CallSite) throws -> Value {
        let m = try map(&site, "stakeholders")
        var rows: [Record] = []
        for i in 0..<m.t.count {
            for k in m.contacts.segment(m.t.entityRow(i)) {
                let c = Int(m.contacts.rows[k])
                let (who, strength, last) = m.strongest(c)
                // A missing role is null in the map, not the string "null".
                let roleValue = m.text(m.contactTable, "role", c)
                let role = roleValue.isNull ? "" : Format.plain(roleValue)
                let influence = m.text(m.contactTable, "influence", c).asDouble ?? 0
                let attitude = m.text(m.contactTable, "attitude", c).asDouble ?? 0
                var flags: [String] = []
                if who.isNull && deciders.contains(role) { flags.append("uncovered decision maker") }
                if attitude <= -1 && influence >= 4 { flags.append("hostile and powerful") }
                if let last, Int(m.today) - Int(last) > m.staleAfter { flags.append("stale") }
                if who.isNull { flags.append("unknown to us") }
                rows.append(Record([
                    ("account", m.t.column("name")?.value(at: i) ?? .null), ("contact", m.text(m.contactTable, "name", c)),
                    ("title", m.text(m.contactTable, "title", c)), ("level", m.text(m.contactTable, "level", c)), ("role", roleValue.isNull ? .null : .string(role)),
                    ("influence", m.text(m.contactTable, "influence", c)), ("attitude", m.text(m.contactTable, "attitude", c)),
                    ("our_contact", who), ("strength", strength), ("last_contact", last.map { .date($0) } ?? .null),
                    ("flags", .string(flags.joined(separator: ", "))),
                ]))
            }
        }
        let names = ["account", "contact", "title", "level", "role", "influence", "attitude", "our_contact", "strength", "last_contact", "flags"]
        if rows.isEmpty { return .table(Table(names: names, columns: names.map { _ in Column.from([]) }, count: 0)) }
        return .table(Table.fromRecords(rows))
    }

    static func coverage(_ site: inout CallSite) throws -> Value {
        let m = try map(&site, "coverage")
        var contacts = [Int64](), known = [Int64](), deciders = [Int64](), decidersCovered = [Int64](), exec = [Bool](), single = [Bool]()
        var hostile = [Int64](), stale = [Int64](), share = [Value]()
        var theirTop = [Value](), ourTop = [Value](), alignment = [Value]()
        let levels = ["staff": 1, "manager": 2, "director": 3, "vp": 4, "exec": 5]
        let names = [1: "staff", 2: "manager", 3: "director", 4: "vp", 5: "exec"]
        for i in 0..<m.t.count {
            var n: Int64 = 0, kn: Int64 = 0, d: Int64 = 0, dc: Int64 = 0, h: Int64 = 0, st: Int64 = 0
            var execKnown = false
            var theirs = 0, ours = 0
            for k in m.contacts.segment(m.t.entityRow(i)) {
                let c = Int(m.contacts.rows[k])
                n += 1
                let (who, _, last) = m.strongest(c)
                let role = Format.plain(m.text(m.contactTable, "role", c))
                let level = Format.plain(m.text(m.contactTable, "level", c))
                if !who.isNull {
                    kn += 1
                    if level == "exec" || level == "vp" { execKnown = true }
                    theirs = max(theirs, levels[level] ?? 0)
                    ours = max(ours, m.ourLevel(c).flatMap { levels[$0] } ?? 0)
                    if let last, Int(m.today) - Int(last) > m.staleAfter { st += 1 }
                }
                if Stakeholders.deciders.contains(role) { d += 1; if !who.isNull { dc += 1 } }
                if (m.text(m.contactTable, "attitude", c).asDouble ?? 0) <= -1 && (m.text(m.contactTable, "influence", c).asDouble ?? 0) >= 4 { h += 1 }
            }
            contacts.append(n); known.append(kn); deciders.append(d); decidersCovered.append(dc)
            exec.append(execKnown); single.append(kn <= 1); hostile.append(h); stale.append(st)
            share.append(n > 0 ? .float(Double(kn) / Double(n)) : .null)
            theirTop.append(names[theirs].map { .string($0) } ?? .null)
            ourTop.append(names[ours].map { .string($0) } ?? .null)
            alignment.append(theirs == 0 || ours == 0 ? .null : .string(ours >= theirs ? "aligned" : "gap"))
        }
        return .table(adding(m.t, [
            ("contacts", Column(storage: .int(contacts))), ("known", Column(storage: .int(known))), ("coverage", Column.from(share)),
            ("decision_makers", Column(storage: .int(deciders))), ("decision_makers_covered", Column(storage: .int(decidersCovered))),
            ("exec_covered", Column(storage: .bool(exec))), ("single_threaded", Column(storage: .bool(single))),
            ("hostile_powerful", Column(storage: .int(hostile))), ("stale", Column(storage: .int(stale))),
            ("their_top_known", Column.from(theirTop)), ("our_top", Column.from(ourTop)), ("exec_alignment", Column.from(alignment)),
        ]))
    }
}

/// The org chart of an account's contacts by their reporting lines: an indented tree, or
/// DOT or Mermaid text to draw it.
enum OrgChart {
    static let list: [Builtin] = [
        Builtin("org_chart", ["account", "format?"], .string,
            "The account's contacts by reporting line as text: format \"tree\" (default), \"dot\" or \"mermaid\"; people we know are marked with who knows them.",
            .eager(orgChart)),
    ]

    static func orgChart(_ ctx: inout CallContext, _ a: [Value]) throws -> Value {
        guard case .row(let t, let i) = a[0], let origin = t.origin,
            let contacts = origin.graph.entities[origin.entity].reverseLink("contacts")
        else {
            throw ctx.failArg(0, "org_chart needs an account row, got \(a[0].aTypeName)", hints: ["write org_chart(account(\"A0042\"))"])
        }
        var format = "tree"
        if case .string(let f) = a[1] {
            guard ["tree", "dot", "mermaid"].contains(f) else {
                throw ctx.failArg(1, "unknown org chart format \"\(f)\"", hints: [Suggest.hint(f, in: ["tree", "dot", "mermaid"]) ?? "formats: tree, dot, mermaid"])
            }
            format = f
        }
        let g = origin.graph
        let ce = g.entities[contacts.source], ct = ce.table
        let members = contacts.segment(t.entityRow(i)).map { Int(contacts.rows[$0]) }
        let memberSet = Set(members)
        let boss = ce.forwardLink("reports_to")
        let rel = ce.reverseLink("relationships")
        let employee = rel.flatMap { g.entities[$0.source].forwardLink("employee") }
        func text(_ c: String, _ r: Int) -> String { ct.column(c).map { Format.plain($0.value(at: r)) } ?? "" }
        func knownBy(_ c: Int) -> String? {
            guard let rel, let employee else { return nil }
            let who = rel.segment(c).compactMap { k -> String? in
                let r = Int(rel.rows[k])
                guard employee.rows[r] >= 0 else { return nil }
                return g.entities[employee.target].table.column("name").map { Format.plain($0.value(at: Int(employee.rows[r]))) }
            }
            return who.isEmpty ? nil : who.joined(separator: ", ")
        }
        func parent(_ c: Int) -> Int? {
            guard let boss, boss.rows[c] >= 0, memberSet.contains(Int(boss.rows[c])) else { return nil }
            return Int(boss.rows[c])
        }
        func label(_ c: Int) -> String {
            var parts = [text("name", c)]
            let detail = [text("title", c), text("role", c)].filter { !$0.isEmpty && $0 != "null" }
            if !detail.isEmpty { parts.append("(" + detail.joined(separator: ", ") + ")") }
            if let k = knownBy(c) { parts.append("- known by " + k) }
            return parts.joined(separator: " ")
        }
        var children: [Int: [Int]] = [:]
        var roots: [Int] = []
        for c in members { if let p = parent(c) { children[p, default: []].append(c) } else { roots.append(c) } }
        let id = { (c: Int) in "c\(c)" }
        switch format {
        case "dot":
            var out = "digraph org {\n  node [shape=box];\n"
            for c in members { out += "  \(id(c)) [label=\(JSON.quote(label(c)))\(knownBy(c) != nil ? ", style=bold" : "")];\n" }
            for c in members { if let p = parent(c) { out += "  \(id(p)) -> \(id(c));\n" } }
            return .string(out + "}")
        case "mermaid":
            var out = "graph TD\n"
            for c in members { out += "  \(id(c))[\"\(label(c).replacingOccurrences(of: "\"", with: "'"))\"]\n" }
            for c in members { if let p = parent(c) { out += "  \(id(p)) --> \(id(c))\n" } }
            return .string(String(out.dropLast()))
        default:
            var out = ""
            var seen = Set<Int>()
            func walk(_ c: Int, _ depth: Int) {
                guard depth < 64, seen.insert(c).inserted else { return }
                out += String(repeating: "  ", count: depth) + label(c) + "\n"
                for k in children[c] ?? [] { walk(k, depth + 1) }
            }
            for r in roots { walk(r, 0) }
            // Reporting lines that loop never reach a root: list them too.
            for c in members where !seen.contains(c) { walk(c, 0) }
            return .string(String(out.dropLast()))
        }
    }
}
