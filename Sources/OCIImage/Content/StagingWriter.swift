import OCICore
#if canImport(Glibc)
import Glibc
#endif

/// A finished staging file whose content was hashed as it was written.
/// Until it is published or discarded, an interrupt removes it (`Cleanup`).
public struct StagedBlob: Sendable, Hashable {
    public let path: String
    public let digest: Digest
    public let size: Int64
    let token: Cleanup.Token?
    /// A file staged by someone else (a source, in the same staging area)
    /// that this owner only renames into place.
    public let isAdopted: Bool

    init(path: String, digest: Digest, size: Int64, token: Cleanup.Token?) {
        self.path = path
        self.digest = digest
        self.size = size
        self.token = token
        isAdopted = false
    }

    /// A staging file another owner wrote and hashed (its digest is known).
    public init(adopting path: String, digest: Digest, size: Int64) {
        self.path = path
        self.digest = digest
        self.size = size
        token = nil
        isAdopted = true
    }

    /// Deletes the staging file.
    public func discard() {
        FS.removeFile(path)
        if let token { Cleanup.unregister(token) }
    }

    /// The file was renamed into place: nothing to remove on an interrupt.
    func published() {
        if let token { Cleanup.unregister(token) }
    }

    public static func == (a: StagedBlob, b: StagedBlob) -> Bool { a.path == b.path && a.digest == b.digest && a.size == b.size }
    public func hash(into h: inout Hasher) { h.combine(path) }
}

/// Writes one staging file while hashing it. With `parallel`, hashing runs
/// on a worker thread while the caller keeps writing (large blobs). With
/// `follow`, another thread can read the file as it grows (`growth`).
public final class StagingWriter: ByteSink {
    public let path: String
    /// The file's length as it is written, for a reader on another thread
    /// (nil unless made with `follow`).
    package let growth: GrowingFile?
    private let file: FileSink
    private let digesting = DigestingSink()
    private let hashSink: ByteSink
    private var closed = false
    private let durable: Bool
    private let token: Cleanup.Token
    /// Bytes written so far.
    public private(set) var count: Int64 = 0

    init(directory: String, parallel: Bool, follow: Bool = false, durable: Bool = true) throws {
        self.durable = durable
        growth = follow ? GrowingFile() : nil
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
        token = Cleanup.register(path)
        file.writeBehind = durable
        hashSink = parallel ? AsyncSink(inner: digesting) : digesting
    }

    deinit { if !closed { abandon() } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try file.write(bytes)
        try hashSink.write(bytes)
        count += Int64(bytes.count)
        growth?.grew(to: count)
    }

    public func finish() throws {}

    /// Waits for the hash, syncs and closes the file, and returns the staged blob.
    public func close() throws -> StagedBlob {
        closed = true
        growth?.complete()
        try hashSink.finish()
        if durable { try file.sync() }
        try file.finish()
        return StagedBlob(path: path, digest: try digesting.digest(), size: count, token: token)
    }

    /// Closes and deletes the staging file.
    public func abandon() {
        closed = true
        growth?.abandon()
        try? hashSink.finish()
        try? file.finish()
        FS.removeFile(path)
        Cleanup.unregister(token)
    }
}
