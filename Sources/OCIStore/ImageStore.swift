import Foundation
import OCICore
import OCIModel
import OCIImage

/// The local image store: an OCI image layout at `root` (`oci-layout`,
/// `index.json`, `blobs/sha256/…`) that skopeo (`oci:ROOT:NAME`) and umoci
/// (`--image ROOT:NAME`) read as it is.
///
/// Each name is one descriptor in `index.json` with
/// `io.containerd.image.name` and `org.opencontainers.image.ref.name` both
/// the full reference (`docker.io/library/busybox:latest`), so two
/// repositories with the same tag stay apart. What peers cannot read is
/// given to them in a form they can (see `StoreAnnotation`): an image with
/// Docker media types is listed through an OCI-typed companion manifest
/// (same config and layers; the original manifest is kept and is what
/// ocitool reads and writes, so digests survive round trips), and each
/// platform of a multi-platform image is listed once more as
/// `NAME@os-arch[-variant]`, for umoci, which cannot read indexes.
///
/// Concurrency: every change of `index.json` happens in a `transaction`
/// under `ROOT/.ocitool-index.lock`, which re-reads the index, resolves
/// what it needs, and writes only when something changed. Operations that
/// stage blobs or read images hold a `StoreLease` (`ROOT/.ocitool-ingest.lock`
/// shared) from start to end, so `prune` (exclusive) never removes a blob
/// or staging file in use. A crash at any instant leaves the previous
/// `index.json` valid and no name pointing at a missing blob.
public final class ImageStore: Sendable {
    public let root: String
    public let blobs: BlobStore

    /// - Parameter durable: fsync staged blobs (off only for throw-away stores in tests).
    public init(root: String, durable: Bool = true) {
        self.root = root
        blobs = BlobStore(root: root, durable: durable, label: "the store")
    }

    var indexPath: String { root + "/index.json" }
    var layoutPath: String { root + "/oci-layout" }
    var indexLockPath: String { root + "/.ocitool-index.lock" }
    var ingestLockPath: String { root + "/.ocitool-ingest.lock" }

    /// Is there a store at `root` (an `index.json`)?
    public var exists: Bool { FS.exists(indexPath) }

    /// Reads `index.json`: an empty index when there is no store yet.
    /// - Throws: `StoreError.unusable` when it cannot be read or parsed.
    public func readIndex() throws -> IndexManifest {
        guard FS.exists(indexPath) else {
            if FS.exists(root) && !FS.isDirectory(root) { throw StoreError.unusable(root: root, reason: "is not a directory") }
            return IndexManifest(manifests: [])
        }
        do {
            let bytes = try FS.readFile(indexPath, limit: DocumentLimit.bytes)
            let index = try IndexManifest.parse(bytes, what: indexPath)
            // `manifests` is required: an index without it is damage, not an
            // empty store (prune would take every blob for unreferenced).
            guard let object = try CanonicalJSON.object(from: bytes, what: indexPath) as? [String: Any], object["manifests"] is [Any] else {
                throw ModelError.invalid(indexPath, "no \"manifests\" list")
            }
            return index
        } catch {
            throw StoreError.unusable(root: root, reason: "index.json cannot be read: \(error)")
        }
    }

    /// Creates `oci-layout` and the blob directory if missing (called with
    /// the index lock held, just before the first `index.json` is written).
    func initializeLayout() throws {
        try FS.makeDirectories(blobs.blobsDirectory)
        if !FS.exists(layoutPath) {
            try FS.writeAtomically(layoutPath, bytes: Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        }
    }

    /// Takes a lease on the store for an operation that stages blobs or
    /// reads images: `prune` waits until it is released.
    public func lease() throws -> StoreLease { try StoreLease(store: self) }
}
