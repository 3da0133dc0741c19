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
public final class RegistrySource: ImageSource, @unchecked Sendable {
    public let reference: ImageReference
    let client: RegistryClient

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
        blobs.sizes.note([c] + manifest.view.layers)
        let bytes = try blobs.read(c, what: "\(description): config \(c.digest)")
        return try Image(descriptor: d, manifest: manifest, config: Document(config: bytes, what: "\(description): config \(c.digest)"),
                         names: names, blobs: blobs)
    }

    public func close() { client.shutdown() }
}

/// Blobs of one registry repository, streamed on demand (never a file).
/// Sizes come from the manifests read (no `HEAD` before each fetch); the
/// fetch checks them, and the digest, as the bytes arrive.
struct RegistryBlobSource: BlobSource {
    let client: RegistryClient
    let repository: String
    let name: String
    let sizes = SizeTable()

    var sourceName: String { name }
    func path(of digest: Digest) -> String? { nil }
    func size(of digest: Digest) throws -> Int64? { try client.blobSize(repository: repository, digest: digest) }

    @discardableResult
    func copy(_ digest: Digest, into sink: ByteSink, progress: ByteProgress?) throws -> Int64 {
        guard let size = try sizes[digest] ?? client.blobSize(repository: repository, digest: digest) else {
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

/// Blob sizes the manifests of a source declare. Thread-safe.
final class SizeTable: @unchecked Sendable {
    private let lock = NSLock()
    private var sizes: [Digest: Int64] = [:]

    func note(_ descriptors: [Descriptor]) {
        lock.withLock { for d in descriptors where d.size >= 0 { sizes[d.digest] = d.size } }
    }

    subscript(_ digest: Digest) -> Int64? { lock.withLock { sizes[digest] } }
}
