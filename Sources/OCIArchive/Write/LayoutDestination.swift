import OCICore
import OCIModel
import OCIImage
#if canImport(Glibc)
import Glibc
#endif

/// An OCI image-layout directory as a copy destination (`oci:DIR[:REF]`,
/// as skopeo writes it): the directory is created if missing; blobs go to
/// `blobs/sha256/` (staged beside them, renamed into place, skipped when
/// present); `index.json` gains one entry for the image (or index) with
/// `org.opencontainers.image.ref.name` = REF, replacing an entry with the
/// same REF. Docker-typed manifests are converted to OCI media types (an
/// OCI layout's readers, umoci among them, require them), as skopeo does.
public final class LayoutDestination: ImageDestination {
    public let directory: String
    public let reference: String?
    private let blobs: BlobStore
    private var spool: String?

    public init(directory: String, reference: String?) {
        self.directory = directory
        self.reference = reference
        let ingest = "\(directory)/.ocitool-ingest-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        blobs = BlobStore(root: directory, durable: true, label: directory, ingestDirectory: ingest)
    }

    public var description: String { "oci:" + directory + (reference.map { ":" + $0 } ?? "") }
    public var staging: BlobStore? { nil }
    public var existing: (any BlobSource)? { FS.isDirectory(blobs.blobsDirectory) ? blobs : nil }

    public func check(_ entries: [ImageEntry]) throws {
        if reference != nil && entries.count > 1 {
            throw ArchiveWriteError.invalid(image: description, message: "\(entries.count) images cannot all have one reference")
        }
        if FS.exists(directory) && !FS.isDirectory(directory) {
            throw ArchiveWriteError.invalid(image: description, message: "\(directory) exists and is not a directory")
        }
    }

    public func write(_ entries: [ImageEntry], progress: ProgressScope?) throws -> WriteReport {
        try check(entries)
        try FS.makeDirectories(blobs.blobsDirectory)
        spool = blobs.ingestDirectory
        defer { close() }
        var staged: [StagedBlob] = []
        defer { staged.forEach { $0.discard() } }
        var top: [Descriptor] = []
        var reports: [ImageReport] = []
        var count = 0
        var bytes: Int64 = 0
        func stage(_ data: [UInt8], _ digest: Digest) throws {
            guard blobs.path(of: digest) == nil, !staged.contains(where: { $0.digest == digest }) else { return }
            staged.append(try blobs.stage(bytes: data))
        }
        func add(_ image: Image) throws -> Image {
            let oci = try ManifestRewrite.convertedToOCI(image)
            try stage(oci.config.bytes, oci.config.digest)
            for layer in oci.layers where blobs.path(of: layer.digest) == nil && !staged.contains(where: { $0.digest == layer.digest }) {
                if MediaType.isNondistributable(layer.mediaType) && !oci.blobs.contains(layer.digest) { continue }
                let task = progress?.task(id: layer.digest.description, label: layer.digest.shortID, phase: "write", total: layer.size)
                staged.append(try blobs.stage(copyOf: layer, from: oci.blobs, progress: task?.bytes))
                task?.finish()
            }
            try stage(oci.manifest.bytes, oci.digest)
            return oci
        }
        for entry in entries {
            switch entry {
            case let .image(i):
                let oci = try add(i)
                var d = Descriptor(mediaType: MediaType.ociManifest, digest: oci.digest, size: oci.manifest.size)
                d.platform = oci.platform
                top.append(d)
                reports.append(oci.report())
            case let .index(x):
                let converted = try ManifestRewrite.convertedToOCI(x).mapping { try add($0) }.normalised()
                try stage(converted.document.bytes, converted.digest)
                top.append(Descriptor(mediaType: converted.descriptor.mediaType, digest: converted.digest, size: converted.descriptor.size))
                reports += converted.children.map { $0.report(names: x.names) }
            }
        }
        count = staged.count
        bytes = staged.reduce(0) { $0 + $1.size }
        try blobs.publish(staged)
        staged = []
        let indexPath = directory + "/index.json"
        var index = FS.exists(indexPath) ? try IndexManifest.parse(FS.readFile(indexPath, limit: DocumentLimit.bytes), what: indexPath)
            : IndexManifest(manifests: [])
        for var d in top {
            if let reference {
                index.manifests.removeAll { $0.annotations?[AnnotationKey.refName] == reference }
                d.annotations = [AnnotationKey.refName: reference]
            }
            index.manifests.append(d)
        }
        let layout = directory + "/oci-layout"
        if !FS.exists(layout) { try FS.writeAtomically(layout, bytes: Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)) }
        try FS.writeAtomically(indexPath, bytes: CanonicalJSON.encode(index))
        return WriteReport(images: reports, bytes: bytes, blobs: count)
    }

    public func close() {
        if let spool { FS.removeTree(spool) }
        spool = nil
    }
}
