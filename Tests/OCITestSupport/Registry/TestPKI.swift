import Foundation
import OCICore
import OCITestSupport

/// A throw-away certificate authority made with `openssl` at test time:
/// a CA, a server certificate for `127.0.0.1`/`localhost`, a client
/// certificate, and an RSA signing certificate for registry tokens.
public final class TestPKI: Sendable {
    public let dir: TempDir
    public var caCert: String { dir.file("ca.crt") }
    public var caKey: String { dir.file("ca.key") }
    public var serverCert: String { dir.file("server.crt") }
    public var serverKey: String { dir.file("server.key") }
    public var clientCert: String { dir.file("client.cert") }
    public var clientKey: String { dir.file("client.key") }
    public var signerCert: String { dir.file("signer.crt") }
    public var signerKey: String { dir.file("signer.key") }

    /// Makes all certificates (EC P-256 for TLS, RSA 2048 for the token signer).
    /// - Throws: `TestSupportError` with openssl's message; fails loudly when openssl is missing.
    public init() throws {
        guard Shell.has("openssl") else { throw TestSupportError("openssl not found: install Debian's openssl (make deps)") }
        dir = try TempDir(prefix: "ocitool-pki")
        try run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", caKey, "-out", caCert, "-days", "2", "-subj", "/CN=ocitool test CA",
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        try issue(name: "server", subject: "/CN=127.0.0.1", ec: true,
                  ext: "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n",
                  cert: serverCert, key: serverKey)
        try issue(name: "client", subject: "/CN=ocitool test client", ec: true,
                  ext: "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n",
                  cert: clientCert, key: clientKey)
        try issue(name: "signer", subject: "/CN=ocitool test token signer", ec: false,
                  ext: "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n",
                  cert: signerCert, key: signerKey)
    }

    private func issue(name: String, subject: String, ec: Bool, ext: String, cert: String, key: String) throws {
        let csr = dir.file(name + ".csr"), extFile = dir.file(name + ".ext")
        try FS.writeAtomically(extFile, bytes: Array(ext.utf8))
        let keyArgs = ec ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"] : ["-newkey", "rsa:2048"]
        try run(["openssl", "req", "-new"] + keyArgs + ["-nodes", "-keyout", key, "-out", csr, "-subj", subject])
        try run(["openssl", "x509", "-req", "-in", csr, "-CA", caCert, "-CAkey", caKey, "-CAcreateserial",
                 "-out", cert, "-days", "2", "-extfile", extFile])
    }

    private func run(_ args: [String]) throws {
        let r = try Shell.run(args)
        guard r.status == 0 else { throw TestSupportError("\(args.prefix(3).joined(separator: " ")): \(r.stderr.prefix(500))") }
    }

    /// The DER bytes of a PEM certificate (for a JWT `x5c` header).
    public func der(of pem: String) throws -> [UInt8] {
        let r = try Shell.run(["openssl", "x509", "-in", pem, "-outform", "DER"])
        guard r.status == 0 else { throw TestSupportError("openssl x509 -outform DER: \(r.stderr)") }
        return r.stdout
    }

    /// RS256 signature of `data` with the signer key.
    public func signRS256(_ data: [UInt8]) throws -> [UInt8] {
        let r = try Shell.run(["openssl", "dgst", "-sha256", "-sign", signerKey], stdin: data)
        guard r.status == 0 else { throw TestSupportError("openssl dgst -sign: \(r.stderr)") }
        return r.stdout
    }
}

/// `htpasswd -nbB USER PASSWORD`: a bcrypt line for distribution's htpasswd auth.
public func htpasswdLine(user: String, password: String) throws -> String {
    guard Shell.has("htpasswd") else { throw TestSupportError("htpasswd not found: install Debian's apache2-utils (make deps)") }
    let r = try Shell.run(["htpasswd", "-nbB", "-C", "5", user, password])
    guard r.status == 0 else { throw TestSupportError("htpasswd: \(r.stderr)") }
    return r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
}
