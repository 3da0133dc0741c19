import Foundation
import OCICore
import OCITestSupport

/// A real registry for tests: Debian's `docker-registry` (distribution
/// 2.8.2) started on 127.0.0.1 and a free port with a private config
/// (filesystem storage in a temp dir, deletes enabled), never the
/// package's own config or service.
///
/// It runs under a small `sh` watchdog that kills it when the test process
/// goes away, so a crashed run leaves nothing behind; `stop()` (or deinit)
/// stops it by PID.
public final class DistributionRegistry: @unchecked Sendable {
    /// Authentication the registry enforces.
    public enum Auth {
        case none
        /// htpasswd (bcrypt) with one user.
        case htpasswd(user: String, password: String)
        /// Bearer tokens from `realm`, signed by a certificate chaining to `rootBundle`.
        case token(realm: String, service: String, issuer: String, rootBundle: String)
    }

    /// TLS for the registry's listener.
    public struct TLS {
        public var certificate: String
        public var key: String
        /// CAs whose client certificates are required, when set.
        public var clientCAs: [String]
        public init(certificate: String, key: String, clientCAs: [String] = []) {
            self.certificate = certificate
            self.key = key
            self.clientCAs = clientCAs
        }
    }

    public let dir: TempDir
    public let port: Int
    private var process: Process
    private let pidFile: String
    private let lock = NSLock()
    private var stopped = false

    /// `127.0.0.1:PORT`.
    public var host: String { "127.0.0.1:\(port)" }
    /// The registry's log (errors only).
    public var log: String { (try? String(contentsOfFile: dir.file("registry.log"), encoding: .utf8)) ?? "" }

    /// The binary; throws (loudly) when it is not installed.
    public static func binary() throws -> String {
        for dir in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] where FileManager.default.isExecutableFile(atPath: dir + "/docker-registry") {
            return dir + "/docker-registry"
        }
        throw TestSupportError("docker-registry not found: install Debian's docker-registry package (make deps)")
    }

    /// Starts a registry and waits until it accepts connections.
    public init(auth: Auth = .none, tls: TLS? = nil) throws {
        let exe = try DistributionRegistry.binary()
        dir = try TempDir(prefix: "ocitool-registry")
        var lastError = ""
        for _ in 0..<3 {
            let port = try freeLoopbackPort()
            let config = dir.file("config.yml")
            try FS.writeAtomically(config, bytes: Array(DistributionRegistry.config(dir: dir, port: port, auth: auth, tls: tls).utf8))
            if case let .htpasswd(user, password) = auth {
                try FS.writeAtomically(dir.file("htpasswd"), bytes: Array((try htpasswdLine(user: user, password: password) + "\n").utf8))
            }
            let pidFile = dir.file("registry.pid")
            let p = try DistributionRegistry.launch(exe: exe, dir: dir, pidFile: pidFile)
            if DistributionRegistry.waitUntilListening(port: port, process: p, seconds: 20) {
                self.port = port
                self.process = p
                self.pidFile = pidFile
                return
            }
            lastError = String(String(decoding: (try? FS.readFile(dir.file("registry.log"))) ?? [], as: UTF8.self).suffix(2000))
            DistributionRegistry.kill(pidFile: pidFile, process: p)
            if !lastError.contains("address already in use") { break }
        }
        throw TestSupportError("docker-registry did not start: \(lastError)")
    }

    /// Kills the registry at once (SIGKILL, as a crash would), keeping its
    /// storage, so that `restart()` brings it back with what it had.
    public func crash() {
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
           let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1 {
            _ = Glibc.kill(pid, SIGKILL)
            for _ in 0..<100 where Glibc.kill(pid, 0) == 0 { usleep(20_000) }
        }
        process.waitUntilExit()
    }

    /// Starts the registry again on the same port and storage (after `crash()`).
    public func restart() throws {
        let p = try DistributionRegistry.launch(exe: try DistributionRegistry.binary(), dir: dir, pidFile: pidFile)
        process = p
        guard DistributionRegistry.waitUntilListening(port: port, process: p, seconds: 20) else {
            throw TestSupportError("docker-registry did not restart: \(String(log.suffix(2000)))")
        }
    }

    /// Starts `docker-registry serve DIR/config.yml` under the watchdog.
    private static func launch(exe: String, dir: TempDir, pidFile: String) throws -> Process {
        let config = dir.file("config.yml")
        FS.removeFile(pidFile)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        // The watchdog: start the registry, then poll the test process
        // and the registry; kill the registry when the test process is gone.
        p.arguments = ["-c", """
            "$1" serve "$2" >>"$3" 2>&1 &
            child=$!
            echo $child >"$4"
            while kill -0 "$5" 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 0.5; done
            kill $child 2>/dev/null
            wait $child 2>/dev/null
            exit 0
            """, "sh", exe, config, dir.file("registry.log"), pidFile, String(getpid())]
        // No REGISTRY_* variables from the environment may override the private config.
        p.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("REGISTRY_") && !$0.key.hasPrefix("OTEL_") }
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    deinit { stop() }

    /// Stops the registry (SIGTERM by PID, SIGKILL after 5 s). Idempotent.
    public func stop() {
        let already = lock.withLock { () -> Bool in
            defer { stopped = true }
            return stopped
        }
        guard !already else { return }
        DistributionRegistry.kill(pidFile: pidFile, process: process)
    }

    private static func kill(pidFile: String, process: Process) {
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
           let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1 {
            _ = Glibc.kill(pid, SIGTERM)
            for _ in 0..<100 where Glibc.kill(pid, 0) == 0 { usleep(50_000) }
            if Glibc.kill(pid, 0) == 0 { _ = Glibc.kill(pid, SIGKILL) }
        }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    private static func waitUntilListening(port: Int, process: Process, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard process.isRunning else { return false }
            if canConnect(port: port) {
                // The watchdog may still be writing the pid file.
                usleep(20_000)
                return true
            }
            usleep(50_000)
        }
        return false
    }

    /// Is something accepting TCP connections on 127.0.0.1:port?
    public static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let r = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return r == 0
    }

    static func config(dir: TempDir, port: Int, auth: Auth, tls: TLS?) -> String {
        var y = """
        version: 0.1
        log:
          level: error
          accesslog:
            disabled: true
        storage:
          filesystem:
            rootdirectory: \(dir.file("data"))
          delete:
            enabled: true
          maintenance:
            uploadpurging:
              enabled: false
        http:
          addr: 127.0.0.1:\(port)
          secret: ocitool-test-\(UInt64.random(in: 0...UInt64.max))

        """
        if let tls {
            y += "  tls:\n    certificate: \(tls.certificate)\n    key: \(tls.key)\n"
            if !tls.clientCAs.isEmpty {
                y += "    clientcas:\n" + tls.clientCAs.map { "      - \($0)\n" }.joined()
            }
        }
        switch auth {
        case .none:
            break
        case .htpasswd:
            y += "auth:\n  htpasswd:\n    realm: ocitool-test\n    path: \(dir.file("htpasswd"))\n"
        case let .token(realm, service, issuer, rootBundle):
            y += "auth:\n  token:\n    realm: \(realm)\n    service: \(service)\n    issuer: \(issuer)\n    rootcertbundle: \(rootBundle)\n"
        }
        return y
    }
}
