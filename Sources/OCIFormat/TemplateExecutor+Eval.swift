extension TemplateExecutor {
    /// The value a previous pipeline stage passes as the last argument.
    enum Final {
        case absent
        case present(Value)

        var isPresent: Bool {
            if case .present = self { return true }
            return false
        }
    }

    mutating func evalPipeline(_ dot: Value, _ pipe: TemplatePipeline) throws -> Value {
        location = .pipeline(pipe)
        var final = Final.absent
        var value: Value = nil
        for command in pipe.commands {
            try step()
            value = try evalCommand(dot, command, final)
            final = .present(value)
        }
        for name in pipe.declarations {
            if pipe.isAssign { try assign(name, value) } else { vars.append((name, value)) }
        }
        return value
    }

    private mutating func evalCommand(_ dot: Value, _ command: TemplateCommand, _ final: Final) throws -> Value {
        guard let first = command.args.first else { throw fail("empty command") }
        switch first {
        case let .field(_, names):
            location = .operand(first)
            return try evalFieldChain(dot, dot, names, args: command.args, final: final)
        case .chain:
            return try evalChain(dot, first, args: command.args, final: final)
        case let .identifier(_, name):
            location = .operand(first)
            return try evalFunction(dot, name, site: .command(command), args: Array(command.args.dropFirst()), final: final)
        case let .pipeline(pipe):
            try notAFunction(command.args, final)
            return try nested { try $0.evalPipeline(dot, pipe) }
        case let .variable(_, name, fields):
            location = .operand(first)
            return try evalVariable(dot, name, fields, args: command.args, final: final)
        default:
            break
        }
        location = .operand(first)
        try notAFunction(command.args, final)
        switch first {
        case let .bool(_, b): return .bool(b)
        case .dot: return dot
        case .nilValue: throw fail("nil is not a command")
        case let .number(_, n): return try ideal(n)
        case let .string(_, _, s): return .string(s)
        default: throw fail("can't evaluate command \(GoQuote.quote(first.description))")
        }
    }

    func ideal(_ number: NumberLiteral) throws -> Value {
        switch number.ideal() {
        case let .success(v): return v
        case let .failure(f): throw fail(f.message)
        }
    }

    private func notAFunction(_ args: [TemplateOperand], _ final: Final) throws {
        if args.count > 1 || final.isPresent, let first = args.first {
            throw fail("can't give argument to non-function \(first)")
        }
    }

    mutating func evalVariable(_ dot: Value, _ name: String, _ fields: [String], args: [TemplateOperand], final: Final) throws -> Value {
        let value = try variable(name)
        if fields.isEmpty {
            try notAFunction(args, final)
            return value
        }
        return try evalFieldChain(dot, value, fields, args: args, final: final)
    }

    mutating func evalChain(_ dot: Value, _ chain: TemplateOperand, args: [TemplateOperand], final: Final) throws -> Value {
        guard case let .chain(_, base, fields) = chain else { return nil }
        location = .operand(chain)
        if case .nilValue = base { throw fail("indirection through explicit nil in \(chain)") }
        let receiver = try evalOperand(dot, base)
        location = .operand(chain)
        return try evalFieldChain(dot, receiver, fields, args: args, final: final)
    }

    /// `.A.B.C`: all but the last field take no arguments.
    mutating func evalFieldChain(_ dot: Value, _ receiver: Value, _ names: [String], args: [TemplateOperand], final: Final) throws -> Value {
        var receiver = receiver
        for (i, name) in names.enumerated() {
            let last = i == names.count - 1
            receiver = try evalField(name, receiver, hasArgs: last && (args.count > 1 || final.isPresent))
        }
        return receiver
    }

    private func evalField(_ name: String, _ receiver: Value, hasArgs: Bool) throws -> Value {
        guard let receiver else {
            if options.missingKey == .error { throw fail("nil data; no entry for key \(GoQuote.quote(name))") }
            return nil
        }
        switch receiver {
        case .null:
            throw fail("nil pointer evaluating interface {}.\(name)")
        case let .object(object) where object.isStructure:
            guard let value = object[name] else { throw fail("can't evaluate field \(name) in type \(object.goTypeName)") }
            if hasArgs { throw fail("\(name) has arguments but cannot be invoked as function") }
            return value
        case let .object(object):
            if hasArgs { throw fail("\(name) is not a method but has arguments") }
            if let value = object[name] { return value }
            switch options.missingKey {
            case .default: return nil
            case .zero: return object.missingIndexValue
            case .error: throw fail("map has no entry for key \(GoQuote.quote(name))")
            }
        default:
            throw fail("can't evaluate field \(name) in type \(receiver.goTypeName)")
        }
    }

    /// An operand's value with no expected type (Go's `evalEmptyInterface`).
    mutating func evalOperand(_ dot: Value, _ operand: TemplateOperand) throws -> Value {
        location = .operand(operand)
        switch operand {
        case .dot: return dot
        case .nilValue: return .null
        case let .bool(_, b): return .bool(b)
        case let .number(_, n): return try ideal(n)
        case let .string(_, _, s): return .string(s)
        case let .field(_, names): return try evalFieldChain(dot, dot, names, args: [operand], final: .absent)
        case let .variable(_, name, fields): return try evalVariable(dot, name, fields, args: [], final: .absent)
        case let .pipeline(pipe): return try nested { try $0.evalPipeline(dot, pipe) }
        case let .identifier(_, name): return try evalFunction(dot, name, site: .operand(operand), args: [], final: .absent)
        case .chain: return try evalChain(dot, operand, args: [], final: .absent)
        }
    }
}
