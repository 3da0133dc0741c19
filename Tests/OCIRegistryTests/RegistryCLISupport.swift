import Foundation
import Testing
import OCICore
import OCIModel
import OCIRegistryTestSupport
import OCITestSupport

/// Running `ocitool` against test registries: an empty HOME (no auth
/// files or docker config of the machine), NDJSON progress parsed.
enum CLI {
    /// Variables that keep the machine's credentials out of a run.
    static func environment(home: String) -> [String: String] {
        ["HOME": home, "REGISTRY_AUTH_FILE": "", "DOCKER_CONFIG": "", "XDG_RUNTIME_DIR": "", "TMPDIR": home]
    }

    /// `ocitool ARGS` with a private HOME under `tmp`.
    static func run(_ args: [String], in tmp: TempDir, stdinFile: String? = nil) throws -> Shell.Result {
        let home = tmp.file("home")
        try FS.makeDirectories(home)
        return try OCIToolBinary.run(args, stdinFile: stdinFile, environment: environment(home: home))
    }

    /// Like `run`, requiring success.
    @discardableResult
    static func ok(_ args: [String], in tmp: TempDir, stdinFile: String? = nil,
                   sourceLocation: SourceLocation = #_sourceLocation) throws -> Shell.Result {
        let r = try run(args, in: tmp, stdinFile: stdinFile)
        try #require(r.status == 0, "ocitool \(args.joined(separator: " ")): status \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        return r
    }

    /// The NDJSON events of a `--progress json` run.
    static func events(_ r: Shell.Result) -> [[String: Any]] { events(r.stderr) }

    /// The NDJSON events in `stderr`.
    static func events(_ stderr: String) -> [[String: Any]] {
        stderr.split(separator: "\n").compactMap { line in
            try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
    }

    /// Digests of the blobs a run moved in `phase` (`push`: uploads, `fetch`: downloads).
    static func tasks(_ r: Shell.Result, phase: String) -> Set<String> { tasks(r.stderr, phase: phase) }

    static func tasks(_ stderr: String, phase: String) -> Set<String> {
        Set(events(stderr).filter { $0["event"] as? String == "progress" && $0["phase"] as? String == phase && $0["finished"] as? Bool == true }
            .compactMap { $0["id"] as? String })
    }

    /// Digests of the `blob` events of a run.
    static func blobEvents(_ r: Shell.Result) -> [String] { blobEvents(r.stderr) }

    static func blobEvents(_ stderr: String) -> [String] {
        events(stderr).filter { $0["event"] as? String == "blob" }.compactMap { $0["digest"] as? String }
    }

    /// skopeo, or a loud failure when it is missing.
    @discardableResult
    static func skopeo(_ args: [String]) throws -> Shell.Result {
        guard Shell.has("skopeo") else { throw TestSupportError("skopeo not found: install Debian's skopeo (make deps)") }
        return try PeerRunner.skopeo(args)
    }

    /// The raw manifest at `ref` (`docker://…`), read by skopeo.
    static func rawManifest(_ ref: String) throws -> [UInt8] {
        try skopeo(["inspect", "--raw", "--tls-verify=false", ref]).stdout
    }

    /// The config digest skopeo reads at `ref`.
    static func configDigest(_ ref: String) throws -> Digest {
        SHA256Hasher.digest(try skopeo(["inspect", "--config", "--raw", "--tls-verify=false", ref]).stdout)
    }
}

/// Synthetic images for registry tests.
enum SyntheticImage {
    /// An OCI layout in `dir` with `layers` uncompressed layers of one
    /// pseudo-random file of `size` bytes each (distinct per `seed`).
    /// - Returns: the layer digests, bottom first.
    @discardableResult
    static func layout(_ dir: String, layers: Int, size: Int, seed: UInt64, tag: String = "t") throws -> [Digest] {
        try layout(dir, layerSeeds: (0..<UInt64(layers)).map { seed &* 1000 &+ $0 }, size: size, tag: tag)
    }

    /// An OCI layout whose layers are made from `layerSeeds` (the same
    /// seed gives the same layer, so images can share layers).
    @discardableResult
    static func layout(_ dir: String, layerSeeds: [UInt64], size: Int, tag: String = "t") throws -> [Digest] {
        var tars: [[UInt8]] = []
        for seed in layerSeeds {
            let data = TestData.pseudoRandom(count: size, seed: seed)
            tars.append(try TarFixtures.tarBytes([
                TarFixtures.Member(TarEntry(path: "file-\(seed)", kind: .regular, mode: 0o644, mtime: 1_700_000_000, size: Int64(size)), data: data),
            ]))
        }
        try ImageLayoutBuilder.write(layers: tars, to: dir, tag: tag)
        return tars.map { SHA256Hasher.digest($0) }
    }
}

/// The manifest digest, config digest and layer digests of an image, to compare copies.
struct ImageDigests: Equatable, CustomStringConvertible {
    var manifest: String
    var config: String
    var layers: [String]
    var description: String { "manifest \(manifest) config \(config) layers \(layers)" }

    /// Read through skopeo from a `docker://` reference.
    static func registry(_ ref: String) throws -> ImageDigests {
        let raw = try CLI.rawManifest(ref)
        let m = try Manifest.parse(raw, what: ref)
        return ImageDigests(manifest: SHA256Hasher.digest(raw).description, config: m.config.digest.description,
                            layers: m.layers.map(\.digest.description))
    }

    /// The single image of an extracted archive.
    static func archive(_ x: ArchiveOracle.Extracted) throws -> ImageDigests {
        let i = try #require(x.images.first)
        return ImageDigests(manifest: i.manifestDigest, config: i.configDigest, layers: i.layers.map(\.digest))
    }
}
