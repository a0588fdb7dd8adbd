import Foundation
import KamSyntax

/// SplitMix64: a small, fast, seedable generator; the same seed gives the same company on
/// every machine.
public struct SplitMix64 {
    public var state: UInt64
    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    public mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    public mutating func int(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
    public mutating func range(_ lo: Int, _ hi: Int) -> Int { lo + int(hi - lo + 1) }
    public mutating func chance(_ p: Double) -> Bool { unit() < p }
    public mutating func pick<T>(_ xs: [T]) -> T { xs[int(xs.count)] }
    /// Picks index i with probability weights[i] / sum.
    public mutating func weighted(_ cumulative: [Double]) -> Int {
        let x = unit() * (cumulative.last ?? 1)
        var lo = 0, hi = cumulative.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cumulative[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

/// The embedded demo company: a deterministic, realistic B2B customer base with every
/// standard entity, so each built-in has something real to show. Revenue is long-tailed
/// (a Pareto size per account), orders span three and a half years with seasonality and
/// growing and declining accounts, and some invoices are overdue.
public enum Demo {
    /// The last day of the demo's history; analyses of the demo pin `--today` near it.
    public static let endDate: Int32 = Calendar.days(year: 2026, month: 10, day: 31) ?? 0
    public static let startDate: Int32 = Calendar.days(year: 2023, month: 1, day: 1) ?? 0
    public static let defaultAccounts = 400

    public static let industries = ["BUILDING", "AUTOMOTIVE", "HEALTHCARE", "RETAIL", "FINANCE", "ENERGY", "LOGISTICS", "TECHNOLOGY"]
    public static let regions: [(String, [String])] = [
        ("EMEA", ["Germany", "France", "United Kingdom", "Netherlands", "Spain", "Sweden", "Poland"]),
        ("NA", ["United States", "Canada"]),
        ("APAC", ["Japan", "Australia", "Singapore", "India"]),
        ("LATAM", ["Brazil", "Mexico", "Chile"]),
    ]
    public static let syllables = ["Ac", "Bel", "Cor", "Dyn", "El", "Fen", "Gal", "Hel", "Ion", "Jun", "Kel", "Lum", "Mar", "Nov", "Or", "Pax", "Quin", "Ros", "Sol", "Tor", "Ul", "Ver", "Wes", "Xan", "Yor", "Zen"]
    public static let endings = ["a", "ex", "is", "on", "ar", "ium", "ora", "tec", "ent", "ix"]
    public static let forms = ["Inc.", "GmbH", "Ltd", "SA", "Group", "Holdings", "AG", "Corp."]
    public static let firstNames = ["Anna", "Ben", "Carla", "David", "Elena", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Luis", "Maya", "Noah", "Olga", "Paul", "Rosa", "Sam", "Tara", "Umar", "Vera", "Wei", "Yusuf", "Zoe", "Jörg", "Søren", "Amélie", "Kenji", "Priya", "Mateo"]
    public static let lastNames = ["Adler", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Hansen", "Ito", "Jensen", "Kowalski", "Lopez", "Müller", "Novak", "Olsen", "Patel", "Quinn", "Rossi", "Schmidt", "Tanaka", "Usman", "Visser", "Weber", "Xu", "Young", "Zimmer"]
    public static let categories: [(String, [String], ClosedRange<Double>)] = [
        ("Hardware", ["Sensors", "Controllers", "Gateways"], 400...6000),
        ("Software", ["Platform", "Analytics", "Security"], 1200...25000),
        ("Services", ["Consulting", "Training", "Integration"], 800...15000),
        ("Support", ["Standard", "Premium"], 300...9000),
        ("Consumables", ["Parts", "Kits"], 20...400),
        ("Cloud", ["Storage", "Compute"], 200...8000),
    ]
    public static let contactLevels: [(String, [String], Int)] = [
        ("exec", ["CEO", "CFO", "COO", "CTO", "CIO"], 5),
        ("vp", ["VP Operations", "VP Finance", "VP Engineering", "VP Procurement"], 4),
        ("director", ["Director of IT", "Procurement Director", "Plant Director", "Director of Finance"], 3),
        ("manager", ["IT Manager", "Purchasing Manager", "Operations Manager", "Project Manager"], 2),
        ("staff", ["Engineer", "Buyer", "Analyst", "Technician"], 1),
    ]
    public static let roles = ["economic_buyer", "decision_maker", "technical_buyer", "user", "influencer", "champion", "coach", "gatekeeper", "blocker"]

    /// Builds the demo as linked tables.
    public static func build(accounts n: Int = defaultAccounts, seed: UInt64 = 42) -> (AccountGraph, DatasetLoader.Report) {
        let tables = generate(accounts: n, seed: seed)
        let graph = AccountGraph(label: "demo company")
        var report = DatasetLoader.Report()
        // The generator's data is consistent by construction; linking cannot fail.
        try? Linker.link(graph, tables.map { ($0.0, $0.1, nil, "demo/\($0.0).csv") }, manifest: nil, options: .init(), report: &report)
        return (graph, report)
    }

    public static func companyName(_ r: inout SplitMix64, _ i: Int) -> String {
        r.pick(syllables) + r.pick(endings).lowercased() + (r.chance(0.4) ? r.pick(syllables).lowercased() : "") + " " + r.pick(forms)
    }

    public static func pad(_ prefix: String, _ i: Int, _ width: Int) -> String {
        let s = String(i)
        return prefix + String(repeating: "0", count: max(0, width - s.count)) + s
    }

    /// The names of the demo's tables, in the fixed order `generate` returns them.
    public static let tableOrder = ["accounts", "contacts", "employees", "relationships", "products", "orders", "opportunities",
                                    "surveys", "invoices", "contracts", "interactions"]

    /// The UTF-8 of the person names, as they are written (none needs quoting in CSV).
    static let nameBytes = (first: firstNames.map { Array($0.utf8) }, last: lastNames.map { Array($0.utf8) },
                            firstLower: firstNames.map { Array($0.lowercased().utf8) }, lastLower: lastNames.map { Array($0.lowercased().utf8) },
                            domain: Array(".example.com".utf8))

    /// The tables of the demo company, in a fixed order.
    public static func generate(accounts n: Int, seed: UInt64) -> [(String, Table)] {
        let output = DemoOutput(directory: nil)
        generate(accounts: n, seed: seed, into: output)
        return tableOrder.compactMap { name in output.tables[name].map { (name, $0) } }
    }

    /// Writes the demo company into `dir` as NAME.csv files while it is generated, the text
    /// of each table a megabyte at a time by a second thread: no table is ever in memory, so
    /// a million accounts take a few hundred megabytes. The files are the ones
    /// `CSVWriter.writeDataset(generate(...))` writes. Returns each table's row count, in
    /// `tableOrder`.
    public static func write(accounts n: Int, seed: UInt64, to dir: String) throws -> [(String, Int)] {
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw Diagnostic(.data, "cannot create \(dir): \(error.localizedDescription)")
        }
        let output = DemoOutput(directory: dir)
        generate(accounts: n, seed: seed, into: output)
        try output.wait()
        return tableOrder.map { ($0, output.counts[$0] ?? 0) }
    }

    /// Generates the demo company, each table's rows into `output` in one pass.
    ///
    /// One random stream makes every value, in one fixed order, so the same seed gives the
    /// same company. Employees, products, accounts, orders, contacts, relationships with
    /// interactions are made one after the other; opportunities, surveys, invoices and
    /// contracts together, account by account.
    static func generate(accounts n: Int, seed: UInt64, into output: DemoOutput) {
        var r = SplitMix64(seed: seed)
        let width = max(4, String(n).count)
        let days = Int(endDate - startDate)
        let A = UInt8(ascii: "A"), C = UInt8(ascii: "C"), E = UInt8(ascii: "E"), P = UInt8(ascii: "P")

        // Employees: a sales organisation. One head of sales, regional directors, managers, KAMs.
        let kamCount = max(6, n / 12)
        let managerCount = max(2, kamCount / 6)
        var emp = output.table("employees", [("id", .keyed), ("name", .keyed), ("title", .text), ("level", .text), ("manager_id", .keyed), ("region", .text)])
        var empIndex = 0
        func addEmployee(_ title: String, _ level: String, manager: Int?, region: String) -> Int {
            empIndex += 1
            emp.id(E, empIndex, 4)
            let first = r.int(firstNames.count), last = r.int(lastNames.count)
            emp.person(first, last)
            emp.text(title)
            emp.text(level)
            if let m = manager { emp.id(E, m, 4) } else { emp.null() }
            emp.text(region)
            emp.endRow()
            return empIndex
        }
        let head = addEmployee("Chief Sales Officer", "exec", manager: nil, region: "GLOBAL")
        var directors: [String: Int] = [:]
        for (region, _) in regions { directors[region] = addEmployee("Sales Director \(region)", "director", manager: head, region: region) }
        var managers: [(Int, String)] = []
        for m in 0..<managerCount {
            let region = regions[m % regions.count].0
            managers.append((addEmployee("Key Account Director", "manager", manager: directors[region], region: region), region))
        }
        var kams: [(Int, String)] = []
        for k in 0..<kamCount {
            let (mgr, region) = managers[k % managers.count]
            kams.append((addEmployee("Key Account Manager", "staff", manager: mgr, region: region), region))
        }
        output.finish(&emp)
        var kamsByRegion: [String: [Int]] = [:]
        for (k, region) in kams { kamsByRegion[region, default: []].append(k) }

        // Products.
        var prod = output.table("products", [("id", .text), ("name", .text), ("category", .text), ("family", .text), ("list_price", .float), ("unit_cost", .float)])
        var productPrice: [Double] = [], productCost: [Double] = [], productCategory: [Int] = []
        var pIndex = 0
        for (c, (category, families, prices)) in categories.enumerated() {
            for family in families {
                for v in 1...2 {
                    pIndex += 1
                    prod.text(pad("P", pIndex, 3))
                    prod.text("\(family) \(category == "Services" || category == "Support" ? "Package" : "Series") \(["S", "M", "L", "XL"][v + (pIndex % 2)])-\(pIndex)")
                    prod.text(category)
                    prod.text(family)
                    let price = (prices.lowerBound + r.unit() * (prices.upperBound - prices.lowerBound)).rounded()
                    let margin = category == "Software" || category == "Cloud" ? 0.7 + r.unit() * 0.2 : 0.25 + r.unit() * 0.3
                    prod.float(price)
                    prod.float((price * (1 - margin) * 100).rounded() / 100)
                    prod.endRow()
                    productPrice.append(price)
                    productCost.append((price * (1 - margin) * 100).rounded() / 100)
                    productCategory.append(c)
                }
            }
        }
        output.finish(&prod)
        let productCount = pIndex
        var productsOf: [[Int]] = Array(repeating: [], count: categories.count)
        for p in 0..<productCount { productsOf[productCategory[p]].append(p) }
        // Category co-purchase affinity: accounts that buy one category tend to buy its neighbours.
        let categoryWeights: [[Double]] = (0..<categories.count).map { c in (0..<categories.count).map { d in c == d ? 4 : (abs(c - d) == 1 ? 2 : 0.6) } }

        // Accounts.
        var acc = output.table("accounts", [("id", .keyed), ("name", n > 2000 ? .keyed : .text), ("parent_id", .keyed), ("industry", .text),
                                            ("region", .text), ("country", .text), ("owner_id", .keyed), ("tier", .text), ("employees", .int),
                                            ("founded", .int)])
        var size = [Double](repeating: 0, count: n), trend = [Double](repeating: 0, count: n), discountBase = [Double](repeating: 0, count: n)
        var accountOwner = [Int](repeating: 0, count: n), home = [Int](repeating: 0, count: n)
        for i in 0..<n {
            // Pareto(alpha 1.45) sizes give the 75/20 shape of real B2B bases.
            let u = max(1e-9, 1 - r.unit())
            size[i] = min(400, pow(u, -1 / 1.45))
            trend[i] = r.chance(0.25) ? -0.35 + r.unit() * 0.3 : (r.chance(0.3) ? 0.1 + r.unit() * 0.4 : -0.05 + r.unit() * 0.15)
            discountBase[i] = 0.02 + r.unit() * 0.08 + (size[i] > 8 ? 0.05 : 0)
            home[i] = r.int(categories.count)
            acc.id(A, i + 1, width)
            // Past 2000 accounts every name carries its number, so names are unique.
            if n > 2000 { acc.unique(companyName(&r, i) + " \(i + 1)") } else { acc.text(companyName(&r, i)) }
            let regionIndex = r.weighted([0.45, 0.75, 0.92, 1.0])
            let (region, countries) = regions[regionIndex]
            let parent = i > 10 && r.chance(0.1) ? r.int(i) : -1
            if parent >= 0 { acc.id(A, parent + 1, width) } else { acc.null() }
            acc.text(parent >= 0 ? industries[i % industries.count] : r.pick(industries))
            acc.text(region)
            acc.text(r.pick(countries))
            let owners = kamsByRegion[region] ?? kams.map(\.0)
            accountOwner[i] = owners[r.int(owners.count)]
            acc.id(E, accountOwner[i], 4)
            acc.text(size[i] > 12 ? "key" : size[i] > 3 ? "major" : "standard")
            acc.int(Int64((size[i] * 180 * (0.5 + r.unit())).rounded()) + 10)
            acc.int(Int64(1950 + r.int(70)))
            acc.endRow()
        }
        output.finish(&acc)

        // Orders: per account a yearly rate from its size, shaped by trend and season.
        var ord = output.table("orders", [("id", .int), ("account_id", .keyed), ("product_id", .keyed), ("date", .date), ("quantity", .int),
                                          ("unit_price", .float), ("discount", .float), ("amount", .float), ("cost", .float)])
        let seasonal: [Double] = [0.7, 0.8, 1.1, 0.9, 0.95, 1.05, 0.75, 0.7, 1.05, 1.1, 1.2, 1.6]
        var seasonCum: [Double] = []
        var acc2 = 0.0
        for s in seasonal { acc2 += s; seasonCum.append(acc2) }
        var orderId: Int64 = 0
        var lastOrder = [Int32](repeating: -1, count: n)
        var revenue = [Double](repeating: 0, count: n)
        var cum: [Double] = []
        for i in 0..<n {
            let active = r.chance(0.93)
            guard active else { continue }
            let perYear = max(0.3, size[i] * 0.35)
            let total = max(1, Int((perYear * 3.8 * (0.7 + 0.6 * r.unit())).rounded()))
            // Which categories this account buys: its home category and affine ones.
            cum.removeAll(keepingCapacity: true)
            var s = 0.0
            for w in categoryWeights[home[i]] { s += w; cum.append(s) }
            let churnAt: Int32? = trend[i] < -0.25 && r.chance(0.4) ? startDate + Int32(days / 2 + r.int(days / 2)) : nil
            for _ in 0..<total {
                // Dates: skew toward the end for growing accounts, the start for declining ones.
                var t = r.unit()
                let g = trend[i]
                if g > 0 { t = pow(t, 1 / (1 + g * 2)) } else if g < 0 { t = pow(t, 1 + (-g) * 2) }
                let month = r.weighted(seasonCum)
                var day = startDate + Int32(Double(days) * t)
                let (y, _, _) = Calendar.civil(day)
                day = Calendar.days(year: y, month: month + 1, day: 1 + r.int(28)) ?? day
                if day > endDate { day = endDate - Int32(r.int(60)) }
                if day < startDate { day = startDate + Int32(r.int(60)) }
                if let c = churnAt, day > c { continue }
                let category = r.weighted(cum)
                let choices = productsOf[category]
                let p = choices[r.int(choices.count)]
                let qty = Int64(max(1, Int((Double(1 + r.int(8)) * (category == 4 ? 12 : 1) * (size[i] > 20 ? 2 : 1)).rounded())))
                let yearsIn = Double(day - startDate) / 365.25
                var disc = discountBase[i] + (size[i] > 8 ? yearsIn * 0.012 : 0) + (r.chance(0.1) ? 0.05 : 0)
                disc = (min(0.45, disc) * 100).rounded() / 100
                let price = productPrice[p]
                let amount = ((Double(qty) * price * (1 - disc)) * 100).rounded() / 100
                orderId += 1
                ord.int(orderId)
                ord.id(A, i + 1, width)
                ord.id(P, p + 1, 3)
                ord.date(day)
                ord.int(qty)
                ord.float(price)
                ord.float(disc)
                ord.float(amount)
                ord.float(((Double(qty) * productCost[p]) * 100).rounded() / 100)
                ord.endRow()
                lastOrder[i] = max(lastOrder[i], day)
                revenue[i] += amount
            }
        }
        output.finish(&ord)

        // Contacts with levels, buying roles and reporting lines inside each account.
        var con = output.table("contacts", [("id", .keyed), ("account_id", .keyed), ("name", .keyed), ("title", .keyed), ("level", .text),
                                            ("role", .text), ("influence", .int), ("attitude", .int), ("reports_to_id", .keyed), ("email", .keyed)])
        // Contact c (from 0) of account i is one of contactStart[i] ..< contactStart[i + 1].
        var contactStart = [Int](repeating: 0, count: n + 1)
        var contactAttitude: [Int8] = [], contactLevel: [Int8] = []
        contactAttitude.reserveCapacity(n * 4)
        contactLevel.reserveCapacity(n * 4)
        let titleStride = contactLevels.map(\.1.count).max() ?? 1
        var cIndex = 0
        var bosses: [(Int, Int)] = []  // (contact index, level rank)
        for i in 0..<n {
            contactStart[i] = cIndex
            let count = min(14, 1 + Int(Double(size[i]).squareRoot() * 1.6) + r.int(3))
            bosses.removeAll(keepingCapacity: true)
            for k in 0..<count {
                let levelIndex = k == 0 ? (size[i] > 5 ? 0 : 1) : min(4, 1 + r.int(4))
                let (level, titles, rank) = contactLevels[levelIndex]
                cIndex += 1
                let first = r.int(firstNames.count), last = r.int(lastNames.count)
                con.id(C, cIndex, width + 1)
                con.id(A, i + 1, width)
                con.person(first, last)
                let title = r.int(titles.count)
                con.choice(levelIndex * titleStride + title, titles[title])
                con.text(level)
                let role: String
                switch level {
                case "exec": role = r.chance(0.7) ? "economic_buyer" : "decision_maker"
                case "vp": role = r.pick(["decision_maker", "economic_buyer", "influencer", "champion"])
                case "director": role = r.pick(["technical_buyer", "decision_maker", "influencer", "champion", "blocker"])
                case "manager": role = r.pick(["technical_buyer", "user", "influencer", "coach", "gatekeeper"])
                default: role = r.pick(["user", "user", "coach", "gatekeeper", "influencer"])
                }
                con.text(role)
                con.int(Int64(max(1, min(5, rank + r.range(-1, 0) + (role == "economic_buyer" || role == "decision_maker" ? 1 : 0)))))
                let attitude = role == "blocker" ? -2 + r.int(2) : role == "champion" ? 1 + r.int(2) : r.range(-1, 2) - (trend[i] < -0.2 ? 1 : 0)
                con.int(Int64(max(-2, min(2, attitude))))
                if let boss = bosses.last(where: { $0.1 > rank }) { con.id(C, boss.0, width + 1) } else { con.null() }
                bosses.append((cIndex, rank))
                con.email(first, last, account: i + 1)
                con.endRow()
                contactAttitude.append(Int8(attitude))
                contactLevel.append(Int8(rank))
            }
        }
        contactStart[n] = cIndex
        output.finish(&con)

        // Relationships (employee to contact) and interactions.
        var rel = output.table("relationships", [("employee_id", .keyed), ("contact_id", .keyed), ("strength", .int), ("last_contact", .date)])
        var inter = output.table("interactions", [("employee_id", .keyed), ("contact_id", .keyed), ("date", .date), ("kind", .text)])
        let kinds = ["email", "call", "meeting", "visit", "qbr"]
        for i in 0..<n {
            let owner = accountOwner[i]
            let contacts = contactStart[i]..<contactStart[i + 1]
            // Small accounts are often single-threaded: the owner knows one contact.
            let known = size[i] < 2 ? min(1, contacts.count) : max(1, Int(Double(contacts.count) * (0.3 + r.unit() * 0.6)))
            for (k, c) in contacts.prefix(known).enumerated() {
                let employee = k > 0 && r.chance(0.25) ? managers[r.int(managers.count)].0 : owner
                rel.id(E, employee, 4)
                rel.id(C, c + 1, width + 1)
                rel.int(Int64(max(1, min(5, 2 + r.range(-1, 2) + (contactAttitude[c] > 0 ? 1 : 0)))))
                let stale = r.chance(size[i] < 3 ? 0.4 : 0.15)
                let last = endDate - Int32(stale ? 120 + r.int(400) : r.int(90))
                rel.date(last)
                rel.endRow()
                let touches = 1 + r.int(size[i] > 8 ? 6 : 3)
                for _ in 0..<touches {
                    inter.id(E, employee, 4)
                    inter.id(C, c + 1, width + 1)
                    inter.date(max(startDate, last - Int32(r.int(365))))
                    inter.text(kinds[contactLevel[c] >= 4 ? r.int(5) : r.int(3)])
                    inter.endRow()
                }
            }
        }
        output.finish(&rel)
        output.finish(&inter)
        contactLevel = []

        // Opportunities, NPS surveys, invoices and contracts.
        var opp = output.table("opportunities", [("id", .keyed), ("account_id", .keyed), ("product_id", .keyed), ("stage", .text),
                                                 ("amount", .float), ("probability", .float), ("close_date", .date), ("owner_id", .keyed)])
        var sur = output.table("surveys", [("account_id", .keyed), ("contact_id", .keyed), ("date", .date), ("score", .int)])
        var inv = output.table("invoices", [("id", .keyed), ("account_id", .keyed), ("issued", .date), ("due", .date), ("paid", .date),
                                            ("amount", .float)])
        var ctr = output.table("contracts", [("id", .keyed), ("account_id", .keyed), ("start", .date), ("end", .date), ("value", .float)])
        let stages: [(String, Double)] = [("prospecting", 0.1), ("qualification", 0.2), ("proposal", 0.4), ("negotiation", 0.7), ("won", 1.0), ("lost", 0.0)]
        var oIndex = 0, invIndex = 0, ctrIndex = 0
        for i in 0..<n {
            for _ in 0..<(r.int(size[i] > 5 ? 5 : 3)) {
                oIndex += 1
                let (stage, prob) = stages[r.int(stages.count)]
                let p = r.int(productCount)
                opp.id(UInt8(ascii: "O"), oIndex, width + 1)
                opp.id(A, i + 1, width)
                opp.id(P, p + 1, 3)
                opp.text(stage)
                opp.float((productPrice[p] * Double(1 + r.int(10)) * (0.8 + r.unit() * 0.4)).rounded())
                opp.float(prob)
                let closeOffset = stage == "won" || stage == "lost" ? -Int32(r.int(700)) : Int32(r.int(240)) - 30
                opp.date(endDate + closeOffset)
                opp.id(E, accountOwner[i], 4)
                opp.endRow()
            }
            let contacts = contactStart[i]..<contactStart[i + 1]
            if !contacts.isEmpty && lastOrder[i] >= 0 {
                for _ in 0..<(1 + r.int(size[i] > 5 ? 5 : 2)) {
                    let c = contacts.lowerBound + r.int(contacts.count)
                    sur.id(A, i + 1, width)
                    sur.id(C, c + 1, width + 1)
                    sur.date(endDate - Int32(r.int(700)))
                    let base = 7.5 + Double(contactAttitude[c]) * 1.1 + trend[i] * 4
                    sur.int(Int64(max(0, min(10, (base + (r.unit() - 0.5) * 4).rounded()))))
                    sur.endRow()
                }
            }
            // Half-yearly invoices over the last two years for accounts with revenue.
            if revenue[i] > 0 {
                let quarterly = revenue[i] / 7
                var q = endDate - 730
                while q <= endDate - 20 {
                    invIndex += 1
                    inv.id(UInt8(ascii: "I"), invIndex, width + 2)
                    inv.id(A, i + 1, width)
                    inv.date(q)
                    let due = q + 30
                    inv.date(due)
                    let late = r.chance(trend[i] < -0.2 ? 0.35 : 0.08)
                    if due > endDate - 10 || (late && due > endDate - 150) { inv.null() } else { inv.date(due - 10 + Int32(r.int(late ? 60 : 20))) }
                    inv.float((quarterly * (0.7 + r.unit() * 0.6) * 100).rounded() / 100)
                    inv.endRow()
                    q += 182
                }
            }
            if size[i] > 3 || r.chance(0.15) {
                ctrIndex += 1
                let end = endDate - 200 + Int32(r.int(900))
                ctr.id(UInt8(ascii: "K"), ctrIndex, width + 1)
                ctr.id(A, i + 1, width)
                ctr.date(end - 365 * Int32(1 + r.int(3)))
                ctr.date(end)
                ctr.float((max(revenue[i], 5000) * (0.5 + r.unit() * 0.4)).rounded())
                ctr.endRow()
            }
        }
        output.finish(&opp)
        output.finish(&sur)
        output.finish(&inv)
        output.finish(&ctr)
    }
}
