import Foundation
import OCICore
#if canImport(Glibc)
import Glibc
#endif

/// Peer tools and fixtures a suite cannot do without: a missing one fails
/// the test with a message saying what to install, never a silent pass.
public enum Required {
    public struct Missing: Error, CustomStringConvertible {
        public var description: String
    }

    /// Throws unless every tool is on `PATH`.
    public static func tools(_ tools: String...) throws {
        let missing = tools.filter { !Shell.has($0) }
        if !missing.isEmpty {
            throw Missing(description: "this test needs \(missing.joined(separator: ", ")) on PATH (`make test` installs them)")
        }
    }

    /// The absolute path of a corpus fixture; throws when `../shared/corpus` or the fixture is absent.
    public static func corpus(_ relative: String) throws -> String {
        let full = Fixtures.corpusDir + "/" + relative
        guard FS.exists(full) else {
            throw Missing(description: "this test needs the shared corpus fixture \(full) (../shared/corpus next to the repository)")
        }
        return full
    }

    /// The absolute path of a TestImages archive; throws when it is absent.
    public static func testImage(_ name: String) throws -> String {
        let full = Fixtures.testImagesDir + "/" + name
        guard FS.exists(full) else { throw Missing(description: "TestImages/\(name) is missing") }
        return full
    }
}

/// The `ocitool` binary run against one store, with a private `TMPDIR`
/// so a test can check that nothing was left behind in it.
public struct OCIToolCLI: Sendable {
    /// The store (`--root`).
    public let root: String
    /// `TMPDIR` of every run (spools go there).
    public let tmpdir: String

    public init(root: String, tmpdir: String) {
        self.root = root
        self.tmpdir = tmpdir
    }

    /// A failed run.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// `ocitool ARGS` (no `--root`), with stdin from a file and stdout
    /// into a file when given (else collected).
    public func raw(_ args: [String], stdinFile: String? = nil, stdoutFile: String? = nil,
                    environment: [String: String] = [:]) throws -> Shell.Result {
        var env = environment
        if env["TMPDIR"] == nil { env["TMPDIR"] = tmpdir }
        try FS.makeDirectories(tmpdir)
        guard let stdoutFile else { return try Shell.run([OCIToolBinary.path] + args, stdinFile: stdinFile, environment: env) }
        let script = #"out="$1"; shift; exec "$@" > "$out""#
        return try Shell.run(["sh", "-c", script, "sh", stdoutFile, OCIToolBinary.path] + args, stdinFile: stdinFile, environment: env)
    }

    /// `ocitool VERB --root ROOT ARGS`.
    public func run(_ verb: String, _ args: [String], stdinFile: String? = nil, stdoutFile: String? = nil,
                    environment: [String: String] = [:]) throws -> Shell.Result {
        try raw([verb, "--root", root] + args, stdinFile: stdinFile, stdoutFile: stdoutFile, environment: environment)
    }

    /// `run`, checked: throws with the command and its stderr unless the status is 0.
    @discardableResult
    public func ok(_ verb: String, _ args: [String], stdinFile: String? = nil, stdoutFile: String? = nil) throws -> Shell.Result {
        let r = try run(verb, args, stdinFile: stdinFile, stdoutFile: stdoutFile)
        guard r.status == 0 else {
            throw Failure(description: "ocitool \(verb) \(args.joined(separator: " ")): status \(r.status): \(r.stderr)")
        }
        return r
    }

    /// `raw`, checked.
    @discardableResult
    public func rawOK(_ args: [String], stdinFile: String? = nil, stdoutFile: String? = nil) throws -> Shell.Result {
        let r = try raw(args, stdinFile: stdinFile, stdoutFile: stdoutFile)
        guard r.status == 0 else {
            throw Failure(description: "ocitool \(args.joined(separator: " ")): status \(r.status): \(r.stderr)")
        }
        return r
    }

    /// What ocitool left in `TMPDIR` (spools, read spools): should be nothing after any run.
    public func leftovers() -> [String] {
        ((try? FS.listDirectory(tmpdir)) ?? []).filter { $0.hasPrefix("ocitool-") }.sorted()
    }
}

/// One image as skopeo sees it through a transport: the oracle for digests.
public struct PeerView: Sendable, Equatable, CustomStringConvertible {
    public var transport: String
    /// `skopeo inspect --raw` (the manifest, or the index of a multi-platform image).
    public var manifest: [UInt8]
    public var manifestDigest: Digest
    /// The `mediaType` field of the manifest (empty when absent).
    public var manifestMediaType: String
    /// `skopeo inspect --config --raw`: its digest is the image ID.
    public var config: [UInt8]
    public var configDigest: Digest
    public var diffIDs: [String]
    /// Layer digests and media types of the manifest (empty for an index).
    public var layerDigests: [String]
    public var layerMediaTypes: [String]

