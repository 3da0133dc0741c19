/// A number literal in a template, with the readings Go's parser records.
struct NumberLiteral: Sendable, Equatable {
    let text: String
    /// The value as an integer, when it is one (Go's `IsInt`).
    let int: Int64?
    /// The value as a float, when it has one (Go's `IsFloat`).
    let float: Double?
    /// An integer too big for `int` but valid as `uint64`.
    let onlyUnsigned: Bool

    /// The value where no type is expected (Go's `idealConstant`).
    func ideal() -> Result<TemplateValue, FunctionError> {
        let isHexInt = text.count > 2 && text.hasPrefix("0") && "xX".contains(text[text.index(after: text.startIndex)])
            && !text.contains(where: { "pP".contains($0) })
        if let f = float, !isHexInt, !text.hasPrefix("'"), text.contains(where: { ".eEpP".contains($0) }) {
            return .success(.double(f))
        }
        if let i = int { return .success(.int(i)) }
        return .failure(FunctionError("\(text) overflows int"))
    }
}

/// Go literal syntax: `strconv.Unquote`, `strconv.ParseInt(s, 0, 64)`, `ParseFloat`.
enum GoLiteral {
    /// Unquotes a `"…"`, `` `…` `` or `'…'` literal; `nil` when malformed.
    static func unquote(_ literal: String) -> String? {
        let scalars = Array(literal.unicodeScalars)
        guard scalars.count >= 2, let first = scalars.first, first == scalars.last else { return nil }
        let body = scalars[1..<(scalars.count - 1)]
        switch first {
        case "`":
            guard !body.contains("`") else { return nil }
            return String(String.UnicodeScalarView(body.filter { $0 != "\r" }))
        case "\"", "'":
            guard let bytes = unescape(Array(body), quote: first) else { return nil }
            let text = String(decoding: bytes, as: UTF8.self)
            if first == "'", text.unicodeScalars.count != 1 { return nil }
            return text
        default:
            return nil
        }
    }

    private static func unescape(_ body: [Unicode.Scalar], quote: Unicode.Scalar) -> [UInt8]? {
        var out: [UInt8] = []
        var i = 0
        func appendScalar(_ s: Unicode.Scalar) { out.append(contentsOf: Array(String(Character(s)).utf8)) }
        func hexValue(_ count: Int) -> UInt32? {
            guard i + count <= body.count else { return nil }
            var v: UInt32 = 0
            for s in body[i..<(i + count)] {
                guard let d = hexDigit(s) else { return nil }
                v = v * 16 + UInt32(d)
            }
            i += count
            return v
        }
        while i < body.count {
            let s = body[i]
            i += 1
            if s == quote { return nil }
            guard s == "\\" else {
                appendScalar(s)
                continue
            }
            guard i < body.count else { return nil }
            let e = body[i]
            i += 1
            switch e {
            case "a": out.append(7)
            case "b": out.append(8)
            case "f": out.append(12)
            case "n": out.append(10)
            case "r": out.append(13)
            case "t": out.append(9)
            case "v": out.append(11)
            case "\\": out.append(0x5C)
            case quote: appendScalar(quote)
            case "x":
                guard let v = hexValue(2) else { return nil }
                out.append(UInt8(v))
            case "u", "U":
                guard let v = hexValue(e == "u" ? 4 : 8), let scalar = Unicode.Scalar(v) else { return nil }
                appendScalar(scalar)
            case "0"..."7":
                guard i + 2 <= body.count else { return nil }
                var v = UInt32(e.value - 0x30)
                for o in body[i..<(i + 2)] {
                    guard ("0"..."7").contains(o) else { return nil }
                    v = v * 8 + (o.value - 0x30)
                }
                guard v <= 255 else { return nil }
                i += 2
                out.append(UInt8(v))
            default:
                return nil
            }
        }
        return out
    }

