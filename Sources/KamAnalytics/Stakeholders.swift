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
            .special(stakeholders)).producing(.table(["account", "contact", "title", "level", "role", "influence", "attitude", "our_contact", "strength", "last_contact", "flags", "not_assessed"]))
            .needing(inputs),
        Builtin("coverage", ["table", "stale_after?"], .verb,
            "Relationship coverage per account: contacts, known, coverage, decision makers covered, single-threaded, executive coverage, hostile-and-powerful and stale contacts.",
            .special(coverage)).producing(.adds(["contacts", "known", "coverage", "decision_makers", "decision_makers_covered", "exec_covered", "single_threaded", "hostile_powerful", "stale", "their_top_known", "our_top", "exec_alignment", "not_assessed"]))
            .needing(inputs),
    ]

    static let deciders: Set<String> = ["economic_buyer", "decision_maker"]

    /// What the map reads, and the options that point it elsewhere. A column the contacts
    /// do not have leaves its signal unassessed (said in not_assessed), never scored.
    static let inputs = [
        StageInput("contact", "contacts.name", for: "the people at each account", group: "contacts"),
        StageInput("title", "contacts.title", for: "titles", signal: "titles", optionalColumn: true, group: "contacts"),
        StageInput("role", "contacts.role", for: "buying roles (uncovered decision makers)", signal: "decision makers", optionalColumn: true, group: "contacts"),
        StageInput("level", "contacts.level", for: "their levels (executive coverage)", signal: "levels", optionalColumn: true, group: "contacts"),
        StageInput("influence", "contacts.influence", for: "hostile and powerful contacts", expects: .number, signal: "hostile and powerful",
                   optionalColumn: true, group: "contacts"),
        StageInput("attitude", "contacts.attitude", for: "hostile and powerful contacts", expects: .number, signal: "hostile and powerful",
                   optionalColumn: true, group: "contacts"),
        StageInput("strength", "contacts.relationships.strength", for: "our strongest relationship", expects: .number, signal: "relationships",
                   optionalColumn: true, group: "relationships"),
        StageInput("last_contact", "contacts.relationships.last_contact", for: "stale relationships", expects: .date, signal: "stale",
                   optionalColumn: true, group: "relationships"),
        StageInput("our_contact", "contacts.relationships.employee.name", for: "who of ours knows them", signal: "our people",
                   optionalColumn: true, group: "employees"),
        StageInput("our_level", "contacts.relationships.employee.level", for: "our levels (executive alignment)", signal: "our levels",
                   optionalColumn: true, group: "employees"),
    ]

    /// What the map needs, resolved once: the inputs looked up by name here, not per contact.
    struct Map {
        let t: Table
        let inputs: StageInputs
        let contact: ResolvedInput
        let staleAfter: Int
        let today: Int32
        let notAssessed: Value
        let strength: ResolvedInput?, lastContact: ResolvedInput?, ourContact: ResolvedInput?, ourLevelInput: ResolvedInput?
        let title: ResolvedInput?, role: ResolvedInput?, level: ResolvedInput?, influence: ResolvedInput?, attitude: ResolvedInput?
        /// From an account to its contacts' relationships (read from a contact: depth 1).
        let toRelationships: ResolvedInput?

        init(t: Table, inputs: StageInputs, contact: ResolvedInput, staleAfter: Int, today: Int32, notAssessed: Value) {
            self.t = t
            self.inputs = inputs
            self.contact = contact
            self.staleAfter = staleAfter
            self.today = today
            self.notAssessed = notAssessed
            strength = inputs["strength"]
            lastContact = inputs["last_contact"]
            ourContact = inputs["our_contact"]
            ourLevelInput = inputs["our_level"]
            title = inputs["title"]
            role = inputs["role"]
            level = inputs["level"]
            influence = inputs["influence"]
            attitude = inputs["attitude"]
            if let r = strength ?? lastContact {
                toRelationships = r
            } else if let r = ourContact ?? ourLevelInput {
                // For a path through employees, the relationship rows come one link before its end.
                toRelationships = r.droppingLastStep()
            } else {
                toRelationships = nil
            }
        }

        /// The contacts of row `i` of the input.
        func contacts(_ i: Int) -> [Int] { contact.rows(from: t.entityRow(i)) }

        /// Our relationships with a contact (rows of the relationships entity).
        func relationships(_ c: Int) -> [Int] { toRelationships?.rows(from: c, depth: 1) ?? [] }

        /// Our employee's value (name, level) on a relationship row.
        func ours(_ input: ResolvedInput?, _ relationship: Int) -> Value {
            guard let input, let row = input.rows(from: relationship, depth: 2).first else { return .null }
            return input.value(row)
        }

        /// Whether we have any way to know a contact: relationships in the dataset.
        var hasRelationships: Bool { strength != nil || lastContact != nil || ourContact != nil }

        /// The highest level among our people who know a contact.
        func ourLevel(_ contact: Int) -> String? {
            let order = ["staff", "manager", "director", "vp", "exec"]
            var best: String? = nil
            for r in relationships(contact) {
                let level = Format.plain(ours(ourLevelInput, r))
                if let l = order.firstIndex(of: level), l > (best.flatMap { order.firstIndex(of: $0) } ?? -1) { best = level }
            }
            return best
        }

        /// Our strongest relationship with a contact: (employee name, strength, last contact);
        /// the name is null when nobody of ours knows them.
        func strongest(_ contact: Int) -> (Value, Value, Int32?, Bool) {
            var best: (Int, Double) = (-1, -Double.infinity)
            var last: Int32? = nil
            for r in relationships(contact) {
                let s = strength?.number(r) ?? 0
                if s > best.1 { best = (r, s) }
                if let d = lastContact?.date(r) { last = max(last ?? Int32(d), Int32(d)) }
            }
            guard best.0 >= 0 else { return (.null, .null, nil, false) }
            return (ours(ourContact, best.0), strength?.value(best.0) ?? .null, last, true)
        }
    }

    static func map(_ site: inout CallSite, _ verb: String) throws -> Map {
        try site.checkNamed(["stale_after"])
        let t = try site.inputTable()
        let inputs = try site.stageInputs(t)
        guard let contact = inputs["contact"] else {
            throw site.fail("\(verb) needs accounts with contacts linked to them", hints: ["usage: accounts | \(verb)"])
        }
        var staleAfter = 90
        if let v = try site.option("stale_after") {
            guard case .int(let d) = v, d >= 1, d <= 100_000 else { throw site.interp.fail("stale_after must be a number of days", site.optionRange("stale_after")) }
            staleAfter = Int(d)
        }
        return Map(t: t, inputs: inputs, contact: contact, staleAfter: staleAfter, today: site.interp.options.today,
                   notAssessed: .string(inputs.absent.joined(separator: "; ")))
    }

    static func stakeholders(_ site: inout CallSite) throws -> Value {
        let m = try map(&site, "stakeholders")
        let names = ["account", "contact", "title", "level", "role", "influence", "attitude", "our_contact", "strength", "last_contact", "flags", "not_assessed"]
        // Column by column: a record per contact would hash every key of every row.
        var cells = [[Value]](repeating: [], count: names.count)
        let accountNames = m.t.column("name")
        for i in 0..<m.t.count {
            let account = accountNames?.value(at: i) ?? .null
            for c in m.contacts(i) {
                let (who, strength, last, known) = m.strongest(c)
                // A missing role is null in the map, not the string "null".
                let roleValue = m.role?.value(c) ?? .null
                let role = roleValue.isNull ? "" : Format.plain(roleValue)
                let influenceValue = m.influence?.value(c) ?? .null, attitudeValue = m.attitude?.value(c) ?? .null
                let influence = influenceValue.asDouble ?? 0
                let attitude = attitudeValue.asDouble ?? 0
                var flags: [String] = []
                if !known && deciders.contains(role) { flags.append("uncovered decision maker") }
                if attitude <= -1 && influence >= 4 { flags.append("hostile and powerful") }
                if let last, Int(m.today) - Int(last) > m.staleAfter { flags.append("stale") }
                if !known { flags.append("unknown to us") }
                cells[0].append(account)
                cells[1].append(m.contact.value(c))
                cells[2].append(m.title?.value(c) ?? .null)
                cells[3].append(m.level?.value(c) ?? .null)
                cells[4].append(roleValue.isNull ? .null : .string(role))
                cells[5].append(influenceValue)
                cells[6].append(attitudeValue)
                cells[7].append(who)
                cells[8].append(strength)
                cells[9].append(last.map { .date($0) } ?? .null)
                cells[10].append(.string(flags.joined(separator: ", ")))
                cells[11].append(m.notAssessed)
            }
        }
        return .table(Table(names: names, columns: cells.map { Column.from($0) }, count: cells[0].count))
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
            for c in m.contacts(i) {
                n += 1
                let (_, _, last, isKnown) = m.strongest(c)
                let role = Format.plain(m.role?.value(c) ?? .null)
                let level = Format.plain(m.level?.value(c) ?? .null)
                if isKnown {
                    kn += 1
                    if level == "exec" || level == "vp" { execKnown = true }
                    theirs = max(theirs, levels[level] ?? 0)
                    ours = max(ours, m.ourLevel(c).flatMap { levels[$0] } ?? 0)
                    if let last, Int(m.today) - Int(last) > m.staleAfter { st += 1 }
                }
                if Stakeholders.deciders.contains(role) { d += 1; if isKnown { dc += 1 } }
                if (m.attitude?.value(c).asDouble ?? 0) <= -1 && (m.influence?.value(c).asDouble ?? 0) >= 4 { h += 1 }
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
            ("not_assessed", Column(storage: .string(StringColumn(codes: [UInt32](repeating: 0, count: m.t.count), dictionary: [Format.plain(m.notAssessed)])))),
        ]))
    }
}

