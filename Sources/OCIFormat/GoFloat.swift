import Foundation

/// Go's float formatting (`strconv.FormatFloat`) for the forms templates use.
///
/// Shortest forms take their digits from Swift's shortest round-trip
/// representation (the same digits Go's shortest algorithm picks) and lay
/// them out with Go's rules; forms with an explicit precision are correctly
/// rounded by the C library, as Go's are.
enum GoFloat {
    /// Shortest decimal digits of a finite, non-zero magnitude and the
    /// decimal point position: value = 0.d1d2… × 10^point.
    struct Digits {
        let digits: [Character]
        let point: Int
    }

    static func shortestDigits(_ magnitude: Double) -> Digits {
        let text = "\(magnitude)"
        let parts = text.split(separator: "e", maxSplits: 1)
        let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        let mantissa = parts[0].split(separator: ".", maxSplits: 1)
        let integer = Array(mantissa[0])
        let fraction = mantissa.count > 1 ? Array(mantissa[1]) : []
        var digits = integer + fraction
        var point = integer.count + exponent
        while let first = digits.first, first == "0" {
            digits.removeFirst()
            point -= 1
        }
        while let last = digits.last, last == "0" { digits.removeLast() }
        return Digits(digits: digits, point: point)
    }

    /// Non-finite values as Go prints them.
    private static func special(_ v: Double) -> String? {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v < 0 ? "-Inf" : "+Inf" }
        return nil
    }

    /// `%v` / `%g` with no precision: shortest digits, exponent form when the
    /// decimal exponent is below -4 or at least 6 (`1e+06`, `1e-05`, `123456`).
    static func shortestG(_ v: Double) -> String {
        if let s = special(v) { return s }
        let sign = v.sign == .minus ? "-" : ""
        guard v != 0 else { return sign + "0" }
        let d = shortestDigits(abs(v))
        let exponent = d.point - 1
        if exponent < -4 || exponent >= 6 { return sign + exponential(d) }
        return sign + fixed(d)
    }

    /// `encoding/json`'s float64: fixed notation for 1e-6 ≤ |v| < 1e21,
    /// otherwise shortest exponent form with a one-digit negative exponent.
    static func json(_ v: Double) -> String {
        let sign = v.sign == .minus ? "-" : ""
        guard v != 0 else { return sign + "0" }
        let magnitude = abs(v)
        let d = shortestDigits(magnitude)
        if magnitude >= 1e-6, magnitude < 1e21 { return sign + fixed(d) }
        var e = exponential(d)
        if let r = e.range(of: "e-0") { e.replaceSubrange(r, with: "e-") }
        return sign + e
    }

    /// `d.ddde±XX` from shortest digits.
    private static func exponential(_ d: Digits) -> String {
        var out = String(d.digits[0])
        if d.digits.count > 1 { out += "." + String(d.digits[1...]) }
        let exponent = d.point - 1
        let magnitude = String(abs(exponent))
        return out + (exponent < 0 ? "e-" : "e+") + (magnitude.count < 2 ? "0" : "") + magnitude
    }

    /// Plain decimal notation from shortest digits.
    private static func fixed(_ d: Digits) -> String {
        let n = d.digits.count
        if d.point <= 0 { return "0." + String(repeating: "0", count: -d.point) + String(d.digits) }
        if d.point >= n { return String(d.digits) + String(repeating: "0", count: d.point - n) }
        return String(d.digits[..<d.point]) + "." + String(d.digits[d.point...])
    }

    /// `%e`, `%E`, `%f`, `%F`, `%g`, `%G` of the magnitude with an explicit
    /// precision (`nil`: Go's default, 6 for e/f, shortest for g). No sign.
    static func format(magnitude v: Double, verb: Character, precision: Int?) -> String {
        if let s = special(v) { return s.hasPrefix("+") ? String(s.dropFirst()) : s }
        switch verb {
        case "g", "G":
            guard let precision else {
                let s = shortestG(v)
                return verb == "G" ? s.uppercased() : s
            }
            let out = String(format: "%.\(max(precision, 1))g", v)
            return verb == "G" ? out.uppercased() : out
        case "e", "E":
            let out = String(format: "%.\(precision ?? 6)e", v)
            return verb == "E" ? out.uppercased() : out
        default:
            return String(format: "%.\(precision ?? 6)f", v)
        }
    }
}