    private static func hexDigit(_ s: Unicode.Scalar) -> Int? {
        switch s {
        case "0"..."9": return Int(s.value - 0x30)
        case "a"..."f": return Int(s.value - 0x61 + 10)
        case "A"..."F": return Int(s.value - 0x41 + 10)
        default: return nil
        }
    }

    /// Parses a number token as Go's `parse.newNumber` does.
    static func number(_ text: String) -> Result<NumberLiteral, FunctionError> {
        if text.hasPrefix("'") {
            guard let s = unquote(text), let scalar = s.unicodeScalars.first else {
                return .failure(FunctionError("malformed character constant: \(text)"))
            }
            let v = Int64(scalar.value)
            return .success(NumberLiteral(text: text, int: v, float: Double(v), onlyUnsigned: false))
        }
        if text.hasSuffix("i") { return .failure(FunctionError("complex constants are not supported: \(GoQuote.quote(text))")) }
        let (negative, magnitude) = integer(text)
        if let m = magnitude {
            if negative {
                if m <= UInt64(Int64.max) { return .success(literal(text, -Int64(m))) }
                if m == UInt64(Int64.max) + 1 { return .success(literal(text, Int64.min)) }
            } else if m <= UInt64(Int64.max) {
                return .success(literal(text, Int64(m)))
            } else {
                return .success(NumberLiteral(text: text, int: nil, float: Double(m), onlyUnsigned: true))
            }
        }
        guard let f = float(text) else { return .failure(FunctionError("illegal number syntax: \(GoQuote.quote(text))")) }
        guard text.contains(where: { ".eEpP".contains($0) }) else {
            return .failure(FunctionError("integer overflow: \(GoQuote.quote(text))"))
        }
        var int: Int64?
        if f.rounded() == f, f >= -9.2e18, f <= 9.2e18 { int = Int64(f) }
        return .success(NumberLiteral(text: text, int: int, float: f, onlyUnsigned: false))
    }

    private static func literal(_ text: String, _ v: Int64) -> NumberLiteral {
        NumberLiteral(text: text, int: v, float: Double(v), onlyUnsigned: false)
    }

    /// Sign and magnitude of a Go integer literal (base prefixes, legacy
    /// octal, underscores between digits); `nil` magnitude when not one.
    static func integer(_ text: String) -> (Bool, UInt64?) {
        var s = Substring(text)
        var negative = false
        if let c = s.first, c == "+" || c == "-" {
            negative = c == "-"
            s = s.dropFirst()
        }
        var radix = 10
        var prefixed = false
        let lower = s.lowercased()
        if lower.hasPrefix("0x") { radix = 16; prefixed = true } else if lower.hasPrefix("0o") { radix = 8; prefixed = true } else if lower.hasPrefix("0b") { radix = 2; prefixed = true } else if s.count > 1, s.hasPrefix("0") { radix = 8 }
        if prefixed { s = s.dropFirst(2) }
        guard underscoresSeparate(s, afterPrefix: prefixed), !s.isEmpty else { return (negative, nil) }
        return (negative, UInt64(s.filter { $0 != "_" }, radix: radix))
    }

    private static func float(_ text: String) -> Double? {
        let lower = text.lowercased()
        let hexForm = lower.hasPrefix("0x") || lower.hasPrefix("-0x") || lower.hasPrefix("+0x")
        if hexForm, !lower.contains("p") { return nil }
        let body = text.drop { $0 == "+" || $0 == "-" }
        guard underscoresSeparate(body, afterPrefix: hexForm) else { return nil }
        guard let f = Double(text.filter { $0 != "_" }), f.isFinite else { return nil }
        return f
    }

    /// Go's rule: each `_` sits between two digits (or after a base prefix).
    private static func underscoresSeparate(_ s: Substring, afterPrefix: Bool) -> Bool {
        let chars = Array(s)
        for (i, c) in chars.enumerated() where c == "_" {
            let before = i == 0 ? afterPrefix : chars[i - 1].isHexDigit
            let after = i + 1 < chars.count && chars[i + 1].isHexDigit
            if !before || !after { return false }
        }
        return true
    }
}
