import Foundation
import Testing
import OCICore
import OCIRegistry
import OCIRegistryTestSupport
import OCITestSupport

/// `ocitool login` / `logout` end to end against a TLS + htpasswd registry, with a temp HOME.
@Suite("CLI: login and logout")
struct LoginCommandTests {
    static let user = "carol"
    static let password = "Pw-for-carol-42"

    func ocitool(_ args: [String], stdin: String? = nil, env: [String: String]) throws -> Shell.Result {
        try Shell.run([OCIToolBinary.path] + args, stdin: stdin.map { Array($0.utf8) }, environment: env)
    }

    @Test func loginWritesTheConfigAndLogoutRemovesIt() throws {
        let pki = try TestPKI()
        let registry = try DistributionRegistry(auth: .htpasswd(user: Self.user, password: Self.password),
                                                tls: .init(certificate: pki.serverCert, key: pki.serverKey))
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-login")
        let home = tmp.file("home")
        try FS.makeDirectories(home)
        let env = ["HOME": home, "REGISTRY_AUTH_FILE": "", "DOCKER_CONFIG": "", "XDG_RUNTIME_DIR": ""]
        let config = home + "/.docker/config.json"

        // A wrong password: UNAUTHORIZED, no secret printed, nothing written.
        let wrong = try ocitool(["login", "--username", Self.user, "--password-stdin", "--ca-file", pki.caCert, registry.host],
                                stdin: "Not-The-Password-9\n", env: env)
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("UNAUTHORIZED"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains("Not-The-Password-9") && !wrong.stdoutText.contains("Not-The-Password-9"))
        #expect(!FS.exists(config))

        let ok = try ocitool(["login", "-u", Self.user, "--password-stdin", "--ca-file", pki.caCert, registry.host],
                             stdin: Self.password + "\n", env: env)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdoutText == "Login Succeeded\n")
        #expect(!ok.stderr.contains(Self.password) && !ok.stdoutText.contains(Self.password))
        var st = stat()
        #expect(stat(config, &st) == 0 && st.st_mode & 0o777 == 0o600)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(FS.readFile(config))) as? [String: Any])
        let entry = try #require((obj["auths"] as? [String: Any])?[registry.host] as? [String: Any])
        #expect(entry["auth"] as? String == Data("\(Self.user):\(Self.password)".utf8).base64EncodedString())

        // The saved credentials are found by the client.
        var options = RegistryOptions(caFile: pki.caCert)
        options.environment = ["HOME": home, "PATH": "/usr/bin:/bin"]
        let client = try RegistryClient(registry: registry.host, options: options)
        defer { client.shutdown() }
        try client.checkAccess()

        let out = try ocitool(["logout", registry.host], env: env)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdoutText == "Removed login credentials for \(registry.host)\n")
        let after = try #require(try JSONSerialization.jsonObject(with: Data(FS.readFile(config))) as? [String: Any])
        #expect((after["auths"] as? [String: Any])?[registry.host] == nil)
        let again = try ocitool(["logout", registry.host], env: env)
        #expect(again.status != 0 && again.stderr.contains("not logged in to \(registry.host)"))
    }

    @Test func loginHonoursRegistryAuthFile() throws {
        let pki = try TestPKI()
        let registry = try DistributionRegistry(auth: .htpasswd(user: Self.user, password: Self.password),
                                                tls: .init(certificate: pki.serverCert, key: pki.serverKey))
        defer { registry.stop() }
        let tmp = try TempDir(prefix: "ocitool-login")
        let authFile = tmp.file("containers/auth.json")
        let env = ["HOME": tmp.file("home"), "REGISTRY_AUTH_FILE": authFile, "DOCKER_CONFIG": "", "XDG_RUNTIME_DIR": ""]
        let r = try ocitool(["login", "--creds", "\(Self.user):\(Self.password)", "--tls-verify=false", registry.host], env: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FS.exists(authFile) && !FS.exists(tmp.file("home/.docker/config.json")))
        #expect(try Credentials.resolve(host: registry.host, options: { var o = RegistryOptions(); o.environment = env; return o }())
                == Credentials(username: Self.user, password: Self.password))
        let bad = try ocitool(["login", "--password-stdin", registry.host], stdin: "x", env: env)
        #expect(bad.status != 0 && bad.stderr.contains("--username"))
    }
}
