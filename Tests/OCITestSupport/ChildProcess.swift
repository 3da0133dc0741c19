import Foundation
import OCICore
#if canImport(Glibc)
import Glibc
#endif

/// A process started with `posix_spawn` that the test can signal and wait
/// for itself: until `wait()` reaps it, its pid cannot be reused, so
/// `kill` only ever reaches this process (Foundation's `Process` reaps on
/// its own thread). stdout and stderr go to files in a private temp dir.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let arguments: [String]
    private let spool: TempDir
    private var result: Shell.Result?

    /// Starts `args[0]` (looked up on `PATH`) with the test's environment
    /// plus `environment`, stdin from `/dev/null` (or `stdinFile`).
    public init(_ args: [String], environment: [String: String] = [:], stdinFile: String? = nil) throws {
        precondition(!args.isEmpty, "ChildProcess needs a program")
        arguments = args
        spool = try TempDir(prefix: "ocitool-child")
        var env = ProcessInfo.processInfo.environment
        env["LC_ALL"] = "C.UTF-8"
        for (k, v) in environment { env[k] = v }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinFile ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, spool.file("stdout"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, spool.file("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        let argv: [UnsafeMutablePointer<CChar>?] = (["/usr/bin/env"] + args).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, "/usr/bin/env", &actions, nil, argv, envp)
        guard rc == 0 else { throw CoreError.io(context: "posix_spawn \(args[0])", errno: rc) }
        pid = child
    }

    deinit {
        if result == nil {
            _ = Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
    }

    /// Has the process exited (it stays unreaped until `wait()`)?
    public var hasExited: Bool {
        if result != nil { return true }
        // An exited child stays a zombie (state Z) until reaped.
        guard let stat = try? FS.readFile("/proc/\(pid)/stat", limit: 4096),
              let close = stat.lastIndex(of: UInt8(ascii: ")")), close + 2 < stat.count else { return true }
        return stat[close + 2] == UInt8(ascii: "Z") || stat[close + 2] == UInt8(ascii: "X")
    }

    /// Sends `signal` (only before `wait()` reaped the process).
    public func signal(_ signal: Int32) {
        guard result == nil else { return }
        _ = Glibc.kill(pid, signal)
    }

    /// Waits for the process to end. `status` is the exit status, or
    /// 128 + the signal number when a signal ended it.
    @discardableResult
    public func wait() throws -> Shell.Result {
        if let result { return result }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw CoreError.io(context: "waitpid \(pid)", errno: errno) }
        }
        let signalled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
        let code = signalled ? 128 + (status & 0x7f) : (status >> 8) & 0xff
        let r = Shell.Result(status: code, stdout: try FS.readFile(spool.file("stdout"), limit: 1 << 30),
                             stderr: String(decoding: try FS.readFile(spool.file("stderr"), limit: 16 << 20), as: UTF8.self))
        result = r
        return r
    }

    /// SIGKILLs the process and reaps it.
    @discardableResult
    public func kill() throws -> Shell.Result {
        signal(SIGKILL)
        return try wait()
    }

    /// Waits until `path` exists (a `TestHook` `touch=`), or the process
    /// ended without making it, or `limit` seconds passed (a hung test must
    /// still end). Returns whether the file appeared.
    public func waitForFile(_ path: String, limit: Double = 120) -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        while Date() < deadline {
            if FS.exists(path) { return true }
            if hasExited { return FS.exists(path) }
            usleep(2000)
        }
        return FS.exists(path)
    }

    /// `waitForFile`, throwing (with the process's status and stderr) when
    /// the file never appears: the process did not reach the hook point.
    public func awaitFile(_ path: String, limit: Double = 120) throws {
        guard waitForFile(path, limit: limit) else {
            let r = hasExited ? try wait() : try kill()
            throw PeerRunner.Failure(description: "\(arguments.joined(separator: " ")) never made \(path): status \(r.status): \(r.stderr)")
        }
    }
}
