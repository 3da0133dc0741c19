import Foundation
import OCICore
import OCIModel
import OCIImage
import OCIRegistry

/// A registry repository as a copy source (`docker://HOST/REPO[:TAG|@DIGEST]`,
/// `pull`): the manifest (or index, with every child manifest and config)
/// is fetched and checked against its digest; layer blobs are read by the
/// copy engine only for the platforms it keeps, streamed into staging
/// several at a time, each digest, size and diff_id verified.
public final class RegistrySource: ImageSource {
    public let reference: ImageReference
    private let client: RegistryClient

    public init(_ reference: ImageReference, options: RegistryOptions) throws {
        self.reference = reference
        client = try RegistryClient(registry: reference.domain, options: options)
    }

    public var description: String { "docker://" + reference.description }

    var repository: String { reference.path }
    var tagOrDigest: String { reference.digest?.description ?? reference.tag ?? ImageReference.defaultTag }

    public func read(_ context: ReadContext) throws -> SourceContents {
        let fetched = try client.manifest(repository: repository, reference: tagOrDigest)
        if let want = reference.digest, fetched.digest != want {
            throw ImageError.blobMismatch(want, what: description, message: "the registry served manifest \(fetched.digest)")
        }
        let blobs = RegistryBlobSource(client: client, repository: repository, name: description)
        let names = reference.tag == nil ? [] : [reference]
        let probe = try CanonicalJSON.decode(MediaTypeProbe.self, from: fetched.bytes, what: "\(description): manifest")
        if probe.isIndex(listed: fetched.mediaType) {
            let document = try Document(index: fetched.bytes, what: "\(description): index")
            var children: [Image] = []
            var absent: [ImageIndex.AbsentEntry] = []
            var warnings: [String] = []
            for c in document.view.manifests {
                guard MediaType.isManifest(c.mediaType) || c.mediaType.isEmpty else {
                    absent.append(.init(descriptor: c, reason: "not an image manifest (\(c.mediaType))"))
                    continue
                }
                let child = try client.manifest(repository: repository, reference: c.digest.description)
                guard child.digest == c.digest, Int64(child.bytes.count) == c.size else {
                    throw ImageError.blobMismatch(c.digest, what: description, message: "the registry served manifest \(child.digest) (\(child.bytes.count) bytes)")
                }
                let manifest = try Document(manifest: child.bytes, what: "\(description): manifest \(c.digest)")
                let configType = manifest.view.config.mediaType
                guard configType == MediaType.ociConfig || configType == MediaType.dockerConfig else {
                    absent.append(.init(descriptor: c, reason: "artifact \(configType)"))
                    continue
                }
                var d = c
                d.mediaType = manifest.view.mediaType ?? child.mediaType
                children.append(try image(d, manifest: manifest, names: [], blobs: blobs))
            }
            if !absent.isEmpty { warnings.append("\(description): left out of the index: \(absent.map(\.label).joined(separator: ", "))") }
            let d = Descriptor(mediaType: probe.mediaType ?? fetched.mediaType, digest: fetched.digest, size: Int64(fetched.bytes.count))
            return SourceContents(entries: [.index(try ImageIndex(descriptor: d, document: document, names: names,
                                                                 children: children, absent: absent))], warnings: warnings)
        }
        let manifest = try Document(manifest: fetched.bytes, what: "\(description): manifest")
        let d = Descriptor(mediaType: manifest.view.mediaType ?? fetched.mediaType, digest: fetched.digest, size: Int64(fetched.bytes.count))
        return SourceContents(entries: [.image(try image(d, manifest: manifest, names: names, blobs: blobs))])
    }

    private func image(_ d: Descriptor, manifest: Document<Manifest>, names: [ImageReference], blobs: RegistryBlobSource) throws -> Image {
        let c = manifest.view.config
        let bytes = try blobs.read(c, what: "\(description): config \(c.digest)")
        return try Image(descriptor: d, manifest: manifest, config: Document(config: bytes, what: "\(description): config \(c.digest)"),
                         names: names, blobs: blobs)
    }

    public func close() { client.shutdown() }
}

/// Blobs of one registry repository, streamed on demand (never a file).
struct RegistryBlobSource: BlobSource {
    let client: RegistryClient
    let repository: String
    let name: String

    var sourceName: String { name }
    func path(of digest: Digest) -> String? { nil }
    func size(of digest: Digest) throws -> Int64? { try client.blobSize(repository: repository, digest: digest) }

    @discardableResult
    func copy(_ digest: Digest, into sink: ByteSink, progress: ByteProgress?) throws -> Int64 {
        guard let size = try client.blobSize(repository: repository, digest: digest) else {
            throw ImageError.blobMissing(digest, source: name)
        }
        return try copy(Descriptor(mediaType: "", digest: digest, size: size), into: sink, progress: progress)
    }

    /// Streams a blob whose descriptor is known (no HEAD first); digest and size checked.
    func copy(_ descriptor: Descriptor, into sink: ByteSink, progress: ByteProgress?) throws -> Int64 {
        let counter = CountingSink(forwardingTo: sink)
        try client.fetchBlob(repository: repository, descriptor: descriptor, into: counter, progress: progress)
        return counter.count
    }
}

