import Foundation
import OCICore
import OCIModel
import OCIImage

/// Writes images into one archive (`save`, `convert`, `copy`, `commit -o`):
/// `ArchiveWriter.write(entries, flavour: .docker, to: sink, name: "out.tar")`.
///
/// Every blob is written once: layers copied byte for byte from where the
/// image's `BlobSource` has them (and checked against their digest while
/// copying), manifests and configs from the images' documents; only the
/// JSON ocitool owns (`index.json`, `manifest.json`, `repositories`,
/// `oci-layout`, and manifests or indexes converted or re-encoded before)
/// is serialised, with `CanonicalJSON`. Tar headers are fixed: members in
/// lexical order, uid/gid 0, no user names, mode 0644 (files) / 0755
/// (directories), one mtime (`SOURCE_DATE_EPOCH` or 0). So the same images
/// give the same bytes.
///
/// Everything is checked before the first byte goes out (blobs present,
/// sizes, what the flavour can hold), so a refusal never leaves half an
/// archive on a pipe; a failure while writing abandons the tar stream
/// without an end-of-archive marker. Memory: one copy buffer and the JSON.
///
/// Layouts: image-spec image-layout.md; Docker's `manifest.json` is moby's
/// image/tarexport format.
public enum ArchiveWriter {
    /// What kind of archive to write.
    public enum Flavour: String, Sendable, CaseIterable {
        /// The hybrid Docker 25+ writes: an OCI image layout (`oci-layout`,
        /// `index.json`, `blobs/`) plus `manifest.json` and `repositories`
        /// pointing into `blobs/`, so old and new docker, podman and skopeo
        /// (`docker-archive:` and `oci-archive:`) load it.
        case docker
        /// An OCI image layout only (Docker-family manifests are converted
        /// to OCI media types, which umoci requires).
        case oci
    }

    /// How to write.
    public struct Options: Sendable {
        /// The mtime of every member (seconds since the epoch).
        public var mtime: Int64
        /// Told of each blob as it is written (a `write` task, then a
        /// `blob` event) and of each image (an `image` event).
        public var reporter: ProgressScope?
        /// Blobs whose files were just written while hashed (a private
        /// spool): copied with their size checked, without hashing again.
        public var hashedBlobs: Set<Digest> = []
        /// The `ref.name` of a single image written (instead of its tag).
        public var refName: String?

        public init(mtime: Int64 = 0, reporter: ProgressScope? = nil) {
            self.mtime = mtime
            self.reporter = reporter
        }

        /// The member mtime from `SOURCE_DATE_EPOCH` (0 when unset or empty).
        /// - Throws: `ArchiveWriteError.invalid` if it is not a non-negative integer.
        public static func sourceDateEpoch(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int64 {
            guard let raw = environment["SOURCE_DATE_EPOCH"], !raw.isEmpty else { return 0 }
            guard let v = Int64(raw), v >= 0 else {
                throw ArchiveWriteError.invalid(image: "SOURCE_DATE_EPOCH", message: "\"\(raw.prefix(40))\" is not a number of seconds")
            }
            return v
        }
    }

    /// What was written.
    public struct Summary: Sendable {
        /// Images (distinct manifests) in the archive.
        public var images: Int
        /// Distinct blobs written.
        public var blobs: Int
        /// Bytes of the whole archive (before any outer compression).
        public var bytes: Int64
        /// Every image as written (multi-platform children included).
        public var written: [ImageReport] = []
    }

    /// Writes `entries` as one archive into `sink`, then finishes the sink.
    /// Entries with the same digest are merged (their names joined); a name
    /// given to two different images stays with the first.
    /// - Throws: `ArchiveWriteError` when an image cannot be written in this
    ///   flavour or a blob is missing or changed; the sink's I/O errors.
    @discardableResult
    public static func write(_ entries: [ImageEntry], flavour: Flavour, to sink: ByteSink, name: String = "archive",
                             options: Options = Options()) throws -> Summary {
        var plan = try ArchivePlan(entries: entries, flavour: flavour)
        if let ref = options.refName { try plan.setRefName(ref) }
        return try plan.write(to: sink, name: name, options: options)
    }

    /// Checks that `entries` can be written in `flavour` without writing anything.
    public static func check(_ entries: [ImageEntry], flavour: Flavour) throws {
        _ = try ArchivePlan(entries: entries, flavour: flavour)
    }

