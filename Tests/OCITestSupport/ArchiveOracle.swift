import Foundation
import OCICore

/// Describes an image archive with peer tools only (GNU tar to extract,
/// `gzip`/`zstd` to decompress, `sha256sum` to hash) and plain JSON parsing,
/// so that tests of ocitool's writers do not trust ocitool's readers.
public enum ArchiveOracle {
    /// One image manifest found in an archive.
    public struct Image: Sendable, CustomStringConvertible {
        /// `io.containerd.image.name` of the (first) index.json entry naming it.
        public var name: String?
        /// `org.opencontainers.image.ref.name` of the index.json entry.
        public var refName: String?
        public var manifestDigest: String
        public var manifestMediaType: String
        public var configDigest: String
        public var platform: String?
        public var diffIDs: [String]
        /// (digest, media type) of each layer.
        public var layers: [(digest: String, mediaType: String)]
        public var description: String { "\(name ?? refName ?? manifestDigest) \(platform ?? "")" }
    }

    /// An extracted archive.
    public struct Extracted: Sendable {
        public var root: String
        public var images: [Image]
        /// Top-level `index.json` entries: (digest, media type, names).
        public var indexEntries: [(digest: String, mediaType: String, name: String?)]
        /// `manifest.json` entries (docker flavour): config member and layer members.
        public var dockerEntries: [(config: String, repoTags: [String], layers: [String])]

        /// The path of a blob in the extracted tree.
        public func blobPath(_ digest: String) -> String {
            root + "/blobs/" + digest.replacingOccurrences(of: ":", with: "/")
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Extracts `archive` (plain, or gzip/zstd via GNU tar's auto-detection)
    /// into `dir` and reads its index.json (nested indexes followed) and manifest.json.
    public static func extract(_ archive: String, into dir: String) throws -> Extracted {
        try FS.makeDirectories(dir)
        let r = try Shell.run(["tar", "-xaf", archive, "-C", dir])
        guard r.status == 0 else { throw Failure(description: "tar -xf \(archive): \(r.stderr)") }
        var out = Extracted(root: dir, images: [], indexEntries: [], dockerEntries: [])
        if FS.exists(dir + "/index.json") {
            let index = try json(dir + "/index.json")
            for entry in (index["manifests"] as? [[String: Any]]) ?? [] {
                let digest = entry["digest"] as? String ?? ""
                let annotations = entry["annotations"] as? [String: String] ?? [:]
                let name = annotations["io.containerd.image.name"]
                out.indexEntries.append((digest, entry["mediaType"] as? String ?? "", name))
                try collect(entry, name: name, refName: annotations["org.opencontainers.image.ref.name"], in: &out, depth: 0)
            }
        }
        if FS.exists(dir + "/manifest.json") {
            let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json"))
            for e in (try JSONSerialization.jsonObject(with: data) as? [[String: Any]]) ?? [] {
                out.dockerEntries.append((e["Config"] as? String ?? "", e["RepoTags"] as? [String] ?? [], e["Layers"] as? [String] ?? []))
            }
        }
        if out.images.isEmpty {
            // A classic docker save: images from manifest.json (config and diff_ids only).
            for e in out.dockerEntries {
                let config = dir + "/" + e.config
                let r = try Shell.run(["sha256sum", config])
                guard r.status == 0 else { throw Failure(description: "sha256sum \(config): \(r.stderr)") }
                let cfg = try json(config)
                let rootfs = cfg["rootfs"] as? [String: Any] ?? [:]
                out.images.append(Image(name: e.repoTags.first, refName: nil, manifestDigest: "", manifestMediaType: "",
                                        configDigest: "sha256:" + String(r.stdoutText.prefix(64)), platform: nil,
                                        diffIDs: rootfs["diff_ids"] as? [String] ?? [], layers: []))
            }
        }
        return out
    }

    private static func collect(_ d: [String: Any], name: String?, refName: String?, in out: inout Extracted, depth: Int) throws {
        guard depth < 4, let digest = d["digest"] as? String else { return }
        let path = out.blobPath(digest)
        guard FS.exists(path) else { throw Failure(description: "index names \(digest), which is not in the archive") }
        let doc = try json(path)
        if let children = doc["manifests"] as? [[String: Any]], doc["config"] == nil {
            for c in children { try collect(c, name: name, refName: refName, in: &out, depth: depth + 1) }
            return
        }
        guard let config = doc["config"] as? [String: Any], let configDigest = config["digest"] as? String else {
            throw Failure(description: "manifest \(digest) has no config")
        }
        let cfg = try json(out.blobPath(configDigest))
        let rootfs = cfg["rootfs"] as? [String: Any] ?? [:]
        var platform: String?
        if let p = d["platform"] as? [String: Any], let os = p["os"] as? String, let arch = p["architecture"] as? String {
            platform = "\(os)/\(arch)" + ((p["variant"] as? String).map { "/\($0)" } ?? "")
        }
        let layers = ((doc["layers"] as? [[String: Any]]) ?? []).map { ($0["digest"] as? String ?? "", $0["mediaType"] as? String ?? "") }
        // One image per manifest (index.json lists it once per name).
        guard !out.images.contains(where: { $0.manifestDigest == digest }) else { return }
        out.images.append(Image(name: name, refName: refName, manifestDigest: digest,
                                manifestMediaType: doc["mediaType"] as? String ?? d["mediaType"] as? String ?? "",
                                configDigest: configDigest, platform: platform,
                                diffIDs: rootfs["diff_ids"] as? [String] ?? [], layers: layers))
    }

    private static func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let o = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Failure(description: "\(path) is not a JSON object")
        }
        return o
    }

