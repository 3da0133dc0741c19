/// Says what is wrong with a JSON document and where, for error messages
/// (Foundation's own text is "The data couldn't be read because it isn't in
/// the correct format.", which names neither).
enum JSONDiagnostics {
    /// The first syntax error of `bytes`, e.g. `unterminated string at
    /// line 1, column 12 (byte 11)`, `is empty`; nil when the text is
    /// well-formed JSON (then the problem is a value, not the syntax).
    static func syntaxError(in bytes: [UInt8]) -> String? {
        var scanner = Scanner(bytes: bytes)
        return scanner.document()
    }

    /// A coding path as users read it: `manifests[0].size`.
    static func path(_ keys: [CodingKey]) -> String {
        var out = ""
        for k in keys {
            if let i = k.intValue { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + k.stringValue }
        }
        return out.isEmpty ? "the top level" : out
    }

    /// The JSON type a Swift type stands for, for "expected …" messages.
    static func typeName(_ type: Any.Type) -> String {
        let name = "\(type)"
        if name.hasPrefix("Array") || name.hasPrefix("[") { return "an array" }
        if name.hasPrefix("Dictionary") { return "an object" }
        switch name {
        case "String": return "a string"
        case "Bool": return "true or false"
        case "Int", "Int64", "Int32", "UInt64", "UInt32", "UInt", "Double", "Float": return "a number"
        default: return "an object"
        }
    }

    private struct Scanner {
        let bytes: [UInt8]
        var i = 0
        var depth = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func document() -> String? {
            skipSpace()
            if i == bytes.count { return bytes.isEmpty ? "is empty" : "holds only white space" }
            if let e = value() { return e }
            skipSpace()
            return i < bytes.count ? at("unexpected text after the document") : nil
        }

        func at(_ what: String) -> String {
            var line = 1, column = 1
            for b in bytes[..<min(i, bytes.count)] {
                if b == 0x0A { line += 1; column = 1 } else { column += 1 }
            }
            return "\(what) at line \(line), column \(column) (byte \(i))"
        }

        mutating func skipSpace() {
            while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
        }

        mutating func value() -> String? {
            skipSpace()
            guard i < bytes.count else { return at("unexpected end of the document") }
            switch bytes[i] {
            case UInt8(ascii: "{"): return object()
            case UInt8(ascii: "["): return array()
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
            default: return at("unexpected character '\(Character(Unicode.Scalar(bytes[i])))'")
            }
        }

        mutating func literal(_ word: String) -> String? {
            let w = Array(word.utf8)
            guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else { return at("invalid literal (expected \(word))") }
            i += w.count
            return nil
        }

        mutating func number() -> String? {
            let start = i
            if bytes[i] == UInt8(ascii: "-") { i += 1 }
            var digits = 0
            while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1; digits += 1 }
            if digits == 0 { i = start; return at("invalid number") }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                var frac = 0
                while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1; frac += 1 }
                if frac == 0 { return at("invalid number") }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                var exp = 0
                while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1; exp += 1 }
                if exp == 0 { return at("invalid number") }
            }
            return nil
        }

        mutating func string() -> String? {
            let start = i
            i += 1
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") { i += 1; return nil }
                if b < 0x20 { return at("control character in a string") }
                if b == UInt8(ascii: "\\") {
                    i += 1
                    guard i < bytes.count else { break }
                    if bytes[i] == UInt8(ascii: "u") {
                        let hex = bytes[(i + 1)..<min(i + 5, bytes.count)]
                        guard hex.count == 4, hex.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) }) else {
                            return at("invalid \\u escape")
                        }
                        i += 4
                    } else if !"\"\\/bfnrt".utf8.contains(bytes[i]) {
                        return at("invalid escape")
                    }
                }
                i += 1
            }
            i = start
            return at("unterminated string")
        }

        mutating func array() -> String? {
            depth += 1
            guard depth <= 512 else { return at("nested too deeply") }
            i += 1
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; depth -= 1; return nil }
            while true {
                if let e = value() { return e }
                skipSpace()
                guard i < bytes.count else { return at("missing ] at the end of the document") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; depth -= 1; return nil }
                return at("expected , or ]")
            }
        }

        mutating func object() -> String? {
            depth += 1
            guard depth <= 512 else { return at("nested too deeply") }
            i += 1
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; depth -= 1; return nil }
            while true {
                skipSpace()
                guard i < bytes.count else { return at("missing } at the end of the document") }
                guard bytes[i] == UInt8(ascii: "\"") else { return at("expected a quoted key") }
                if let e = string() { return e }
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return at("expected : after a key") }
                i += 1
                if let e = value() { return e }
                skipSpace()
                guard i < bytes.count else { return at("missing } at the end of the document") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; depth -= 1; return nil }
                return at("expected , or }")
            }
        }
    }
}
