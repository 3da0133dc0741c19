/// Go text/template's comparison functions `eq ne lt le gt ge`: basic kinds
/// only, integers with integers, floats with floats, strings byte-wise; `eq`
/// takes several right-hand operands (`eq .A "x" "y"`).
enum TemplateComparison {
    static let functions: [TemplateFunction] = [
        TemplateBuiltins.plain("eq", [.any], .any) { args, _ in .bool(try eq(args[0], Array(args.dropFirst()))) },
        TemplateBuiltins.plain("ne", [.any, .any]) { args, _ in .bool(!(try eq(args[0], [args[1]]))) },
        TemplateBuiltins.plain("lt", [.any, .any]) { args, _ in .bool(try lt(args[0], args[1])) },
        TemplateBuiltins.plain("le", [.any, .any]) { args, _ in
            .bool(try lt(args[0], args[1]) || eq(args[0], [args[1]]))
        },
        TemplateBuiltins.plain("gt", [.any, .any]) { args, _ in
            .bool(!(try lt(args[0], args[1]) || eq(args[0], [args[1]])))
        },
        TemplateBuiltins.plain("ge", [.any, .any]) { args, _ in .bool(!(try lt(args[0], args[1]))) },
    ]

    private enum Kind { case bool, int, float, string, other }

    private static func kind(_ v: TemplateValue) -> Kind {
        switch v {
        case .bool: return .bool
        case .int: return .int
        case .double: return .float
        case .string: return .string
        default: return .other
        }
    }

    private static func incompatible(_ a: TemplateValue, _ b: TemplateValue) -> FunctionError {
        FunctionError("incompatible types for comparison: \(a.goTypeName) and \(b.goTypeName)")
    }

    static func eq(_ a: TemplateValue, _ others: [TemplateValue]) throws -> Bool {
        guard !others.isEmpty else { throw FunctionError("missing argument for comparison") }
        let ka = kind(a)
        for b in others {
            let kb = kind(b)
            var truth = false
            if ka != kb {
                if a != .null, b != .null { throw incompatible(a, b) }
            } else {
                switch (a, b) {
                case let (.bool(x), .bool(y)): truth = x == y
                case let (.int(x), .int(y)): truth = x == y
                case let (.double(x), .double(y)): truth = x == y
                case let (.string(x), .string(y)): truth = x.utf8.elementsEqual(y.utf8)
                case (.null, _), (_, .null):
                    truth = a == .null && b == .null
                case let (.object(x), .object(y)) where x.isStructure && y.isStructure:
                    truth = x == y
                case (.array, .array), (.object, .object):
                    throw FunctionError("non-comparable type \(try GoValuePrinter.string(b)): \(b.goTypeName)")
                default:
                    throw FunctionError("non-comparable types \(try GoValuePrinter.string(a)): \(a.goTypeName), \(b.goTypeName): \(try GoValuePrinter.string(b))")
                }
            }
            if truth { return true }
        }
        return false
    }

    static func lt(_ a: TemplateValue, _ b: TemplateValue) throws -> Bool {
        let ka = kind(a), kb = kind(b)
        if ka == .other || kb == .other { throw FunctionError("invalid type for comparison") }
        if ka != kb { throw incompatible(a, b) }
        switch (a, b) {
        case let (.int(x), .int(y)): return x < y
        case let (.double(x), .double(y)): return x < y
        case let (.string(x), .string(y)): return goStringLess(x, y)
        default: throw FunctionError("invalid type for comparison")
        }
    }
}
