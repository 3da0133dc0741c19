import Foundation
import NIOSSL
import OCICore

/// Builds the TLS configuration for one registry host from the options:
/// system trust, plus CA files (`caFile`, every `*.crt` of the cert
/// directory), a client certificate (`client.cert` / `client.key`, or any
/// `NAME.cert` with a matching `NAME.key`) and `tlsVerify=false`.
///
/// The cert directory follows docker's `certs.d` layout; without
/// `certDir` the first of `/etc/docker/certs.d/<host:port>` and
/// `/etc/containers/certs.d/<host:port>` that exists is used.
enum TLSSettings {
    /// Directories consulted when no `certDir` is given.
    static func defaultCertDirs(host: String) -> [String] {
        ["/etc/docker/certs.d/" + host, "/etc/containers/certs.d/" + host]
    }

    /// The configuration for `host`, or throws naming the file that failed to load.
    static func configuration(host: String, options: RegistryOptions) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if options.tlsVerify == false { tls.certificateVerification = .none }
        var caFiles: [String] = []
        if let ca = options.caFile { caFiles.append(ca) }
        let dir: String?
        if let d = options.certDir {
            guard FS.isDirectory(d) else { throw RegistryError.tlsSetup("cert directory \(d) does not exist") }
            dir = d
        } else {
            dir = defaultCertDirs(host: host).first(where: FS.isDirectory)
        }
        var clientPair: (cert: String, key: String)?
        if let dir {
            let names: [String]
            do { names = try FS.listDirectory(dir) } catch { throw RegistryError.tlsSetup("\(error)") }
            for name in names where name.hasSuffix(".crt") { caFiles.append(dir + "/" + name) }
            for name in names where name.hasSuffix(".cert") {
                let key = dir + "/" + name.dropLast(".cert".count) + ".key"
                guard FS.exists(key) else { throw RegistryError.tlsSetup("client certificate \(dir)/\(name) has no matching key \(key)") }
                if clientPair == nil { clientPair = (dir + "/" + name, key) }
            }
            for name in names where name.hasSuffix(".key") {
                let cert = dir + "/" + name.dropLast(".key".count) + ".cert"
                guard FS.exists(cert) else { throw RegistryError.tlsSetup("client key \(dir)/\(name) has no matching certificate \(cert)") }
            }
        }
        var roots: [NIOSSLCertificate] = []
        for file in caFiles {
            do {
                let certs = try NIOSSLCertificate.fromPEMFile(file)
                guard !certs.isEmpty else { throw RegistryError.tlsSetup("CA file \(file) holds no PEM certificate") }
                roots += certs
            } catch let e as RegistryError {
                throw e
            } catch {
                throw RegistryError.tlsSetup("cannot load CA file \(file): \(error)")
            }
        }
        if !roots.isEmpty { tls.additionalTrustRoots = [.certificates(roots)] }
        if let pair = clientPair {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(pair.cert).map { .certificate($0) }
            } catch {
                throw RegistryError.tlsSetup("cannot load client certificate \(pair.cert): \(error)")
            }
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: pair.key, format: .pem))
            } catch {
                throw RegistryError.tlsSetup("cannot load client key \(pair.key): \(error)")
            }
        }
        return tls
    }
}
