import Foundation
import OCICore
import OCITestSupport

/// A bearer-token server for distribution's `auth: token:` (the
/// distribution token spec): `GET /token?service=&scope=&account=` with
/// optional Basic credentials answers a JWT (RS256, `x5c` = the PKI's
/// signer certificate) granting what `policy` allows. Every request is
/// recorded for assertions.
public final class TokenServer: @unchecked Sendable {
    /// One token request as received.
    public struct Issued: Sendable {
        public var user: String?
        public var scopes: [String]
        public var service: String?
    }

    public let service = "ocitool-test-registry"
    public let issuer = "ocitool-test-issuer"
    private var server: TestHTTPServer?
    private let lock = NSLock()
    private var issued: [Issued] = []
    private var _expiresIn: Int = 300

    /// `http://127.0.0.1:PORT/token`.
    public var realm: String { "http://\(server?.hostPort ?? "")/token" }
    /// Requests so far.
    public var requests: [Issued] { lock.withLock { issued } }
    /// Lifetime of the tokens issued from now on (seconds).
    public var expiresIn: Int {
        get { lock.withLock { _expiresIn } }
        set { lock.withLock { _expiresIn = newValue } }
    }

    /// Starts the server. `users` maps names to passwords; `policy` says
    /// which actions a user (nil: anonymous) gets on a repository, from those asked.
    public init(pki: TestPKI, users: [String: String],
                policy: @escaping @Sendable (_ user: String?, _ repository: String, _ asked: [String]) -> [String] = { user, _, asked in user == nil ? [] : asked }) throws {
        let x5c = try pki.der(of: pki.signerCert)
        let service = self.service, issuer = self.issuer
        server = try TestHTTPServer { [weak self] req in
            guard req.path == "/token" else { return .error(404, code: "NOT_FOUND", message: "no such endpoint") }
            var user: String?
            if let auth = req.header("authorization") {
                guard auth.hasPrefix("Basic "), let data = Data(base64Encoded: String(auth.dropFirst(6))),
                      let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":"),
                      users[String(text[..<colon])] == String(text[text.index(after: colon)...]) else {
                    return .json(401, ["details": "incorrect username or password"])
                }
                user = String(text[..<colon])
            }
            let scopes = req.query.filter { $0.0 == "scope" }.flatMap { $0.1.split(separator: " ").map(String.init) }
            var access: [[String: Any]] = []
            for s in scopes {
                let parts = s.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                guard parts.count >= 3, parts[0] == "repository" else { continue }
                let name = parts[1..<(parts.count - 1)].joined(separator: ":")
                let granted = policy(user, name, parts[parts.count - 1].split(separator: ",").map(String.init))
                if !granted.isEmpty { access.append(["type": "repository", "name": name, "actions": granted]) }
            }
            let lifetime = self?.record(Issued(user: user, scopes: scopes, service: req.queryValue("service"))) ?? 300
            let now = Int(Date().timeIntervalSince1970)
            let claims: [String: Any] = ["iss": issuer, "sub": user ?? "", "aud": service, "exp": now + lifetime,
                                         "nbf": now - 10, "iat": now, "jti": UUID().uuidString, "access": access]
            guard let token = try? TokenServer.jwt(claims: claims, x5c: x5c, pki: pki) else {
                return .json(500, ["details": "signing failed"])
            }
            return .json(200, ["token": token, "access_token": token, "expires_in": lifetime,
                               "issued_at": ISO8601DateFormatter().string(from: Date())])
        }
    }

    deinit { stop() }

    public func stop() { server?.stop() }

    private func record(_ i: Issued) -> Int {
        lock.withLock {
            issued.append(i)
            return _expiresIn
        }
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func jwt(claims: [String: Any], x5c: [UInt8], pki: TestPKI) throws -> String {
        let header: [String: Any] = ["alg": "RS256", "typ": "JWT", "x5c": [Data(x5c).base64EncodedString()]]
        let h = base64url(Array(try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])))
        let c = base64url(Array(try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])))
        let input = Array("\(h).\(c)".utf8)
        return "\(h).\(c).\(base64url(try pki.signRS256(input)))"
    }
}