    public var description: String { "\(transport): manifest \(manifestDigest) (\(manifestMediaType)), config \(configDigest)" }

    /// Reads `transport` with skopeo (`globalFlags` go before `inspect`, e.g. `--override-arch arm64`).
    public static func skopeo(_ transport: String, globalFlags: [String] = []) throws -> PeerView {
        let manifest = try PeerRunner.skopeo(globalFlags + ["inspect", "--raw", transport]).stdout
        let config = try PeerRunner.skopeo(globalFlags + ["inspect", "--config", "--raw", transport]).stdout
        let m = try JSONSerialization.jsonObject(with: Data(manifest)) as? [String: Any] ?? [:]
        let c = try JSONSerialization.jsonObject(with: Data(config)) as? [String: Any] ?? [:]
        let layers = m["layers"] as? [[String: Any]] ?? []
        return PeerView(transport: transport, manifest: manifest, manifestDigest: SHA256Hasher.digest(manifest),
                        manifestMediaType: m["mediaType"] as? String ?? "", config: config,
                        configDigest: SHA256Hasher.digest(config),
                        diffIDs: (c["rootfs"] as? [String: Any])?["diff_ids"] as? [String] ?? [],
                        layerDigests: layers.map { $0["digest"] as? String ?? "" },
                        layerMediaTypes: layers.map { $0["mediaType"] as? String ?? "" })
    }

    /// The `mediaType`s of a JSON document.
    public static func mediaType(of document: [UInt8]) -> String {
        ((try? JSONSerialization.jsonObject(with: Data(document))) as? [String: Any])?["mediaType"] as? String ?? ""
    }
}

/// A child process the test talks to while it runs: stdin from a pipe the
/// test writes (or a file), stdout and stderr into files; for Ctrl-C tests.
public final class InteractiveChild {
    public let process = Process()
    private let input: Pipe?
    private let stderrPath: String
    private let scratch: TempDir

    /// Starts `args` (looked up on PATH). `stdinFile` nil: stdin is a pipe (`write`, `closeInput`).
    public init(_ args: [String], stdinFile: String? = nil, stdoutFile: String = "/dev/null",
                environment: [String: String] = [:]) throws {
        // A write into the pipe of a child that has gone must fail with EPIPE, not kill the test runner.
        signal(SIGPIPE, SIG_IGN)
        scratch = try TempDir(prefix: "ocitool-child")
        stderrPath = scratch.file("stderr")
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        if !FS.exists(stdoutFile) { FileManager.default.createFile(atPath: stdoutFile, contents: nil) }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["LC_ALL"] = "C.UTF-8"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutFile))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        if let stdinFile {
            input = nil
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: stdinFile))
        } else {
            let p = Pipe()
            input = p
            process.standardInput = p
        }
        try process.run()
    }

    /// Writes into the child's stdin; false when the child has closed it.
    @discardableResult
    public func write(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let fd = input?.fileHandleForWriting.fileDescriptor else { return false }
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    /// Closes the child's stdin (end of input).
    public func closeInput() { try? input?.fileHandleForWriting.close() }

    /// Sends SIGINT (Ctrl-C).
    public func interrupt() { kill(process.processIdentifier, SIGINT) }

    public var isRunning: Bool { process.isRunning }

    /// Waits for the child; returns its exit status (128 + N when a signal N killed it) and stderr.
    public func wait() -> (status: Int32, stderr: String) {
        process.waitUntilExit()
        closeInput()
        let err = (try? FS.readFile(stderrPath, limit: 16 << 20)) ?? []
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return (status, String(decoding: err, as: UTF8.self))
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        closeInput()
    }
}

/// Waits (polling) until `condition` holds or `seconds` pass; returns whether it held.
/// A bound on a wait, never an assertion about how long something took.
public func waitUntil(seconds: Double = 120, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(1000)
    }
    return condition()
}

/// Regular files below `dir` (recursively, hidden ones included), relative to it.
public func filesBelow(_ dir: String) -> [String] {
    var out: [String] = []
    func walk(_ rel: String) {
        let full = rel.isEmpty ? dir : dir + "/" + rel
        guard let names = try? FS.listDirectory(full) else { return }
        for name in names {
            let child = rel.isEmpty ? name : rel + "/" + name
            var st = stat()
            guard lstat(dir + "/" + child, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFDIR { walk(child) } else { out.append(child) }
        }
    }
    walk("")
    return out.sorted()
}
