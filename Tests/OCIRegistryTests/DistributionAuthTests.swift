import Foundation
import Testing
import OCICore
import OCIModel
import OCIRegistry
import OCIRegistryTestSupport
import OCITestSupport

/// distribution 2.8.2 with TLS from a test CA and htpasswd auth, and with
/// token auth from the test token server.
@Suite("Registry client vs distribution (TLS, htpasswd, tokens)")
struct DistributionAuthTests {
    static let user = "alice"
    static let password = "s3cret-Pa55word"

    func tlsRegistry(_ pki: TestPKI, clientCAs: [String] = []) throws -> DistributionRegistry {
        try DistributionRegistry(auth: .htpasswd(user: Self.user, password: Self.password),
                                 tls: .init(certificate: pki.serverCert, key: pki.serverKey, clientCAs: clientCAs))
    }

    func options(ca: String? = nil, password: String = DistributionAuthTests.password) -> RegistryOptions {
        var o = RegistryOptions(credentials: Credentials(username: Self.user, password: password), caFile: ca)
        o.retries = 1
        o.retryDelay = 0.05
        o.environment = ["HOME": "/nonexistent", "PATH": "/usr/bin:/bin"]
        return o
    }

    @Test func tlsWithTheTestCAAndBasicAuth() throws {
        let pki = try TestPKI()
        let registry = try tlsRegistry(pki)
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-reg")
        let client = try RegistryClient(registry: registry.host, options: options(ca: pki.caCert))
        defer { client.shutdown() }
        try client.checkAccess()
        let repo = uniqueRepo("tls")
        let (bytes, digest) = try pushTestImage(client, repo: repo, tag: "v1", dir: tmp, layerSize: 200_000)
        let m = try client.manifest(repository: repo, reference: "v1")
        #expect(m.bytes == bytes && m.digest == digest)
        let layer = try Manifest.parse(m.bytes, what: "manifest").layers[0]
        #expect(try fetchToMemory(client, repo, layer).count == 200_000)
    }

    @Test func tlsWithoutTheCAFailsAndTLSVerifyFalseWorks() throws {
        let pki = try TestPKI()
        let registry = try tlsRegistry(pki)
        defer { registry.stop() }
        // 127.0.0.1 may fall back to HTTP, but the HTTPS answer wins: a clear TLS error.
        let untrusted = try RegistryClient(registry: registry.host, options: options())
        defer { untrusted.shutdown() }
        do {
            try untrusted.checkAccess()
            Issue.record("expected a TLS error")
        } catch let e as RegistryError {
            guard case .transport = e else { Issue.record("wanted .transport, got \(e)"); return }
            #expect("\(e)".contains("certificate"), "\(e)")
            #expect("\(e)".contains(registry.host))
        }
        var insecure = options()
        insecure.tlsVerify = false
        let client = try RegistryClient(registry: registry.host, options: insecure)
        defer { client.shutdown() }
        try client.checkAccess()
        // A cert directory in docker's layout works like caFile.
        let certs = try TempDir(prefix: "ocitool-certs")
        try FS.writeAtomically(certs.file("ca.crt"), bytes: try FS.readFile(pki.caCert))
        var viaDir = options()
        viaDir.certDir = certs.path
        let dirClient = try RegistryClient(registry: registry.host, options: viaDir)
        defer { dirClient.shutdown() }
        try dirClient.checkAccess()
    }

    @Test func clientCertificateFromCertDir() throws {
        let pki = try TestPKI()
        let registry = try tlsRegistry(pki, clientCAs: [pki.caCert])
        defer { registry.stop() }
        let certs = try TempDir(prefix: "ocitool-certs")
        try FS.writeAtomically(certs.file("ca.crt"), bytes: try FS.readFile(pki.caCert))
        var without = options()
        without.certDir = certs.path
        without.plainHTTP = false
        let c1 = try RegistryClient(registry: registry.host, options: without)
        defer { c1.shutdown() }
        #expect(throws: RegistryError.self) { try c1.checkAccess() }
        try FS.writeAtomically(certs.file("client.cert"), bytes: try FS.readFile(pki.clientCert))
        try FS.writeAtomically(certs.file("client.key"), bytes: try FS.readFile(pki.clientKey))
        let c2 = try RegistryClient(registry: registry.host, options: without)
        defer { c2.shutdown() }
        try c2.checkAccess()
    }

