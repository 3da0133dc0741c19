import Foundation
import OCIFormat

/// Sizes and durations printed the way the docker CLI prints them
/// (go-units HumanSizeWithPrecision and HumanDuration).
enum HumanUnits {
    static func size(_ bytes: Int64, precision: Int = 3) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB"]
        var v = Double(bytes)
        var i = 0
        while v >= 1000 && i < units.count - 1 {
            v /= 1000
            i += 1
        }
        return String(format: "%.\(precision)g", v) + units[i]
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds)
        if s < 1 { return "Less than a second" }
        if s == 1 { return "1 second" }
        if s < 60 { return "\(s) seconds" }
        let m = s / 60
        if m == 1 { return "About a minute" }
        if m < 60 { return "\(m) minutes" }
        let h = Int((seconds / 3600).rounded())
        if h == 1 { return "About an hour" }
        if h < 48 { return "\(h) hours" }
        if h < 24 * 7 * 2 { return "\(h / 24) days" }
        if h < 24 * 30 * 2 { return "\(h / 24 / 7) weeks" }
        if h < 24 * 365 * 2 { return "\(h / 24 / 30) months" }
        return "\(h / 24 / 365) years"
    }

    /// "3 weeks ago" from an RFC 3339 timestamp; "N/A" when absent.
    static func since(_ rfc3339: String?, now: Date = Date()) -> String {
        guard let date = parseDate(rfc3339) else { return "N/A" }
        return duration(now.timeIntervalSince(date)) + " ago"
    }

    /// docker's image and history times: the config's `created` to the
    /// second (Unix time 0 when absent, as docker's daemon reports it).
    static func createdDate(_ rfc3339: String?) -> Date {
        guard let d = parseDate(rfc3339) else { return Date(timeIntervalSince1970: 0) }
        return Date(timeIntervalSince1970: d.timeIntervalSince1970.rounded(.down))
    }

    /// docker's `formatter.Ellipsis`: at most `width` columns (as
    /// go-runewidth counts them: East Asian wide characters and emoji take 2),
    /// the last one `…` when cut.
    static func ellipsis(_ s: String, _ width: Int) -> String {
        guard width > 0 else { return "" }
        let scalars = Array(s.unicodeScalars)
        guard let first = scalars.first else { return s }
        if width == 1 { return String(first) }
        var columns: [Int] = []
        var total = 0
        for c in scalars {
            total += c.isASCII ? 1 : TerminalWidth.of(c)
            columns.append(total)
        }
        if total <= width { return s }
        var keep = 0
        while keep < columns.count && columns[keep] <= width - 1 { keep += 1 }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars[..<keep])
        return String(out) + "…"
    }

    static func parseDate(_ s: String?) -> Date? {
        guard let s, !s.isEmpty else { return nil }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: s) { return d }
        // Nanosecond fractions (Go writes up to 9 digits): trim to milliseconds.
        if let dot = s.firstIndex(of: "."), let end = s[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) {
            let frac = s[s.index(after: dot)..<end].prefix(3)
            let trimmed = String(s[..<dot]) + "." + frac + String(s[end...])
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return f.date(from: trimmed)
        }
        return nil
    }
}
