import OCICore

/// A docker-style image reference (`busybox`, `busybox:1.36`,
/// `host:5000/a/b:t`, `name@sha256:…`), normalised as the docker CLI does:
/// `busybox` → `docker.io/library/busybox:latest`.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    /// Registry host (with port), e.g. `docker.io`, `localhost:5000`.
    public let domain: String
    /// Repository path, e.g. `library/busybox`.
    public let path: String
    public let tag: String?
    public let digest: Digest?

    public static let defaultDomain = "docker.io"
    public static let defaultTag = "latest"

    public init(domain: String, path: String, tag: String?, digest: Digest?) {
        self.domain = domain
        self.path = path
        self.tag = tag
        self.digest = digest
    }

    /// Parses and normalises `s`; a reference with neither tag nor digest
    /// gets `latest` when `defaultTag` is true.
    public init(parsing s: String, defaultTag: Bool = true) throws {
        guard !s.isEmpty, s.count <= 255 + 140 else { throw ModelError.invalid("reference \"\(s)\"", "empty or too long") }
        var rest = Substring(s)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            digest = try Digest(parsing: String(rest[rest.index(after: at)...]))
            rest = rest[..<at]
        }
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
        }
        if let t = tag, !ImageReference.isValidTag(t) {
            throw ModelError.invalid("reference \"\(s)\"", "bad tag \"\(t)\" (letters, digits, _ . -; at most 128; not starting with . or -)")
        }
        var domain = ImageReference.defaultDomain
        var remainder = String(rest)
        if let slash = rest.firstIndex(of: "/") {
            let first = rest[..<slash]
            if first.contains(".") || first.contains(":") || first == "localhost" || first.lowercased() != first {
                domain = String(first)
                remainder = String(rest[rest.index(after: slash)...])
            }
        }
        if domain == "index.docker.io" { domain = ImageReference.defaultDomain }
        if domain == ImageReference.defaultDomain && !remainder.contains("/") {
            remainder = "library/" + remainder
        }
        guard ImageReference.isValidDomain(domain) else {
            throw ModelError.invalid("reference \"\(s)\"", "bad registry host \"\(domain)\"")
        }
        if remainder.lowercased() != remainder {
            throw ModelError.invalid("reference \"\(s)\"", "repository name must be lowercase")
        }
        guard remainder.split(separator: "/", omittingEmptySubsequences: false).allSatisfy(ImageReference.isValidPathComponent) else {
            throw ModelError.invalid("reference \"\(s)\"", "bad repository name \"\(remainder)\"")
        }
        if tag == nil && digest == nil && defaultTag { tag = ImageReference.defaultTag }
        self.init(domain: domain, path: remainder, tag: tag, digest: digest)
    }

    /// `domain/path`.
    public var name: String { "\(domain)/\(path)" }

    /// `domain/path:tag` or `domain/path@digest` (tag wins when both).
    public var description: String {
        if let tag { return "\(name):\(tag)" }
        if let digest { return "\(name)@\(digest)" }
        return name
    }

    /// The name as docker prints it: `busybox`, `myuser/app`, `quay.io/x/y`.
    public var familiarName: String {
        guard domain == ImageReference.defaultDomain else { return name }
        if path.hasPrefix("library/") {
            let rest = path.dropFirst("library/".count)
            if !rest.contains("/") { return String(rest) }
        }
        return path
    }

    /// `familiarName:tag` (or with digest).
    public var familiarString: String {
        if let tag { return "\(familiarName):\(tag)" }
        if let digest { return "\(familiarName)@\(digest)" }
        return familiarName
    }

    /// The same repository with another tag.
    public func withTag(_ tag: String) -> ImageReference {
        ImageReference(domain: domain, path: path, tag: tag, digest: nil)
    }

    static func isValidTag(_ t: String) -> Bool {
        guard let first = t.utf8.first, t.utf8.count <= 128 else { return false }
        func word(_ c: UInt8) -> Bool {
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == UInt8(ascii: "_")
        }
        return word(first) && t.utf8.allSatisfy { word($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    static func isValidPathComponent(_ comp: Substring) -> Bool {
        // [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
        let bytes = Array(comp.utf8)
        guard let f = bytes.first, let l = bytes.last else { return false }
        func alnum(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) }
        guard alnum(f), alnum(l) else { return false }
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if alnum(c) { i += 1; continue }
            var j = i
            while j < bytes.count && !alnum(bytes[j]) { j += 1 }
            let sep = String(decoding: bytes[i..<j], as: UTF8.self)
            guard sep == "." || sep == "_" || sep == "__" || sep.allSatisfy({ $0 == "-" }) else { return false }
            i = j
        }
        return true
    }

    static func isValidDomain(_ d: String) -> Bool {
        var host = Substring(d)
        if let colon = d.lastIndex(of: ":"), !d.hasSuffix("]") {
            let port = d[d.index(after: colon)...]
            guard !port.isEmpty, port.allSatisfy(\.isNumber) else { return false }
            host = d[..<colon]
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { return true }
        return !host.isEmpty && host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
            !part.isEmpty && part.first != "-" && part.last != "-" && part.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
        }
    }
}
