import OCICore
import OCIModel
import OCIImage

/// What one pass over an archive found: every regular member hashed and
/// staged (or recognised as already held by the destination), links
/// between members, and the metadata documents.
final class ScannedArchive {
    /// Facts about one distinct blob of the archive.
    struct Blob: Sendable {
        let digest: Digest
        let size: Int64
        let compression: Compression
        /// Digest of the decompressed content for gzip/zstd blobs.
        let uncompressedDigest: Digest?
        /// Why decompression failed, if it did.
        let decodeError: String?
        /// Staging file, or nil when the destination already held the blob.
        let staged: StagedBlob?
        /// The first member it came from (for messages).
        let member: String
        /// With recoding while reading: the blob in the target compression,
        /// staged instead of the original bytes.
        var recoded: RecodedLayer? = nil

        /// The diff_id this blob would have as a layer, if it can be a layer.
        var diffID: Digest? { compression == .none ? digest : uncompressedDigest }
    }

    let name: String
    let staging: BlobStore
    let existing: (any BlobSource)?
    /// Normalised member path → blob digest.
    var members: [String: Digest] = [:]
    /// Normalised member path → normalised target path (sym and hard links).
    private(set) var links: [String: String] = [:]
    var blobs: [Digest: Blob] = [:]
    /// Metadata documents by normalised path (`manifest.json`, `index.json`, …).
    private(set) var documents: [String: [UInt8]] = [:]
    /// Sparse members seen (never staged: image archives do not use them).
    private(set) var sparseMembers: Set<String> = []

    static let metadataNames: Set<String> = ["manifest.json", "index.json", "oci-layout", "repositories"]

    init(name: String, staging: BlobStore, existing: (any BlobSource)?) {
        self.name = name
        self.staging = staging
        self.existing = existing
    }

