import Foundation
import Testing
import OCICore
import OCIModel
import OCIImage
import OCIStore
import OCIArchive
import OCILayer
import OCITransport

/// Library-level operations the tests share, all over the copy engine.
public enum ImageOps {
    /// What a load did.
    public struct LoadResult {
        /// Entries as stored (images and multi-platform images).
        public var entries: [ImageEntry]
        /// Every image (the children of indexes too).
        public var images: [Image] { entries.flatMap(\.images) }
        public var warnings: [String]
        /// New blobs written into the store.
        public var newBlobs: Int
    }

    /// Loads an archive, layout directory or transport into `store` (as `ocitool load`).
    public static func load(_ path: String, into store: ImageStore, platform: Platform? = nil) throws -> LoadResult {
        let context = TransportContext(store: store)
        var options = ImageCopy.Options()
        options.platforms = platform.map { .one($0) } ?? .all
        let source = try TransportReference.source(path).openSource(context)
        let destination = try StoreDestination(store: store)
        let report = try ImageCopy.copy(from: source, to: destination, options: options)
        return LoadResult(entries: report.entries, warnings: report.warnings, newBlobs: report.images.count)
    }

    /// Every image in the store (index children included), in store order.
    public static func images(in store: ImageStore) throws -> [Image] {
        try store.entries().flatMap(\.images)
    }

    /// The one image `ref` names in the store (an index: this machine's platform).
    public static func resolve(_ ref: String, in store: ImageStore) throws -> Image {
        let entry = try store.resolve(ref)
        switch entry {
        case let .image(i): return i
        case let .index(x):
            var w: [String] = []
            return try PlatformChoice.one(nil).pick(from: x, wanted: Platform.host, source: "the store", warnings: &w)
        }
    }

    /// Writes `images` as an archive at `path` (library API, no engine).
    @discardableResult
    public static func write(_ images: [Image], _ flavour: ArchiveWriter.Flavour, to path: String, mtime: Int64 = 0) throws -> ArchiveWriter.Summary {
        let sink = try FileSink(creating: path)
        return try ArchiveWriter.write(images.map { .image($0) }, flavour: flavour, to: sink, name: path, options: .init(mtime: mtime))
    }
}

/// An image opened from a store reference or an archive for a test (the
/// union-view verbs' way: `ImageReader`, one image).
public final class OpenedImage {
    public let reader: ImageReader
    public let record: Image
    public let layers: [LayerSource]

    public init(_ ref: String, store: ImageStore, platform: Platform? = nil, tmpdir: String? = nil) throws {
        reader = try ImageReader(ref, context: TransportContext(store: store), tmpdir: tmpdir)
        record = try reader.image(platform: platform)
        layers = try LayerSource.layers(of: record)
    }

    public var warnings: [String] { reader.warnings }

    public func close() { reader.close() }
}

extension Image {
    /// The config as stored.
    public var configBytes: [UInt8] { config.bytes }
    /// The manifest as stored.
    public var manifestBytes: [UInt8] { manifest.bytes }
    /// The manifest digest.
    public var manifestDigest: Digest { digest }

    /// The file of a blob, or an error naming it.
    public func path(of digest: Digest) throws -> String {
        guard let p = blobs.path(of: digest) else { throw ImageError.blobMissing(digest, source: blobs.sourceName) }
        return p
    }
}

extension ImageOps {
    /// Squashes `image` into `store` under `names` (as `ocitool squash`); returns the stored image.
    @discardableResult
    public static func squash(_ image: Image, into store: ImageStore, names: [ImageReference] = [],
                              compression: LayerCompression = .gzip, limits: UnionLimits = .defaults) throws -> Image {
        var options = ImageCopy.Options()
        options.mutate = { base, staging in
            try Squash.mutate(base, staging: staging, names: names, compression: compression, limits: limits)
        }
        let report = try ImageCopy.copy(from: EntriesSource([.image(image)]), to: try StoreDestination(store: store), options: options)
        guard let made = report.entries.first?.images.first else { throw ImageError.invalid("squash", "no image") }
        return try resolve(made.digest.description, in: store)
    }

    /// The images of a file, directory or transport, one per entry (an
    /// index: this machine's platform), read without loading.
    public static func open(_ path: String, store: ImageStore) throws -> (images: [Image], reader: ImageReader) {
        let reader = try ImageReader(path, context: TransportContext(store: store))
        var w: [String] = []
        let chosen = try PlatformChoice.one(nil).apply(to: reader.entries, source: path, warnings: &w)
        return (chosen.flatMap(\.images), reader)
    }
}
