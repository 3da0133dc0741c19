import Foundation

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

    /// docker's `formatter.Ellipsis`: at most `width` columns (East Asian
    /// wide and fullwidth characters take 2), the last one `…` when cut.
    static func ellipsis(_ s: String, _ width: Int) -> String {
        guard width > 0 else { return "" }
        let scalars = Array(s.unicodeScalars)
        guard let first = scalars.first else { return s }
        if width == 1 { return String(first) }
        var columns: [Int] = []
        var total = 0
        for c in scalars {
            total += isWide(c) ? 2 : 1
            columns.append(total)
        }
        if total <= width { return s }
        var keep = 0
        while keep < columns.count && columns[keep] <= width - 1 { keep += 1 }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars[..<keep])
        return String(out) + "…"
    }

    /// East Asian Wide and Fullwidth (Unicode TR 11), the characters docker counts as 2 columns.
    static func isWide(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        let ranges: [ClosedRange<UInt32>] = [
            0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0...0x23F0, 0x23F3...0x23F3,
            0x25FD...0x25FE, 0x2614...0x2615, 0x2648...0x2653, 0x267F...0x267F, 0x2693...0x2693, 0x26A1...0x26A1,
            0x26AA...0x26AB, 0x26BD...0x26BE, 0x26C4...0x26C5, 0x26CE...0x26CE, 0x26D4...0x26D4, 0x26EA...0x26EA,
            0x26F2...0x26F3, 0x26F5...0x26F5, 0x26FA...0x26FA, 0x26FD...0x26FD, 0x2705...0x2705, 0x270A...0x270B,
            0x2728...0x2728, 0x274C...0x274C, 0x274E...0x274E, 0x2753...0x2755, 0x2757...0x2757, 0x2795...0x2797,
            0x27B0...0x27B0, 0x27BF...0x27BF, 0x2B1B...0x2B1C, 0x2B50...0x2B50, 0x2B55...0x2B55,
            0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F,
            0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
            0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x2FFFD, 0x30000...0x3FFFD,
        ]
        return ranges.contains { $0.contains(v) }
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
