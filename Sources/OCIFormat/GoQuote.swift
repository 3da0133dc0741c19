/// Go's quoting helpers: `strconv.Quote`, `strconv.QuoteRune` and `%#U`.
enum GoQuote {
    /// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation,
    /// symbols and the ASCII space.
    static func isPrint(_ s: Unicode.Scalar) -> Bool {
        if s == " " { return true }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark,
             .decimalNumber, .letterNumber, .otherNumber,
             .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation,
             .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return true
        default:
            return false
        }
    }

    /// `strconv.Quote`: a double-quoted Go string literal.
    static func quote(_ text: String) -> String {
        var out = "\""
        for s in text.unicodeScalars { appendEscaped(s, quote: "\"", to: &out) }
        out += "\""
        return out
    }

    /// `strconv.QuoteRune`: a single-quoted Go character literal.
    static func quoteRune(_ value: Int64) -> String {
        let s = scalar(value)
        var out = "'"
        appendEscaped(s, quote: "'", to: &out)
        out += "'"
        return out
    }

    /// The scalar for a rune value; invalid values become U+FFFD, as in Go.
    static func scalar(_ value: Int64) -> Unicode.Scalar {
        guard value >= 0, value <= 0x10FFFF, let s = Unicode.Scalar(UInt32(value)) else { return "\u{FFFD}" }
        return s
    }

    /// `%#U`: `U+0041 'A'`, or just `U+0007` when not printable.
    static func unicodeRepr(_ s: Unicode.Scalar) -> String {
        var out = "U+" + hex(UInt64(s.value), minDigits: 4, upper: true)
        if isPrint(s) { out += " '" + String(Character(s)) + "'" }
        return out
    }

    static func hex(_ value: UInt64, minDigits: Int, upper: Bool) -> String {
        let digits = String(value, radix: 16, uppercase: upper)
        return String(repeating: "0", count: max(0, minDigits - digits.count)) + digits
    }

    private static func appendEscaped(_ s: Unicode.Scalar, quote: Unicode.Scalar, to out: inout String) {
        if s == quote || s == "\\" {
            out += "\\" + String(Character(s))
            return
        }
        if isPrint(s) {
            out.unicodeScalars.append(s)
            return
        }
        switch s {
        case "\u{07}": out += "\\a"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{0B}": out += "\\v"
        default:
            if s.value < 0x20 || s.value == 0x7F {
                out += "\\x" + hex(UInt64(s.value), minDigits: 2, upper: false)
            } else if s.value < 0x10000 {
                out += "\\u" + hex(UInt64(s.value), minDigits: 4, upper: false)
            } else {
                out += "\\U" + hex(UInt64(s.value), minDigits: 8, upper: false)
            }
        }
    }
}
