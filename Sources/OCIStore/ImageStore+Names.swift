import OCICore
import OCIModel
import OCIImage

/// What `index.json` records for one stored image: the descriptor peers
/// read (a companion for Docker-typed originals), and one per-platform
/// descriptor for each platform of a multi-platform image.
struct StoreTarget {
    /// Unnamed: media type, digest, size, platform, ocitool's annotations.
    var descriptor: Descriptor
    var aliases: [(platform: Platform, descriptor: Descriptor)]

    /// The digest ocitool reads for this target.
    var digest: Digest { descriptor.storedTarget.digest }
}

extension ImageStore {
    /// Gives the image `source` names the name `target` (docker tag). The
    /// source is resolved under the same lock the change is written with
    /// (with the lock held, the index on disk is the one being edited).
    public func tag(_ source: String, as target: String) throws {
        let name = try ImageReference(parsing: target)
        guard name.digest == nil else {
            throw ModelError.invalid("tag \"\(target)\"", "a tag target cannot be a digest reference")
        }
        try transaction { index in
            let entry: ImageEntry
            do { entry = try ImageSelector.resolve(source, in: try entries(from: index), source: "the store") } catch let ImageError.notFound(r, _) {
                throw StoreError.notFound(r)
            } catch let ImageError.ambiguous(r, ids) { throw StoreError.ambiguous(r, ids) }
            let t = try storeTarget(of: entry.digest, in: index)
            TestHook.point("tag-resolved")
            Self.setName(name, to: t, in: &index)
        }
    }

    /// What `remove` did for one reference.
    public enum Removal: Equatable, Sendable {
        case untagged(String)
        case deleted(Digest)
    }

    /// docker rmi: a name removes that name (and the image entry when it was
    /// the last one); an ID removes the image if it has at most one name, or
    /// all its names with `force`. Blobs stay until `prune`.
    public func remove(_ ref: String, force: Bool = false) throws -> [Removal] {
        try transaction { index in
            let entry = try resolve(ref)
            let byName = (try? ImageReference(parsing: ref)).flatMap { r in entry.names.contains(r) ? r : nil }
            var out: [Removal] = []
            if let name = byName {
                Self.removeName(name, from: &index, keepUntagged: false)
                out.append(.untagged(name.familiarString))
                if !index.manifests.contains(where: { $0.storedTarget.digest == entry.digest }) { out.append(.deleted(entry.id)) }
            } else {
                if entry.names.count > 1 && !force {
                    throw StoreError.conflict("unable to delete \(entry.id.shortID) (must be forced) - image is referenced in multiple repositories")
                }
                index.manifests.removeAll { $0.storedTarget.digest == entry.digest }
                out += entry.names.map { .untagged($0.familiarString) }
                out.append(.deleted(entry.id))
            }
            return out
        }
    }

    /// The target an existing entry of `digest` records.
    func storeTarget(of digest: Digest, in index: IndexManifest) throws -> StoreTarget {
        guard let d = index.manifests.first(where: { !$0.isAlias && $0.storedTarget.digest == digest }) else {
            throw StoreError.notFound(digest.description)
        }
        return StoreTarget(descriptor: d.unnamed, aliases: try aliases(of: d.unnamed))
    }

    /// Per-platform descriptors of a peer-facing index (none for a manifest).
    func aliases(of descriptor: Descriptor) throws -> [(platform: Platform, descriptor: Descriptor)] {
        guard MediaType.isIndex(descriptor.mediaType) else { return [] }
        let index = try IndexManifest.parse(try document(descriptor.digest), what: "\(root): index \(descriptor.digest)")
        var out: [(Platform, Descriptor)] = []
        for c in index.manifests where MediaType.isManifest(c.mediaType) {
            guard let p = c.platform, p.os != "unknown",
                  c.annotations?[AnnotationKey.dockerReferenceType] != "attestation-manifest",
                  !out.contains(where: { $0.0 == p }) else { continue }
            var d = Descriptor(mediaType: c.mediaType, digest: c.digest, size: c.size, platform: p)
            if let o = c.annotations?[StoreAnnotation.originalDigest] {
                d.annotations = [StoreAnnotation.originalDigest: o,
                                 StoreAnnotation.originalMediaType: c.annotations?[StoreAnnotation.originalMediaType] ?? c.mediaType]
            }
            out.append((p, d))
        }
        return out
    }

    /// Points `name` at `target` (moving it from another image, which then
    /// stays as an untagged entry if nothing else names it, like docker).
    static func setName(_ name: ImageReference, to target: StoreTarget, in index: inout IndexManifest) {
        let full = name.description
        removeName(name, from: &index, keepUntagged: true)
        var d = target.descriptor
        var ann = d.annotations ?? [:]
        ann[AnnotationKey.containerdName] = full
        ann[AnnotationKey.refName] = full
        d.annotations = ann
        index.manifests.append(d)
        for alias in target.aliases {
            var a = alias.descriptor
            var aa = a.annotations ?? [:]
            aa[AnnotationKey.refName] = StoreAnnotation.alias(name, alias.platform)
            aa[StoreAnnotation.aliasOf] = full
            a.annotations = aa
            index.manifests.append(a)
        }
        // Drop the bare (untagged) entry of the same image, now that it has a name.
        index.manifests.removeAll { $0.storedTarget.digest == target.digest && $0.annotations?[AnnotationKey.refName] == nil }
    }

    /// Records `target` without a name (unless it has one already).
    static func addUntagged(_ target: StoreTarget, to index: inout IndexManifest) {
        guard !index.manifests.contains(where: { !$0.isAlias && $0.storedTarget.digest == target.digest }) else { return }
        index.manifests.append(target.descriptor)
    }

    /// Removes `name` and its per-platform entries. With `keepUntagged` (the
    /// name moves to another image), the image it named stays as an untagged
    /// entry when nothing else names it: docker's dangling image.
    static func removeName(_ name: ImageReference, from index: inout IndexManifest, keepUntagged: Bool) {
        let full = name.description
        guard let old = index.manifests.first(where: { $0.annotations?[AnnotationKey.containerdName] == full }) else { return }
        index.manifests.removeAll { $0.annotations?[AnnotationKey.containerdName] == full || $0.annotations?[StoreAnnotation.aliasOf] == full }
        let target = old.storedTarget.digest
        if keepUntagged && !index.manifests.contains(where: { !$0.isAlias && $0.storedTarget.digest == target }) {
            index.manifests.append(old.unnamed)
        }
    }
}
