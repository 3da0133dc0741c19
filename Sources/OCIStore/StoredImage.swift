import OCICore
import OCIModel

/// An image in the store: its manifest and config (raw bytes and decoded
/// views) and the names that point at it.
public struct StoredImage: Sendable {
    /// The manifest descriptor as recorded in `index.json` (annotations stripped).
    public let descriptor: Descriptor
    public let names: [ImageReference]
    public let manifestBytes: [UInt8]
    public let manifest: Manifest
    public let configBytes: [UInt8]
    public let config: ImageConfig

    /// The image ID docker shows: the config digest.
    public var id: Digest { manifest.config.digest }
    /// The manifest digest (the "repo digest").
    public var manifestDigest: Digest { descriptor.digest }
    /// Sum of the layer blob sizes plus the config, as stored.
    public var storedSize: Int64 { manifest.layers.reduce(manifest.config.size) { $0 + $1.size } }
}

extension ImageStore {
    /// Loads one image by manifest descriptor, verifying the manifest's and
    /// config's digests and sizes.
    public func image(for descriptor: Descriptor, names: [ImageReference] = []) throws -> StoredImage {
        let mbytes = try blobs.read(descriptor.digest)
        try Self.verify(mbytes, descriptor.digest, what: "manifest \(descriptor.digest)")
        let manifest = try Manifest.parse(mbytes, what: "manifest \(descriptor.digest)")
        let cbytes = try blobs.read(manifest.config.digest)
        try Self.verify(cbytes, manifest.config.digest, what: "config \(manifest.config.digest)")
        let config = try ImageConfig.parse(cbytes, what: "config \(manifest.config.digest)")
        var d = descriptor
        d.annotations = nil
        return StoredImage(descriptor: d, names: names, manifestBytes: mbytes, manifest: manifest, configBytes: cbytes, config: config)
    }

    static func verify(_ bytes: [UInt8], _ digest: Digest, what: String) throws {
        let actual = SHA256Hasher.digest(bytes)
        guard actual == digest else { throw StoreError.digestMismatch(what: what, expected: digest, actual: actual) }
    }

    /// Every image in the store, one per manifest, with all its names
    /// (sorted by name; untagged images last).
    public func images() throws -> [StoredImage] {
        let index = try readIndex()
        var order: [Digest] = []
        var byDigest: [Digest: (Descriptor, [ImageReference])] = [:]
        for d in index.manifests where MediaType.isManifest(d.mediaType) || d.mediaType.isEmpty {
            let name = d.annotations?[AnnotationKey.containerdName].flatMap { try? ImageReference(parsing: $0, defaultTag: false) }
            if byDigest[d.digest] == nil {
                order.append(d.digest)
                byDigest[d.digest] = (d, [])
            }
            if let name { byDigest[d.digest]!.1.append(name) }
        }
        return try order.map { digest in
            let (d, names) = byDigest[digest]!
            return try image(for: d, names: names.sorted { $0.description < $1.description })
        }
    }

    /// Resolves a user reference: `name`, `name:tag`, `host:port/path:tag`,
    /// `name@sha256:…` (manifest digest), `sha256:<id>` or an image-ID
    /// prefix of at least 12 hex characters.
    public func resolve(_ ref: String) throws -> StoredImage {
        let all = try images()
        let hex = ref.hasPrefix("sha256:") ? String(ref.dropFirst(7)) : ref
        let isHex = !hex.isEmpty && hex.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
        if isHex && (hex.count >= 12 || ref.hasPrefix("sha256:")) {
            let matches = all.filter { $0.id.encoded.hasPrefix(hex) || $0.manifestDigest.encoded.hasPrefix(hex) }
            let ids = Set(matches.map(\.id))
            if ids.count == 1 { return matches[0] }
            if ids.count > 1 { throw StoreError.ambiguous(ref, ids.map { $0.shortID }.sorted()) }
        }
        guard let parsed = try? ImageReference(parsing: ref) else { throw StoreError.notFound(ref) }
        if let digest = parsed.digest {
            if let m = all.first(where: { $0.manifestDigest == digest && $0.names.contains { $0.name == parsed.name } })
                ?? all.first(where: { $0.manifestDigest == digest }) {
                return m
            }
            throw StoreError.notFound(ref)
        }
        if let m = all.first(where: { $0.names.contains(parsed) }) { return m }
        throw StoreError.notFound(ref)
    }
}
