import Foundation
import OCICore
import OCIModel
import OCIImage
import OCIRegistry

/// A registry repository as a copy destination (`docker://…`, `push`).
///
/// Order of writes: blobs first, several at a time (a blob the repository
/// has is skipped, one another repository of the registry has is mounted,
/// others are uploaded); then each platform manifest by digest; the tag
/// last, so a failed push leaves no tag pointing at a partial image. When
/// the registry already has the manifest (or index) by digest, no blob is
/// looked at: only the tag is set (a second push costs two requests).
///
/// Before the engine fetches remote blobs (a registry source), `prepare`
/// finds which ones the destination has or can mount, so those are never
/// downloaded. With `referrers` set, manifests that refer to what was
/// copied (signatures, SBOMs) follow it (`RegistryReferrers`).
public final class RegistryDestination: ImageDestination, @unchecked Sendable {
    // Mutable state (`counts`, `present`) changes only on the calling
    // thread, between the parallel steps that read it.
    public let reference: ImageReference
    let client: RegistryClient
    /// Repositories of the same registry to mount blobs from.
    public var mountFrom: [String] = []
    /// Blobs in flight at once.
    public var jobs: Int = 4
    /// Shared by the copies of one run (`sync`); nil for a single copy.
    public var ledger: TransferLedger?
    /// Copy the referrers of what is written from this source (same or another registry).
    public var referrers: RegistrySource?
    /// What the last `write` did, blob by blob.
    public private(set) var counts = PushCounts()
    /// Digests found present (or mounted) by `prepare`.
    private var present = Set<Digest>()
    /// Whether the repository holds the top manifest, once asked.
    private var manifestPresent: Bool?

    /// Blobs by what happened to them.
    public struct PushCounts: Sendable, Equatable {
        public var uploaded = 0
        public var mounted = 0
        public var existed = 0
        /// Bytes uploaded (blobs and manifests).
        public var bytes: Int64 = 0
        /// Referrers copied.
        public var referrers = 0
    }

    public init(_ reference: ImageReference, options: RegistryOptions) throws {
        self.reference = reference
        client = try RegistryClient(registry: reference.domain, options: options)
    }

    public var description: String { "docker://" + reference.description }
    public var staging: BlobStore? { nil }
    public var existing: (any BlobSource)? { nil }
    var repository: String { reference.path }
    var registry: String { reference.domain }

    /// The tag written: the reference's (default `latest`); for a digest
    /// reference nothing but the manifest by digest.
    var tag: String? { reference.digest == nil ? (reference.tag ?? ImageReference.defaultTag) : nil }

    /// Repositories of `destination`'s registry that `names` (an image's
    /// names in the store, e.g. where it was pulled from) point at: places
    /// to mount its blobs from.
    public static func mountCandidates(_ names: [ImageReference], for destination: ImageReference) -> [String] {
        var out: [String] = []
        for n in names where n.domain == destination.domain && n.path != destination.path && !out.contains(n.path) { out.append(n.path) }
        return out
    }

    public func check(_ entries: [ImageEntry]) throws {
        guard entries.count == 1 else {
            throw ImageError.invalid(description, "\(entries.count) images cannot all be pushed to one reference; push them one by one or with sync")
        }
        if let want = reference.digest, let entry = entries.first, entry.digest != want {
            throw ImageError.invalid(description, "the image is \(entry.digest), not the digest the destination names")
        }
    }

    /// Of the layers of `entries` that are not on this machine, those the
    /// repository has or that could be mounted from `mountFrom` (or from a
    /// repository the ledger knows): the engine need not fetch them.
    /// Asks `jobs` at a time.
    public func prepare(_ entries: [ImageEntry]) throws -> Set<Digest> {
        guard let entry = entries.first, entries.count == 1 else { return [] }
        if try topManifestPresent(entry) {
            present = Set(entry.images.flatMap { $0.layers.map(\.digest) + [$0.config.digest] })
            return present
        }
        var remote: [Descriptor] = []
        var seen = Set<Digest>()
        for image in entry.images {
            for l in image.layers where image.blobs.path(of: l.digest) == nil && seen.insert(l.digest).inserted { remote.append(l) }
        }
        let found = try parallel(remote, priority: \.size) { [self] layer in try self.makePresent(layer) != nil }
        for (layer, ok) in zip(remote, found) where ok { present.insert(layer.digest) }
        return present
    }

