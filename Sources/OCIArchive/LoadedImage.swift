import OCICore
import OCIModel

/// One image recognised in an archive and verified: the record that the
/// store, the writers and the mutations share.
public struct LoadedImage: Sendable {
    /// Manifest descriptor (media type, digest, size) as it will be stored.
    public var descriptor: Descriptor
    public var manifestBytes: [UInt8]
    public var manifest: Manifest
    public var configBytes: [UInt8]
    public var config: ImageConfig
    /// Names from RepoTags / index annotations, normalised.
    public var names: [ImageReference]
    /// True when ocitool wrote the manifest (docker-save input).
    public var synthesizedManifest: Bool

    /// The image ID (config digest).
    public var id: Digest { manifest.config.digest }

    /// This image as progress events describe it.
    public func report() -> ImageReport {
        let platform = descriptor.platform ?? config.platform
        return ImageReport(names: names.map(\.familiarString), manifestDigest: descriptor.digest, configDigest: id,
                           mediaType: descriptor.mediaType, platform: platform.description,
                           layers: manifest.layers.map(\.digest), diffIDs: config.diffIDs)
    }
}
