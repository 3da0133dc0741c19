import OCICore
#if canImport(Glibc)
import Glibc
#endif

/// A content-addressed blob directory (`ROOT/blobs/sha256/<hex>`) with a
/// staging area (`ROOT/ingest/`). New content is written to a staging file
/// while it is hashed, then renamed into place only by `publish`, so a
/// crash or an error never leaves a half-written blob under `blobs/`.
public final class BlobStore: Sendable {
    public let root: String
    /// fsync staged blobs before they count as written (off for throw-away
    /// spools, such as `convert`'s, which are deleted after use).
    public let durable: Bool

    public init(root: String, durable: Bool = true) {
        self.root = root
        self.durable = durable
    }

    public var blobsDirectory: String { root + "/blobs/sha256" }
    public var ingestDirectory: String { root + "/ingest" }

    /// The path of a blob (whether or not it exists).
    public func path(for digest: Digest) -> String {
        "\(root)/blobs/\(digest.algorithm)/\(digest.encoded)"
    }

    /// Is the blob present?
    public func contains(_ digest: Digest) -> Bool { FS.exists(path(for: digest)) }

    /// Size of a present blob.
    public func size(of digest: Digest) throws -> Int64 {
        guard contains(digest) else { throw StoreError.blobMissing(digest) }
        return try FS.size(path(for: digest))
    }

    /// Reads a (small) blob into memory.
    public func read(_ digest: Digest, limit: Int = 64 << 20) throws -> [UInt8] {
        guard contains(digest) else { throw StoreError.blobMissing(digest) }
        return try FS.readFile(path(for: digest), limit: limit)
    }

    /// Starts staging a new blob.
    /// - Parameter parallel: hash on a worker thread (worth it for large blobs).
    public func beginStaging(parallel: Bool = false) throws -> StagingWriter {
        try FS.makeDirectories(ingestDirectory)
        return try StagingWriter(directory: ingestDirectory, parallel: parallel, durable: durable)
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

    /// Moves staged blobs into `blobs/`. A blob already present is kept and
    /// its staging file removed. Call with the index lock held.
    public func publish(_ staged: [StagedBlob]) throws {
        try FS.makeDirectories(blobsDirectory)
        for s in staged {
            let dest = path(for: s.digest)
            if FS.exists(dest) {
                FS.removeFile(s.path)
            } else {
                try FS.rename(s.path, dest)
            }
        }
        FS.syncDirectory(blobsDirectory)
    }

    /// Digests of every blob present.
    public func allDigests() throws -> [Digest] {
        guard FS.isDirectory(blobsDirectory) else { return [] }
        return try FS.listDirectory(blobsDirectory).compactMap { try? Digest(sha256Hex: $0) }
    }
}

/// A finished staging file: content verified by its own SHA-256.
public struct StagedBlob: Sendable, Hashable {
    public let path: String
    public let digest: Digest
    public let size: Int64

    /// Deletes the staging file.
    public func discard() { FS.removeFile(path) }
}

/// Writes one staging file while hashing it. With `parallel`, hashing runs
/// on a worker thread while the caller keeps writing (large blobs).
public final class StagingWriter: ByteSink {
    public let path: String
    private let file: FileSink
    private let digesting = DigestingSink()
    private let hashSink: ByteSink
    private var closed = false
    private let durable: Bool

    init(directory: String, parallel: Bool, durable: Bool = true) throws {
        self.durable = durable
        var attempt = 0
        while true {
            let candidate = "\(directory)/\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
            do {
                file = try FileSink(creating: candidate, mode: 0o644, exclusive: true)
                path = candidate
                break
            } catch CoreError.io(_, let e) where e == EEXIST && attempt < 5 {
                attempt += 1
            }
        }
        file.writeBehind = durable
        hashSink = parallel ? AsyncSink(inner: digesting) : digesting
    }

    deinit { if !closed { abandon() } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try file.write(bytes)
        try hashSink.write(bytes)
        count += Int64(bytes.count)
    }

    /// Bytes written so far.
    public private(set) var count: Int64 = 0

    public func finish() throws {}

    /// Waits for the hash, syncs and closes the file, and returns the staged blob.
    public func close() throws -> StagedBlob {
        closed = true
        try hashSink.finish()
        if durable { try file.sync() }
        try file.finish()
        return StagedBlob(path: path, digest: try digesting.digest(), size: count)
    }

    /// Closes and deletes the staging file.
    public func abandon() {
        closed = true
        try? hashSink.finish()
        try? file.finish()
        FS.removeFile(path)
    }
}
