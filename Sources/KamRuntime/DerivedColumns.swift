import Foundation
import KamData
import KamSyntax

/// The columns a manifest derives (`amount = "unit_price * quantity * (1 - discount)"`),
/// computed as `ENTITY | derive COLUMN = EXPRESSION` would be: checked against the graph
/// first, then evaluated over whole columns. Errors point into the manifest.
public enum DerivedColumns {
    /// The deriver a dataset load calls, evaluating with `options` (today's date, params).
    public static func deriver(options: Interpreter.Options) -> DatasetLoader.Deriver {
        { graph, entity, spec, manifest in
            try derive(graph, entity: entity, spec, manifest: manifest, options: options)
        }
    }

    /// Loads a dataset with derived columns computed by kam.
    public static func load(_ path: String, strict: Bool = false, manifest: String? = nil,
                            options: Interpreter.Options = .init(), only: Set<String>? = nil,
                            loaded: ((Table) -> Void)? = nil) throws -> (AccountGraph, DatasetLoader.Report) {
        try DatasetLoader.load(path, options: .init(strict: strict, manifest: manifest, deriver: deriver(options: options), only: only,
                                                    loaded: loaded))
    }

    /// A database's entities and rows (`--data duckdb:crm.duckdb --engine kam`), with a
    /// manifest's derived columns computed as for a file.
    public static func load(database: DatabaseCatalog, strict: Bool = false, manifest: String? = nil,
                            options: Interpreter.Options = .init()) throws -> (AccountGraph, DatasetLoader.Report) {
        try DatasetLoader.load(database: database, manifestFile: manifest, options: .init(strict: strict, manifest: manifest, deriver: deriver(options: options)))
    }

    /// The source the expression is parsed from: where the manifest writes it as is, the
    /// manifest's own text with everything else blanked (so every position, in messages and
    /// hints alike, is the manifest's); otherwise the expression alone, named after it.
    public static func source(_ entity: String, _ spec: Manifest.Derived, _ manifest: Manifest) -> (parse: Source, shown: Source, located: Bool) {
        let bytes = Array(manifest.text.utf8)
        let expression = Array(spec.expression.utf8)
        if let offset = spec.offset, offset >= 0, offset + expression.count <= bytes.count,
           Array(bytes[offset..<(offset + expression.count)]) == expression {
            var blank = bytes.map { $0 == 0x0A ? $0 : 0x20 }
            blank.replaceSubrange(offset..<(offset + expression.count), with: expression)
            return (Source(name: manifest.file, text: String(decoding: blank, as: UTF8.self)), Source(name: manifest.file, text: manifest.text), true)
        }
        let alone = Source(name: "\(manifest.file) (\(entity).\(spec.column))", text: spec.expression)
        return (alone, alone, false)
    }

    public static func derive(_ graph: AccountGraph, entity: String, _ spec: Manifest.Derived, manifest: Manifest,
                              options: Interpreter.Options) throws -> Column {
        let (parseSource, shown, located) = source(entity, spec, manifest)
        let whereText = "in the derived column \(entity).\(spec.column)" + (spec.line.map { " (\(manifest.file):\($0))" } ?? "")
        func relocate(_ d: Diagnostic) -> Diagnostic {
            var d = d
            d.kind = d.kind == .warning ? .warning : .data
            if d.range != nil {
                d.source = shown
                if !located { d.notes.append("note: " + whereText) }
            } else {
                d.message += " " + whereText
            }
            return d
        }
        // One error to the loader: the first, with the others rendered after it.
        func relocate(_ list: DiagnosticList) -> Diagnostic {
            let ds = list.diagnostics.map(relocate)
            guard var first = ds.first else { return Diagnostic.data(file: manifest.file, line: spec.line, "the derived column \(entity).\(spec.column) fails") }
            first.notes += ds.dropFirst().map { $0.render().trimmingCharacters(in: .newlines) }
            return first
        }
        let parsed: Program
        do { parsed = try Parser.parse(parseSource) } catch { throw relocate(error) }
        guard parsed.statements.count == 1, case .expression(let expr) = parsed.statements[0].kind else {
            throw Diagnostic.data(file: manifest.file, line: spec.line, "the derived column \(entity).\(spec.column) must be one expression",
                hints: ["write: \(spec.column) = \"unit_price * quantity\""])
        }
        // ENTITY | derive COLUMN = EXPRESSION, around the expression where it stands.
        let at = expr.range
        let call = Expr(.call(callee: Expr(.name("derive"), at), args: [Arg(Expr(.name(entity), at)), Arg(expr, style: .assign, name: spec.column)],
                              piped: true), at)
        let program = Program(statements: [Stmt(.expression(call), at)], source: parseSource)
        let interp = Interpreter(options: options)
        try? interp.importModule("core", isFile: false, range: SourceRange(0, 0), into: interp.globals)
        interp.install(graph)
        // Only the entity's own rows and links: another entity's name that is no link yet
        // (the link may come from a column derived later) is unknown, so the column waits,
        // instead of reading that whole table.
        for e in graph.entities where e.name != entity { interp.globals.vars[e.name] = nil }
        let problems = Checker(interp).check(program, warnUnusedParameters: false, requireParameters: false).filter { $0.kind != .warning }
        if !problems.isEmpty { throw relocate(DiagnosticList(problems)) }
        var result: Value = .null
        do {
            try interp.run(program) { result = $0 }
        } catch let d as Diagnostic {
            throw relocate(d)
        } catch let list as DiagnosticList {
            throw relocate(list)
        }
        guard case .table(let t) = result, let c = t.column(spec.column) else {
            throw Diagnostic.data(file: manifest.file, line: spec.line, "the derived column \(entity).\(spec.column) gave no column")
        }
        return c
    }
}
