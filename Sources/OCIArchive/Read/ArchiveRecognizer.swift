import OCICore
import OCIModel
import OCIImage

/// Turns a scanned archive into verified images: OCI layouts (index.json,
/// nested indexes kept as multi-platform images), classic docker-save
/// (manifest.json) and the Docker 25+ hybrid of both, reconciled by config
/// digest. Every image is checked: descriptor sizes, digests,
/// `blobs/sha256/<hex>` names, member names that spell a digest, layer count
/// == diff_id count, every diff_id.
///
/// A multi-platform index keeps every platform whose manifest, config and
/// layers are all present; the others are recorded as absent (sparse saves
/// name platforms they do not carry). Artifacts are skipped with a warning.
struct ArchiveRecognizer {
    let scan: ScannedArchive
    private(set) var warnings: [String] = []
    /// The `org.opencontainers.image.ref.name` values of each entry, as
    /// written (an OCI archive's references need not be image names).
    private(set) var refNames: [Digest: [String]] = [:]
    private let blobs: BlobMap

    init(scan: ScannedArchive) {
        self.scan = scan
        blobs = scan.blobSource
    }

    var name: String { scan.name }

    mutating func recognise() throws -> [ImageEntry] {
        try checkBlobNames()
        var entries: [ImageEntry] = []
        if let indexBytes = scan.documents["index.json"] {
            let index = try IndexManifest.parse(indexBytes, what: "\(name): index.json")
            for d in index.manifests {
                if let ref = d.annotations?[AnnotationKey.refName] { refNames[d.digest, default: []].append(ref) }
                if let e = try collect(d, names: Self.names(from: d.annotations)) { entries.append(e) }
            }
        }
        if let manifestBytes = scan.documents["manifest.json"], let image = try directoryTransportImage(manifestBytes) {
            entries.append(.image(image))
        } else if let manifestBytes = scan.documents["manifest.json"] {
            let list = try DockerManifestEntry.parseList(manifestBytes, what: "\(name): manifest.json")
            for (i, item) in list.enumerated() {
                let image = try dockerImage(item, position: i)
                // The same image through index.json (Docker 25+): its names join that entry.
                if let j = entries.firstIndex(where: { $0.images.contains { $0.id == image.id } }) {
                    entries[j] = entries[j].named(entries[j].names + image.names.filter { !entries[j].names.contains($0) })
                } else {
                    entries.append(.image(image))
                }
            }
        }
        if scan.documents["index.json"] == nil && scan.documents["manifest.json"] == nil {
            if scan.documents["repositories"] != nil {
                throw ArchiveError.archive(archive: name, message: "legacy docker save format (repositories and <id>/json, no manifest.json) is not supported; re-save with docker 1.10 or later")
            }
            throw ArchiveError.archive(archive: name, message: "not an image archive: no manifest.json, index.json or oci-layout")
        }
        let merged = entries.merged()
        if merged.isEmpty {
            if let indexBytes = scan.documents["index.json"], scan.documents["manifest.json"] == nil,
               (try? IndexManifest.parse(indexBytes, what: name))?.manifests.isEmpty == true {
                throw ArchiveError.member(archive: name, member: "index.json", message: "lists no manifests: no images found")
            }
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

    /// Names an index.json entry gives: `io.containerd.image.name`, else a
    /// `ref.name` that is a full reference (a bare tag names no repository).
    static func names(from annotations: [String: String]?) -> [ImageReference] {
        guard let a = annotations else { return [] }
        if let full = a[AnnotationKey.containerdName], let r = try? ImageReference(parsing: full) { return [r] }
        if let ref = a[AnnotationKey.refName], ref.contains("/") || ref.contains(":"),
           let r = try? ImageReference(parsing: ref) {
            return [r]
        }
        return []
    }

    /// The member a blob came from (for messages): where the archive holds
    /// it, else where an OCI layout would (`blobs/ALG/HEX`).
    func memberName(of d: Digest) -> String { scan.blobs[d]?.member ?? "blobs/\(d.algorithm)/\(d.encoded)" }

    // MARK: OCI

    /// The image or index an `index.json` entry names; nil (with a warning)
    /// for artifacts and indexes with no image present.
    private mutating func collect(_ d: Descriptor, names: [ImageReference]) throws -> ImageEntry? {
        let member = memberName(of: d.digest)
        guard let bytes = try readDocument(d, member: member) else {
            throw ArchiveError.member(archive: name, member: member, message: "\(d.mediaType.isEmpty ? "document" : d.mediaType) \(d.digest) is referenced by index.json but not in the archive")
        }
        let probe = try CanonicalJSON.decode(MediaTypeProbe.self, from: bytes, what: "\(name): \(member)")
        if probe.isIndex(listed: d.mediaType) {
            return try index(d, bytes: bytes, probe: probe, names: names, member: member).map(ImageEntry.index)
        }
        let manifest = try Manifest.parse(bytes, what: "\(name): \(member)")
        let configType = manifest.config.mediaType
        guard configType == MediaType.ociConfig || configType == MediaType.dockerConfig else {
            warnings.append("skipped artifact \(d.digest.shortID) (config media type \(configType))")
            return nil
        }
        var desc = Descriptor(mediaType: Self.manifestType(probe, manifest, d), digest: d.digest, size: d.size)
        desc.platform = d.platform
        return .image(try verified(manifest: manifest, manifestBytes: bytes, descriptor: desc, names: names, layerMembers: nil))
    }

    /// The blob's own media type is the truth (some writers put another in the descriptor).
    static func manifestType(_ probe: MediaTypeProbe, _ manifest: Manifest, _ d: Descriptor) -> String {
        [probe.mediaType, manifest.mediaType, d.mediaType].compactMap { $0 }.first(where: { MediaType.isManifest($0) }) ?? MediaType.ociManifest
    }

    /// A multi-platform image: every child present and verified; nested
    /// indexes flattened; absent and non-image children recorded.
    private mutating func index(_ d: Descriptor, bytes: [UInt8], probe: MediaTypeProbe, names: [ImageReference],
                                member: String) throws -> ImageIndex? {
        let document = try Document(index: bytes, what: "\(name): \(member)")
        var children: [Image] = []
        var absent: [ImageIndex.AbsentEntry] = []
        let leaves = try IndexWalk.leaves(of: document.view, what: name) { c in try readDocument(c, member: memberName(of: c.digest)) }
        for leaf in leaves {
            switch leaf {
            case let .absent(a):
                absent.append(a)
            case let .manifest(c, childBytes, manifest):
                if let missing = firstMissingBlob(manifest) {
                    absent.append(.init(descriptor: c, reason: "blob \(missing.shortID) absent"))
                    continue
                }
                let child = try verified(manifest: manifest, manifestBytes: childBytes, descriptor: c, names: [], layerMembers: nil)
                if !children.contains(where: { $0.digest == child.digest }) { children.append(child) }
            }
        }
        let who = names.first?.familiarString ?? d.digest.shortID
        guard !children.isEmpty else {
            warnings.append("\(who): no platform of index \(d.digest.shortID) is in the archive; image skipped")
            return nil
        }
        if !absent.isEmpty {
            warnings.append("\(who): left out of the index (not in the archive, or not an image): \(absent.map(\.label).joined(separator: ", "))")
        }
        let mediaType = [probe.mediaType, d.mediaType].compactMap { $0 }.first(where: { MediaType.isIndex($0) }) ?? MediaType.ociIndex
        let descriptor = Descriptor(mediaType: mediaType, digest: d.digest, size: d.size)
        guard Int64(bytes.count) == d.size else {
            throw ArchiveError.member(archive: name, member: member, message: "size mismatch: descriptor says \(d.size) bytes, index has \(bytes.count)")
        }
        return try ImageIndex(descriptor: descriptor, document: document, names: names, children: children, absent: absent)
    }

    /// The config or a (distributable) layer of `manifest` that is not there.
    private func firstMissingBlob(_ manifest: Manifest) -> Digest? {
        if !scan.has(manifest.config.digest) { return manifest.config.digest }
        return manifest.layers.first { !scan.has($0.digest) && !MediaType.isNondistributable($0.mediaType) }?.digest
    }

    /// A JSON document by descriptor, from the archive or the destination; nil if absent.
    func readDocument(_ d: Descriptor, member: String) throws -> [UInt8]? {
        guard let bytes = try scan.bytes(of: d.digest, member: member) else { return nil }
        guard Int64(bytes.count) == d.size else {
            throw ArchiveError.member(archive: name, member: member, message: "size mismatch: descriptor says \(d.size) bytes, blob has \(bytes.count)")
        }
        return bytes
    }

    // MARK: docker save

    private mutating func dockerImage(_ entry: DockerManifestEntry, position: Int) throws -> Image {
        guard let configBlob = scan.blob(atMember: entry.config) else {
            throw ArchiveError.member(archive: name, member: entry.config, message: "config named in manifest.json is not in the archive")
        }
        try checkNamedDigest(entry.config, configBlob)
        var layers: [Descriptor] = []
        for path in entry.layers {
            guard let blob = scan.blob(atMember: path) else {
                let why = scan.sparseMembers.contains(ScannedArchive.resolveDots(path))
                    ? "layer named in manifest.json is a sparse file; image archives do not use sparse members"
                    : "layer named in manifest.json is not in the archive"
                throw ArchiveError.member(archive: name, member: path, message: why)
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
        return try verified(manifest: manifest, manifestBytes: bytes, descriptor: desc, names: names, layerMembers: entry.layers)
    }

    /// containers/image `dir:` layout: `manifest.json` is the image manifest
    /// itself and blobs are files named by their hex digest.
    private mutating func directoryTransportImage(_ bytes: [UInt8]) throws -> Image? {
        guard let obj = try? CanonicalJSON.object(from: bytes, what: "manifest.json") as? [String: Any] else { return nil }
        guard (obj["schemaVersion"] as? Int) == 2, obj["config"] != nil else {
            let schema = obj["schemaVersion"].map { "\($0)" } ?? "?"
            if schema == "1" {
                throw ArchiveError.member(archive: name, member: "manifest.json", message: "Docker schema 1 manifests are not supported; convert the image to schema 2 or OCI first (e.g. skopeo copy --format v2s2)")
            }
            throw ArchiveError.member(archive: name, member: "manifest.json", message: "image manifest schema \(schema) is not supported (only schema 2 / OCI)")
        }
        let manifest = try Manifest.parse(bytes, what: "\(name): manifest.json")
        let desc = Descriptor(mediaType: manifest.mediaType ?? MediaType.ociManifest, digest: SHA256Hasher.digest(bytes), size: Int64(bytes.count))
        return try verified(manifest: manifest, manifestBytes: bytes, descriptor: desc, names: [], layerMembers: nil)
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
    private func verified(manifest: Manifest, manifestBytes: [UInt8], descriptor: Descriptor, names: [ImageReference],
                          layerMembers: [String]?) throws -> Image {
        let cfgMember = memberName(of: manifest.config.digest)
        guard let configBytes = try scan.bytes(of: manifest.config.digest, member: cfgMember) else {
            throw ArchiveError.member(archive: name, member: cfgMember, message: "config \(manifest.config.digest) is not in the archive")
        }
        guard Int64(configBytes.count) == manifest.config.size else {
            throw ArchiveError.member(archive: name, member: cfgMember, message: "size mismatch: manifest says \(manifest.config.size) bytes, config has \(configBytes.count)")
        }
        let config = try Document(config: configBytes, what: "\(name): \(cfgMember)")
        guard config.digest == manifest.config.digest else {
            throw ArchiveError.member(archive: name, member: cfgMember, message: "digest mismatch: content is \(config.digest)")
        }
        let diffIDs = config.view.diffIDs
        guard diffIDs.count == manifest.layers.count else {
            throw ArchiveError.member(archive: name, member: cfgMember,
                                      message: "config lists \(diffIDs.count) diff_ids but the image has \(manifest.layers.count) layers")
        }
        for (i, layer) in manifest.layers.enumerated() {
            let member = layerMembers?[i] ?? memberName(of: layer.digest)
            let actual: Digest
            if let b = scan.blob(layer.digest) {
                guard b.size == layer.size else {
                    throw ArchiveError.member(archive: name, member: member, message: "size mismatch: manifest says \(layer.size) bytes, blob has \(b.size)")
                }
                guard let d = b.diffID else {
                    throw ArchiveError.member(archive: name, member: member, message: "layer cannot be decompressed: \(b.decodeError ?? "unknown compression")")
                }
                actual = d
            } else if let p = scan.existing?.path(of: layer.digest) {
                actual = try existingDiffID(p, layer.digest, member: member)
            } else if MediaType.isNondistributable(layer.mediaType) {
                continue
            } else if scan.sparseMembers.contains(member) {
                throw ArchiveError.member(archive: name, member: member, message: "layer is a sparse file; image archives do not use sparse members")
            } else {
                throw ArchiveError.member(archive: name, member: member, message: "layer \(layer.digest) is not in the archive")
            }
            guard actual == diffIDs[i] else {
                throw ArchiveError.member(archive: name, member: "layer \(member)", message: "diff_id mismatch: config says \(diffIDs[i]), content is \(actual)")
            }
        }
        let manifestDocument = Document(bytes: manifestBytes, digest: descriptor.digest, view: manifest)
        return try Image(descriptor: descriptor, manifest: manifestDocument, config: config, names: names, blobs: blobs)
    }

    /// The diff_id of a blob the destination already holds (decompressing it).
    private func existingDiffID(_ path: String, _ digest: Digest, member: String) throws -> Digest {
        let digester = LayerDigester(context: member)
        try FileSource(path: path).copy(to: digester)
        try digester.finish()
        if digester.compression == Compression.none { return digest }
        guard let d = digester.uncompressedDigest else {
            throw ArchiveError.member(archive: name, member: member, message: "layer cannot be decompressed: \(digester.decodeError ?? "unknown")")
        }
        return d
    }
}
