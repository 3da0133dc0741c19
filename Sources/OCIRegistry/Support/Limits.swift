/// Bounds on what a registry may send. A registry's responses are input:
/// every size, count and number read from one is checked against these.
public enum RegistryLimits {
    /// Largest manifest or index accepted (distribution-spec: registries
    /// should accept at least 4 MiB; clients need not take more).
    public static let manifestBytes = 4 << 20
    /// Largest JSON nesting accepted in a manifest, index, tag list or token response.
    public static let jsonDepth = 64
    /// Largest error body read (the rest is discarded).
    public static let errorBodyBytes = 64 << 10
    /// Largest token-server response.
    public static let tokenResponseBytes = 1 << 20
    /// Largest bearer token accepted.
    public static let tokenBytes = 256 << 10
    /// Largest header value parsed (WWW-Authenticate, Location, Link, Range).
    public static let headerValueBytes = 16 << 10
    /// Largest tag-list or referrers page.
    public static let pageBytes = 4 << 20
    /// Most pages followed for one tag or referrers listing.
    public static let maxPages = 10_000
    /// Most tags or referrers returned by one listing.
    public static let maxListEntries = 1_000_000
    /// Most redirects followed for one request.
    public static let maxRedirects = 10
    /// Largest credential-helper or auth-file input.
    public static let credentialFileBytes = 4 << 20
}
