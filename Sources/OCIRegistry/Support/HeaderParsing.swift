import Foundation

/// One challenge of a `WWW-Authenticate` header (RFC 7235): a scheme and
/// its parameters (keys lowercased).
struct AuthChallenge: Sendable, Equatable {
    var scheme: String
    var parameters: [String: String]

    /// `bearer` or `basic` (lowercased).
    var normalizedScheme: String { scheme.lowercased() }

    /// Parses every challenge in `header`; malformed parts are skipped.
    static func parse(_ header: String) -> [AuthChallenge] {
        guard header.utf8.count <= RegistryLimits.headerValueBytes else { return [] }
        var s = Scanner(header)
        var out: [AuthChallenge] = []
        while true {
            s.skip { $0 == " " || $0 == "," || $0 == "\t" }
            guard let scheme = s.token(), !scheme.isEmpty else { break }
            var params: [String: String] = [:]
            while true {
                let mark = s.index
                s.skip { $0 == " " || $0 == "," || $0 == "\t" }
                guard let key = s.token(), !key.isEmpty else { break }
                s.skip { $0 == " " || $0 == "\t" }
                guard s.peek() == "=" else { s.index = mark; break }  // a new scheme starts
                s.advance()
                s.skip { $0 == " " || $0 == "\t" }
                let value = s.peek() == "\"" ? s.quoted() : (s.token() ?? "")
                params[key.lowercased()] = value
            }
            out.append(AuthChallenge(scheme: scheme, parameters: params))
        }
        return out
    }

    private struct Scanner {
        let chars: [Character]
        var index = 0
        init(_ s: String) { chars = Array(s) }
        func peek() -> Character? { index < chars.count ? chars[index] : nil }
        mutating func advance() { index += 1 }
        mutating func skip(_ pred: (Character) -> Bool) { while let c = peek(), pred(c) { index += 1 } }
        mutating func token() -> String? {
            let start = index
            while let c = peek(), c != " " && c != "," && c != "=" && c != "\t" && c != "\"" { index += 1 }
            return index > start ? String(chars[start..<index]) : nil
        }
        mutating func quoted() -> String {
            advance()
            var out = ""
            while let c = peek() {
                advance()
                if c == "\\", let n = peek() { out.append(n); advance(); continue }
                if c == "\"" { break }
                out.append(c)
            }
            return out
        }
    }
}

/// Small parsers for the registry's response headers. Each returns nil for
/// anything malformed or out of range instead of trapping.
enum HeaderParsing {
    /// A `Content-Length`-style decimal: digits only, fits in Int64.
    static func int64(_ s: String?) -> Int64? {
        guard let s = s?.trimmingCharacters(in: .whitespaces), !s.isEmpty, s.utf8.count <= 19,
              s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(s)
    }

    /// The `rel="next"` target of a `Link` header (RFC 8288).
    static func nextLink(_ header: String?) -> String? {
        guard let header, header.utf8.count <= RegistryLimits.headerValueBytes else { return nil }
        for part in header.split(separator: ",") {
            let p = part.trimmingCharacters(in: .whitespaces)
            guard p.hasPrefix("<"), let close = p.firstIndex(of: ">") else { continue }
            let target = String(p[p.index(after: p.startIndex)..<close])
            let params = p[p.index(after: close)...].split(separator: ";").map {
                $0.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: " ", with: "")
            }
            if params.contains(where: { $0 == "rel=\"next\"" || $0 == "rel=next" }) { return target }
        }
        return nil
    }

    /// An upload's `Range: 0-N` (or `bytes=0-N`): the number of bytes the
    /// registry holds (N+1). `0-0` is read as 0 bytes, as distribution
    /// reports an empty upload that way; a wrong guess costs one retry.
    static func uploadOffset(_ header: String?) -> Int64? {
        guard var s = header?.trimmingCharacters(in: .whitespaces), s.utf8.count <= 64 else { return nil }
        if s.hasPrefix("bytes=") { s.removeFirst("bytes=".count) }
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, int64(String(parts[0])) == 0, let end = int64(String(parts[1])) else { return nil }
        if end == 0 { return 0 }
        return end < Int64.max ? end + 1 : nil
    }

    /// `Content-Range: bytes START-END/TOTAL` → (start, end, total?).
    static func contentRange(_ header: String?) -> (start: Int64, end: Int64, total: Int64?)? {
        guard var s = header?.trimmingCharacters(in: .whitespaces), s.utf8.count <= 128, s.hasPrefix("bytes ") else { return nil }
        s.removeFirst("bytes ".count)
        let slash = s.split(separator: "/", omittingEmptySubsequences: false)
        guard slash.count == 2 else { return nil }
        let range = slash[0].split(separator: "-", omittingEmptySubsequences: false)
        guard range.count == 2, let a = int64(String(range[0])), let b = int64(String(range[1])), a <= b else { return nil }
        let total = slash[1] == "*" ? nil : int64(String(slash[1]))
        if slash[1] != "*" && total == nil { return nil }
        return (a, b, total)
    }

    /// `Retry-After` as seconds from now: a delay in seconds or an HTTP date.
    static func retryAfter(_ header: String?, now: Date = Date()) -> Double? {
        guard let s = header?.trimmingCharacters(in: .whitespaces), !s.isEmpty, s.utf8.count <= 64 else { return nil }
        if let n = int64(s) { return Double(min(n, 86_400)) }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = f.date(from: s) else { return nil }
        return max(0, min(date.timeIntervalSince(now), 86_400))
    }

    /// The media type of a `Content-Type` header, without parameters, lowercased.
    static func mediaType(_ header: String?) -> String? {
        guard let h = header, h.utf8.count <= 512 else { return nil }
        let t = h.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return t.isEmpty ? nil : t
    }
}
