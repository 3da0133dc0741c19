import Foundation
import OCICore

extension Credentials {
    /// Finds the credentials for registry `host`, in this order:
    /// 1. `options.credentials` (`--creds user:pass`);
    /// 2. `options.authFile`, else `$REGISTRY_AUTH_FILE`, else the containers
    ///    files `$XDG_RUNTIME_DIR/containers/auth.json` and
    ///    `$XDG_CONFIG_HOME/containers/auth.json` (`~/.config/…`);
    /// 3. docker's `$DOCKER_CONFIG/config.json` (`~/.docker/config.json`).
    ///
    /// In each file a credential helper for the host (`credHelpers`, then
    /// `credsStore`: `docker-credential-NAME get`) wins over its `auths`
    /// entry. `docker.io` is looked up as `https://index.docker.io/v1/`.
    /// - Returns: nil when nothing is configured (anonymous access).
    /// - Throws: `RegistryError.credentials` for an unreadable file or a failing helper.
    public static func resolve(host: String, options: RegistryOptions) throws -> Credentials? {
        if let c = options.credentials { return c }
        let h = try RegistryHost(host)
        let env = options.environment ?? ProcessInfo.processInfo.environment
        for path in AuthPaths.lookupOrder(options: options, environment: env) {
            guard let file = try AuthFile.load(path) else { continue }
            if let c = try file.credentials(for: h, environment: env) { return c }
        }
        return nil
    }
}

/// Where credentials live.
public enum AuthPaths {
    /// The user's home: `$HOME`, else the password database.
    static func home(_ env: [String: String]) -> String {
        if let h = env["HOME"], !h.isEmpty { return h }
        if let pw = getpwuid(getuid()), let dir = pw.pointee.pw_dir { return String(cString: dir) }
        return "/"
    }

    /// docker's config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    public static func dockerConfig(environment env: [String: String]) -> String {
        if let d = env["DOCKER_CONFIG"], !d.isEmpty { return d + "/config.json" }
        return home(env) + "/.docker/config.json"
    }

    /// The files read, in order (see `Credentials.resolve`).
    public static func lookupOrder(options: RegistryOptions, environment env: [String: String]) -> [String] {
        var paths: [String] = []
        if let f = options.authFile, !f.isEmpty {
            paths.append(f)
        } else if let f = env["REGISTRY_AUTH_FILE"], !f.isEmpty {
            paths.append(f)
        } else {
            if let run = env["XDG_RUNTIME_DIR"], !run.isEmpty { paths.append(run + "/containers/auth.json") }
            let config = env["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home(env) + "/.config"
            paths.append(config + "/containers/auth.json")
        }
        let docker = dockerConfig(environment: env)
        if !paths.contains(docker) { paths.append(docker) }
        return paths
    }

    /// The file `login`/`logout` write: `authFile`, else `$REGISTRY_AUTH_FILE`, else docker's config.json.
    public static func writeTarget(authFile: String?, environment env: [String: String]) -> String {
        if let f = authFile, !f.isEmpty { return f }
        if let f = env["REGISTRY_AUTH_FILE"], !f.isEmpty { return f }
        return dockerConfig(environment: env)
    }
}
