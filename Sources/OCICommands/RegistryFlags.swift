import ArgumentParser
import OCIRegistry

/// Registry flags shared by the verbs that talk to a registry
/// (`login`, and `pull`/`push`/`copy` through the `docker://` transport):
/// `@OptionGroup var registryFlags: RegistryFlags`, then `registryFlags.options()`.
struct RegistryFlags: ParsableArguments {
    @Option(name: .customLong("creds"), help: "Credentials USER:PASSWORD (default: auth files and docker's config).")
    var creds: String?

    @Option(name: .customLong("authfile"), help: "Auth file to use (default: $REGISTRY_AUTH_FILE, containers auth.json, ~/.docker/config.json).")
    var authFile: String?

    @Option(name: .customLong("tls-verify"), help: "Verify TLS certificates (default true); false also allows plain HTTP.")
    var tlsVerify: Bool?

    @Option(name: .customLong("cert-dir"), help: "Directory with *.crt CAs and client.cert/client.key (default /etc/docker/certs.d/HOST).")
    var certDir: String?

    @Option(name: .customLong("ca-file"), help: "Extra CA certificates (PEM) to trust.")
    var caFile: String?

    @Flag(name: .customLong("plain-http"), help: "Use plain HTTP (default only as a fallback for localhost and 127.0.0.1).")
    var plainHTTP = false

    @Option(name: .customLong("retries"), help: "Retries of a request that failed on the way (connection, 429, 5xx), with backoff (0-20, default 4).")
    var retries: Int?

    /// The client options these flags describe.
    func options() throws -> RegistryOptions {
        var o = RegistryOptions(authFile: authFile, caFile: caFile, certDir: certDir, tlsVerify: tlsVerify,
                                plainHTTP: plainHTTP ? true : nil)
        if let creds { o.credentials = try Credentials(parsing: creds) }
        if let retries {
            guard (0...20).contains(retries) else { throw ValidationError("--retries must be 0-20") }
            o.retries = retries
        }
        o.userAgent = "ocitool"
        return o
    }
}

extension RegistryOptions {
    /// Applies one side's `--src-*` / `--dest-*` flags of `copy` and `sync`.
    mutating func override(creds: String?, tlsVerify: Bool?, certDir: String?) throws {
        if let creds { credentials = try Credentials(parsing: creds) }
        if let tlsVerify { self.tlsVerify = tlsVerify }
        if let certDir { self.certDir = certDir }
    }
}
