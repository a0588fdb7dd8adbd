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
                            options: Interpreter.Options = .init()) throws -> (AccountGraph, DatasetLoader.Report) {
        try DatasetLoader.load(path, options: .init(strict: strict, manifest: manifest, deriver: deriver(options: options)))
    }

    public static func derive(_ graph: AccountGraph, entity: String, _ spec: Manifest.Derived, manifest: Manifest,
                              options: Interpreter.Options) throws -> Column {
        let prefix = "\(entity) | derive \(spec.column) = "
        let source = Source(name: manifest.file, text: prefix + spec.expression)
        let interp = Interpreter(options: options)
        try? interp.importModule("core", isFile: false, range: SourceRange(0, 0), into: interp.globals)
        interp.install(graph)
        // Positions in the expression become positions in the manifest, where it is
        // written as is; otherwise the message names the line and shows the expression.
        let where_ = "in the derived column \(entity).\(spec.column)" + (spec.line.map { " (\(manifest.file):\($0))" } ?? "")
        func relocate(_ d: Diagnostic) -> Diagnostic {
            var d = d
            d.kind = d.kind == .warning ? .warning : .data
            if let r = d.range, r.start >= prefix.utf8.count {
                let shift = -prefix.utf8.count
                if let offset = spec.offset {
                    d.range = SourceRange(r.start + shift + offset, r.end + shift + offset)
                    d.source = Source(name: manifest.file, text: manifest.text)
                } else {
                    d.range = SourceRange(r.start + shift, r.end + shift)
                    d.source = Source(name: "\(manifest.file) (\(entity).\(spec.column))", text: spec.expression)
                    d.notes.append("note: " + where_)
                }
            } else {
                d.range = nil
                d.source = nil
                d.message += " " + where_
            }
            if d.message.contains("unknown") {
                d.hints.append("derived columns are computed in the order the manifest lists them; each sees the columns before it")
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
        let program: Program
        do { program = try Parser.parse(source) } catch { throw relocate(error) }
        guard program.statements.count == 1 else {
            throw Diagnostic.data(file: manifest.file, line: spec.line, "the derived column \(entity).\(spec.column) must be one expression",
                hints: ["write: \(spec.column) = \"unit_price * quantity\""])
        }
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
