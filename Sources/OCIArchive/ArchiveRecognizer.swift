import OCICore
import OCIModel
import OCIStore

/// Turns a scanned archive into verified images: OCI layouts (index.json,
/// nested indexes, platform selection), classic docker-save (manifest.json)
/// and the Docker 25+ hybrid of both, reconciled by config digest.
struct ArchiveRecognizer {
    let scan: ScannedArchive
    let store: ImageStore
    /// The platform wanted, and whether the user asked for it explicitly.
    let platform: Platform
    let explicitPlatform: Bool
    /// Keep every platform of a multi-platform index instead of selecting
    /// one (`convert --all-platforms`); see `ArchiveRecognizer+Platforms.swift`.
    var allPlatforms = false
    /// With `allPlatforms`: each multi-platform index, with the platforms kept.
    var platformIndexes: [RecognisedIndex] = []
    var warnings: [String] = []

    init(scan: ScannedArchive, store: ImageStore, platform: Platform?) {
        self.scan = scan
        self.store = store
        self.platform = platform ?? Platform.host
        self.explicitPlatform = platform != nil
    }

    var name: String { scan.name }

    mutating func recognise() throws -> [LoadedImage] {
        try checkBlobNames()
        var images: [LoadedImage] = []
        if let indexBytes = scan.documents["index.json"] {
            let index = try ImageIndex.parse(indexBytes, what: "\(name): index.json")
            for d in index.manifests {
                try collect(d, names: Self.names(from: d.annotations), depth: 0, into: &images)
            }
        }
        if let manifestBytes = scan.documents["manifest.json"], let image = try directoryTransportImage(manifestBytes) {
            images.append(image)
        } else if let manifestBytes = scan.documents["manifest.json"] {
            let entries: [DockerManifestEntry]
            do {
                entries = try DockerManifestEntry.parseList(manifestBytes, what: "\(name): manifest.json")
            }
            for (i, entry) in entries.enumerated() {
                let image = try dockerImage(entry, position: i)
                if let j = images.firstIndex(where: { $0.id == image.id }) {
                    for n in image.names where !images[j].names.contains(n) { images[j].names.append(n) }
                } else {
                    images.append(image)
                }
            }
        }
        if scan.documents["index.json"] == nil && scan.documents["manifest.json"] == nil {
            if scan.documents["repositories"] != nil {
                throw ArchiveError.archive(archive: name, message: "legacy docker save format (repositories and <id>/json, no manifest.json) is not supported; re-save with docker 1.10 or later")
            }
            throw ArchiveError.archive(archive: name, message: "not an image archive: no manifest.json, index.json or oci-layout")
        }
        // Same manifest twice (two tags in index.json): merge names.
        var merged: [LoadedImage] = []
        for img in images {
            if let j = merged.firstIndex(where: { $0.descriptor.digest == img.descriptor.digest }) {
                for n in img.names where !merged[j].names.contains(n) { merged[j].names.append(n) }
            } else {
                merged.append(img)
            }
        }
        if merged.isEmpty {
            throw ArchiveError.archive(archive: name, message: "no images found" + (warnings.isEmpty ? "" : " (\(warnings.joined(separator: "; ")))"))
        }
        return merged
    }

    /// Every `blobs/<alg>/<hex>` member must hash to its name.
    private func checkBlobNames() throws {
        for (path, digest) in scan.members.sorted(by: { $0.key < $1.key }) {
            let parts = path.split(separator: "/")
            guard parts.count == 3, parts[0] == "blobs" else { continue }
            // Only names that are digests are blobs; other files (.DS_Store, ._*) are ignored.
            guard parts[1] == "sha256", (try? Digest(sha256Hex: String(parts[2]))) != nil else { continue }
            if "sha256:\(parts[2])" != digest.description {
                throw ArchiveError.member(archive: name, member: path, message: "digest mismatch: name says sha256:\(parts[2]), content is \(digest)")
            }
        }
    }

