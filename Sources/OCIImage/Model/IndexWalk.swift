import OCICore
import OCIModel

/// The image manifests an index lists, in order, with nested indexes
/// flattened into their parent (at most 8 levels) — how every reader of
/// indexes (archives, the store) turns one into an `ImageIndex`.
package enum IndexWalk {
    /// One entry reached.
    package enum Leaf {
        /// An image manifest: its entry, bytes and parsed view.
        case manifest(Descriptor, [UInt8], Manifest)
        /// An entry that is not an image here (absent, an artifact).
        case absent(ImageIndex.AbsentEntry)
    }

    /// Walks `document`'s entries; `read` gives a listed document's bytes
    /// (size-checked by the caller), or nil when it is absent.
    /// - Throws: `ImageError.invalid` for indexes nested more than 8 deep; parse errors naming `what`.
    package static func leaves(of document: IndexManifest, what: String, read: (Descriptor) throws -> [UInt8]?) throws -> [Leaf] {
        var out: [Leaf] = []
        var queue: [(Descriptor, Int)] = document.manifests.map { ($0, 0) }
        var i = 0
        while i < queue.count {
            let (c, depth) = queue[i]
            i += 1
            guard let bytes = try read(c) else {
                out.append(.absent(.init(descriptor: c, reason: "manifest absent")))
                continue
            }
            let probe = try CanonicalJSON.decode(MediaTypeProbe.self, from: bytes, what: "\(what): \(c.digest)")
            if probe.isIndex(listed: c.mediaType) {
                guard depth < 8 else { throw ImageError.invalid(what, "image indexes nested more than 8 deep") }
                queue += try IndexManifest.parse(bytes, what: "\(what): index \(c.digest)").manifests.map { ($0, depth + 1) }
                continue
            }
            let manifest = try Manifest.parse(bytes, what: "\(what): manifest \(c.digest)")
            let configType = manifest.config.mediaType
            guard configType == MediaType.ociConfig || configType == MediaType.dockerConfig else {
                out.append(.absent(.init(descriptor: c, reason: "artifact \(configType)")))
                continue
            }
            var d = c
            d.mediaType = [probe.mediaType, manifest.mediaType, c.mediaType].compactMap { $0 }.first(where: { MediaType.isManifest($0) })
                ?? MediaType.ociManifest
            out.append(.manifest(d, bytes, manifest))
        }
        return out
    }
}
