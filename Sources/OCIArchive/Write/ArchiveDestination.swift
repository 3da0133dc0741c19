import OCICore
import OCIModel
import OCIImage

/// An archive file or stream as a copy destination (`save`, `convert`,
/// `copy … docker-archive:F`, `commit -o`). Nothing is written before every
/// image has been checked; a file named with `-o` is written through
/// `AtomicOutput` (temp file renamed at the end; devices and FIFOs written
/// into); a failure leaves no file and, on a pipe, a truncated stream.
public final class ArchiveDestination: ImageDestination {
    /// Where the archive goes.
    public enum Output: Sendable, Equatable {
        case path(String)
        case stdout
    }

    public let output: Output
    public private(set) var flavour: ArchiveWriter.Flavour
    /// Write an OCI archive instead of a docker one when an image has zstd
    /// layers (which docker archives cannot hold), with a warning.
    public var ociWhenZstd = false
    /// Names given to the single image written (`docker-archive:F:NAME:TAG`).
    public let names: [ImageReference]?
    /// Compression of the whole archive stream.
    public let outerCompression: Compression
    /// Member mtime (`SOURCE_DATE_EPOCH`).
    public let mtime: Int64
    /// Encoder threads for the outer compression (0: one per core).
    public let threads: Int
    private var summary: ArchiveWriter.Summary?
    /// Blobs the caller's spool just hashed (copied without hashing again).
    public var hashedBlobs: Set<Digest> = []
    /// An OCI `org.opencontainers.image.ref.name` for the single image
    /// written (`oci-archive:F:REF` with a REF that is not an image name).
    public var refName: String?

    public init(_ output: Output, flavour: ArchiveWriter.Flavour, names: [ImageReference]? = nil,
                outerCompression: Compression = .none, mtime: Int64 = 0, threads: Int = 0) {
        self.output = output
        self.flavour = flavour
        self.names = names
        self.outerCompression = outerCompression
        self.mtime = mtime
        self.threads = threads
    }

    public var description: String {
        switch output {
        case let .path(p): return p
        case .stdout: return "stdout"
        }
    }

    public var staging: BlobStore? { nil }
    public var existing: (any BlobSource)? { nil }

    func prepared(_ entries: [ImageEntry]) throws -> [ImageEntry] {
        if ociWhenZstd && flavour == .docker,
           entries.flatMap(\.images).contains(where: { $0.layers.contains { $0.mediaType.hasSuffix("+zstd") } }) {
            flavour = .oci
            switched = true
        }
        guard let names else { return entries }
        guard entries.count == 1, let only = entries.first else {
            throw ArchiveWriteError.invalid(image: description, message: "\(entries.count) images cannot all be named \(names.map(\.familiarString).joined(separator: ", "))")
        }
        return [only.named(names)]
    }

    public func check(_ entries: [ImageEntry]) throws {
        try ArchiveWriter.check(prepared(entries), flavour: flavour)
    }

    /// Did `ociWhenZstd` switch the flavour?
    public private(set) var switched = false

    public func write(_ entries: [ImageEntry], progress: ProgressScope?) throws -> WriteReport {
        let entries = try prepared(entries)
        if switched { progress?.warning("writing an OCI archive: docker archives cannot hold zstd layers") }
        try ArchiveWriter.check(entries, flavour: flavour)
        let out: AtomicOutput
        switch output {
        case let .path(p): out = try AtomicOutput(path: p)
        case .stdout: out = AtomicOutput.standardOutput()
        }
        do {
            let counted = CountingSink(forwardingTo: out.sink)
            let stream = outerCompression == .none
                ? BufferedSink(counted)
                : try outerCompression.encoder(into: counted, level: nil, threads: threads, context: description)
            var options = ArchiveWriter.Options(mtime: mtime, reporter: progress)
            options.hashedBlobs = hashedBlobs
            options.refName = refName
            let s = try ArchiveWriter.write(entries, flavour: flavour, to: stream, name: description, options: options)
            try out.commit()
            summary = s
            return WriteReport(images: s.written, bytes: counted.count, blobs: s.blobs)
        } catch {
            out.abandon()
            throw error
        }
    }

    public func close() {}
}
