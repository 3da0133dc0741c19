/// A byte scan that rejects JSON nested deeper than a limit before any
/// parser sees it (a registry's documents are input).
enum JSONDepth {
    /// The deepest nesting of `[`/`{` outside strings in `bytes`.
    static func maximum(_ bytes: [UInt8]) -> Int {
        var depth = 0, deepest = 0
        var inString = false, escaped = false
        for b in bytes {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > deepest { deepest = depth }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                if depth > 0 { depth -= 1 }
            default: break
            }
        }
        return deepest
    }

    /// Does `bytes` stay within `RegistryLimits.jsonDepth`?
    static func isAcceptable(_ bytes: [UInt8]) -> Bool { maximum(bytes) <= RegistryLimits.jsonDepth }
}
