import Foundation
import Testing
import OCICore
import OCIRegistry

/// Hosts, options and local checks that need no server.
@Suite("Registry client: hosts and arguments")
struct ClientUnitTests {
    @Test(arguments: [
        ("docker.io", "docker.io", "registry-1.docker.io", "https://index.docker.io/v1/", false),
        ("index.docker.io", "docker.io", "registry-1.docker.io", "https://index.docker.io/v1/", false),
        ("localhost:5000", "localhost:5000", "localhost:5000", "localhost:5000", true),
        ("127.0.0.1:5000", "127.0.0.1:5000", "127.0.0.1:5000", "127.0.0.1:5000", true),
        ("127.1.2.3", "127.1.2.3", "127.1.2.3", "127.1.2.3", true),
        ("[::1]:5000", "[::1]:5000", "[::1]:5000", "[::1]:5000", true),
        ("https://Quay.IO/", "quay.io", "quay.io", "quay.io", false),
        ("128.0.0.1:5000", "128.0.0.1:5000", "128.0.0.1:5000", "128.0.0.1:5000", false),
    ])
    func hosts(input: String, name: String, api: String, key: String, loopback: Bool) throws {
        let h = try RegistryHost(input)
        #expect(h.name == name && h.apiHost == api && h.credentialKey == key && h.isLoopback == loopback)
    }

    @Test(arguments: ["", "a b", "host:0", "host:99999", "host:x", "-bad.com", "a/b", "[::1"])
    func badHosts(input: String) {
        #expect(throws: RegistryError.self) { _ = try RegistryHost(input) }
    }

    @Test func badNamesNeverReachTheNetwork() throws {
        let c = try RegistryClient(registry: "127.0.0.1:1", options: RegistryOptions(plainHTTP: true))
        defer { c.shutdown() }
        for repo in ["UPPER", "a//b", "../etc", "a?b", "a#b", ""] {
            #expect(throws: RegistryError.self) { _ = try c.manifest(repository: repo, reference: "latest") }
        }
        for ref in ["bad tag", "../x", "sha256:short", ".hidden", String(repeating: "a", count: 129)] {
            #expect(throws: RegistryError.self) { _ = try c.manifest(repository: "ok/repo", reference: ref) }
        }
        #expect(throws: RegistryError.self) {
            try c.putManifest(repository: "ok", reference: "sha256:" + String(repeating: "0", count: 64), mediaType: "x/y", bytes: [1])
        }
    }

    @Test func unreachableRegistryIsATransportError() throws {
        var o = RegistryOptions(plainHTTP: true)
        o.retries = 1
        o.retryDelay = 0.01
        let c = try RegistryClient(registry: "127.0.0.1:1", options: o)
        defer { c.shutdown() }
        do {
            try c.checkAccess()
            Issue.record("expected a connection error")
        } catch let e as RegistryError {
            guard case .transport = e else { Issue.record("got \(e)"); return }
            #expect("\(e)".contains("127.0.0.1:1") && "\(e)".contains("refused"), "\(e)")
        }
    }

    @Test func usedAfterShutdown() throws {
        let c = try RegistryClient(registry: "127.0.0.1:1", options: RegistryOptions(plainHTTP: true))
        c.shutdown()
        c.shutdown()
        #expect(throws: RegistryError.shutDown("127.0.0.1:1")) { try c.checkAccess() }
    }

    @Test func badOptionsAndFiles() throws {
        var o = RegistryOptions()
        o.retries = -1
        #expect(throws: RegistryError.self) { _ = try RegistryClient(registry: "quay.io", options: o) }
        #expect(throws: RegistryError.self) { _ = try RegistryClient(registry: "quay.io", options: RegistryOptions(caFile: "/nonexistent/ca.crt")) }
        #expect(throws: RegistryError.self) { _ = try RegistryClient(registry: "quay.io", options: RegistryOptions(certDir: "/nonexistent")) }
    }

    @Test func referrersTagSchema() throws {
        let d = try Digest(sha256Hex: String(repeating: "ab", count: 32))
        #expect(RegistryClient.referrersTag(for: d) == "sha256-" + String(repeating: "ab", count: 32))
    }
}
