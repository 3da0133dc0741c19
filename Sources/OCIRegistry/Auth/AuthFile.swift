import Foundation
import OCICore

/// A docker `config.json` or containers `auth.json`: `auths` (base64
/// `user:password` in `auth`, or `username`/`password`, or
/// `identitytoken`), `credHelpers` (host → helper) and `credsStore`.
/// Unknown keys survive a rewrite.
struct AuthFile {
    let path: String
    var object: [String: Any]

    /// Loads `path`; nil when it does not exist.
    /// - Throws: `RegistryError.credentials` when it cannot be read or parsed.
    static func load(_ path: String) throws -> AuthFile? {
        guard FS.exists(path) else { return nil }
        let bytes: [UInt8]
        do { bytes = try FS.readFile(path, limit: RegistryLimits.credentialFileBytes) } catch {
            throw RegistryError.credentials("cannot read \(path): \(error)")
        }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) { return AuthFile(path: path, object: [:]) }
        guard JSONDepth.isAcceptable(bytes),
              let obj = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw RegistryError.credentials("\(path) is not a JSON object")
        }
        return AuthFile(path: path, object: obj)
    }

    /// An empty file to be written at `path`.
    static func empty(_ path: String) -> AuthFile { AuthFile(path: path, object: [:]) }

    /// The registry host a key names, or nil when the key is scoped to a
    /// repository (`quay.io/org/repo`), which host-level lookups skip.
    static func host(ofKey key: String) -> String? {
        var k = key.lowercased()
        for prefix in ["https://", "http://"] where k.hasPrefix(prefix) { k.removeFirst(prefix.count) }
        let parts = k.split(separator: "/", omittingEmptySubsequences: true)
        guard let first = parts.first else { return nil }
        let rest = parts.dropFirst()
        guard rest.isEmpty || (rest.count == 1 && (rest.first == "v1" || rest.first == "v2")) else { return nil }
        return (try? RegistryHost(String(first)))?.name
    }

    private func keys(in section: String, for host: RegistryHost) -> [String] {
        guard let dict = object[section] as? [String: Any] else { return [] }
        return dict.keys.filter { AuthFile.host(ofKey: $0) == host.name }.sorted {
            // The canonical key first, then the shortest.
            ($0 == host.credentialKey ? 0 : 1, $0.count) < ($1 == host.credentialKey ? 0 : 1, $1.count)
        }
    }

    /// The helper configured for `host`: `credHelpers[host]`, else `credsStore`.
    func helper(for host: RegistryHost) -> String? {
        if let helpers = object["credHelpers"] as? [String: Any],
           let key = keys(in: "credHelpers", for: host).first, let name = helpers[key] as? String, !name.isEmpty {
            return name
        }
        if let store = object["credsStore"] as? String, !store.isEmpty { return store }
        return nil
    }

    /// The `auths` entry for `host`, decoded.
    func storedEntry(for host: RegistryHost) throws -> Credentials? {
        guard let auths = object["auths"] as? [String: Any] else { return nil }
        for key in keys(in: "auths", for: host) {
            guard let entry = auths[key] as? [String: Any] else { continue }
            let identity = (entry["identitytoken"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            if let auth = entry["auth"] as? String, !auth.isEmpty {
                guard auth.utf8.count <= 64 << 10, let data = Data(base64Encoded: auth.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                    throw RegistryError.credentials("\(path): the \"auth\" of \(key) is not base64")
                }
                let text = String(decoding: data, as: UTF8.self)
                guard let colon = text.firstIndex(of: ":") else {
                    throw RegistryError.credentials("\(path): the \"auth\" of \(key) is not base64 of user:password")
                }
                return Credentials(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]), identityToken: identity)
            }
            if let user = entry["username"] as? String, let pass = entry["password"] as? String, !user.isEmpty {
                return Credentials(username: user, password: pass, identityToken: identity)
            }
            if let identity { return Credentials(username: "<token>", password: "", identityToken: identity) }
        }
        return nil
    }

    /// Credentials for `host`: its helper's (falling back to `auths` when
    /// the helper has none), else the `auths` entry.
    func credentials(for host: RegistryHost, environment: [String: String]) throws -> Credentials? {
        if let helper = helper(for: host) {
            switch try CredentialHelper.get(helper: helper, serverURL: host.credentialKey, environment: environment) {
            case let .found(c): return c
            case .notFound: break
            }
        }
        return try storedEntry(for: host)
    }

    /// Stores `auth` = base64(user:password) under the host's canonical key.
    mutating func setEntry(_ c: Credentials, for host: RegistryHost) {
        var auths = object["auths"] as? [String: Any] ?? [:]
        for key in keys(in: "auths", for: host) { auths.removeValue(forKey: key) }
        auths[host.credentialKey] = ["auth": Data("\(c.username):\(c.password)".utf8).base64EncodedString()]
        object["auths"] = auths
    }

    /// Removes every `auths` entry for the host. Returns whether one existed.
    mutating func removeEntries(for host: RegistryHost) -> Bool {
        guard var auths = object["auths"] as? [String: Any] else { return false }
        let found = keys(in: "auths", for: host)
        for key in found { auths.removeValue(forKey: key) }
        object["auths"] = auths
        return !found.isEmpty
    }

    /// Writes the file atomically (temp file, fsync, rename) with mode 0600,
    /// creating its directory (0700) when missing.
    func save() throws {
        let dir = PathString(path).deletingLastComponent
        do {
            if !FS.isDirectory(dir) { try FS.makeDirectories(dir, mode: 0o700) }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            try FS.writeAtomically(path, bytes: Array(data) + [0x0a], mode: 0o600)
        } catch let e as RegistryError {
            throw e
        } catch {
            throw RegistryError.credentials("cannot write \(path): \(error)")
        }
    }
}
