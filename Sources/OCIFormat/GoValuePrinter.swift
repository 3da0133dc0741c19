/// Go's default textual form of values (`fmt.Print`, the `%v` verb), as
/// `{{.}}` prints them: `[a b]`, `map[k:v]`, `{a b}`, `<nil>`, `<no value>`.
enum GoValuePrinter {
    /// Deepest value nesting printed; deeper data is an error, not a crash.
    static let maxDepth = 100

    /// How an action prints its pipeline's value; "no value" prints `<no value>`.
    static func printed(_ value: TemplateValue?) throws -> String {
        guard let value else { return "<no value>" }
        var out = ""
        try append(value, to: &out, plusV: false, depth: 0)
        return out
    }

    /// `fmt.Sprint` of one operand (`%v`).
    static func string(_ value: TemplateValue, plusV: Bool = false) throws -> String {
        var out = ""
        try append(value, to: &out, plusV: plusV, depth: 0)
        return out
    }

    static func append(_ value: TemplateValue, to out: inout String, plusV: Bool, depth: Int) throws {
        guard depth < maxDepth else { throw TemplateError.limit("value nested deeper than \(maxDepth) levels") }
        switch value {
        case let .string(s): out += s
        case let .int(i): out += String(i)
        case let .double(d): out += GoFloat.shortestG(d)
        case let .bool(b): out += b ? "true" : "false"
        case .null: out += "<nil>"
        case let .array(items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += " " }
                try append(item, to: &out, plusV: plusV, depth: depth + 1)
            }
            out += "]"
        case let .object(object):
            out += object.isStructure ? "{" : "map["
            for (i, entry) in object.entries.enumerated() {
                if i > 0 { out += " " }
                if !object.isStructure || plusV { out += entry.key + ":" }
                try append(entry.value, to: &out, plusV: plusV, depth: depth + 1)
            }
            out += object.isStructure ? "}" : "]"
        }
    }

    /// `fmt.Sprint(args...)`: spaces between operands when neither is a string.
    static func sprint(_ args: [TemplateValue]) throws -> String {
        var out = ""
        var previousIsString = false
        for (i, arg) in args.enumerated() {
            let isString = arg.stringValue != nil
            if i > 0, !isString, !previousIsString { out += " " }
            try append(arg, to: &out, plusV: false, depth: 0)
            previousIsString = isString
        }
        return out
    }

    /// `fmt.Sprintln(args...)`: spaces between all operands, then a newline.
    static func sprintln(_ args: [TemplateValue]) throws -> String {
        var out = ""
        for (i, arg) in args.enumerated() {
            if i > 0 { out += " " }
            try append(arg, to: &out, plusV: false, depth: 0)
        }
        return out + "\n"
    }
}
