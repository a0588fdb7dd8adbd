import Foundation
import KamEngine
import KamData
import KamSyntax

/// Natives about the dataset: schema(), account(), input, and load of a dataset.
public enum GraphFunctions {
    public static let list: [Builtin] = [
        Builtin("schema", ["entity?"], .table, "The dataset's entities (rows, columns, links), or one entity's columns and links.", .eager { ctx, a in
            guard let g = try ctx.interp.currentDataset() else {
                throw ctx.fail("no dataset is loaded", hints: ["start kam with --data PATH, or load \"dir\""])
            }
            if a[0].isNull { return .table(overview(g)) }
            guard case .string(let name) = a[0] else { throw ctx.failArg(0, "schema needs an entity name, got \(a[0].aTypeName)") }
            guard let e = g.entity(name) else {
                throw ctx.failArg(0, "no entity '\(name)' in the dataset", hints: [Suggest.hint(name, in: g.entities.map(\.name)) ?? "entities: " + g.entities.map(\.name).joined(separator: ", ")])
            }
            return .table(detail(g, e))
        }),
        Builtin("account", ["key"], .table, "The account with this id or exact name: account(\"ACME-001\").", .eager { ctx, a in
            guard let g = try ctx.interp.currentDataset(), let e = g.entity("accounts") else {
                throw ctx.fail("no accounts in the dataset", hints: ["load a dataset with an accounts entity"])
            }
            if a[0].isNull { return .null }
            if let r = e.idIndex.row(a[0]) { return .row(e.table, Int(r)) }
            if case .string(let s) = a[0], let n = e.table.columnIndex("name") {
                let col = e.table.column(at: n)
                for r in 0..<e.table.count { if case .string(let v) = col.value(at: r), v == s { return .row(e.table, r) } }
                let names = (0..<e.table.count).compactMap { if case .string(let v) = col.value(at: $0) { v } else { nil } }
                throw ctx.failArg(0, "no account with id or name \(Format.literal(a[0], depth: 1))", hints: [Suggest.hint(s, in: names) ?? "ids and names must match exactly"])
            }
            throw ctx.failArg(0, "no account with id or name \(Format.literal(a[0], depth: 1))")
        }),
    ]

    public static func overview(_ g: AccountGraph) -> Table {
        let rows: [Record] = g.entities.map { e in
            Record([
                ("entity", .string(e.name)), ("rows", .int(Int64(e.table.count))), ("columns", .int(Int64(e.table.names.count))),
                ("links", .string(e.forward.map { "\($0.name) -> \(g.entities[$0.target].name)" }.joined(separator: ", "))),
                ("reverse", .string(e.reverse.map(\.name).joined(separator: ", "))),
            ])
        }
        return Table.fromRecords(rows)
    }

    public static func detail(_ g: AccountGraph, _ e: AccountGraph.Entity) -> Table {
        var rows: [Record] = []
        for (n, c) in zip(e.table.names, e.table.columns) {
            var nulls = 0
            if let v = c.validity { for i in 0..<c.count where !v[i] { nulls += 1 } }
            rows.append(Record([("name", .string(n)), ("kind", .string("column")), ("type", .string(c.type.rawValue)), ("nulls", .int(Int64(nulls))), ("target", .null)]))
        }
        for f in e.forward {
            rows.append(Record([("name", .string(f.name)), ("kind", .string("link")), ("type", .string("row")), ("nulls", .int(Int64(f.rows.lazy.filter { $0 < 0 }.count))), ("target", .string(g.entities[f.target].name))]))
        }
        for r in e.reverse {
            rows.append(Record([("name", .string(r.name)), ("kind", .string("reverse link")), ("type", .string("table")), ("nulls", .int(0)), ("target", .string(g.entities[r.source].name))]))
        }
        return Table.fromRecords(rows)
    }
}