    /// The compression of a file from its magic bytes: `gzip`, `zstd` or `none`.
    public static func compression(ofFile path: String) throws -> String {
        let head = try FileSource(path: path).readPrefix(4)
        if head.count >= 2 && head[0] == 0x1f && head[1] == 0x8b { return "gzip" }
        if head.count >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd { return "zstd" }
        return "none"
    }

    /// `sha256:<hex>` of a layer blob's uncompressed content, by `gzip -dc` / `zstd -dc` and `sha256sum`.
    public static func uncompressedDigest(ofFile path: String) throws -> String {
        let decode: String
        switch try compression(ofFile: path) {
        case "gzip": decode = "gzip -dc"
        case "zstd": decode = "zstd -dcq"
        default: decode = "cat"
        }
        let r = try Shell.run(["sh", "-c", "\(decode) < \"$1\" | sha256sum", "sh", path])
        guard r.status == 0 else { throw Failure(description: "\(decode) \(path): \(r.stderr)") }
        return "sha256:" + String(r.stdoutText.prefix(64))
    }

    /// Checks every layer of every image: the blob hashes to its name (`sha256sum`),
    /// decompresses to its diff_id, and its media type names its compression.
    /// Returns the problems found (empty when all is well).
    public static func verifyLayers(_ x: Extracted) throws -> [String] {
        var problems: [String] = []
        var seen = Set<String>()
        for image in x.images {
            if image.diffIDs.count != image.layers.count {
                problems.append("\(image): \(image.diffIDs.count) diff_ids for \(image.layers.count) layers")
                continue
            }
            for (layer, diffID) in zip(image.layers, image.diffIDs) where seen.insert(layer.digest + diffID).inserted {
                let path = x.blobPath(layer.digest)
                guard FS.exists(path) else {
                    problems.append("\(image): layer \(layer.digest) missing")
                    continue
                }
                let r = try Shell.run(["sha256sum", path])
                if "sha256:" + String(r.stdoutText.prefix(64)) != layer.digest { problems.append("\(image): blob \(layer.digest) content differs") }
                let actual = try uncompressedDigest(ofFile: path)
                if actual != diffID { problems.append("\(image): layer \(layer.digest) decompresses to \(actual), diff_id is \(diffID)") }
                let c = try compression(ofFile: path)
                let typed = layer.mediaType.hasSuffix("gzip") ? "gzip" : layer.mediaType.hasSuffix("zstd") ? "zstd" : "none"
                if c != typed { problems.append("\(image): layer \(layer.digest) is \(c) but typed \(layer.mediaType)") }
            }
        }
        return problems
    }
}
