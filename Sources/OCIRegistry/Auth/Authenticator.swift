import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Choosing among a registry's challenges.
enum Authenticator {
    /// Bearer when offered (it scopes access), else Basic.
    static func preferred(_ challenges: [AuthChallenge]) -> AuthChallenge? {
        challenges.first { $0.normalizedScheme == "bearer" } ?? challenges.first { $0.normalizedScheme == "basic" }
    }

    static func basic(_ c: Credentials) -> String {
        "Basic " + Data("\(c.username):\(c.password)".utf8).base64EncodedString()
    }
}

extension RegistryClient {
    /// The credentials for this registry: the options', else looked up once.
    func registryCredentials() throws -> Credentials? {
        if let c = options.credentials { return c }
        if let cached = state.current.credentials { return cached }
        let found = try Credentials.resolve(host: host.name, options: options)
        state.withLock { $0.credentials = .some(found) }
        return found
    }

    /// The `Authorization` value for a request needing `scopes`, once the
    /// registry's challenge is known (nil before: the first request goes
    /// anonymous and a 401 tells what to do).
    func authorization(for scopes: [Scope], context: RegistryErrorContext) throws -> String? {
        guard let challenge = state.current.challenge else { return nil }
        switch challenge.normalizedScheme {
        case "basic":
            return try registryCredentials().map(Authenticator.basic)
        case "bearer":
            let wanted = Scope.union(scopes.map(\.description))
            let key = tokenKey(challenge, wanted)
            if let t = state.current.tokens[key], t.isFresh { return "Bearer " + t.value }
            let token = try fetchToken(challenge, scopes: wanted, context: context)
            state.withLock { $0.tokens[key] = token }
            return "Bearer " + token.value
        default:
            return nil
        }
    }

    /// Reacts to a 401: learns the challenge, drops a refused token, and
    /// gets a new one for the call's scopes plus the challenge's `scope`
    /// (which names what was missing on `insufficient_scope`).
    /// - Returns: true when the request is worth repeating.
    func authenticate(challenges: [AuthChallenge], scopes: [Scope], sent: String?, context: RegistryErrorContext) throws -> Bool {
        guard let c = Authenticator.preferred(challenges) else { return false }
        switch c.normalizedScheme {
        case "basic":
            if sent?.hasPrefix("Basic ") == true { return false }  // those credentials were refused
            guard try registryCredentials() != nil else { return false }
            state.withLock { $0.challenge = c }
            return true
        case "bearer":
            let callScopes = Scope.union(scopes.map(\.description))
            var wanted = callScopes
            if let extra = c.parameters["scope"] {
                wanted = Scope.union(wanted + extra.split(separator: " ").map(String.init))
            }
            let key = tokenKey(c, callScopes)
            state.withLock { s in
                s.challenge = c
                if let sent, sent.hasPrefix("Bearer ") {
                    let old = String(sent.dropFirst("Bearer ".count))
                    s.tokens = s.tokens.filter { $0.value.value != old }
                }
            }
            let token = try fetchToken(c, scopes: wanted, context: context)
            if let sent, sent == "Bearer " + token.value { return false }  // the same token again: no progress
            state.withLock { $0.tokens[key] = token }
            return true
        default:
            return false
        }
    }

    func tokenKey(_ c: AuthChallenge, _ scopes: [String]) -> String {
        (c.parameters["realm"] ?? "") + "\n" + (c.parameters["service"] ?? "") + "\n" + scopes.joined(separator: " ")
    }

