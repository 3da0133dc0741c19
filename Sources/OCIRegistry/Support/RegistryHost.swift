import OCICore

/// A registry host as the user names it, with the API host and the key
/// its credentials are stored under.
///
/// `docker.io` (and `index.docker.io`) means `registry-1.docker.io` for the
/// API and `https://index.docker.io/v1/` as the credential key, as docker does.
public struct RegistryHost: Sendable, Hashable, CustomStringConvertible {
    /// The name as given, lowercased (`localhost:5000`, `docker.io`).
    public let name: String
    /// The host (with port) the API is reached at.
    public let apiHost: String
    /// The key of this registry in docker's config.json and for credential helpers.
    public let credentialKey: String

    /// Validates `host` (`name[:port]`, `[v6]:port`).
    /// - Throws: `RegistryError.invalidArgument` naming what is wrong.
    public init(_ host: String) throws {
        var h = host
        for prefix in ["https://", "http://"] where h.hasPrefix(prefix) { h.removeFirst(prefix.count) }
        while h.hasSuffix("/") { h.removeLast() }
        h = h.lowercased()
        guard RegistryHost.isValid(h) else {
            throw RegistryError.invalidArgument("invalid registry host \"\(String(host.prefix(100)))\" (expected NAME[:PORT])")
        }
        if h == "docker.io" || h == "index.docker.io" || h == "registry-1.docker.io" {
            name = "docker.io"
            apiHost = "registry-1.docker.io"
            credentialKey = "https://index.docker.io/v1/"
        } else {
            name = h
            apiHost = h
            credentialKey = h
        }
    }

    public var description: String { name }

    /// The host without its port (brackets kept off for IPv6).
    var hostOnly: String {
        if apiHost.hasPrefix("["), let close = apiHost.firstIndex(of: "]") {
            return String(apiHost[apiHost.index(after: apiHost.startIndex)..<close])
        }
        if let colon = apiHost.lastIndex(of: ":") { return String(apiHost[..<colon]) }
        return apiHost
    }

    /// `localhost`, `127.0.0.0/8` or `::1`: reached over plain HTTP when HTTPS fails.
    public var isLoopback: Bool {
        let h = hostOnly
        if h == "localhost" || h == "::1" || h.hasSuffix(".localhost") { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { p in
            !p.isEmpty && p.count <= 3 && p.allSatisfy(\.isASCII) && p.allSatisfy(\.isNumber) && (Int(p) ?? 256) <= 255
        }
    }

    static func isValid(_ h: String) -> Bool {
        guard !h.isEmpty, h.utf8.count <= 255 else { return false }
        var host = Substring(h)
        if h.hasPrefix("[") {
            guard let close = h.firstIndex(of: "]") else { return false }
            let inner = h[h.index(after: h.startIndex)..<close]
            guard !inner.isEmpty, inner.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
            let rest = h[h.index(after: close)...]
            if rest.isEmpty { return true }
            guard rest.first == ":" else { return false }
            return isPort(rest.dropFirst())
        }
        if let colon = h.lastIndex(of: ":") {
            guard isPort(h[h.index(after: colon)...]) else { return false }
            host = h[..<colon]
        }
        return !host.isEmpty && host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7a) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
        }
    }

    private static func isPort(_ s: Substring) -> Bool {
        guard !s.isEmpty, s.count <= 5, s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(s) else { return false }
        return n > 0 && n <= 65535
    }
}

/// Checks of names that go into request paths, so no input can change a URL's shape.
enum Names {
    /// distribution-spec: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`.
    static func checkRepository(_ r: String) throws {
        guard !r.isEmpty, r.utf8.count <= 255,
              r.split(separator: "/", omittingEmptySubsequences: false).allSatisfy(isComponent) else {
            throw RegistryError.invalidArgument("invalid repository name \"\(String(r.prefix(100)))\"")
        }
    }

    /// A tag (`[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`) or a digest.
    static func checkReference(_ ref: String) throws {
        if ref.contains(":") {
            guard Digest.isValid(ref) else { throw RegistryError.invalidArgument("invalid digest reference \"\(String(ref.prefix(100)))\"") }
            return
        }
        guard isTag(ref) else { throw RegistryError.invalidArgument("invalid tag \"\(String(ref.prefix(100)))\"") }
    }

    static func isTag(_ t: String) -> Bool {
        guard let first = t.utf8.first, t.utf8.count <= 128 else { return false }
        func word(_ c: UInt8) -> Bool {
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == UInt8(ascii: "_")
        }
        return word(first) && t.utf8.allSatisfy { word($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    private static func isComponent(_ comp: Substring) -> Bool {
        let bytes = Array(comp.utf8)
        func alnum(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) }
        guard let f = bytes.first, let l = bytes.last, alnum(f), alnum(l) else { return false }
        var i = 0
        while i < bytes.count {
            if alnum(bytes[i]) { i += 1; continue }
            var j = i
            while j < bytes.count && !alnum(bytes[j]) { j += 1 }
            let sep = bytes[i..<j]
            let ok = sep.elementsEqual([UInt8(ascii: ".")]) || sep.elementsEqual([UInt8(ascii: "_")])
                || sep.elementsEqual([UInt8(ascii: "_"), UInt8(ascii: "_")]) || sep.allSatisfy { $0 == UInt8(ascii: "-") }
            guard ok else { return false }
            i = j
        }
        return true
    }
}
