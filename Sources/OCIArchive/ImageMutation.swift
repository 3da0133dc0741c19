import OCICore
import OCIModel
import OCIStore

/// Builds a new image from a base `ImageRecord`: a new config (edited raw
/// JSON) and optionally appended layers, with a new manifest in the base's
/// media-type family (OCI when a layer is zstd). Nothing is written until
/// `commit(to:)` or the record is handed to a writer.
public struct ImageMutation {
    public let base: ImageRecord
    public var editor: ConfigEditor
    /// Layers appended on top: descriptor and where the blob's bytes are.
    public private(set) var appended: [(descriptor: Descriptor, path: String)] = []

    public init(base: ImageRecord) throws {
        self.base = base
        editor = try ConfigEditor(bytes: base.configBytes)
    }

    /// Appends a layer blob (its diff_id goes into the config).
    public mutating func appendLayer(blob: StagedBlob, compression: LayerCompression, diffID: Digest) {
        let docker = MediaType.isDocker(base.descriptor.mediaType) && compression != .zstd
        let d = Descriptor(mediaType: MediaType.layer(docker: docker, compression: compression), digest: blob.digest, size: blob.size)
        appended.append((d, blob.path))
        editor.appendDiffID(diffID)
    }

    /// The resulting record; `stage` writes the new config and manifest
    /// JSON as staged blobs (returned, so the caller can publish or discard them).
    public func build(names: [ImageReference], stage: ([UInt8]) throws -> StagedBlob) throws -> (ImageRecord, [StagedBlob]) {
        let configBytes = try editor.bytes()
        let config = try ImageConfig.parse(configBytes, what: "new config")
        let configStaged = try stage(configBytes)
        let ociFamily = !MediaType.isDocker(base.descriptor.mediaType) || appended.contains { $0.descriptor.mediaType == MediaType.ociLayerZstd }
        var manifest = base.manifest
        var layers = base.manifest.layers
        if ociFamily && MediaType.isDocker(base.descriptor.mediaType) {
            layers = layers.map { l in
                var l = l
                l.mediaType = Self.ociLayerType(l.mediaType)
                return l
            }
        }
        layers += appended.map(\.descriptor)
        manifest.layers = layers
        manifest.mediaType = ociFamily ? MediaType.ociManifest : MediaType.dockerManifest
        manifest.config = Descriptor(mediaType: ociFamily ? MediaType.ociConfig : MediaType.dockerConfig,
                                     digest: configStaged.digest, size: configStaged.size)
        let manifestBytes = try CanonicalJSON.encode(manifest)
        let manifestStaged = try stage(manifestBytes)
        var paths = base.blobPaths
        paths[configStaged.digest] = configStaged.path
        paths[manifestStaged.digest] = manifestStaged.path
        for a in appended { paths[a.descriptor.digest] = a.path }
        let record = ImageRecord(
            descriptor: Descriptor(mediaType: manifest.mediaType ?? MediaType.ociManifest, digest: manifestStaged.digest, size: manifestStaged.size),
            manifestBytes: manifestBytes, manifest: manifest, configBytes: configBytes, config: config,
            names: names, blobPaths: paths)
        return (record, [configStaged, manifestStaged])
    }

    static func ociLayerType(_ t: String) -> String {
        switch t {
        case MediaType.dockerLayer: return MediaType.ociLayer
        case MediaType.dockerLayerGzip: return MediaType.ociLayerGzip
        case MediaType.dockerForeignLayerGzip: return MediaType.ociLayerNondistributableGzip
        default: return t
        }
    }

    /// Builds the image and records it in `store` under `names` (blobs of
    /// the base that live outside the store are copied in).
    @discardableResult
    public func commit(to store: ImageStore, names: [ImageReference], extraStaged: [StagedBlob] = []) throws -> ImageRecord {
        var staged: [StagedBlob] = []
        do {
            let (record, json) = try build(names: names) { try store.blobs.stage(bytes: $0) }
            staged += json
            // Base blobs not yet in the store (archive bases): copy them in.
            for d in [record.manifest.config.digest] + record.manifest.layers.map(\.digest) where !store.blobs.contains(d) {
                if let s = extraStaged.first(where: { $0.digest == d }) { staged.append(s); continue }
                if staged.contains(where: { $0.digest == d }) { continue }
                let w = try store.blobs.beginStaging(parallel: true)
                do {
                    try FileSource(path: try record.path(of: d)).copy(to: w)
                    let s = try w.close()
                    guard s.digest == d else { throw StoreError.digestMismatch(what: "blob \(d)", expected: d, actual: s.digest) }
                    staged.append(s)
                } catch {
                    w.abandon()
                    throw error
                }
            }
            try store.commit(staged: staged, images: [(record.descriptor, names)])
            return ImageRecord(stored: try store.image(for: record.descriptor, names: names), store: store)
        } catch {
            staged.forEach { $0.discard() }
            throw error
        }
    }
}

extension ImageRecord {
    /// A record from its parts.
    public init(descriptor: Descriptor, manifestBytes: [UInt8], manifest: Manifest, configBytes: [UInt8],
                config: ImageConfig, names: [ImageReference], blobPaths: [Digest: String]) {
        self.descriptor = descriptor
        self.manifestBytes = manifestBytes
        self.manifest = manifest
        self.configBytes = configBytes
        self.config = config
        self.names = names
        self.blobPaths = blobPaths
    }
}
