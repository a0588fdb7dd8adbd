/// Cross-sell: what each account does not buy yet, ranked by what the accounts that buy
/// the same things also buy (item-to-item co-occurrence).
///
/// For an account buying the set S, a candidate item c not in S scores
///     score(c) = Σ_{b ∈ S} co(b, c) / sup(b)
/// where co(b, c) counts the accounts that buy both b and c and sup(b) those that buy b:
/// the sum of the confidences of the rules b -> c. `confidence` is the largest single
/// rule, `because` names its b, and `expected_value` = confidence x the mean spend on c of
/// the accounts that buy it. Statistics come from every account of the entity; the
/// recommendations are for the rows of the input.
enum CrossSell {
    static let list: [Builtin] = [
        Builtin("cross_sell", ["table", "items", "top?", "value?"], .verb,
            "Rank what each account does not buy yet by co-occurrence: accounts | cross_sell orders.product.category, top: 3; one row per recommendation with score, confidence, expected_value and because.",
            .special(crossSell)),
        Builtin("whitespace", ["table", "items", "value?"], .verb,
            "The whitespace matrix: one row per account, one column per item with what the account spends on it (null: whitespace, an opportunity), plus bought and open counts.",
            .special(whitespace)),
    ]

    static func whitespace(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(["value"])
        let it = try items(site, "whitespace")
        let t = it.table, k = it.names.count
        guard k <= 500 else {
            throw site.fail("whitespace would make \(k) columns (limit 500)", hints: ["use a coarser item, such as orders.product.category"])
        }
        let order = (0..<k).sorted { Format.plain(it.names[$0]) < Format.plain(it.names[$1]) }
        var matrix = [[Double]](repeating: [Double](repeating: 0, count: t.count), count: k)
        var has = [Bitmap](repeating: Bitmap(count: t.count, allValid: false), count: k)
        var bought = [Int64](repeating: 0, count: t.count)
        for i in 0..<t.count {
            var seen = Set<Int32>()
            for j in it.link.segment(t.entityRow(i)) {
                let row = Int(it.link.rows[j])
                let c = it.codes[row]
                if c < 0 { continue }
                matrix[Int(c)][i] += it.spend.isEmpty ? 0 : (it.spend[row] ?? 0)
                if seen.insert(c).inserted { bought[i] += 1; has[Int(c)][i] = true }
                if it.spend.isEmpty { matrix[Int(c)][i] = 1 }
            }
        }
        var names: [String] = [], columns: [Column] = []
        for keyName in ["id", "name"] {
            if let c = t.column(keyName) { names.append(keyName); columns.append(c) }
        }
        for c in order {
            var name = Format.plain(it.names[c])
            while names.contains(name) { name += "_" }
            names.append(name)
            columns.append(it.spend.isEmpty ? Column(storage: .int(matrix[c].map { Int64($0) })) : Column(storage: .float(matrix[c]), validity: has[c]))
        }
        names += ["bought", "open"]
        columns += [Column(storage: .int(bought)), Column(storage: .int(bought.map { Int64(k) - $0 }))]
        return .table(Table(names: names, columns: columns, count: t.count))
    }

    /// The items each account buys: per row of the link's source (orders), an item code.
    struct Items {
        let table: Table
        let entity: AccountGraph.Entity
        let link: AccountGraph.ReverseLink
        let source: Table
        var codes: [Int32]
        var names: [Value]
        var spend: [Double?]
    }

    static func items(_ site: CallSite, _ verb: String) throws -> Items {
        let t = try site.inputTable()
        guard site.positional.count == 2 else {
            throw site.fail("\(verb) needs the items accounts buy", hints: ["usage: accounts | \(verb) orders.product.category"])
        }
        let itemsExpr = site.positional[1].value
        guard let origin = t.origin else {
            throw site.fail("\(verb) works on accounts of a dataset", hints: ["usage: accounts | \(verb) orders.product.category"])
        }
        let g = origin.graph
        let entity = g.entities[origin.entity]
        // items = REVERSE_LINK.path: split off the reverse link.
        var names: [String] = []
        var node = itemsExpr
        while case .member(let base, let name) = node.kind { names.insert(name, at: 0); node = base }
        guard case .name(let linkName) = node.kind, !names.isEmpty, let link = entity.reverseLink(linkName) else {
            throw site.interp.fail("\(verb) needs items reached through a link, such as orders.product.category", itemsExpr.range,
                hints: ["links of \(entity.name): " + entity.reverse.map(\.name).joined(separator: ", ")])
        }
        let source = g.entities[link.source].table
        var path = Expr(.name(names[0]), itemsExpr.range)
        for n in names.dropFirst() { path = Expr(.member(path, n), itemsExpr.range) }
        let itemColumn = try site.interp.evalColumn(path, over: source, site.env)
        var spend: [Double?] = []
        if let v = site.named("value") {
            spend = try site.numbers(try site.interp.evalColumn(v.value, over: source, site.env), name: "value", at: v.value.range, role: verb)
        } else if let amount = source.column("amount") {
            spend = try site.numbers(amount, name: "amount", at: site.range, role: verb)
        }
        var codes = [Int32](repeating: -1, count: source.count)
        var itemNames: [Value] = []
        switch itemColumn.storage {
        case .string(let s):
            for i in 0..<source.count where itemColumn.isValid(i) { codes[i] = Int32(s.codes[i]) }
            itemNames = s.dictionary.map { .string($0) }
        default:
            var index: [HashKey: Int32] = [:]
            for i in 0..<source.count where itemColumn.isValid(i) {
                let v = itemColumn.value(at: i)
                if let c = index[HashKey(v)] { codes[i] = c } else {
                    let c = Int32(itemNames.count)
                    index[HashKey(v)] = c
                    itemNames.append(v)
                    codes[i] = c
                }
            }
        }
        return Items(table: t, entity: entity, link: link, source: source, codes: codes, names: itemNames, spend: spend)
    }

