import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OCICore

extension RegistryClient {
    /// Sends `call` and returns the response whose status is not one the
    /// pipeline handles itself: 401 (authenticate, then repeat), 429 and
    /// 5xx (back off, honouring `Retry-After`, then repeat; bounded), and
    /// redirects (followed up to `RegistryLimits.maxRedirects`, without
    /// `Authorization` when the target is another host).
    /// - Throws: `RegistryError.transport` after the last failed attempt,
    ///   `.status` for a 401 that credentials cannot fix, or for a 429/5xx
    ///   after the last attempt.
    func send(_ call: Call) throws -> Response {
        var url = call.url
        var method = call.method
        var body = call.body
        var attempt = 0
        var authRounds = 0
        var redirects = 0
        var sentAuthorization: String?
        while true {
            if state.current.isShutDown { throw RegistryError.shutDown(host.name) }
            var headers = call.headers
            headers.replaceOrAdd(name: "User-Agent", value: options.userAgent)
            let toRegistry = isRegistryURL(url)
            sentAuthorization = nil
            if toRegistry, let auth = try authorization(for: call.scopes, context: call.context) {
                headers.replaceOrAdd(name: "Authorization", value: auth)
                sentAuthorization = auth
            } else {
                headers.remove(name: "Authorization")
            }
            let exchange: Exchange
            let head: HTTPResponseHead
            do {
                exchange = try Exchange(client: http, method: method, url: url, headers: headers, body: body, tls: nil,
                                        deadline: call.streaming ? nil : smallDeadline(), eventLoop: group.next(),
                                        bodySent: call.bodySent)
                head = try exchange.head()
            } catch let e as RegistryError {
                throw e
            } catch let e as CoreError {
                throw e
            } catch {
                if call.retry && Transport.isRetryable(error) && attempt < options.retries {
                    attempt += 1
                    pause(backoff(attempt: attempt, retryAfter: nil))
                    continue
                }
                throw RegistryError.transport(call.context, Transport.describe(error, url: url))
            }
            let response = Response(exchange: exchange, head: head, url: url)
            let status = response.status

            if status == 401 && toRegistry {
                let challenges = head.headers["WWW-Authenticate"].flatMap { AuthChallenge.parse($0) }
                let err = response.error(call.context)
                guard authRounds < 2,
                      try authenticate(challenges: challenges, scopes: call.scopes, sent: sentAuthorization, context: call.context) else {
                    throw try explain401(err, sent: sentAuthorization, scopes: call.scopes)
                }
                authRounds += 1
                continue
            }
            if call.retry && (status == 429 || (status >= 500 && status != 501 && status != 505)) && attempt < options.retries {
                attempt += 1
                let after = HeaderParsing.retryAfter(response.header("Retry-After"))
                response.discard()
                pause(backoff(attempt: attempt, retryAfter: after))
                continue
            }
            if call.followRedirects && [301, 302, 303, 307, 308].contains(status) {
                let keepsMethod = status == 307 || status == 308
                guard keepsMethod || method == .GET || method == .HEAD || status == 303 else { return response }
                guard redirects < RegistryLimits.maxRedirects else {
                    response.discard()
                    throw RegistryError.invalidResponse(call.context, "more than \(RegistryLimits.maxRedirects) redirects")
                }
                let next = try response.location()
                response.discard()
                redirects += 1
                if status == 303 && method != .HEAD { method = .GET; body = nil }
                url = next
                continue
            }
            return response
        }
    }

    /// Adds what was tried to a final 401 (never the secret itself).
    private func explain401(_ err: RegistryError, sent: String?, scopes: [Scope]) throws -> RegistryError {
        guard case let .status(ctx, status, code, message) = err else { return err }
        var hint: String
        if sent?.hasPrefix("Basic ") == true {
            hint = "the credentials of user \(try registryCredentials()?.username ?? "?") were refused"
        } else if sent?.hasPrefix("Bearer ") == true {
            let wanted = Scope.union(scopes.map(\.description)).joined(separator: " ")
            hint = "the token server did not grant \(wanted.isEmpty ? "access" : wanted)"
                + (try registryCredentials() == nil ? " to anonymous users (no credentials configured)" : "")
        } else {
            hint = "no credentials configured for \(host.name)"
        }
        if let message, !message.isEmpty { hint = message + " (" + hint + ")" }
        return .status(ctx, status: status, code: code ?? "UNAUTHORIZED", message: hint)
    }

    /// Is `url` on the registry's own host (scheme aside)? Only there is
    /// `Authorization` sent.
    func isRegistryURL(_ url: String) -> Bool {
        guard let u = URL(string: url), var h = u.host?.lowercased() else { return false }
        if h.hasPrefix("[") && h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        let port = u.port.map { ":\($0)" } ?? ""
        let hostPort = (h.contains(":") ? "[\(h)]" : h) + port
        if hostPort == host.apiHost { return true }
        // The default port may be implicit on either side.
        let defaultPort = u.scheme == "http" ? ":80" : ":443"
        return (port.isEmpty && host.apiHost == hostPort + defaultPort) || (port == defaultPort && host.apiHost == (h.contains(":") ? "[\(h)]" : h))
    }

    /// Delay before attempt `attempt` (1-based): the registry's
    /// `Retry-After` when given, else exponential backoff with jitter;
    /// never more than `maxRetryDelay`.
    func backoff(attempt: Int, retryAfter: Double?) -> Double {
        if let r = retryAfter { return min(max(r, 0), options.maxRetryDelay) }
        let exp = options.retryDelay * pow(2, Double(min(attempt - 1, 16)))
        return min(exp * Double.random(in: 0.75...1.25), options.maxRetryDelay)
    }

    func pause(_ seconds: Double) {
        if seconds > 0 { Thread.sleep(forTimeInterval: seconds) }
    }
}
