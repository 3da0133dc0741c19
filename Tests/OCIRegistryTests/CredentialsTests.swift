import Foundation
import Testing
import OCICore
import OCIRegistry
import OCITestSupport

/// Where credentials come from, and in what order.
@Suite("Credentials lookup and storage")
struct CredentialsTests {
    func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }

    func write(_ path: String, _ json: String) throws {
        try FS.makeDirectories(PathString(path).deletingLastComponent)
        try FS.writeAtomically(path, bytes: Array(json.utf8))
    }

    func options(_ env: [String: String], authFile: String? = nil) -> RegistryOptions {
        var o = RegistryOptions(authFile: authFile)
        o.environment = env
        return o
    }

    @Test func lookupOrder() throws {
        let tmp = try TempDir(prefix: "ocitool-creds")
        let home = tmp.file("home"), run = tmp.file("run")
        var env = ["HOME": home, "XDG_RUNTIME_DIR": run, "PATH": "/usr/bin:/bin"]
        #expect(try Credentials.resolve(host: "quay.io", options: options(env)) == nil)
        try write(home + "/.docker/config.json", #"{"auths":{"quay.io":{"auth":"\#(b64("docker:d-pass"))"},"https://index.docker.io/v1/":{"auth":"\#(b64("hub:h:pass"))"}}}"#)
        #expect(try Credentials.resolve(host: "quay.io", options: options(env)) == Credentials(username: "docker", password: "d-pass"))
        // docker.io is looked up under its legacy key; the password may hold ':'.
        #expect(try Credentials.resolve(host: "docker.io", options: options(env)) == Credentials(username: "hub", password: "h:pass"))
        #expect(try Credentials.resolve(host: "index.docker.io", options: options(env))?.username == "hub")
        try write(home + "/.config/containers/auth.json", #"{"auths":{"https://quay.io":{"auth":"\#(b64("user-config:c"))"}}}"#)
        #expect(try Credentials.resolve(host: "quay.io", options: options(env))?.username == "user-config")
        try write(run + "/containers/auth.json", #"{"auths":{"quay.io/v2/":{"auth":"\#(b64("user-run:r"))"}}}"#)
        #expect(try Credentials.resolve(host: "quay.io", options: options(env))?.username == "user-run")
        let explicit = tmp.file("explicit.json")
        try write(explicit, #"{"auths":{"quay.io":{"auth":"\#(b64("user-env:e"))"}}}"#)
        env["REGISTRY_AUTH_FILE"] = explicit
        #expect(try Credentials.resolve(host: "quay.io", options: options(env))?.username == "user-env")
        // Not in the explicit file: docker's config is still read.
        #expect(try Credentials.resolve(host: "docker.io", options: options(env))?.username == "hub")
        var withCreds = options(env)
        withCreds.credentials = try Credentials(parsing: "cli:pw:x")
        #expect(try Credentials.resolve(host: "quay.io", options: withCreds) == Credentials(username: "cli", password: "pw:x"))
        // Repository-scoped keys are not host-level credentials; $REGISTRY_AUTH_FILE
        // replaces the containers files, so docker's config answers.
        try write(explicit, #"{"auths":{"quay.io/org/repo":{"auth":"\#(b64("scoped:s"))"}}}"#)
        #expect(try Credentials.resolve(host: "quay.io", options: options(env))?.username == "docker")
    }

    @Test func credentialHelpers() throws {
        let tmp = try TempDir(prefix: "ocitool-creds")
        let bin = tmp.file("bin")
        try FS.makeDirectories(bin)
        // A helper that records its input and answers for one server.
        let helper = bin + "/docker-credential-ocitest"
        try FS.writeAtomically(helper, bytes: Array("""
            #!/bin/sh
            input=$(cat)
            echo "$1 $input" >> "\(tmp.file("helper.log"))"
            case "$1" in
            get)
              if [ "$input" = "registry.example.com:5000" ]; then
                printf '{"ServerURL":"%s","Username":"helper-user","Secret":"helper-secret"}' "$input"
              elif [ "$input" = "https://index.docker.io/v1/" ]; then
                printf '{"ServerURL":"%s","Username":"<token>","Secret":"refresh-123"}' "$input"
              else
                echo "credentials not found in native keychain"; exit 1
              fi ;;
            store|erase) exit 0 ;;
            esac
            """.utf8), mode: 0o755)
        let home = tmp.file("home")
        let env = ["HOME": home, "PATH": bin + ":/usr/bin:/bin"]
        try write(home + "/.docker/config.json", #"{"credHelpers":{"registry.example.com:5000":"ocitest"},"credsStore":"ocitest","auths":{"other.example.com":{"auth":"\#(b64("file-user:f"))"}}}"#)
        #expect(try Credentials.resolve(host: "registry.example.com:5000", options: options(env)) == Credentials(username: "helper-user", password: "helper-secret"))
        let hub = try #require(try Credentials.resolve(host: "docker.io", options: options(env)))
        #expect(hub.identityToken == "refresh-123")
        // The helper has nothing: the auths entry is used.
        #expect(try Credentials.resolve(host: "other.example.com", options: options(env))?.username == "file-user")
        let log = String(decoding: try FS.readFile(tmp.file("helper.log")), as: UTF8.self)
        #expect(log.contains("get registry.example.com:5000") && log.contains("get https://index.docker.io/v1/"))
        // A missing helper is a clear error.
        try write(home + "/.docker/config.json", #"{"credsStore":"absent"}"#)
        #expect(throws: RegistryError.credentials("credential helper docker-credential-absent not found on PATH")) {
            _ = try Credentials.resolve(host: "quay.io", options: options(env))
        }
    }

    @Test func saveAndRemoveKeepOtherEntries() throws {
        let tmp = try TempDir(prefix: "ocitool-creds")
        let home = tmp.file("home")
        let env = ["HOME": home, "PATH": "/usr/bin:/bin"]
        let config = home + "/.docker/config.json"
        let saved = try CredentialStore.save(Credentials(username: "u", password: "p:w"), host: "localhost:5000", environment: env)
        #expect(saved == .file(config))
        var st = stat()
        #expect(stat(config, &st) == 0 && st.st_mode & 0o777 == 0o600)
        try write(config, #"{"auths":{"localhost:5000":{"auth":"\#(b64("u:p:w"))"},"quay.io":{"auth":"\#(b64("q:q"))"}},"psFormat":"table"}"#)
        _ = try CredentialStore.save(Credentials(username: "hub", password: "x"), host: "docker.io", environment: env)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(FS.readFile(config))) as? [String: Any])
        #expect(obj["psFormat"] as? String == "table")
        let auths = try #require(obj["auths"] as? [String: Any])
        #expect(Set(auths.keys) == ["localhost:5000", "quay.io", "https://index.docker.io/v1/"])
        #expect(try CredentialStore.remove(host: "localhost:5000", environment: env) == [.file(config)])
        #expect(try CredentialStore.remove(host: "localhost:5000", environment: env).isEmpty)
        #expect(try Credentials.resolve(host: "quay.io", options: options(env))?.username == "q")
        // $REGISTRY_AUTH_FILE is the write target when set.
        let alt = tmp.file("alt/auth.json")
        #expect(try CredentialStore.save(Credentials(username: "a", password: "b"), host: "quay.io", environment: env.merging(["REGISTRY_AUTH_FILE": alt]) { $1 }) == .file(alt))
    }

    @Test func badFilesAreClearErrors() throws {
        let tmp = try TempDir(prefix: "ocitool-creds")
        let file = tmp.file("auth.json")
        try write(file, "{not json")
        #expect(throws: RegistryError.credentials("\(file) is not a JSON object")) {
            _ = try Credentials.resolve(host: "quay.io", options: options(["HOME": tmp.path], authFile: file))
        }
        try write(file, #"{"auths":{"quay.io":{"auth":"!!!"}}}"#)
        #expect(throws: RegistryError.self) { _ = try Credentials.resolve(host: "quay.io", options: options(["HOME": tmp.path], authFile: file)) }
        #expect(throws: RegistryError.self) { _ = try Credentials(parsing: "no-colon") }
        #expect("\(Credentials(username: "u", password: "hunter2"))".contains("hunter2") == false)
    }
}
