import Foundation
import OCICore
import OCIModel
import OCIImage

/// Where the file-system changes of a commit come from.
public enum CommitSource: Sendable, Equatable {
    /// A whole root file system that started as the base's union view and
    /// was changed (compared with the base the way docker does).
    case rootfs(String)
    /// An overlayfs upper directory over the base (whiteouts converted).
    case upper(String)
    /// A ready layer tarball (`.tar`, `.tar.gz`, `.tar.zst`), appended as is.
    case layer(String)
}

/// `commit`: a base image plus one new layer (from a changed root file
/// system, an overlay upper directory or a tarball) and config changes
/// make a new image (image-spec config.md: `rootfs.diff_ids` + 1,
/// `history` + 1, `created`, `author`; every other field kept).
///
/// A commit is a mutation the copy engine applies (`ImageCopy.Options.mutate`):
///
/// ```swift
/// var options = ImageCopy.Options()
/// options.mutate = { base, staging in
///     try Commit.mutate(base, source: .rootfs("/tmp/rootfs"), metadata: Commit.Metadata(message: "add config"),
///                       staging: staging, names: [try ImageReference(parsing: "app:2")])
/// }
/// try ImageCopy.copy(from: source, to: destination, options: options)
/// ```
public enum Commit {
    /// How the layer is made.
    public struct Options: Sendable {
        /// The blob's compression; nil: what the base's top layer uses
        /// (`defaultCompression(for:)`; for `.layer`, the file's own).
        public var compression: LayerCompression?
        /// gzip 1-9 / zstd 1-19; nil for the encoder's default.
        public var level: Int?
        /// `SOURCE_DATE_EPOCH`: member mtimes later than it are set to it,
        /// whiteouts get it (0 without).
        public var sourceDateEpoch: Int64?
        /// Bounds on reading the base's layers (`--rootfs`) or the tarball.
        public var limits: UnionLimits

        public init(compression: LayerCompression? = nil, level: Int? = nil, sourceDateEpoch: Int64? = nil,
                    limits: UnionLimits = .defaults) {
            self.compression = compression
            self.level = level
            self.sourceDateEpoch = sourceDateEpoch
            self.limits = limits
        }
    }

    /// What goes into the config besides the diff_id.
    public struct Metadata: Sendable {
        /// `-c` changes, applied in order (ENTRYPOINT without any CMD
        /// clears `Cmd`, as `docker commit --change` does).
        public var changes: [ConfigChange]
        /// The history entry's `comment`.
        public var message: String?
        /// The history entry's and the config's `author`.
        public var author: String?
        /// The history entry's `created_by`.
        public var createdBy: String
        /// RFC 3339 time for `created` (config and history entry).
        public var created: String

        public init(changes: [ConfigChange] = [], message: String? = nil, author: String? = nil,
                    createdBy: String = "ocitool commit", created: String = ConfigEditor.timestamp()) {
            self.changes = changes
            self.message = message
            self.author = author
            self.createdBy = createdBy
            self.created = created
        }
    }

    /// The compression of the base's top layer blob (read from its first
    /// bytes, else its media type); for a base without layers, gzip for
    /// OCI images and none for Docker ones.
    public static func defaultCompression(for base: Image) -> LayerCompression {
        let docker = base.isDockerFamily
        guard let top = base.layers.last else { return docker ? .none : .gzip }
        if let path = base.blobs.path(of: top.digest), let head = try? FileSource(path: path).readPrefix(6) {
            switch Compression.detect(head) {
            case .none: return .none
            case .zstd: return .zstd
            default: return .gzip
            }
        }
        if top.mediaType.hasSuffix("zstd") { return .zstd }
        if top.mediaType.hasSuffix("gzip") { return .gzip }
        return MediaType.isTarLayer(top.mediaType) ? .none : .gzip
    }

    /// Checks that the changes exist and are of the right kind (a readable
    /// directory, or a file for `.layer`), so a typo fails before the base
    /// is read.
    /// - Throws: `CommitError.source`.
    public static func checkSource(_ source: CommitSource) throws {
        switch source {
        case let .rootfs(dir): _ = try HostTree(path: dir, label: "rootfs \(dir)")
        case let .upper(dir): _ = try HostTree(path: dir, label: "upper \(dir)")
        case let .layer(path): try ReadyLayer.checkFile(path)
        }
    }

    /// Builds the new layer from `source` into `staging`'s ingest area.
    /// - Throws: `CommitError` for unreadable or unrepresentable changes,
    ///   `LayerError` for a base whose layers cannot be read; the staging
    ///   file is removed on error.
    public static func buildLayer(from source: CommitSource, base: Image, staging: BlobStore,
                                  options: Options = Options()) throws -> BuiltLayer {
        let compression = options.compression ?? defaultCompression(for: base)
        switch source {
        case let .rootfs(dir):
            let tree = try HostTree(path: dir, label: "rootfs \(dir)")
            let index = try UnionIndex(layers: LayerSource.layers(of: base), limits: options.limits)
            let items = try RootfsDiff(tree: tree).items(base: index)
            return try LayerBuilder.build(items, from: tree, into: staging, compression: compression, level: options.level,
                                          mtimeClamp: options.sourceDateEpoch, name: "new layer from \(dir)")
        case let .upper(dir):
            let tree = try HostTree(path: dir, label: "upper \(dir)")
            let items = try OverlayUpper(tree: tree).items()
            return try LayerBuilder.build(items, from: tree, into: staging, compression: compression, level: options.level,
                                          mtimeClamp: options.sourceDateEpoch, name: "new layer from \(dir)")
        case let .layer(path):
            return try ReadyLayer.stage(path, into: staging, compression: options.compression, level: options.level,
                                        limits: options.limits)
        }
    }

    /// The mutation that appends `layer` to `base` with `metadata`.
    public static func mutation(of base: Image, adding layer: BuiltLayer, metadata: Metadata) throws -> ImageMutation {
        var mutation = try ImageMutation(base: base)
        mutation.appendLayer(blob: layer.blob, compression: layer.compression, diffID: layer.diffID)
        mutation.editor.apply(metadata.changes)
        mutation.editor.setCreated(metadata.created, author: metadata.author)
        mutation.editor.appendHistory(ImageConfig.History(created: metadata.created, createdBy: metadata.createdBy,
                                                          author: metadata.author, comment: metadata.message, emptyLayer: nil))
        return mutation
    }

    /// The new image: `base` plus the layer built from `source` (staged in
    /// `staging`) and the config changes, named `names`.
    /// - Throws: `CommitError`, `LayerError`; the staged layer is removed on error.
    public static func mutate(_ base: Image, source: CommitSource, metadata: Metadata, options: Options = Options(),
                              staging: BlobStore, names: [ImageReference] = []) throws -> MutatedImage {
        let layer = try buildLayer(from: source, base: base, staging: staging, options: options)
        do {
            let image = try mutation(of: base, adding: layer, metadata: metadata).build(names: names)
            return MutatedImage(image: image, staged: [layer.blob])
        } catch {
            layer.blob.discard()
            throw error
        }
    }
}