    /// Total bytes of the blobs `entries` reference (for progress displays).
    public static func blobBytes(_ entries: [ImageEntry]) -> Int64 {
        var seen = Set<Digest>()
        var total: Int64 = 0
        for image in entries.flatMap(\.images) {
            for d in [image.descriptor, image.manifest.view.config] + image.layers where seen.insert(d.digest).inserted {
                total += d.size
            }
        }
        return total
    }
}

/// Everything an archive will hold, checked, in write order.
struct ArchivePlan {
    enum Source {
        case bytes([UInt8])
        case file(path: String, size: Int64, digest: Digest)
        case directory
    }

    struct Member {
        let path: String
        let source: Source
    }

    let flavour: ArchiveWriter.Flavour
    /// Plain images (converted to OCI media types for the oci flavour).
    private(set) var images: [Image] = []
    /// Multi-platform images, as written (children converted like `images`).
    private(set) var indexes: [ImageIndex] = []
    private(set) var members: [Member] = []

    init(entries: [ImageEntry], flavour: ArchiveWriter.Flavour) throws {
        guard !entries.isEmpty else { throw ArchiveWriteError.noImages }
        self.flavour = flavour
        for e in entries.merged() {
            switch e {
            case let .image(i): images.append(flavour == .oci ? try ManifestRewrite.convertedToOCI(i) : i)
            case let .index(x):
                let converted = flavour == .oci ? try ManifestRewrite.convertedToOCI(x) : x
                indexes.append(try converted.normalised())
            }
        }
        var blobs: [Digest: Source] = [:]
        for image in images + indexes.flatMap(\.children) {
            try collectBlobs(of: image, into: &blobs)
        }
        for index in indexes { blobs[index.digest] = .bytes(index.document.bytes) }
        var list: [Member] = [Member(path: "blobs/", source: .directory)]
        for alg in Set(blobs.keys.map(\.algorithm)) {
            list.append(Member(path: "blobs/\(alg)/", source: .directory))
        }
        for (d, s) in blobs { list.append(Member(path: Self.member(d), source: s)) }
        list.append(Member(path: "oci-layout", source: .bytes(Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))))
        list.append(Member(path: "index.json", source: .bytes(try indexJSON())))
        if flavour == .docker {
            list.append(Member(path: "manifest.json", source: .bytes(try dockerManifestJSON())))
            if let repositories = try repositoriesJSON() { list.append(Member(path: "repositories", source: .bytes(repositories))) }
        }
        members = list.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
    }

    static func member(_ d: Digest) -> String { "blobs/\(d.algorithm)/\(d.encoded)" }

    /// Gives the single image written the OCI ref.name `ref` as written.
    mutating func setRefName(_ ref: String) throws {
        guard images.count + indexes.count == 1 else {
            throw ArchiveWriteError.invalid(image: ref, message: "one reference cannot name \(images.count + indexes.count) images")
        }
        refName = ref
        let index = try indexJSON()
        members = members.map { m in m.path == "index.json" ? Member(path: m.path, source: .bytes(index)) : m }
    }

    private var refName: String?

    private func collectBlobs(of image: Image, into blobs: inout [Digest: Source]) throws {
        let who = image.displayName
        blobs[image.digest] = .bytes(image.manifest.bytes)
        blobs[image.config.digest] = .bytes(image.config.bytes)
        for layer in image.layers where blobs[layer.digest] == nil {
            guard let path = image.blobs.path(of: layer.digest) else {
                if flavour == .oci && MediaType.isNondistributable(layer.mediaType) { continue }
                throw ArchiveWriteError.blobMissing(image: who, digest: layer.digest)
            }
            let size = try FS.size(path)
            guard size == layer.size else {
                throw ArchiveWriteError.blobMismatch(image: who, digest: layer.digest,
                                                     message: "the file has \(size) bytes, the manifest says \(layer.size)")
            }
            if flavour == .docker { try checkDockerLayer(layer, path: path, image: image) }
            blobs[layer.digest] = .file(path: path, size: size, digest: layer.digest)
        }
    }

    // MARK: index.json

