import KamData
import KamSyntax

/// A dataset as an SQL script: CREATE TABLE and INSERT for each entity, in kam's row order,
/// with kam's types. The conformance tests load the same data into every engine this way,
/// and `kam sql --dump` writes it for a database of one's own.
///
///     let script = SQLDump.script(graph, dialect: .postgres, orderColumn: "_kam_row")
public enum SQLDump {
    /// The script. `orderColumn`, when given, adds a column with each row's position (from
    /// 0), for engines that keep no row order of their own.
    public static func script(_ graph: AccountGraph, dialect: Dialect, orderColumn: String? = nil, batch: Int = 500) -> String {
        var out = ""
        for e in graph.entities {
            let t = e.table
            let types = t.columns.map { SQLSchema.type(of: $0) }
            var defs = zip(t.names, types).map { "\(dialect.quote($0)) \(dialect.typeName($1 == .null || $1 == .unknown ? .string : $1))" }
            if let orderColumn { defs.append("\(dialect.quote(orderColumn)) BIGINT") }
            out += "DROP TABLE IF EXISTS \(dialect.quote(e.name));\n"
            out += "CREATE TABLE \(dialect.quote(e.name)) (\(defs.joined(separator: ", ")));\n"
            var start = 0
            while start < t.count {
                let end = min(t.count, start + batch)
                var rows: [String] = []
                rows.reserveCapacity(end - start)
                for i in start..<end {
                    var cells = (0..<t.columns.count).map { c in literal(t.columns[c].value(at: i), types[c], dialect) }
                    if orderColumn != nil { cells.append("\(i)") }
                    rows.append("(" + cells.joined(separator: ", ") + ")")
                }
                out += "INSERT INTO \(dialect.quote(e.name)) VALUES\n" + rows.joined(separator: ",\n") + ";\n"
                start = end
            }
        }
        return out
    }

    static func literal(_ v: Value, _ type: SQLType, _ d: Dialect) -> String {
        switch v {
        case .null: return "NULL"
        case .bool(let b): return d.bool(b)
        case .int(let n): return type == .float ? "\(Double(n))" : "\(n)"
        case .float(let x): return x.isFinite ? "\(x)" : "NULL"
        case .string(let s): return d.string(s)
        case .date(let n): return d.date(KamSyntax.Calendar.format(n))
        default: return d.string(Format.plain(v))
        }
    }
}
