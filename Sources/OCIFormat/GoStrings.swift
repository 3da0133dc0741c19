/// Go's `strings` functions docker exposes, with Go's exact rules.
enum GoStrings {
    /// `strings.Split`: byte-wise; an empty separator splits into runes.
    static func split(_ s: String, separator: String) -> [String] {
        guard !separator.isEmpty else { return s.unicodeScalars.map { String(Character($0)) } }
        let bytes = Array(s.utf8), sep = Array(separator.utf8)
        var parts: [String] = []
        var start = 0, i = 0
        while i + sep.count <= bytes.count {
            if bytes[i..<(i + sep.count)].elementsEqual(sep) {
                parts.append(String(decoding: bytes[start..<i], as: UTF8.self))
                i += sep.count
                start = i
            } else {
                i += 1
            }
        }
        parts.append(String(decoding: bytes[start...], as: UTF8.self))
        return parts
    }

    /// `strings.Title`: upper-cases (title-cases) the first letter of each word;
    /// the rest of the word is left as it is.
    static func title(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        var previous: Unicode.Scalar = " "
        for scalar in s.unicodeScalars {
            if isSeparator(previous) {
                out.append(contentsOf: mapped(scalar, scalar.properties.titlecaseMapping))
            } else {
                out.append(scalar)
            }
            previous = scalar
        }
        return String(out)
    }

    /// Go's word boundary for `strings.Title`.
    private static func isSeparator(_ r: Unicode.Scalar) -> Bool {
        if r.isASCII {
            switch r {
            case "0"..."9", "a"..."z", "A"..."Z", "_": return false
            default: return true
            }
        }
        let category = r.properties.generalCategory
        if category.isLetter || category == .decimalNumber { return false }
        return r.properties.isWhitespace
    }

    /// `strings.ToLower` (per-rune simple case mapping).
    static func lower(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.flatMap { mapped($0, $0.properties.lowercaseMapping) }))
    }

    /// `strings.ToUpper` (per-rune simple case mapping).
    static func upper(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.flatMap { mapped($0, $0.properties.uppercaseMapping) }))
    }

    /// A one-rune mapping, or the rune unchanged (Go has no multi-rune mappings).
    private static func mapped(_ scalar: Unicode.Scalar, _ mapping: String) -> [Unicode.Scalar] {
        let scalars = Array(mapping.unicodeScalars)
        return scalars.count == 1 ? scalars : [scalar]
    }

    /// docker's `truncate`: at most `bytes` UTF-8 bytes, cut on a rune boundary.
    static func truncate(_ s: String, bytes: Int64) throws -> String {
        guard bytes >= 0 else { throw FunctionError("runtime error: slice bounds out of range [:\(bytes)]") }
        guard Int64(s.utf8.count) >= bytes else { return s }
        var out = String.UnicodeScalarView()
        var used: Int64 = 0
        for scalar in s.unicodeScalars {
            let width = Int64(UTF8.width(scalar))
            guard used + width <= bytes else { break }
            used += width
            out.append(scalar)
        }
        return String(out)
    }
}

/// The escapers behind `html`, `js` and `urlquery`.
enum GoEscapers {
    /// `template.HTMLEscapeString`.
    static func html(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\0": out += "\u{FFFD}"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `template.JSEscapeString`.
    static func js(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            case "\"": out += "\\\""
            case "<", ">", "&", "=":
                out += "\\u00" + GoQuote.hex(UInt64(scalar.value), minDigits: 2, upper: true)
            default:
                if scalar.value < 0x20 {
                    out += "\\u00" + GoQuote.hex(UInt64(scalar.value), minDigits: 2, upper: true)
                } else if scalar.isASCII || GoQuote.isPrint(scalar) {
                    out.unicodeScalars.append(scalar)
                } else {
                    out += "\\u" + GoQuote.hex(UInt64(scalar.value), minDigits: 4, upper: true)
                }
            }
        }
        return out
    }

    /// `url.QueryEscape`: unreserved bytes kept, space as `+`, others `%XX`.
    static func queryEscape(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                out += "+"
            default:
                out += "%" + GoQuote.hex(UInt64(byte), minDigits: 2, upper: true)
            }
        }
        return out
    }
}
