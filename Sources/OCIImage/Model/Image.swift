import OCICore
import OCIModel

/// One image: a manifest and its config (each kept as raw bytes with a
/// parsed view), the ordered layer descriptors, the names it goes by, and
/// where its blobs' bytes are. Immutable: transformations return a new
/// image. Readers (archives, the store, a registry) produce images, writers
/// consume them, mutations map one to another.
///
/// image-spec manifest.md and config.md; the Docker v2 schema 2 manifest
/// has the same shape and is kept as it is.
public struct Image: Sendable {
    /// The manifest's descriptor: media type, digest, size and, when an
    /// index or the input named one, the platform.
    public let descriptor: Descriptor
    public let manifest: Document<Manifest>
    public let config: Document<ImageConfig>
    /// Names, normalised (`docker.io/library/busybox:latest`).
    public let names: [ImageReference]
    /// Where the config and layer blobs (and the manifest, when stored) are.
    public let blobs: any BlobSource

    /// Builds an image, checking that the parts agree: the descriptor's
    /// digest and size are the manifest's, the manifest names the config.
    /// - Throws: `ImageError.invalid` when they do not.
    public init(descriptor: Descriptor, manifest: Document<Manifest>, config: Document<ImageConfig>,
                names: [ImageReference] = [], blobs: any BlobSource) throws {
        guard descriptor.digest == manifest.digest, descriptor.size == manifest.size else {
            throw ImageError.invalid("manifest \(descriptor.digest)", "descriptor (\(descriptor.size) bytes) does not match the manifest (\(manifest.digest), \(manifest.size) bytes)")
        }
        guard manifest.view.config.digest == config.digest, manifest.view.config.size == config.size else {
            throw ImageError.invalid("manifest \(descriptor.digest)", "names config \(manifest.view.config.digest) (\(manifest.view.config.size) bytes), not \(config.digest) (\(config.size) bytes)")
        }
        self.descriptor = descriptor
        self.manifest = manifest
        self.config = config
        self.names = names
        self.blobs = blobs
    }

    /// The image ID docker shows: the config digest.
    public var id: Digest { config.digest }
    /// The manifest digest (the "repo digest").
    public var digest: Digest { descriptor.digest }
    /// The layer descriptors, bottom first.
    public var layers: [Descriptor] { manifest.view.layers }
    /// The diff_ids (uncompressed layer digests) the config lists.
    public var diffIDs: [Digest] { config.view.diffIDs }
    /// The manifest media type (the document's own, else the descriptor's).
    public var mediaType: String {
        if let t = manifest.view.mediaType, MediaType.isManifest(t) { return t }
        return descriptor.mediaType.isEmpty ? MediaType.ociManifest : descriptor.mediaType
    }
    /// Is the manifest in the Docker media-type family?
    public var isDockerFamily: Bool { MediaType.isDocker(mediaType) }
    /// The platform: the descriptor's, else the config's when it names one.
    public var platform: Platform? {
        if let p = descriptor.platform { return p }
        guard let os = config.view.os, let arch = config.view.architecture, !os.isEmpty, !arch.isEmpty else { return nil }
        return Platform(os: os, architecture: arch, variant: config.view.variant)
    }
    /// An attestation manifest (BuildKit's `unknown/unknown` index entries).
    public var isAttestation: Bool {
        descriptor.annotations?["vnd.docker.reference.type"] == "attestation-manifest" || platform?.os == "unknown"
    }
    /// How messages name the image: its first name, else its short ID.
    public var displayName: String { names.first?.familiarString ?? id.shortID }
    /// Config, layer and manifest sizes as stored.
    public var storedSize: Int64 { layers.reduce(config.size) { $0 + $1.size } }
    /// Every blob the image needs: manifest, config, layers.
    public var blobDigests: [Digest] { [digest, config.digest] + layers.map(\.digest) }

    /// The same image under other names.
    public func named(_ names: [ImageReference]) -> Image {
        Image(unchecked: descriptor, manifest, config, names, blobs)
    }

    /// The same image with its blobs read from `blobs`.
    public func reading(from blobs: any BlobSource) -> Image {
        Image(unchecked: descriptor, manifest, config, names, blobs)
    }

    /// The same image with another descriptor platform (an index entry's).
    public func on(platform: Platform?) -> Image {
        var d = descriptor
        d.platform = platform
        return Image(unchecked: d, manifest, config, names, blobs)
    }

    /// The same image with index-entry annotations on its descriptor.
    public func with(annotations: [String: String]?) -> Image {
        var d = descriptor
        d.annotations = annotations
        return Image(unchecked: d, manifest, config, names, blobs)
    }

    private init(unchecked descriptor: Descriptor, _ manifest: Document<Manifest>, _ config: Document<ImageConfig>,
                 _ names: [ImageReference], _ blobs: any BlobSource) {
        self.descriptor = descriptor
        self.manifest = manifest
        self.config = config
        self.names = names
        self.blobs = blobs
    }

    /// This image as progress events and reports describe it.
    public func report(names: [ImageReference]? = nil) -> ImageReport {
        ImageReport(names: (names ?? self.names).map(\.familiarString), manifestDigest: digest, configDigest: id,
                    mediaType: mediaType, platform: platform?.description, layers: layers.map(\.digest), diffIDs: diffIDs)
    }
}