    /// One descriptor per name (`io.containerd.image.name` = full name,
    /// `org.opencontainers.image.ref.name` = tag); a bare one for an image
    /// without names. Order: images as given, names in their order.
    func indexJSON() throws -> [UInt8] {
        var manifests: [Descriptor] = []
        for image in images {
            var base = Descriptor(mediaType: image.mediaType, digest: image.digest, size: image.descriptor.size)
            base.platform = image.platform
            manifests += named(base, image.names)
        }
        for index in indexes {
            manifests += named(Descriptor(mediaType: index.descriptor.mediaType, digest: index.digest, size: index.descriptor.size), index.names)
        }
        return try CanonicalJSON.encode(IndexManifest(manifests: manifests))
    }

    /// One copy of `base` per name (with the name annotations), or `base` alone.
    func named(_ base: Descriptor, _ names: [ImageReference]) -> [Descriptor] {
        if let refName {
            var d = base
            var annotations = [AnnotationKey.refName: refName]
            if let n = names.first { annotations[AnnotationKey.containerdName] = n.description }
            d.annotations = annotations
            return [d]
        }
        if names.isEmpty { return [base] }
        return names.map { name in
            var d = base
            var annotations = [AnnotationKey.containerdName: name.description]
            if let tag = name.tag { annotations[AnnotationKey.refName] = tag }
            d.annotations = annotations
            return d
        }
    }

    // MARK: writing

    func write(to sink: ByteSink, name: String, options: ArchiveWriter.Options) throws -> ArchiveWriter.Summary {
        let counter = CountingSink(forwardingTo: sink)
        let tar = try TarWriter(sink: counter, name: name)
        let reporter = options.reporter
        var blobCount = 0
        for m in members {
            var entry = TarEntry(path: m.path, kind: .regular, mode: 0o644, mtime: options.mtime)
            switch m.source {
            case .directory:
                entry.kind = .directory
                entry.mode = 0o755
                try tar.writeHeader(entry)
            case let .bytes(bytes):
                try tar.writeFile(entry, bytes: bytes)
                if m.path.hasPrefix("blobs/") {
                    blobCount += 1
                    if let reporter, let d = Self.digest(ofMember: m.path) { reporter.blob(d, size: Int64(bytes.count)) }
                }
            case let .file(path, size, digest):
                entry.size = size
                try tar.writeHeader(entry)
                let task = reporter?.task(id: digest.description, label: digest.shortID, phase: "write", total: size)
                try Self.copy(path, size: size, digest: digest, into: tar, progress: task?.bytes,
                              verify: !options.hashedBlobs.contains(digest))
                task?.finish()
                reporter?.blob(digest, size: size)
                blobCount += 1
            }
        }
        try tar.finish()
        var summary = ArchiveWriter.Summary(images: images.count + indexes.reduce(0) { $0 + $1.children.count },
                                            blobs: blobCount, bytes: counter.count)
        summary.written = writtenReports
        if let reporter { summary.written.forEach(reporter.image) }
        return summary
    }

    /// The digest a `blobs/<alg>/<hex>` member path names.
    static func digest(ofMember path: String) -> Digest? {
        let parts = path.split(separator: "/")
        guard parts.count == 3 else { return nil }
        return try? Digest(parsing: "\(parts[1]):\(parts[2])")
    }

    /// Copies a blob file into the current member, checking its size and digest.
    private static func copy(_ path: String, size: Int64, digest: Digest, into tar: TarWriter, progress: ByteProgress? = nil,
                             verify: Bool = true) throws {
        let source = try FileSource(path: path)
        let data: ByteSink = progress.map { CountingSink(forwardingTo: tar.dataSink, progress: $0) } ?? tar.dataSink
        guard verify else {
            let copied = try source.copy(to: data)
            guard copied == size else {
                throw ArchiveWriteError.blobMismatch(image: path, digest: digest, message: "file changed while being saved (\(copied) bytes, expected \(size))")
            }
            return
        }
        let digester = DigestingSink()
        let hashSide: ByteSink = size >= 4 << 20 ? AsyncSink(inner: digester) : digester
        let copied = try source.copy(to: TeeSink(data, hashSide, finishing: true))
        try hashSide.finish()
        guard copied == size else {
            throw ArchiveWriteError.blobMismatch(image: path, digest: digest, message: "file changed while being saved (\(copied) bytes, expected \(size))")
        }
        let actual = try digester.digest()
        guard actual == digest || digest.algorithm != "sha256" else {
            throw ArchiveWriteError.blobMismatch(image: path, digest: digest, message: "content is \(actual)")
        }
    }
}
