import OCICore

/// One entry of a `docker save` archive's `manifest.json` (moby
/// image/tarexport): paths are member names inside the archive.
/// Keys are matched case-insensitively (Jib writes `config`, `layers`).
public struct DockerManifestEntry: Sendable, Equatable {
    public var config: String
    public var repoTags: [String]
    public var layers: [String]
    public var parent: String?
    /// Declared layer sources, keyed by diff_id (Docker ≥ 1.13).
    public var layerSources: [String: Descriptor]

    public init(config: String, repoTags: [String], layers: [String], layerSources: [String: Descriptor] = [:]) {
        self.config = config
        self.repoTags = repoTags
        self.layers = layers
        self.layerSources = layerSources
        self.parent = nil
    }

    /// Parses `manifest.json` (a JSON array of entries).
    public static func parseList(_ bytes: [UInt8], what: String = "manifest.json") throws -> [DockerManifestEntry] {
        let obj = try CanonicalJSON.object(from: bytes, what: what)
        guard let array = obj as? [Any] else {
            throw ModelError.badJSON(what, obj is NSNullLike ? "is null, expected an array of images" : "expected an array of images")
        }
        return try array.enumerated().map { i, item in
            guard let dict = item as? [String: Any] else { throw ModelError.badJSON(what, "entry \(i) is not an object") }
            func value(_ key: String) -> Any? {
                dict.first { $0.key.lowercased() == key.lowercased() }?.value
            }
            guard let config = value("Config") as? String, !config.isEmpty else {
                throw ModelError.badJSON(what, "entry \(i) has no Config")
            }
            let tags = (value("RepoTags") as? [Any])?.compactMap { $0 as? String } ?? []
            guard let layers = (value("Layers") as? [Any])?.compactMap({ $0 as? String }) else {
                throw ModelError.badJSON(what, "entry \(i) has no Layers")
            }
            var sources: [String: Descriptor] = [:]
            if let ls = value("LayerSources") as? [String: Any] {
                for (k, v) in ls {
                    if let d = v as? [String: Any],
                       let mt = d["mediaType"] as? String, let dg = d["digest"] as? String,
                       let digest = try? Digest(parsing: dg), let size = (d["size"] as? NSNumberLike)?.int64Value {
                        sources[k] = Descriptor(mediaType: mt, digest: digest, size: size)
                    }
                }
            }
            var e = DockerManifestEntry(config: config, repoTags: tags, layers: layers, layerSources: sources)
            e.parent = value("Parent") as? String
            return e
        }
    }
}
