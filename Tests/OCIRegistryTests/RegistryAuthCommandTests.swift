import Foundation
import Testing
import OCICore
import OCIModel
import OCIStore
import OCIRegistryTestSupport
import OCITestSupport

/// Credentials and TLS flags of `pull`, `push` and `copy`, against
/// distribution with TLS + htpasswd and with token auth.
@Suite("CLI: registry credentials and TLS")
struct RegistryAuthCommandTests {
    static let user = "dave"
    static let password = "Pw-for-dave-77"
    static let fixture = Fixtures.testImagesDir + "/skopeo-oci-gzip.tar"

    @Test func tlsAndHtpasswdWithCredsCaFileCertDirAndTLSVerify() throws {
        let pki = try TestPKI()
        let registry = try DistributionRegistry(auth: .htpasswd(user: Self.user, password: Self.password),
                                                tls: .init(certificate: pki.serverCert, key: pki.serverKey))
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-tls")
        let store = tmp.file("store")
        try CLI.ok(["load", "-q", "--root", store, Self.fixture], in: tmp)
        let name = "localhost/ocitool-test/skopeo-oci-gzip:v1"
        let ref = "\(registry.host)/secure/img:1"
        let creds = "\(Self.user):\(Self.password)"

        // No CA: a TLS error naming the registry (no fallback to HTTP once HTTPS answered).
        let untrusted = try CLI.run(["push", "--root", store, "--creds", creds, name, ref], in: tmp)
        #expect(untrusted.status == 1 && untrusted.stderr.contains("registry \(registry.host)") && untrusted.stderr.contains("certificate"),
                "\(untrusted.stderr)")
        // No credentials: UNAUTHORIZED.
        let anonymous = try CLI.run(["push", "--root", store, "--ca-file", pki.caCert, name, ref], in: tmp)
        #expect(anonymous.status == 1 && anonymous.stderr.contains("UNAUTHORIZED"), "\(anonymous.stderr)")
        // A wrong password: UNAUTHORIZED, the password never printed.
        let wrong = try CLI.run(["push", "--root", store, "--ca-file", pki.caCert, "--creds", "\(Self.user):Wrong-Pass-1", name, ref], in: tmp)
        #expect(wrong.status == 1 && wrong.stderr.contains("UNAUTHORIZED") && wrong.stderr.contains("dave"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains("Wrong-Pass-1") && !wrong.stdoutText.contains("Wrong-Pass-1"))
        #expect(try CLI.run(["pull", "--root", tmp.file("nothing"), "--creds", creds, "--ca-file", pki.caCert, ref], in: tmp).status == 1,
                "nothing was pushed by the failed attempts")

        try CLI.ok(["push", "--root", store, "--ca-file", pki.caCert, "--creds", creds, name, ref], in: tmp)
        // --cert-dir in docker's layout; --tls-verify=false.
        let certs = tmp.file("certs")
        try FS.makeDirectories(certs)
        try FS.writeAtomically(certs + "/ca.crt", bytes: try FS.readFile(pki.caCert))
        let viaDir = tmp.file("via-dir")
        try CLI.ok(["pull", "--root", viaDir, "--cert-dir", certs, "--creds", creds, ref], in: tmp)
        let insecure = tmp.file("insecure")
        try CLI.ok(["pull", "--root", insecure, "--tls-verify=false", "--creds", creds, ref], in: tmp)
        let pushedDigest = try ImageOps.resolve(name, in: ImageStore(root: store)).digest
        for root in [viaDir, insecure] {
            #expect(try ImageOps.resolve(ref, in: ImageStore(root: root)).digest == pushedDigest)
        }
        // skopeo reads it with the same credentials.
        let raw = try CLI.skopeo(["inspect", "--raw", "--cert-dir", certs, "--creds", creds, "docker://\(ref)"]).stdout
        #expect(SHA256Hasher.digest(raw) == pushedDigest)

        // copy: the source with --src-* flags to a plain registry (no flags needed there).
        let plain = try DistributionRegistry()
        defer { plain.stop() }
        let out = "docker://\(plain.host)/copied/img:1"
        let noCreds = try CLI.run(["copy", "--src-cert-dir", certs, "docker://\(ref)", out], in: tmp)
        #expect(noCreds.status == 1 && noCreds.stderr.contains("UNAUTHORIZED"), "\(noCreds.stderr)")
        try CLI.ok(["copy", "--src-cert-dir", certs, "--src-creds", creds, "docker://\(ref)", out], in: tmp)
        #expect(SHA256Hasher.digest(try CLI.rawManifest(out)) == pushedDigest)
        // And back, with --dest-* flags.
        let back = "docker://\(ref.replacingOccurrences(of: "/img:1", with: "/back:1"))"
        try CLI.ok(["copy", "--dest-tls-verify=false", "--dest-creds", creds, out, back], in: tmp)
        let raw2 = try CLI.skopeo(["inspect", "--raw", "--tls-verify=false", "--creds", creds, back]).stdout
        #expect(SHA256Hasher.digest(raw2) == pushedDigest)
    }

    @Test func tokenAuthPushPullCopyAndDenied() throws {
        let pki = try TestPKI()
        // Anyone may pull public/*; dave may push anywhere except readonly/*.
        let tokens = try TokenServer(pki: pki, users: [Self.user: Self.password]) { user, repo, asked in
            if user == nil { return repo.hasPrefix("public/") ? asked.filter { $0 == "pull" } : [] }
            return repo.hasPrefix("readonly/") ? asked.filter { $0 == "pull" } : asked
        }
        defer { tokens.stop() }
        let registry = try DistributionRegistry(auth: .token(realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootBundle: pki.caCert))
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-token")
        let store = tmp.file("store")
        try CLI.ok(["load", "-q", "--root", store, Self.fixture], in: tmp)
        let name = "localhost/ocitool-test/skopeo-oci-gzip:v1"
        let creds = "\(Self.user):\(Self.password)"
        let pub = "\(registry.host)/public/img:1"
        try CLI.ok(["push", "--root", store, "--creds", creds, name, pub], in: tmp)
        // Anonymous pull of a public repository.
        let anon = tmp.file("anon")
        try CLI.ok(["pull", "--root", anon, pub], in: tmp)
        // A mount between repositories asks for both scopes, and uploads nothing.
        let copy = try CLI.ok(["copy", "--progress", "json", "--src-creds", creds, "--dest-creds", creds, "docker://\(pub)",
                               "docker://\(registry.host)/private/img:1"], in: tmp)
        #expect(CLI.tasks(copy, phase: "push").isEmpty && CLI.tasks(copy, phase: "fetch").isEmpty)
        #expect(tokens.requests.contains { Set($0.scopes) == ["repository:private/img:pull,push", "repository:public/img:pull"] },
                "\(tokens.requests.map(\.scopes))")
        // Anonymous pull of a private repository: UNAUTHORIZED naming it.
        let denied = try CLI.run(["pull", "--root", tmp.file("denied"), "\(registry.host)/private/img:1"], in: tmp)
        #expect(denied.status == 1 && denied.stderr.contains("repository private/img") && denied.stderr.contains("UNAUTHORIZED"), "\(denied.stderr)")
        // Pushing where dave may only pull: refused, nothing tagged.
        let readonly = try CLI.run(["push", "--root", store, "--creds", creds, name, "\(registry.host)/readonly/img:1"], in: tmp)
        #expect(readonly.status == 1, "\(readonly.stderr)")
        #expect(readonly.stderr.contains("repository readonly/img") && (readonly.stderr.contains("DENIED") || readonly.stderr.contains("UNAUTHORIZED")),
                "\(readonly.stderr)")
        let probe = try CLI.run(["pull", "--root", tmp.file("probe"), "--creds", creds, "\(registry.host)/readonly/img:1"], in: tmp)
        #expect(probe.status == 1 && (probe.stderr.contains("MANIFEST_UNKNOWN") || probe.stderr.contains("NAME_UNKNOWN")), "\(probe.stderr)")
    }
}
