import Foundation

/// Sizes, durations and times printed as the docker CLI prints them
/// (docker/go-units and Go's `time` formats).
public enum DockerUnits {
    /// A decimal size, go-units `HumanSizeWithPrecision(size, precision)`:
    /// divide by 1000 while ≥ 1000, then `%.{precision}g` and the unit
    /// (`B kB MB GB TB PB EB ZB YB`): `43.5kB`, `1.02kB`, `0B`.
    /// - Parameters:
    ///   - size: bytes.
    ///   - precision: significant digits; docker's SIZE columns use 3,
    ///     go-units `HumanSize` (SHARED SIZE, UNIQUE SIZE) uses 4.
    public static func humanSize(_ size: Double, precision: Int = 3) -> String {
        scaled(size, base: 1000, units: ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"], precision: precision)
    }

    /// A binary size, go-units `BytesSize`: `%.4g` with `B KiB MiB GiB …` (`44KiB`, `3.42GiB`).
    public static func bytesSize(_ size: Double) -> String {
        scaled(size, base: 1024, units: ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"], precision: 4)
    }

    private static func scaled(_ size: Double, base: Double, units: [String], precision: Int) -> String {
        guard size.isFinite else { return "\(size)B" }
        var value = size
        var unit = 0
        while value >= base, unit < units.count - 1 {
            value /= base
            unit += 1
        }
        return GoFloat.format(magnitude: abs(value), verb: "g", precision: max(0, min(precision, 100)))
            .withSign(value < 0) + units[unit]
    }

    /// A rough duration, go-units `HumanDuration`: `Less than a second`,
    /// `1 second`, `N seconds`, `About a minute`, `N minutes`, `About an hour`,
    /// `N hours` (below 48), `N days` (below 2 weeks), `N weeks` (below 2×30
    /// days), `N months` (below 2 years), `N years`.
    /// - Parameter seconds: the duration; negative means "Less than a second".
    public static func humanDuration(_ seconds: TimeInterval) -> String {
        let clamped = seconds.isFinite ? max(-1, min(seconds, 9.0e15)) : -1
        let s = Int64(clamped)
        if s < 1 { return "Less than a second" }
        if s == 1 { return "1 second" }
        if s < 60 { return "\(s) seconds" }
        let minutes = Int64(clamped / 60)
        if minutes == 1 { return "About a minute" }
        if minutes < 60 { return "\(minutes) minutes" }
        let hours = Int64(clamped / 3600 + 0.5)
        if hours == 1 { return "About an hour" }
        if hours < 48 { return "\(hours) hours" }
        if hours < 24 * 7 * 2 { return "\(hours / 24) days" }
        if hours < 24 * 30 * 2 { return "\(hours / 24 / 7) weeks" }
        if hours < 24 * 365 * 2 { return "\(hours / 24 / 30) months" }
        return "\(Int64(clamped / 3600) / 24 / 365) years"
    }

    /// docker's CREATED column: `HumanDuration(now - created) + " ago"`.
    public static func createdSince(_ created: Date, now: Date = Date()) -> String {
        humanDuration(now.timeIntervalSince(created)) + " ago"
    }

    /// Go's `time.Time.String()` to the second, as `docker images --format
    /// '{{.CreatedAt}}'` prints it: `2006-01-02 15:04:05 -0700 MST`.
    /// - Parameters:
    ///   - date: the instant (sub-second parts are dropped, as docker's Unix-second times have none).
    ///   - timeZone: the zone to show; docker uses the local one.
    public static func createdAt(_ date: Date, timeZone: TimeZone = .current) -> String {
        let seconds = (date.timeIntervalSince1970).rounded(.down)
        let instant = Date(timeIntervalSince1970: seconds)
        let offset = timeZone.secondsFromGMT(for: instant)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: instant)
        let stamp = "\(pad(c.year ?? 0, 4))-\(pad(c.month ?? 0, 2))-\(pad(c.day ?? 0, 2)) "
            + "\(pad(c.hour ?? 0, 2)):\(pad(c.minute ?? 0, 2)):\(pad(c.second ?? 0, 2))"
        let sign = offset < 0 ? "-" : "+"
        let numeric = sign + pad(abs(offset) / 3600, 2) + pad(abs(offset) % 3600 / 60, 2)
        return stamp + " " + numeric + " " + zoneName(timeZone, at: instant, offset: offset)
    }

    /// docker's history CREATED AT: RFC 3339 in UTC to the second (`2006-01-02T15:04:05Z`).
    public static func rfc3339(_ date: Date) -> String {
        createdAt(date, timeZone: TimeZone(secondsFromGMT: 0) ?? .current)
            .prefix(19).replacingOccurrences(of: " ", with: "T") + "Z"
    }

    /// The zone abbreviation Go prints: the tz database's name (`UTC`,
    /// `CET`, `EST`, `+04`), else Go's numeric form (`+03`, `+0530`).
    private static func zoneName(_ zone: TimeZone, at date: Date, offset: Int) -> String {
        if let name = ZoneAbbreviation.name(of: zone, at: date, identifier: environmentZone(for: zone)) { return name }
        if let name = zone.abbreviation(for: date), name.count > 1,
           !((name.hasPrefix("GMT") || name.hasPrefix("UTC")) && name.count > 3) {
            return name
        }
        if offset == 0 { return "UTC" }
        let sign = offset < 0 ? "-" : "+"
        let minutes = abs(offset) % 3600 / 60
        return sign + pad(abs(offset) / 3600, 2) + (minutes == 0 ? "" : pad(minutes, 2))
    }

    /// The `TZ` variable's zone name when `zone` is the local zone it set
    /// (Go names the local zone after `TZ`, Foundation may rename it: `UTC` → `GMT`).
    private static func environmentZone(for zone: TimeZone) -> String? {
        guard var tz = ProcessInfo.processInfo.environment["TZ"], !tz.isEmpty, zone == TimeZone.current else { return nil }
        if tz.hasPrefix(":") { tz.removeFirst() }
        guard let named = TimeZone(identifier: tz), named.secondsFromGMT() == zone.secondsFromGMT() else { return nil }
        return tz
    }

    private static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}

extension String {
    fileprivate func withSign(_ negative: Bool) -> String { negative ? "-" + self : self }
}