    @Test func wrongPasswordIsUnauthorizedWithoutTheSecret() throws {
        let pki = try TestPKI()
        let registry = try tlsRegistry(pki)
        defer { registry.stop() }
        let wrong = "wr0ng-Secret-Value"
        let client = try RegistryClient(registry: registry.host, options: options(ca: pki.caCert, password: wrong))
        defer { client.shutdown() }
        do {
            _ = try client.manifest(repository: "some/repo", reference: "latest")
            Issue.record("expected UNAUTHORIZED")
        } catch let e as RegistryError {
            #expect(e.code == "UNAUTHORIZED", "\(e)")
            #expect(e.httpStatus == 401)
            let text = "\(e)"
            #expect(!text.contains(wrong) && !text.contains(Data("\(Self.user):\(wrong)".utf8).base64EncodedString()))
            #expect(text.contains(registry.host) && text.contains("some/repo"))
        }
        // No credentials at all: the same code.
        var anonymous = options(ca: pki.caCert)
        anonymous.credentials = nil
        let anon = try RegistryClient(registry: registry.host, options: anonymous)
        defer { anon.shutdown() }
        #expect(throws: RegistryError.self) { try anon.checkAccess() }
    }

    // MARK: - Token auth

    struct TokenSetup {
        let pki: TestPKI
        let tokens: TokenServer
        let registry: DistributionRegistry
        func stop() { registry.stop(); tokens.stop() }
    }

    func tokenSetup(policy: (@Sendable (String?, String, [String]) -> [String])? = nil) throws -> TokenSetup {
        let pki = try TestPKI()
        let tokens = try policy.map { try TokenServer(pki: pki, users: [Self.user: Self.password], policy: $0) }
            ?? TokenServer(pki: pki, users: [Self.user: Self.password])
        let registry = try DistributionRegistry(auth: .token(realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootBundle: pki.caCert))
        return TokenSetup(pki: pki, tokens: tokens, registry: registry)
    }

