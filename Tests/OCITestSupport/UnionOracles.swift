import Foundation
import OCICore

/// Peer tools as oracles for the union view: skopeo converts any image to
/// an OCI layout umoci can read, `umoci unpack` applies the layers, podman
/// mounts an image's root file system.
public enum UnionOracles {
    /// A peer tool failed; `description` has the command and its stderr.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    static func check(_ r: Shell.Result, _ what: String) throws {
        guard r.status == 0 else { throw Failure(description: "\(what): status \(r.status): \(r.stderr.prefix(2000))") }
    }

    /// `skopeo copy --format oci --dest-compress-format gzip SOURCE oci:LAYOUT:TAG`
    /// (docker media types become OCI ones, every layer gzip, which is what
    /// umoci 0.4.7 reads).
    public static func skopeoToOCI(_ source: String, layout: String, tag: String = "t") throws {
        let r = try Shell.run(["skopeo", "copy", "-q", "--format", "oci", "--dest-compress", "--dest-compress-format", "gzip",
                               source, "oci:\(layout):\(tag)"])
        try check(r, "skopeo copy \(source)")
    }

    /// `umoci raw unpack [--rootless] --image LAYOUT:TAG BUNDLE/rootfs`: the
    /// layers applied by umoci, without the runtime config (which umoci
    /// cannot generate for configs that lack `os` and the like).
    /// - Returns: the root file system (`BUNDLE/rootfs`).
    public static func umociUnpack(layout: String, tag: String = "t", bundle: String, rootless: Bool = false) throws -> String {
        try FS.makeDirectories(bundle)
        var args = ["umoci", "raw", "unpack"]
        if rootless { args.append("--rootless") }
        args += ["--image", "\(layout):\(tag)", bundle + "/rootfs"]
        try check(try Shell.run(args), args.joined(separator: " "))
        return bundle + "/rootfs"
    }

    /// A podman with its own storage (vfs) under `dir`.
    public struct Podman {
        public let dir: String
        public init(dir: String) { self.dir = dir }


        /// Runs `podman ARGS` and returns stdout.
        @discardableResult
        public func run(_ args: [String]) throws -> String {
            let r = try PeerRunner.runPodman(dir, args)
            try check(r, "podman " + args.joined(separator: " "))
            return r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// Pulls `source` (e.g. `oci:/store:tag`), creates a container from it
        /// and mounts it. - Returns: the container's root file system.
        public func mount(_ source: String, name: String) throws -> String {
            let id = try run(["pull", "-q", source])
            try run(["create", "--name", name, id, "/bin/true"])
            return try run(["mount", name])
        }

        /// Unmounts and removes every container, then the storage.
        public func cleanup() {
            _ = try? PeerRunner.runPodman(dir, ["umount", "--all"])
            _ = try? PeerRunner.runPodman(dir, ["rm", "--all", "--force"])
            _ = try? PeerRunner.runPodman(dir, ["system", "reset", "--force"])
            FS.removeTree(dir)
        }
    }
}
