/// Stakeholder governance: who the people at each account are, who of ours knows them,
/// and where coverage is thin.
enum Stakeholders {
    static let list: [Builtin] = [
        Builtin("stakeholders", ["table", "stale_after?"], .verb,
            "The governance map: one row per contact of the accounts with role, level, influence, attitude, our strongest relationship, last contact and flags (uncovered decision maker, hostile and powerful, stale, unknown).",
            .special(stakeholders)),
        Builtin("coverage", ["table", "stale_after?"], .verb,
            "Relationship coverage per account: contacts, known, coverage, decision makers covered, single-threaded, executive coverage, hostile-and-powerful and stale contacts.",
            .special(coverage)),
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
                let role = Format.plain(m.text(m.contactTable, "role", c))
                let influence = m.text(m.contactTable, "influence", c).asDouble ?? 0
                let attitude = m.text(m.contactTable, "attitude", c).asDouble ?? 0
                var flags: [String] = []
                if who.isNull && deciders.contains(role) { flags.append("uncovered decision maker") }
                if attitude <= -1 && influence >= 4 { flags.append("hostile and powerful") }
                if let last, Int(m.today) - Int(last) > m.staleAfter { flags.append("stale") }
                if who.isNull { flags.append("unknown to us") }
                rows.append(Record([
                    ("account", m.t.column("name")?.value(at: i) ?? .null), ("contact", m.text(m.contactTable, "name", c)),
                    ("title", m.text(m.contactTable, "title", c)), ("level", m.text(m.contactTable, "level", c)), ("role", .string(role)),
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
        for i in 0..<m.t.count {
            var n: Int64 = 0, kn: Int64 = 0, d: Int64 = 0, dc: Int64 = 0, h: Int64 = 0, st: Int64 = 0
            var execKnown = false
            for k in m.contacts.segment(m.t.entityRow(i)) {
                let c = Int(m.contacts.rows[k])
                n += 1
                let (who, _, last) = m.strongest(c)
                let role = Format.plain(m.text(m.contactTable, "role", c))
                let level = Format.plain(m.text(m.contactTable, "level", c))
                if !who.isNull {
                    kn += 1
                    if level == "exec" || level == "vp" { execKnown = true }
                    if let last, Int(m.today) - Int(last) > m.staleAfter { st += 1 }
                }
                if Stakeholders.deciders.contains(role) { d += 1; if !who.isNull { dc += 1 } }
                if (m.text(m.contactTable, "attitude", c).asDouble ?? 0) <= -1 && (m.text(m.contactTable, "influence", c).asDouble ?? 0) >= 4 { h += 1 }
            }
            contacts.append(n); known.append(kn); deciders.append(d); decidersCovered.append(dc)
            exec.append(execKnown); single.append(kn <= 1); hostile.append(h); stale.append(st)
            share.append(n > 0 ? .float(Double(kn) / Double(n)) : .null)
        }
        return .table(adding(m.t, [
            ("contacts", Column(storage: .int(contacts))), ("known", Column(storage: .int(known))), ("coverage", Column.from(share)),
            ("decision_makers", Column(storage: .int(deciders))), ("decision_makers_covered", Column(storage: .int(decidersCovered))),
            ("exec_covered", Column(storage: .bool(exec))), ("single_threaded", Column(storage: .bool(single))),
            ("hostile_powerful", Column(storage: .int(hostile))), ("stale", Column(storage: .int(stale))),
        ]))
    }
}
