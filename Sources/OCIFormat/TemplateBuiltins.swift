/// Go text/template's predefined functions.
enum TemplateBuiltins {
    static let all: [String: TemplateFunction] = {
        var table: [String: TemplateFunction] = [:]
        for f in functions + TemplateComparison.functions { table[f.name] = f }
        return table
    }()

    private static let functions: [TemplateFunction] = [
        TemplateFunction("and", [.any], .any, body: .shortCircuit(stopWhen: false)),
        TemplateFunction("or", [.any], .any, body: .shortCircuit(stopWhen: true)),
        plain("not", [.any]) { args, _ in .bool(!args[0].isTruthy) },
        plain("len", [.any]) { args, _ in .int(Int64(try length(args[0]))) },
        plain("index", [.any], .any) { args, _ in try index(args[0], Array(args.dropFirst())) },
        plain("slice", [.any], .any) { args, _ in try slice(args[0], Array(args.dropFirst())) },
        plain("print", [], .any) { args, _ in .string(try GoValuePrinter.sprint(args)) },
        plain("println", [], .any) { args, _ in .string(try GoValuePrinter.sprintln(args)) },
        plain("printf", [.string], .any) { args, context in
            .string(try GoPrintf.sprintf(args[0].stringValue ?? "", Array(args.dropFirst()), limit: context.options.maxOutputBytes))
        },
        plain("html", [], .any) { args, _ in .string(GoEscapers.html(try textOf(args))) },
        plain("js", [], .any) { args, _ in .string(GoEscapers.js(try textOf(args))) },
        plain("urlquery", [], .any) { args, _ in .string(GoEscapers.queryEscape(try textOf(args))) },
        plain("call", [.any], .any) { args, _ in
            if args[0] == .null { throw FunctionError("call of nil") }
            throw FunctionError("non-function of type \(args[0].goTypeName)")
        },
    ]

    static func plain(
        _ name: String, _ parameters: [TemplateFunction.Parameter], _ variadic: TemplateFunction.Parameter? = nil,
        _ body: @escaping @Sendable ([TemplateValue], FunctionContext) throws -> TemplateValue?
    ) -> TemplateFunction {
        TemplateFunction(name, parameters, variadic, body: .plain(body))
    }

    /// The text of `html`/`js`/`urlquery` arguments (Go's `evalArgs`).
    private static func textOf(_ args: [TemplateValue]) throws -> String {
        if args.count == 1, let s = args[0].stringValue { return s }
        return try GoValuePrinter.sprint(args)
    }

    static func length(_ value: TemplateValue) throws -> Int {
        switch value {
        case let .string(s): return s.utf8.count
        case let .array(a): return a.count
        case let .object(o) where !o.isStructure: return o.count
        case .null: return 0
        default: throw FunctionError("len of type \(value.goTypeName)")
        }
    }

    /// An index within `0...bound` (Go's `indexArg`).
    private static func position(_ index: TemplateValue, bound: Int) throws -> Int {
        switch index {
        case let .int(x):
            guard x >= 0, x <= Int64(bound) else { throw FunctionError("index out of range: \(x)") }
            return Int(x)
        case .null: throw FunctionError("cannot index slice/array with nil")
        default: throw FunctionError("cannot index slice/array with type \(index.goTypeName)")
        }
    }

    static func index(_ item: TemplateValue, _ indexes: [TemplateValue]) throws -> TemplateValue? {
        if item == .null { throw FunctionError("index of untyped nil") }
        var current: TemplateValue? = item
        for index in indexes {
            switch current {
            case nil, .null?:
                throw FunctionError("index of nil pointer")
            case let .array(items)?:
                let x = try position(index, bound: items.count)
                guard x < items.count else { throw FunctionError("index out of range: \(x)") }
                current = items[x]
            case let .string(s)?:
                let bytes = Array(s.utf8)
                let x = try position(index, bound: bytes.count)
                guard x < bytes.count else { throw FunctionError("index out of range: \(x)") }
                current = .int(Int64(bytes[x]))
            case let .object(object)? where !object.isStructure:
                guard case let .string(key) = index else {
                    if index == .null { throw FunctionError("value is nil; should be of type string") }
                    throw FunctionError("value has type \(index.goTypeName); should be string")
                }
                current = object[key] ?? object.missingIndexValue
            case let other?:
                throw FunctionError("can't index item of type \(other.goTypeName)")
            }
        }
        return current
    }

    static func slice(_ item: TemplateValue, _ indexes: [TemplateValue]) throws -> TemplateValue {
        if item == .null { throw FunctionError("slice of untyped nil") }
        if indexes.count > 3 { throw FunctionError("too many slice indexes: \(indexes.count)") }
        let length: Int
        switch item {
        case let .string(s):
            if indexes.count == 3 { throw FunctionError("cannot 3-index slice a string") }
            length = s.utf8.count
        case let .array(a):
            length = a.count
        default:
            throw FunctionError("can't slice item of type \(item.goTypeName)")
        }
        var bounds = [0, length, length]
        for (i, index) in indexes.enumerated() { bounds[i] = try position(index, bound: length) }
        if bounds[0] > bounds[1] { throw FunctionError("invalid slice index: \(bounds[0]) > \(bounds[1])") }
        if indexes.count == 3, bounds[1] > bounds[2] { throw FunctionError("invalid slice index: \(bounds[1]) > \(bounds[2])") }
        switch item {
        case let .string(s): return .string(String(decoding: Array(s.utf8)[bounds[0]..<bounds[1]], as: UTF8.self))
        case let .array(a): return .array(Array(a[bounds[0]..<bounds[1]]))
        default: return item
        }
    }
}
