/// JSON encoding as Go's `encoding/json` writes it (compact), used by the
/// `json` template function and `--format json`.
///
/// Strings escape `"`, `\`, control characters (`\n`, `\r`, `\t`, `\b`,
/// `\f`, else `\u00XX`) and U+2028/U+2029; `<`, `>`, `&` become `\u003c`,
/// `\u003e`, `\u0026` only when HTML escaping is on (Go's `json.Marshal`
/// default; docker's `json` function turns it off). Map-like objects are
/// written in sorted key order, struct-like ones in field order; "no value"
/// is `null`.
enum GoJSON {
    /// Deepest nesting encoded.
    static let maxDepth = 100

    /// Encodes `value` (or `null` for "no value").
    /// - Throws: ``TemplateError/badData(_:)`` for NaN/infinite numbers or too deep values.
    static func encode(_ value: TemplateValue?, escapeHTML: Bool) throws -> String {
        var out = ""
        try append(value ?? .null, to: &out, escapeHTML: escapeHTML, depth: 0)
        return out
    }

    static func append(_ value: TemplateValue, to out: inout String, escapeHTML: Bool, depth: Int) throws {
        guard depth < maxDepth else { throw TemplateError.badData("json: value nested deeper than \(maxDepth) levels") }
        switch value {
        case let .string(s): appendString(s, to: &out, escapeHTML: escapeHTML)
        case let .int(i): out += String(i)
        case let .double(d):
            guard d.isFinite else { throw TemplateError.badData("json: unsupported value: \(GoFloat.shortestG(d))") }
            out += GoFloat.json(d)
        case let .bool(b): out += b ? "true" : "false"
        case .null: out += "null"
        case let .array(items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                try append(item, to: &out, escapeHTML: escapeHTML, depth: depth + 1)
            }
            out += "]"
        case let .object(object):
            out += "{"
            for (i, entry) in object.encodedEntries.enumerated() {
                if i > 0 { out += "," }
                appendString(entry.key, to: &out, escapeHTML: escapeHTML)
                out += ":"
                try append(entry.value, to: &out, escapeHTML: escapeHTML, depth: depth + 1)
            }
            out += "}"
        }
    }

    static func appendString(_ s: String, to out: inout String, escapeHTML: Bool) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "<" where escapeHTML, ">" where escapeHTML, "&" where escapeHTML:
                out += "\\u00" + GoQuote.hex(UInt64(scalar.value), minDigits: 2, upper: false)
            case "\u{2028}", "\u{2029}":
                out += "\\u" + GoQuote.hex(UInt64(scalar.value), minDigits: 4, upper: false)
            default:
                if scalar.value < 0x20 {
                    out += "\\u00" + GoQuote.hex(UInt64(scalar.value), minDigits: 2, upper: false)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
