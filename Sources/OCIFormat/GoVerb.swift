/// Formats one `Sprintf` operand for one verb, following Go's `fmt` rules.
enum GoVerb {
    typealias Spec = GoPrintf.Spec

    static func format(_ arg: TemplateValue, verb: Character, spec: Spec, nested: Bool, depth: Int = 0) throws -> String {
        guard depth < GoValuePrinter.maxDepth else {
            throw TemplateError.limit("value nested deeper than \(GoValuePrinter.maxDepth) levels")
        }
        if verb == "T" { return pad(arg.goTypeName, spec) }
        switch arg {
        case .null:
            if nested || verb == "v" { return pad("<nil>", spec) }
            return "%!\(verb)(<nil>)"
        case let .bool(b):
            guard verb == "t" || verb == "v" else { return try bad(arg, verb, spec) }
            return pad(b ? "true" : "false", spec)
        case let .int(v):
            return try integer(v, verb: verb, spec: spec, arg: arg)
        case let .double(d):
            guard "eEfFgGv".contains(verb) else { return try bad(arg, verb, spec) }
            return float(d, verb: verb == "v" ? "g" : verb, spec: spec)
        case let .string(s):
            return try string(s, verb: verb, spec: spec, arg: arg)
        case let .array(items):
            let parts = try items.map { try format($0, verb: verb, spec: spec, nested: true, depth: depth + 1) }
            return "[" + parts.joined(separator: " ") + "]"
        case let .object(object):
            let parts = try object.entries.map { entry -> String in
                let value = try format(entry.value, verb: verb, spec: spec, nested: true, depth: depth + 1)
                if object.isStructure { return spec.plusV ? entry.key + ":" + value : value }
                return try format(.string(entry.key), verb: verb, spec: spec, nested: true, depth: depth + 1) + ":" + value
            }
            return (object.isStructure ? "{" : "map[") + parts.joined(separator: " ") + (object.isStructure ? "}" : "]")
        }
    }

    /// `%!verb(type=value)`, the value printed with `%v` and the same flags.
    private static func bad(_ arg: TemplateValue, _ verb: Character, _ spec: Spec) throws -> String {
        "%!\(verb)(" + arg.goTypeName + "=" + (try format(arg, verb: "v", spec: spec, nested: true)) + ")"
    }

    /// Pads to the width in runes: left with spaces (or zeros), right with `-`.
    static func pad(_ s: String, _ spec: Spec) -> String {
        guard let width = spec.width else { return s }
        let n = width - s.unicodeScalars.count
        guard n > 0 else { return s }
        if spec.minus { return s + String(repeating: " ", count: n) }
        return String(repeating: spec.zero ? "0" : " ", count: n) + s
    }

    private static func integer(_ v: Int64, verb: Character, spec: Spec, arg: TemplateValue) throws -> String {
        switch verb {
        case "c": return pad(String(Character(GoQuote.scalar(v))), spec)
        case "q": return pad(GoQuote.quoteRune(v), spec)
        case "U":
            var s = "U+" + GoQuote.hex(v.magnitude, minDigits: max(4, spec.precision ?? 0), upper: true)
            if v < 0 { s = "U+" + GoQuote.hex(UInt64(bitPattern: v), minDigits: 4, upper: true) }
            let scalar = GoQuote.scalar(v)
            if spec.sharp, v >= 0, v <= 0x10FFFF, GoQuote.isPrint(scalar) { s += " '" + String(Character(scalar)) + "'" }
            return pad(s, spec)
        default:
            break
        }
        let base: Int
        switch verb {
        case "d", "v": base = 10
        case "b": base = 2
        case "o", "O": base = 8
        case "x", "X": base = 16
        default: return try bad(arg, verb, spec)
        }
        let negative = v < 0
        var digits = String(v.magnitude, radix: base, uppercase: verb == "X")
        var minDigits = 0
        if let precision = spec.precision {
            if precision == 0, v == 0 { return pad("", Spec(minus: spec.minus, width: spec.width)) }
            minDigits = precision
        } else if spec.zero, !spec.minus, let width = spec.width {
            minDigits = width - (negative || spec.plus || spec.space ? 1 : 0)
        }
        if digits.count < minDigits { digits = String(repeating: "0", count: minDigits - digits.count) + digits }
        if spec.sharp {
            switch base {
            case 2: digits = "0b" + digits
            case 8: if !digits.hasPrefix("0") { digits = "0" + digits }
            case 16: digits = (verb == "X" ? "0X" : "0x") + digits
            default: break
            }
        }
        if verb == "O" { digits = "0o" + digits }
        if negative { digits = "-" + digits } else if spec.plus { digits = "+" + digits } else if spec.space { digits = " " + digits }
        var unzeroed = spec
        unzeroed.zero = false
        return pad(digits, unzeroed)
    }

    private static func float(_ v: Double, verb: Character, spec: Spec) -> String {
        let body = GoFloat.format(magnitude: abs(v), verb: verb, precision: spec.precision)
        var sign = v.sign == .minus && !v.isNaN ? "-" : "+"
        if spec.space, sign == "+", !spec.plus { sign = " " }
        if v.isNaN || v.isInfinite {
            var unzeroed = spec
            unzeroed.zero = false
            if v.isNaN, !spec.space, !spec.plus { return pad(body, unzeroed) }
            return pad(sign + body, unzeroed)
        }
        guard spec.plus || sign != "+" else { return pad(body, spec) }
        if spec.zero, !spec.minus, let width = spec.width, width > body.count + 1 {
            return sign + String(repeating: "0", count: width - body.count - 1) + body
        }
        return pad(sign + body, spec)
    }

    private static func string(_ s: String, verb: Character, spec: Spec, arg: TemplateValue) throws -> String {
        var text = s
        if let precision = spec.precision, verb != "x", verb != "X" {
            text = String(String.UnicodeScalarView(s.unicodeScalars.prefix(precision)))
        }
        switch verb {
        case "s", "v": return pad(text, spec)
        case "q":
            if spec.sharp, !text.contains("`"), text.unicodeScalars.allSatisfy({ $0 == "\t" || GoQuote.isPrint($0) }) {
                return pad("`" + text + "`", spec)
            }
            return pad(GoQuote.quote(text), spec)
        case "x", "X":
            var bytes = Array(s.utf8)
            if let precision = spec.precision, precision < bytes.count { bytes = Array(bytes[..<precision]) }
            let prefix = spec.sharp ? (verb == "X" ? "0X" : "0x") : ""
            let hex = bytes.map { GoQuote.hex(UInt64($0), minDigits: 2, upper: verb == "X") }
            let joined = spec.space ? hex.map { prefix + $0 }.joined(separator: " ") : (hex.isEmpty ? "" : prefix + hex.joined())
            return pad(joined, spec)
        default:
            return try bad(arg, verb, spec)
        }
    }
}
