extension TemplateParser {
    /// An action; the left delimiter is past.
    mutating func action() throws -> Item {
        let token = nextNonSpace()
        switch token.kind {
        case .keyword(.block): return .node(try blockControl())
        case .keyword(.break): return .node(try loopControl(.breakLoop, "break"))
        case .keyword(.continue): return .node(try loopControl(.continueLoop, "continue"))
        case .keyword(.else):
            let peeked = peekNonSpace()
            if peeked.kind == .keyword(.if) || peeked.kind == .keyword(.with) { return .elseClause }
            _ = try expect(.rightDelim, "else")
            return .elseClause
        case .keyword(.end):
            _ = try expect(.rightDelim, "end")
            return .end
        case .keyword(.if): return .node(try conditional(.if))
        case .keyword(.with): return .node(try conditional(.with))
        case .keyword(.range): return .node(try rangeControl())
        case .keyword(.template): return .node(try templateControl())
        default:
            backup()
            return .node(.action(try pipeline("command", end: .rightDelim)))
        }
    }

    mutating func loopControl(_ node: TemplateNode, _ name: String) throws -> TemplateNode {
        let token = nextNonSpace()
        guard token.kind == .rightDelim else { throw unexpected(token, in: "{{\(name)}}") }
        guard rangeDepth > 0 else { throw error("{{\(name)}} outside {{range}}") }
        return node
    }

    /// `if`/`with` with any `else if`/`else with` chain, as one node.
    mutating func conditional(_ kind: ConditionalKind) throws -> TemplateNode {
        try enterNesting("max nesting depth exceeded")
        let mark = vars.count
        defer {
            vars.removeLast(vars.count - mark)
            depth -= 1
        }
        var clauses: [TemplateClause] = []
        while true {
            let pipe = try pipeline(kind.rawValue, end: .rightDelim)
            let (body, next) = try itemList()
            clauses.append(TemplateClause(pipeline: pipe, body: body))
            if case .end = next { return .conditional(kind, clauses, elseList: nil) }
            let keyword: TemplateToken.Keyword = kind == .if ? .if : .with
            if peek().kind == .keyword(keyword) {
                _ = self.next()
                continue
            }
            let (elseList, end) = try itemList()
            guard case .end = end else { throw error("expected end; found {{else}}") }
            return .conditional(kind, clauses, elseList: elseList)
        }
    }

    mutating func rangeControl() throws -> TemplateNode {
        try enterNesting("max nesting depth exceeded")
        let mark = vars.count
        defer {
            vars.removeLast(vars.count - mark)
            depth -= 1
        }
        let pipe = try pipeline("range", end: .rightDelim)
        rangeDepth += 1
        let (body, next) = try itemList()
        rangeDepth -= 1
        guard case .elseClause = next else { return .range(pipe, body: body, elseList: nil) }
        let (elseList, end) = try itemList()
        guard case .end = end else { throw error("expected end; found {{else}}") }
        return .range(pipe, body: body, elseList: elseList)
    }

    /// `{{block "name" pipeline}} body {{end}}`: defines `name` and invokes it.
    mutating func blockControl() throws -> TemplateNode {
        let context = "block clause"
        let token = nextNonSpace()
        let name = try templateName(token, context)
        let pipe = try pipeline(context, end: .rightDelim)
        try enterNesting("max nesting depth exceeded")
        defer { depth -= 1 }
        try withFreshScope {
            let (list, end) = try $0.itemList()
            guard case .end = end else { throw $0.error("unexpected {{else}} in \(context)") }
            try $0.define(name, list)
        }
        return .template(TemplateCall(pos: token.pos, name: name, pipeline: pipe))
    }

    mutating func templateControl() throws -> TemplateNode {
        let context = "template clause"
        let token = nextNonSpace()
        let name = try templateName(token, context)
        var pipe: TemplatePipeline?
        if nextNonSpace().kind != .rightDelim {
            backup()
            pipe = try pipeline(context, end: .rightDelim)
        }
        return .template(TemplateCall(pos: token.pos, name: name, pipeline: pipe))
    }
}
