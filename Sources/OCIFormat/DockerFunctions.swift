/// The functions docker/cli adds to every template (its `templates`
/// package), and the identity variants it uses when rendering table headers.
enum DockerFunctions {
    static let basic: [TemplateFunction] = [
        TemplateBuiltins.plain("json", [.any]) { args, context in
            var out = ""
            try GoJSON.append(args[0], to: &out, escapeHTML: context.options.jsonEscapesHTML, depth: 0)
            return .string(out)
        },
        TemplateBuiltins.plain("split", [.string, .string]) { args, _ in
            .strings(GoStrings.split(string(args[0]), separator: string(args[1])))
        },
        TemplateBuiltins.plain("join", [.stringArray, .string]) { args, _ in
            guard case let .array(items) = args[0] else { return .string("") }
            return .string(items.compactMap(\.stringValue).joined(separator: string(args[1])))
        },
        TemplateBuiltins.plain("title", [.string]) { args, _ in .string(GoStrings.title(string(args[0]))) },
        TemplateBuiltins.plain("lower", [.string]) { args, _ in .string(GoStrings.lower(string(args[0]))) },
        TemplateBuiltins.plain("upper", [.string]) { args, _ in .string(GoStrings.upper(string(args[0]))) },
        TemplateBuiltins.plain("pad", [.string, .int, .int]) { args, context in
            let source = string(args[0])
            guard !source.isEmpty else { return .string(source) }
            let prefix = integer(args[1]), suffix = integer(args[2])
            guard prefix >= 0, suffix >= 0 else { throw FunctionError("strings: negative Repeat count") }
            let limit = Int64(context.options.maxOutputBytes)
            let (sum, overflow) = prefix.addingReportingOverflow(suffix)
            guard !overflow, sum <= limit - Int64(min(source.utf8.count, Int(limit))) else {
                throw TemplateError.limit("result of pad exceeds \(context.options.maxOutputBytes) bytes")
            }
            return .string(String(repeating: " ", count: Int(prefix)) + source + String(repeating: " ", count: Int(suffix)))
        },
        TemplateBuiltins.plain("truncate", [.string, .int]) { args, _ in
            .string(try GoStrings.truncate(string(args[0]), bytes: integer(args[1])))
        },
    ]

    /// Header variants: return the column name unchanged.
    static let header: [TemplateFunction] = [
        identity("json", [.string]),
        identity("split", [.string, .string]),
        identity("join", [.string, .string]),
        identity("title", [.string]),
        identity("lower", [.string]),
        identity("upper", [.string]),
        identity("truncate", [.string, .int]),
    ]

    private static func identity(_ name: String, _ parameters: [TemplateFunction.Parameter]) -> TemplateFunction {
        TemplateBuiltins.plain(name, parameters) { args, _ in args[0] }
    }

    private static func string(_ v: TemplateValue) -> String { v.stringValue ?? "" }

    private static func integer(_ v: TemplateValue) -> Int64 {
        if case let .int(i) = v { return i }
        return 0
    }
}
