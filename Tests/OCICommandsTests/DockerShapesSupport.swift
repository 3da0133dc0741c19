import Foundation
import Testing
import OCICore
import OCITestSupport

/// A store whose every image has a creation time chosen by the test (via
/// `SOURCE_DATE_EPOCH`), so docker's relative times are known:
///
/// | name               | created          | labels          |
/// |--------------------|------------------|-----------------|
/// | `tmp:1`            | 24 hours ago     | stage=tmp2      |
/// | (dangling)         | 2 days ago       | stage=tmp       |
/// | `app:1`, `app:latest` | 3 days ago    | stage=build     |
///
/// All are `ocitool config` children of TestImages/podman-docker.tar (its
/// three uncompressed layers: 20480 + 19968 + 1024 bytes), whose own name is
/// removed again.
final class ShapesStore: Sendable {
    let tmp: TempDir
    let root: String
    let now: Int
    /// Image IDs (the sha256 of each config, computed here from the config bytes).
    let app: Digest, dangling: Digest, tmp1: Digest
    static let base = "localhost/ocitool-test/podman-docker:v1"
    /// The three layers' uncompressed sizes, from the archive's members.
    static let layerBytes: Int64 = 20480 + 19968 + 1024

    init() throws {
        let tmp = try TempDir(prefix: "ocitool-shapes")
        let root = tmp.file("root")
        let now = Int(Date().timeIntervalSince1970)
        func run(_ args: [String], epoch: Int? = nil) throws -> Shell.Result { try Self.run(args, root: root, epoch: epoch) }
        let base = Self.base
        try Self.must(run(["load", "-q", Fixtures.testImagesDir + "/podman-docker.tar"]))
        try Self.must(run(["config", "--label", "stage=build", "-c", #"CMD ["/bin/sh"]"#, base, "app:1"], epoch: now - 3 * 86400 - 60))
        try Self.must(run(["tag", "app:1", "app:latest"]))
        try Self.must(run(["config", "--label", "stage=tmp", base, "tmp:1"], epoch: now - 2 * 86400 - 60))
        let first = try Self.configID(run(["config", "tmp:1"]))
        try Self.must(run(["config", "--label", "stage=tmp2", base, "tmp:1"], epoch: now - 86400 - 60))
        try Self.must(run(["rmi", base]))
        self.tmp = tmp
        self.root = root
        self.now = now
        app = try Self.configID(run(["config", "app:1"]))
        tmp1 = try Self.configID(run(["config", "tmp:1"]))
        dangling = first
    }

    static func run(_ args: [String], root: String, epoch: Int? = nil, stdinFile: String? = nil,
                    extraEnv: [String: String] = [:]) throws -> Shell.Result {
        var env = ["TZ": "UTC", "OCITOOL_ROOT": root]
        if let epoch { env["SOURCE_DATE_EPOCH"] = String(epoch) }
        env.merge(extraEnv) { _, new in new }
        return try OCIToolBinary.run(args, stdinFile: stdinFile, environment: env)
    }

    /// Runs ocitool with `--root` (after the verb path) and TZ=UTC.
    func run(_ args: [String], epoch: Int? = nil, stdinFile: String? = nil, extraEnv: [String: String] = [:]) throws -> Shell.Result {
        try Self.run(args, root: root, epoch: epoch, stdinFile: stdinFile, extraEnv: extraEnv)
    }

    static func must(_ r: Shell.Result) throws {
        guard r.status == 0 else { throw ShapesError.failed(r.stderr) }
    }

    static func configID(_ r: Shell.Result) throws -> Digest {
        try must(r)
        return SHA256Hasher.digest(r.stdout)
    }

    enum ShapesError: Error { case failed(String) }
}

/// docker's `TruncateID` of a digest.
func short(_ d: Digest) -> String { String(d.encoded.prefix(12)) }

/// A tabwriter cell as docker's table writer pads it (minwidth 10,
/// padding 3): `text` followed by spaces up to `width`.
func cell(_ text: String, _ width: Int) -> String {
    text + String(repeating: " ", count: max(0, width - text.count))
}

/// go-units `HumanSizeWithPrecision` for the kB range these tests meet.
func kB(_ bytes: Int64, precision: Int = 3) -> String {
    String(format: "%.\(precision)g", Double(bytes) / 1000) + "kB"
}

/// Lines of a result's stdout (none for empty output).
func lines(_ r: Shell.Result) -> [String] {
    let text = r.stdoutText
    guard !text.isEmpty else { return [] }
    var out = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if text.hasSuffix("\n") { out.removeLast() }
    return out
}
