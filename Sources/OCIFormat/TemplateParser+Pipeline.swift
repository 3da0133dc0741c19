extension TemplateParser {
    /// `declarations? command ('|' command)*` up to `end` (`}}` or `)`).
    mutating func pipeline(_ context: String, end: TemplateToken.Kind) throws -> TemplatePipeline {
        var pipe = TemplatePipeline(pos: peekNonSpace().pos)
        try declarations(&pipe, context)
        while true {
            let token = nextNonSpace()
            if token.kind == end {
                try check(pipe, context)
                return pipe
            }
            switch token.kind {
            case .bool, .charConstant, .dot, .field, .identifier, .number, .nilValue, .rawString, .string, .variable, .leftParen:
                backup()
                pipe.commands.append(try command())
            default:
                throw unexpected(token, in: context)
            }
        }
    }

    /// `$x :=`, `$x =`, or (in range) `$i, $e :=`.
    private mutating func declarations(_ pipe: inout TemplatePipeline, _ context: String) throws {
        while true {
            let save = index
            let variable = nextNonSpace()
            guard variable.kind == .variable else {
                index = save
                return
            }
            let following = nextNonSpace()
            switch following.kind {
            case .assign, .declare:
                pipe.isAssign = following.kind == .assign
                pipe.declarations.append(variable.text)
                vars.append(variable.text)
                return
            case .char where following.text == ",":
                pipe.declarations.append(variable.text)
                vars.append(variable.text)
                if context == "range", pipe.declarations.count < 2 {
                    switch peekNonSpace().kind {
                    case .variable, .rightDelim, .rightParen: continue
                    default: throw error("range can only initialize variables")
                    }
                }
                throw error("too many declarations in \(context)")
            default:
                index = save
                return
            }
        }
    }

    private func check(_ pipe: TemplatePipeline, _ context: String) throws {
        guard !pipe.commands.isEmpty else { throw error("missing value for \(context)") }
        for (i, command) in pipe.commands.enumerated().dropFirst() {
            if let first = command.args.first, first.isConstant {
                throw error("non executable command in pipeline stage \(i + 1)")
            }
        }
    }

    /// Space-separated operands up to `|`, `}}` or `)`.
    private mutating func command() throws -> TemplateCommand {
        var command = TemplateCommand(pos: peekNonSpace().pos)
        while true {
            _ = peekNonSpace()
            if let operand = try operand() { command.args.append(operand) }
            let token = next()
            switch token.kind {
            case .space: continue
            case .rightDelim, .rightParen: backup()
            case .pipe: break
            default: throw unexpected(token, in: "operand")
            }
            break
        }
        guard !command.args.isEmpty else { throw error("empty command") }
        return command
    }

    /// A term followed by field accesses (`(pipe).A.B`, `$x.A`).
    private mutating func operand() throws -> TemplateOperand? {
        guard let term = try term() else { return nil }
        guard peek().kind == .field else { return term }
        let pos = peek().pos
        var fields: [String] = []
        while peek().kind == .field { fields.append(String(next().text.dropFirst())) }
        switch term {
        case let .field(_, names): return .field(pos: pos, names: names + fields)
        case let .variable(_, name, more): return .variable(pos: pos, name: name, fields: more + fields)
        case .bool, .string, .number, .nilValue, .dot:
            throw error("unexpected . after term \(GoQuote.quote(term.description))")
        default:
            return .chain(pos: pos, base: term, fields: fields)
        }
    }

    private mutating func term() throws -> TemplateOperand? {
        let token = nextNonSpace()
        switch token.kind {
        case .identifier:
            guard functionNames.contains(token.text) else { throw error("function \(GoQuote.quote(token.text)) not defined") }
            return .identifier(pos: token.pos, name: token.text)
        case .dot: return .dot(pos: token.pos)
        case .nilValue: return .nilValue(pos: token.pos)
        case .variable:
            guard vars.contains(token.text) else { throw error("undefined variable \(GoQuote.quote(token.text))") }
            return .variable(pos: token.pos, name: token.text, fields: [])
        case .field: return .field(pos: token.pos, names: [String(token.text.dropFirst())])
        case .bool: return .bool(pos: token.pos, token.text == "true")
        case .charConstant, .number:
            switch GoLiteral.number(token.text) {
            case let .success(number): return .number(pos: token.pos, number)
            case let .failure(failure): throw error(failure.message)
            }
        case .leftParen:
            try enterNesting("max expression depth exceeded")
            defer { depth -= 1 }
            return .pipeline(try pipeline("parenthesized pipeline", end: .rightParen))
        case .string, .rawString:
            guard let value = GoLiteral.unquote(token.text) else { throw error("invalid syntax: \(token.text)") }
            return .string(pos: token.pos, quoted: token.text, value: value)
        default:
            backup()
            return nil
        }
    }
}
