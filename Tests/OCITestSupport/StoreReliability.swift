import Foundation
import OCICore
import OCIModel
#if canImport(Glibc)
import Glibc
#endif

/// Images, stores and checks shared by the reliability tests (SIGKILL at
/// random points, races made deterministic with `OCITOOL_TEST_HOOK`, a full
/// file system, `-o` onto special files, fsck, leftovers of killed writers).
public enum Reliability {
    /// Docker archives written by skopeo from hand-made OCI layouts. Layers
    /// are 1 MiB of incompressible bytes each; `L0` is shared by all three.
    public struct Images: Sendable {
        /// `app:1`: layers L0…L3 (4 MiB).
        public let app: String
        /// `base:1`: layers L0, L4.
        public let base: String
        /// `other:1`: layers L0, L5.
        public let other: String
        /// The OCI layout `app` was made from (tag `t`).
        public let appLayout: String
    }

    /// The images, built once per test process (removed at exit).
    public static func images() throws -> Images {
        try cache.lock.withLock {
            if let built = cache.images { return built }
            let dir = try TempDir(prefix: "ocitool-reliability")
            cache.dir = dir
            atexit { Reliability.removeCache() }
            func layer(_ seed: UInt64) throws -> [UInt8] {
                try TarFixtures.tarBytes([TarFixtures.Member(
                    TarEntry(path: "data/layer-\(seed).bin", kind: .regular, mode: 0o644, mtime: 1_700_000_000, size: 1 << 20),
                    data: TestData.pseudoRandom(count: 1 << 20, seed: seed))])
            }
            func archive(_ name: String, _ seeds: [UInt64]) throws -> (archive: String, layout: String) {
                let layout = dir.file("\(name)-layout")
                try ImageLayoutBuilder.write(layers: try seeds.map(layer), to: layout)
                let out = dir.file("\(name).tar")
                try PeerRunner.skopeoCopy("oci:\(layout):t", "docker-archive:\(out):\(name):1")
                return (out, layout)
            }
            let app = try archive("app", [100, 101, 102, 103])
            let built = Images(app: app.archive, base: try archive("base", [100, 104]).archive,
                               other: try archive("other", [100, 105]).archive, appLayout: app.layout)
            cache.images = built
            return built
        }
    }

    private final class Cache: @unchecked Sendable {
        let lock = NSLock()
        var images: Images?
        var dir: TempDir?
    }

    private static let cache = Cache()

    private static func removeCache() { cache.dir?.cleanup() }

    /// Runs `ocitool VERB --root ROOT ARGS…`.
    public static func ocitool(_ root: String, _ verb: String, _ args: [String] = [],
                               environment: [String: String] = [:]) throws -> Shell.Result {
        try OCIToolBinary.run([verb, "--root", root] + args, environment: environment)
    }

    /// The command line of `ocitool VERB --root ROOT ARGS…` (for `ChildProcess`).
    public static func argv(_ root: String, _ verb: String, _ args: [String] = []) -> [String] {
        [OCIToolBinary.path, verb, "--root", root] + args
    }

    /// Runs ocitool and fails with its stderr unless it exits 0.
    @discardableResult
    public static func ocitoolOK(_ root: String, _ verb: String, _ args: [String] = []) throws -> Shell.Result {
        let r = try ocitool(root, verb, args)
        guard r.status == 0 else {
            throw PeerRunner.Failure(description: "ocitool \(verb) \(args.joined(separator: " ")): status \(r.status): \(r.stderr)")
        }
        return r
    }

    /// A copy of `source` at `destination` (`cp -a`: modes, links, hidden files).
    public static func copyTree(_ source: String, to destination: String) throws {
        FS.removeTree(destination)
        let r = try Shell.run(["cp", "-a", source, destination])
        guard r.status == 0 else { throw PeerRunner.Failure(description: "cp -a \(source) \(destination): \(r.stderr)") }
    }

    /// `ref.name` of every entry of the store's `index.json` (per-platform ones too).
    public static func indexNames(_ root: String) throws -> [String] {
        guard FS.exists(root + "/index.json") else { return [] }
        let index = try IndexManifest.parse(FS.readFile(root + "/index.json"), what: "index.json")
        return index.manifests.compactMap { $0.annotations?[AnnotationKey.refName] }
    }

    /// The names `ocitool images` lists, as full references.
    public static func listedNames(_ root: String) throws -> [String] {
        let r = try ocitoolOK(root, "images", ["--format", "json"])
        return try r.stdoutText.split(separator: "\n").compactMap { line in
            let row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            guard let repo = row?["Repository"] as? String, let tag = row?["Tag"] as? String, repo != "<none>", tag != "<none>" else {
                return nil
            }
            return try ImageReference(parsing: repo + ":" + tag).description
        }
    }

    /// What is wrong with the store at `root`, judged by `ocitool fsck`,
    /// `ocitool images` and skopeo (which must read every tag listed, and
    /// every name `index.json` records): empty when it is consistent.
    public static func problems(_ root: String) throws -> [String] {
        var out: [String] = []
        let fsck = try ocitool(root, "fsck")
        if fsck.status != 0 || !fsck.stdoutText.contains(": clean") {
            out.append("fsck: status \(fsck.status): \(fsck.stdoutText) \(fsck.stderr)")
        }
        let listed: [String]
        do { listed = try listedNames(root) } catch {
            return out + ["images: \(error)"]
        }
        let recorded = try indexNames(root)
        for n in listed where !recorded.contains(n) { out.append("images lists \(n), which index.json does not record") }
        for n in Set(listed + recorded).sorted() {
            let r = try Shell.run(["skopeo", "--insecure-policy", "inspect", "oci:\(root):\(n)"])
            if r.status != 0 { out.append("skopeo inspect oci:\(root):\(n): status \(r.status): \(r.stderr.prefix(500))") }
        }
        return out
    }

    /// `index.json.tmp-*` and `oci-layout.tmp-*` files in `root` (what a
    /// killed writer leaves).
    public static func interruptedWrites(_ root: String) -> [String] {
        ((try? FS.listDirectory(root)) ?? []).filter { $0.hasPrefix("index.json.tmp-") || $0.hasPrefix("oci-layout.tmp-") }
    }

    /// Files in `root/ingest` (staging files).
    public static func stagingFiles(_ root: String) -> [String] {
        (try? FS.listDirectory(root + "/ingest")) ?? []
    }

    /// Blob digests (hex) under `root/blobs/sha256`.
    public static func blobNames(_ root: String) -> Set<String> {
        Set((try? FS.listDirectory(root + "/blobs/sha256")) ?? [])
    }
}

/// A deterministic random number generator (SplitMix64), so a failing run
/// of a randomised test can be reproduced from its seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