/// The org chart of an account's contacts by their reporting lines: an indented tree, or
/// DOT or Mermaid text to draw it.
enum OrgChart {
    static let list: [Builtin] = [
        Builtin("org_chart", ["account", "format?"], .string,
            "The account's contacts by reporting line as text: format \"tree\" (default), \"dot\", \"mermaid\" or \"svg\" (a drawing: boxes by reporting line, the people we know outlined); people we know are marked with who knows them.",
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
            guard ["tree", "dot", "mermaid", "svg"].contains(f) else {
                throw ctx.failArg(1, "unknown org chart format \"\(f)\"", hints: [Suggest.hint(f, in: ["tree", "dot", "mermaid", "svg"]) ?? "formats: tree, dot, mermaid, svg"])
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
        case "svg":
            // Top to bottom in reporting order, each person a box indented under their
            // manager with an elbow line to them; the people we know outlined in colour.
            var placed: [(c: Int, depth: Int)] = []
            var seen = Set<Int>()
            func place(_ c: Int, _ depth: Int) {
                guard depth < 64, seen.insert(c).inserted else { return }
                placed.append((c, depth))
                for k in children[c] ?? [] { place(k, depth + 1) }
            }
            for r in roots { place(r, 0) }
            for c in members where !seen.contains(c) { place(c, 0) }
            let rowHeight = 34, indent = 28, boxHeight = 24
            var width = 200
            var body = ""
            var rowOf: [Int: Int] = [:]
            for (i, p) in placed.enumerated() {
                rowOf[p.c] = i
                let text = label(p.c)
                let x = 8 + p.depth * indent, y = 8 + i * rowHeight
                let w = 16 + 7 * text.count
                width = max(width, x + w + 8)
                let known = knownBy(p.c) != nil
                body += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(w)\" height=\"\(boxHeight)\" rx=\"4\" class=\"\(known ? "known" : "unknown")\"/>"
                body += "<text x=\"\(x + 8)\" y=\"\(y + 16)\">\(HTMLPage.escape(text))</text>"
                if let parent = parent(p.c), let pr = rowOf[parent] {
                    let px = 8 + (p.depth - 1) * indent + 12, py = 8 + pr * rowHeight + boxHeight
                    body += "<path d=\"M\(px) \(py) V\(y + boxHeight / 2) H\(x)\"/>"
                }
            }
            let height = 16 + placed.count * rowHeight
            return .string("<svg class=\"org\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\">" + body + "</svg>")
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
