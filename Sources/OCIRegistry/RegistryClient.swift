import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import OCICore
import OCIModel

/// A client for one registry over the OCI distribution API (spec 1.1).
///
/// Every call is synchronous: the calling thread blocks until it is done.
/// The client is `Sendable` and meant to be shared: the copy engine calls it
/// from several worker threads at once. Inside, async-http-client runs on
/// the client's own event loops (`RegistryOptions.eventLoopThreads`); a
/// `ByteSink` handed to a call is written only from the calling thread, fed
/// through a two-part buffer, so memory stays bounded and backpressure
/// reaches the socket. Do not call it from an event loop.
///
/// ```swift
/// let client = try RegistryClient(registry: "localhost:5000", options: RegistryOptions())
/// defer { client.shutdown() }
/// let m = try client.manifest(repository: "library/busybox", reference: "latest")
/// let manifest = try Manifest.parse(m.bytes, what: "manifest")
/// let sink = try FileSink(creating: "/tmp/layer")
/// try client.fetchBlob(repository: "library/busybox", descriptor: manifest.layers[0], into: sink, progress: nil)
/// try sink.finish()
/// ```
///
/// Auth: anonymous until the registry asks (401 with `WWW-Authenticate`),
/// then Basic or a bearer token for exactly the scopes of the call, cached
/// per scope and refreshed before expiry or on `insufficient_scope`.
/// Credentials come from `options.credentials`, else
/// `Credentials.resolve(host:options:)`. `Authorization` is sent only to
/// the registry's own host (never to a redirect target elsewhere).
public final class RegistryClient: Sendable {
    /// The registry this client talks to.
    public let host: RegistryHost
    let options: RegistryOptions
    let group: MultiThreadedEventLoopGroup
    let http: HTTPClient
    let tls: TLSConfiguration
    let state = Locked(ClientState())

    struct ClientState {
        /// `https` or `http`, once a ping decided it.
        var scheme: String?
        /// The registry's auth challenge, once seen.
        var challenge: AuthChallenge?
        /// Bearer tokens by realm, service and scopes.
        var tokens: [String: BearerToken] = [:]
        /// Credentials after the first lookup (outer nil: not looked up yet).
        var credentials: Credentials??
        var isShutDown = false
    }

    /// The media types asked for when fetching a manifest: OCI index and
    /// manifest, Docker manifest list and schema 2. Schema 1 is refused.
    public static let defaultAccept = [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest]

