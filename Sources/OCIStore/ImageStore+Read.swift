import OCICore
import OCIModel
import OCIImage

extension ImageStore {
    /// Every image and multi-platform image in the store, once each, with
    /// all its names (sorted; untagged entries have none), in index order.
    /// Each manifest and config is read and its digest checked.
    /// - Throws: `StoreError.unusable` for an unreadable index, blob errors
    ///   naming the entry for a damaged store.
    public func entries() throws -> [ImageEntry] { try entries(from: readIndex()) }

    /// The entries of `index` (one being edited in a `transaction`, or the
    /// store's own), as `entries()` lists them.
    func entries(from index: IndexManifest) throws -> [ImageEntry] {
        var order: [Digest] = []
        var groups: [Digest: (target: (digest: Digest, mediaType: String), platform: Platform?, names: [ImageReference])] = [:]
        for d in index.manifests where !d.isAlias {
            let target = d.storedTarget
            if groups[target.digest] == nil {
                order.append(target.digest)
                groups[target.digest] = (target, d.platform, [])
            }
            if let n = d.storedName, groups[target.digest]?.names.contains(n) == false { groups[target.digest]?.names.append(n) }
        }
        return try order.compactMap { digest in
            guard let g = groups[digest] else { return nil }
            return try load(g.target.digest, mediaType: g.target.mediaType, platform: g.platform,
                            names: g.names.sorted { $0.description < $1.description })
        }
    }

    /// The image or index `ref` names (see `ImageSelector.resolve`).
    /// - Throws: `StoreError.notFound` / `.ambiguous`.
    public func resolve(_ ref: String) throws -> ImageEntry {
        do {
            return try ImageSelector.resolve(ref, in: entries(), source: "the store")
        } catch let ImageError.notFound(r, _) {
            throw StoreError.notFound(r)
        } catch let ImageError.ambiguous(r, ids) {
            throw StoreError.ambiguous(r, ids)
        }
    }

    /// Reads the entry at `digest`: an image, or an index with its children.
    func load(_ digest: Digest, mediaType: String, platform: Platform?, names: [ImageReference]) throws -> ImageEntry {
        let bytes = try document(digest)
        let probe = try CanonicalJSON.decode(MediaTypeProbe.self, from: bytes, what: "\(root): \(digest)")
        if probe.isIndex(listed: mediaType) {
            return .index(try loadIndex(digest, bytes: bytes, names: names))
        }
        var d = Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count))
        d.platform = platform
        return .image(try loadImage(d, bytes: bytes, names: names))
    }

    func loadImage(_ descriptor: Descriptor, bytes: [UInt8], names: [ImageReference]) throws -> Image {
        let what = "\(root): manifest \(descriptor.digest)"
        let manifest = try Document(manifest: bytes, what: what)
        var d = descriptor
        if let t = manifest.view.mediaType, MediaType.isManifest(t) { d.mediaType = t }
        let configBytes = try blobs.read(manifest.view.config, what: "\(root): config \(manifest.view.config.digest)")
        let config = try Document(config: configBytes, what: "\(root): config \(manifest.view.config.digest)")
        return try Image(descriptor: d, manifest: manifest, config: config, names: names, blobs: blobs)
    }

    func loadIndex(_ digest: Digest, bytes: [UInt8], names: [ImageReference]) throws -> ImageIndex {
        let document = try Document(index: bytes, what: "\(root): index \(digest)")
        var children: [Image] = []
        var absent: [ImageIndex.AbsentEntry] = []
        let leaves = try IndexWalk.leaves(of: document.view, what: root) { c in
            blobs.path(of: c.digest) == nil ? nil : try self.document(c.digest)
        }
        for leaf in leaves {
            switch leaf {
            case let .absent(a): absent.append(a)
            case let .manifest(c, childBytes, _): children.append(try loadImage(c, bytes: childBytes, names: []))
            }
        }
        let d = Descriptor(mediaType: document.view.mediaType ?? MediaType.ociIndex, digest: digest, size: document.size)
        return try ImageIndex(descriptor: d, document: document, names: names, children: children, absent: absent)
    }

    /// A manifest or index blob, its digest checked.
    func document(_ digest: Digest) throws -> [UInt8] {
        let bytes = try blobs.read(digest)
        let actual = SHA256Hasher.digest(bytes)
        guard actual == digest else {
            throw ImageError.blobMismatch(digest, what: root, message: "digest mismatch: content is \(actual)")
        }
        return bytes
    }
}
