import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One request as the client pipeline sees it.
struct Call {
    var method: HTTPMethod
    var url: String
    var headers = HTTPHeaders()
    var body: RequestBody?
    /// Token scopes the request needs (empty: registry-level, e.g. `/v2/`).
    var scopes: [Scope]
    var context: RegistryErrorContext
    /// Retry 429/5xx and broken connections automatically.
    var retry = true
    /// Follow redirects (GET/HEAD any 3xx; others 307/308 only).
    var followRedirects = true
    /// No deadline for the whole exchange (blob transfers); timeouts still apply.
    var streaming = false
    /// Told how many request-body bytes each write carried (caller's thread).
    var bodySent: (@Sendable (Int64) -> Void)?

    init(method: HTTPMethod, url: String, headers: HTTPHeaders = HTTPHeaders(), body: RequestBody? = nil,
         scopes: [Scope], context: RegistryErrorContext) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.scopes = scopes
        self.context = context
    }
}

/// A response whose head has arrived; the body is read from `exchange`.
final class Response {
    let exchange: Exchange
    let head: HTTPResponseHead
    /// The URL that answered (after redirects), to resolve relative `Location`s.
    let url: String

    init(exchange: Exchange, head: HTTPResponseHead, url: String) {
        self.exchange = exchange
        self.head = head
        self.url = url
    }

    var status: Int { Int(head.status.code) }

    /// The first value of header `name`, nil when absent or oversized.
    func header(_ name: String) -> String? {
        guard let v = head.headers.first(name: name), v.utf8.count <= RegistryLimits.headerValueBytes else { return nil }
        return v
    }

    /// `Content-Length`, when present and valid.
    var contentLength: Int64? { HeaderParsing.int64(header("Content-Length")) }

    /// Reads the (bounded) error body and turns the response into an error.
    func error(_ ctx: RegistryErrorContext) -> RegistryError {
        let body = exchange.collectPrefix(limit: RegistryLimits.errorBodyBytes)
        close()
        let (code, message) = RegistryError.parseBody(body)
        return .status(ctx, status: status, code: code, message: message)
    }

    /// Reads and drops the body (keeps the connection usable when small).
    func discard() {
        _ = exchange.collectPrefix(limit: 0)
        close()
    }

    func close() { exchange.close() }

    /// `Location` resolved against the answering URL (absolute or relative; its query kept).
    func location() throws -> String {
        guard let loc = header("Location"), !loc.isEmpty else {
            throw RegistryError.invalidResponse(RegistryErrorContext(registry: URL(string: url)?.host ?? url), "HTTP \(status) without a Location header")
        }
        guard let base = URL(string: url), let resolved = URL(string: loc, relativeTo: base)?.absoluteURL,
              let scheme = resolved.scheme?.lowercased(), scheme == "http" || scheme == "https", resolved.host != nil else {
            // Only up to the query: signed storage URLs carry credentials there.
            let shown = loc.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            throw RegistryError.invalidResponse(RegistryErrorContext(registry: URL(string: url)?.host ?? url), "unusable Location \"\(RegistryError.sanitize(String(shown.prefix(200))))\"")
        }
        return resolved.absoluteString
    }
}

enum Transport {
    /// One line for a connection-level error (no URL query, no secrets).
    static func describe(_ error: Error, url: String) -> String {
        let target = URL(string: url).map { "\($0.scheme ?? "")://\($0.host ?? "")\($0.port.map { ":\($0)" } ?? "")" } ?? "registry"
        if let e = error as? HTTPClientError {
            switch e {
            case .connectTimeout: return "connecting to \(target) timed out"
            case .readTimeout: return "reading from \(target) timed out"
            case .writeTimeout: return "writing to \(target) timed out"
            case .deadlineExceeded: return "request to \(target) took too long"
            case .remoteConnectionClosed: return "\(target) closed the connection"
            case .tlsHandshakeTimeout: return "TLS handshake with \(target) timed out"
            case .cancelled: return "request to \(target) was cancelled"
            default: return "request to \(target) failed: \(RegistryError.sanitize(String(describing: e)))"
            }
        }
        if let e = error as? NIOSSLError {
            let text = RegistryError.sanitize(String(describing: e))
            if text.contains("CERTIFICATE_VERIFY_FAILED") {
                return "TLS handshake with \(target) failed: certificate not trusted (give the CA with caFile/certDir, or tlsVerify=false)"
            }
            if text.contains("WRONG_VERSION_NUMBER") || text.contains("PACKET_LENGTH_TOO_LONG") {
                return "TLS handshake with \(target) failed: the server does not speak TLS (plain HTTP?)"
            }
            return "TLS handshake with \(target) failed: \(text)"
        }
        if let e = error as? NIOSSLExtraError {
            return "TLS with \(target) failed: \(RegistryError.sanitize(String(describing: e)))"
        }
        if let e = error as? NIOConnectionError {
            if let first = e.connectionErrors.first { return "cannot connect to \(target): \(describeIO(first.error))" }
            return "cannot connect to \(target): no address"
        }
        if let e = error as? IOError { return "connection to \(target) failed: \(describeIO(e))" }
        if let e = error as? ChannelError {
            switch e {
            case .connectTimeout: return "connecting to \(target) timed out"
            case .eof, .ioOnClosedChannel, .alreadyClosed: return "\(target) closed the connection"
            default: return "connection to \(target) failed: \(RegistryError.sanitize(String(describing: e)))"
            }
        }
        return "request to \(target) failed: \(RegistryError.sanitize(String(describing: error)))"
    }

    private static func describeIO(_ error: Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        return RegistryError.sanitize(String(describing: error))
    }

    /// Errors worth another attempt: the connection, not the request, failed.
    static func isRetryable(_ error: Error) -> Bool {
        if error is RegistryError { return false }
        if let e = error as? HTTPClientError {
            return [.readTimeout, .writeTimeout, .remoteConnectionClosed, .connectTimeout, .tlsHandshakeTimeout,
                    .getConnectionFromPoolTimeout].contains(e)
        }
        if let e = error as? NIOSSLError, String(describing: e).contains("CERTIFICATE_VERIFY_FAILED") { return false }
        return error is IOError || error is NIOConnectionError || error is ChannelError || error is NIOSSLError
            || error is HTTPParserError
    }
}
