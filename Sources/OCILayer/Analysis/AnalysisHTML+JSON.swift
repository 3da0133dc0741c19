/// A small, fast JSON writer for the page's embedded data (the arrays of a
/// 100k-path image encode in well under a second). Strings never contain a
/// raw `<`, so the data cannot close its `<script>` element.
struct PageJSON {
    private(set) var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(1 << 20) }

    mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }

    mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for u in s.unicodeScalars {
            switch u {
            case "\"": raw("\\\"")
            case "\\": raw("\\\\")
            case "<": raw("\\u003c")
            case "\u{2028}": raw("\\u2028")
            case "\u{2029}": raw("\\u2029")
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    raw("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                } else {
                    bytes.append(contentsOf: String(u).utf8)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func number<T: BinaryInteger>(_ n: T) { raw(String(n)) }

    mutating func number(_ d: Double?) {
        guard let d, d.isFinite else { return raw("null") }
        raw(String(d))
    }

    mutating func key(_ k: String) {
        if let last = bytes.last, last != UInt8(ascii: "{"), last != UInt8(ascii: "[") { bytes.append(UInt8(ascii: ",")) }
        string(k)
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func numbers<T: BinaryInteger>(_ a: [T]) {
        bytes.append(UInt8(ascii: "["))
        for (i, n) in a.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            raw(String(n))
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func strings(_ a: [String]) {
        bytes.append(UInt8(ascii: "["))
        for (i, s) in a.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            string(s)
        }
        bytes.append(UInt8(ascii: "]"))
    }
}