    @Test func tokenAuthPushPullWithExactScopes() throws {
        let setup = try tokenSetup()
        defer { setup.stop() }
        let tmp = try TempDir(prefix: "ocitool-reg")
        var o = options()
        o.plainHTTP = true
        let client = try RegistryClient(registry: setup.registry.host, options: o)
        defer { client.shutdown() }
        let repo = uniqueRepo("tok"), other = uniqueRepo("tok-from")
        let (bytes, _) = try pushTestImage(client, repo: repo, tag: "v1", dir: tmp)
        #expect(try client.manifest(repository: repo, reference: "v1").bytes == bytes)
        let asked = setup.tokens.requests
        #expect(asked.allSatisfy { $0.user == Self.user && $0.service == setup.tokens.service })
        #expect(asked.contains { $0.scopes == ["repository:\(repo):pull,push"] }, "\(asked.map(\.scopes))")
        #expect(asked.contains { $0.scopes == ["repository:\(repo):pull"] }, "\(asked.map(\.scopes))")
        // Tokens are cached per scope: pulls again ask for nothing new.
        let before = setup.tokens.requests.count
        _ = try client.manifest(repository: repo, reference: "v1")
        _ = try client.tags(repository: repo)
        #expect(setup.tokens.requests.count == before)
        // Mount asks for push on the target and pull on the source.
        let m = try Manifest.parse(bytes, what: "manifest")
        #expect(try client.mountBlob(repository: other, digest: m.layers[0].digest, from: repo))
        #expect(setup.tokens.requests.contains { Set($0.scopes) == ["repository:\(other):pull,push", "repository:\(repo):pull"] },
                "\(setup.tokens.requests.map(\.scopes))")
    }

    @Test func checkAccessWithTokens() throws {
        let setup = try tokenSetup()
        defer { setup.stop() }
        var o = options()
        o.plainHTTP = true
        let good = try RegistryClient(registry: setup.registry.host, options: o)
        defer { good.shutdown() }
        try good.checkAccess()
        #expect(setup.tokens.requests.last?.scopes == [] && setup.tokens.requests.last?.user == Self.user)
        var wrong = o
        wrong.credentials = Credentials(username: Self.user, password: "bad-pw-77")
        let bad = try RegistryClient(registry: setup.registry.host, options: wrong)
        defer { bad.shutdown() }
        #expect(throws: RegistryError.self) { try bad.checkAccess() }
        do { try bad.checkAccess() } catch let e as RegistryError {
            #expect(e.code == "UNAUTHORIZED" && !"\(e)".contains("bad-pw-77"), "\(e)")
        }
    }

    @Test func expiredTokensAreRefreshed() throws {
        let setup = try tokenSetup()
        defer { setup.stop() }
        let tmp = try TempDir(prefix: "ocitool-reg")
        var o = options()
        o.plainHTTP = true
        let client = try RegistryClient(registry: setup.registry.host, options: o)
        defer { client.shutdown() }
        let repo = uniqueRepo("expiry")
        try pushTestImage(client, repo: repo, tag: "v1", dir: tmp)
        setup.tokens.expiresIn = 1
        let pullScope = ["repository:\(repo):pull"]
        let countBefore = setup.tokens.requests.filter { $0.scopes == pullScope }.count
        // Force a short-lived pull token, let it expire, and use the scope again.
        let shortLived = try RegistryClient(registry: setup.registry.host, options: o)
        defer { shortLived.shutdown() }
        _ = try shortLived.manifest(repository: repo, reference: "v1")
        Thread.sleep(forTimeInterval: 1.2)
        _ = try shortLived.manifest(repository: repo, reference: "v1")
        let countAfter = setup.tokens.requests.filter { $0.scopes == pullScope }.count
        #expect(countAfter - countBefore == 2, "a new token after expiry: \(countBefore) → \(countAfter)")
    }

    @Test func insufficientScopeGetsANewToken() throws {
        // The first token for each scope grants nothing; asking again grants it.
        let seen = ScopeLog()
        let setup = try tokenSetup { user, repo, asked in
            seen.firstTime("\(repo):\(asked.joined(separator: ","))") ? [] : asked
        }
        defer { setup.stop() }
        let tmp = try TempDir(prefix: "ocitool-reg")
        var o = options()
        o.plainHTTP = true
        let client = try RegistryClient(registry: setup.registry.host, options: o)
        defer { client.shutdown() }
        let repo = uniqueRepo("scope")
        let (bytes, _) = try pushTestImage(client, repo: repo, tag: "v1", dir: tmp)
        #expect(try client.manifest(repository: repo, reference: "v1").bytes == bytes)
        let asked = setup.tokens.requests.filter { $0.scopes == ["repository:\(repo):pull,push"] }
        #expect(asked.count == 2, "\(setup.tokens.requests.map(\.scopes))")
    }

    @Test func deniedPushAndRefusedPasswordAtTheTokenServer() throws {
        // Anonymous users may pull public/*, alice may push anywhere but readonly/*.
        let setup = try tokenSetup { user, repo, asked in
            if user == nil { return repo.hasPrefix("public/") ? asked.filter { $0 == "pull" } : [] }
            return repo.hasPrefix("readonly/") ? asked.filter { $0 == "pull" } : asked
        }
        defer { setup.stop() }
        let tmp = try TempDir(prefix: "ocitool-reg")
        var o = options()
        o.plainHTTP = true
        let client = try RegistryClient(registry: setup.registry.host, options: o)
        defer { client.shutdown() }
        let blob = try TestBlob(in: tmp, name: "b", count: 100)
        do {
            try client.uploadBlob(repository: "readonly/x", descriptor: blob.descriptor, file: blob.path)
            Issue.record("expected a refusal")
        } catch let e as RegistryError {
            #expect(e.code == "UNAUTHORIZED" || e.code == "DENIED", "\(e)")
            #expect("\(e)".contains("readonly/x"))
        }
        var bad = o
        bad.credentials = Credentials(username: Self.user, password: "not-the-password-123")
        let badClient = try RegistryClient(registry: setup.registry.host, options: bad)
        defer { badClient.shutdown() }
        do {
            _ = try badClient.manifest(repository: "public/x", reference: "v1")
            Issue.record("expected UNAUTHORIZED")
        } catch let e as RegistryError {
            #expect(e.code == "UNAUTHORIZED", "\(e)")
            #expect("\(e)".contains("token server") && !"\(e)".contains("not-the-password-123"))
        }
        // Anonymous pull of a public repository works (the manifest is absent: MANIFEST_UNKNOWN, not UNAUTHORIZED).
        var anon = o
        anon.credentials = nil
        let anonClient = try RegistryClient(registry: setup.registry.host, options: anon)
        defer { anonClient.shutdown() }
        do {
            _ = try anonClient.manifest(repository: "public/x", reference: "v1")
            Issue.record("expected MANIFEST_UNKNOWN / NAME_UNKNOWN")
        } catch let e as RegistryError {
            #expect(e.code == "MANIFEST_UNKNOWN" || e.code == "NAME_UNKNOWN", "\(e)")
        }
    }
}

/// Remembers which scopes were asked for.
final class ScopeLog: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: Set<String> = []
    /// True the first time `key` is seen.
    func firstTime(_ key: String) -> Bool { lock.withLock { seen.insert(key).inserted } }
}
