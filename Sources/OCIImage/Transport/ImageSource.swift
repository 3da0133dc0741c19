import OCICore
import OCIModel

/// Where images come from (containers/image's `ImageSource`): an archive
/// file or stream, an OCI layout directory, the store, a registry. A source
/// is read once, by the copy engine or a read verb, then closed.
public protocol ImageSource: AnyObject {
    /// Names the source in messages (`app.tar`, `stdin`, `the store`).
    var description: String { get }

    /// Reads what the source holds (or what its reference selects).
    ///
    /// A source that can only be read as a stream stages every blob it
    /// keeps in `context.staging` (and drops blobs `context.existing`
    /// already holds); a source whose blobs are files or a service returns
    /// images that read them where they are. Every image returned is
    /// verified as far as reading it required (a streamed archive: every
    /// digest, size and diff_id).
    func read(_ context: ReadContext) throws -> SourceContents

    /// Releases what reading made: staging files no destination adopted,
    /// spools, locks. Idempotent.
    func close()
}

/// What a source is read with.
public struct ReadContext: Sendable {
    /// Where a streamed source puts the blobs it keeps.
    public var staging: BlobStore
    /// Blobs the destination already holds (a streamed source need not keep copies).
    public var existing: (any BlobSource)?
    /// Layers to re-encode while reading, when the source reads them anyway.
    public var recoding: RecodePlan?
    /// Told of each blob read.
    public var progress: ProgressScope?

    public init(staging: BlobStore, existing: (any BlobSource)? = nil, recoding: RecodePlan? = nil, progress: ProgressScope? = nil) {
        self.staging = staging
        self.existing = existing
        self.recoding = recoding
        self.progress = progress
    }
}

/// What reading a source gave.
public struct SourceContents: Sendable {
    /// Images and multi-platform images, in the source's order.
    public var entries: [ImageEntry]
    /// Things the user should know (skipped artifacts, sparse indexes…).
    public var warnings: [String]
    /// Layers re-encoded while reading, by original digest (see `ReadContext.recoding`).
    public var recoded: [Digest: RecodedLayer]
    /// Bytes read from the input as it is stored (compressed or not), when known.
    public var bytesRead: Int64

    public init(entries: [ImageEntry], warnings: [String] = [], recoded: [Digest: RecodedLayer] = [:], bytesRead: Int64 = 0) {
        self.entries = entries
        self.warnings = warnings
        self.recoded = recoded
        self.bytesRead = bytesRead
    }
}

/// A source over images already in hand (built by a mutation, read by an
/// earlier step): hands them to the copy engine as they are.
public final class EntriesSource: ImageSource {
    public let entries: [ImageEntry]
    public let description: String

    public init(_ entries: [ImageEntry], description: String = "images") {
        self.entries = entries
        self.description = description
    }

    public func read(_ context: ReadContext) throws -> SourceContents { SourceContents(entries: entries) }
    public func close() {}
}

/// Another source whose entries are changed as they are read (narrowed to
/// the images some references select, renamed): `save --from A REF`, the
/// copy of a committed image under its new names.
public final class MappedSource: ImageSource {
    private let inner: ImageSource
    private let transform: ([ImageEntry]) throws -> [ImageEntry]

    public init(_ inner: ImageSource, transform: @escaping ([ImageEntry]) throws -> [ImageEntry]) {
        self.inner = inner
        self.transform = transform
    }

    public var description: String { inner.description }

    public func read(_ context: ReadContext) throws -> SourceContents {
        var contents = try inner.read(context)
        contents.entries = try transform(contents.entries)
        return contents
    }

    public func close() { inner.close() }
}