    static func names(from annotations: [String: String]?) -> [ImageReference] {
        guard let a = annotations else { return [] }
        if let full = a[AnnotationKey.containerdName], let r = try? ImageReference(parsing: full) { return [r] }
        if let ref = a[AnnotationKey.refName], ref.contains("/") || ref.contains(":"),
           let r = try? ImageReference(parsing: ref) {
            return [r]
        }
        return []
    }

    // MARK: OCI

    func isAttestation(_ d: Descriptor) -> Bool {
        d.annotations?["vnd.docker.reference.type"] == "attestation-manifest" || d.platform?.os == "unknown"
    }

    mutating func collect(_ d: Descriptor, names: [ImageReference], depth: Int, into images: inout [LoadedImage]) throws {
        guard depth < 8 else { throw ArchiveError.archive(archive: name, message: "image indexes nested more than 8 deep") }
        let member = "blobs/\(d.digest.algorithm)/\(d.digest.encoded)"
        guard let bytes = try readDocument(d, member: member) else {
            throw ArchiveError.member(archive: name, member: member, message: "\(d.mediaType.isEmpty ? "document" : d.mediaType) \(d.digest) is referenced by index.json but not in the archive")
        }
        let probe = try CanonicalJSON.decode(MediaTypeProbe.self, from: bytes, what: "\(name): \(member)")
        let isIndex = MediaType.isIndex(d.mediaType) || MediaType.isIndex(probe.mediaType) || (probe.manifests != nil && probe.config == nil)
        if isIndex {
            let index = try ImageIndex.parse(bytes, what: "\(name): \(member)")
            if allPlatforms {
                try collectAllPlatforms(d, bytes: bytes, index: index, names: names, member: member, depth: depth, into: &images)
                return
            }
            let chosen = try select(from: index, member: member)
            for c in chosen { try collect(c, names: names, depth: depth + 1, into: &images) }
            return
        }
        if depth == 0, explicitPlatform, let p = d.platform, !p.matches(platform) {
            warnings.append("skipped \(d.digest.shortID) for platform \(p)")
            return
        }
        let manifest = try Manifest.parse(bytes, what: "\(name): \(member)")
        let configType = manifest.config.mediaType
        guard configType == MediaType.ociConfig || configType == MediaType.dockerConfig else {
            warnings.append("skipped artifact \(d.digest.shortID) (config media type \(configType))")
            return
        }
        // The blob's own media type is the truth (some writers put another in the descriptor).
        let mediaType = [probe.mediaType, manifest.mediaType, d.mediaType].compactMap { $0 }.first(where: { MediaType.isManifest($0) }) ?? MediaType.ociManifest
        var desc = Descriptor(mediaType: mediaType, digest: d.digest, size: d.size)
        desc.platform = d.platform
        images.append(try verified(manifest: manifest, manifestBytes: bytes, descriptor: desc, names: names, synthesized: false, layerMembers: nil))
    }

    /// Chooses the manifests of an index to load: the wanted platform's.
    private mutating func select(from index: ImageIndex, member: String) throws -> [Descriptor] {
        let candidates = index.manifests.filter { !isAttestation($0) }
        if candidates.count <= 1 && !explicitPlatform { return candidates }
        let matching = candidates.filter { ($0.platform ?? platform).matches(platform) }
        let available = candidates.compactMap { $0.platform?.description }
        guard let chosen = matching.first else {
            throw ArchiveError.member(archive: name, member: member,
                                      message: "no image for platform \(platform) (available: \(available.joined(separator: ", "))); choose one with --platform")
        }
        if scan.blob(chosen.digest) == nil && !store.blobs.contains(chosen.digest) {
            let presentDescriptors = candidates.filter { scan.blob($0.digest) != nil || store.blobs.contains($0.digest) }
            let present = presentDescriptors.compactMap { $0.platform?.description }
            if !explicitPlatform && presentDescriptors.count == 1 {
                warnings.append("platform \(platform) is not in the archive (a sparse save); loading \(present.first ?? "the only image present"), the only platform present")
                return presentDescriptors
            }
            throw ArchiveError.member(archive: name, member: member,
                                      message: "platform \(platform): manifest \(chosen.digest) is not in the archive (a sparse save); platforms present: \(present.isEmpty ? "none" : present.joined(separator: ", "))")
        }
        return [chosen]
    }

