import Foundation
import OCICore

/// Peer tools as readers of archives ocitool writes: podman (private vfs
/// storage under a temp dir), skopeo and umoci. Each call returns what the
/// peer reported, or throws `PeerRunner.Failure` with its stderr.
public enum PeerRunner {
    /// A peer tool rejected its input.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    static func check(_ r: Shell.Result, _ what: [String]) throws -> Shell.Result {
        guard r.status == 0 else {
            throw Failure(description: "\(what.joined(separator: " ")): status \(r.status): \(r.stderr.prefix(2000))")
        }
        return r
    }

    /// `skopeo --insecure-policy ARGS`, checked.
    @discardableResult
    public static func skopeo(_ args: [String]) throws -> Shell.Result {
        let argv = ["skopeo", "--insecure-policy"] + args
        return try check(try Shell.run(argv), argv)
    }

    /// `skopeo copy -q SOURCE DEST` (e.g. `docker-archive:F`, `oci:DIR:tag`).
    public static func skopeoCopy(_ source: String, _ destination: String) throws {
        try skopeo(["copy", "-q", source, destination])
    }

    /// The digest of the config bytes skopeo reads from `transport`: the
    /// image ID as the peer sees it.
    public static func skopeoConfigDigest(_ transport: String) throws -> Digest {
        SHA256Hasher.digest(try skopeo(["inspect", "--config", "--raw", transport]).stdout)
    }

    /// The raw manifest skopeo reads from `transport`.
    public static func skopeoRawManifest(_ transport: String) throws -> [UInt8] {
        try skopeo(["inspect", "--raw", transport]).stdout
    }

    /// `umoci unpack --image LAYOUT:TAG BUNDLE`; returns `BUNDLE/rootfs`.
    public static func umociUnpack(layout: String, tag: String, bundle: String) throws -> String {
        let argv = ["umoci", "unpack", "--image", "\(layout):\(tag)", bundle]
        _ = try check(try Shell.run(argv), argv)
        return bundle + "/rootfs"
    }

    /// Extracts a tar file into `dir` with GNU tar.
    public static func untar(_ archive: String, into dir: String) throws {
        try FS.makeDirectories(dir)
        let argv = ["tar", "-xf", archive, "-C", dir]
        _ = try check(try Shell.run(argv), argv)
    }

    /// The podman command line for an instance whose storage, run state and
    /// locks all live under `dir`: vfs storage, and file locks in
    /// `dir/tmp/locks` instead of the machine-wide shared-memory lock table,
    /// so instances used by tests running in parallel never share a lock.
    public static func podmanArgv(_ dir: String) -> [String] {
        ["podman", "--root", dir + "/root", "--runroot", dir + "/run", "--tmpdir", dir + "/tmp",
         "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "none"]
    }

    /// Runs `podman ARGS` for the instance under `dir` (see `podmanArgv`).
    public static func runPodman(_ dir: String, _ args: [String]) throws -> Shell.Result {
        let conf = dir + "/containers.conf"
        if !FS.exists(conf) {
            try FS.makeDirectories(dir)
            try FS.writeAtomically(conf, bytes: Array("[engine]\nlock_type = \"file\"\n".utf8))
        }
        return try Shell.run(podmanArgv(dir) + args, environment: ["CONTAINERS_CONF": conf])
    }

    /// A podman with its own storage (`--storage-driver vfs`, `--root` and
    /// `--runroot` in a fresh temp dir), removed by `cleanup()` or deinit.
    public final class Podman {
        public let dir: TempDir
        public init() throws { dir = try TempDir(prefix: "ocitool-podman") }
        deinit { cleanup() }

        var base: [String] { PeerRunner.podmanArgv(dir.path) }

        /// Runs `podman ARGS`, checked; returns stdout, trimmed.
        @discardableResult
        public func run(_ args: [String]) throws -> String {
            let r = try PeerRunner.check(try PeerRunner.runPodman(dir.path, args), ["podman"] + args)
            return r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// `podman load -i FILE`; returns the names or IDs it reports loaded.
        public func load(_ archive: String) throws -> [String] {
            var out: [String] = []
            for line in try run(["load", "-q", "-i", archive]).split(separator: "\n") {
                var names: String?
                if line.hasPrefix("Loaded image: ") { names = String(line.dropFirst("Loaded image: ".count)) }
                if line.hasPrefix("Loaded image(s): ") { names = String(line.dropFirst("Loaded image(s): ".count)) }
                if let names { out += names.split(separator: ",").map { String($0) } }
            }
            return out
        }

        /// Full image IDs (`sha256:…`) and the names podman gives each.
        public func images() throws -> [(id: String, names: [String])] {
            let out = try run(["images", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"])
            var byID: [String: [String]] = [:]
            var order: [String] = []
            for line in out.split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
                guard let id = parts.first else { continue }
                let full = id.hasPrefix("sha256:") ? id : "sha256:" + id
                if byID[full] == nil { order.append(full); byID[full] = [] }
                if parts.count > 1, parts[1] != "<none>:<none>" { byID[full]?.append(parts[1]) }
            }
            return order.map { ($0, byID[$0] ?? []) }
        }

        /// Removes the storage.
        public func cleanup() {
            FS.removeTree(dir.path)
        }
    }
}