    static func crossSell(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(["top", "value"])
        let it = try items(site, "cross_sell")
        let t = it.table, entity = it.entity, link = it.link, codes = it.codes, itemNames = it.names, spend = it.spend
        var top = 3
        if let v = try site.option("top") {
            guard case .int(let k) = v, k >= 1, k <= 1000 else { throw site.interp.fail("top must be a whole number from 1 to 1000", site.optionRange("top")) }
            top = Int(k)
        }
        let k = itemNames.count
        let accounts = entity.table.count
        // Each account's distinct items (sorted codes), and spend per item among buyers.
        var sets = [[Int32]](repeating: [], count: accounts)
        var itemSpend = [Double](repeating: 0, count: k)
        var sup = [Int32](repeating: 0, count: k)
        var buffer: [Int32] = []
        for a in 0..<accounts {
            buffer.removeAll(keepingCapacity: true)
            for j in link.segment(a) {
                let row = Int(link.rows[j])
                let c = codes[row]
                if c < 0 { continue }
                buffer.append(c)
                if !spend.isEmpty { itemSpend[Int(c)] += spend[row] ?? 0 }
            }
            if buffer.isEmpty { continue }
            buffer.sort()
            var unique: [Int32] = [buffer[0]]
            for c in buffer.dropFirst() where c != unique[unique.count - 1] { unique.append(c) }
            for c in unique { sup[Int(c)] += 1 }
            sets[a] = unique
        }
        // Co-occurrence counts over all accounts.
        var co = [Int32](repeating: 0, count: k * k)
        for s in sets where s.count > 1 {
            for x in s { for y in s where y != x { co[Int(x) * k + Int(y)] += 1 } }
        }
        // Recommendations for the input rows.
        var outAccount: [Int] = [], outItem: [Value] = [], outRank: [Value] = [], outScore: [Value] = []
        var outConfidence: [Value] = [], outValue: [Value] = [], outBecause: [Value] = []
        // Confidence of each rule b -> c, once; an account's scores are then sums of rows.
        var conf = [Double](repeating: 0, count: k * k)
        for b in 0..<k where sup[b] > 0 {
            for c in 0..<k where c != b { conf[b * k + c] = Double(co[b * k + c]) / Double(sup[b]) }
        }
        // Item order for ties: by name.
        let nameOrder = (0..<k).sorted { Format.plain(itemNames[$0]) < Format.plain(itemNames[$1]) }
        var nameRank = [Int](repeating: 0, count: k)
        for (r, c) in nameOrder.enumerated() { nameRank[c] = r }
        var score = [Double](repeating: 0, count: k)
        var owned = [Int](repeating: -1, count: k)  // the input row that owns the item
        var chosen: [Int] = []
        chosen.reserveCapacity(top + 1)
        for i in 0..<t.count {
            if i & 1023 == 0 { try site.interp.checkCancelled(site.range) }
            let set = sets[t.entityRow(i)]
            if set.isEmpty { continue }
            score.withUnsafeMutableBufferPointer { sc in
                conf.withUnsafeBufferPointer { cf in
                    for c in 0..<k { sc[c] = 0 }
                    for b in set {
                        let row = Int(b) * k
                        for c in 0..<k { sc[c] += cf[row + c] }
                    }
                }
            }
            for b in set { owned[Int(b)] = i }
            // The best `top` candidates by score, ties by name: a short insertion list.
            chosen.removeAll(keepingCapacity: true)
            for c in 0..<k where owned[c] != i && score[c] > 0 {
                if chosen.count == top, let last = chosen.last, !(score[c] > score[last] || (score[c] == score[last] && nameRank[c] < nameRank[last])) { continue }
                var at = chosen.count
                while at > 0 {
                    let p = chosen[at - 1]
                    if score[c] > score[p] || (score[c] == score[p] && nameRank[c] < nameRank[p]) { at -= 1 } else { break }
                }
                chosen.insert(c, at: at)
                if chosen.count > top { chosen.removeLast() }
            }
            for (rank, c) in chosen.enumerated() {
                var best = 0.0, from: Int32 = -1
                for b in set where conf[Int(b) * k + c] > best { best = conf[Int(b) * k + c]; from = b }
                outAccount.append(i)
                outItem.append(itemNames[c])
                outRank.append(.int(Int64(rank + 1)))
                outScore.append(.float(score[c]))
                outConfidence.append(.float(best))
                outValue.append(spend.isEmpty || sup[c] == 0 ? .null : .float(best * itemSpend[c] / Double(sup[c])))
                outBecause.append(from >= 0 ? .string("buys " + Format.plain(itemNames[Int(from)])) : .null)
            }
        }
        // The account's id and name, then the recommendation.
        var names2: [String] = [], columns: [Column] = []
        for keyName in ["id", "name"] {
            if let c = t.column(keyName) {
                names2.append(keyName == "id" ? "account_id" : "account")
                columns.append(c.gather(outAccount))
            }
        }
        names2 += ["item", "rank", "score", "confidence", "expected_value", "because"]
        columns += [Column.from(outItem), Column.from(outRank), Column.from(outScore), Column.from(outConfidence), Column.from(outValue), Column.from(outBecause)]
        return .table(Table(names: names2, columns: columns, count: outAccount.count))
    }
}