    /// A JSON document by descriptor, from the archive or the store; nil if absent.
    func readDocument(_ d: Descriptor, member: String) throws -> [UInt8]? {
        let bytes: [UInt8]
        if let b = scan.blob(d.digest) {
            bytes = try scan.bytes(of: b)
        } else if store.blobs.contains(d.digest) {
            bytes = try store.blobs.read(d.digest, limit: ScannedArchive.metadataLimit)
        } else {
            return nil
        }
        guard Int64(bytes.count) == d.size else {
            throw ArchiveError.member(archive: name, member: member, message: "size mismatch: descriptor says \(d.size) bytes, blob has \(bytes.count)")
        }
        return bytes
    }

    // MARK: docker save

    private mutating func dockerImage(_ entry: DockerManifestEntry, position: Int) throws -> LoadedImage {
        guard let configBlob = scan.blob(atMember: entry.config) else {
            throw ArchiveError.member(archive: name, member: entry.config, message: "config named in manifest.json is not in the archive")
        }
        try checkNamedDigest(entry.config, configBlob)
        var layers: [Descriptor] = []
        for path in entry.layers {
            guard let blob = scan.blob(atMember: path) else {
                throw ArchiveError.member(archive: name, member: path, message: "layer named in manifest.json is not in the archive")
            }
            try checkNamedDigest(path, blob)
            let compression = try layerCompression(blob, member: path)
            layers.append(Descriptor(mediaType: MediaType.layer(docker: false, compression: compression), digest: blob.digest, size: blob.size))
        }
        let configDesc = Descriptor(mediaType: MediaType.ociConfig, digest: configBlob.digest, size: configBlob.size)
        let manifest = Manifest(mediaType: MediaType.ociManifest, config: configDesc, layers: layers)
        let bytes = try CanonicalJSON.encode(manifest)
        let desc = Descriptor(mediaType: MediaType.ociManifest, digest: SHA256Hasher.digest(bytes), size: Int64(bytes.count))
        var names: [ImageReference] = []
        for t in entry.repoTags {
            do { names.append(try ImageReference(parsing: t)) } catch {
                throw ArchiveError.member(archive: name, member: "manifest.json", message: "image \(position): bad RepoTag \"\(t)\": \(error)")
            }
        }
        return try verified(manifest: manifest, manifestBytes: bytes, descriptor: desc, names: names, synthesized: true, layerMembers: entry.layers)
    }

    /// containers/image `dir:` layout: `manifest.json` is the image manifest
    /// itself and blobs are files named by their hex digest.
    private mutating func directoryTransportImage(_ bytes: [UInt8]) throws -> LoadedImage? {
        guard let obj = try? CanonicalJSON.object(from: bytes, what: "manifest.json") as? [String: Any] else { return nil }
        guard (obj["schemaVersion"] as? Int) == 2, obj["config"] != nil else {
            throw ArchiveError.member(archive: name, member: "manifest.json", message: "image manifest schema \(obj["schemaVersion"] ?? "?") is not supported (only schema 2 / OCI)")
        }
        let manifest = try Manifest.parse(bytes, what: "\(name): manifest.json")
        let desc = Descriptor(mediaType: manifest.mediaType ?? MediaType.ociManifest, digest: SHA256Hasher.digest(bytes), size: Int64(bytes.count))
        return try verified(manifest: manifest, manifestBytes: bytes, descriptor: desc, names: [], synthesized: true, layerMembers: nil)
    }

    /// Member names that spell a digest (`<hex>.json`, `sha256:<hex>`) must match the content.
    private func checkNamedDigest(_ member: String, _ blob: ScannedArchive.Blob) throws {
        let base = PathString(member).lastComponent
        var hex = base
        if hex.hasPrefix("sha256:") { hex = String(hex.dropFirst(7)) }
        if hex.hasSuffix(".json") { hex = String(hex.dropLast(5)) } else if !base.hasPrefix("sha256:") { return }
        guard let named = try? Digest(sha256Hex: hex) else { return }
        if named != blob.digest {
            throw ArchiveError.member(archive: name, member: member, message: "digest mismatch: name says \(named), content is \(blob.digest)")
        }
    }

