import Foundation
import OCICore
import OCIModel

/// The local image store: an OCI image layout at `root` (`oci-layout`,
/// `index.json`, `blobs/sha256/…`) that skopeo (`oci:ROOT:TAG`) and umoci
/// read directly. Each tag is one descriptor in `index.json` carrying
/// `io.containerd.image.name` (full name) and
/// `org.opencontainers.image.ref.name` (the tag); images without a name
/// keep a descriptor without those annotations.
///
/// Writers serialise on `ROOT/.ocitool-index.lock`; loads hold
/// `ROOT/.ocitool-ingest.lock` shared while staging so that `prune` never
/// removes a staging file in use.
public final class ImageStore: Sendable {
    public let root: String
    public let blobs: BlobStore

    /// - Parameter durable: fsync staged blobs (see `BlobStore.durable`).
    public init(root: String, durable: Bool = true) {
        self.root = root
        blobs = BlobStore(root: root, durable: durable)
    }

    var indexPath: String { root + "/index.json" }
    var indexLockPath: String { root + "/.ocitool-index.lock" }
    var ingestLockPath: String { root + "/.ocitool-ingest.lock" }

    /// Creates the layout files if missing.
    public func initialize() throws {
        try FS.makeDirectories(blobs.blobsDirectory)
        let layout = root + "/oci-layout"
        if !FS.exists(layout) {
            try FS.writeAtomically(layout, bytes: Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        }
        if !FS.exists(indexPath) {
            let lock = try FileLock(path: indexLockPath, exclusive: true)
            defer { lock.unlock() }
            if !FS.exists(indexPath) {
                try FS.writeAtomically(indexPath, bytes: CanonicalJSON.encode(ImageIndex(manifests: [])))
            }
        }
    }

    /// A shared lock held while staging blobs (blocks `prune`).
    public func ingestLock() throws -> FileLock {
        try initialize()
        return try FileLock(path: ingestLockPath, exclusive: false)
    }

    /// Reads `index.json` (an empty index when the store is new).
    public func readIndex() throws -> ImageIndex {
        guard FS.exists(indexPath) else { return ImageIndex(manifests: []) }
        return try ImageIndex.parse(FS.readFile(indexPath), what: indexPath)
    }

    /// Runs `body` on the index under the writer lock and saves the result
    /// atomically.
    public func updateIndex<T>(_ body: (inout ImageIndex) throws -> T) throws -> T {
        try initialize()
        let lock = try FileLock(path: indexLockPath, exclusive: true)
        defer { lock.unlock() }
        var index = try readIndex()
        let result = try body(&index)
        index.manifests.sort(by: ImageStore.entryOrder)
        try FS.writeAtomically(indexPath, bytes: CanonicalJSON.encode(index))
        return result
    }

    static func entryOrder(_ a: Descriptor, _ b: Descriptor) -> Bool {
        let na = a.annotations?[AnnotationKey.containerdName] ?? ""
        let nb = b.annotations?[AnnotationKey.containerdName] ?? ""
        if na != nb { return na < nb }
        return a.digest < b.digest
    }

    /// Publishes staged blobs and records images in one locked step, so the
    /// index never names a missing blob.
    /// - Parameters:
    ///   - staged: blobs to move into `blobs/`.
    ///   - images: each image manifest descriptor with the names to give it.
    public func commit(staged: [StagedBlob], images: [(manifest: Descriptor, names: [ImageReference])]) throws {
        try updateIndex { index in
            try blobs.publish(staged)
            for image in images {
                for d in [image.manifest.digest] where !blobs.contains(d) {
                    throw StoreError.blobMissing(d)
                }
                if image.names.isEmpty {
                    if !index.manifests.contains(where: { $0.digest == image.manifest.digest }) {
                        var d = image.manifest
                        d.annotations = nil
                        index.manifests.append(d)
                    }
                } else {
                    for name in image.names { ImageStore.setTag(name, to: image.manifest, in: &index) }
                }
            }
        }
    }

    /// Points `name` at `manifest` (moving it from another image, which then
    /// stays as an untagged entry if nothing else names it, like docker).
    static func setTag(_ name: ImageReference, to manifest: Descriptor, in index: inout ImageIndex) {
        let full = name.description
        if let old = index.manifests.firstIndex(where: { $0.annotations?[AnnotationKey.containerdName] == full }) {
            var previous = index.manifests.remove(at: old)
            if previous.digest != manifest.digest && !index.manifests.contains(where: { $0.digest == previous.digest }) {
                previous.annotations = nil
                index.manifests.append(previous)
            }
        }
        var d = Descriptor(mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size, platform: manifest.platform)
        var ann: [String: String] = [AnnotationKey.containerdName: full]
        if let tag = name.tag { ann[AnnotationKey.refName] = tag }
        d.annotations = ann
        index.manifests.append(d)
        // Drop the bare (untagged) entry of the same image, now that it has a name.
        index.manifests.removeAll { $0.digest == manifest.digest && $0.annotations == nil }
    }
}