    /// Creates a client for `host` (`localhost:5000`, `docker.io`, `quay.io`).
    /// Nothing is sent until the first call.
    /// - Throws: `RegistryError.invalidArgument` for a bad host or options,
    ///   `RegistryError.tlsSetup` when a CA or client certificate cannot be loaded.
    public init(registry host: String, options: RegistryOptions = RegistryOptions()) throws {
        self.host = try RegistryHost(host)
        guard (0...20).contains(options.retries), options.chunkSize >= 4096, options.monolithicLimit >= 0,
              options.connectTimeout > 0, options.readTimeout > 0, options.requestTimeout > 0,
              options.retryDelay >= 0, options.maxRetryDelay >= 0, (1...64).contains(options.eventLoopThreads) else {
            throw RegistryError.invalidArgument("invalid registry options (retries 0-20, chunkSize >= 4096, positive timeouts, 1-64 threads)")
        }
        if let n = options.tagPageSize, n < 1 { throw RegistryError.invalidArgument("tag page size must be positive") }
        self.options = options
        tls = try TLSSettings.configuration(host: self.host.apiHost, options: options)
        group = MultiThreadedEventLoopGroup(numberOfThreads: options.eventLoopThreads)
        var config = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: .milliseconds(Int64(options.connectTimeout * 1000)),
                           read: .milliseconds(Int64(options.readTimeout * 1000)),
                           write: .milliseconds(Int64(options.readTimeout * 1000))),
            decompression: .disabled)
        config.httpVersion = .http1Only
        // Retries are ours (bounded, with backoff); the pool's own would
        // retry a refused TLS handshake until the connect timeout.
        config.connectionPool.retryConnectionEstablishment = false
        http = HTTPClient(eventLoopGroup: group, configuration: config)
    }

    deinit { shutdown() }

    /// Closes connections and stops the client's threads. Calls after this
    /// fail with `RegistryError.shutDown`. Idempotent; also run by deinit.
    public func shutdown() {
        let already = state.withLock { s -> Bool in
            defer { s.isShutDown = true }
            return s.isShutDown
        }
        guard !already else { return }
        try? http.syncShutdown()
        try? group.syncShutdownGracefully()
    }

    /// Checks that the registry answers the API (`GET /v2/`), with
    /// authentication when it asks for it. `login` uses this to verify credentials.
    /// - Throws: `RegistryError.status` (e.g. `UNAUTHORIZED`) or `.transport`.
    public func checkAccess() throws {
        let url = try baseURL() + "/v2/"
        let r = try send(Call(method: .GET, url: url, scopes: [], context: context(nil, nil)))
        defer { r.close() }
        guard r.status == 200 else { throw r.error(context(nil, nil)) }
    }

    func context(_ repository: String?, _ object: String?) -> RegistryErrorContext {
        RegistryErrorContext(registry: host.name, repository: repository, object: object)
    }

    /// `scheme://apiHost`, deciding the scheme with a ping the first time.
    func baseURL() throws -> String {
        let s = state.current
        if s.isShutDown { throw RegistryError.shutDown(host.name) }
        if let scheme = s.scheme { return "\(scheme)://\(host.apiHost)" }
        let scheme = try discoverScheme()
        state.withLock { $0.scheme = scheme }
        return "\(scheme)://\(host.apiHost)"
    }

    /// HTTPS unless told otherwise; HTTP after a failed HTTPS ping for
    /// loopback hosts and when TLS verification is off (like docker).
    private func discoverScheme() throws -> String {
        if options.plainHTTP == true { return "http" }
        let mayFallBack = options.plainHTTP == nil && (host.isLoopback || options.tlsVerify == false)
        do {
            try ping(scheme: "https", retrying: !mayFallBack)
            return "https"
        } catch let httpsError {
            guard mayFallBack else { throw httpsError }
            do {
                try ping(scheme: "http", retrying: true)
                return "http"
            } catch {
                throw httpsError
            }
        }
    }

    /// `ping`, repeated (bounded, with backoff) after timeouts and dropped
    /// connections when `retrying`; a refused TLS handshake is never repeated.
    private func ping(scheme: String, retrying: Bool) throws {
        var attempt = 0
        while true {
            do {
                return try ping(scheme: scheme)
            } catch let e as PingFailure {
                let transient = [HTTPClientError.readTimeout, .connectTimeout, .remoteConnectionClosed, .deadlineExceeded]
                    .contains(e.underlying as? HTTPClientError)
                guard retrying, transient, attempt < options.retries else { throw e.error }
                attempt += 1
                pause(backoff(attempt: attempt, retryAfter: nil))
            }
        }
    }

    private struct PingFailure: Error {
        var error: RegistryError
        var underlying: Error
    }

    /// `GET /v2/` without credentials: any HTTP answer proves the scheme;
    /// a 401 tells the auth challenge.
    private func ping(scheme: String) throws {
        let url = "\(scheme)://\(host.apiHost)/v2/"
        var headers = HTTPHeaders()
        headers.add(name: "User-Agent", value: options.userAgent)
        let ex: Exchange
        let head: HTTPResponseHead
        do {
            ex = try Exchange(client: http, method: .GET, url: url, headers: headers, body: nil, tls: nil,
                              deadline: smallDeadline(), eventLoop: group.next())
            head = try ex.head()
        } catch {
            throw PingFailure(error: .transport(context(nil, nil), Transport.describe(error, url: url)), underlying: error)
        }
        defer { ex.close() }
        let body = ex.collectPrefix(limit: 4096)
        if scheme == "http" && head.status.code == 400 && String(decoding: body, as: UTF8.self).contains("HTTPS") {
            throw RegistryError.transport(context(nil, nil), "the registry speaks HTTPS only")
        }
        if head.status.code == 401, let c = Authenticator.preferred(AuthChallenge.parse(head.headers.first(name: "WWW-Authenticate") ?? "")) {
            state.withLock { $0.challenge = c }
        }
    }

    func smallDeadline() -> NIODeadline {
        .now() + .milliseconds(Int64(options.requestTimeout * 1000))
    }
}
