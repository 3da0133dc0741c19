import Foundation
import OCICore
import OCIModel
import OCIImage
import OCIArchive

/// The one copy engine (containers/image's `copy.Image(dest, src)`):
/// source → platform selection → fetch what is not on this machine →
/// optional per-layer re-encoding → optional mutation → destination.
/// `load`, `save`, `convert`, `commit`, `squash`, `config` and `copy` are
/// thin verbs over it.
///
/// Blobs are staged once: in the destination's staging area when it has
/// one (the store's ingest, so accepting them costs a rename), else in a
/// private spool under `tmpdir`, removed at the end, on error and on an
/// interrupt. Nothing reaches the destination before every image has been
/// verified and checked against what the destination can hold.
public enum ImageCopy {
    /// How to copy.
    public struct Options: @unchecked Sendable {
        /// Which platforms of multi-platform images to keep.
        public var platforms: PlatformChoice = .one(nil)
        /// Re-encode layers (`--compress`); nil keeps each as it is.
        public var recode: RecodePlan?
        /// Where the private spool goes (default `$TMPDIR`, else /tmp).
        public var tmpdir: String?
        /// Progress events (start, tasks, blobs, images, warnings).
        public var progress: ProgressScope?
        /// A change made to each image before it is written (commit, squash,
        /// config): gets the image (its layers on this machine) and the
        /// staging area for new blobs.
        public var mutate: ((Image, BlobStore) throws -> MutatedImage)?
        /// Names of the operation for `start` events.
        public var operation = "copy"
        /// Blobs fetched (or pushed) at once.
        public var jobs = 4
        /// Shared by the copies of one run (`sync`): each remote blob is
        /// fetched once, each blob pushed once per registry.
        public var ledger: TransferLedger?

        public init() {}
    }

    /// What a copy did.
    public struct Report: Sendable {
        /// Every image written (children of indexes included).
        public var images: [ImageReport]
        /// What the source held, after selection and changes (as written).
        public var entries: [ImageEntry]
        public var warnings: [String]
        /// Bytes read from the source as stored (fetched blobs included).
        public var bytesIn: Int64
        /// Bytes written (the archive, or new blobs in a store).
        public var bytesOut: Int64
        /// Layers re-encoded.
        public var recodedLayers: Int
        public var seconds: Double
        /// Blobs fetched from a remote source (a registry), and their bytes.
        public var fetchedBlobs = 0
        public var fetchedBytes: Int64 = 0
        /// Blobs the destination wrote (new blobs in a store, uploads to a registry).
        public var blobsOut = 0
    }

    /// Copies what `source` holds to `destination`; closes both.
    /// - Throws: the source's, the transformations' or the destination's
    ///   errors; nothing is left in the destination then.
    @discardableResult
    public static func copy(from source: ImageSource, to destination: ImageDestination, options: Options = Options()) throws -> Report {
        let started = Date()
        defer {
            source.close()
            destination.close()
        }
        var spool: (path: String, token: Cleanup.Token)?
        defer {
            if let spool {
                FS.removeTree(spool.path)
                Cleanup.unregister(spool.token)
            }
        }
        let staging: BlobStore
        if let s = destination.staging {
            staging = s
        } else {
            let base = options.tmpdir ?? Self.defaultTmpdir
            let dir = "\(base)/ocitool-spool-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
            try FS.makeDirectories(dir, mode: 0o700)
            spool = (dir, Cleanup.register(dir))
            staging = BlobStore(root: dir, durable: false, label: "the spool")
        }
        let progress = options.progress
        progress?.start(operation: options.operation, source: source.description, destination: destination.description,
                        totalBytes: (source as? ArchiveSource)?.fileSize)

        // 1. Read (a streamed archive is staged, verified and, with --compress, re-encoded on the way).
        let contents = try source.read(ReadContext(staging: staging, existing: destination.existing,
                                                   recoding: options.recode, progress: progress))
        var warnings = contents.warnings
        // 2. Platforms.
        var entries = try options.platforms.apply(to: contents.entries, source: source.description, warnings: &warnings)
        warnings.forEach { progress?.warning($0) }
        // 3. Blobs that are not on this machine (a registry) are fetched into staging.
        var fetched: [StagedBlob] = []
        defer { fetched.forEach { $0.discard() } }  // adopted ones are gone by then
        var skipping = options.recode == nil ? [] : Set(contents.recoded.keys)
        if let registry = destination as? RegistryDestination, options.recode == nil, options.mutate == nil {
            // A registry destination that has a blob, or can mount it, needs no copy of it here.
            if registry.ledger == nil { registry.ledger = options.ledger }
            skipping.formUnion(try registry.prepare(entries))
        }
        entries = try materialize(entries, into: staging, existing: destination.existing, fetched: &fetched,
                                  skipping: skipping, jobs: options.jobs, ledger: options.ledger, progress: progress,
                                  announce: destination.staging != nil)
        // 4. Layers in another compression are re-encoded.
        var recoder: LayerRecoder?
        defer { recoder?.discard() }
        if let plan = options.recode {
            let r = LayerRecoder(plan: plan, staging: staging, precomputed: contents.recoded)
            r.progress = progress
            recoder = r
            entries = try entries.map { entry in
                let recoded = try r.recode(entry)
                if case let .index(before) = entry, case let .index(after) = recoded, after.absent.count > before.absent.count {
                    let gone = after.absent.dropFirst(before.absent.count).map(\.label)
                    let message = "\(after.displayName): left out of the index (they name manifests that re-encoding changed): \(gone.joined(separator: ", "))"
                    warnings.append(message)
                    progress?.warning(message)
                }
                return recoded
            }
        }
        // 5. Changes (commit, squash, config).
        var made: [StagedBlob] = []
        defer { made.forEach { $0.discard() } }  // adopted ones are gone by then
        if let mutate = options.mutate {
            entries = try entries.map { entry in
                guard case let .image(image) = entry else {
                    throw ImageError.invalid(entry.displayName, "a multi-platform image cannot be changed as a whole; choose one platform with --platform")
                }
                let m = try mutate(image, staging)
                made += m.staged
                return .image(m.image)
            }
        }
        // 6. Check everything, then write.
        try destination.check(entries)
        if let archive = destination as? ArchiveDestination, let spool {
            // Blobs spooled by this copy were hashed as they were written.
            var hashed = Set<Digest>()
            for image in entries.flatMap(\.images) {
                for l in image.layers where image.blobs.path(of: l.digest)?.hasPrefix(spool.path + "/") == true { hashed.insert(l.digest) }
            }
            archive.hashedBlobs = hashed
        }
        let written = try destination.write(entries, progress: progress)
        var report = Report(images: written.images, entries: entries, warnings: warnings, bytesIn: contents.bytesRead,
                            bytesOut: written.bytes, recodedLayers: recoder?.recodedLayers.count ?? 0,
                            seconds: Date().timeIntervalSince(started))
        report.fetchedBlobs = fetched.count
        report.fetchedBytes = fetched.reduce(0) { $0 + $1.size }
        report.bytesIn += report.fetchedBytes
        report.blobsOut = written.blobs
        return report
    }

