/// A user name and a secret for one registry. The secret never appears in
/// `description`, errors or logs.
public struct Credentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The user name (for an identity token, docker stores `<token>`).
    public var username: String
    /// The password, or an access token used as a password.
    public var password: String
    /// An OAuth2 refresh ("identity") token from docker's config, used
    /// instead of the password at a bearer-token realm.
    public var identityToken: String?

    public init(username: String, password: String, identityToken: String? = nil) {
        self.username = username
        self.password = password
        self.identityToken = identityToken
    }

    /// Parses `user:password` (as given to `--creds`); the password may contain `:`.
    /// - Throws: `RegistryError.invalidArgument` when there is no `:` or the user is empty.
    public init(parsing userColonPassword: String) throws {
        guard let colon = userColonPassword.firstIndex(of: ":"), colon != userColonPassword.startIndex else {
            throw RegistryError.invalidArgument("credentials must be USER:PASSWORD")
        }
        self.init(username: String(userColonPassword[..<colon]),
                  password: String(userColonPassword[userColonPassword.index(after: colon)...]))
    }

    public var description: String { "Credentials(username: \(username), password: <redacted>)" }
    public var debugDescription: String { description }
}

/// How to reach and authenticate to a registry. Every field has a default
/// that works for public registries and for a local `registry:2` on
/// `localhost`.
public struct RegistryOptions: Sendable {
    /// Credentials to use; when nil they are looked up with
    /// `Credentials.resolve(host:options:)` (auth files, docker config, helpers).
    public var credentials: Credentials?
    /// An auth file to read instead of `$REGISTRY_AUTH_FILE` and the
    /// containers defaults (docker's config.json is still consulted after it).
    public var authFile: String?
    /// Extra CA certificates (PEM) to trust for this registry, besides the system's.
    public var caFile: String?
    /// A docker `certs.d`-style directory (`*.crt` CAs, `client.cert` + `client.key`);
    /// default `/etc/docker/certs.d/<host:port>` (then `/etc/containers/certs.d/…`) when it exists.
    public var certDir: String?
    /// `false` skips TLS certificate verification (and, like docker's
    /// insecure registries, allows falling back to plain HTTP). nil means verify.
    public var tlsVerify: Bool?
    /// `true`: plain HTTP only. `false`: HTTPS only. nil: HTTPS, falling back
    /// to HTTP for `localhost`, `127.0.0.0/8` and `::1` (and when `tlsVerify == false`).
    public var plainHTTP: Bool?
    /// The User-Agent header.
    public var userAgent: String = "ocitool"
    /// Retries after the first attempt for 429, 5xx and broken connections (bounded).
    public var retries: Int = 4
    /// First backoff delay in seconds (doubled each retry, with jitter).
    public var retryDelay: Double = 0.5
    /// Longest wait between attempts, including a registry's `Retry-After`.
    public var maxRetryDelay: Double = 30
    /// Bytes per PATCH in a chunked upload (raised to the registry's `OCI-Chunk-Min-Length`).
    public var chunkSize: Int = 32 << 20
    /// Blobs up to this size are uploaded with one PUT; larger ones in chunks.
    public var monolithicLimit: Int64 = 64 << 20
    /// Page size asked for tag listings (`?n=`); nil lets the registry choose.
    public var tagPageSize: Int?
    /// Seconds allowed to open a connection.
    public var connectTimeout: Double = 30
    /// Seconds a connection may stay silent while a response is awaited or read.
    public var readTimeout: Double = 120
    /// Seconds allowed for a whole small request (manifests, tokens, tag pages).
    public var requestTimeout: Double = 300
    /// Event-loop threads of this client (all its connections share them).
    public var eventLoopThreads: Int = 2
    /// Environment used to find auth files and credential helpers; nil means the process's.
    public var environment: [String: String]?

    public init(credentials: Credentials? = nil, authFile: String? = nil, caFile: String? = nil, certDir: String? = nil,
                tlsVerify: Bool? = nil, plainHTTP: Bool? = nil) {
        self.credentials = credentials
        self.authFile = authFile
        self.caFile = caFile
        self.certDir = certDir
        self.tlsVerify = tlsVerify
        self.plainHTTP = plainHTTP
    }
}
