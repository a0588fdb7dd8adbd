extension Expr {
    /// Calls `body` on this node and every node below it, in source order.
    public func visit(_ body: (Expr) -> Void) {
        body(self)
        switch kind {
        case .null, .bool, .int, .float, .string, .date, .duration, .name, .param: break
        case .interpolation(let parts):
            for case .expr(let x) in parts { x.visit(body) }
        case .list(let xs): for x in xs { x.visit(body) }
        case .record(let fields): for (_, x) in fields { x.visit(body) }
        case .unary(_, let x): x.visit(body)
        case .binary(_, let a, let b), .and(let a, let b), .or(let a, let b), .coalesce(let a, let b):
            a.visit(body)
            b.visit(body)
        case .member(let x, _): x.visit(body)
        case .index(let x, let i):
            x.visit(body)
            i.visit(body)
        case .call(let callee, let args, _):
            callee.visit(body)
            for a in args { a.value.visit(body) }
        case .lambda(_, let b): b.visit(body)
        case .block(let stmts, let value):
            for s in stmts { s.visit(body) }
            value.visit(body)
        }
    }
}

extension Stmt {
    /// Calls `body` on every expression node of the statement.
    public func visit(_ body: (Expr) -> Void) {
        switch kind {
        case .letBinding(_, let v): v.visit(body)
        case .function(_, _, let b): b.visit(body)
        case .importModule: break
        case .parameter(_, let v): v?.visit(body)
        case .assertion(let c, let m):
            c.visit(body)
            m?.visit(body)
        case .expression(let e): e.visit(body)
        }
    }
}
