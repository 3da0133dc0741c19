import Foundation
import OCICore

/// Runs docker credential helpers (`docker-credential-NAME get|store|erase`),
/// which read the server URL (or a JSON record) on stdin and answer JSON on
/// stdout. Output is bounded; a helper's stderr is never shown (it may echo input).
enum CredentialHelper {
    /// What a helper said for `get`.
    enum Lookup { case found(Credentials), notFound }

    /// `docker-credential-NAME get` for `serverURL`.
    static func get(helper: String, serverURL: String, environment: [String: String]) throws -> Lookup {
        let r = try run(helper: helper, verb: "get", input: Array(serverURL.utf8), environment: environment)
        guard r.status == 0 else {
            let text = String(decoding: r.output.prefix(512), as: UTF8.self).lowercased()
            if text.contains("not found") || text.contains("no credentials") { return .notFound }
            throw RegistryError.credentials("docker-credential-\(helper) get failed (exit \(r.status))")
        }
        guard JSONDepth.isAcceptable(r.output),
              let obj = try? JSONSerialization.jsonObject(with: Data(r.output)) as? [String: Any],
              let user = obj["Username"] as? String, let secret = obj["Secret"] as? String else {
            throw RegistryError.credentials("docker-credential-\(helper) get printed no Username/Secret JSON")
        }
        if secret.isEmpty { return .notFound }
        if user == "<token>" { return .found(Credentials(username: user, password: "", identityToken: secret)) }
        return .found(Credentials(username: user, password: secret))
    }

    /// `docker-credential-NAME store`.
    static func store(helper: String, serverURL: String, credentials: Credentials, environment: [String: String]) throws {
        let record: [String: String] = ["ServerURL": serverURL, "Username": credentials.username, "Secret": credentials.password]
        let input = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
        let r = try run(helper: helper, verb: "store", input: Array(input), environment: environment)
        guard r.status == 0 else { throw RegistryError.credentials("docker-credential-\(helper) store failed (exit \(r.status))") }
    }

    /// `docker-credential-NAME erase`; "not found" counts as done.
    static func erase(helper: String, serverURL: String, environment: [String: String]) throws -> Bool {
        let r = try run(helper: helper, verb: "erase", input: Array(serverURL.utf8), environment: environment)
        if r.status == 0 { return true }
        let text = String(decoding: r.output.prefix(512), as: UTF8.self).lowercased()
        if text.contains("not found") { return false }
        throw RegistryError.credentials("docker-credential-\(helper) erase failed (exit \(r.status))")
    }

    /// Finds `docker-credential-NAME` on the environment's PATH.
    static func executable(_ helper: String, environment: [String: String]) throws -> String {
        guard !helper.isEmpty, helper.utf8.count <= 64,
              helper.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }) else {
            throw RegistryError.credentials("invalid credential helper name \"\(String(helper.prefix(64)))\"")
        }
        let name = "docker-credential-" + helper
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = dir + "/" + name
            if access(candidate, X_OK) == 0 && !FS.isDirectory(candidate) { return candidate }
        }
        throw RegistryError.credentials("credential helper \(name) not found on PATH")
    }

    private static func run(helper: String, verb: String, input: [UInt8], environment: [String: String]) throws -> (status: Int32, output: [UInt8]) {
        let exe = try executable(helper, environment: environment)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = [verb]
        process.environment = environment
        guard input.count <= 16 << 10 else { throw RegistryError.credentials("credential helper input too large") }
        // The (small) input goes into the pipe before the helper starts, so
        // nothing is written after it may have exited (no SIGPIPE).
        let stdin = Pipe(), stdout = Pipe()
        stdin.fileHandleForWriting.write(Data(input))
        try? stdin.fileHandleForWriting.close()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            throw RegistryError.credentials("cannot run \(exe): \(error.localizedDescription)")
        }
        var out: [UInt8] = []
        let reader = stdout.fileHandleForReading
        while true {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            if out.count < RegistryLimits.credentialFileBytes { out.append(contentsOf: chunk.prefix(RegistryLimits.credentialFileBytes - out.count)) }
        }
        process.waitUntilExit()
        return (process.terminationStatus, out)
    }
}
