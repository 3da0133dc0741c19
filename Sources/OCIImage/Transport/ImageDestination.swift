import OCICore
import OCIModel

/// Where images go (containers/image's `ImageDestination`): an archive
/// file or stream, an OCI layout directory, the store, a registry.
///
/// The copy engine hands a destination verified images whose layer blobs
/// are files on this machine (it fetches remote blobs first); documents
/// (manifests, configs, indexes) come from the images' in-memory bytes.
public protocol ImageDestination: AnyObject {
    /// Names the destination in messages.
    var description: String { get }

    /// Where blobs bound for this destination should be staged so that
    /// writing adopts them by renaming (the store's ingest area); nil: the
    /// engine stages in a private spool.
    var staging: BlobStore? { get }

    /// Blobs the destination already holds (sources need not copy them).
    var existing: (any BlobSource)? { get }

    /// Checks that `entries` can be written here, before anything is.
    /// - Throws: a clear error naming the image (e.g. zstd layers for a docker archive).
    func check(_ entries: [ImageEntry]) throws

    /// Writes `entries`: all of them, or (on error) nothing a reader would
    /// take for complete.
    func write(_ entries: [ImageEntry], progress: ProgressScope?) throws -> WriteReport

    /// Releases locks and temporary files; after a failed or missing
    /// `write`, leaves the destination as it was. Idempotent.
    func close()
}

/// What a destination wrote.
public struct WriteReport: Sendable {
    /// Every image written (children of an index included), with the digests readers will see.
    public var images: [ImageReport]
    /// Bytes written (the archive's size; new blob bytes for a store).
    public var bytes: Int64
    /// Blobs written (new ones, for a store).
    public var blobs: Int

    public init(images: [ImageReport], bytes: Int64, blobs: Int) {
        self.images = images
        self.bytes = bytes
        self.blobs = blobs
    }
}
