import Foundation
import OCIModel
import OCIImage

/// docker's `--filter KEY=VALUE` for images (`images`) and prunes
/// (`prune`): the same key given twice matches either value, different keys
/// must all match (except `label`, where every value must match, as docker's
/// `MatchKVList`).
struct ImageFilters {
    /// The values given per key (`label!` holds `label!=` values).
    private(set) var values: [String: [String]] = [:]

    /// Parses `KEY=VALUE` arguments.
    /// - Parameter accepted: the keys this verb takes.
    /// - Throws: `UsageError` for a malformed filter or an unknown key.
    init(_ arguments: [String], accepted: Set<String>) throws {
        for a in arguments {
            guard let eq = a.firstIndex(of: "=") else {
                throw UsageError("invalid argument \"\(a)\" for \"--filter\" flag: bad format of filter (expected name=value)")
            }
            let key = a[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            let value = a[a.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            guard accepted.contains(key) else { throw UsageError("invalid filter '\(key)'") }
            values[key, default: []].append(value)
        }
        for v in values["dangling"] ?? [] where !["true", "false", "1", "0"].contains(v.lowercased()) {
            throw UsageError("invalid filter 'dangling=\(v)'")
        }
    }

    func contains(_ key: String) -> Bool { values[key] != nil }

    /// `dangling=true` (only untagged), `false` (only tagged), nil (both).
    var dangling: Bool? {
        guard let v = values["dangling"] else { return nil }
        if v.contains(where: { ["true", "1"].contains($0.lowercased()) }) { return true }
        return false
    }

    /// `reference=PATTERN` patterns (the `images REPOSITORY[:TAG]` argument is one).
    var references: [String] { values["reference"] ?? [] }

    /// Does a name pass the reference filter? docker's `FamiliarMatch`:
    /// the pattern (`path.Match` glob) against `name:tag`, else against the name alone.
    func matchesReference(_ name: ImageReference) -> Bool {
        guard let patterns = values["reference"] else { return true }
        return patterns.contains { p in
            GlobMatch.match(p, name.familiarString) || GlobMatch.match(p, name.familiarName)
        }
    }

    /// `label=KEY` or `label=KEY=VALUE` (all must hold) and `label!=…` (none may hold).
    func matchesLabels(_ labels: [String: String]) -> Bool {
        func holds(_ spec: String) -> Bool {
            guard let eq = spec.firstIndex(of: "=") else { return labels[spec] != nil }
            return labels[String(spec[..<eq])] == String(spec[spec.index(after: eq)...])
        }
        return (values["label"] ?? []).allSatisfy(holds) && !(values["label!"] ?? []).contains(where: holds)
    }

    /// `until=TIMESTAMP`: the instant, parsed docker's ways.
    func until(now: Date = Date()) throws -> Date? {
        guard let v = values["until"]?.last else { return nil }
        guard let d = DockerTime.parse(v, now: now) else {
            throw UsageError("invalid filter 'until=\(v)': not a timestamp or duration (e.g. 2006-01-02T15:04:05Z, 1700000000, 24h)")
        }
        return d
    }
}

/// Go's `path.Match`: `*` any run of non-`/` characters, `?` one non-`/`
/// character, `[…]` a class (ranges, `^` negation), `\` escapes. A
/// malformed pattern matches nothing.
enum GlobMatch {
    static func match(_ pattern: String, _ name: String) -> Bool {
        (try? matches(Array(pattern.unicodeScalars)[...], Array(name.unicodeScalars)[...])) ?? false
    }

    struct BadPattern: Error {}

    private static func matches(_ p: ArraySlice<Unicode.Scalar>, _ s: ArraySlice<Unicode.Scalar>) throws -> Bool {
        var p = p, s = s
        while let c = p.first {
            switch c {
            case "*":
                let rest = p.dropFirst()
                if rest.isEmpty { return !s.contains("/") }
                var tail = s
                while true {
                    if try matches(rest, tail) { return true }
                    guard let first = tail.first, first != "/" else { return false }
                    tail = tail.dropFirst()
                }
            case "?":
                guard let first = s.first, first != "/" else { return false }
                p = p.dropFirst()
                s = s.dropFirst()
            case "[":
                guard let first = s.first, first != "/" else {
                    _ = try classEnd(p)
                    return false
                }
                let (matched, rest) = try matchClass(p.dropFirst(), first)
                guard matched else { return false }
                p = rest
                s = s.dropFirst()
            case "\\":
                p = p.dropFirst()
                guard let escaped = p.first else { throw BadPattern() }
                guard s.first == escaped else { return false }
                p = p.dropFirst()
                s = s.dropFirst()
            default:
                guard s.first == c else { return false }
                p = p.dropFirst()
                s = s.dropFirst()
            }
        }
        return s.isEmpty
    }

    /// Checks a class is well formed (for a pattern that fails before it).
    private static func classEnd(_ p: ArraySlice<Unicode.Scalar>) throws -> ArraySlice<Unicode.Scalar> {
        try matchClass(p.dropFirst(), "\u{0}").1
    }

    private static func matchClass(_ body: ArraySlice<Unicode.Scalar>, _ c: Unicode.Scalar) throws -> (Bool, ArraySlice<Unicode.Scalar>) {
        var p = body
        var negated = false
        if p.first == "^" {
            negated = true
            p = p.dropFirst()
        }
        var matched = false
        var first = true
        while true {
            guard let x = p.first else { throw BadPattern() }
            if x == "]" && !first { p = p.dropFirst(); break }
            first = false
            var lo = x
            p = p.dropFirst()
            if lo == "\\" {
                guard let e = p.first else { throw BadPattern() }
                lo = e
                p = p.dropFirst()
            }
            var hi = lo
            if p.first == "-", let next = p.dropFirst().first, next != "]" {
                p = p.dropFirst(2)
                hi = next
                if hi == "\\" {
                    guard let e = p.first else { throw BadPattern() }
                    hi = e
                    p = p.dropFirst()
                }
            }
            if lo.value <= c.value && c.value <= hi.value { matched = true }
        }
        return (matched != negated, p)
    }
}

/// Timestamps as docker's filters and `--since` read them (its
/// `GetTimestamp`): a Go duration before now (`10m`, `1h30m`, `24h`), Unix
/// seconds (`1700000000`, `1700000000.5`), RFC 3339 with or without
/// fraction and zone, or a date (`2006-01-02`, `2006-01-02T15:04`), the
/// last ones in the local zone.
enum DockerTime {
    static func parse(_ text: String, now: Date = Date()) -> Date? {
        if let d = duration(text) { return now.addingTimeInterval(-d) }
        if !text.isEmpty, text.allSatisfy({ $0.isNumber || $0 == "." }), text.filter({ $0 == "." }).count <= 1,
           let seconds = Double(text) {
            return Date(timeIntervalSince1970: seconds)
        }
        if let d = HumanUnits.parseDate(text) { return d }
        let formats = ["yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSS", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH", "yyyy-MM-dd"]
        for f in formats {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = .current
            formatter.dateFormat = f
            if let d = formatter.date(from: text) { return d }
        }
        return nil
    }

    /// Go's `time.ParseDuration`: `[-]` then number+unit pairs (ns, us, µs, ms, s, m, h).
    static func duration(_ text: String) -> TimeInterval? {
        var s = Substring(text)
        var sign = 1.0
        if s.first == "-" || s.first == "+" {
            if s.first == "-" { sign = -1 }
            s = s.dropFirst()
        }
        guard !s.isEmpty else { return nil }
        if s == "0" { return 0 }
        let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("μs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
        var total = 0.0
        while !s.isEmpty {
            let number = s.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            s = s.dropFirst(number.count)
            guard let unit = units.first(where: { s.hasPrefix($0.0) && !(($0.0 == "m") && s.hasPrefix("ms")) }) else { return nil }
            s = s.dropFirst(unit.0.count)
            total += value * unit.1
        }
        return sign * total
    }
}
