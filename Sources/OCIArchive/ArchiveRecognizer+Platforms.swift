import OCICore
import OCIModel
import OCIStore

/// A multi-platform index found with `allPlatforms`: the index as read and
/// the platform manifests kept (present with all their blobs).
struct RecognisedIndex {
    /// The descriptor `index.json` lists (with the names' annotations).
    var descriptor: Descriptor
    var bytes: [UInt8]
    var names: [ImageReference]
    /// Kept entries, as the index lists them (platform, annotations), in order.
    var children: [Descriptor]
    /// What was left out, for messages: `linux/arm64 (manifest absent)`.
    var pruned: [String]
}

/// `--all-platforms`: instead of choosing one manifest of an image index,
/// keep every platform whose manifest, config and layers are all in the
/// archive, and drop (prune) the others: sparse saves name platforms they
/// do not carry, and a written index must never point at missing blobs.
/// Attestation manifests (BuildKit's `unknown/unknown` entries) are dropped
/// too: they name image manifests by digest, which re-encoding changes.
/// Nested indexes are flattened into their parent.
extension ArchiveRecognizer {
    mutating func collectAllPlatforms(_ d: Descriptor, bytes: [UInt8], index: ImageIndex, names: [ImageReference],
                                      member: String, depth: Int, into images: inout [LoadedImage]) throws {
        var kept: [Descriptor] = []
        var pruned: [String] = []
        try gatherPlatforms(index, member: member, depth: depth, kept: &kept, pruned: &pruned, into: &images)
        let who = names.first?.familiarString ?? d.digest.shortID
        if !pruned.isEmpty {
            warnings.append("\(who): left out of the index (not in the archive, or not an image): \(pruned.joined(separator: ", "))")
        }
        guard !kept.isEmpty else {
            warnings.append("\(who): no platform of index \(d.digest.shortID) is in the archive; image skipped")
            return
        }
        platformIndexes.append(RecognisedIndex(descriptor: d, bytes: bytes, names: names, children: kept, pruned: pruned))
    }

    private mutating func gatherPlatforms(_ index: ImageIndex, member: String, depth: Int, kept: inout [Descriptor],
                                          pruned: inout [String], into images: inout [LoadedImage]) throws {
        guard depth < 8 else { throw ArchiveError.archive(archive: name, message: "image indexes nested more than 8 deep") }
        for c in index.manifests {
            let label = c.platform?.description ?? c.digest.shortID
            if isAttestation(c) {
                pruned.append("\(c.digest.shortID) (attestation)")
                continue
            }
            let childMember = "blobs/\(c.digest.algorithm)/\(c.digest.encoded)"
            guard let bytes = try readDocument(c, member: childMember) else {
                pruned.append("\(label) (manifest absent)")
                continue
            }
            let probe = try CanonicalJSON.decode(MediaTypeProbe.self, from: bytes, what: "\(name): \(childMember)")
            if MediaType.isIndex(c.mediaType) || MediaType.isIndex(probe.mediaType) || (probe.manifests != nil && probe.config == nil) {
                let nested = try ImageIndex.parse(bytes, what: "\(name): \(childMember)")
                try gatherPlatforms(nested, member: childMember, depth: depth + 1, kept: &kept, pruned: &pruned, into: &images)
                continue
            }
            let manifest = try Manifest.parse(bytes, what: "\(name): \(childMember)")
            let configType = manifest.config.mediaType
            guard configType == MediaType.ociConfig || configType == MediaType.dockerConfig else {
                pruned.append("\(label) (artifact \(configType))")
                continue
            }
            if let missing = firstMissingBlob(manifest) {
                pruned.append("\(label) (blob \(missing.shortID) absent)")
                continue
            }
            let mediaType = [probe.mediaType, manifest.mediaType, c.mediaType].compactMap { $0 }.first(where: { MediaType.isManifest($0) }) ?? MediaType.ociManifest
            var desc = Descriptor(mediaType: mediaType, digest: c.digest, size: c.size)
            desc.platform = c.platform
            let image = try verified(manifest: manifest, manifestBytes: bytes, descriptor: desc, names: [], synthesized: false, layerMembers: nil)
            if !images.contains(where: { $0.descriptor.digest == image.descriptor.digest }) { images.append(image) }
            kept.append(c)
        }
    }

    /// The config or a (distributable) layer of `manifest` that is neither in the archive nor the store.
    private func firstMissingBlob(_ manifest: Manifest) -> Digest? {
        func present(_ d: Digest) -> Bool { scan.blob(d) != nil || store.blobs.contains(d) }
        if !present(manifest.config.digest) { return manifest.config.digest }
        return manifest.layers.first { !present($0.digest) && !MediaType.isNondistributable($0.mediaType) }?.digest
    }
}