    private func layerCompression(_ blob: ScannedArchive.Blob, member: String) throws -> LayerCompression {
        switch blob.compression {
        case .none: return .none
        case .gzip: return .gzip
        case .zstd: return .zstd
        case .xz, .bzip2:
            throw ArchiveError.member(archive: name, member: member, message: "layer is \(blob.compression.rawValue)-compressed; only tar, gzip and zstd layers are supported")
        }
    }

    // MARK: verification

    /// Verifies config and layers of a manifest against the blobs.
    func verified(manifest: Manifest, manifestBytes: [UInt8], descriptor: Descriptor, names: [ImageReference],
                          synthesized: Bool, layerMembers: [String]?) throws -> LoadedImage {
        let cfgMember = "blobs/sha256/\(manifest.config.digest.encoded)"
        let configBytes: [UInt8]
        if let b = scan.blob(manifest.config.digest) {
            configBytes = try scan.bytes(of: b)
        } else if store.blobs.contains(manifest.config.digest) {
            configBytes = try store.blobs.read(manifest.config.digest)
        } else {
            throw ArchiveError.member(archive: name, member: cfgMember, message: "config \(manifest.config.digest) is not in the archive")
        }
        guard Int64(configBytes.count) == manifest.config.size else {
            throw ArchiveError.member(archive: name, member: cfgMember, message: "size mismatch: manifest says \(manifest.config.size) bytes, config has \(configBytes.count)")
        }
        let cfgWhat = layerMembers == nil ? cfgMember : "config \(manifest.config.digest.shortID)"
        let config = try ImageConfig.parse(configBytes, what: "\(name): \(cfgWhat)")
        let diffIDs = config.diffIDs
        guard diffIDs.count == manifest.layers.count else {
            throw ArchiveError.member(archive: name, member: cfgWhat,
                                      message: "config lists \(diffIDs.count) diff_ids but the image has \(manifest.layers.count) layers")
        }
        for (i, layer) in manifest.layers.enumerated() {
            let member = layerMembers?[i] ?? "blobs/sha256/\(layer.digest.encoded)"
            let actual: Digest
            if let b = scan.blob(layer.digest) {
                guard b.size == layer.size else {
                    throw ArchiveError.member(archive: name, member: member, message: "size mismatch: manifest says \(layer.size) bytes, blob has \(b.size)")
                }
                guard let d = b.diffID else {
                    throw ArchiveError.member(archive: name, member: member, message: "layer cannot be decompressed: \(b.decodeError ?? "unknown compression")")
                }
                actual = d
            } else if store.blobs.contains(layer.digest) {
                actual = try storedDiffID(layer.digest, member: member)
            } else if MediaType.isNondistributable(layer.mediaType) {
                continue
            } else {
                throw ArchiveError.member(archive: name, member: member, message: "layer \(layer.digest) is not in the archive")
            }
            guard actual == diffIDs[i] else {
                throw ArchiveError.member(archive: name, member: "layer \(member)", message: "diff_id mismatch: config says \(diffIDs[i]), content is \(actual)")
            }
        }
        return LoadedImage(descriptor: descriptor, manifestBytes: manifestBytes, manifest: manifest, configBytes: configBytes,
                           config: config, names: names, synthesizedManifest: synthesized)
    }

    /// The diff_id of a blob already in the store (decompressing it).
    private func storedDiffID(_ digest: Digest, member: String) throws -> Digest {
        let src = try FileSource(path: store.blobs.path(for: digest))
        let digester = LayerDigester(context: member)
        try src.copy(to: digester)
        try digester.finish()
        if digester.compression == Compression.none { return digest }
        guard let d = digester.uncompressedDigest else {
            throw ArchiveError.member(archive: name, member: member, message: "layer cannot be decompressed: \(digester.decodeError ?? "unknown")")
        }
        return d
    }
}
