import OCICore
import OCIModel

extension ImageStore {
    /// Gives the image `source` resolves to the name `target` (docker tag).
    public func tag(_ source: String, as target: String) throws {
        let image = try resolve(source)
        let name = try ImageReference(parsing: target)
        guard name.digest == nil || name.tag != nil else {
            throw ModelError.invalid("tag \"\(target)\"", "a tag target cannot be a digest reference")
        }
        try updateIndex { index in
            Self.setTag(name, to: image.descriptor, in: &index)
        }
    }

    /// What `remove` did for one reference.
    public enum Removal: Equatable, Sendable {
        case untagged(String)
        case deleted(Digest)
    }

    /// docker rmi: a name removes that tag (and the image entry when it was
    /// the last name); an ID removes the image if it has at most one name,
    /// or all its names with `force`. Blobs stay until `prune`.
    public func remove(_ ref: String, force: Bool = false) throws -> [Removal] {
        let image = try resolve(ref)
        let byName = (try? ImageReference(parsing: ref)).flatMap { r in image.names.contains(r) ? r : nil }
        return try updateIndex { index in
            var out: [Removal] = []
            if let name = byName {
                index.manifests.removeAll { $0.annotations?[AnnotationKey.containerdName] == name.description }
                out.append(.untagged(name.familiarString))
                if !index.manifests.contains(where: { $0.digest == image.manifestDigest }) {
                    out.append(.deleted(image.id))
                }
            } else {
                if image.names.count > 1 && !force {
                    throw StoreError.conflict("unable to delete \(image.id.shortID) (must be forced) - image is referenced in multiple repositories")
                }
                index.manifests.removeAll { $0.digest == image.manifestDigest }
                out += image.names.map { .untagged($0.familiarString) }
                out.append(.deleted(image.id))
            }
            return out
        }
    }
}