    public func write(_ entries: [ImageEntry], progress: ProgressScope?) throws -> WriteReport {
        try check(entries)
        guard let entry = entries.first else { return WriteReport(images: [], bytes: 0, blobs: 0) }
        counts = PushCounts()
        let names = [reference.withTag(tag ?? reference.tag ?? ImageReference.defaultTag)]
        let there = try topManifestPresent(entry)
        var reports: [ImageReport]
        var subjects = [entry.digest]
        switch entry {
        case let .image(image):
            if !there {
                try pushBlobs(of: [image], progress: progress)
                try putManifest(tag ?? image.digest.description, image.mediaType, image.manifest.bytes, image.digest)
            }
            reports = [image.report(names: names)]
        case let .index(original):
            let x = try original.normalised()
            if !there {
                try pushBlobs(of: x.children, progress: progress)
                for child in x.children { try putManifest(child.digest.description, child.mediaType, child.manifest.bytes, child.digest) }
                try putManifest(tag ?? x.digest.description, x.descriptor.mediaType, x.document.bytes, x.digest)
            }
            reports = x.children.map { $0.report(names: names) }
            subjects += x.children.map(\.digest)
        }
        // The registry had the manifest: only the tag may need moving.
        if there, let tag { try setTag(tag, entry) }
        reports.forEach { progress?.image($0) }
        if let source = referrers {
            counts.referrers = try RegistryReferrers(source: source, destination: self, progress: progress).copy(subjects: subjects)
        }
        return WriteReport(images: reports, bytes: counts.bytes, blobs: counts.uploaded)
    }

    // MARK: manifests

    /// Does the repository hold manifest `digest`?
    func hasManifest(_ digest: Digest) throws -> Bool {
        try client.manifestDescriptor(repository: repository, reference: digest.description) != nil
    }

    /// Does the repository hold the entry's top manifest (asked once)?
    private func topManifestPresent(_ entry: ImageEntry) throws -> Bool {
        if let known = manifestPresent { return known }
        var top = entry.digest
        if case let .index(x) = entry { top = try x.normalised().digest }
        let there = try hasManifest(top)
        manifestPresent = there
        return there
    }

    /// `PUT` of a manifest by tag or digest, checking the digest the registry computed.
    func putManifest(_ reference: String, _ mediaType: String, _ bytes: [UInt8], _ digest: Digest) throws {
        try expect(client.putManifest(repository: repository, reference: reference, mediaType: mediaType, bytes: bytes), digest)
        counts.bytes += Int64(bytes.count)
    }

    /// Points `tag` at the entry, unless it does already.
    private func setTag(_ tag: String, _ entry: ImageEntry) throws {
        switch entry {
        case let .image(i):
            if try client.manifestDescriptor(repository: repository, reference: tag)?.digest == i.digest { return }
            try putManifest(tag, i.mediaType, i.manifest.bytes, i.digest)
        case let .index(x):
            let n = try x.normalised()
            if try client.manifestDescriptor(repository: repository, reference: tag)?.digest == n.digest { return }
            try putManifest(tag, n.descriptor.mediaType, n.document.bytes, n.digest)
        }
    }

    private func expect(_ got: Digest, _ want: Digest) throws {
        guard got == want else {
            throw ImageError.blobMismatch(want, what: description, message: "the registry stored the manifest as \(got)")
        }
    }

    // MARK: blobs

    /// Layers and configs of `images`, each once, `jobs` at a time.
    private func pushBlobs(of images: [Image], progress: ProgressScope?) throws {
        var blobs: [(Descriptor, BlobFile)] = []
        var seen = Set<Digest>()
        for image in images {
            for l in image.layers where seen.insert(l.digest).inserted {
                if MediaType.isNondistributable(l.mediaType) && !image.blobs.contains(l.digest) { continue }
                blobs.append((l, .layer(image.blobs)))
            }
        }
        for image in images where seen.insert(image.config.digest).inserted {
            blobs.append((image.manifest.view.config, .bytes(image.config.bytes)))
        }
        let outcomes = try parallel(blobs, priority: { $0.0.size }) { [self] descriptor, file in
            let outcome = try self.push(descriptor, file, progress: progress)
            progress?.blob(descriptor.digest, size: descriptor.size, mediaType: descriptor.mediaType)
            return outcome
        }
        for ((d, _), outcome) in zip(blobs, outcomes) {
            switch outcome {
            case .uploaded:
                counts.uploaded += 1
                counts.bytes += d.size
            case .mounted: counts.mounted += 1
            case .existed: counts.existed += 1
            }
        }
    }

