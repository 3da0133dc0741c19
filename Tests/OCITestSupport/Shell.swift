import Foundation
import OCICore

/// Runs peer tools (`sha256sum`, GNU `tar`, `bsdtar`, `gzip`, `zstd`, `skopeo`…)
/// as the oracle for interop tests.
public enum Shell {
    /// What a finished process left behind.
    public struct Result: Sendable {
        /// Exit status (or the signal number if it was killed).
        public var status: Int32
        /// Everything written to stdout, byte for byte.
        public var stdout: [UInt8]
        /// stderr, decoded as UTF-8 (lossy) for messages.
        public var stderr: String
        /// stdout decoded as UTF-8 (lossy).
        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// Runs `args` (looked up on `PATH`), waits for it, and collects its output.
    ///
    /// stdout and stderr are spooled through temporary files, so large
    /// outputs cannot deadlock a pipe. The locale is pinned to `C.UTF-8`
    /// so tools print non-ASCII names as they are.
    /// - Parameters:
    ///   - args: the program and its arguments, e.g. `["tar", "-tf", path]`.
    ///   - stdin: bytes fed to stdin (none: stdin is `/dev/null`).
    ///   - stdinFile: a file fed to stdin instead of `stdin`.
    ///   - environment: variables added to (or overriding) the test's environment.
    /// - Throws: if the program cannot be started or the spool files cannot be made.
    public static func run(_ args: [String], stdin: [UInt8]? = nil, stdinFile: String? = nil,
                           environment: [String: String] = [:]) throws -> Result {
        precondition(!args.isEmpty, "Shell.run needs a program")
        let tmp = try TempDir(prefix: "ocitool-shell")
        defer { tmp.cleanup() }
        let outPath = tmp.file("stdout"), errPath = tmp.file("stderr")
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["LC_ALL"] = "C.UTF-8"
        for (k, v) in environment { env[k] = v }
        process.environment = env

        let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        defer { try? outHandle.close(); try? errHandle.close() }
        process.standardOutput = outHandle
        process.standardError = errHandle
        var inHandle: FileHandle?
        if let stdinFile {
            inHandle = try FileHandle(forReadingFrom: URL(fileURLWithPath: stdinFile))
        } else if let stdin {
            let inPath = tmp.file("stdin")
            FileManager.default.createFile(atPath: inPath, contents: Data(stdin))
            inHandle = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
        }
        defer { try? inHandle?.close() }
        process.standardInput = inHandle ?? FileHandle.nullDevice

        try process.run()
        process.waitUntilExit()
        let out = try FS.readFile(outPath, limit: 1 << 30)
        let err = try FS.readFile(errPath, limit: 16 << 20)
        return Result(status: process.terminationStatus, stdout: out, stderr: String(decoding: err, as: UTF8.self))
    }

    /// Is `tool` on `PATH`?
    public static func has(_ tool: String) -> Bool {
        (try? run(["sh", "-c", "command -v \"$1\" >/dev/null", "sh", tool]))?.status == 0
    }
}