/// A registry repository as a copy destination (`docker://…`, `push`):
/// blobs first (HEAD skips what is there, a mount from the source
/// repository when it is the same registry, else an upload), several at a
/// time; then each platform manifest by digest; the tag last, so a failed
/// push leaves no tag pointing at a partial image.
public final class RegistryDestination: ImageDestination {
    public let reference: ImageReference
    private let client: RegistryClient
    /// Repositories of the same registry to mount blobs from.
    public var mountFrom: [String] = []
    /// Blobs in flight at once.
    public var jobs: Int = 4

    public init(_ reference: ImageReference, options: RegistryOptions) throws {
        self.reference = reference
        client = try RegistryClient(registry: reference.domain, options: options)
    }

    public var description: String { "docker://" + reference.description }
    public var staging: BlobStore? { nil }
    public var existing: (any BlobSource)? { nil }
    var repository: String { reference.path }

    public func check(_ entries: [ImageEntry]) throws {
        guard entries.count == 1 else {
            throw ImageError.invalid(description, "\(entries.count) images cannot all be pushed to one reference; push them one by one or with sync")
        }
    }

    public func write(_ entries: [ImageEntry], progress: ProgressScope?) throws -> WriteReport {
        try check(entries)
        guard let entry = entries.first else { return WriteReport(images: [], bytes: 0, blobs: 0) }
        let spool = "\(ImageCopy.defaultTmpdir)/ocitool-push-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let token = Cleanup.register(spool)
        defer {
            FS.removeTree(spool)
            Cleanup.unregister(token)
        }
        try FS.makeDirectories(spool, mode: 0o700)
        var counts = PushCounts()
        let images = entry.images
        // Blobs of every image, each once.
        var layers: [(Descriptor, any BlobSource)] = []
        var seen = Set<Digest>()
        for image in images {
            for l in image.layers where seen.insert(l.digest).inserted {
                if MediaType.isNondistributable(l.mediaType) && !image.blobs.contains(l.digest) { continue }
                layers.append((l, image.blobs))
            }
        }
        try pushLayers(layers, progress: progress, counts: &counts)
        for image in images where seen.insert(image.config.digest).inserted {
            try pushBytes(image.config.bytes, image.manifest.view.config, spool: spool, counts: &counts)
        }
        var reports: [ImageReport] = []
        switch entry {
        case let .image(image):
            let tag = reference.digest == nil ? (reference.tag ?? ImageReference.defaultTag) : image.digest.description
            let digest = try client.putManifest(repository: repository, reference: tag, mediaType: image.mediaType, bytes: image.manifest.bytes)
            try expect(digest, image.digest)
            counts.bytes += image.manifest.size
            reports.append(image.report(names: [reference.withTag(reference.tag ?? ImageReference.defaultTag)]))
        case let .index(index):
            let x = try index.normalised()
            for child in x.children {
                let digest = try client.putManifest(repository: repository, reference: child.digest.description,
                                                    mediaType: child.mediaType, bytes: child.manifest.bytes)
                try expect(digest, child.digest)
                counts.bytes += child.manifest.size
            }
            let tag = reference.digest == nil ? (reference.tag ?? ImageReference.defaultTag) : x.digest.description
            let digest = try client.putManifest(repository: repository, reference: tag, mediaType: x.descriptor.mediaType,
                                                bytes: x.document.bytes)
            try expect(digest, x.digest)
            counts.bytes += x.document.size
            reports += x.children.map { $0.report(names: [reference]) }
        }
        reports.forEach { progress?.image($0) }
        return WriteReport(images: reports, bytes: counts.bytes, blobs: counts.uploaded)
    }

    struct PushCounts {
        var bytes: Int64 = 0
        var uploaded = 0
    }

    private func expect(_ got: Digest, _ want: Digest) throws {
        guard got == want else {
            throw ImageError.blobMismatch(want, what: description, message: "the registry stored the manifest as \(got)")
        }
    }

    /// Pushes layer files `jobs` at a time.
    private func pushLayers(_ layers: [(Descriptor, any BlobSource)], progress: ProgressScope?, counts: inout PushCounts) throws {
        let pool = WorkerPool(threads: jobs, name: "push")
        defer { pool.close(cancelQueued: true) }
        let client = self.client, repository = self.repository, mounts = mountFrom
        let pending = layers.map { layer, blobs in
            pool.submit(priority: layer.size) { () -> BlobPushResult in
                guard let file = blobs.path(of: layer.digest) else { throw ImageError.blobMissing(layer.digest, source: blobs.sourceName) }
                let task = progress?.task(id: layer.digest.description, label: layer.digest.shortID, phase: "push", total: layer.size)
                defer { task?.finish() }
                return try client.pushBlob(repository: repository, descriptor: layer, file: file, mountFrom: mounts, progress: task?.bytes)
            }
        }
        for (p, (layer, _)) in zip(pending, layers) {
            if case .uploaded = try p.wait() {
                counts.uploaded += 1
                counts.bytes += layer.size
            }
            progress?.blob(layer.digest, size: layer.size, mediaType: layer.mediaType)
        }
    }

    private func pushBytes(_ bytes: [UInt8], _ descriptor: Descriptor, spool: String, counts: inout PushCounts) throws {
        let file = "\(spool)/\(descriptor.digest.encoded)"
        try FS.writeAtomically(file, bytes: bytes)
        if case .uploaded = try client.pushBlob(repository: repository, descriptor: descriptor, file: file, mountFrom: mountFrom) {
            counts.uploaded += 1
            counts.bytes += descriptor.size
        }
    }

    public func close() { client.shutdown() }
}
