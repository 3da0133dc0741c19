import OCICore
import OCIModel

/// Where the bytes of an image's blobs live: the store, the staging area of
/// an archive read without loading, an OCI layout directory, a registry.
/// Every `Image` carries one; readers of an image never need to know which.
///
/// Implementations are shared between threads (the copy engine reads several
/// blobs at once) and must be safe to call concurrently.
public protocol BlobSource: Sendable {
    /// Names the source in messages (`the store`, `archive app.tar`, `registry localhost:5000/app`).
    var sourceName: String { get }

    /// The file holding the blob, when it is on this machine; nil when the
    /// blob is absent or only reachable as a stream.
    func path(of digest: Digest) -> String?

    /// The blob's size, or nil when the source does not hold it.
    func size(of digest: Digest) throws -> Int64?

    /// Streams the blob's bytes into `sink` (which is not finished).
    /// - Returns: the number of bytes copied.
    /// - Throws: `ImageError.blobMissing` when absent; the sink's errors.
    @discardableResult
    func copy(_ digest: Digest, into sink: ByteSink, progress: ByteProgress?) throws -> Int64
}

extension BlobSource {
    public func size(of digest: Digest) throws -> Int64? {
        guard let p = path(of: digest) else { return nil }
        return try FS.size(p)
    }

    @discardableResult
    public func copy(_ digest: Digest, into sink: ByteSink, progress: ByteProgress?) throws -> Int64 {
        guard let p = path(of: digest) else { throw ImageError.blobMissing(digest, source: sourceName) }
        let file = try FileSource(path: p)
        return try file.copy(to: progress.map { CountingSink(forwardingTo: sink, progress: $0) } ?? sink)
    }

    /// Does the source hold the blob?
    public func contains(_ digest: Digest) -> Bool { ((try? size(of: digest)) ?? nil) != nil }

    /// Reads a small blob (a JSON document) into memory, checking its size
    /// and digest against `descriptor`.
    /// - Throws: `ImageError.blobMissing`, `.blobMismatch`, or a size-limit error.
    public func read(_ descriptor: Descriptor, what: String, limit: Int = DocumentLimit.bytes) throws -> [UInt8] {
        guard descriptor.size >= 0, descriptor.size <= Int64(limit) else {
            throw ImageError.invalid(what, "\(descriptor.size) bytes is out of range for a JSON document (limit \(limit))")
        }
        let sink = MemorySink(limit: limit, context: what)
        try copy(descriptor.digest, into: sink, progress: nil)
        guard Int64(sink.bytes.count) == descriptor.size else {
            throw ImageError.blobMismatch(descriptor.digest, what: what,
                                          message: "size mismatch: descriptor says \(descriptor.size) bytes, blob has \(sink.bytes.count)")
        }
        let actual = SHA256Hasher.digest(sink.bytes)
        guard actual == descriptor.digest || descriptor.digest.algorithm != "sha256" else {
            throw ImageError.blobMismatch(descriptor.digest, what: what, message: "digest mismatch: content is \(actual)")
        }
        return sink.bytes
    }
}

/// The largest JSON document (manifest, index, config, `manifest.json`) ocitool reads.
public enum DocumentLimit {
    /// 32 MiB: far above any real document, small enough to hold in memory.
    public static let bytes = 32 << 20
}

/// A blob source made of explicit files, falling back to another source:
/// an archive's staged blobs over the store's, a mutated image's new blobs
/// over its base's.
public struct BlobMap: BlobSource {
    public let sourceName: String
    /// Blob files by digest.
    public let files: [Digest: String]
    /// Asked for what `files` does not hold.
    public let fallback: (any BlobSource)?

    public init(sourceName: String, files: [Digest: String], fallback: (any BlobSource)? = nil) {
        self.sourceName = sourceName
        self.files = files
        self.fallback = fallback
    }

    public func path(of digest: Digest) -> String? {
        if let p = files[digest] { return p }
        return fallback?.path(of: digest)
    }

    public func size(of digest: Digest) throws -> Int64? {
        if let p = files[digest] { return try FS.size(p) }
        return try fallback?.size(of: digest)
    }

    @discardableResult
    public func copy(_ digest: Digest, into sink: ByteSink, progress: ByteProgress?) throws -> Int64 {
        if let p = files[digest] {
            return try FileSource(path: p).copy(to: progress.map { CountingSink(forwardingTo: sink, progress: $0) } ?? sink)
        }
        guard let fallback else { throw ImageError.blobMissing(digest, source: sourceName) }
        return try fallback.copy(digest, into: sink, progress: progress)
    }

    /// This map with more files on top.
    public func adding(_ more: [Digest: String]) -> BlobMap {
        BlobMap(sourceName: sourceName, files: files.merging(more) { _, new in new }, fallback: fallback)
    }
}