    /// Where a blob's bytes are.
    enum BlobFile {
        case layer(any BlobSource)
        case bytes([UInt8])
    }

    /// Makes one blob present: skipped, mounted or uploaded (a `push` task).
    private func push(_ d: Descriptor, _ file: BlobFile, progress: ProgressScope?) throws -> BlobPushResult {
        if present.contains(d.digest) { return .existed }
        return try exclusive(d.digest) {
            if let done = try makePresent(d, claimed: true) { return done }
            let path: String
            var spooled: String?
            switch file {
            case let .layer(blobs):
                guard let p = blobs.path(of: d.digest) else { throw ImageError.blobMissing(d.digest, source: blobs.sourceName) }
                path = p
            case let .bytes(bytes):
                let p = "\(ImageCopy.defaultTmpdir)/ocitool-push-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
                let token = Cleanup.register(p)
                defer { Cleanup.unregister(token) }
                try FS.writeAtomically(p, bytes: bytes)
                path = p
                spooled = p
            }
            defer { spooled.map(FS.removeFile) }
            let task = progress?.task(id: d.digest.description, label: d.digest.shortID, phase: "push", total: d.size)
            defer { task?.finish() }
            try client.uploadBlob(repository: repository, descriptor: d, file: path, progress: task?.bytes)
            ledger?.record(d.digest, registry: registry, repository: repository)
            return .uploaded
        }
    }

    /// Skips or mounts `d` without uploading; nil when it must be uploaded.
    private func makePresent(_ d: Descriptor, claimed: Bool = false) throws -> BlobPushResult? {
        let body = { [self] () throws -> BlobPushResult? in
            if ledger?.repositories(holding: d.digest, registry: registry).contains(repository) == true { return .existed }
            if let size = try client.blobSize(repository: repository, digest: d.digest) {
                guard size == d.size else {
                    throw ImageError.blobMismatch(d.digest, what: description, message: "the registry holds \(size) bytes, the manifest says \(d.size)")
                }
                ledger?.record(d.digest, registry: registry, repository: repository)
                return .existed
            }
            let candidates = mountFrom + (ledger?.mountSources(d.digest, registry: registry) ?? [])
            var tried = Set<String>()
            for from in candidates where from != repository && tried.insert(from).inserted {
                if try client.mountBlob(repository: repository, digest: d.digest, from: from) {
                    ledger?.record(d.digest, registry: registry, repository: repository)
                    return .mounted(from: from)
                }
            }
            return nil
        }
        return claimed ? try body() : try exclusive(d.digest, body)
    }

    private func exclusive<T>(_ digest: Digest, _ body: () throws -> T) throws -> T {
        guard let ledger else { return try body() }
        return try ledger.exclusive(digest, registry: registry, body)
    }

    /// Runs `body` over `items`, `jobs` at a time; the first error cancels the rest.
    func parallel<In, Out>(_ items: [In], priority: (In) -> Int64, _ body: @escaping @Sendable (In) throws -> Out) throws -> [Out] {
        guard items.count > 1 else { return try items.map(body) }
        let pool = WorkerPool(threads: min(max(1, jobs), items.count), name: "push")
        defer { pool.close(cancelQueued: true) }
        let box = UncheckedBox(items)
        let pending = items.indices.map { i in pool.submit(priority: priority(items[i])) { try body(box.value[i]) } }
        var out: [Out] = []
        var failure: Error?
        for p in pending {
            do { out.append(try p.wait()) } catch {
                if failure == nil { failure = error; pool.cancel() }
            }
        }
        if let failure { throw failure }
        return out
    }

    public func close() {
        client.shutdown()
    }
}

/// Hands values that are only read to worker threads.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
