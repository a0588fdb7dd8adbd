import KamRuntime
import KamEngine
import KamData
import KamSyntax

/// Cross-sell: what each account does not buy yet, ranked by what the accounts that buy
/// the same things also buy (item-to-item co-occurrence).
///
/// For an account buying the set S, a candidate item c not in S scores
///     score(c) = Σ_{b ∈ S} co(b, c) / sup(b)
/// where co(b, c) counts the accounts that buy both b and c and sup(b) those that buy b:
/// the sum of the confidences of the rules b -> c. `confidence` is the largest single
/// rule, `because` names its b (ties: the first b by name), and `expected_value` = confidence x the mean spend on c of
/// the accounts that buy it. Statistics come from every account of the entity; the
/// recommendations are for the rows of the input.
enum CrossSell {
    static let list: [Builtin] = [
        Builtin("cross_sell", ["table", "items", "top?", "value?"], .verb,
            "Rank what each account does not buy yet by co-occurrence: accounts | cross_sell orders.product.category, top: 3; one row per recommendation with score, confidence, expected_value and because.",
            .special(crossSell)).producing(.table(["account_id", "account", "item", "rank", "score", "confidence", "expected_value", "because"])),
        Builtin("cross_sell_eval", ["table", "items", "split", "k?", "date?"], .verb,
            "Offline evaluation: learn from what accounts bought before split, then the hit rate@k of the recommendations on what they newly bought from split on, against recommending the most popular items.",
            .special(evaluate)).producing(.record(["k", "accounts_evaluated", "hits", "hit_rate", "baseline_hits", "baseline_hit_rate", "lift"])),
        Builtin("whitespace", ["table", "items", "value?"], .verb,
            "The whitespace matrix: one row per account, one column per item with what the account spends on it (null: whitespace, an opportunity), plus bought and open counts.",
            .special(whitespace)).producing(.openTable),
    ]

    static func evaluate(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(["split", "k", "date"])
        let it = try items(site, "cross_sell_eval")
        guard case .date(let split)? = try site.option("split") else {
            throw site.fail("cross_sell_eval needs split: the date that separates learning from testing", hints: ["usage: accounts | cross_sell_eval orders.product.category, split: 2025-01-01, k: 3"])
        }
        var k = 3
        if let v = try site.option("k") {
            guard case .int(let n) = v, n >= 1, n <= 1000 else { throw site.interp.fail("k must be a whole number from 1 to 1000", site.optionRange("k")) }
            k = Int(n)
        }
        let dateColumn: Column
        if let d = site.named("date") {
            dateColumn = try site.interp.evalColumn(d.value, over: it.source, site.env)
        } else if let d = it.source.column("date") {
            dateColumn = d
        } else {
            throw site.fail("cross_sell_eval needs the date of each order line", hints: ["name it with date: ..., or give the orders a date column"])
        }
        guard case .date(let dates) = dateColumn.storage else {
            throw site.fail("the order dates must be dates, got \(dateColumn.type.rawValue) values")
        }
        let train = buildSets(it, include: { dateColumn.isValid($0) && dates[$0] < split })
        let test = buildSets(it, include: { dateColumn.isValid($0) && dates[$0] >= split })
        let model = Model(sets: train, names: it.names)
        var evaluated = 0, hits = 0, baseHits = 0
        for i in 0..<it.table.count {
            let e = it.table.entityRow(i)
            let before = train[e]
            let new = Set(test[e]).subtracting(before)
            if before.isEmpty || new.isEmpty { continue }
            evaluated += 1
            if model.recommend(before, top: k).contains(where: { new.contains(Int32($0)) }) { hits += 1 }
            if model.popular(before, top: k).contains(where: { new.contains(Int32($0)) }) { baseHits += 1 }
        }
        func rate(_ n: Int) -> Value { evaluated > 0 ? .float(Double(n) / Double(evaluated)) : .null }
        let lift: Value = baseHits > 0 ? .float(Double(hits) / Double(baseHits)) : .null
        return .record(Record([
            ("k", .int(Int64(k))), ("accounts_evaluated", .int(Int64(evaluated))), ("hits", .int(Int64(hits))), ("hit_rate", rate(hits)),
            ("baseline_hits", .int(Int64(baseHits))), ("baseline_hit_rate", rate(baseHits)), ("lift", lift),
        ]))
    }

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
                it.forEach(row) { c, share in
                    matrix[Int(c)][i] += it.spend.isEmpty ? 0 : (it.spend[row] ?? 0) * share
                    if seen.insert(c).inserted { bought[i] += 1; has[Int(c)][i] = true }
                    if it.spend.isEmpty { matrix[Int(c)][i] = 1 }
                }
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
            // Null where the account does not buy the item (the whitespace), with or without values.
            columns.append(it.spend.isEmpty ? Column(storage: .int(matrix[c].map { Int64($0) }), validity: has[c]) : Column(storage: .float(matrix[c]), validity: has[c]))
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
        /// When a path passes a second reverse link (contacts.interests.topic), a source row
        /// gives several items: all of them, here, instead of `codes`.
        var multi: [[Int32]]? = nil

