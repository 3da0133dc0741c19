extension TemplateExecutor {
    /// Calls function `name`; `site` is where "error calling" is reported.
    mutating func evalFunction(_ dot: Value, _ name: String, site: Location, args: [TemplateOperand], final: Final) throws -> Value {
        guard let function = functions[name] else { throw fail("\(GoQuote.quote(name)) is not a defined function") }
        let fixed = function.parameters.count
        let count = args.count + (final.isPresent ? 1 : 0)
        if function.variadic != nil {
            if count < fixed { throw fail("wrong number of args for \(name): want at least \(fixed) got \(args.count)") }
        } else if count != fixed {
            throw fail("wrong number of args for \(name): want \(fixed) got \(count)")
        }
        func parameter(_ i: Int) -> TemplateFunction.Parameter {
            i < fixed ? function.parameters[i] : function.variadic ?? .any
        }

        switch function.body {
        case let .shortCircuit(stopWhen):
            var value: Value = nil
            for arg in args {
                value = try evalOperand(dot, arg)
                if (value?.isTruthy ?? false) == stopWhen { return value }
            }
            if case let .present(v) = final { value = v }
            return value
        case let .plain(body):
            var argv: [TemplateValue] = []
            argv.reserveCapacity(count)
            for (i, arg) in args.enumerated() { argv.append(try evalArg(dot, parameter(i), arg)) }
            if case let .present(v) = final { argv.append(try validate(v, parameter(args.count))) }
            let result: Value
            do {
                result = try body(argv, FunctionContext(options: options))
            } catch let error as TemplateError {
                throw error
            } catch {
                location = site
                let reason = (error as? FunctionError)?.message ?? "\(error)"
                throw fail("error calling \(name): \(reason)")
            }
            if let result { try checkSize(result, of: name) }
            return result
        }
    }

    /// Rejects a function result larger than the output limit.
    private func checkSize(_ value: TemplateValue, of name: String) throws {
        let size: Int
        switch value {
        case let .string(s): size = s.utf8.count
        case let .array(items): size = items.count * 16 + items.reduce(0) { $0 + ($1.stringValue?.utf8.count ?? 0) }
        default: return
        }
        if size > options.maxOutputBytes {
            throw TemplateError.limit("result of \(name) exceeds \(options.maxOutputBytes) bytes")
        }
    }

    /// An argument checked against its parameter type (Go's `evalArg`).
    private mutating func evalArg(_ dot: Value, _ parameter: TemplateFunction.Parameter, _ arg: TemplateOperand) throws -> TemplateValue {
        location = .operand(arg)
        switch arg {
        case .nilValue:
            guard parameter.acceptsNil else { throw fail("cannot assign nil to \(parameter.goName)") }
            return .null
        case .bool, .number, .string:
            return try literal(arg, as: parameter)
        default:
            return try validate(try evalOperand(dot, arg), parameter)
        }
    }

    private func literal(_ arg: TemplateOperand, as parameter: TemplateFunction.Parameter) throws -> TemplateValue {
        switch (parameter, arg) {
        case let (.string, .string(_, _, s)): return .string(s)
        case (.string, _): throw fail("expected string; found \(arg)")
        case let (.int, .number(_, n)):
            guard let i = n.int else { throw fail("expected integer; found \(arg)") }
            return .int(i)
        case (.int, _): throw fail("expected integer; found \(arg)")
        case (.stringArray, _): throw fail("can't handle \(arg) for arg of type []string")
        case let (.any, .bool(_, b)): return .bool(b)
        case let (.any, .string(_, _, s)): return .string(s)
        case let (.any, .number(_, n)): return try ideal(n) ?? .null
        case (.any, _): return .null
        }
    }

    /// A computed value checked against a parameter type (Go's `validateType`).
    private func validate(_ value: Value, _ parameter: TemplateFunction.Parameter) throws -> TemplateValue {
        guard let value else {
            guard parameter.acceptsNil else { throw fail("invalid value; expected \(parameter.goName)") }
            return .null
        }
        let ok: Bool
        switch (parameter, value) {
        case (.any, _), (.string, .string), (.int, .int), (.stringArray, .null): ok = true
        case let (.stringArray, .array(items)): ok = items.allSatisfy { $0.stringValue != nil }
        default: ok = false
        }
        guard ok else {
            let got = value == .null ? "interface {}" : value.goTypeName
            throw fail("wrong type for value; expected \(parameter.goName); got \(got)")
        }
        return value
    }
}
