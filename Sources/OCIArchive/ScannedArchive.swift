import OCICore
import OCIModel
import OCIStore

/// What one pass over an archive found: every regular member hashed and
/// staged in the store's ingest area (or recognised as already stored),
/// links between members, and the metadata documents.
public final class ScannedArchive {
    /// Facts about one distinct blob of the archive.
    public struct Blob: Sendable {
        public let digest: Digest
        public let size: Int64
        public let compression: Compression
        /// Digest of the decompressed content for gzip/zstd blobs.
        public let uncompressedDigest: Digest?
        /// Why decompression failed, if it did.
        public let decodeError: String?
        /// Staging file, or nil when the blob was already in the store.
        public let staged: StagedBlob?
        /// The first member it came from (for messages).
        public let member: String
        /// With recoding while reading (`convert --compress`): the blob in
        /// the target compression, staged instead of the original bytes.
        public var recoded: RecodedBlob? = nil

        /// The diff_id this blob would have as a layer, if it can be a layer.
        public var diffID: Digest? { compression == .none ? digest : uncompressedDigest }
    }

    public let name: String
    let store: ImageStore
    /// Normalised member path → blob digest.
    public internal(set) var members: [String: Digest] = [:]
    /// Normalised member path → normalised target path (sym and hard links).
    public private(set) var links: [String: String] = [:]
    public internal(set) var blobs: [Digest: Blob] = [:]
    /// Metadata documents by normalised path (`manifest.json`, `index.json`, …).
    public private(set) var documents: [String: [UInt8]] = [:]

    static let metadataNames: Set<String> = ["manifest.json", "index.json", "oci-layout", "repositories"]
    public static let metadataLimit = 32 << 20

    init(name: String, store: ImageStore) {
        self.name = name
        self.store = store
    }

    /// Reads every member of `source` once.
    /// - Parameters:
    ///   - recoding: re-encode layer blobs while reading them (see `IngestRecoding`).
    ///   - progress: told of each member read (a `read` or `recode` task).
    static func scan(_ source: MemberSource, store: ImageStore, onBlob: ((Blob) -> Void)? = nil,
                     recoding: IngestRecoding? = nil, progress: ProgressScope? = nil) throws -> ScannedArchive {
        let scan = ScannedArchive(name: source.name, store: store)
        if let recoding { scan.recodePool = RecodePool(workers: recoding.workers) }
        do {
            while let entry = try source.next() {
                let path = entry.normalizedPath
                switch entry.kind {
                case .regular:
                    if metadataNames.contains(path) {
                        let sink = MemorySink(limit: metadataLimit, context: "\(source.name): \(path)")
                        try source.readData(into: sink)
                        scan.documents[path] = sink.bytes
                    } else if let recoding {
                        if let blob = try scan.ingestRecoding(source, path: path, size: entry.size, plan: recoding, progress: progress) {
                            onBlob?(blob)
                        }
                    } else {
                        let task = progress?.task(id: path, label: path, phase: "read", total: entry.size)
                        let blob = try scan.ingest(source, path: path, size: entry.size, task: task)
                        task?.finish()
                        onBlob?(blob)
                    }
                case .symlink:
                    let target = entry.linkTarget ?? ""
                    let dir = PathString(path).deletingLastComponent
                    let joined = target.hasPrefix("/") ? target : (dir == "." ? target : dir + "/" + target)
                    scan.links[path] = resolveDots(joined)
                case .hardlink:
                    scan.links[path] = TarEntry.normalize(entry.linkTarget ?? "")
                default:
                    continue
                }
            }
            try scan.collectRecodes()
        } catch {
            if let pool = scan.recodePool {
                for case let .success(r) in pool.wait().values { r.staged.discard() }
            }
            _ = scan.verifier.wait()
            scan.discard()
            throw error
        }
        scan.collectDiffIDs()
        return scan
    }