    /// Asks the challenge's realm for a token (distribution token spec):
    /// `GET realm?service=S&scope=…&account=U` with Basic credentials, or
    /// the OAuth2 refresh-token `POST` when the credentials carry an
    /// identity token. Anonymous when there are no credentials.
    func fetchToken(_ c: AuthChallenge, scopes: [String], context: RegistryErrorContext) throws -> BearerToken {
        guard let realm = c.parameters["realm"], realm.utf8.count <= 2048, var comps = URLComponents(string: realm),
              let scheme = comps.scheme?.lowercased(), scheme == "https" || scheme == "http", let realmHost = comps.host, !realmHost.isEmpty else {
            throw RegistryError.authentication(context, "the registry's bearer challenge has no usable realm")
        }
        let creds = try registryCredentials()
        let realmName = realmHost + (comps.port.map { ":\($0)" } ?? "")
        let realmIsLoopback = (try? RegistryHost(realmHost))?.isLoopback ?? false
        if creds != nil && scheme == "http" && !realmIsLoopback && state.current.scheme == "https" {
            throw RegistryError.authentication(context, "refusing to send credentials to the plain-HTTP token realm \(realmHost)")
        }
        var headers = HTTPHeaders()
        headers.add(name: "User-Agent", value: options.userAgent)
        let method: HTTPMethod
        var body: RequestBody?
        if let refresh = creds?.identityToken, !refresh.isEmpty {
            method = .POST
            var form = URLComponents()
            var items = [URLQueryItem(name: "grant_type", value: "refresh_token"),
                         URLQueryItem(name: "refresh_token", value: refresh),
                         URLQueryItem(name: "client_id", value: options.userAgent)]
            if let service = c.parameters["service"] { items.append(URLQueryItem(name: "service", value: service)) }
            if !scopes.isEmpty { items.append(URLQueryItem(name: "scope", value: scopes.joined(separator: " "))) }
            form.queryItems = items
            body = .bytes(Array((form.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B").utf8))
            headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        } else {
            method = .GET
            var items = comps.queryItems ?? []
            if let service = c.parameters["service"] { items.append(URLQueryItem(name: "service", value: service)) }
            for s in scopes { items.append(URLQueryItem(name: "scope", value: s)) }
            if let creds {
                items.append(URLQueryItem(name: "account", value: creds.username))
                headers.add(name: "Authorization", value: Authenticator.basic(creds))
            }
            comps.queryItems = items
        }
        guard let url = comps.url?.absoluteString else {
            throw RegistryError.authentication(context, "cannot build the token request for realm \(realmHost)")
        }
        var attempt = 0
        while true {
            let started = Date()
            let exchange: Exchange
            let head: HTTPResponseHead
            do {
                exchange = try Exchange(client: http, method: method, url: url, headers: headers, body: body, tls: nil,
                                        deadline: smallDeadline(), eventLoop: group.next())
                head = try exchange.head()
            } catch {
                if Transport.isRetryable(error) && attempt < options.retries {
                    attempt += 1
                    pause(backoff(attempt: attempt, retryAfter: nil))
                    continue
                }
                throw RegistryError.authentication(context, "token server: " + Transport.describe(error, url: url))
            }
            defer { exchange.close() }
            let status = Int(head.status.code)
            if (status == 429 || status >= 500) && attempt < options.retries {
                attempt += 1
                let after = HeaderParsing.retryAfter(head.headers.first(name: "Retry-After"))
                _ = exchange.collectPrefix(limit: 0)
                exchange.close()
                pause(backoff(attempt: attempt, retryAfter: after))
                continue
            }
            guard status == 200 else {
                let (code, message) = RegistryError.parseBody(exchange.collectPrefix(limit: RegistryLimits.errorBodyBytes))
                let who = creds.map { "the credentials of user \($0.username) were refused by the token server \(realmName)" }
                    ?? "the token server \(realmName) refused anonymous access"
                let detail = [who, message].compactMap { $0 }.joined(separator: ": ")
                throw RegistryError.status(context, status: status, code: code ?? (status == 401 ? "UNAUTHORIZED" : status == 403 ? "DENIED" : nil), message: detail)
            }
            guard let bytes = try exchange.collect(limit: RegistryLimits.tokenResponseBytes) else {
                throw RegistryError.authentication(context, "token response from \(realmHost) larger than \(RegistryLimits.tokenResponseBytes) bytes")
            }
            do {
                return try BearerToken.parse(bytes, requestedAt: started)
            } catch {
                throw RegistryError.authentication(context, "token server \(realmHost): \(error)")
            }
        }
    }
}