    /// The entries with every layer blob on this machine: blobs a source
    /// can only stream (a registry) are copied into `staging`, `jobs` at a
    /// time, each digest, size and diff_id checked; blobs the destination
    /// already holds are read from there instead.
    /// - Parameters:
    ///   - skipping: layers a source already re-encoded (the new blob is used),
    ///     or that the destination has (a registry).
    ///   - ledger: shared by the copies of one run: each blob fetched once.
    ///   - announce: emit a `blob` event per fetched layer (it lands in the destination's own staging).
    static func materialize(_ entries: [ImageEntry], into staging: BlobStore, existing: (any BlobSource)? = nil,
                            fetched: inout [StagedBlob], skipping: Set<Digest> = [], jobs: Int = 4,
                            ledger: TransferLedger? = nil, progress: ProgressScope?, announce: Bool = false) throws -> [ImageEntry] {
        var wanted: [(Descriptor, Digest?, any BlobSource, String)] = []
        var files: [Digest: String] = [:]
        var seen = Set<Digest>()
        for image in entries.flatMap(\.images) {
            for (i, layer) in image.layers.enumerated() where image.blobs.path(of: layer.digest) == nil && !skipping.contains(layer.digest) {
                guard seen.insert(layer.digest).inserted else { continue }
                if let p = existing?.path(of: layer.digest) {
                    files[layer.digest] = p
                    continue
                }
                if MediaType.isNondistributable(layer.mediaType) && !image.blobs.contains(layer.digest) { continue }
                let diffID = i < image.diffIDs.count && MediaType.isTarLayer(layer.mediaType) ? image.diffIDs[i] : nil
                wanted.append((layer, diffID, image.blobs, "layer \(layer.digest.shortID) of \(image.displayName)"))
            }
        }
        if !wanted.isEmpty {
            let pool = WorkerPool(threads: jobs, name: "fetch")
            defer { pool.close(cancelQueued: true) }
            let pending = wanted.map { layer, diffID, blobs, what in
                pool.submit(priority: layer.size) { () -> TransferLedger.Fetched in
                    let fetch = { () throws -> StagedBlob in
                        let task = progress?.task(id: layer.digest.description, label: layer.digest.shortID, phase: "fetch", total: layer.size)
                        defer { task?.finish() }
                        return try staging.stage(layer: layer, diffID: diffID, from: blobs, what: what, progress: task?.bytes)
                    }
                    let result: TransferLedger.Fetched
                    if let ledger { result = try ledger.fetch(layer.digest, fetch) } else { result = .staged(try fetch()) }
                    // Fetched into the destination's own staging (the store): written once it commits.
                    if announce { progress?.blob(layer.digest, size: layer.size, mediaType: layer.mediaType) }
                    return result
                }
            }
            var failure: Error?
            for (p, (layer, _, _, _)) in zip(pending, wanted) {
                do {
                    switch try p.wait() {
                    case let .staged(s):
                        fetched.append(s)
                        files[s.digest] = s.path
                    case let .kept(path):
                        files[layer.digest] = path
                    }
                } catch {
                    if failure == nil { failure = error; pool.cancel() }
                }
            }
            if let failure { throw failure }
        }
        guard !files.isEmpty else { return entries }
        func local(_ image: Image) -> Image {
            guard image.layers.contains(where: { files[$0.digest] != nil }) else { return image }
            return image.reading(from: BlobMap(sourceName: image.blobs.sourceName, files: files, fallback: image.blobs))
        }
        return entries.map { e in
            switch e {
            case let .image(i): return .image(local(i))
            case let .index(x): return .index(x.mapping(local))
            }
        }
    }

    /// `$TMPDIR`, else /tmp.
    public static var defaultTmpdir: String {
        let t = ProcessInfo.processInfo.environment["TMPDIR"] ?? ""
        guard !t.isEmpty else { return "/tmp" }
        return t.count > 1 && t.hasSuffix("/") ? String(t.dropLast()) : t
    }
}