    /// Waits for the deferred diff_id computations and records them.
    private func collectDiffIDs() {
        for (digest, outcome) in verifier.wait() {
            guard let b = blobs[digest] else { continue }
            blobs[digest] = Blob(digest: b.digest, size: b.size, compression: b.compression,
                                 uncompressedDigest: outcome.digest, decodeError: outcome.error,
                                 staged: b.staged, member: b.member, recoded: b.recoded)
        }
    }

    let verifier = DiffIDVerifier()
    /// Re-encodes layers from their files while the scan goes on (recoding scans).
    var recodePool: RecodePool?

    private func ingest(_ source: MemberSource, path: String, size: Int64, task: ProgressTask?) throws -> Blob {
        // Large blobs are hashed on a worker thread while this one reads and
        // writes; a large compressed blob's diff_id is computed afterwards
        // from the staged file by `verifier`, so that layers inflate in parallel.
        let parallel = size >= 4 << 20
        let writer = try store.blobs.beginStaging(parallel: parallel)
        let digester = LayerDigester(context: "\(name): \(path)", decode: !parallel)
        do {
            let counted: ByteSink = task.map { CountingSink(forwardingTo: TeeSink(writer, digester), progress: $0.bytes) } ?? TeeSink(writer, digester)
            try source.readData(into: counted)
            try digester.finish()
            let staged = try writer.close()
            if let existing = blobs[staged.digest] {
                staged.discard()
                members[path] = staged.digest
                return existing
            }
            let keep = !store.blobs.contains(staged.digest)
            if !keep { staged.discard() }
            let blob = Blob(digest: staged.digest, size: staged.size, compression: digester.compression ?? .none,
                            uncompressedDigest: digester.uncompressedDigest, decodeError: digester.decodeError,
                            staged: keep ? staged : nil, member: path)
            blobs[staged.digest] = blob
            members[path] = staged.digest
            if parallel && (blob.compression == .gzip || blob.compression == .zstd) {
                verifier.submit(blob.digest, path: keep ? staged.path : store.blobs.path(for: staged.digest), context: "\(name): \(path)")
            }
            return blob
        } catch {
            writer.abandon()
            throw error
        }
    }

    /// Removes every staging file of this scan.
    public func discard() {
        for b in blobs.values {
            b.staged?.discard()
            b.recoded?.staged.discard()
        }
    }

    /// Resolves a member path through links (at most 16 hops) to its blob.
    public func blob(atMember rawPath: String) -> Blob? {
        var path = ScannedArchive.resolveDots(rawPath)
        for _ in 0..<16 {
            if let d = members[path] { return blobs[d] }
            guard let next = links[path] else { return nil }
            path = next
        }
        return nil
    }

    /// The blob with `digest`, from this archive or already in the store.
    public func blob(_ digest: Digest) -> Blob? { blobs[digest] }

    /// Reads a small blob's bytes (from staging or the store).
    public func bytes(of blob: Blob, limit: Int = metadataLimit) throws -> [UInt8] {
        guard blob.size <= Int64(limit) else {
            throw ArchiveError.member(archive: name, member: blob.member, message: "\(blob.size) bytes is too large for a JSON document")
        }
        if let s = blob.staged { return try FS.readFile(s.path, limit: limit) }
        return try store.blobs.read(blob.digest, limit: limit)
    }

    /// Path of the blob's bytes on disk (staging file or store).
    public func path(of blob: Blob) -> String {
        blob.staged?.path ?? store.blobs.path(for: blob.digest)
    }

    /// Normalises `a/./b/../c` to `a/c` (leading `/` and `./` stripped;
    /// `..` above the top is dropped).
    static func resolveDots(_ path: String) -> String {
        var out: [Substring] = []
        for c in path.split(separator: "/") {
            if c == "." || c.isEmpty { continue }
            if c == ".." { _ = out.popLast(); continue }
            out.append(c)
        }
        return out.joined(separator: "/")
    }
}