    /// Reads every member of `source` once.
    static func scan(_ source: MemberSource, context: ReadContext) throws -> ScannedArchive {
        let scan = ScannedArchive(name: source.name, staging: context.staging, existing: context.existing)
        let progress = context.progress
        if let recoding = context.recoding { scan.recodePool = RecodePool(workers: recoding.layersAtOnce) }
        do {
            // The largest layer first (see `largestLayer`): staged before the
            // scan, from its place in the file, and passed over when the scan gets there.
            var early: (offset: Int64, digest: Digest)?
            if context.recoding == nil, let reader = source as? TarReader, let first = largestLayer(of: reader) {
                let task = progress?.task(id: first.path, label: first.path, phase: "read", total: first.location.size)
                let blob = try scan.ingest(LocatedMember(name: source.name, path: first.path, location: first.location),
                                           path: first.path, size: first.location.size, task: task)
                task?.finish()
                early = (first.location.offset, blob.digest)
            }
            while let entry = try source.next() {
                let path = entry.normalizedPath
                switch entry.kind {
                case .regular:
                    if let e = early, (source as? LocatableMemberSource)?.location(size: entry.size)?.offset == e.offset {
                        scan.members[path] = e.digest
                        continue
                    }
                    if entry.sparseRegions != nil {
                        // Never expanded: a 10 KB member could claim exabytes of holes.
                        scan.sparseMembers.insert(path)
                        continue
                    }
                    if metadataNames.contains(path) {
                        let sink = MemorySink(limit: DocumentLimit.bytes, context: "\(source.name): \(path)")
                        try source.readData(into: sink)
                        scan.documents[path] = sink.bytes
                    } else if let recoding = context.recoding {
                        _ = try scan.ingestRecoding(source, path: path, size: entry.size, plan: recoding, progress: progress)
                    } else {
                        let task = progress?.task(id: path, label: path, phase: "read", total: entry.size)
                        _ = try scan.ingest(source, path: path, size: entry.size, task: task)
                        task?.finish()
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

    /// The member to stage before the others when `reader` reads a plain
    /// tar file (which can be read out of order): its largest member when
    /// that is a gzip or zstd blob of at least 32 MiB. Its inflate is the
    /// longest single job of a load and would otherwise start only when the
    /// scan reaches it, often last (layers are written in stack order, the
    /// base layer is often the largest), and then run alone on one core.
    /// Only headers are read (libarchive seeks over the data); nil for any
    /// doubt: more than 4,096 members, a header error, another kind of input.
    static func largestLayer(of reader: TarReader) -> (path: String, location: MemberLocation)? {
        guard let file = reader.filePath, let headers = try? TarReader(path: file, limits: reader.limits) else { return nil }
        var best: (path: String, location: MemberLocation)?
        var count = 0
        while let e = try? headers.next() {
            count += 1
            guard count <= 4096 else { return nil }
            let path = e.normalizedPath
            guard e.kind == .regular, !e.isSparse, !metadataNames.contains(path), e.size > best?.location.size ?? (32 << 20),
                  let location = headers.location(size: e.size) else { continue }
            best = (path, location)
        }
        guard let best, startsCompressed(best.location) else { return nil }
        return best
    }

    /// Whether the member at `location` starts as a gzip or zstd stream.
    static func startsCompressed(_ location: MemberLocation) -> Bool {
        guard let head = try? head(of: location) else { return false }
        return [.gzip, .zstd].contains(Compression.detect(head))
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
        // writes; a large compressed blob's diff_id is computed by `verifier`
        // from the staging file, read as it grows (the job starts before the
        // first byte is written), so layers inflate in parallel with each
        // other and with the reading of the archive.
        // A compressed blob read from a file is hashed on this thread: other
        // cores are busy inflating layers, and handing its bytes to a hashing
        // thread would only add a copy. Others (a plain tar layer, or bytes
        // whose compression is not known yet) are hashed on another core.
        let parallel = size >= 4 << 20
        let compressed = parallel && ((source as? LocatableMemberSource)?.location(size: size).map(Self.startsCompressed) ?? false)
        let writer = try staging.beginStaging(parallel: parallel && !compressed, follow: parallel)
        let digester = LayerDigester(context: "\(name): \(path)", decode: !parallel)
        do {
            let ticket = try writer.growth.map { try verifier.follow(path: writer.path, growth: $0, context: "\(name): \(path)") }
            let counted: ByteSink = task.map { CountingSink(forwardingTo: TeeSink(writer, digester), progress: $0.bytes) } ?? TeeSink(writer, digester)
            try source.readData(into: counted)
            try digester.finish()
            let staged = try writer.close()
            if let known = blobs[staged.digest] {
                staged.discard()
                members[path] = staged.digest
                return known
            }
            let keep = existing?.path(of: staged.digest) == nil
            if !keep { staged.discard() }
            let blob = Blob(digest: staged.digest, size: staged.size, compression: digester.compression ?? .none,
                            uncompressedDigest: digester.uncompressedDigest, decodeError: digester.decodeError,
                            staged: keep ? staged : nil, member: path)
            blobs[staged.digest] = blob
            members[path] = staged.digest
            if parallel && (blob.compression == .gzip || blob.compression == .zstd) {
                // The followed bytes are the staged bytes, hashed to `blob.digest`
                // (also when the destination holds the blob and the file is gone).
                if let ticket {
                    verifier.assign(ticket, to: blob.digest)
                } else if let file = keep ? staged.path : existing?.path(of: staged.digest) {
                    verifier.submit(blob.digest, path: file, context: "\(name): \(path)")
                }
            }
            return blob
        } catch {
            writer.abandon()
            throw error
        }
    }

    /// Removes every staging file of this scan that is still there (those
    /// a destination renamed into place are gone already).
    func discard() {
        for b in blobs.values {
            b.staged?.discard()
            b.recoded?.staged.discard()
        }
    }

    /// Resolves a member path through links (at most 16 hops) to its blob.
    func blob(atMember rawPath: String) -> Blob? {
        var path = ScannedArchive.resolveDots(rawPath)
        for _ in 0..<16 {
            if let d = members[path] { return blobs[d] }
            guard let next = links[path] else { return nil }
            path = next
        }
        return nil
    }

    /// The blob with `digest`, from this archive.
    func blob(_ digest: Digest) -> Blob? { blobs[digest] }

    /// Is the blob in the archive or held by the destination?
    func has(_ digest: Digest) -> Bool { blobs[digest] != nil || existing?.path(of: digest) != nil }

    /// Where the images of this archive read their blobs: the staged files,
    /// then what the destination already held.
    var blobSource: BlobMap {
        var files: [Digest: String] = [:]
        for (d, b) in blobs { if let s = b.staged { files[d] = s.path } }
        return BlobMap(sourceName: name, files: files, fallback: existing)
    }

    /// Layers re-encoded while reading, by original digest.
    var recodedLayers: [Digest: RecodedLayer] {
        var out: [Digest: RecodedLayer] = [:]
        for (d, b) in blobs { if let r = b.recoded { out[d] = r } }
        return out
    }

    /// Reads a small blob's bytes (from staging or the destination).
    func bytes(of digest: Digest, member: String) throws -> [UInt8]? {
        if let b = blobs[digest] {
            guard b.size <= Int64(DocumentLimit.bytes) else {
                throw ArchiveError.member(archive: name, member: b.member, message: "\(b.size) bytes is too large for a JSON document")
            }
            if let s = b.staged { return try FS.readFile(s.path, limit: DocumentLimit.bytes) }
            if b.recoded != nil {
                throw ArchiveError.member(archive: name, member: b.member, message: "a layer blob is used as a JSON document")
            }
        }
        guard let p = existing?.path(of: digest) else { return nil }
        return try FS.readFile(p, limit: DocumentLimit.bytes)
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
