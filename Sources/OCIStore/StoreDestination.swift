import OCICore
import OCIModel
import OCIImage

/// The store as a copy destination (`load`, `pull`, `commit`, `copy … NAME`).
///
/// Sources stage their blobs in the store's own ingest area, so writing
/// adopts them by renaming; blobs from elsewhere are copied in (their
/// digests checked). Everything is published and named in one transaction:
/// the index never names a blob that is not there. Docker-typed images get
/// an OCI companion manifest (and index) for peers; multi-platform images a
/// per-platform entry per name (see `ImageStore`).
public final class StoreDestination: ImageDestination {
    public let store: ImageStore
    /// Names given to every entry written, instead of their own (a `copy SRC NAME`).
    public let names: [ImageReference]?
    private var lease: StoreLease?

    /// Takes a lease on the store (see `StoreLease`): call `close()` when done.
    public init(store: ImageStore, names: [ImageReference]? = nil) throws {
        self.store = store
        self.names = names
        lease = try store.lease()
    }

    public var description: String { store.root }
    public var staging: BlobStore? { store.blobs }
    public var existing: (any BlobSource)? { store.blobs }

    public func check(_ entries: [ImageEntry]) throws {
        if let names, !names.isEmpty, entries.count > 1 {
            throw ImageError.invalid(store.root, "\(entries.count) images cannot all be named \(names.map(\.familiarString).joined(separator: ", "))")
        }
    }

    public func write(_ entries: [ImageEntry], progress: ProgressScope?) throws -> WriteReport {
        try check(entries)
        var plan = StorePlan(store: store)
        defer { plan.discard() }
        var targets: [(StoreTarget, [ImageReference])] = []
        for entry in entries {
            let named = names.map { entry.named($0) } ?? entry
            targets.append((try plan.add(named), named.names))
        }
        TestHook.point("store-staged")
        try store.transaction(creating: true) { index in
            try store.blobs.publish(plan.staged)
            plan.published()
            for digest in plan.required where store.blobs.path(of: digest) == nil {
                throw ImageError.blobMissing(digest, source: "the store")
            }
            for (target, names) in targets {
                if names.isEmpty {
                    ImageStore.addUntagged(target, to: &index)
                } else {
                    for n in names { ImageStore.setName(n, to: target, in: &index) }
                }
            }
        }
        let reports = entries.flatMap { entry in (names.map { entry.named($0) } ?? entry).reports }
        reports.forEach { progress?.image($0) }
        return WriteReport(images: reports, bytes: plan.newBytes, blobs: plan.newBlobs)
    }

    public func close() {
        lease?.release()
        lease = nil
    }

    deinit { close() }
}

/// The blobs one store write stages, and the targets it records.
struct StorePlan {
    let store: ImageStore
    private(set) var staged: [StagedBlob] = []
    /// Every blob the written entries need (checked present before naming).
    private(set) var required = Set<Digest>()
    private(set) var newBytes: Int64 = 0
    private(set) var newBlobs = 0
    private var planned = Set<Digest>()
    private var done = false

    init(store: ImageStore) { self.store = store }

    /// Stages what `entry` needs and returns what the index records for it.
    mutating func add(_ entry: ImageEntry) throws -> StoreTarget {
        switch entry {
        case let .image(image):
            return StoreTarget(descriptor: try add(image).peer, aliases: [])
        case let .index(original):
            let index = try original.normalised()
            var peerChildren: [Descriptor] = []
            var companion = MediaType.isDocker(index.descriptor.mediaType)
            var aliases: [(Platform, Descriptor)] = []
            for child in index.children {
                let (peer, hasCompanion) = try add(child)
                companion = companion || hasCompanion
                var entry = peer
                entry.platform = child.descriptor.platform ?? child.platform
                var ann = child.descriptor.annotations ?? [:]
                for (k, v) in peer.annotations ?? [:] { ann[k] = v }
                entry.annotations = ann.isEmpty ? nil : ann
                peerChildren.append(entry)
                if let p = entry.platform, !child.isAttestation, !aliases.contains(where: { $0.0 == p }) {
                    var a = peer
                    a.platform = p
                    aliases.append((p, a))
                }
            }
            try document(index.document.bytes, index.descriptor.digest)
            guard companion else { return StoreTarget(descriptor: index.descriptor, aliases: aliases) }
            // An OCI index over the children's companions, for peers.
            var object = try CanonicalJSON.object(from: index.document.bytes, what: "index \(index.digest)") as? [String: Any] ?? [:]
            object["mediaType"] = MediaType.ociIndex
            object["schemaVersion"] = 2
            object["manifests"] = try peerChildren.map { try CanonicalJSON.object(from: CanonicalJSON.encode($0), what: "descriptor") }
            let bytes = try CanonicalJSON.encode(object: object)
            let digest = SHA256Hasher.digest(bytes)
            try document(bytes, digest)
            var peer = Descriptor(mediaType: MediaType.ociIndex, digest: digest, size: Int64(bytes.count))
            peer.annotations = [StoreAnnotation.originalDigest: index.digest.description,
                                StoreAnnotation.originalMediaType: index.descriptor.mediaType]
            return StoreTarget(descriptor: peer, aliases: aliases)
        }
    }

    /// Stages an image's blobs; returns the descriptor peers read (with the
    /// original's annotations when it is a companion).
    private mutating func add(_ image: Image) throws -> (peer: Descriptor, companion: Bool) {
        try document(image.config.bytes, image.config.digest)
        try document(image.manifest.bytes, image.digest)
        for layer in image.layers {
            if MediaType.isNondistributable(layer.mediaType) && !image.blobs.contains(layer.digest) { continue }
            try blob(layer, from: image.blobs)
        }
        var original = image.descriptor
        original.annotations = nil
        original.platform = nil
        original.mediaType = image.mediaType
        guard image.isDockerFamily else { return (original, false) }
        let companion = try ManifestRewrite.convertedToOCI(image)
        try document(companion.manifest.bytes, companion.digest)
        var peer = Descriptor(mediaType: MediaType.ociManifest, digest: companion.digest, size: companion.manifest.size)
        peer.annotations = [StoreAnnotation.originalDigest: image.digest.description,
                            StoreAnnotation.originalMediaType: image.mediaType]
        return (peer, true)
    }

    /// Stages a JSON document unless the store has it.
    private mutating func document(_ bytes: [UInt8], _ digest: Digest) throws {
        required.insert(digest)
        guard planned.insert(digest).inserted, store.blobs.path(of: digest) == nil else { return }
        let s = try store.blobs.stage(bytes: bytes)
        staged.append(s)
        newBytes += s.size
        newBlobs += 1
    }

    /// Stages a layer: adopted when a source staged it in the store's
    /// ingest area, skipped when present, else copied in and checked.
    private mutating func blob(_ layer: Descriptor, from source: any BlobSource) throws {
        required.insert(layer.digest)
        guard planned.insert(layer.digest).inserted, store.blobs.path(of: layer.digest) == nil else { return }
        if let p = source.path(of: layer.digest), PathString(p).deletingLastComponent == store.blobs.ingestDirectory {
            staged.append(StagedBlob(adopting: p, digest: layer.digest, size: layer.size))
        } else {
            staged.append(try store.blobs.stage(copyOf: layer, from: source))
        }
        newBytes += layer.size
        newBlobs += 1
    }

    mutating func published() { done = true }

    /// Removes what was staged here when the write did not complete
    /// (adopted files belong to their source, which removes them).
    func discard() {
        guard !done else { return }
        for s in staged where !s.isAdopted { s.discard() }
    }
}
