import OCICore
import OCIModel

/// Builds a new image from a base image (go-containerregistry's `mutate`):
/// a new config (the base's raw JSON edited, unknown fields kept) and
/// optionally appended layers, with a new manifest in the base's media-type
/// family (OCI when a layer is zstd). The result is an `Image` whose new
/// documents are in memory and whose new layer blobs are read from their
/// staging files; a destination writes it like any other image.
public struct ImageMutation {
    public let base: Image
    public var editor: ConfigEditor
    /// Layers appended on top: descriptor and where the blob's bytes are.
    public private(set) var appended: [(descriptor: Descriptor, path: String)] = []

    public init(base: Image) throws {
        self.base = base
        editor = try ConfigEditor(bytes: base.config.bytes)
    }

    /// Appends a layer blob (its diff_id goes into the config).
    public mutating func appendLayer(blob: StagedBlob, compression: LayerCompression, diffID: Digest) {
        let docker = base.isDockerFamily && compression != .zstd
        let d = Descriptor(mediaType: MediaType.layer(docker: docker, compression: compression), digest: blob.digest, size: blob.size)
        appended.append((d, blob.path))
        editor.appendDiffID(diffID)
    }

    /// The new image, named `names`.
    public func build(names: [ImageReference]) throws -> Image {
        let config = try Document(config: try editor.bytes(), what: "new config")
        let ociFamily = !base.isDockerFamily || appended.contains { $0.descriptor.mediaType == MediaType.ociLayerZstd }
        var manifest = base.manifest.view
        var layers = base.layers
        if ociFamily && base.isDockerFamily {
            layers = layers.map { l in
                var l = l
                l.mediaType = ManifestRewrite.ociLayerType(l.mediaType)
                return l
            }
        }
        layers += appended.map(\.descriptor)
        manifest.layers = layers
        manifest.mediaType = ociFamily ? MediaType.ociManifest : MediaType.dockerManifest
        manifest.config = Descriptor(mediaType: ociFamily ? MediaType.ociConfig : MediaType.dockerConfig,
                                     digest: config.digest, size: config.size)
        let manifestDocument = try Document(manifest: try CanonicalJSON.encode(manifest), what: "new manifest")
        var descriptor = Descriptor(mediaType: manifest.mediaType ?? MediaType.ociManifest, digest: manifestDocument.digest,
                                    size: manifestDocument.size)
        descriptor.platform = base.descriptor.platform
        var files: [Digest: String] = [:]
        for a in appended { files[a.descriptor.digest] = a.path }
        return try Image(descriptor: descriptor, manifest: manifestDocument, config: config, names: names,
                         blobs: BlobMap(sourceName: base.blobs.sourceName, files: files, fallback: base.blobs))
    }
}

/// A changed image and the blobs staged to make it (a new layer): the copy
/// engine removes those a destination did not adopt.
public struct MutatedImage: Sendable {
    public var image: Image
    public var staged: [StagedBlob]

    public init(image: Image, staged: [StagedBlob] = []) {
        self.image = image
        self.staged = staged
    }
}
