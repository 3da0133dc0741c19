/// The template's bytes with the look-ups the lexer and scanner share.
struct TemplateSource: Sendable {
    let bytes: [UInt8]

    var count: Int { bytes.count }

    func byte(_ p: Int) -> UInt8? { p >= 0 && p < bytes.count ? bytes[p] : nil }

    func text(_ start: Int, _ end: Int) -> String {
        String(decoding: bytes[start..<end], as: UTF8.self)
    }

    func hasPrefix(_ s: StaticString, at p: Int) -> Bool {
        let n = s.utf8CodeUnitCount
        guard p >= 0, p + n <= bytes.count else { return false }
        return s.withUTF8Buffer { bytes[p..<(p + n)].elementsEqual($0) }
    }

    /// The Unicode scalar starting at `p` and its UTF-8 length.
    func scalar(at p: Int) -> (Unicode.Scalar, Int) {
        var iterator = bytes[p...].makeIterator()
        var decoder = UTF8()
        if case let .scalarValue(s) = decoder.decode(&iterator) {
            return (s, UTF8.width(s))
        }
        return ("\u{FFFD}", 1)
    }
}

/// Scans strings, numbers, fields, variables and identifiers for the source.
struct TemplateScanner {
    struct Failure: Error { let text: String }
    let source: TemplateSource

    func item(at start: Int) -> Result<(TemplateToken.Kind, Int), Failure> {
        guard let b = source.byte(start) else { return .failure(Failure(text: "unclosed action")) }
        switch b {
        case UInt8(ascii: "\""): return quoted(start, close: b, kind: .string, what: "quoted string")
        case UInt8(ascii: "'"): return quoted(start, close: b, kind: .charConstant, what: "character constant")
        case UInt8(ascii: "`"):
            var p = start + 1
            while let c = source.byte(p), c != b { p += 1 }
            guard p < source.count else { return .failure(Failure(text: "unterminated raw quoted string")) }
            return .success((.rawString, p + 1))
        case UInt8(ascii: "$"): return word(start, after: start + 1, bare: .variable, named: .variable)
        case UInt8(ascii: "."):
            if let next = source.byte(start + 1), !LexClass.isDigit(next) {
                return word(start, after: start + 1, bare: .dot, named: .field)
            }
            return number(start)
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return number(start)
        default:
            let (scalar, width) = source.scalar(at: start)
            if LexClass.isAlphaNumeric(scalar) { return identifier(start) }
            if b >= 0x20, b < 0x7F { return .success((.char, start + width)) }
            return .failure(Failure(text: "unrecognized character in action: \(GoQuote.unicodeRepr(scalar))"))
        }
    }

    private func quoted(_ start: Int, close: UInt8, kind: TemplateToken.Kind, what: String) -> Result<(TemplateToken.Kind, Int), Failure> {
        var p = start + 1
        while true {
            guard let c = source.byte(p), c != 0x0A else { return .failure(Failure(text: "unterminated \(what)")) }
            if c == UInt8(ascii: "\\") {
                guard let e = source.byte(p + 1), e != 0x0A else { return .failure(Failure(text: "unterminated \(what)")) }
                p += 2
                continue
            }
            p += 1
            if c == close { return .success((kind, p)) }
        }
    }

    private func alnumEnd(from p: Int) -> Int {
        var p = p
        while p < source.count {
            let (s, w) = source.scalar(at: p)
            guard LexClass.isAlphaNumeric(s) else { break }
            p += w
        }
        return p
    }

    private func atTerminator(_ p: Int) -> Bool {
        guard let b = source.byte(p) else { return true }
        if LexClass.isSpace(b) { return true }
        return ".,|:)(}".utf8.contains(b)
    }

    private func badCharacter(at p: Int) -> Failure {
        Failure(text: "bad character \(GoQuote.unicodeRepr(source.scalar(at: p).0))")
    }

    private func word(_ start: Int, after: Int, bare: TemplateToken.Kind, named: TemplateToken.Kind) -> Result<(TemplateToken.Kind, Int), Failure> {
        if atTerminator(after) { return .success((bare, after)) }
        let end = alnumEnd(from: after)
        guard atTerminator(end) else { return .failure(badCharacter(at: end)) }
        return .success((named, end))
    }

    private func identifier(_ start: Int) -> Result<(TemplateToken.Kind, Int), Failure> {
        let end = alnumEnd(from: start)
        guard atTerminator(end) else { return .failure(badCharacter(at: end)) }
        let word = source.text(start, end)
        if let keyword = TemplateToken.Keyword(rawValue: word) { return .success((.keyword(keyword), end)) }
        switch word {
        case "true", "false": return .success((.bool, end))
        case "nil": return .success((.nilValue, end))
        default: return .success((.identifier, end))
        }
    }

    private func number(_ start: Int) -> Result<(TemplateToken.Kind, Int), Failure> {
        let (end, ok) = scanNumber(start)
        guard ok else { return .failure(Failure(text: "bad number syntax: \(GoQuote.quote(source.text(start, end)))")) }
        if let sign = source.byte(end), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            return .failure(Failure(text: "complex constants are not supported: \(GoQuote.quote(source.text(start, scanNumber(end).0)))"))
        }
        return .success((.number, end))
    }

    private func scanNumber(_ start: Int) -> (Int, Bool) {
        var p = start
        func accept(_ set: String) -> Bool {
            guard let b = source.byte(p), set.utf8.contains(b) else { return false }
            p += 1
            return true
        }
        func acceptRun(_ set: String) { while accept(set) {} }
        _ = accept("+-")
        var digits = "0123456789_"
        if accept("0") {
            if accept("xX") { digits = "0123456789abcdefABCDEF_" } else if accept("oO") { digits = "01234567_" } else if accept("bB") { digits = "01_" }
        }
        acceptRun(digits)
        if accept(".") { acceptRun(digits) }
        if digits.count == 11, accept("eE") {
            _ = accept("+-")
            acceptRun("0123456789_")
        }
        if digits.count == 23, accept("pP") {
            _ = accept("+-")
            acceptRun("0123456789_")
        }
        _ = accept("i")
        if p < source.count {
            let (s, w) = source.scalar(at: p)
            if LexClass.isAlphaNumeric(s) { return (p + w, false) }
        }
        return (p, true)
    }
}
