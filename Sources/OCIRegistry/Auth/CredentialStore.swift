import Foundation
import OCICore

/// Saving and removing credentials, for `ocitool login` and `logout`.
public enum CredentialStore {
    /// Where credentials for a host were saved or removed.
    public enum Location: Sendable, Equatable, CustomStringConvertible {
        case file(String)
        case helper(String)

        public var description: String {
            switch self {
            case let .file(p): return p
            case let .helper(h): return "credential helper docker-credential-\(h)"
            }
        }
    }

    /// Saves `credentials` for `host` in the write target
    /// (`AuthPaths.writeTarget`): through its credential helper when the
    /// file configures one for the host (`credHelpers`, `credsStore`), else
    /// as `auths[key].auth` = base64(user:password), written atomically with mode 0600.
    public static func save(_ credentials: Credentials, host: String, authFile: String? = nil,
                            environment: [String: String]? = nil) throws -> Location {
        let h = try RegistryHost(host)
        let env = environment ?? ProcessInfo.processInfo.environment
        let path = AuthPaths.writeTarget(authFile: authFile, environment: env)
        var file = try AuthFile.load(path) ?? AuthFile.empty(path)
        if let helper = file.helper(for: h) {
            try CredentialHelper.store(helper: helper, serverURL: h.credentialKey, credentials: credentials, environment: env)
            return .helper(helper)
        }
        file.setEntry(credentials, for: h)
        try file.save()
        return .file(path)
    }

    /// Removes the credentials for `host` from the write target (and from
    /// its credential helper when one is configured).
    /// - Returns: where they were removed from; empty when none were stored.
    public static func remove(host: String, authFile: String? = nil, environment: [String: String]? = nil) throws -> [Location] {
        let h = try RegistryHost(host)
        let env = environment ?? ProcessInfo.processInfo.environment
        let path = AuthPaths.writeTarget(authFile: authFile, environment: env)
        guard var file = try AuthFile.load(path) else { return [] }
        var removed: [Location] = []
        if let helper = file.helper(for: h), try CredentialHelper.erase(helper: helper, serverURL: h.credentialKey, environment: env) {
            removed.append(.helper(helper))
        }
        if file.removeEntries(for: h) {
            try file.save()
            removed.append(.file(path))
        }
        return removed
    }
}
