import OCICore
import OCIModel
import OCIImage

/// The docker side of the hybrid archive: `manifest.json` (moby
/// image/tarexport: `Config`, `RepoTags`, `Layers` as member paths into
/// `blobs/`) and the legacy `repositories` file, as Docker 25+ writes them.
extension ArchivePlan {
    /// One `manifest.json` entry. `RepoTags` is `null` for an image saved
    /// without a name, as docker writes it.
    struct DockerEntry: Encodable {
        var config: String
        var repoTags: [String]?
        var layers: [String]

        enum CodingKeys: String, CodingKey {
            case config = "Config"
            case repoTags = "RepoTags"
            case layers = "Layers"
        }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(config, forKey: .config)
            if let repoTags { try c.encode(repoTags, forKey: .repoTags) } else { try c.encodeNil(forKey: .repoTags) }
            try c.encode(layers, forKey: .layers)
        }
    }

    /// Every docker-archive reader takes tar and gzip layers; zstd only some
    /// (podman 4.3 and skopeo 1.9 decompress it, docker load before zstd
    /// support in moby's pkg/archive does not). It is refused here, before
    /// anything is written, rather than producing an archive a peer rejects.
    func checkDockerLayer(_ layer: Descriptor, path: String, image: Image) throws {
        var zstd = layer.mediaType.hasSuffix("+zstd")
        if !zstd, let head = try? FileSource(path: path).readPrefix(6) { zstd = Compression.detect(head) == .zstd }
        guard zstd else { return }
        throw ArchiveWriteError.layerUnsupportedByFlavour(
            image: image.displayName, layer: layer.digest,
            reason: "zstd-compressed layers cannot be saved in a docker archive (older docker load and other docker-archive readers take only tar or gzip layers); save with --format oci, or re-encode with --compress gzip")
    }

    /// `manifest.json`: one entry per image, in the order given.
    func dockerManifestJSON() throws -> [UInt8] {
        let entries = dockerImages.map { image in
            let tags = image.names.filter { $0.tag != nil }.map(\.familiarString)
            return DockerEntry(config: Self.member(image.config.digest),
                               repoTags: tags.isEmpty ? nil : tags,
                               layers: image.layers.map { Self.member($0.digest) })
        }
        return try CanonicalJSON.encode(entries)
    }

    /// `repositories`: familiar repository name → tag → hex digest of the
    /// image's top layer (the legacy "v1 image ID" slot; Docker 25+ writes
    /// the top layer's blob name there). Nil when no image has a tag.
    func repositoriesJSON() throws -> [UInt8]? {
        var repos: [String: [String: String]] = [:]
        for image in dockerImages {
            guard let top = image.layers.last else { continue }
            for name in image.names {
                guard let tag = name.tag else { continue }
                repos[name.familiarName, default: [:]][tag] = top.digest.encoded
            }
        }
        return repos.isEmpty ? nil : try CanonicalJSON.encode(repos)
    }
}
