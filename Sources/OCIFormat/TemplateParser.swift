/// The result of parsing: the main node list and the `{{define}}`d templates.
struct ParsedTemplate: Sendable {
    let root: [TemplateNode]
    let definitions: [String: [TemplateNode]]
}

/// Builds the node tree from tokens following Go's text/template/parse
/// grammar and error wording. Nesting (control structures and parentheses)
/// is bounded by `maxDepth`, so hostile templates cannot exhaust the stack.
struct TemplateParser {
    /// Maximum nesting of `if`/`range`/`with`/`block` and parentheses.
    static let maxDepth = 50

    var tokens: [TemplateToken]
    var index = 0
    var furthest = 0
    let functionNames: Set<String>
    var vars: [String] = ["$"]
    var rangeDepth = 0
    var depth = 0
    var actionLine = 0
    var definitions: [String: [TemplateNode]] = [:]

    static func parse(_ text: String, functionNames: Set<String>) throws -> ParsedTemplate {
        var parser = TemplateParser(tokens: TemplateLexer.tokenize(text), functionNames: functionNames)
        let root = try parser.parseTopLevel()
        return ParsedTemplate(root: root, definitions: parser.definitions)
    }

    /// What a list item turned out to be: a node, or the `{{end}}`/`{{else}}` closing the list.
    enum Item {
        case node(TemplateNode)
        case end
        case elseClause
    }

    // MARK: token access

    mutating func next() -> TemplateToken {
        let token = tokens[min(index, tokens.count - 1)]
        if index < tokens.count - 1 { index += 1 } else { index = tokens.count }
        furthest = max(furthest, min(index, tokens.count - 1))
        return token
    }

    mutating func peek() -> TemplateToken {
        let i = min(index, tokens.count - 1)
        furthest = max(furthest, i)
        return tokens[i]
    }

    mutating func backup() { index = max(0, index - 1) }

    mutating func nextNonSpace() -> TemplateToken {
        var token = next()
        while token.kind == .space { token = next() }
        return token
    }

    mutating func peekNonSpace() -> TemplateToken {
        let token = nextNonSpace()
        backup()
        return token
    }

    // MARK: errors

    func error(_ message: String) -> TemplateError {
        .parse(line: tokens[min(furthest, tokens.count - 1)].line, message: message)
    }

    func unexpected(_ token: TemplateToken, in context: String) -> TemplateError {
        guard token.kind == .error else { return error("unexpected \(token.quoted) in \(context)") }
        var extra = ""
        if actionLine != 0, actionLine != token.line {
            extra = " in action started at :\(actionLine)"
            if token.text.hasSuffix(" action") { extra = String(extra.dropFirst(" in action".count)) }
        }
        return .parse(line: token.line, message: token.text + extra)
    }

    mutating func expect(_ kind: TemplateToken.Kind, _ context: String) throws -> TemplateToken {
        let token = nextNonSpace()
        guard token.kind == kind else { throw unexpected(token, in: context) }
        return token
    }

    mutating func enterNesting(_ message: String) throws {
        depth += 1
        if depth > Self.maxDepth { throw error(message) }
    }

    // MARK: lists

    mutating func parseTopLevel() throws -> [TemplateNode] {
        var root: [TemplateNode] = []
        while peek().kind != .eof {
            if peek().kind == .leftDelim {
                let save = index
                _ = next()
                if nextNonSpace().kind == .keyword(.define) {
                    try parseDefinition()
                    continue
                }
                index = save
            }
            switch try textOrAction() {
            case let .node(node): root.append(node)
            case .end: throw error("unexpected {{end}}")
            case .elseClause: throw error("unexpected {{else}}")
            }
        }
        return root
    }

    /// `{{define "name"}} … {{end}}`; `define` is past.
    mutating func parseDefinition() throws {
        let context = "define clause"
        let name = try templateName(nextNonSpace(), context)
        _ = try expect(.rightDelim, context)
        try withFreshScope {
            let (list, end) = try $0.itemList()
            guard case .end = end else { throw $0.error("unexpected {{else}} in \(context)") }
            try $0.define(name, list)
        }
    }

    /// Parses in a new template's scope (`$` only, no enclosing range).
    mutating func withFreshScope(_ body: (inout TemplateParser) throws -> Void) throws {
        let (savedVars, savedRange) = (vars, rangeDepth)
        vars = ["$"]
        rangeDepth = 0
        defer { (vars, rangeDepth) = (savedVars, savedRange) }
        try body(&self)
    }

    mutating func define(_ name: String, _ list: [TemplateNode]) throws {
        if let existing = definitions[name], !Self.isEmpty(existing), !Self.isEmpty(list) {
            throw error("template: multiple definition of template \(GoQuote.quote(name))")
        }
        if let existing = definitions[name], Self.isEmpty(list), !Self.isEmpty(existing) { return }
        definitions[name] = list
    }

    static func isEmpty(_ list: [TemplateNode]) -> Bool {
        list.allSatisfy { node in
            if case let .text(t) = node { return t.allSatisfy(\.isWhitespace) }
            return false
        }
    }

    /// Items up to the `{{end}}` or `{{else}}` that closes them.
    mutating func itemList() throws -> ([TemplateNode], Item) {
        var list: [TemplateNode] = []
        while peekNonSpace().kind != .eof {
            let item = try textOrAction()
            guard case let .node(node) = item else { return (list, item) }
            list.append(node)
        }
        throw error("unexpected EOF")
    }

    mutating func textOrAction() throws -> Item {
        let token = nextNonSpace()
        switch token.kind {
        case .text:
            return .node(.text(token.text))
        case .leftDelim:
            actionLine = token.line
            defer { actionLine = 0 }
            return try action()
        default:
            throw unexpected(token, in: "input")
        }
    }

    mutating func templateName(_ token: TemplateToken, _ context: String) throws -> String {
        guard token.kind == .string || token.kind == .rawString else { throw unexpected(token, in: context) }
        guard let name = GoLiteral.unquote(token.text) else { throw error("invalid syntax: \(token.text)") }
        return name
    }
}
