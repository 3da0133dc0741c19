/// One lexical item of a template, as Go's text/template/parse lexer emits it.
struct TemplateToken: Sendable {
    enum Kind: Equatable, Sendable {
        case text, leftDelim, rightDelim, space
        case identifier, field, variable, dot
        case string, rawString, charConstant, number, bool, nilValue
        case pipe, leftParen, rightParen, declare, assign, char
        case keyword(Keyword)
        case eof, error
    }

    enum Keyword: String, Sendable {
        case block, `break`, `continue`, define, `else`, end, `if`, range, template, with
    }

    let kind: Kind
    /// The item's source text (for `.error`, the message).
    let text: String
    /// Byte offset of the item in the template.
    let pos: Int
    /// 1-based line of the item's start.
    let line: Int

    /// How Go's parser names the item in "unexpected X in Y" messages.
    var quoted: String {
        switch kind {
        case .eof: return "EOF"
        case .error: return text
        case .keyword, .dot, .nilValue: return "<\(text)>"
        default:
            if text.unicodeScalars.count > 10 {
                return GoQuote.quote(String(String.UnicodeScalarView(text.unicodeScalars.prefix(10)))) + "..."
            }
            return GoQuote.quote(text)
        }
    }
}

/// Character classes shared by the lexer (Go's definitions).
enum LexClass {
    /// Space characters inside actions and for trimming: space, tab, CR, LF.
    static func isSpace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A
    }

    /// Letter, digit or underscore (Unicode letters and digits count).
    static func isAlphaNumeric(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "_" { return true }
        let category = scalar.properties.generalCategory
        return category.isLetter || category == .decimalNumber
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
}

extension Unicode.GeneralCategory {
    var isLetter: Bool {
        switch self {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }
}
