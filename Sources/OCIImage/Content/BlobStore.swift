import OCICore
import OCIModel
#if canImport(Glibc)
import Glibc
#endif

/// A content-addressed blob directory (`ROOT/blobs/sha256/<hex>`) with a
/// staging area (`ROOT/ingest/`): the store's, or a private spool's. New
/// content is written to a staging file while it is hashed and renamed into
/// place only by `publish`, so a crash or an error never leaves a
/// half-written blob under `blobs/` (apple/containerization's content store
/// with staged ingest is the model).
public final class BlobStore: BlobSource {
    public let root: String
    /// fsync staged blobs before they count as written (off for throw-away
    /// spools, which are deleted after use).
    public let durable: Bool
    public var sourceName: String { label }
    private let label: String
    /// Where staging files go (`ROOT/ingest` unless given).
    public let ingestDirectory: String

    /// - Parameters:
    ///   - label: names the store in messages (`the store`, `the spool`).
    ///   - ingestDirectory: where to stage (default `ROOT/ingest`); it must
    ///     be on the same file system as `ROOT/blobs` for `publish` to rename.
    public init(root: String, durable: Bool = true, label: String? = nil, ingestDirectory: String? = nil) {
        self.root = root
        self.durable = durable
        self.label = label ?? root
        self.ingestDirectory = ingestDirectory ?? root + "/ingest"
    }

    public var blobsDirectory: String { root + "/blobs/sha256" }

    /// The path a blob has (whether or not it exists).
    public func blobPath(_ digest: Digest) -> String {
        "\(root)/blobs/\(digest.algorithm)/\(digest.encoded)"
    }

    public func path(of digest: Digest) -> String? {
        let p = blobPath(digest)
        return FS.exists(p) ? p : nil
    }

    /// Reads a (small) blob into memory.
    public func read(_ digest: Digest, limit: Int = DocumentLimit.bytes) throws -> [UInt8] {
        guard let p = path(of: digest) else { throw ImageError.blobMissing(digest, source: label) }
        return try FS.readFile(p, limit: limit)
    }

    /// Starts staging a new blob.
    /// - Parameters:
    ///   - parallel: hash on a worker thread (worth it for large blobs).
    ///   - follow: let another thread read the file as it is written (`StagingWriter.growth`).
    public func beginStaging(parallel: Bool = false, follow: Bool = false) throws -> StagingWriter {
        try FS.makeDirectories(ingestDirectory)
        return try StagingWriter(directory: ingestDirectory, parallel: parallel, follow: follow, durable: durable)
    }

    /// Stages in-memory bytes (JSON documents).
    public func stage(bytes: [UInt8]) throws -> StagedBlob {
        let w = try beginStaging()
        do {
            try w.write(contentsOf: bytes)
            return try w.close()
        } catch {
            w.abandon()
            throw error
        }
    }

    /// Stages a copy of a blob from `source`, checking its digest and size.
    public func stage(copyOf descriptor: Descriptor, from source: any BlobSource, progress: ByteProgress? = nil) throws -> StagedBlob {
        let w = try beginStaging(parallel: descriptor.size >= 4 << 20)
        do {
            try source.copy(descriptor.digest, into: w, progress: progress)
            let s = try w.close()
            guard s.digest == descriptor.digest || descriptor.digest.algorithm != "sha256" else {
                s.discard()
                throw ImageError.blobMismatch(descriptor.digest, what: source.sourceName, message: "digest mismatch: content is \(s.digest)")
            }
            guard s.size == descriptor.size else {
                s.discard()
                throw ImageError.blobMismatch(descriptor.digest, what: source.sourceName,
                                              message: "size mismatch: descriptor says \(descriptor.size) bytes, blob has \(s.size)")
            }
            return s
        } catch {
            w.abandon()
            throw error
        }
    }

    /// Stages a copy of a layer blob from `source`, checking its digest and
    /// size and, when `diffID` is given, that it decompresses to it (the
    /// decompressed stream is hashed on the way, on another core for large layers).
    public func stage(layer descriptor: Descriptor, diffID: Digest?, from source: any BlobSource,
                      what: String, progress: ByteProgress? = nil) throws -> StagedBlob {
        guard let diffID else { return try stage(copyOf: descriptor, from: source, progress: progress) }
        let w = try beginStaging(parallel: descriptor.size >= 4 << 20)
        let digester = LayerDigester(context: what, parallel: descriptor.size >= 4 << 20)
        do {
            try source.copy(descriptor.digest, into: TeeSink(w, digester), progress: progress)
            try digester.finish()
            let s = try w.close()
            guard s.digest == descriptor.digest, s.size == descriptor.size else {
                s.discard()
                throw ImageError.blobMismatch(descriptor.digest, what: what, message: "content is \(s.digest) (\(s.size) bytes)")
            }
            let actual = digester.compression == Compression.none ? s.digest : digester.uncompressedDigest
            guard let actual else {
                s.discard()
                throw ImageError.invalid(what, "layer cannot be decompressed: \(digester.decodeError ?? "unknown compression")")
            }
            guard actual == diffID else {
                s.discard()
                throw ImageError.diffIDMismatch(what: what, expected: diffID, actual: actual)
            }
            return s
        } catch {
            w.abandon()
            throw error
        }
    }

    /// Moves staged blobs into `blobs/`. A blob already present is kept and
    /// its staging file removed. The image store calls this with its index
    /// lock held.
    public func publish(_ staged: [StagedBlob]) throws {
        guard !staged.isEmpty else { return }
        try FS.makeDirectories(blobsDirectory)
        for s in staged {
            let dest = blobPath(s.digest)
            if FS.exists(dest) {
                s.discard()
            } else {
                try FS.rename(s.path, dest)
                s.published()
            }
        }
        FS.syncDirectory(blobsDirectory)
    }

    /// Digests of every blob present (names that are not sha256 digests are ignored).
    public func allDigests() throws -> [Digest] {
        guard FS.isDirectory(blobsDirectory) else { return [] }
        return try FS.listDirectory(blobsDirectory).compactMap { try? Digest(sha256Hex: $0) }
    }
}