        /// Each item of source row `row`, with its share of the row's value (a row of
        /// several items splits its value evenly among them).
        @inline(__always) func forEach(_ row: Int, _ body: (Int32, Double) -> Void) {
            if let multi {
                let items = multi[row]
                for c in items { body(c, 1 / Double(items.count)) }
            } else if codes[row] >= 0 {
                body(codes[row], 1)
            }
        }
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
            let column = try site.interp.evalColumn(v.value, over: source, site.env)
            // value: is read on each row the items come from (an order line), not per account.
            if case .values(let vs) = column.storage, vs.contains(where: { if case .list = $0 { true } else { false } }) {
                let source = g.entities[link.source].name
                throw site.interp.fail("\(verb)'s value: is read on each row of \(source), and this gives a list per row", v.value.range,
                    hints: ["name a column of \(source): value: amount"])
            }
            spend = try site.numbers(column, name: "value", at: v.value.range, role: verb)
        } else if let amount = source.column("amount") {
            spend = try site.numbers(amount, name: "amount", at: site.range, role: verb)
        }
        var codes = [Int32](repeating: -1, count: source.count)
        var itemNames: [Value] = []
        var multi: [[Int32]]? = nil
        let holdsLists: Bool = {
            guard case .values(let vs) = itemColumn.storage else { return false }
            return vs.contains { if case .list = $0 { true } else { false } }
        }()
        switch itemColumn.storage {
        case .values(let vs) where holdsLists:
            // Several items per row: each distinct one counts.
            var index: [HashKey: Int32] = [:]
            var all = [[Int32]](repeating: [], count: source.count)
            for i in 0..<source.count where itemColumn.isValid(i) {
                let elements: [Value]
                switch vs[i] {
                case .list(let xs): elements = xs
                case .null: elements = []
                default: elements = [vs[i]]
                }
                var seen = Set<Int32>()
                for v in elements where !v.isNull {
                    if case .table = v {
                        throw site.interp.fail("\(verb)'s items must be values, but the path gives tables", itemsExpr.range,
                            hints: ["end the path at a column: orders.product.category"])
                    }
                    let c: Int32
                    if let known = index[HashKey(v)] { c = known } else {
                        c = Int32(itemNames.count)
                        index[HashKey(v)] = c
                        itemNames.append(v)
                    }
                    if seen.insert(c).inserted { all[i].append(c) }
                }
            }
            multi = all
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
        return Items(table: t, entity: entity, link: link, source: source, codes: codes, names: itemNames, spend: spend, multi: multi)
    }

    static func crossSell(_ site: inout CallSite) throws -> Value {
        try site.checkNamed(["top", "value"])
        let it = try items(site, "cross_sell")
        let t = it.table, entity = it.entity, link = it.link, itemNames = it.names, spend = it.spend
        var top = 3
        if let v = try site.option("top") {
            guard case .int(let k) = v, k >= 1, k <= 1000 else { throw site.interp.fail("top must be a whole number from 1 to 1000", site.optionRange("top")) }
            top = Int(k)
        }
        let k = itemNames.count
        let sets = buildSets(it, include: nil)
        var itemSpend = [Double](repeating: 0, count: k)
        if !spend.isEmpty {
            for a in 0..<entity.table.count {
                for j in link.segment(a) {
                    let row = Int(link.rows[j])
                    it.forEach(row) { c, share in itemSpend[Int(c)] += (spend[row] ?? 0) * share }
                }
            }
        }
        let model = Model(sets: sets, names: itemNames)
        let sup = model.sup, conf = model.conf
        // Recommendations for the input rows.
        var outAccount: [Int] = [], outItem: [Value] = [], outRank: [Value] = [], outScore: [Value] = []
        var outConfidence: [Value] = [], outValue: [Value] = [], outBecause: [Value] = []
        for i in 0..<t.count {
            if i & 1023 == 0 { try site.interp.checkCancelled(site.range) }
            let set = sets[t.entityRow(i)]
            if set.isEmpty { continue }
            for (rank, c) in model.recommend(set, top: top).enumerated() {
                // `because`: the item with the strongest rule; a tie goes to the first name in
                // alphabetical order, whatever order the data came in.
                var best = 0.0, from: Int32 = -1
                for b in set {
                    let x = conf[Int(b) * k + c]
                    if x > best || (x == best && x > 0 && from >= 0 && Format.plain(itemNames[Int(b)]) < Format.plain(itemNames[Int(from)])) {
                        best = x
                        from = b
                    }
                }
                outAccount.append(i)
                outItem.append(itemNames[c])
                outRank.append(.int(Int64(rank + 1)))
                outScore.append(.float(model.score[c]))
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

extension CrossSell {
    /// Each account's distinct items as sorted codes, from the source rows `include` keeps.
    static func buildSets(_ it: Items, include: ((Int) -> Bool)?) -> [[Int32]] {
        let accounts = it.entity.table.count
        var sets = [[Int32]](repeating: [], count: accounts)
        var buffer: [Int32] = []
        for a in 0..<accounts {
            buffer.removeAll(keepingCapacity: true)
            for j in it.link.segment(a) {
                let row = Int(it.link.rows[j])
                if !(include?(row) ?? true) { continue }
                it.forEach(row) { c, _ in buffer.append(c) }
            }
            if buffer.isEmpty { continue }
            buffer.sort()
            var unique: [Int32] = [buffer[0]]
            for c in buffer.dropFirst() where c != unique[unique.count - 1] { unique.append(c) }
            sets[a] = unique
        }
        return sets
    }

    /// Supports, rule confidences, and ranking of the items an account does not buy yet.
    final class Model {
        let k: Int
        var sup: [Int32]
        var conf: [Double]
        let nameRank: [Int]
        private(set) var score: [Double]
        private var owned: [Int]
        private var stamp = 0

        init(sets: [[Int32]], names: [Value]) {
            k = names.count
            sup = [Int32](repeating: 0, count: k)
            var co = [Int32](repeating: 0, count: k * k)
            for s in sets {
                for c in s { sup[Int(c)] += 1 }
                if s.count > 1 { for x in s { for y in s where y != x { co[Int(x) * k + Int(y)] += 1 } } }
            }
            // Confidence of each rule b -> c, once; an account's scores are then sums of rows.
            conf = [Double](repeating: 0, count: k * k)
            for b in 0..<k where sup[b] > 0 {
                for c in 0..<k where c != b { conf[b * k + c] = Double(co[b * k + c]) / Double(sup[b]) }
            }
            // Ties are broken by item name.
            let order = (0..<k).sorted { Format.plain(names[$0]) < Format.plain(names[$1]) }
            var rank = [Int](repeating: 0, count: k)
            for (r, c) in order.enumerated() { rank[c] = r }
            nameRank = rank
            score = [Double](repeating: 0, count: k)
            owned = [Int](repeating: -1, count: k)
        }

        /// The best `top` items not in `set` with a score above 0, best first.
        func recommend(_ set: [Int32], top: Int) -> [Int] {
            stamp += 1
            let k = self.k
            score.withUnsafeMutableBufferPointer { sc in
                conf.withUnsafeBufferPointer { cf in
                    for c in 0..<k { sc[c] = 0 }
                    for b in set {
                        let row = Int(b) * k
                        for c in 0..<k { sc[c] += cf[row + c] }
                    }
                }
            }
            for b in set { owned[Int(b)] = stamp }
            return best(top) { self.owned[$0] != self.stamp && self.score[$0] > 0 ? self.score[$0] : nil }
        }

        /// The best `top` items by a value (nil: not a candidate), ties by name: an insertion list.
        func best(_ top: Int, _ value: (Int) -> Double?) -> [Int] {
            var chosen: [(Int, Double)] = []
            for c in 0..<k {
                guard let v = value(c) else { continue }
                if chosen.count == top, let last = chosen.last, !(v > last.1 || (v == last.1 && nameRank[c] < nameRank[last.0])) { continue }
                var at = chosen.count
                while at > 0 {
                    let p = chosen[at - 1]
                    if v > p.1 || (v == p.1 && nameRank[c] < nameRank[p.0]) { at -= 1 } else { break }
                }
                chosen.insert((c, v), at: at)
                if chosen.count > top { chosen.removeLast() }
            }
            return chosen.map(\.0)
        }

        /// The most popular items not in `set` (the baseline an evaluation compares with).
        func popular(_ set: [Int32], top: Int) -> [Int] {
            stamp += 1
            for b in set { owned[Int(b)] = stamp }
            return best(top) { self.owned[$0] != self.stamp && self.sup[$0] > 0 ? Double(self.sup[$0]) : nil }
        }
    }
}
